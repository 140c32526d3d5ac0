"""Property cases for every reader/writer pair of :mod:`lexiconlm.io`, shared by
``tests/test_fuzz_readers.py`` (a few hundred examples each, in the suite) and
``benchmarks/fuzz_readers.py`` (a few thousand each, with a results table).

Two properties:

* **round trip** (:data:`ROUND_TRIPS`): any valid record set, written and read back, gives the
  same records, and writing what was read gives the same bytes again;
* **any bytes** (:data:`ANY_BYTES`): whatever a file holds, a reader ends in records or in a
  :class:`~lexiconlm.errors.DataFormatError` whose every problem names the file and a line
  inside it (or none, for the whole file), never in another exception.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError
from lexiconlm.io.conll import TaggedSentence, read_conll, write_conll
from lexiconlm.io.detect import inspect_path, read_any
from lexiconlm.io.lexicons import read_lexicon, write_lexicon
from lexiconlm.io.massive import (
    read_massive,
    render_annotation,
    utterance_from_annotation,
    write_massive_jsonl,
    write_massive_tsv,
)
from lexiconlm.io.sigmorphon import read_predictions, read_sigmorphon, write_sigmorphon
from lexiconlm.io.text import read_text, write_text
from lexiconlm.io.unimorph import read_unimorph, write_unimorph
from lexiconlm.types import InflectionEntry, LexiconEntry, SlotSpan, TextSegment

_SHM = "/dev/shm"


def scratch_dir() -> tempfile.TemporaryDirectory:
    """A temporary folder in memory where there is one: the writers fsync every file, which
    costs ~30 ms on a disk and would make a few hundred examples per case take minutes."""
    fast = os.path.isdir(_SHM) and os.access(_SHM, os.W_OK)
    return tempfile.TemporaryDirectory(prefix="lexiconlm-fuzz-", dir=_SHM if fast else None)


# --------------------------------------------------------------------------- valid fields


def _nfc_stripped(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip()


_FIELD_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r\ufeff\x00")
#: A TSV field every writer takes and every reader gives back unchanged: NFC, no edge spaces.
FIELD = (
    st.text(_FIELD_CHARS, min_size=1, max_size=12)
    .map(_nfc_stripped)
    .filter(lambda s: s != "" and unicodedata.is_normalized("NFC", s) and s == s.strip())
)
#: A field without any whitespace (MUSE lexicons, CoNLL with a space separator).
WORD = FIELD.map(lambda s: "".join(s.split())).filter(lambda s: s != "" and unicodedata.is_normalized("NFC", s))
_TAGS = (
    "N",
    "V",
    "ADJ",
    "V.PTCP",
    "SG",
    "PL",
    "1",
    "3",
    "PST",
    "NOM(3,SG)",
    "PSS(1,PL)",
    "LGSPEC1",
    "non{PST}",
    "ARGAC3SG",
)
BUNDLE = st.lists(st.sampled_from(_TAGS), min_size=1, max_size=5).map(";".join)

# --------------------------------------------------------------------------- round trips


@dataclass(frozen=True)
class RoundTrip:
    """A writer/reader pair: ``check(records, folder)`` raises AssertionError on a failure."""

    records: st.SearchStrategy
    check: Callable[[Any, Path], None]


def _same_bytes_again(first: Path, rewrite: Callable[[Path], Path]) -> None:
    again = rewrite(first.with_name("again-" + first.name))
    assert again.read_bytes() == first.read_bytes(), "a second write gave other bytes"


def _no_errors(obj: Any) -> None:
    errors = [str(p) for p in obj.problems if p.severity == "error"]
    assert not errors, errors


_WEIGHT = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64))
_LEX_ENTRY = st.builds(LexiconEntry, FIELD, FIELD, st.one_of(st.none(), FIELD), _WEIGHT)


def _lexicon_tsv(entries: list[LexiconEntry], folder: Path) -> None:
    f = write_lexicon(entries, folder / "eng_swh.tsv")
    lex = read_lexicon(f, format="tsv", src="eng", tgt="swh", dedupe=False)
    _no_errors(lex)
    assert list(lex) == entries
    _same_bytes_again(f, lambda p: write_lexicon(lex, p))


def _lexicon_muse(pairs: list[tuple[str, str]], folder: Path) -> None:
    f = write_lexicon(pairs, folder / "en-sw.txt", format="muse")
    lex = read_lexicon(f, dedupe=False)
    _no_errors(lex)
    assert [(e.source, e.target) for e in lex] == pairs and lex.provenance.format == "muse"
    _same_bytes_again(f, lambda p: write_lexicon(lex, p, format="muse"))


def _unimorph(args: tuple[list[InflectionEntry], bool], folder: Path) -> None:
    entries, blanks = args
    f = write_unimorph(entries, folder / "swh.tsv", blank_between_paradigms=blanks)
    table = read_unimorph(f)
    _no_errors(table)
    assert list(table.entries) == entries
    _same_bytes_again(f, lambda p: write_unimorph(table, p, blank_between_paradigms=blanks))


def _sigmorphon(args: tuple[str, list[tuple[str, str, str]], bool], folder: Path) -> None:
    edition, rows, covered = args
    entries = [InflectionEntry(lem, None if covered else form, feats) for lem, form, feats in rows]
    f = write_sigmorphon(entries, folder / "swh.dev", edition=edition)
    ds = read_sigmorphon(f, edition=edition)
    _no_errors(ds)
    assert list(ds) == entries and ds.covered == covered
    _same_bytes_again(f, lambda p: write_sigmorphon(ds, p, edition=edition))


_PLAIN = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r[]\ufeff\x00"),
    max_size=10,
)
_VALUE = _PLAIN.filter(lambda s: s != "" and s == s.strip())
_LABEL = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)


@st.composite
def utterances(draw: Callable) -> Any:
    """A MASSIVE utterance whose annotation renders its slots (``[label : value]``)."""
    pieces = draw(st.lists(st.one_of(st.tuples(st.just(None), _PLAIN), st.tuples(_LABEL, _VALUE)), max_size=6))
    text, slots = "", []
    for label, s in pieces:
        if label is not None:
            slots.append(SlotSpan(label, s, len(text), len(text) + len(s)))
        text += s
    assume(text.strip() != "")
    annot = render_annotation(text, slots)
    assume(unicodedata.is_normalized("NFC", annot) and unicodedata.is_normalized("NFC", text))
    return utterance_from_annotation(
        annot,
        id=str(draw(st.integers(0, 99999))),
        intent=draw(st.from_regex(r"[a-z]{1,6}_[a-z]{1,6}", fullmatch=True)),
        locale="sw-KE",
        partition=draw(st.sampled_from(["train", "dev", "test"])),
    )


def _massive(writer: Callable, name: str) -> Callable[[list, Path], None]:
    def check(items: list, folder: Path) -> None:
        f = writer(items, folder / name)
        ds = read_massive(f)
        _no_errors(ds)
        assert list(ds.utterances) == items
        _same_bytes_again(f, lambda p: writer(ds.utterances, p))

    return check


_TEXT = FIELD.filter(lambda s: not s.startswith("\ufeff"))
_ID = st.from_regex(r"\A[a-z]{1,6}[0-9]{1,4}(\.[a-z0-9]{1,4}){0,3}\Z")


def _text_lines(texts: list[str], folder: Path) -> None:
    f = write_text(texts, folder / "swh.txt", format="lines")
    corpus = read_text(f, language="swh", format="lines")
    _no_errors(corpus)
    assert corpus.texts == texts
    _same_bytes_again(f, lambda p: write_text(corpus, p))


def _text_id_tsv(rows: list[tuple[str, str]], folder: Path) -> None:
    segments = [TextSegment(i, t) for i, t in rows]
    f = write_text(segments, folder / "swh.tsv", format="id_tsv")
    corpus = read_text(f, language="swh", format="id_tsv")
    _no_errors(corpus)
    assert list(corpus.segments) == segments
    _same_bytes_again(f, lambda p: write_text(corpus, p))


_BIO = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-DATE"])


@st.composite
def sentences(draw: Callable) -> TaggedSentence:
    """A tagged sentence (tokens without whitespace, IOB2 tags)."""
    tokens = draw(st.lists(WORD.filter(lambda t: t != "-DOCSTART-"), min_size=1, max_size=8))
    return TaggedSentence(tuple(tokens), tuple(draw(_BIO) for _ in tokens))


def _conll(args: tuple[list[TaggedSentence], str], folder: Path) -> None:
    items, separator = args
    f = write_conll(items, folder / "swa.txt", separator=separator)
    ds = read_conll(f)
    _no_errors(ds)
    assert [(s.tokens, s.tags) for s in ds] == [(s.tokens, s.tags) for s in items]
    _same_bytes_again(f, lambda p: write_conll(ds, p))


ROUND_TRIPS: dict[str, RoundTrip] = {
    "lexicon-tsv": RoundTrip(st.lists(_LEX_ENTRY, min_size=1, max_size=12), _lexicon_tsv),
    "lexicon-muse": RoundTrip(st.lists(st.tuples(WORD, WORD), min_size=1, max_size=12), _lexicon_muse),
    "unimorph": RoundTrip(
        st.tuples(st.lists(st.builds(InflectionEntry, FIELD, FIELD, BUNDLE), min_size=1, max_size=15), st.booleans()),
        _unimorph,
    ),
    "sigmorphon": RoundTrip(
        st.tuples(
            st.sampled_from(["2017", "2020", "2021", "2022", "2023"]),
            st.lists(st.tuples(FIELD, FIELD, BUNDLE), min_size=1, max_size=15),
            st.booleans(),
        ),
        _sigmorphon,
    ),
    "massive-tsv": RoundTrip(st.lists(utterances(), min_size=1, max_size=8), _massive(write_massive_tsv, "sw-KE.tsv")),
    "massive-jsonl": RoundTrip(
        st.lists(utterances(), min_size=1, max_size=8), _massive(write_massive_jsonl, "sw-KE.jsonl")
    ),
    "text-lines": RoundTrip(st.lists(_TEXT, min_size=1, max_size=15), _text_lines),
    "text-id_tsv": RoundTrip(
        st.lists(st.tuples(_ID, _TEXT), min_size=1, max_size=15, unique_by=lambda r: r[0]),
        _text_id_tsv,
    ),
    "conll": RoundTrip(st.tuples(st.lists(sentences(), min_size=1, max_size=6), st.sampled_from([" ", "\t"])), _conll),
}

# --------------------------------------------------------------------------- any bytes

#: Pieces of every format (and of the trouble readers meet), glued at random into lines.
_FRAGMENTS = (
    "\t",
    " ",
    "  ",
    "V;PST",
    "N;PL;NOM(3,SG)",
    "V;3;SG;non{PST}",
    "[",
    "]",
    " : ",
    "[time : nine]",
    "{",
    "}",
    '"',
    '{"id": "1", "intent": "a_b", "annot_utt": "x [t : y]"}',
    "annot_utt",
    "id\tintent\tannot_utt",
    "utt",
    "-DOCSTART-",
    "B-PER",
    "I-LOC",
    "O",
    "#",
    "null",
    "NA",
    "1",
    "2.5",
    "nan",
    "inf",
    "-0",
    "walk",
    "ሀሁ",
    "e\u0301",
    "\ufeff",
    "\r",
    "\x00",
    "\u2028",
    "\x0b",
    "source\ttarget",
    "eng-000\tswh-000",
    "x (verb)",
    "ß",
    "İ",
    "\U0001f600",
    "b.MAR.1.1",
    "\\",
)
#: What breaks parsers rather than formats: deep nesting, huge numbers, lone surrogate escapes.
_PATHOLOGICAL = st.one_of(
    st.integers(900, 3000).map(lambda n: "[" * n),
    st.integers(4301, 6000).map(lambda n: "9" * n),
    st.just('{"id": "1", "intent": "a_b", "annot_utt": "x \\ud800 [t : y]"}'),
    st.just("1e999"),
)
_LINE = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=4), _PATHOLOGICAL), max_size=8).map("".join)
_TEXTY = st.lists(_LINE, max_size=12).map("\n".join)


@st.composite
def _with_bad_bytes(draw: Callable) -> bytes:
    data = draw(_TEXTY).encode("utf-8", "surrogatepass")
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]


#: Byte strings: random bytes, text built from format fragments, and such text with bad bytes.
ANY_BYTES_DATA = st.one_of(
    st.binary(max_size=200),
    _TEXTY.map(lambda s: s.encode("utf-8", "surrogatepass")),
    _with_bad_bytes(),
)

Reader = Callable[[Path, str], Any]


def _lexicon(fmt: str) -> Reader:
    return lambda p, errors: read_lexicon(p, format=fmt, errors=errors)


ANY_BYTES: dict[str, tuple[str, Reader]] = {
    "lexicon-gatitos": ("en_sw.tsv", _lexicon("auto")),
    "lexicon-muse": ("en-sw.txt", _lexicon("auto")),
    "lexicon-wiktionary": ("swahili.txt", _lexicon("auto")),
    "lexicon-tsv": ("eng_swh.tsv", _lexicon("tsv")),
    "lexicon-panlex": ("eng_swh.tsv", _lexicon("panlex")),
    "unimorph": ("swh.tsv", lambda p, errors: read_unimorph(p, errors=errors)),
    "sigmorphon-detected": ("swh.dev", lambda p, errors: read_sigmorphon(p, errors=errors)),
    "sigmorphon-2023": ("swh.trn", lambda p, errors: read_sigmorphon(p, edition="2023", errors=errors)),
    "sigmorphon-2017": ("swahili-train-low", lambda p, errors: read_sigmorphon(p, errors=errors)),
    "sigmorphon-predictions": ("swh.pred", lambda p, errors: read_predictions(p, edition="2022", errors=errors)),
    "massive-tsv": ("sw-KE.tsv", lambda p, errors: read_massive(p, errors=errors, slots=["time"])),
    "massive-jsonl": ("sw-KE.jsonl", lambda p, errors: read_massive(p, errors=errors)),
    "text": ("swh.txt", lambda p, errors: read_text(p, errors=errors)),
    "text-id_tsv": ("swh.tsv", lambda p, errors: read_text(p, format="id_tsv", errors=errors)),
    "conll-bio": ("swa.txt", lambda p, errors: read_conll(p, errors=errors)),
    "conll-plain": ("swa.txt", lambda p, errors: read_conll(p, scheme="plain", errors=errors)),
    "detected (read_any)": ("data.tsv", lambda p, errors: read_any(p, errors=errors)),
}


def check_any_bytes(reader: Reader, path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and read it both ways; fails on any other outcome than records
    or a DataFormatError naming the file and lines inside it."""
    path.write_bytes(data)
    n_lines = data.count(b"\n") + 1
    for errors in ("raise", "collect"):
        try:
            obj = reader(path, errors)
        except DataFormatError as exc:
            _check_problems(exc.problems, path, n_lines)
            continue
        _check_problems(getattr(obj, "problems", ()), path, n_lines)
        for text in _strings(obj):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise AssertionError(f"a record holds text that is not Unicode: {text!r}") from None
        if errors == "raise":
            assert not [p for p in obj.problems if p.severity == "error"], (
                "errors='raise' returned records with errors instead of raising"
            )


def _strings(obj: Any, depth: int = 0) -> Any:
    """Every string inside a record set (its provenance, problems and language left out)."""
    if isinstance(obj, str):
        yield obj
    elif depth > 6:
        return
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            if f.name not in ("provenance", "problems", "language", "src", "tgt"):
                yield from _strings(getattr(obj, f.name), depth + 1)
    elif isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _strings(x, depth + 1)


def check_inspect(path: Path, data: bytes) -> None:
    """:func:`inspect_path` never raises for bad data; its problems name the file."""
    path.write_bytes(data)
    report = inspect_path(path)
    _check_problems(report.problems, path, data.count(b"\n") + 1)


def _check_problems(problems: Any, path: Path, n_lines: int) -> None:
    for p in problems:
        assert p.path == str(path), f"problem names {p.path!r}, not the file: {p}"
        assert p.line is None or (isinstance(p.line, int) and 1 <= p.line <= n_lines), (
            f"line {p.line} is outside the file's {n_lines} line(s): {p}"
        )
        assert p.message and not math.isnan(0.0), p
