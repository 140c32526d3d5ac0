"""What a coverage row has (resource predicates) and the resource tier it is in.

* :data:`RESOURCES`: the named predicates (``lexicon``, ``morphology``, ``nlu``, ``text``,
  ``epitran``, ``tokenizer``, ``any`` ...); :func:`has_resource` also accepts a source
  (``lexicons:gatitos``, ``nlu:massive``, ``sigmorphon:2020``) or a comparison on a numeric
  column (``lex_total_entries>=1000``).
* :func:`load_tiers` reads the tier ladder of ``resources/tiers.tsv`` (tiers are data, each a
  list of required resources); :func:`tier_of` places a row on it.

>>> tier_of({"lex_total_entries": 10, "unimorph_forms": 0, "sigmorphon_editions": ""})
(1, 'lexicon')
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lexiconlm.errors import DataFormatError, Problem, UnknownNameError
from lexiconlm.resources import resource_path

__all__ = [
    "KIND_ORDER",
    "RESOURCES",
    "TierRule",
    "has_resource",
    "load_tiers",
    "resource_predicate",
    "tier_of",
]


def _has_lexicon(r: dict) -> bool:
    return (r.get("lex_total_entries") or 0) > 0


def _has_unimorph(r: dict) -> bool:
    return (r.get("unimorph_forms") or 0) > 0


def _has_sigmorphon(r: dict) -> bool:
    return bool(r.get("sigmorphon_editions"))


def _has_text(r: dict) -> bool:
    return (r.get("text_segments") or 0) > 0


#: Resource names that :func:`has_resource`, :meth:`CoverageTable.languages_with` and the
#: ``requires`` column of ``resources/tiers.tsv`` accept (besides ``<kind>:<source>`` and
#: ``<column>>=N``).
RESOURCES: dict[str, Callable[[dict], bool]] = {
    "lexicon": _has_lexicon,
    "unimorph": _has_unimorph,
    "sigmorphon": _has_sigmorphon,
    "morphology": lambda r: _has_unimorph(r) or _has_sigmorphon(r),
    "nlu": lambda r: bool(r.get("nlu_sets")),
    "text": _has_text,
    "epitran": lambda r: bool(r.get("epitran")),
    "tokenizer": lambda r: r.get("tok_unk_rate") not in (None, ""),
    "any": lambda r: bool(r.get("resource_kinds")),
}
#: The kinds summarised in ``resource_kinds`` (a language's data, not tools such as epitran).
KIND_ORDER = ("lexicon", "morphology", "nlu", "text")
_COND = re.compile(r"^(?P<col>[a-z0-9_]+)\s*(?P<op>>=|>|==|<=|<)\s*(?P<num>-?\d+(?:\.\d+)?)$")


def has_resource(row: dict, resource: str) -> bool:
    """Whether ``row`` has ``resource``.

    ``resource`` is one of :data:`RESOURCES` (``lexicon``, ``morphology``, ``unimorph``,
    ``sigmorphon``, ``nlu``, ``text``, ``epitran``, ``tokenizer``, ``any``), a source
    (``lexicons:gatitos`` or ``gatitos``, ``text:bible``, ``nlu:massive``,
    ``sigmorphon:2020``), or a comparison on a numeric column (``lex_total_entries>=1000``).

    Raises:
        UnknownNameError: with close names as suggestions.

    >>> has_resource({"lex_total_entries": 5}, "lexicon")
    True
    """
    return resource_predicate(resource, tuple(row))(row)


@lru_cache(maxsize=512)
def _predicate_cached(resource: str, columns: tuple[str, ...]) -> Callable[[dict], bool]:
    return _build_predicate(resource, columns)


def resource_predicate(resource: str, columns: Iterable[str]) -> Callable[[dict], bool]:
    """The test of ``resource`` (any name :func:`has_resource` accepts) on rows with ``columns``.

    Raises:
        UnknownNameError: with close names as suggestions.
    """
    return _predicate_cached(resource.strip(), tuple(columns))


def _build_predicate(resource: str, columns: tuple[str, ...]) -> Callable[[dict], bool]:
    if resource in RESOURCES:
        return RESOURCES[resource]
    m = _COND.match(resource)
    if m and m["col"] in columns:
        col, op, num = m["col"], m["op"], float(m["num"])
        ops = {
            ">=": lambda v: v >= num,
            ">": lambda v: v > num,
            "==": lambda v: v == num,
            "<=": lambda v: v <= num,
            "<": lambda v: v < num,
        }[op]
        return lambda r: r.get(col) not in (None, "") and ops(float(r[col]))
    kind, _, name = resource.partition(":")
    if not name:
        kind, name = "", resource
    kinds = {"lexicons": "lex", "lexicon": "lex", "text": "text", "nlu": "nlu", "sigmorphon": "sig"}
    lex_col, text_col = f"lex_{name}_entries", f"text_{name}_segments"
    if kinds.get(kind, "lex") == "lex" and lex_col in columns:
        return lambda r: (r.get(lex_col) or 0) > 0
    if kinds.get(kind, "text") == "text" and text_col in columns:
        return lambda r: (r.get(text_col) or 0) > 0
    if kind == "nlu":
        pat = re.compile(rf"(^|;){re.escape(name)}:")
        return lambda r: bool(pat.search(r.get("nlu_sets") or ""))
    if kind == "sigmorphon":
        return lambda r: name in (r.get("sigmorphon_editions") or "").split(",")
    known = sorted(
        {
            *RESOURCES,
            *(
                f"lexicons:{c[4:-8]}"
                for c in columns
                if c.startswith("lex_") and c.endswith("_entries") and c != "lex_total_entries"
            ),
            *(
                f"text:{c[5:-9]}"
                for c in columns
                if c.startswith("text_") and c.endswith("_segments") and c != "text_segments"
            ),
        }
    )
    err = UnknownNameError(
        resource,
        difflib.get_close_matches(resource, known, n=3, cutoff=0.5),
        "Known: " + ", ".join(known) + ", nlu:<set>, sigmorphon:<edition>, or <column>>=N.",
    )
    err.kind = "resource"  # type: ignore[misc]
    raise err


@dataclass(frozen=True)
class TierRule:
    """One row of ``resources/tiers.tsv``: a tier number, its label and what it requires."""

    tier: int
    label: str
    requires: tuple[str, ...]
    description: str = ""


@lru_cache(maxsize=8)
def _tiers_from(path: str, mtime_ns: int) -> tuple[TierRule, ...]:
    rules: list[TierRule] = []
    problems: list[str] = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    header = None
    for no, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if header is None:
            header = fields
            if header[:3] != ["tier", "label", "requires"]:
                problems.append(f"{path}:{no}: header must start with tier, label, requires; got {header!r}")
                break
            continue
        if len(fields) != len(header):
            problems.append(f"{path}:{no}: expected {len(header)} tab-separated fields, got {len(fields)}")
            continue
        try:
            tier = int(fields[0])
        except ValueError:
            problems.append(f"{path}:{no}: tier {fields[0]!r} is not a whole number")
            continue
        requires = tuple(x.strip() for x in fields[2].split(",") if x.strip())
        rules.append(TierRule(tier, fields[1], requires, fields[3] if len(fields) > 3 else ""))
    tiers = [r.tier for r in rules]
    if tiers != sorted(tiers) or len(set(tiers)) != len(tiers):
        problems.append(f"{path}: tiers must be listed once each, in increasing order (got {tiers})")
    if rules and rules[0].requires:
        problems.append(f"{path}: the first tier must require nothing (it is the fallback)")
    if not rules:
        problems.append(f"{path}: no tiers defined")
    if problems:
        raise DataFormatError([Problem(path, None, p) for p in problems])
    return tuple(rules)


def load_tiers(path: str | os.PathLike | None = None) -> tuple[TierRule, ...]:
    """The tier definitions (default ``resources/tiers.tsv``), lowest first.

    The file has columns ``tier, label, requires, description``; ``requires`` is a
    comma-separated list of resources that :func:`has_resource` accepts. A language's
    tier is the highest one whose requirements it meets *and* that of every tier below
    it: the tiers form a ladder.
    """
    if path is None:
        path = resource_path("tiers.tsv")
    p = Path(path)
    return _tiers_from(str(p), p.stat().st_mtime_ns)


def tier_of(row: dict, tiers: Sequence[TierRule] | None = None) -> tuple[int, str]:
    """The resource tier of a coverage row: ``(tier, label)``.

    Walks up the ladder of ``resources/tiers.tsv`` and stops at the first tier whose
    requirements the row does not meet.

    >>> tier_of({"lex_total_entries": 10, "unimorph_forms": 0, "sigmorphon_editions": ""})
    (1, 'lexicon')
    """
    rules = tiers if tiers is not None else load_tiers()
    best = rules[0]
    cols = tuple(row)
    for rule in rules[1:]:
        if all(resource_predicate(req, cols)(row) for req in rule.requires):
            best = rule
        else:
            break
    return best.tier, best.label
