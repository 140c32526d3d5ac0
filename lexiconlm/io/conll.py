"""CoNLL token-label files: one token per line with its tag last, blank lines between sentences.

Accepted layout (MasakhaNER, CoNLL-2003 and most NER/POS releases):

* each non-blank line is ``token<SEP>[middle columns<SEP>]tag``; the separator is a
  tab when the file's first data line has one, else any run of spaces;
* a blank (or whitespace-only) line ends a sentence; several blank lines in a row
  are one break;
* ``-DOCSTART-`` lines (document markers of CoNLL-2003) are tolerated: they are not
  tokens, and the line is kept on the next sentence (:attr:`TaggedSentence.docstart`)
  so that :func:`write_conll` writes it back;
* tags are IOB2 (``O``, ``B-X``, ``I-X``) or plain labels for POS data (see
  ``scheme``). An ``I-X`` that does not continue an ``X`` entity starts one (as
  seqeval reads it); a warning counts such lines.

Every bad line — a line with one field, a different number of columns from the
rest of the file, an empty tag, a tag outside the scheme — is reported as
``file:line`` and the whole list is raised together as one
:class:`~lexiconlm.errors.DataFormatError` (or returned with ``errors="collect"``).

Example:
    >>> ds = read_conll("swa.test.txt")              # doctest: +SKIP
    >>> ds.sentences[0].tokens[6:8], ds.sentences[0].tags[6:8]   # doctest: +SKIP
    (('John', 'Lewis'), ('B-PER', 'I-PER'))
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lexiconlm.errors import Problem
from lexiconlm.files import ErrorPolicy, ProblemLog, atomic_write, check_errors_policy, read_lines
from lexiconlm.types import Provenance

__all__ = [
    "DOCSTART",
    "ConllDataset",
    "TaggedSentence",
    "bio_spans",
    "read_conll",
    "spans_to_bio",
    "write_conll",
]

DOCSTART = "-DOCSTART-"
Scheme = Literal["bio", "plain"]
_BIO = re.compile(r"^([BI])-(\S+)$")


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence: ``tokens[i]`` has tag ``tags[i]``.

    ``line`` is the 1-based line of the first token (0 when built in memory);
    ``middle`` holds the columns between token and tag (CoNLL-2003 POS and chunk
    tags), one tuple per token, empty when the file has two columns;
    ``docstart`` is the ``-DOCSTART-`` line that came before the sentence, if any.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    line: int = 0
    middle: tuple[tuple[str, ...], ...] = ()
    docstart: str = ""

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")
        if self.middle and len(self.middle) != len(self.tokens):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.middle)} middle-column rows")

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def entities(self) -> list[tuple[str, int, int]]:
        """``(label, start, end)`` token spans of the BIO tags (see :func:`bio_spans`)."""
        return bio_spans(self.tags)


@dataclass(frozen=True)
class ConllDataset:
    """Every sentence of one CoNLL file, with the separator it used and its problems."""

    sentences: tuple[TaggedSentence, ...]
    provenance: Provenance
    separator: str = " "
    problems: tuple[Problem, ...] = ()
    n_docstarts: int = 0

    def __len__(self) -> int:
        return len(self.sentences)

    def __iter__(self):
        return iter(self.sentences)

    @property
    def n_tokens(self) -> int:
        return sum(len(s) for s in self.sentences)


def _bio_part(tag: str, outside: Collection[str] | None) -> tuple[str, str] | None:
    """``(prefix, label)`` of a tag inside an entity, ``None`` for an outside tag."""
    if outside is None:
        m = _BIO.match(tag)
        return (m.group(1), m.group(2)) if m else None
    if tag in outside:
        return None
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BI":
        label = tag[2:]
        return None if label in outside else (tag[0], label)
    return "I", tag


def bio_spans(tags: Sequence[str], *, outside: Collection[str] | None = None) -> list[tuple[str, int, int]]:
    """Entity spans ``(label, start, end)`` (``end`` exclusive) of IOB2 tags, read as seqeval
    reads them (its default, conlleval mode).

    A ``B-X`` starts an entity; ``I-X`` continues an ``X`` entity and starts one when the
    previous token is outside or of another type.

    Args:
        tags: one tag per token.
        outside: which tags are outside every entity.

            * ``None`` (CoNLL files): every tag that is not ``B-<label>`` / ``I-<label>``
              (``O``, a POS label) is outside.
            * a set of tags (MASSIVE: ``{"O", "Other", ""}``, see
              :data:`lexiconlm.nlu.metrics.OUTSIDE`): those tags, and ``B-``/``I-`` tags whose
              label is one of them, are outside; any other tag is inside an entity, a tag
              without a ``B-``/``I-`` prefix read as ``I-<tag>``.

    >>> bio_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"])
    [('PER', 0, 2), ('LOC', 3, 4), ('LOC', 4, 5), ('ORG', 5, 6)]
    >>> bio_spans(["Other", "time", "time", "B-Other"], outside={"O", "Other", ""})
    [('time', 1, 3)]
    """
    spans: list[tuple[str, int, int]] = []
    label: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        part = _bio_part(tag, outside)
        if part is None:
            if label is not None:
                spans.append((label, start, i))
            label = None
        elif part[0] == "B" or part[1] != label:
            if label is not None:
                spans.append((label, start, i))
            label, start = part[1], i
    if label is not None:
        spans.append((label, start, len(tags)))
    return spans


def spans_to_bio(spans: Iterable[tuple[str, int, int]], n: int) -> tuple[str, ...]:
    """IOB2 tags for ``n`` tokens from ``(label, start, end)`` spans (first token ``B-``, the rest ``I-``).

    Raises:
        ValueError: spans overlap, are empty or lie outside ``[0, n)``.

    >>> spans_to_bio([("PER", 0, 2), ("LOC", 3, 4)], 5)
    ('B-PER', 'I-PER', 'O', 'B-LOC', 'O')
    """
    tags = ["O"] * n
    for label, start, end in spans:
        if not 0 <= start < end <= n:
            raise ValueError(f"span ({label!r}, {start}, {end}) is empty or outside 0..{n}")
        if any(t != "O" for t in tags[start:end]):
            raise ValueError(f"span ({label!r}, {start}, {end}) overlaps another span")
        tags[start] = "B-" + label
        for i in range(start + 1, end):
            tags[i] = "I-" + label
    return tuple(tags)


def _split(line: str, tab: bool) -> list[str]:
    return [f.strip() for f in line.split("\t")] if tab else line.split()


def read_conll(
    path: str | os.PathLike,
    *,
    scheme: Scheme = "bio",
    errors: ErrorPolicy = "raise",
) -> ConllDataset:
    """Read a CoNLL token-label file (see the module docstring for the layout).

    Args:
        path: e.g. ``masakhaner2/test/swa.test.txt``.
        scheme: ``"bio"`` (tags must be ``O``, ``B-X`` or ``I-X``) or ``"plain"``
            (any non-empty tag, e.g. UPOS).
        errors: ``"raise"`` (one :class:`DataFormatError` listing every bad line) or
            ``"collect"`` (the good sentences, problems in :attr:`ConllDataset.problems`;
            a sentence with a bad line is dropped whole, so tokens never shift).

    Returns:
        :class:`ConllDataset` with sentences in file order.

    Raises:
        DataFormatError: missing/empty/binary file, or bad lines (each as ``file:line``).
        ValueError: an unknown ``scheme`` or ``errors`` value.
    """
    check_errors_policy(errors)
    if scheme not in ("bio", "plain"):
        raise ValueError(f"scheme must be 'bio' or 'plain', got {scheme!r}")
    raw = read_lines(path)
    log: ProblemLog = raw.log
    first = next((line for _, line in raw.lines if line.strip() and not line.startswith(DOCSTART)), "")
    tab = "\t" in first
    n_cols: int | None = None
    sentences: list[TaggedSentence] = []
    toks: list[str] = []
    tags: list[str] = []
    middle: list[tuple[str, ...]] = []
    start_line = 0
    bad = False
    docstart = ""
    pending_doc = ""
    n_doc = 0
    iob1_lines: list[int] = []
    prev_tag = "O"

    def flush() -> None:
        nonlocal toks, tags, middle, bad, docstart, prev_tag
        if toks and not bad:
            sentences.append(
                TaggedSentence(
                    tuple(toks),
                    tuple(tags),
                    start_line,
                    tuple(middle) if any(middle) else (),
                    docstart,
                )
            )
        toks, tags, middle, bad, docstart, prev_tag = [], [], [], False, "", "O"

    for no, line in raw.lines:
        if not line.strip():
            flush()
            continue
        if line.split()[0] == DOCSTART:
            flush()
            pending_doc = line
            n_doc += 1
            continue
        fields = _split(line, tab)
        if len(fields) < 2:
            log.error(
                no,
                f"expected a token and a tag, got {len(fields)} field: {line!r}",
                "each line is `token tag` (or token<TAB>tag); a blank line separates sentences",
            )
            bad = True
            continue
        if n_cols is None:
            n_cols = len(fields)
        elif len(fields) != n_cols:
            log.error(
                no,
                f"expected {n_cols} columns like the first line of the file, got {len(fields)}: {line!r}",
                "check for a token containing a space, or a missing column",
            )
            bad = True
            continue
        token, tag = fields[0], fields[-1]
        if not token or not tag:
            log.error(no, f"empty {'token' if not token else 'tag'}: {line!r}")
            bad = True
            continue
        if scheme == "bio":
            m = _BIO.match(tag)
            if tag != "O" and not m:
                log.error(
                    no,
                    f"tag {tag!r} is not O, B-<label> or I-<label>",
                    "convert the file to IOB2 tags, or read it with scheme='plain'",
                )
                bad = True
                continue
            if m and m.group(1) == "I" and prev_tag[2:] != m.group(2):
                iob1_lines.append(no)
            prev_tag = tag
        if not toks:
            start_line = no
            docstart, pending_doc = pending_doc, ""
        toks.append(token)
        tags.append(tag)
        middle.append(tuple(fields[1:-1]))
    flush()
    if iob1_lines:
        shown = ", ".join(str(n) for n in iob1_lines[:5]) + (", ..." if len(iob1_lines) > 5 else "")
        log.warning(
            iob1_lines[0],
            f"{len(iob1_lines)} I- tag(s) do not continue an entity of their type (line {shown}); "
            "each starts a new entity, as seqeval reads it",
        )
    problems = log.finish(errors)
    return ConllDataset(
        sentences=tuple(sentences),
        provenance=raw.provenance("conll"),
        separator="\t" if tab else " ",
        problems=problems,
        n_docstarts=n_doc,
    )


def write_conll(
    sentences: ConllDataset | Iterable[TaggedSentence],
    path: str | os.PathLike,
    *,
    separator: str | None = None,
) -> Path:
    """Write sentences as CoNLL atomically: ``token<SEP>[middle<SEP>]tag`` lines, a blank line after each sentence.

    ``-DOCSTART-`` lines kept on sentences are written before them. :func:`read_conll`
    gives the same sentences back.

    Args:
        sentences: a :class:`ConllDataset` or :class:`TaggedSentence` objects.
        path: the output file.
        separator: ``" "`` or ``"\\t"``; by default the dataset's own, else a space.

    Raises:
        ValueError: an empty token or tag, a line break in a field, whitespace inside
            a field written with the space separator, or an empty sentence (nothing is written).
    """
    if separator is None:
        separator = sentences.separator if isinstance(sentences, ConllDataset) else " "
    if separator not in (" ", "\t"):
        raise ValueError(f"separator must be ' ' or '\\t', got {separator!r}")
    items = list(sentences)
    out: list[str] = []
    for k, s in enumerate(items):
        if not s.tokens:
            raise ValueError(f"sentence {k} is empty; CoNLL cannot hold an empty sentence")
        if s.docstart:
            out.append(s.docstart + "\n\n")
        for i, (tok, tag) in enumerate(zip(s.tokens, s.tags)):
            fields = [tok, *(s.middle[i] if s.middle else ()), tag]
            for f in fields:
                if not f or f != f.strip():
                    raise ValueError(f"sentence {k}, token {i}: empty field or edge whitespace in {fields!r}")
                if "\n" in f or "\r" in f or "\t" in f or (separator == " " and any(c.isspace() for c in f)):
                    raise ValueError(
                        f"sentence {k}, token {i}: field {f!r} contains whitespace that the "
                        f"{'tab' if separator == chr(9) else 'space'} separator cannot hold"
                    )
            if tok == DOCSTART:
                raise ValueError(f"sentence {k}, token {i} is {DOCSTART}, which reads back as a document marker")
            out.append(separator.join(fields) + "\n")
        out.append("\n")
    with atomic_write(path) as fh:
        fh.write("".join(out))
    return Path(path)
