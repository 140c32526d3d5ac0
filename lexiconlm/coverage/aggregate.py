"""Coverage rows summed by family, genus, macroarea, script, tier or resource combination.

Every language falls in exactly one group (a language's first catalog script is its
``script``; a missing value is the group ``(none)``), so the ``languages`` column of
:func:`aggregate` always sums to the number of rows given.

>>> rows = [
...     {"family": "Bantu", "tier": 1, "lex_total_entries": 5, "resource_kinds": "lexicon"},
...     {"family": "", "tier": 0},
... ]
>>> [(g["family"], g["languages"], g["with_lexicon"]) for g in aggregate(rows, "family")]
[('Bantu', 1, 1), ('(none)', 1, 0)]
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from lexiconlm.coverage.tiers import RESOURCES, load_tiers
from lexiconlm.errors import UnknownNameError

__all__ = ["AGGREGATE_BY", "aggregate", "group_key", "summary_markdown"]

#: What :func:`aggregate` groups by.
AGGREGATE_BY: tuple[str, ...] = ("family", "genus", "macroarea", "script", "tier", "resources", "endangerment")
NONE = "(none)"
_SUMS = ("lex_total_entries", "unimorph_forms", "nlu_examples", "text_segments", "text_tokens")


def group_key(row: dict, by: str) -> str | int:
    """The group of one row: a family name, ``script`` = first catalog script, ``tier`` = the tier
    number, ``resources`` = the ``resource_kinds`` combination (``lexicon+text``)."""
    if by == "script":
        scripts = row.get("scripts") or ""
        scripts = scripts.split() if isinstance(scripts, str) else list(scripts)
        return scripts[0] if scripts else NONE
    if by == "tier":
        return int(row.get("tier") or 0)
    if by == "resources":
        return row.get("resource_kinds") or NONE
    return row.get(by) or NONE


def aggregate(rows: Iterable[dict], by: str) -> list[dict]:
    """Sum coverage rows per group.

    Args:
        rows: coverage rows (:attr:`CoverageTable.rows` or records read back from CSV).
        by: one of :data:`AGGREGATE_BY`: ``family``, ``genus``, ``macroarea``, ``script``
            (first catalog script), ``tier``, ``resources`` (combination of resource kinds),
            ``endangerment``.

    Returns:
        One dict per group, most languages with any resource first (``tier``: every tier of
        ``resources/tiers.tsv`` in order, empty ones included), with keys: ``<by>`` (the group;
        ``tier`` groups also get ``tier_label``),
        ``languages``, ``with_any``, ``with_lexicon``, ``with_morphology``, ``with_unimorph``,
        ``with_sigmorphon``, ``with_nlu``, ``with_text``, ``with_epitran``, ``total_entries``
        (lexicon entries), ``unimorph_forms``, ``nlu_examples``, ``text_segments``,
        ``text_tokens``, ``mean_tier`` and ``tier_<n>`` (languages in each tier).

    Raises:
        UnknownNameError: ``by`` is not one of :data:`AGGREGATE_BY` (with suggestions).
    """
    if by not in AGGREGATE_BY:
        err = UnknownNameError(
            by, difflib.get_close_matches(by, AGGREGATE_BY, n=3), "Group by one of: " + ", ".join(AGGREGATE_BY) + "."
        )
        err.kind = "grouping"  # type: ignore[misc]
        raise err
    tiers = load_tiers()
    labels = {t.tier: t.label for t in tiers}
    preds = {
        name: RESOURCES[name]
        for name in ("any", "lexicon", "morphology", "unimorph", "sigmorphon", "nlu", "text", "epitran")
    }
    groups: dict = defaultdict(lambda: defaultdict(int))
    if by == "tier":  # every tier is listed, empty ones included
        for t in tiers:
            groups[t.tier]
    for r in rows:
        g = groups[group_key(r, by)]
        g["languages"] += 1
        for name, pred in preds.items():
            if pred(r):
                g[f"with_{name}"] += 1
        for col in _SUMS:
            g[col] += r.get(col) or 0
        tier = int(r.get("tier") or 0)
        g["_tier_sum"] += tier
        g[f"tier_{tier}"] += 1
    out = []
    tier_cols = [f"tier_{t.tier}" for t in tiers]
    for key, g in groups.items():
        d: dict = {by: key}
        if by == "tier":
            d["tier_label"] = labels.get(key, "")
        d["languages"] = g["languages"]
        for name in preds:
            d[f"with_{name}"] = g[f"with_{name}"]
        d["total_entries"] = g["lex_total_entries"]
        for col in _SUMS[1:]:
            d[col] = g[col]
        d["mean_tier"] = round(g["_tier_sum"] / g["languages"], 3) if g["languages"] else 0.0
        for col in tier_cols:
            d[col] = g[col]
        out.append(d)
    if by == "tier":
        out.sort(key=lambda d: d["tier"])
    else:
        out.sort(key=lambda d: (-d["with_any"], -d["languages"], str(d[by])))
    return out


def _md_table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in r) + " |")
    return lines


def summary_markdown(rows: Sequence[dict], *, top: int = 15, title: str = "Coverage summary") -> str:
    """A Markdown summary: languages per tier, then the ``top`` families, scripts and macroareas
    (by languages with any resource), as written by ``lexiconlm coverage compute``."""
    lines = [
        f"# {title}",
        "",
        f"{len(rows):,} catalog languages; {sum(1 for r in rows if RESOURCES['any'](r)):,} with any resource.",
        "",
    ]
    lines += ["## Languages per tier", ""]
    by_tier = aggregate(rows, "tier")
    lines += _md_table(
        ["tier", "label", "languages", "lexicon entries", "with text", "with epitran"],
        [
            [g["tier"], g["tier_label"], g["languages"], g["total_entries"], g["with_text"], g["with_epitran"]]
            for g in by_tier
        ],
    )
    tiers = [t.tier for t in load_tiers()]
    for by in ("family", "script", "macroarea"):
        groups = [g for g in aggregate(rows, by) if g["with_any"]][:top]
        lines += ["", f"## Top {by == 'family' and 'families' or by + 's'} (by languages with any resource)", ""]
        lines += _md_table(
            [by, "languages", "with any", "lexicon", "morphology", "NLU", "text", *(f"tier {t}" for t in tiers[1:])],
            [
                [
                    g[by],
                    g["languages"],
                    g["with_any"],
                    g["with_lexicon"],
                    g["with_morphology"],
                    g["with_nlu"],
                    g["with_text"],
                    *(g[f"tier_{t}"] for t in tiers[1:]),
                ]
                for g in groups
            ],
        )
    return "\n".join(lines) + "\n"
