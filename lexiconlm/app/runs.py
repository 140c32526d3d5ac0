"""Data of the Runs page: runs (folders holding ``run.json``), batch summaries (the
``summary.csv`` of ``lexiconlm expand --langs ...``) and benchmark tables (other loose CSV
files) found in the run folders of a coverage config (docs/run-folders.md).

Besides discovery it holds the page's logic as plain functions, testable without streamlit:
the base-vs-expanded table of an expand run (:func:`comparison_frame`), batch summaries
(:func:`batch_frame`, :func:`batch_means`, :func:`batch_scatter`, :func:`hurt_languages`),
when a comparison can be drawn (:func:`comparable_metrics`, :data:`MIN_COMPARED`) and what an
NLU parse shows (:func:`parse_view`). How many decimals a metric is shown with is the one rule
of :func:`lexiconlm.app.tables.metric_decimals`.

Every file of a run (``run.json``, ``metrics.json``, ``README.md``, its CSV tables, a
benchmark table's ``.md`` notes) is opened through :mod:`lexiconlm.app.files`, so one that
is a link leading out of the run folder is refused and named among the run's problems
instead of being shown.

Example:
    >>> runs = discover_runs(["benchmarks/results"])                 # doctest: +SKIP
    >>> sorted({r.kind for r in runs})                               # doctest: +SKIP
    ['benchmark']
    >>> higher_is_better("retrieval_top1"), higher_is_better("fertility")
    (True, False)
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexiconlm.app.files import (
    PathNotAllowedError,
    is_inside,
    read_json_inside,
    read_result_table,
    read_text_inside,
    resolve_inside,
)
from lexiconlm.app.tables import (
    edition_context,
    is_metric_name,
    language_column,
    language_of,
    numeric_columns,
    round_metric,
)
from lexiconlm.coverage.table import sources_path
from lexiconlm.expand.report import improved

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "BASE_VS_EXPANDED",
    "BASE_VS_EXPANDED_FILES",
    "BATCH",
    "BENCHMARK",
    "COMPARISON_COLUMNS",
    "FOLDER_KINDS",
    "MIN_COMPARED",
    "RUN_KINDS",
    "SUMMARY_COLUMNS",
    "TABLE_SUMMARY_COLUMNS",
    "RunInfo",
    "batch_frame",
    "batch_means",
    "batch_metrics",
    "batch_scatter",
    "comparable_metrics",
    "comparison_frame",
    "comparison_rows",
    "discover_runs",
    "filter_batch",
    "find_run",
    "higher_is_better",
    "hurt_languages",
    "improved",
    "is_batch_summary",
    "language_context",
    "parse_view",
    "runs_summary",
    "tables_summary",
]

#: ``kind`` of a loose CSV result table (``benchmarks/results/*.csv``); it is not a run.
BENCHMARK = "benchmark"
#: ``kind`` of a batch summary: a ``summary.csv`` with a ``language`` column and at least one
#: ``<metric>_base`` / ``<metric>_expanded`` pair (``lexiconlm expand --langs ...``).
BATCH = "batch"
#: ``kind`` values of ``run.json`` (see docs/run-folders.md).
FOLDER_KINDS: tuple[str, ...] = ("synthesis", "adaptation", "sigmorphon", "massive", "expand")
#: Every kind, in the order the page lists them: run folders, then batches, then benchmark tables.
RUN_KINDS: tuple[str, ...] = (*FOLDER_KINDS, BATCH, BENCHMARK)
#: A comparison (a chart of one metric across runs, languages, families ...) needs this many
#: things to compare: one bar on an axis compares nothing.
MIN_COMPARED = 2
#: Where an expand run keeps its base-vs-expanded table (also a ``base_vs_expanded`` list in
#: its ``metrics.json``).
BASE_VS_EXPANDED = "tables/base_vs_expanded.csv"
#: Every place the table is looked for, first found wins (runs may write it at the top).
BASE_VS_EXPANDED_FILES = (BASE_VS_EXPANDED, "base_vs_expanded.csv")
#: Columns of the base-vs-expanded table.
COMPARISON_COLUMNS = ("metric", "group", "base", "expanded", "difference", "higher_is_better")
#: Columns of :func:`runs_summary` that are not metrics.
SUMMARY_COLUMNS = ("run", "name", "kind", "languages", "created", "signature", "tables", "problems")
#: Columns of :func:`tables_summary` that are not metrics.
TABLE_SUMMARY_COLUMNS = ("table", "name", "languages", "rows", "problems")


@dataclass(frozen=True)
class RunInfo:
    """One run, one batch summary (``kind == "batch"``) or one benchmark table
    (``kind == "benchmark"``), found in a runs folder.

    ``run_id`` is the path relative to its root, as the runs page puts it in the URL
    (``?run=sigmorphon-2023-amh``). ``tables`` are the CSV files the run holds (a batch or
    benchmark table: itself); ``metrics`` are the scalars of ``metrics.json`` flattened with
    dots (a table: its row count and the mean of each score column). ``comparison`` holds the
    rows of the run's base-vs-expanded table (:func:`comparison_rows`; empty for older runs),
    ``nlu_model`` whether the run folder holds a trained NLU model (``nlu.json``).
    ``problems`` list what could not be read or was refused (the run is still shown).
    """

    run_id: str
    name: str
    kind: str
    path: Path
    root: Path
    languages: tuple[str, ...] = ()
    created: str = ""
    signature: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    tables: tuple[Path, ...] = ()
    notes: str = ""
    problems: tuple[str, ...] = ()
    comparison: tuple[Mapping[str, Any], ...] = ()
    nlu_model: bool = False

    @property
    def is_table(self) -> bool:
        """A loose table (a benchmark table or a batch summary) rather than a run folder."""
        return self.kind in (BENCHMARK, BATCH)

    @property
    def is_batch(self) -> bool:
        """A batch summary (one row per language of ``lexiconlm expand --langs ...``)."""
        return self.kind == BATCH

    def table_label(self, table: Path) -> str:
        """How a table of this run is named on the pages: its path inside the run folder
        (a benchmark table: its file name)."""
        for base in (self.path, self.path.resolve()):
            if table != base and table.is_relative_to(base):
                return table.relative_to(base).as_posix()
        return table.name


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested metrics as ``a.b`` keys; lists become their JSON text."""
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, (list, tuple)):
        out[prefix or "value"] = json.dumps(value, ensure_ascii=False)
    else:
        out[prefix or "value"] = value
    return out


def _refused(path: Path, folder: Path, root: Path, exc: Exception | None = None) -> str:
    """The problem shown for a file of a run (in ``folder``) that :func:`resolve_inside` refused."""
    name = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
    try:
        outside = not path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        outside = False
    if outside:
        return (
            f"{name}: not read: it is a link that leads outside the run folders the app "
            f"may read ({root}); copy the file into the run instead"
        )
    if os.path.islink(path) and not path.exists():
        return f"{name}: not read: it is a broken link; replace it with the file itself"
    return f"{name}: not read: {exc}" if exc else f"{name}: not read"


def _read_json(path: Path, folder: Path, root: Path, problems: list[str]) -> Any:
    """``path`` as JSON, or None (missing, refused or invalid; the last two add a problem)."""
    if not os.path.lexists(path):
        return None
    try:
        return read_json_inside(path, [root])
    except PathNotAllowedError as exc:
        problems.append(_refused(path, folder, root, exc))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path.name}:{line}" if line else path.name
        problems.append(f"{where}: not valid JSON ({exc.__class__.__name__}: {exc}); fix or delete the file")
    return None


def _read_notes(path: Path, folder: Path, root: Path, problems: list[str]) -> str:
    """A README or notes file, or '' (missing, refused or unreadable; the last two add a
    problem)."""
    if not os.path.lexists(path):
        return ""
    try:
        return read_text_inside(path, [root])
    except PathNotAllowedError as exc:
        problems.append(_refused(path, folder, root, exc))
    except OSError as exc:
        problems.append(f"{path.name}: cannot be read ({exc})")
    return ""


def _csv_files(folder: Path, root: Path, problems: list[str]) -> tuple[Path, ...]:
    """The CSV files in ``folder`` and below (linked folders are not entered); a CSV that is a
    link leading out of ``root`` becomes a problem."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if not f.lower().endswith(".csv") or f.startswith("."):
                continue
            p = Path(dirpath) / f
            try:
                found.append(resolve_inside(p, [root]))
            except PathNotAllowedError as exc:
                problems.append(_refused(p, folder, root, exc))
    return tuple(sorted(found))


def _is_run_folder(folder: Path) -> bool:
    """A folder holding ``run.json``, or ``metrics.json`` beside ``steps/`` (an expand run
    whose ``run.json`` is missing)."""
    if os.path.lexists(folder / "run.json"):
        return True
    return os.path.isfile(folder / "metrics.json") and os.path.isdir(folder / "steps")


def _run_from_folder(folder: Path, root: Path) -> RunInfo:
    problems: list[str] = []
    meta = _read_json(folder / "run.json", folder, root, problems)
    unreadable = bool(problems)
    if meta is None and not os.path.lexists(folder / "run.json"):
        # metrics.json and steps/ but no run.json: the layout of an expand run
        problems.append(
            "run.json: missing; listed as an expand run because it holds metrics.json and steps/ "
            "(rerun `lexiconlm expand` on this folder to write it)"
        )
        meta = {"kind": "expand"}
    if meta is None:
        meta = {}
    elif not isinstance(meta, Mapping):
        problems.append("run.json: expected a JSON object {kind, languages, config, signature, created}")
        meta = {}
    kind = str(meta.get("kind", "")).strip().lower()
    if kind not in FOLDER_KINDS:
        if not unreadable:
            close = difflib.get_close_matches(kind, FOLDER_KINDS, n=1)
            hint = f" Did you mean: {close[0]}?" if close else ""
            problems.append(f"run.json: kind {meta.get('kind')!r} is not one of {', '.join(FOLDER_KINDS)}.{hint}")
        kind = "unknown"
    langs = meta.get("languages", [])
    if isinstance(langs, str):
        langs = [langs]
    if not isinstance(langs, list):
        problems.append("run.json: languages should be a list of codes")
        langs = []
    config = meta.get("config", {})
    if not isinstance(config, Mapping):
        config = {"config": config}
    metrics_raw = _read_json(folder / "metrics.json", folder, root, problems)
    listed = metrics_raw.get("base_vs_expanded") if isinstance(metrics_raw, Mapping) else None
    if isinstance(metrics_raw, Mapping):
        # the base-vs-expanded rows are a table of their own, not a metric
        metrics_raw = {k: v for k, v in metrics_raw.items() if k != "base_vs_expanded"}
    metrics = _flatten(metrics_raw) if metrics_raw is not None else {}
    tables = _csv_files(folder, root, problems)
    notes = _read_notes(folder / "README.md", folder, root, problems)
    comparison = _read_comparison(folder, root, listed, problems)
    return RunInfo(
        run_id=folder.relative_to(root).as_posix(),
        name=str(meta.get("name") or folder.name),
        kind=kind,
        path=folder,
        root=root,
        languages=tuple(str(x) for x in langs),
        created=str(meta.get("created", "")),
        signature=str(meta.get("signature", "")),
        config=dict(config),
        metrics=metrics,
        tables=tables,
        notes=notes,
        problems=tuple(problems),
        comparison=comparison,
        nlu_model=_has_nlu_model(folder),
    )


def _read_comparison(folder: Path, root: Path, listed: Any, problems: list[str]) -> tuple[dict[str, Any], ...]:
    """The base-vs-expanded rows of a run: the first of :data:`BASE_VS_EXPANDED_FILES`, else
    the ``base_vs_expanded`` list of metrics.json, else none (older runs)."""
    source: Any = None
    for name in BASE_VS_EXPANDED_FILES:
        path = folder / name
        if source is None and os.path.lexists(path):
            text = _read_notes(path, folder, root, problems)
            if text:
                source = list(csv.DictReader(io.StringIO(text)))
                where = name
    if source is None and listed is not None:
        source, where = listed, "metrics.json: base_vs_expanded"
    if source is None:
        return ()
    if not isinstance(source, list):
        problems.append(f"{where}: expected a list of rows {{metric, group, base, expanded, ...}}")
        return ()
    rows, bad = comparison_rows(source)
    problems.extend(f"{where}: {b}" for b in bad)
    return tuple(rows)


def _has_nlu_model(folder: Path, max_depth: int = 3) -> bool:
    """Whether a trained NLU model (a folder with ``nlu.json``) lies in the run folder
    (``train/model/nlu.json`` in an expand run); links are not followed."""
    for dirpath, dirnames, filenames in os.walk(folder):
        if "nlu.json" in filenames and not os.path.islink(os.path.join(dirpath, "nlu.json")):
            return True
        depth = len(Path(dirpath).relative_to(folder).parts)
        dirnames[:] = [] if depth >= max_depth else sorted(d for d in dirnames if not d.startswith("."))
    return False


def _benchmark_run(csv_path: Path, root: Path) -> RunInfo:
    """A loose result table (``benchmarks/results/*.csv``) as a :class:`RunInfo` of kind
    :data:`BENCHMARK`, or :data:`BATCH` for a batch summary (:func:`is_batch_summary`)."""
    problems: list[str] = []
    kind = BENCHMARK
    notes = _read_notes(csv_path.with_suffix(".md"), csv_path.parent, root, problems)
    metrics: dict[str, Any] = {}
    languages: tuple[str, ...] = ()
    try:
        df = read_result_table(csv_path, [root])
    except PathNotAllowedError as exc:
        problems.append(_refused(csv_path, csv_path.parent, root, exc))
    except (OSError, ValueError) as exc:
        problems.append(f"{csv_path.name}: cannot be read as CSV ({exc})")
    else:
        if is_batch_summary(csv_path.name, df.columns):
            kind = BATCH
        metrics["rows"] = len(df)
        col = language_column(df)
        if col:
            # summary rows such as "(micro average, 63 languages)" are not languages
            context = edition_context(csv_path.stem)
            found = df[col].astype(str).map(lambda v: language_of(v, context))
            known = found.notna()
            if known.any():
                df = df[known]
            languages = tuple(dict.fromkeys(lang.iso639_3 for lang in found[known]))
        for c in numeric_columns(df):
            if is_metric_name(c):
                mean = df[c].mean()
                if not math.isnan(mean):
                    metrics[f"mean {c}"] = float(mean)
    return RunInfo(
        run_id=csv_path.relative_to(root).as_posix(),
        name=csv_path.parent.name if kind == BATCH else csv_path.stem,
        kind=kind,
        path=csv_path,
        root=root,
        languages=languages,
        metrics=metrics,
        tables=(csv_path,),
        notes=notes,
        problems=tuple(problems),
    )


def discover_runs(roots: Sequence[str | os.PathLike], *, max_depth: int = 3) -> list[RunInfo]:
    """Every run, batch summary and benchmark table under ``roots``.

    A folder with ``run.json`` (or with ``metrics.json`` beside ``steps/``, an expand run
    whose ``run.json`` is missing) is one run: its CSV tables and ``metrics.json`` belong to
    it, and nothing below it is searched further. A CSV file outside any run is a batch
    summary (kind :data:`BATCH`: a ``summary.csv`` with a ``language`` column and a
    ``<metric>_base`` / ``<metric>_expanded`` pair) or else a benchmark table (kind
    :data:`BENCHMARK`), described by the ``.md`` file of the same name when there is one.
    Missing roots are skipped (the pages report them); links that lead out of a root are
    ignored, and files of a run that do are named among its problems.

    Returns:
        Runs sorted by kind (then batches, then benchmark tables), then newest first, then name.
    """
    runs: list[RunInfo] = []
    for root in roots:
        root = Path(root).resolve()
        if not root.is_dir():
            continue
        stack: list[tuple[Path, int]] = [(root, 0)]
        while stack:
            folder, depth = stack.pop()
            if folder != root and _is_run_folder(folder):
                runs.append(_run_from_folder(folder, root))
                continue
            try:
                children = sorted(folder.iterdir())
            except OSError:
                continue
            for child in children:
                if child.name.startswith(".") or not is_inside(child, [root]):
                    continue
                if child.is_dir() and depth < max_depth:
                    stack.append((child, depth + 1))
                elif child.is_file() and child.suffix.lower() == ".csv" and not _is_coverage_table(child):
                    runs.append(_benchmark_run(child, root))
    runs.sort(key=lambda r: (RUN_KINDS.index(r.kind) if r.kind in RUN_KINDS else 99, _neg(r.created), r.name))
    return runs


def _is_coverage_table(p: Path) -> bool:
    """A coverage table written by ``lexiconlm coverage compute`` (it has a ``.sources.json``
    beside it); the overview shows those, the runs page does not."""
    return sources_path(p).is_file()


def _neg(text: str) -> tuple:
    """Sort key putting later ISO timestamps first (empty last)."""
    return (0, tuple(-ord(c) for c in text)) if text else (1, ())


def find_run(run_id: str, runs: Sequence[RunInfo], roots: Sequence[str | os.PathLike]) -> RunInfo:
    """The run or benchmark table a URL names (``?run=<run_id>``), after checking the path
    stays inside ``roots``.

    Raises:
        PathNotAllowedError: the id has ``..``, leads outside the run folders, or names no run.
    """
    target = resolve_inside(run_id, roots)
    for run in runs:
        if run.path.resolve() == target:
            return run
    raise PathNotAllowedError(f"{run_id!r} is not a run folder nor a result table")


def language_context(run: RunInfo) -> str | None:
    """The catalog context for the language codes of a run's tables: ``language_context`` in
    run.json's config, else ``sigmorphon<year>`` for SIGMORPHON runs and benchmark tables
    named after an edition (2023 writes Japanese as ``jap``)."""
    given = run.config.get("language_context") if isinstance(run.config, Mapping) else None
    if given:
        return str(given)
    if run.kind == "sigmorphon":
        return edition_context(f"sigmorphon {run.name} {run.config.get('edition', '')}")
    if run.kind == BENCHMARK:
        return edition_context(run.name)
    return None


def _numeric_metrics(run: RunInfo, rounded: bool) -> dict[str, Any]:
    out = {}
    for k, v in run.metrics.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = round_metric(k, v) if rounded else v
    return out


def runs_summary(runs: Sequence[RunInfo], *, rounded: bool = False) -> list[dict[str, Any]]:
    """One row per run: id, name, kind, number of languages, created, signature, number of
    tables and problems, then every numeric metric (``rounded``: to its metric's decimals,
    for display; :func:`lexiconlm.app.tables.round_metric`)."""
    rows = []
    for r in runs:
        row: dict[str, Any] = {
            "run": r.run_id,
            "name": r.name,
            "kind": r.kind,
            "languages": len(r.languages),
            "created": r.created,
            "signature": r.signature,
            "tables": len(r.tables),
            "problems": len(r.problems),
        }
        row.update(_numeric_metrics(r, rounded))
        rows.append(row)
    return rows


def tables_summary(tables: Sequence[RunInfo], *, rounded: bool = False) -> list[dict[str, Any]]:
    """One row per benchmark table: its id (path), name, number of languages, rows and
    problems, then the mean of each score column (``rounded`` as in :func:`runs_summary`)."""
    rows = []
    for t in tables:
        metrics = _numeric_metrics(t, rounded)
        row: dict[str, Any] = {
            "table": t.run_id,
            "name": t.name,
            "languages": len(t.languages),
            "rows": metrics.pop("rows", None),
            "problems": len(t.problems),
        }
        row.update(metrics)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- comparisons

#: Metric names whose lower values are better (checked first), then those whose higher
#: values are; a name matching neither has no direction (``None``).
_LOWER_IS_BETTER = re.compile(
    r"loss|perplexity|ppl|fertility|tokens_per|unk|levenshtein|(^|_)lev(_|$)|error|(^|_)[wc]er(_|$)"
    r"|seconds|minutes|(^|_)time($|_)",
    re.IGNORECASE,
)
_HIGHER_IS_BETTER = re.compile(
    r"acc|f1|exact|score|top_?\d|top_?k|p@\d|hits?@|mrr|bleu|chrf|precision|recall|coverage|official|micro|macro",
    re.IGNORECASE,
)


def higher_is_better(metric: str) -> bool | None:
    """Whether a higher value of ``metric`` is an improvement, read from its name: ``True``
    for accuracies, F1, top-k retrieval, BLEU ...; ``False`` for losses, perplexity,
    fertility, UNK rates and edit distances; ``None`` when the name does not say.

    Example:
        >>> higher_is_better("intent_accuracy"), higher_is_better("unk_rate"), higher_is_better("rows")
        (True, False, None)
    """
    name = str(metric)
    if _LOWER_IS_BETTER.search(name):
        return False
    if _HIGHER_IS_BETTER.search(name):
        return True
    return None


def comparable_metrics(rows: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """The numeric columns of ``rows`` (runs, tables, languages) that at least
    :data:`MIN_COMPARED` rows report: the metrics a comparison chart can be drawn for. An
    empty list means there is nothing to compare (a single run, or metrics each reported by
    one run only).

    Example:
        >>> import pandas as pd
        >>> comparable_metrics(pd.DataFrame({"name": ["a"], "accuracy": [27.4]}), ["name"])
        []
    """
    import pandas as pd

    skip = set(exclude)
    return [
        c
        for c in rows.columns
        if c not in skip
        and pd.api.types.is_numeric_dtype(rows[c])
        and not pd.api.types.is_bool_dtype(rows[c])
        and rows[c].notna().sum() >= MIN_COMPARED
    ]


def _number(value: Any) -> float | None:
    """A cell as a float (``None`` for empty, missing or non-numeric cells)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _flag(value: Any) -> bool | None:
    """``True`` / ``False`` from a JSON bool or a CSV cell (``True``, ``false``, ``1``, ``no``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in ("true", "1", "yes", "y", "t"):
        return True
    if text in ("false", "0", "no", "n", "f"):
        return False
    return None


def comparison_rows(raw: Iterable[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a base-vs-expanded table (CSV rows or the ``base_vs_expanded`` list of
    metrics.json) in one shape: ``metric, group, base, expanded, difference,
    higher_is_better`` with numbers as floats (``None`` when empty), ``difference`` computed
    when it is missing and ``higher_is_better`` read from the metric's name
    (:func:`higher_is_better`) when the row does not say.

    Returns:
        The rows, and a problem (``row N: ...``) for each row that was left out.

    Example:
        >>> rows, problems = comparison_rows([{"metric": "fertility", "group": "held-out text",
        ...     "base": "2.31", "expanded": "1.85", "difference": "", "higher_is_better": "False"}])
        >>> round(rows[0]["difference"], 2), rows[0]["higher_is_better"], problems
        (-0.46, False, [])
    """
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            problems.append(f"row {i}: expected an object with {', '.join(COMPARISON_COLUMNS)}; left out")
            continue
        metric = str(item.get("metric") or "").strip()
        if not metric:
            problems.append(f"row {i}: no metric name; left out")
            continue
        base, expanded = _number(item.get("base")), _number(item.get("expanded"))
        difference = _number(item.get("difference"))
        if difference is None and base is not None and expanded is not None:
            difference = expanded - base
        hib = _flag(item.get("higher_is_better"))
        rows.append(
            {
                "metric": metric,
                "group": str(item.get("group") or "").strip(),
                "base": base,
                "expanded": expanded,
                "difference": difference,
                "higher_is_better": hib if hib is not None else higher_is_better(metric),
            }
        )
    return rows, problems


def comparison_frame(run: RunInfo, *, rounded: bool = True) -> pd.DataFrame:
    """The base-vs-expanded table of a run (:attr:`RunInfo.comparison`) as a DataFrame with
    :data:`COMPARISON_COLUMNS` and ``improved`` (:func:`improved`); ``rounded``: base,
    expanded and difference rounded to each row's metric's precision
    (:func:`lexiconlm.app.tables.round_metric`). Empty (with those columns) for runs without one.
    """
    import pandas as pd

    rows = []
    for r in run.comparison:
        row = dict(r)
        row["improved"] = improved(r)
        if rounded:
            for c in ("base", "expanded", "difference"):
                row[c] = round_metric(row["metric"], row[c]) if row[c] is not None else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[*COMPARISON_COLUMNS, "improved"])
    for c in ("base", "expanded", "difference"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    return frame


# --------------------------------------------------------------------------- batch summaries

_BASE, _EXPANDED, _DIFF = "_base", "_expanded", "_diff"


def batch_metrics(columns: Iterable[Any]) -> list[str]:
    """The metrics of a batch summary: each ``<metric>`` with both ``<metric>_base`` and
    ``<metric>_expanded`` columns, in column order.

    Example:
        >>> batch_metrics(["language", "fertility_base", "fertility_expanded", "fertility_diff", "x_base"])
        ['fertility']
    """
    names = [str(c) for c in columns]
    have = set(names)
    return [c[: -len(_BASE)] for c in names if c.endswith(_BASE) and c[: -len(_BASE)] + _EXPANDED in have]


def is_batch_summary(file_name: str, columns: Iterable[Any]) -> bool:
    """Whether a CSV is the summary of an expand batch: named ``summary.csv``, with a
    ``language`` column and at least one ``<metric>_base`` / ``<metric>_expanded`` pair."""
    cols = [str(c) for c in columns]
    return file_name.lower() == "summary.csv" and "language" in cols and bool(batch_metrics(cols))


def batch_frame(table: pd.DataFrame) -> pd.DataFrame:
    """A batch summary ready to show: metric columns as numbers, ``<metric>_diff`` computed
    where it is missing, and ``name``, ``family``, ``script`` filled from the language
    catalog where the summary leaves them empty (for a code the catalog does not know: the
    code as its name, ``(unknown)`` family and script)."""
    import pandas as pd

    df = table.copy()
    for m in batch_metrics(df.columns):
        for suffix in (_BASE, _EXPANDED, _DIFF):
            if m + suffix in df.columns:
                df[m + suffix] = pd.to_numeric(df[m + suffix], errors="coerce")
        computed = df[m + _EXPANDED] - df[m + _BASE]
        df[m + _DIFF] = df[m + _DIFF].fillna(computed) if m + _DIFF in df.columns else computed
    for c in ("seconds",):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce")
    langs = [language_of(str(v)) for v in df["language"]]
    fill = {
        "name": [lang.name if lang else str(code) for lang, code in zip(langs, df["language"], strict=True)],
        "family": [(lang.family or "(none)") if lang else "(unknown)" for lang in langs],
        "script": [(lang.scripts[0] if lang.scripts else "(none)") if lang else "(unknown)" for lang in langs],
    }
    for col, values in fill.items():
        given = (
            df[col].fillna("").astype(str).str.strip() if col in df.columns else pd.Series("", index=df.index)
        ).astype(object)
        known = pd.Series(values, index=df.index, dtype=object)
        given = given.where(~given.isin(["", "nan", "None"]), known)
        df[col] = given.where(given != "", "(unknown)").astype(str)
    return df


def filter_batch(df: pd.DataFrame, *, families: Sequence[str] = (), scripts: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of a batch summary (:func:`batch_frame`) in one of ``families`` and one of
    ``scripts`` (an empty selection keeps every row)."""
    keep = df.index == df.index
    if families:
        keep &= df["family"].isin(list(families))
    if scripts:
        keep &= df["script"].isin(list(scripts))
    return df[keep]


def batch_means(df: pd.DataFrame, by: str = "family") -> pd.DataFrame:
    """Mean base, expanded and difference of each metric per ``by`` (family, script, genus):
    one row per group with its number of ``languages``, most languages first."""
    metrics = batch_metrics(df.columns)
    cols = [m + s for m in metrics for s in (_BASE, _EXPANDED, _DIFF) if m + s in df.columns]
    grouped = df.groupby(by, dropna=False)
    out = grouped[cols].mean()
    out.insert(0, "languages", grouped.size())
    return out.reset_index().sort_values(["languages", by], ascending=[False, True], kind="stable")


def batch_scatter(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One row per language reporting both a base and an expanded value of ``metric``:
    ``language, name, family, script, base, expanded, difference`` (plain column names, as
    Vega-Lite wants them)."""
    import pandas as pd

    out = pd.DataFrame(
        {
            "language": df["language"].astype(str),
            "name": df["name"].astype(str),
            "family": df["family"].astype(str),
            "script": df["script"].astype(str),
            "base": df[metric + _BASE],
            "expanded": df[metric + _EXPANDED],
            "difference": df[metric + _DIFF],
        }
    )
    return out.dropna(subset=["base", "expanded"]).reset_index(drop=True)


def hurt_languages(df: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Languages where expansion hurt: ``<metric>_diff < 0`` for a metric whose higher values
    are better (:func:`higher_is_better`; fertility, losses and other metrics are not
    counted). One row per language and metric, ``language, name, family, script, metric,
    base, expanded, difference``, worst first within each metric."""
    import pandas as pd

    parts = []
    for m in metrics if metrics is not None else batch_metrics(df.columns):
        if higher_is_better(m) is not True:
            continue
        rows = df[df[m + _DIFF] < 0]
        if rows.empty:
            continue
        part = batch_scatter(rows, m)
        part.insert(4, "metric", m)
        parts.append(part.sort_values("difference", kind="stable"))
    columns = ["language", "name", "family", "script", "metric", "base", "expanded", "difference"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


# --------------------------------------------------------------------------- NLU parses


def parse_view(parse: Any) -> dict[str, Any]:
    """What the page shows of one NLU parse (:mod:`lexiconlm.nlu.predict`'s ``Parse``):
    ``intent``, ``intent_score``, ``slots`` (``slot, text, start, end`` rows) and ``tokens``
    (``token, tag`` rows)."""
    slots = [
        {"slot": s.slot, "text": s.text, "start": s.start, "end": s.end} for s in (getattr(parse, "slots", ()) or ())
    ]
    tokens = list(getattr(parse, "tokens", ()) or ())
    tags = list(getattr(parse, "tags", ()) or ())
    tags += [""] * (len(tokens) - len(tags))
    score = _number(getattr(parse, "intent_score", None))
    return {
        "intent": str(getattr(parse, "intent", "")),
        "intent_score": score,
        "slots": slots,
        "tokens": [{"token": str(t), "tag": str(g)} for t, g in zip(tokens, tags, strict=False)],
    }
