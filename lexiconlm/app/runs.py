"""Data of the Runs page: runs (folders holding ``run.json``) and benchmark tables (loose CSV
files) found in the run folders of a coverage config (docs/run-folders.md).

Every file of a run (``run.json``, ``metrics.json``, ``README.md``, its CSV tables, a
benchmark table's ``.md`` notes) is opened through :mod:`lexiconlm.app.files`, so one that
is a link leading out of the run folder is refused and named among the run's problems
instead of being shown.

Example:
    >>> runs = discover_runs(["benchmarks/results"])                 # doctest: +SKIP
    >>> sorted({r.kind for r in runs})                               # doctest: +SKIP
    ['benchmark']
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

__all__ = [
    "BENCHMARK",
    "RUN_KINDS",
    "SUMMARY_COLUMNS",
    "TABLE_SUMMARY_COLUMNS",
    "RunInfo",
    "discover_runs",
    "find_run",
    "language_context",
    "runs_summary",
    "tables_summary",
]

#: ``kind`` of a loose CSV result table (``benchmarks/results/*.csv``); it is not a run.
BENCHMARK = "benchmark"
#: ``kind`` values of ``run.json`` (see docs/run-folders.md), then :data:`BENCHMARK`.
RUN_KINDS: tuple[str, ...] = ("synthesis", "adaptation", "sigmorphon", "massive", "expand", BENCHMARK)
#: Columns of :func:`runs_summary` that are not metrics.
SUMMARY_COLUMNS = ("run", "name", "kind", "languages", "created", "signature", "tables", "problems")
#: Columns of :func:`tables_summary` that are not metrics.
TABLE_SUMMARY_COLUMNS = ("table", "name", "languages", "rows", "problems")


@dataclass(frozen=True)
class RunInfo:
    """One run, or one benchmark table (``kind == "benchmark"``), found in a runs folder.

    ``run_id`` is the path relative to its root, as the runs page puts it in the URL
    (``?run=sigmorphon-2023-amh``). ``tables`` are the CSV files the run holds (a benchmark
    table: itself); ``metrics`` are the scalars of ``metrics.json`` flattened with dots (a
    benchmark table: its row count and the mean of each score column). ``problems`` list
    what could not be read or was refused (the run is still shown).
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

    @property
    def is_table(self) -> bool:
        """A loose benchmark table rather than a run folder."""
        return self.kind == BENCHMARK

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


def _run_from_folder(folder: Path, root: Path) -> RunInfo:
    problems: list[str] = []
    meta = _read_json(folder / "run.json", folder, root, problems)
    unreadable = bool(problems)
    if meta is None:
        meta = {}
    elif not isinstance(meta, Mapping):
        problems.append("run.json: expected a JSON object {kind, languages, config, signature, created}")
        meta = {}
    kind = str(meta.get("kind", "")).strip().lower()
    if kind not in RUN_KINDS or kind == BENCHMARK:
        if not unreadable:
            runs_only = RUN_KINDS[:-1]
            close = difflib.get_close_matches(kind, runs_only, n=1)
            hint = f" Did you mean: {close[0]}?" if close else ""
            problems.append(f"run.json: kind {meta.get('kind')!r} is not one of {', '.join(runs_only)}.{hint}")
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
    metrics = _flatten(metrics_raw) if metrics_raw is not None else {}
    tables = _csv_files(folder, root, problems)
    notes = _read_notes(folder / "README.md", folder, root, problems)
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
    )


def _benchmark_run(csv_path: Path, root: Path) -> RunInfo:
    """A loose result table (``benchmarks/results/*.csv``) as a :class:`RunInfo` of kind
    :data:`BENCHMARK`."""
    problems: list[str] = []
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
        name=csv_path.stem,
        kind=BENCHMARK,
        path=csv_path,
        root=root,
        languages=languages,
        metrics=metrics,
        tables=(csv_path,),
        notes=notes,
        problems=tuple(problems),
    )


def discover_runs(roots: Sequence[str | os.PathLike], *, max_depth: int = 3) -> list[RunInfo]:
    """Every run and benchmark table under ``roots``.

    A folder with ``run.json`` is one run (its CSV tables and ``metrics.json`` belong to
    it, and nothing below it is searched further). A CSV file outside any run is a
    benchmark table (kind :data:`BENCHMARK`), described by the ``.md`` file of the same name
    when there is one. Missing roots are skipped (the pages report them); links that lead
    out of a root are ignored, and files of a run that do are named among its problems.

    Returns:
        Runs sorted by kind (benchmark tables last), then newest first, then name.
    """
    runs: list[RunInfo] = []
    for root in roots:
        root = Path(root).resolve()
        if not root.is_dir():
            continue
        stack: list[tuple[Path, int]] = [(root, 0)]
        while stack:
            folder, depth = stack.pop()
            if folder != root and os.path.lexists(folder / "run.json"):
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
