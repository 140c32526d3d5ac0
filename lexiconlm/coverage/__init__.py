"""Per-language coverage of lexicons, morphology, labelled data, text and tokenizers.

* :mod:`~lexiconlm.coverage.config`: which resource folders to count (a YAML file);
* :mod:`~lexiconlm.coverage.tiers`: what a row has (resource predicates) and its resource
  tier (``resources/tiers.tsv``);
* :mod:`~lexiconlm.coverage.table`: the columns and :class:`CoverageTable` (CSV in and out);
* :mod:`~lexiconlm.coverage.stats`: one resource file's statistics, read with its reader;
* :mod:`~lexiconlm.coverage.cache`: the per-file statistics cache, and collecting every
  configured file's statistics through it;
* :mod:`~lexiconlm.coverage.aggregate`: sums by family, genus, macroarea, script, tier;
* :mod:`~lexiconlm.coverage.compute`: one row per catalog language, from the statistics;
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
    DEFAULT_TABLE,
    compute_coverage,
    file_statistics,
    load_or_compute,
    save_coverage,
)
from lexiconlm.coverage.config import CoverageConfig, config_from_dict, load_config
from lexiconlm.coverage.table import COLUMNS, TOKENIZER_COLUMNS, CoverageTable
from lexiconlm.coverage.tiers import RESOURCES, has_resource, load_tiers, tier_of
from lexiconlm.coverage.tokenizer import coverage_with_tokenizer, load_tokenizer, tokenizer_coverage

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
