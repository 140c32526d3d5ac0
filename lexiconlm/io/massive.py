"""MASSIVE intent and slot data: the compact TSV and the official JSON lines.

Accepted files:

* **TSV** with a header naming the columns (any order): ``id``, ``intent``,
  ``annot_utt`` are required; ``utt`` is optional (derived from ``annot_utt``
  when absent or empty); ``partition``, ``locale`` and ``scenario`` are read
  when present; any other column is kept in ``Utterance.extra``.
* **JSON lines** (``.jsonl``), one object per line as in the official release:
  ``id, locale, partition, scenario, intent, utt, annot_utt, worker_id,
  slot_method, judgments``. Fields other than the ones an :class:`Utterance`
  has are kept in ``extra`` as JSON text.

The locale comes from ``locale=``, else the file name (``af-ZA.tsv``,
``en-US_train.jsonl``), else the parent folder (``en-US/train.tsv``), else the
rows' ``locale`` field. The partition likewise comes from a ``partition``
column/field, else the name (``train.tsv``, ``en-US_dev.jsonl``) or parent
folder (``test/af-ZA.tsv``).

Annotations (:func:`parse_annotation`): ``[slot : value]`` marks a slot; the
plain text replaces each bracket by its value (whitespace around label and
value dropped, exactly as ``re.sub(r"\\[\\s*([^\\[\\]:]+?)\\s*:\\s*([^\\[\\]]*?)\\s*\\]", r"\\2", annot_utt)``).
Tokens are the whitespace tokens of that text; a slot covers the tokens its
characters touch, which gives :attr:`Utterance.bio`.

When the file gives ``utt`` and it differs from the annotation's text (ja-JP,
zh-CN, zh-TW, where the brackets add spaces), ``text`` is the given ``utt`` and
each slot's character offsets are moved onto it by aligning the two strings
with whitespace ignored; the slot's ``value`` is then ``text[start:end]``. When
the strings differ in more than whitespace, each value is searched in ``utt``
after the previous slot; a value that cannot be found keeps its token offsets
and gets ``start = end = -1`` (a warning names the line).

Malformed annotations — unbalanced or nested brackets, no ``:`` between label
and value, an empty label or value, a label with spaces — are errors naming
``file:line`` and the offending text.

Why one module of about 800 lines: the TSV and jsonl readers and writers of one format share the
bracket-annotation parser and the label checks.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lexiconlm.errors import LexiconLMError
from lexiconlm.files import (
    ErrorPolicy,
    ProblemLog,
    atomic_write_text,
    check_errors_policy,
    read_lines,
)
from lexiconlm.io._base import remove_inner_boms, resolve_language, unwritable
from lexiconlm.types import Language, NLUDataset, SlotSpan, Utterance

__all__ = [
    "AnnotationError",
    "parse_annotation",
    "render_annotation",
    "utterance_from_annotation",
    "read_massive",
    "write_massive_tsv",
    "write_massive_jsonl",
    "locale_from_path",
    "partition_from_path",
    "read_label_list",
    "find_label_list",
    "TSV_COLUMNS",
    "JSONL_FIELDS",
]

#: Columns of the compact TSV (``utt`` only when it differs from the annotation's text).
TSV_COLUMNS: tuple[str, ...] = ("id", "intent", "annot_utt", "utt")
#: Fields of the official MASSIVE JSON lines, in their order.
JSONL_FIELDS: tuple[str, ...] = (
    "id",
    "locale",
    "partition",
    "scenario",
    "intent",
    "utt",
    "annot_utt",
    "worker_id",
    "slot_method",
    "judgments",
)
_REQUIRED = ("id", "intent", "annot_utt")
_KNOWN = {"id", "locale", "partition", "scenario", "intent", "utt", "annot_utt"}
_PARTITIONS = ("train", "dev", "test")
_TOKEN = re.compile(r"\S+")
_STRING_FIELDS = ("id", "intent", "annot_utt", "utt", "locale", "partition", "scenario")
_SURROGATE = re.compile("[\ud800-\udfff]")


class AnnotationError(LexiconLMError, ValueError):
    """A ``[slot : value]`` annotation is malformed; ``column`` is 1-based in the annotation."""

    def __init__(self, message: str, annot_utt: str, column: int):
        self.annot_utt = annot_utt
        self.column = column
        self.reason = message
        super().__init__(f"{message} at column {column} of {annot_utt!r}")


# --------------------------------------------------------------------------- annotations


def _parse(annot: str) -> tuple[str, list[tuple[str, str, int, int]]]:
    """Annotation → (text, [(label, value, start, end)]) with offsets into text; raises AnnotationError."""
    parts: list[str] = []
    slots: list[tuple[str, str, int, int]] = []
    length = 0
    i = 0
    n = len(annot)
    while i < n:
        open_at = annot.find("[", i)
        close_at = annot.find("]", i)
        if close_at != -1 and (open_at == -1 or close_at < open_at):
            raise AnnotationError("unmatched ']'", annot, close_at + 1)
        if open_at == -1:
            parts.append(annot[i:])
            break
        outside = annot[i:open_at]
        parts.append(outside)
        length += len(outside)
        end = annot.find("]", open_at + 1)
        nested = annot.find("[", open_at + 1)
        if end == -1:
            raise AnnotationError("unclosed '['", annot, open_at + 1)
        if nested != -1 and nested < end:
            raise AnnotationError(f"'[' inside the slot opened at column {open_at + 1}", annot, nested + 1)
        inner = annot[open_at + 1 : end]
        bracket = annot[open_at : end + 1]
        if ":" not in inner:
            raise AnnotationError(f"no ' : ' between slot label and value in {bracket!r}", annot, open_at + 1)
        label, _, value = inner.partition(":")
        label, value = label.strip(), value.strip()
        if not label:
            raise AnnotationError(f"empty slot label in {bracket!r}", annot, open_at + 1)
        if any(c.isspace() for c in label):
            raise AnnotationError(f"slot label {label!r} contains spaces in {bracket!r}", annot, open_at + 1)
        if not value:
            raise AnnotationError(f"empty slot value in {bracket!r}", annot, open_at + 1)
        slots.append((label, value, length, length + len(value)))
        parts.append(value)
        length += len(value)
        i = end + 1
    return "".join(parts), slots


def _token_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text)]


def _tok_range(spans: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """Tokens whose characters overlap ``[start, end)`` (a slot inside a token covers that token)."""
    first = last = -1
    for k, (a, b) in enumerate(spans):
        if b > start and a < end:
            if first < 0:
                first = k
            last = k
        elif a >= end:
            break
    return (first, last + 1) if first >= 0 else (-1, -1)


def _align(
    text: str, utt: str, raw: Sequence[tuple[str, str, int, int]]
) -> tuple[list[tuple[str, int, int]], list[str]]:
    """Move slot offsets from the annotation's text onto ``utt``; returns [(value, start, end)] and notes."""
    a_pos = [i for i, c in enumerate(text) if not c.isspace()]
    u_pos = [i for i, c in enumerate(utt) if not c.isspace()]
    out: list[tuple[str, int, int]] = []
    notes: list[str] = []
    if len(a_pos) == len(u_pos) and all(text[i] == utt[j] for i, j in zip(a_pos, u_pos)):
        rank = {p: k for k, p in enumerate(a_pos)}
        for _, _, start, end in raw:
            s = u_pos[rank[start]]
            e = u_pos[rank[end - 1]] + 1
            out.append((utt[s:e], s, e))
        return out, notes
    cursor = 0
    for label, value, _, _ in raw:
        at = utt.find(value, cursor)
        if at < 0:
            notes.append(f"slot [{label} : {value}] not found in utt {utt!r}; start/end set to -1")
            out.append((value, -1, -1))
        else:
            out.append((value, at, at + len(value)))
            cursor = at + len(value)
    return out, notes


def _analyse(annot: str, utt: str | None) -> tuple[str, tuple[str, ...], tuple[SlotSpan, ...], list[str]]:
    atext, raw = _parse(annot)
    spans = _token_spans(atext)
    tokens = tuple(atext[a:b] for a, b in spans)
    tok = [_tok_range(spans, s, e) for _, _, s, e in raw]
    notes: list[str] = []
    if utt is None or utt == atext:
        text = atext
        located = [(value, s, e) for _, value, s, e in raw]
    else:
        text = utt
        located, notes = _align(atext, utt, raw)
    slots = tuple(
        SlotSpan(label, value, s, e, ts, te) for (label, _, _, _), (value, s, e), (ts, te) in zip(raw, located, tok)
    )
    return text, tokens, slots, notes


def parse_annotation(annot_utt: str, utt: str | None = None) -> tuple[str, tuple[str, ...], tuple[SlotSpan, ...]]:
    """Parse a MASSIVE ``annot_utt`` into text, tokens and slots.

    Args:
        annot_utt: e.g. ``"wake me up at [time : nine am] on [date : friday]"``.
        utt: the plain utterance when the data gives one that differs from the
            annotation's text (ja/zh); slot offsets are then moved onto it.

    Returns:
        ``(text, tokens, slots)``: ``text`` is ``utt`` or the annotation with brackets
        replaced by their values; ``tokens`` the whitespace tokens of the annotation's
        text; each :class:`SlotSpan` has ``text[start:end] == value`` (``-1`` when the value
        cannot be located in ``utt``) and token offsets ``[tok_start, tok_end)``.

    Raises:
        AnnotationError: unbalanced/nested brackets, no ``:``, empty label or value.

    Example:
        >>> text, tokens, slots = parse_annotation("wake me up at [time : nine am] on [date : friday]")
        >>> text
        'wake me up at nine am on friday'
        >>> [(s.label, s.value, s.start, s.end, s.tok_start, s.tok_end) for s in slots]
        [('time', 'nine am', 14, 21, 4, 6), ('date', 'friday', 25, 31, 7, 8)]
    """
    text, tokens, slots, _ = _analyse(annot_utt, utt)
    return text, tokens, slots


def annotation_text(annot_utt: str) -> str:
    """The plain text of an annotation (brackets replaced by their values)."""
    return _parse(annot_utt)[0]


def render_annotation(text: str, slots: Iterable[SlotSpan]) -> str:
    """The ``annot_utt`` of ``text`` with ``slots`` marked (the inverse of :func:`parse_annotation`).

    Raises:
        ValueError: slots overlap, do not match ``text[start:end]``, have empty/spaced labels,
            values with brackets or edge whitespace, or ``text`` outside slots holds ``[``/``]``.

    >>> render_annotation("wake me at nine am", [SlotSpan("time", "nine am", 11, 18)])
    'wake me at [time : nine am]'
    """
    out: list[str] = []
    pos = 0
    for s in sorted(slots, key=lambda s: (s.start, s.end)):
        if s.start < pos or s.start < 0 or s.end > len(text) or s.end <= s.start:
            raise ValueError(f"slot {s!r} overlaps another slot or lies outside the text {text!r}")
        if text[s.start : s.end] != s.value:
            raise ValueError(f"slot {s!r}: text[{s.start}:{s.end}] is {text[s.start : s.end]!r}, not {s.value!r}")
        if not s.label or any(c.isspace() or c in "[]:" for c in s.label):
            raise ValueError(f"slot label {s.label!r} must be non-empty without spaces, ':', '[' or ']'")
        if s.value != s.value.strip() or "[" in s.value or "]" in s.value:
            raise ValueError(f"slot value {s.value!r} has edge whitespace or brackets; it cannot be annotated")
        out.append(text[pos : s.start])
        out.append(f"[{s.label} : {s.value}]")
        pos = s.end
    out.append(text[pos:])
    for k in range(0, len(out), 2):
        if "[" in out[k] or "]" in out[k]:
            raise ValueError(f"text {text!r} contains '[' or ']' outside slots; MASSIVE annotations cannot hold them")
    return "".join(out)


def utterance_from_annotation(
    annot_utt: str,
    *,
    id: str,
    intent: str,
    utt: str | None = None,
    locale: str = "",
    partition: str = "",
    extra: Sequence[tuple[str, str]] = (),
) -> Utterance:
    """Build an :class:`Utterance` from an annotation (text, tokens and slots filled in).

    Raises:
        AnnotationError: the annotation is malformed.
    """
    text, tokens, slots, _ = _analyse(annot_utt, utt)
    return Utterance(
        id=id,
        text=text,
        intent=intent,
        slots=slots,
        annot_utt=annot_utt,
        locale=locale,
        partition=partition,
        tokens=tokens,
        extra=tuple(extra),
    )


# --------------------------------------------------------------------------- paths

_LOCALE = re.compile(r"(?<![A-Za-z])([a-z]{2,3}-[A-Z][a-zA-Z]{1,3}(?:-[A-Z]{2})?)(?![A-Za-z])")


def locale_from_path(path: str | os.PathLike) -> str:
    """``af-ZA.tsv`` → ``af-ZA``; ``en-US_train.jsonl`` → ``en-US``; ``en-US/train.tsv`` → ``en-US``; else ``""``."""
    p = Path(path)
    for part in (p.name.split(".")[0], p.parent.name):
        m = _LOCALE.search(part)
        if m:
            return m.group(1)
    return ""


def partition_from_path(path: str | os.PathLike) -> str:
    """``train.tsv``, ``en-US_dev.jsonl``, ``test/af-ZA.tsv`` → ``train``, ``dev``, ``test``; else ``""``."""
    p = Path(path)
    stem = _LOCALE.sub("", p.name.split(".")[0])
    words = [w for w in re.split(r"[^A-Za-z]+", stem.lower()) if w]
    for w in reversed(words):
        if w in _PARTITIONS:
            return w
    return p.parent.name.lower() if p.parent.name.lower() in _PARTITIONS else ""


# --------------------------------------------------------------------------- reading


@dataclass
class _Row:
    line: int
    id: str
    intent: str
    annot: str
    utt: str | None
    locale: str
    partition: str
    scenario: str | None
    extra: list[tuple[str, str]]


def _tsv_rows(lines: Sequence[tuple[int, str]], log: ProblemLog) -> tuple[list[_Row], int]:
    rows: list[_Row] = []
    n_blank = 0
    if not lines:
        return rows, 0
    head_no, head = lines[0]
    header = head.split("\t")
    missing = [c for c in _REQUIRED if c not in header]
    dups = [c for c, k in Counter(header).items() if k > 1]
    if missing or dups:
        looks_data = bool(re.match(r"^\d+$", header[0])) or "[" in head
        if missing:
            log.error(
                head_no,
                f"header lacks column(s) {', '.join(missing)}; found {header!r}",
                "the first line must name the columns, e.g. id<TAB>intent<TAB>annot_utt[<TAB>utt]"
                + (" (this line looks like data: add a header line)" if looks_data else ""),
            )
        if dups:
            log.error(
                head_no,
                f"duplicate column name(s) in the header: {', '.join(dups)}",
                "rename or remove them",
            )
        return rows, n_blank
    col = {c: k for k, c in enumerate(header)}
    others = [c for c in header if c not in _KNOWN]
    for no, line in lines[1:]:
        if not line.strip():
            n_blank += 1
            continue
        f = line.split("\t")
        if len(f) != len(header):
            log.error(
                no,
                f"expected {len(header)} tab-separated fields ({', '.join(header)}), got {len(f)}: {line!r}",
                "check for missing or extra tabs",
            )
            continue

        cell = {name: f[k] for name, k in col.items()}
        rows.append(
            _Row(
                line=no,
                id=cell["id"],
                intent=cell["intent"],
                annot=cell["annot_utt"],
                utt=cell.get("utt") or None,
                locale=cell.get("locale", ""),
                partition=cell.get("partition", ""),
                scenario=cell.get("scenario"),
                extra=[(c, json.dumps(f[col[c]], ensure_ascii=False)) for c in others],
            )
        )
    return rows, n_blank


def _jsonl_rows(lines: Sequence[tuple[int, str]], log: ProblemLog) -> tuple[list[_Row], int]:
    rows: list[_Row] = []
    n_blank = 0
    nfc_lines: list[int] = []
    for no, line in lines:
        if not line.strip():
            n_blank += 1
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            log.error(
                no,
                f"invalid JSON: {exc.msg} at column {exc.colno}",
                "each line must be one JSON object",
            )
            continue
        except (RecursionError, ValueError) as exc:  # found by fuzzing: both used to escape
            what = (
                "JSON nested too deeply to read"
                if isinstance(exc, RecursionError)
                else f"JSON that Python cannot read: {exc}"
            )
            log.error(no, what, "each line must be one flat MASSIVE record (a JSON object)")
            continue
        if not isinstance(obj, dict):
            log.error(
                no,
                f"expected a JSON object, got {type(obj).__name__}",
                "each line must be one JSON object",
            )
            continue
        missing = [k for k in _REQUIRED if k not in obj]
        if missing:
            log.error(
                no,
                f"missing field(s) {', '.join(missing)}",
                "MASSIVE records need id, intent and annot_utt",
            )
            continue
        bad = [
            k
            for k in ("intent", "annot_utt", "utt", "locale", "partition", "scenario")
            if k in obj and obj[k] is not None and not isinstance(obj[k], str)
        ]
        if bad or not isinstance(obj["id"], (str, int)):
            log.error(no, f"field(s) {', '.join(bad or ['id'])} must be strings")
            continue
        lone = [k for k in _STRING_FIELDS if isinstance(obj.get(k), str) and _SURROGATE.search(obj[k])]
        if lone:  # found by fuzzing: "\ud800" escapes gave texts that cannot be written as UTF-8
            log.error(
                no,
                f"field(s) {', '.join(lone)} hold a lone surrogate escape (e.g. \\ud800), which is not a character",
                "write characters outside the BMP as one escape pair or as UTF-8",
            )
            continue
        for k in _STRING_FIELDS:
            v = obj.get(k)
            if isinstance(v, str) and not unicodedata.is_normalized("NFC", v):
                obj[k] = unicodedata.normalize("NFC", v)
                nfc_lines.append(no)
        rows.append(
            _Row(
                line=no,
                id=str(obj["id"]),
                intent=obj["intent"] or "",
                annot=obj["annot_utt"] or "",
                utt=obj.get("utt") or None,
                locale=obj.get("locale") or "",
                partition=obj.get("partition") or "",
                scenario=obj.get("scenario"),
                extra=[(k, json.dumps(v, ensure_ascii=False)) for k, v in obj.items() if k not in _KNOWN],
            )
        )
    if nfc_lines:
        log.warning(
            nfc_lines[0],
            f"{len(nfc_lines)} record(s) had JSON-escaped text not in Unicode NFC; normalised to NFC",
        )
    return rows, n_blank


def _is_jsonl(path: Path, lines: Sequence[tuple[int, str]]) -> bool:
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return True
    first = next((line for _, line in lines if line.strip()), "")
    return first.lstrip().startswith("{")


def read_label_list(path: str | os.PathLike) -> tuple[str, ...]:
    """The labels of a label list such as MASSIVE's ``slots.tsv`` or ``intents.tsv``.

    The first column of each non-blank line; a first line whose first cell is ``slot``,
    ``slots``, ``intent``, ``intents`` or ``label`` is a header and skipped.

    Args:
        path: the list (TSV or one label per line).

    Returns:
        The labels in file order.

    Raises:
        DataFormatError: the file cannot be read (missing, binary, empty).
    """
    raw = read_lines(path)
    raw.log.finish("raise")
    cells = [(no, line.split("\t")[0].strip()) for no, line in raw.lines if line.strip()]
    if cells and cells[0][1].lower() in ("slot", "slots", "intent", "intents", "label"):
        cells = cells[1:]
    return tuple(c for _, c in cells if c)


def find_label_list(path: str | os.PathLike, name: str) -> Path | None:
    """``name`` (``slots.tsv``, ``intents.tsv``) beside a MASSIVE file or one or two folders up.

    MASSIVE staged as ``massive/test/af-ZA.tsv`` and ``massive/en-US/train.tsv`` keeps its
    label lists in ``massive/``.
    """
    folder = Path(path).resolve().parent
    for d in (folder, folder.parent, folder.parent.parent):
        if (d / name).is_file():
            return d / name
    return None


LabelSpec = str | os.PathLike | Iterable[str] | None


def _labels_for(path: Path, spec: LabelSpec, name: str) -> tuple[set[str] | None, str]:
    """(known labels or None, where they come from) for ``slots=`` / ``intents=``."""
    if spec is None:
        return None, ""
    if isinstance(spec, str) and spec == "auto":
        found = find_label_list(path, name)
        return (set(read_label_list(found)), str(found)) if found is not None else (None, "")
    if isinstance(spec, (str, os.PathLike)):
        return set(read_label_list(spec)), str(spec)
    return set(spec), f"the {name.split('.')[0]} given"


def _unknown_labels(
    log: ProblemLog, found: dict[str, list[int]], known: set[str] | None, what: str, source: str
) -> None:
    """One warning per label that the label list does not have (its lines named)."""
    if known is None:
        return
    for label, lines in found.items():
        if label in known:
            continue
        close = [k for k in known if k.lower() == label.lower()] or difflib.get_close_matches(label, sorted(known), n=3)
        shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
        log.warning(
            lines[0],
            f"unknown {what} {label!r} (not in {source}) on {len(lines)} line(s) (line {shown})"
            + (f"; did you mean: {', '.join(close)}?" if close else ""),
            f"fix the label or add it to {source}: evaluation refuses labels the model does not know",
        )


def read_massive(
    path: str | os.PathLike,
    *,
    locale: str | None = None,
    errors: ErrorPolicy = "raise",
    slots: LabelSpec = "auto",
    intents: LabelSpec = "auto",
) -> NLUDataset:
    """Read a MASSIVE file (compact TSV with a header, or the official JSON lines).

    Args:
        path: e.g. ``test/af-ZA.tsv``, ``en-US/train.tsv``, ``en-US_train.jsonl``.
        locale: e.g. ``sw-KE``; by default from the file name, the parent folder or the
            rows' ``locale`` field (see the module docstring).
        errors: ``"raise"`` (one :class:`DataFormatError` listing every bad line) or ``"collect"``.
        slots: the known slot types: a label list file (``slots.tsv``), the labels, ``None``
            (no check), or ``"auto"``: ``slots.tsv`` beside the file or one or two folders up,
            if there is one (:func:`find_label_list`). A slot type outside the list is a
            warning naming its lines, at read time rather than at evaluation.
        intents: the same for intents (``intents.tsv``).

    Returns:
        :class:`NLUDataset` whose utterances have text, tokens, slots (character and token
        offsets), intent, locale and partition. ``len(ds) + ds.n_blank_lines + error lines`` is
        the file's line count (minus the TSV header); blank lines are skipped with a warning.

    Raises:
        DataFormatError: missing header columns, wrong field counts, bad JSON, malformed
            annotations, empty ids/intents: every one as ``file:line``.

    Example:
        >>> ds = read_massive("en-US/train.tsv")                   # doctest: +SKIP
        >>> ds.locale, ds.utterances[0].bio                       # doctest: +SKIP
        ('en-US', ('O', 'O', 'O', 'O', 'B-time', 'I-time', 'O', 'B-date'))
    """
    check_errors_policy(errors)
    label_specs = (slots, intents)  # the names are reused for each row's slots below
    p = Path(path)
    raw = read_lines(p)
    log = raw.log
    lines = remove_inner_boms(raw.lines, log)
    jsonl = _is_jsonl(p, lines)
    rows, n_blank = (_jsonl_rows if jsonl else _tsv_rows)(lines, log)

    row_locales = Counter(r.locale for r in rows if r.locale)
    loc = locale or locale_from_path(p) or (row_locales.most_common(1)[0][0] if row_locales else "")
    if not loc and rows:
        log.warning(None, "locale unknown (not in the file name, folder or rows)", "pass locale='xx-YY'")
    mismatched = [r for r in rows if r.locale and loc and r.locale != loc]
    if mismatched:
        log.warning(
            mismatched[0].line,
            f"{len(mismatched)} row(s) have a locale other than {loc!r} (first: {mismatched[0].locale!r})",
            "each Utterance keeps its own locale",
        )
    default_partition = partition_from_path(p)

    utterances: list[Utterance] = []
    utt_lines: list[int] = []
    seen: dict[str, int] = {}
    dup_lines: list[int] = []
    scenario_lines: list[int] = []
    for r in rows:
        ok = True
        for name, value in (("id", r.id), ("intent", r.intent), ("annot_utt", r.annot)):
            if not value.strip():
                log.error(r.line, f"empty {name}", f"every row needs {', '.join(_REQUIRED)}")
                ok = False
        if not ok:
            continue
        try:
            text, tokens, slots, notes = _analyse(r.annot, r.utt)
        except AnnotationError as exc:
            log.error(r.line, f"malformed annotation: {exc}", "slots are written [label : value]")
            continue
        for note in notes:
            log.warning(r.line, note)
        if r.id in seen:
            dup_lines.append(r.line)
        else:
            seen[r.id] = r.line
        if r.scenario and r.scenario != r.intent.split("_", 1)[0]:
            scenario_lines.append(r.line)
        utterances.append(
            Utterance(
                id=r.id,
                text=text,
                intent=r.intent,
                slots=slots,
                annot_utt=r.annot,
                locale=r.locale or loc,
                partition=r.partition or default_partition,
                tokens=tokens,
                extra=tuple(r.extra),
            )
        )
        utt_lines.append(r.line)
    if dup_lines:
        log.warning(dup_lines[0], f"{len(dup_lines)} duplicate id(s) (first at line {dup_lines[0]})")
    if scenario_lines:
        log.warning(
            scenario_lines[0],
            f"{len(scenario_lines)} row(s) whose scenario is not the intent's prefix; the intent was kept",
        )
    if n_blank:
        first = next(no for no, line in lines if not line.strip())
        log.warning(first, f"{n_blank} blank line(s) skipped")
    if utterances:
        for spec, name, what, of in (
            (label_specs[0], "slots.tsv", "slot type", lambda u: [s.label for s in u.slots]),
            (label_specs[1], "intents.tsv", "intent", lambda u: [u.intent]),
        ):
            known, source = _labels_for(p, spec, name)
            if known is None:
                continue
            found: dict[str, list[int]] = {}
            for u, no in zip(utterances, utt_lines):
                for label in of(u):
                    found.setdefault(label, []).append(no)
            _unknown_labels(log, found, known, what, source)

    language = resolve_language(None, loc, context=None, log=log, what="locale") if loc else Language.unknown("")
    problems = log.finish(errors)
    return NLUDataset(
        locale=loc,
        language=language,
        utterances=tuple(utterances),
        provenance=raw.provenance("massive-jsonl" if jsonl else "massive-tsv"),
        problems=problems,
        n_blank_lines=n_blank,
    )


# --------------------------------------------------------------------------- writing


def _annot_for(u: Utterance) -> str:
    """The annotation to write: ``u.annot_utt`` if it agrees with ``u.slots``, else rendered from the slots."""
    if u.annot_utt:
        try:
            _, _, slots, _ = _analyse(u.annot_utt, u.text)
        except AnnotationError as exc:
            raise ValueError(f"utterance {u.id!r}: {exc}") from None
        if slots != u.slots:
            raise ValueError(
                f"utterance {u.id!r}: annot_utt {u.annot_utt!r} disagrees with its slots; "
                "clear annot_utt (replace(u, annot_utt='')) to write the slots"
            )
        return u.annot_utt
    return render_annotation(u.text, u.slots)


def _check_field(u: Utterance, name: str, value: str) -> None:
    why = unwritable(value)
    if why:
        raise ValueError(f"utterance {u.id!r}: {name} {value!r} {why}")


def write_massive_tsv(utterances: NLUDataset | Iterable[Utterance], path: str | os.PathLike) -> Path:
    """Write the compact TSV atomically: ``id, intent, annot_utt`` (+ ``utt``, ``partition``, ``locale``, extras).

    ``utt`` is written only when some text differs from its annotation's text (ja/zh);
    ``partition``/``locale`` only when they differ from what the path says; extra fields
    become columns (every utterance must have the same extra keys; non-string extras are
    written as JSON text and read back as strings — use :func:`write_massive_jsonl` to keep them).
    :func:`read_massive` on the result gives the utterances back.

    Raises:
        ValueError: a field holds a tab or line break, the annotation disagrees with the slots,
            or utterances have different extra keys (nothing is written).
    """
    items = list(utterances)
    p = Path(path)
    annots = [_annot_for(u) for u in items]
    need_utt = any(annotation_text(a) != u.text for a, u in zip(annots, items))
    path_loc, path_part = locale_from_path(p), partition_from_path(p)
    need_part = any(u.partition != path_part for u in items)
    need_loc = any(u.locale != path_loc for u in items)
    keys = [k for k, _ in items[0].extra] if items else []
    for u in items:
        if [k for k, _ in u.extra] != keys:
            raise ValueError(
                f"utterance {u.id!r} has extra fields {[k for k, _ in u.extra]} but the first has {keys}; "
                "a TSV needs the same columns on every row (write JSON lines instead)"
            )
    clash = [k for k in keys if k in _KNOWN]
    if clash:
        raise ValueError(f"extra fields {clash} clash with MASSIVE columns")
    header = ["id", "intent", "annot_utt"] + (["utt"] if need_utt else []) + (["partition"] if need_part else [])
    header += (["locale"] if need_loc else []) + keys
    lines = ["\t".join(header) + "\n"]
    for u, annot in zip(items, annots):
        row = [u.id, u.intent, annot] + ([u.text] if need_utt else []) + ([u.partition] if need_part else [])
        row += [u.locale] if need_loc else []
        for _, v in u.extra:
            value = json.loads(v)
            row.append(value if isinstance(value, str) else v)
        for name, value in zip(header, row):
            _check_field(u, name, value)
        if not u.id or not u.intent:
            raise ValueError(f"utterance {u.id!r}: id and intent must be non-empty")
        lines.append("\t".join(row) + "\n")
    return atomic_write_text(p, "".join(lines))


def write_massive_jsonl(utterances: NLUDataset | Iterable[Utterance], path: str | os.PathLike) -> Path:
    """Write the official JSON lines layout atomically (one object per utterance).

    Fields in order: ``id, locale, partition, scenario, intent, utt, annot_utt`` and then
    the extras (``worker_id, slot_method, judgments`` for data read from the official files).
    ``locale``/``partition`` are left out when empty. :func:`read_massive` gives the utterances back.

    Raises:
        ValueError: the annotation disagrees with the slots (nothing is written).
    """
    items = list(utterances)
    lines: list[str] = []
    for u in items:
        annot = _annot_for(u)
        obj: dict[str, object] = {"id": u.id}
        if u.locale:
            obj["locale"] = u.locale
        if u.partition:
            obj["partition"] = u.partition
        obj.update(scenario=u.scenario, intent=u.intent, utt=u.text, annot_utt=annot)
        for k, v in u.extra:
            if k in obj:
                raise ValueError(f"utterance {u.id!r}: extra field {k!r} clashes with a MASSIVE field")
            obj[k] = json.loads(v)
        # U+FEFF stays escaped: a raw one inside a line is removed by the reader as a stray BOM.
        lines.append(json.dumps(obj, ensure_ascii=False).replace("\ufeff", "\\ufeff") + "\n")
    return atomic_write_text(path, "".join(lines))
