"""Per-language coverage of lexicons, morphology, labelled data, text and tokenizers.

* :mod:`~lexiconlm.coverage.config`: which resource folders to count (a YAML file);
* :mod:`~lexiconlm.coverage.compute`: one row per catalog language, cached per file,
  and the resource tier of each language (``resources/tiers.tsv``);
* :mod:`~lexiconlm.coverage.aggregate`: sums by family, genus, macroarea, script, tier;
* :mod:`~lexiconlm.coverage.tokenizer`: UNK rate, fertility and script coverage of a
  model's tokenizer on each language's sample text (imports transformers lazily).

Importing this package never imports torch or transformers.

Example:
    >>> from lexiconlm.coverage import compute_coverage, aggregate
    >>> table = compute_coverage("configs/coverage/demo.yaml")   # doctest: +SKIP
    >>> aggregate(table.rows, "tier")[0]["languages"]             # doctest: +SKIP
    7926
"""

from lexiconlm.coverage.aggregate import AGGREGATE_BY, aggregate, summary_markdown
from lexiconlm.coverage.compute import (
    COLUMNS,
    DEFAULT_TABLE,
    RESOURCES,
    TOKENIZER_COLUMNS,
    CoverageTable,
    compute_coverage,
    file_statistics,
    has_resource,
    load_or_compute,
    load_tiers,
    save_coverage,
    tier_of,
)
from lexiconlm.coverage.config import CoverageConfig, config_from_dict, load_config

__all__ = [
    "AGGREGATE_BY",
    "COLUMNS",
    "DEFAULT_TABLE",
    "RESOURCES",
    "TOKENIZER_COLUMNS",
    "CoverageConfig",
    "CoverageTable",
    "aggregate",
    "compute_coverage",
    "config_from_dict",
    "coverage_with_tokenizer",
    "file_statistics",
    "has_resource",
    "load_config",
    "load_or_compute",
    "load_tiers",
    "load_tokenizer",
    "save_coverage",
    "summary_markdown",
    "tier_of",
    "tokenizer_coverage",
]


def __getattr__(name: str):
    """The tokenizer functions load on first use (their module is light, transformers is not)."""
    if name in ("coverage_with_tokenizer", "load_tokenizer", "tokenizer_coverage"):
        from lexiconlm.coverage import tokenizer

        return getattr(tokenizer, name)
    raise AttributeError(f"module 'lexiconlm.coverage' has no attribute {name!r}")
