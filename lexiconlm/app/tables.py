"""Result tables on the Runs and Downloads pages: which column names languages, which are
scores, how many decimals a metric is shown with, and CSV downloads.

Example:
    >>> format_metric("dev.accuracy", 27.430555555555557)
    '27.43'
    >>> format_metric("unk_rate", 0.00012345)
    '0.0001'
    >>> format_metric("unk_rate", 0.0000123)
    '0.000012'
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lexiconlm.languages import get_catalog
from lexiconlm.types import Language

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "add_language_groups",
    "edition_context",
    "format_metric",
    "is_metric_name",
    "language_column",
    "language_of",
    "metric_decimals",
    "numeric_columns",
    "round_metric",
    "rounded_frame",
    "safe_file_name",
    "table_csv",
]

#: Column names that hold a language in a result table (first match wins).
_LANGUAGE_COLUMNS = (
    "language",
    "lang",
    "iso639_3",
    "iso",
    "code",
    "locale",
    "target_language",
    "tgt",
    "setting",
)
#: Numeric columns worth a chart; others (counts, seconds) are still listed.
_METRIC_HINT = re.compile(
    r"acc|f1|exact|score|levenshtein|bleu|chrf|ppl|perplexity|loss|unk|fertility|coverage|micro"
    r"|macro|top_?\d|p@\d",
    re.IGNORECASE,
)
#: Decimals a metric is shown with, by the first pattern its name matches: times with 1;
#: losses, perplexity and fertility with 3; rates and shares in [0, 1] (``unk_rate``,
#: coverage) with 4; scores and percentages (accuracy, F1, top-k, exact match) with 2;
#: counts as integers; any other float with 3.
_DECIMALS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"seconds|minutes|hours|(^|[._ ])(time|secs?|s|mins?)$", re.IGNORECASE), 1),
    (re.compile(r"loss|fertility|tokens_per|perplexity|ppl", re.IGNORECASE), 3),
    (re.compile(r"unk|rate|ratio|share|frac|coverage|overlap", re.IGNORECASE), 4),
    (
        re.compile(
            r"acc|f1|exact|score|levenshtein|(^|_)lev(_|$)|bleu|chrf|precision|recall|top_?\d|top_?k|p@\d|hits?@"
            r"|mrr|micro|macro|official|percent|pct",
            re.IGNORECASE,
        ),
        2,
    ),
    (
        re.compile(
            r"(^|[._ ])(n|num|count)(_|$)|count|rows|entries|sentences|segments|utterances|words"
            r"|tokens|vocab_size|languages|lemmas|forms|pairs|items|steps|epochs|params",
            re.IGNORECASE,
        ),
        0,
    ),
)
_DEFAULT_DECIMALS = 3
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def language_column(df: pd.DataFrame) -> str | None:
    """The column of ``df`` that names languages (``language``, ``locale``, ``setting`` ...),
    if any."""
    import pandas as pd

    lower = {str(c).lower(): c for c in df.columns}
    for name in _LANGUAGE_COLUMNS:
        if name in lower and not pd.api.types.is_numeric_dtype(df[lower[name]]):
            return lower[name]
    return None


def is_metric_name(column: str) -> bool:
    """Whether a column name looks like a score (accuracy, F1, Levenshtein, loss ...) rather
    than a count."""
    return bool(_METRIC_HINT.search(str(column)))


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """Numeric columns of ``df`` (booleans excluded)."""
    import pandas as pd

    return [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]


# --------------------------------------------------------------------------- metric precision


def metric_decimals(name: str) -> int:
    """How many decimals a metric called ``name`` is shown with: the one precision rule of
    the app.

    2 for scores and percentages (``dev.accuracy``, ``slot_f1``, ``retrieval_top1``), 3 for
    losses, perplexity and fertility, 4 for rates in [0, 1] (``unk_rate``, coverage), 1 for
    times (``seconds``, ``wall_s``), 0 for counts (``n_train``, ``rows``, ``lexicon_entries``);
    3 for any other float.

    Example:
        >>> metric_decimals("retrieval_top1_diff"), metric_decimals("fertility_base")
        (2, 3)
    """
    for pattern, decimals in _DECIMALS:
        if pattern.search(str(name)):
            return decimals
    return _DEFAULT_DECIMALS


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decimals(name: str, value: float) -> int:
    """:func:`metric_decimals`, or more for a small non-zero value (two significant digits
    rather than a misleading 0)."""
    decimals = metric_decimals(name)
    if value and abs(value) < 10**-decimals:
        decimals = 1 - math.floor(math.log10(abs(value)))
    return decimals


def round_metric(name: str, value: Any) -> Any:
    """``value`` rounded to :func:`metric_decimals` of ``name`` (a float count becomes an
    ``int``); a small non-zero value keeps two significant digits instead of becoming 0.
    Integers and non-numbers are returned as is."""
    if not _is_number(value) or isinstance(value, int) or not math.isfinite(value):
        return value
    decimals = _decimals(name, value)
    return int(round(value)) if decimals == 0 else round(float(value), decimals)


def format_metric(name: str, value: Any) -> str:
    """A metric as the pages show it: floats with their metric's decimals
    (:func:`metric_decimals`), integers (and float counts) with thousands separators, ``-``
    for a missing value, anything else as text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool) or not _is_number(value):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.{_decimals(name, value)}f}"


def rounded_frame(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with each float column (or only ``columns``) rounded to its metric's
    decimals (:func:`round_metric`; a count column becomes integers), for display; downloads
    keep the full values."""
    out = df.copy()
    for c in columns if columns is not None else df.columns:
        if c in out.columns and out[c].dtype.kind == "f":
            rounded = out[c].map(lambda v, c=c: round_metric(str(c), v))
            if metric_decimals(str(c)) == 0 and (rounded.dropna() % 1 == 0).all():
                rounded = rounded.astype("Int64")
            out[c] = rounded
    return out


# --------------------------------------------------------------------------- languages of rows


def edition_context(text: str) -> str | None:
    """``sigmorphon<year>`` for a name that mentions SIGMORPHON and an edition year (the catalog
    context that reads 2023's ``jap`` as Japanese), else ``None``."""
    m = re.search(r"(20[12]\d)", text)
    return f"sigmorphon{m.group(1)}" if m and "sigmorphon" in text.lower() else None


def language_of(value: str, context: str | None = None) -> Language | None:
    """Catalog language of a table cell: the whole value (``amh``, ``id-ID``), else its part
    before ``_`` (SIGMORPHON 2022 settings such as ``ang_large``); ``None`` for averages and
    other rows that name no language."""
    return _language_of(str(value), context, id(get_catalog()))


@functools.lru_cache(maxsize=8192)
def _language_of(value: str, context: str | None, catalog_id: int) -> Language | None:
    """Cached lookup; ``catalog_id`` keeps a reloaded catalog from being answered from cache."""
    cat = get_catalog()
    candidates = [value]
    if "_" in value:
        candidates.append(value.split("_", 1)[0])
    for cand in candidates:
        lang = cat.find(cand, context=context, names=False)
        if lang is not None:
            return lang
    return None


def add_language_groups(df: pd.DataFrame, column: str, *, context: str | None = None) -> pd.DataFrame:
    """``df`` with ``iso639_3``, ``language_name``, ``family`` and ``script`` columns
    looked up in the catalog from ``column`` (unknown values get ``(unknown)``)."""
    langs = [language_of(str(v), context) for v in df[column]]
    out = df.copy()
    out["iso639_3"] = [lang.iso639_3 if lang else "" for lang in langs]
    out["language_name"] = [lang.name if lang else "(unknown)" for lang in langs]
    out["family"] = [(lang.family or "(none)") if lang else "(unknown)" for lang in langs]
    out["script"] = [(lang.scripts[0] if lang.scripts else "(none)") if lang else "(unknown)" for lang in langs]
    return out


# --------------------------------------------------------------------------- downloads


def table_csv(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> bytes:
    """CSV bytes of a table (a DataFrame or a list of dicts), UTF-8, no index."""
    import pandas as pd

    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    return df.to_csv(index=False).encode("utf-8")


def safe_file_name(name: str, suffix: str = ".csv") -> str:
    """A download file name made of letters, digits, ``._-`` only."""
    base = _SAFE_NAME.sub("-", name).strip("-.") or "table"
    return base if base.endswith(suffix) else base + suffix
