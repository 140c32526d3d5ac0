"""Data of the Overview and Language explorer pages: the coverage table, which languages have
which resource, and the explorer's filters.

Whether a language has a resource is decided by :data:`lexiconlm.coverage.tiers.RESOURCES`
(the same predicates as ``lexiconlm coverage`` and ``resources/tiers.tsv``); this module only
gives the pages' labels for them (:data:`RESOURCE_LABELS`).

Example:
    >>> import pandas as pd                                            # doctest: +SKIP
    >>> df = pd.DataFrame({"iso639_3": ["ind"], "lex_total_entries": [5]})  # doctest: +SKIP
    >>> resource_mask(df, "lexicon").tolist()                         # doctest: +SKIP
    [True]
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from lexiconlm.app.context import AppContext
from lexiconlm.coverage.compute import compute_coverage
from lexiconlm.coverage.table import CoverageTable
from lexiconlm.coverage.tiers import RESOURCES
from lexiconlm.errors import UnknownNameError
from lexiconlm.languages import name_key

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "RESOURCE_LABELS",
    "filter_languages",
    "load_coverage",
    "records",
    "resource_key",
    "resource_mask",
    "resource_masks",
    "split_scripts",
]

#: The resources the overview counts and the explorer filters by, in the order shown: a key
#: of :data:`lexiconlm.coverage.tiers.RESOURCES` -> the label on the page.
RESOURCE_LABELS: dict[str, str] = {
    "lexicon": "lexicon",
    "unimorph": "UniMorph",
    "sigmorphon": "SIGMORPHON",
    "nlu": "NLU",
    "text": "text",
    "epitran": "epitran",
}


def load_coverage(ctx: AppContext) -> CoverageTable:
    """The coverage table of ``ctx``'s config.

    Built by :func:`lexiconlm.coverage.compute.compute_coverage` from its per-file statistics
    cache (``ctx.cache_path``): only files added or changed since the cache was written are
    read. The app calls this through ``st.cache_data`` keyed by the config's modification
    time, so a page load never rebuilds it.
    """
    return compute_coverage(ctx.config)


def resource_key(resource: str) -> str:
    """The :data:`~lexiconlm.coverage.tiers.RESOURCES` key of a resource given by key or by
    page label (``"UniMorph"`` -> ``"unimorph"``).

    Raises:
        UnknownNameError: neither a key nor a label, with close names as suggestions.
    """
    if resource in RESOURCES:
        return resource
    by_label = {label: key for key, label in RESOURCE_LABELS.items()}
    if resource in by_label:
        return by_label[resource]
    known = sorted({*RESOURCES, *by_label})
    raise UnknownNameError(
        resource,
        difflib.get_close_matches(resource, known, n=3, cutoff=0.5),
        "Known: " + ", ".join(known) + ".",
    )


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts of plain Python values, missing values as ``None`` (what
    :func:`lexiconlm.coverage.aggregate.aggregate` and the resource predicates expect)."""
    names = [str(c) for c in df.columns]
    columns = []
    for c in df.columns:
        values = df[c].tolist()
        if df[c].dtype.kind in "fcOSUM" and df[c].isna().any():
            missing = df[c].isna().tolist()
            values = [None if m else v for v, m in zip(values, missing)]
        columns.append(values)
    return [dict(zip(names, row)) for row in zip(*columns)] if len(df) else []


def resource_masks(df: pd.DataFrame, resources: Iterable[str]) -> dict[str, pd.Series]:
    """Boolean Series per resource (key or label, see :func:`resource_key`): which rows of a
    coverage table have it. The rows are converted once for all resources.

    Raises:
        UnknownNameError: an unknown resource.
    """
    import pandas as pd

    wanted = {r: RESOURCES[resource_key(r)] for r in resources}
    rows = records(df) if wanted else []
    return {r: pd.Series([bool(has(row)) for row in rows], index=df.index, dtype=bool) for r, has in wanted.items()}


def resource_mask(df: pd.DataFrame, resource: str) -> pd.Series:
    """Boolean Series: which rows of a coverage table have ``resource`` (a key of
    :data:`~lexiconlm.coverage.tiers.RESOURCES` or a label of :data:`RESOURCE_LABELS`)."""
    return resource_masks(df, [resource])[resource]


def filter_languages(
    df: pd.DataFrame,
    *,
    search: str = "",
    family: str | None = None,
    script: str | None = None,
    macroarea: str | None = None,
    tiers: Sequence[str] = (),
    has: Sequence[str] = (),
    flags: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rows of a coverage table matching every given filter.

    ``search`` matches the code or (accent- and case-insensitively) a part of the name;
    ``script`` matches any of a language's scripts; ``tiers`` are ``tier_label`` values;
    ``has`` are resources (keys or labels, see :func:`resource_key`) that must all be present;
    ``flags`` may hold them already computed (:func:`resource_masks` of ``df`` as columns
    keyed by resource key), so that a filter does not recompute them.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"iso639_3": ["ind", "amh"], "name": ["Indonesian", "Amharic"],
        ...                    "scripts": ["Latn", "Ethi"]})
        >>> filter_languages(df, search="indo")["iso639_3"].tolist()
        ['ind']
    """
    mask = df.index == df.index
    q = search.strip()
    if q:
        key = name_key(q)
        codes = df["iso639_3"].astype(str).str.lower() == q.lower()
        names = df["name"].astype(str).map(name_key).str.contains(key, regex=False) if key else codes
        mask &= (codes | names).to_numpy()
    if family:
        mask &= (df["family"].fillna("").astype(str) == family).to_numpy()
    if macroarea:
        mask &= (df["macroarea"].fillna("").astype(str) == macroarea).to_numpy()
    if script:
        in_scripts = df["scripts"].fillna("").astype(str).map(lambda s: script in split_scripts(s))
        mask &= in_scripts.to_numpy()
    if tiers and "tier_label" in df.columns:
        mask &= df["tier_label"].isin(list(tiers)).to_numpy()
    keys = [resource_key(r) for r in has]
    if flags is not None and all(k in flags.columns for k in keys):
        for k in keys:
            mask &= flags.loc[df.index, k].to_numpy(dtype=bool)
    else:
        for m in resource_masks(df, keys).values():
            mask &= m.to_numpy()
    return df[mask]


def split_scripts(value: Any) -> list[str]:
    """A ``scripts`` cell as a list (``"Latn Arab"``, ``"Latn|Arab"``, ``"Latn,Arab"`` or a
    list)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v)]
    return [s for s in re.split(r"[\s|,;]+", str(value)) if s]
