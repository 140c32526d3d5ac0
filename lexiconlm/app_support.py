"""Plain functions behind the Streamlit app (``apps/lexiconlm_app.py``).

Nothing here imports streamlit: the pages wrap these functions in
``st.cache_data`` / ``st.cache_resource``, so every argument and result is a
plain, picklable value (paths, strings, dicts, lists, DataFrames). The app and
the tests call the same functions.

Three promises the app keeps live here:

* **It reads only the configured folders.** Every path that comes from a URL
  query parameter or a widget goes through :func:`resolve_inside`, which
  rejects ``..``, absolute paths elsewhere and symlinks that lead out.
* **It never recounts resources on a page load.** :func:`load_coverage` builds the
  table from the statistics cache file the coverage config names (reading only
  files added or changed since), and the app keeps the result in Streamlit's cache.
* **It fails with a remedy, not a traceback.** A missing config, a missing data
  folder, a bad ``run.json`` or a language without an epitran map become
  messages (:class:`AppSetupError`, :attr:`RunInfo.problems`, :attr:`IpaResult.message`).

Example:
    >>> from lexiconlm.app_support import load_context, resolve_inside
    >>> ctx = load_context("configs/coverage/demo.yaml")            # doctest: +SKIP
    >>> resolve_inside("../../etc/passwd", ctx.run_folders)          # doctest: +SKIP
    Traceback (most recent call last):
    PathNotAllowedError: '../../etc/passwd': '..' is not allowed in a path ...
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexiconlm.errors import LexiconLMError
from lexiconlm.types import Language

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "RESOURCE_COLUMNS",
    "RESOURCE_KINDS",
    "RUN_KINDS",
    "TOKENIZER_ENV",
    "AppContext",
    "AppSetupError",
    "IpaResult",
    "PathNotAllowedError",
    "RunInfo",
    "add_language_groups",
    "app_config_path",
    "app_tokenizer_path",
    "discover_runs",
    "epitran_code",
    "files_for_language",
    "filter_languages",
    "find_run",
    "find_tokenizers",
    "format_command",
    "is_metric_name",
    "language_column",
    "language_context",
    "language_files",
    "load_context",
    "load_coverage",
    "load_local_tokenizer",
    "numeric_columns",
    "read_result_table",
    "records",
    "repo_root",
    "resolve_inside",
    "resource_mask",
    "runs_summary",
    "safe_file_name",
    "sample_lexicon",
    "sample_paradigms",
    "sample_sentences",
    "segment_sentences",
    "split_scripts",
    "streamlit_command",
    "table_csv",
    "transcribe",
]

#: Environment variable naming the coverage config the app shows (``lexiconlm app`` sets it).
CONFIG_ENV = "LEXICONLM_APP_CONFIG"
#: Environment variable naming a local tokenizer for the segmentation view (``lexiconlm app --tokenizer``).
TOKENIZER_ENV = "LEXICONLM_APP_TOKENIZER"
#: The config used when neither the environment nor ``-- --config`` names one.
DEFAULT_CONFIG = Path("configs") / "coverage" / "demo.yaml"
#: ``kind`` values of ``run.json`` (see docs/run-folders.md); loose CSV tables are ``benchmark`` runs.
RUN_KINDS: tuple[str, ...] = ("synthesis", "adaptation", "sigmorphon", "massive", "expand", "benchmark")
#: Resource folders of a coverage config, in the order the explorer shows them.
RESOURCE_KINDS: tuple[str, ...] = ("lexicons", "unimorph", "sigmorphon", "nlu", "text")

#: Column names that hold a language in a result table (first match wins).
_LANGUAGE_COLUMNS = (
    "language", "lang", "iso639_3", "iso", "code", "locale", "target_language", "tgt", "setting",
)
#: Numeric columns worth a chart; others (counts, seconds) are still listed.
_METRIC_HINT = re.compile(
    r"acc|f1|exact|score|levenshtein|bleu|chrf|ppl|perplexity|loss|unk|fertility|coverage|micro|macro",
    re.IGNORECASE,
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class AppSetupError(LexiconLMError):
    """The app cannot start on this config: the message says what is wrong and how to fix it."""


class PathNotAllowedError(LexiconLMError, ValueError):
    """A path from a URL or a widget points outside the folders the app may read."""


# --------------------------------------------------------------------------- config


def repo_root() -> Path:
    """The source checkout holding ``apps/`` and ``configs/`` (the parent of the package)."""
    return Path(__file__).resolve().parent.parent


def _option_from_argv(argv: Sequence[str], option: str) -> str | None:
    """``--option VALUE`` or ``--option=VALUE`` among the script arguments (``streamlit run app.py -- --config X``)."""
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def app_config_path(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The coverage config the app shows.

    Order: ``--config`` in the script arguments, ``$LEXICONLM_APP_CONFIG``, then
    ``configs/coverage/demo.yaml`` of the checkout. A relative path is taken from
    the current folder when it exists there, else from the checkout.

    Example:
        >>> app_config_path(["--config", "configs/coverage/shared.yaml"], {}).name
        'shared.yaml'
    """
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    given = _option_from_argv(argv, "--config") or environ.get(CONFIG_ENV) or str(DEFAULT_CONFIG)
    p = Path(given).expanduser()
    if not p.is_absolute() and not p.exists() and (repo_root() / p).exists():
        p = repo_root() / p
    return p.resolve()


@dataclass(frozen=True)
class AppContext:
    """What the app may read, from one coverage config.

    Attributes:
        config_path: the YAML file.
        config: the :class:`~lexiconlm.coverage.config.CoverageConfig` it holds.
        folders: resource kind (``lexicons``, ``unimorph`` ...) -> its folders (or files),
            resolved; a kind with several sources (``lexicons: {gatitos: ..., wiktionary: ...}``)
            lists them all.
        run_folders: folders of runs and result tables (``runs/``, ``benchmarks/results``).
        cache_path: the coverage statistics cache file.
        tokenizer: a local tokenizer for the segmentation view (``None``: none given).
    """

    config_path: Path
    config: Any
    folders: Mapping[str, tuple[Path, ...]]
    run_folders: tuple[Path, ...]
    cache_path: Path | None = None
    tokenizer: str | None = None

    @property
    def data_folders(self) -> tuple[Path, ...]:
        return tuple(p for paths in self.folders.values() for p in paths)

    @property
    def allowed_roots(self) -> tuple[Path, ...]:
        """Every folder the app may read from: data and run folders, and the tokenizer's folder."""
        roots = [*self.data_folders, *self.run_folders]
        if self.tokenizer:
            tok = Path(self.tokenizer)
            roots.append(tok if tok.is_dir() else tok.parent)
        return tuple(dict.fromkeys(roots))

    def missing_folders(self) -> list[tuple[str, Path]]:
        """``(kind, path)`` for each configured folder or file that does not exist."""
        out = [(kind, p) for kind, paths in self.folders.items() for p in paths if not p.exists()]
        out += [("runs", p) for p in self.run_folders if not p.exists()]
        return out

    def missing_message(self) -> str:
        """A message naming every missing folder and the fix ('' when none is missing)."""
        missing = self.missing_folders()
        if not missing:
            return ""
        lines = [f"- {kind}: `{p}`" for kind, p in missing]
        n = len(missing)
        return (
            f"{n} folder{'s' if n > 1 else ''} named in `{self.config_path}` "
            f"{'do' if n > 1 else 'does'} not exist, so the resources there count as zero:\n\n"
            + "\n".join(lines) + "\n\n"
            "Fix the paths in the config (they are relative to its folder), put the data there "
            "(the shared data set lives in `../shared/data`), or start the app on the bundled "
            "demo data: `lexiconlm app --config configs/coverage/demo.yaml`."
        )


def _resolved(paths: Iterable[str | os.PathLike], base: Path) -> tuple[Path, ...]:
    out = []
    for p in paths:
        p = Path(p).expanduser()
        out.append((p if p.is_absolute() else base / p).resolve())
    return tuple(dict.fromkeys(out))


def app_tokenizer_path(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The tokenizer given to the app (``-- --tokenizer PATH`` or ``$LEXICONLM_APP_TOKENIZER``), if any."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    given = _option_from_argv(argv, "--tokenizer") or environ.get(TOKENIZER_ENV)
    return Path(given).expanduser().resolve() if given else None


def load_context(config_path: str | os.PathLike, *, tokenizer: str | os.PathLike | None = None) -> AppContext:
    """Read a coverage config and list what the app may read.

    Args:
        config_path: a coverage YAML (``configs/coverage/demo.yaml``).
        tokenizer: a local tokenizer (``tokenizer.json`` or a model folder) for the
            segmentation view; its folder becomes readable too.

    Returns:
        The :class:`AppContext`; missing data folders are allowed (see
        :meth:`AppContext.missing_folders`), the pages show them as a message.

    Raises:
        AppSetupError: the file is missing.
        ConfigError: the config is invalid (every problem is listed).
    """
    path = Path(config_path)
    if not path.is_file():
        folder = repo_root() / "configs" / "coverage"
        shipped = sorted(p.relative_to(repo_root()).as_posix() for p in folder.glob("*.yaml"))
        raise AppSetupError(
            f"The config file {str(path)!r} does not exist. Start the app with one of the shipped "
            f"configs ({', '.join(shipped) or 'configs/coverage/demo.yaml'}), e.g. "
            "`lexiconlm app --config configs/coverage/demo.yaml`, or set "
            f"{CONFIG_ENV} to a coverage YAML."
        )
    from lexiconlm.coverage.config import load_config

    config = load_config(path)
    folders: dict[str, list[Path]] = {kind: [] for kind in RESOURCE_KINDS}
    for spec in config.resources():
        folders.setdefault(spec.kind, []).extend(spec.paths)
    base = path.resolve().parent
    return AppContext(
        config_path=path.resolve(),
        config=config,
        folders={k: _resolved(v, base) for k, v in folders.items()},
        run_folders=_resolved(config.runs, base),
        cache_path=Path(config.cache_path),
        tokenizer=str(Path(tokenizer).expanduser().resolve()) if tokenizer else None,
    )


# --------------------------------------------------------------------------- paths


def resolve_inside(
    path: str | os.PathLike, roots: Sequence[str | os.PathLike], *, must_exist: bool = True
) -> Path:
    """Resolve a path from a URL or an input and check it lies inside one of ``roots``.

    A relative path is tried against each root in turn. ``..`` components are
    rejected outright (before any resolving); the path is then resolved with
    symlinks followed, so a link inside a root that points elsewhere is rejected too.

    Args:
        path: what the user gave (``"sigmorphon_affix_2020.csv"``, ``"my-run"``, an absolute path).
        roots: the allowed folders.
        must_exist: also require the resolved path to exist.

    Returns:
        The resolved path.

    Raises:
        PathNotAllowedError: empty, ``..``, NUL, outside every root, or (``must_exist``) missing.

    Example:
        >>> import tempfile; d = tempfile.mkdtemp()
        >>> resolve_inside("/etc/passwd", [d])
        Traceback (most recent call last):
        ...
        lexiconlm.app_support.PathNotAllowedError: '/etc/passwd' is outside the folders this app may read ...
    """
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise PathNotAllowedError("an empty path was given")
    if "\x00" in text:
        raise PathNotAllowedError(f"{text!r}: a path may not contain NUL characters")
    parts = re.split(r"[\\/]+", text)
    if ".." in parts:
        raise PathNotAllowedError(
            f"{text!r}: '..' is not allowed in a path; give a path inside the configured folders"
        )
    real_roots = [Path(r).resolve() for r in roots]
    if not real_roots:
        raise PathNotAllowedError(f"{text!r}: no folders are configured for this kind of file")
    p = Path(text)
    candidates = [p] if p.is_absolute() else [r / p for r in real_roots]
    inside_but_missing: Path | None = None
    for cand in candidates:
        real = cand.resolve()
        if not any(real == r or real.is_relative_to(r) for r in real_roots):
            continue
        if real.exists() or not must_exist:
            return real
        inside_but_missing = inside_but_missing or real
    if inside_but_missing is not None:
        raise PathNotAllowedError(f"{text!r} does not exist in the configured folders")
    shown = ", ".join(str(r) for r in real_roots[:4]) + (" ..." if len(real_roots) > 4 else "")
    raise PathNotAllowedError(
        f"{text!r} is outside the folders this app may read ({shown}); "
        "links that lead out of them are refused as well"
    )


# --------------------------------------------------------------------------- coverage table


def load_coverage(ctx: AppContext) -> Any:
    """The coverage table of ``ctx``'s config.

    Built by :func:`lexiconlm.coverage.compute.compute_coverage` from its per-file statistics
    cache (``ctx.cache_path``): only files added or changed since the cache was written are
    read. The app calls this through ``st.cache_data`` keyed by the config's modification
    time, so a page load never rebuilds it.

    Returns:
        :class:`~lexiconlm.coverage.compute.CoverageTable`.
    """
    from lexiconlm.coverage.compute import compute_coverage

    return compute_coverage(ctx.config)


#: Resource -> the coverage column that says whether a language has it (see :func:`resource_mask`).
RESOURCE_COLUMNS: dict[str, str] = {
    "lexicon": "lex_total_entries",
    "UniMorph": "unimorph_forms",
    "SIGMORPHON": "sigmorphon_editions",
    "NLU": "nlu_sets",
    "text": "text_segments",
    "epitran": "epitran",
}


def _truthy(value: Any) -> bool:
    """Numbers > 0, non-empty strings other than ``0``/``false``/``no``, true booleans."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return not math.isnan(value) and value > 0
    text = str(value).strip().lower()
    return text not in ("", "0", "0.0", "false", "no", "none", "nan", "-")


def resource_mask(df: pd.DataFrame, resource: str) -> pd.Series:
    """Boolean Series: which rows of a coverage table have ``resource`` (a key of :data:`RESOURCE_COLUMNS`)."""
    import pandas as pd

    col = RESOURCE_COLUMNS[resource]
    if col not in df.columns:
        return pd.Series(False, index=df.index)
    values = df[col]
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.fillna(0) > 0
    return values.map(_truthy).astype(bool)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with missing values as ``None`` (what :func:`aggregate` expects)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def filter_languages(
    df: pd.DataFrame,
    *,
    search: str = "",
    family: str | None = None,
    script: str | None = None,
    macroarea: str | None = None,
    tiers: Sequence[str] = (),
    has: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows of a coverage table matching every given filter.

    ``search`` matches the code or (accent- and case-insensitively) a part of the name;
    ``script`` matches any of a language's scripts; ``tiers`` are ``tier_label`` values;
    ``has`` are keys of :data:`RESOURCE_COLUMNS` that must all be present.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"iso639_3": ["ind", "amh"], "name": ["Indonesian", "Amharic"],
        ...                    "scripts": ["Latn", "Ethi"]})
        >>> filter_languages(df, search="indo")["iso639_3"].tolist()
        ['ind']
    """
    from lexiconlm.languages import name_key

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
        mask &= df["scripts"].fillna("").astype(str).map(lambda s: script in split_scripts(s)).to_numpy()
    if tiers and "tier_label" in df.columns:
        mask &= df["tier_label"].isin(list(tiers)).to_numpy()
    for res in has:
        mask &= resource_mask(df, res).to_numpy()
    return df[mask]


def split_scripts(value: Any) -> list[str]:
    """A ``scripts`` cell as a list (``"Latn Arab"``, ``"Latn|Arab"``, ``"Latn,Arab"`` or a list)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v)]
    return [s for s in re.split(r"[\s|,;]+", str(value)) if s]


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class RunInfo:
    """One run found in a runs folder (see docs/run-folders.md).

    ``run_id`` is the run's path relative to its root, as the runs page puts it in
    the URL (``?run=sigmorphon-2023-amh``). ``tables`` are the CSV files the run
    holds; ``metrics`` are the scalars of ``metrics.json`` flattened with dots.
    ``problems`` list what could not be read (the run is still shown).
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


def _read_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path.name}:{line}" if line else path.name
        problems.append(f"{where}: not valid JSON ({exc.__class__.__name__}: {exc}); fix or delete the file")
        return None


def _run_from_folder(folder: Path, root: Path) -> RunInfo:
    problems: list[str] = []
    meta = _read_json(folder / "run.json", problems)
    if meta is None:
        meta = {}
    elif not isinstance(meta, Mapping):
        problems.append("run.json: expected a JSON object {kind, languages, config, signature, created}")
        meta = {}
    kind = str(meta.get("kind", "")).strip().lower()
    if kind not in RUN_KINDS:
        close = difflib.get_close_matches(kind, RUN_KINDS, n=1)
        hint = f" Did you mean: {close[0]}?" if close else ""
        problems.append(
            f"run.json: kind {meta.get('kind')!r} is not one of {', '.join(RUN_KINDS)}.{hint}"
        )
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
    metrics_raw = _read_json(folder / "metrics.json", problems)
    metrics = _flatten(metrics_raw) if metrics_raw is not None else {}
    tables = tuple(sorted(p for p in folder.rglob("*.csv") if p.is_file() and _inside(p, root)))
    notes = ""
    readme = folder / "README.md"
    if readme.is_file() and _inside(readme, root):
        notes = readme.read_text(encoding="utf-8", errors="replace")
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


def _inside(p: Path, root: Path) -> bool:
    """True when ``p`` (symlinks followed) stays inside ``root``; discovery skips links that lead out."""
    try:
        return p.resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def _benchmark_run(csv_path: Path, root: Path) -> RunInfo:
    """A loose result table (``benchmarks/results/*.csv``) shown as a run of kind ``benchmark``."""
    problems: list[str] = []
    notes = ""
    md = csv_path.with_suffix(".md")
    if md.is_file() and _inside(md, root):
        notes = md.read_text(encoding="utf-8", errors="replace")
    metrics: dict[str, Any] = {}
    languages: tuple[str, ...] = ()
    try:
        df = read_result_table(csv_path)
    except (OSError, ValueError) as exc:
        problems.append(f"{csv_path.name}: cannot be read as CSV ({exc})")
    else:
        metrics["rows"] = len(df)
        col = language_column(df)
        if col:
            # summary rows such as "(micro average, 63 languages)" are not languages
            context = _edition_context(csv_path.stem)
            found = df[col].astype(str).map(lambda v: _language_of(v, context, _catalog_id()))
            known = found.notna()
            if known.any():
                df = df[known]
            languages = tuple(dict.fromkeys(lang.iso639_3 for lang in found[known]))
        for c in numeric_columns(df):
            if is_metric_name(c):
                mean = df[c].mean()
                if not math.isnan(mean):
                    metrics[f"mean {c}"] = round(float(mean), 3)
    return RunInfo(
        run_id=csv_path.relative_to(root).as_posix(),
        name=csv_path.stem,
        kind="benchmark",
        path=csv_path,
        root=root,
        languages=languages,
        created="",
        signature="",
        metrics=metrics,
        tables=(csv_path,),
        notes=notes,
        problems=tuple(problems),
    )


def discover_runs(roots: Sequence[str | os.PathLike], *, max_depth: int = 3) -> list[RunInfo]:
    """Every run under ``roots``: folders holding ``run.json``, and loose ``*.csv`` tables.

    A folder with ``run.json`` is one run (its CSV tables and ``metrics.json`` belong to
    it, and nothing below it is searched further). A CSV file outside any run is a
    ``benchmark`` run of its own, described by the ``.md`` file of the same name when
    there is one. Missing roots are skipped (the pages report them); links that lead
    out of a root are ignored.

    Returns:
        Runs sorted by kind, then newest first, then name.
    """
    runs: list[RunInfo] = []
    for root in roots:
        root = Path(root).resolve()
        if not root.is_dir():
            continue
        stack: list[tuple[Path, int]] = [(root, 0)]
        while stack:
            folder, depth = stack.pop()
            if folder != root and (folder / "run.json").is_file():
                runs.append(_run_from_folder(folder, root))
                continue
            try:
                children = sorted(folder.iterdir())
            except OSError:
                continue
            for child in children:
                if child.name.startswith(".") or not _inside(child, root):
                    continue
                if child.is_dir() and depth < max_depth:
                    stack.append((child, depth + 1))
                elif child.is_file() and child.suffix.lower() == ".csv" and not _is_coverage_table(child):
                    runs.append(_benchmark_run(child, root))
    runs.sort(key=lambda r: (RUN_KINDS.index(r.kind) if r.kind in RUN_KINDS else 99,
                             _neg(r.created), r.name))
    return runs


def _is_coverage_table(p: Path) -> bool:
    """A coverage table written by ``lexiconlm coverage compute`` (it has a ``.sources.json``
    beside it); the overview shows those, the runs page does not."""
    return p.with_name(p.stem + ".sources.json").is_file()


def _neg(text: str) -> tuple:
    """Sort key putting later ISO timestamps first (empty last)."""
    return (0, tuple(-ord(c) for c in text)) if text else (1, ())


def find_run(run_id: str, runs: Sequence[RunInfo], roots: Sequence[str | os.PathLike]) -> RunInfo:
    """The run a URL names (``?run=<run_id>``), after checking the path stays inside ``roots``.

    Raises:
        PathNotAllowedError: the id has ``..``, leads outside the run folders, or names no run.
    """
    target = resolve_inside(run_id, roots)
    for run in runs:
        if run.path.resolve() == target:
            return run
    raise PathNotAllowedError(f"{run_id!r} is not a run folder nor a result table")


def read_result_table(path: str | os.PathLike, roots: Sequence[str | os.PathLike] | None = None) -> pd.DataFrame:
    """A result CSV as a DataFrame; only empty cells are missing values (``NA`` and ``null`` stay text).

    Args:
        path: the CSV file.
        roots: when given, the path must lie inside one of them (:func:`resolve_inside`).
    """
    import pandas as pd

    p = resolve_inside(path, roots) if roots is not None else Path(path)
    return pd.read_csv(p, keep_default_na=False, na_values=[""], encoding="utf-8")


def language_column(df: pd.DataFrame) -> str | None:
    """The column of ``df`` that names languages (``language``, ``locale``, ``setting`` ...), if any."""
    import pandas as pd

    lower = {str(c).lower(): c for c in df.columns}
    for name in _LANGUAGE_COLUMNS:
        if name in lower and not pd.api.types.is_numeric_dtype(df[lower[name]]):
            return lower[name]
    return None


def is_metric_name(column: str) -> bool:
    """Whether a column name looks like a score (accuracy, F1, Levenshtein, loss ...) rather than a count."""
    return bool(_METRIC_HINT.search(str(column)))


def numeric_columns(df: pd.DataFrame) -> list[str]:
    """Numeric columns of ``df`` (booleans excluded)."""
    import pandas as pd

    return [
        c for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]


def _catalog_id() -> int:
    """Identity of the loaded catalog, part of the lookup cache key (a reloaded catalog is not answered from cache)."""
    from lexiconlm.languages import get_catalog

    return id(get_catalog())


@functools.lru_cache(maxsize=8192)
def _language_of(value: str, context: str | None, catalog_id: int) -> Language | None:
    """Catalog language of a table cell: the whole value (``amh``, ``id-ID``), else its part
    before ``_`` (SIGMORPHON 2022 settings such as ``ang_large``)."""
    from lexiconlm.languages import get_catalog

    cat = get_catalog()
    candidates = [value]
    if "_" in value:
        candidates.append(value.split("_", 1)[0])
    for cand in candidates:
        lang = cat.find(cand, context=context, names=False)
        if lang is not None:
            return lang
    return None


def add_language_groups(
    df: pd.DataFrame, column: str, *, context: str | None = None
) -> pd.DataFrame:
    """``df`` with ``iso639_3``, ``language_name``, ``family`` and ``script`` columns
    looked up in the catalog from ``column`` (unknown values get ``(unknown)``)."""
    cat_id = _catalog_id()
    langs = [_language_of(str(v), context, cat_id) for v in df[column]]
    out = df.copy()
    out["iso639_3"] = [lang.iso639_3 if lang else "" for lang in langs]
    out["language_name"] = [lang.name if lang else "(unknown)" for lang in langs]
    out["family"] = [(lang.family or "(none)") if lang else "(unknown)" for lang in langs]
    out["script"] = [(lang.scripts[0] if lang.scripts else "(none)") if lang else "(unknown)"
                     for lang in langs]
    return out


def language_context(run: RunInfo) -> str | None:
    """The catalog context for the language codes of a run's tables: ``language_context`` in
    run.json's config, else ``sigmorphon<year>`` for SIGMORPHON runs and benchmark tables
    named after an edition (2023 writes Japanese as ``jap``)."""
    given = run.config.get("language_context") if isinstance(run.config, Mapping) else None
    if given:
        return str(given)
    if run.kind == "sigmorphon":
        return _edition_context(f"sigmorphon {run.name} {run.config.get('edition', '')}")
    if run.kind == "benchmark":
        return _edition_context(run.name)
    return None


def _edition_context(text: str) -> str | None:
    """``sigmorphon<year>`` for a name that mentions SIGMORPHON and an edition year."""
    m = re.search(r"(20[12]\d)", text)
    return f"sigmorphon{m.group(1)}" if m and "sigmorphon" in text.lower() else None


def runs_summary(runs: Sequence[RunInfo]) -> list[dict[str, Any]]:
    """One row per run (id, kind, languages, created, signature, tables, problems, metrics...)."""
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
        for k, v in r.metrics.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                row[k] = v
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- samples per language


def language_files(ctx: AppContext) -> dict[str, list[dict[str, str]]]:
    """Data files per language: ``iso639_3 -> [{"kind", "source", "path"}, ...]``.

    Taken from the coverage statistics cache (:func:`lexiconlm.coverage.compute.file_statistics`),
    so no file is read again; files whose language the catalog does not know are left out.
    """
    from lexiconlm.coverage.compute import file_statistics

    out: dict[str, list[dict[str, str]]] = {}
    for st in file_statistics(ctx.config):
        iso = st.get("lang") or ""
        if iso and "skip" not in st and "error" not in st:
            out.setdefault(iso, []).append({
                "kind": st["kind"], "source": st["source"], "path": st["path"],
                "split": str(st.get("split") or st.get("partition") or ""),
            })
    return out


def files_for_language(
    ctx: AppContext, index: Mapping[str, Sequence[Mapping[str, str]]], iso: str, kind: str,
    *, split: str | None = None,
) -> list[Path]:
    """The files of resource ``kind`` for language ``iso`` in ``index`` (:func:`language_files`),
    each checked to lie inside the configured folders; ``split`` keeps only that split
    (``train`` for SIGMORPHON training files)."""
    out = []
    for item in index.get(iso, ()):
        if item["kind"] != kind or (split is not None and item.get("split") != split):
            continue
        try:
            out.append(resolve_inside(item["path"], ctx.allowed_roots))
        except PathNotAllowedError:
            continue
    return out


def _read_noting(read: Callable, path: Path, notes: list[str], catch: tuple = (LexiconLMError,)):
    """``read(path, errors="collect")``, or None after adding a note (file name, first line of the error)."""
    try:
        return read(path, errors="collect")
    except catch as exc:
        notes.append(f"{path.name}: {str(exc).splitlines()[0]}")
        return None


def sample_lexicon(
    ctx: AppContext, files: Sequence[Path], lang: Language, *, n: int = 15
) -> tuple[list[dict], list[str]]:
    """The first ``n`` entries of each lexicon file into ``lang`` (rows: file, source, target, pos).

    Returns:
        ``(rows, notes)``; notes say which files were skipped and why.
    """
    from lexiconlm.io.lexicons import read_lexicon

    rows: list[dict] = []
    notes: list[str] = []
    for p in files:
        lex = _read_noting(read_lexicon, p, notes)
        if lex is None:
            continue
        for e in lex.entries[:n]:
            rows.append({"file": _short(p, ctx), "source": e.source, "target": e.target,
                         "pos": e.pos or ""})
    return rows, notes


def sample_paradigms(
    ctx: AppContext, unimorph: Sequence[Path], sigmorphon: Sequence[Path], lang: Language,
    *, n_lemmas: int = 3,
) -> tuple[dict[str, list[dict]], list[str]]:
    """Paradigms of the first ``n_lemmas`` lemmas of the UniMorph tables of ``lang``
    (then SIGMORPHON training files when there is no UniMorph table).

    Returns:
        ``({"lemma (file)": [{"form", "features"}, ...]}, notes)``.
    """
    from lexiconlm.io.unimorph import paradigms, read_unimorph

    out: dict[str, list[dict]] = {}
    notes: list[str] = []
    for p in unimorph:
        table = _read_noting(read_unimorph, p, notes)
        if table is None:
            continue
        for lemma, entries in list(paradigms(table).items())[:n_lemmas]:
            out[f"{lemma} ({p.name})"] = [{"form": e.form, "features": e.features} for e in entries]
        if out:
            return out, notes
    from lexiconlm.io.sigmorphon import read_sigmorphon

    for p in sigmorphon:
        ds = _read_noting(read_sigmorphon, p, notes, catch=(LexiconLMError, TypeError))
        if ds is None:
            continue
        groups: dict[str, list[dict]] = {}
        for e in ds:
            if e.lemma not in groups and len(groups) >= n_lemmas:
                continue
            groups.setdefault(e.lemma, []).append({"form": e.form, "features": e.features})
        for lemma, rows in groups.items():
            out[f"{lemma} ({p.name})"] = rows
        if out:
            break
    return out, notes


def sample_sentences(
    ctx: AppContext, text: Sequence[Path], nlu: Sequence[Path], lang: Language, *, n: int = 3
) -> tuple[list[dict], list[str]]:
    """The first ``n`` segments of each text corpus and NLU test set of ``lang``
    (rows: file, id, text)."""
    from lexiconlm.io.massive import read_massive
    from lexiconlm.io.text import read_text

    rows: list[dict] = []
    notes: list[str] = []
    for p in text:
        corpus = _read_noting(read_text, p, notes)
        if corpus is None:
            continue
        for seg in corpus.segments[:n]:
            rows.append({"file": _short(p, ctx), "id": seg.id, "text": seg.text})
    for p in nlu:
        if p.suffix.lower() not in (".tsv", ".jsonl"):
            continue
        ds = _read_noting(read_massive, p, notes)
        if ds is None:
            continue
        for u in list(ds)[:n]:
            rows.append({"file": _short(p, ctx), "id": u.id, "text": u.text})
    return rows, notes


def _short(p: Path, ctx: AppContext) -> str:
    """A file's path relative to the data folder holding it (for display)."""
    for root in ctx.data_folders:
        if p != root and p.is_relative_to(root):
            return f"{root.name}/{p.relative_to(root).as_posix()}"
    return p.name


# --------------------------------------------------------------------------- IPA (epitran)


@dataclass(frozen=True)
class IpaResult:
    """IPA of sample words: ``code`` is the epitran map used (``ind-Latn``), ``rows``
    ``(word, ipa)`` pairs, ``message`` why there are none (empty when there are)."""

    code: str
    rows: tuple[tuple[str, str], ...] = ()
    message: str = ""


# Maps that need a tool or dictionary epitran does not ship (it returns '' or raises without them).
_EXTERNAL = {
    "eng-Latn": "flite's lex_lookup",
    "cmn-Hans": "a CC-CEDICT file",
    "cmn-Hant": "a CC-CEDICT file",
    "yue-Hant": "a CC-CEDICT file",
    "jpn-Hira": "a Japanese dictionary",
    "jpn-Kana": "a Japanese dictionary",
    "jpn-Ktkn": "a Japanese dictionary",
}


@functools.lru_cache(maxsize=1)
def epitran_maps() -> frozenset[str]:
    """The ``<iso639-3>-<Script>`` maps epitran ships (empty when epitran is not installed)."""
    from lexiconlm.coverage.compute import epitran_maps as installed

    return frozenset(installed()[1])


def epitran_code(lang: Language) -> str | None:
    """The epitran map for ``lang``: ``<iso>-<script>`` for its scripts in order, if epitran
    has one (a CSV map, or one of the few codes it handles with an external tool)."""
    maps = epitran_maps()
    for script in lang.scripts or ("Latn",):
        code = f"{lang.iso639_3}-{script}"
        if code in maps or code in _EXTERNAL:
            return code
    return None


@functools.lru_cache(maxsize=32)
def _epitran(code: str) -> Any:
    import epitran

    return epitran.Epitran(code)


def transcribe(lang: Language, words: Sequence[str]) -> IpaResult:
    """IPA of ``words`` with epitran's map for ``lang``.

    Returns:
        :class:`IpaResult`; when there is no map, epitran is not installed, or the map
        needs an external tool, ``rows`` is empty and ``message`` says why and what to do.
    """
    if not epitran_maps():
        return IpaResult("", (), "IPA needs epitran: pip install 'lexiconlm[phon]'")
    code = epitran_code(lang)
    tag = lang.tag()
    if code is None:
        similar = sorted(m for m in epitran_maps() if m.startswith(f"{lang.iso639_3}-"))
        extra = f" (it has {', '.join(similar)})" if similar else ""
        return IpaResult(
            "",
            (),
            f"epitran has no map for {lang.name} ({tag}){extra}, so no IPA is shown. "
            "A map is a CSV of grapheme-to-phoneme rules (epitran's data/map/<iso639-3>-<Script>.csv).",
        )
    if code in _EXTERNAL:
        return IpaResult(code, (), f"epitran's {code} map needs {_EXTERNAL[code]}, which is not installed.")
    words = [w for w in dict.fromkeys(w.strip() for w in words) if w][:20]
    if not words:
        return IpaResult(code, (), f"No sample words of {lang.name} to transcribe.")
    try:
        epi = _epitran(code)
        rows = tuple((w, epi.transliterate(w)) for w in words)
    except Exception as exc:  # noqa: BLE001 - epitran raises KeyError, IndexError or its own errors on odd input
        return IpaResult(code, (), f"epitran failed on {code}: {exc.__class__.__name__}: {exc}")
    return IpaResult(code, rows, "")


# --------------------------------------------------------------------------- tokenizer


_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def find_tokenizers(ctx: AppContext, *, max_depth: int = 4) -> dict[str, str]:
    """Local tokenizers the app can show: ``folder -> label``.

    The tokenizer given with ``lexiconlm app --tokenizer`` first, then every folder under
    the run folders holding ``tokenizer.json`` or ``tokenizer_config.json`` (adaptation runs
    save their extended tokenizer there). Hub names are never offered: nothing is downloaded.
    """
    out: dict[str, str] = {}
    if ctx.tokenizer:
        t = Path(ctx.tokenizer)
        folder = t if t.is_dir() else t.parent
        out[str(folder)] = f"{folder.name} (given with --tokenizer)"
    for root in ctx.run_folders:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            depth = len(here.relative_to(root).parts)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and depth < max_depth)
            if any(f in filenames for f in _TOKENIZER_FILES) and _inside(here, root):
                out.setdefault(str(here), here.relative_to(root).as_posix() or root.name)
    return out


def load_local_tokenizer(folder: str | os.PathLike, roots: Sequence[str | os.PathLike]) -> Any:
    """Load a tokenizer folder (or the folder of a ``tokenizer.json``) after checking it lies
    inside ``roots`` (:attr:`AppContext.allowed_roots`).

    Raises:
        PathNotAllowedError: the folder is outside ``roots``.
        LexiconLMError: it cannot be loaded (see :func:`lexiconlm.coverage.tokenizer.load_tokenizer`).
    """
    from lexiconlm.coverage.tokenizer import load_tokenizer

    path = resolve_inside(folder, roots)
    return load_tokenizer(path if path.is_dir() else path.parent)

def segment_sentences(tokenizer: Any, sentences: Sequence[str]) -> list[dict[str, Any]]:
    """How ``tokenizer`` splits each sentence: rows of sentence, tokens (joined with ``|``),
    their number, tokens per whitespace word and unknown tokens.

    Accepts a transformers tokenizer (``tokenize``, ``unk_token``) or a ``tokenizers.Tokenizer``
    (``encode(...).tokens``; its model's ``unk_token``).
    """
    unk = getattr(tokenizer, "unk_token", None)
    if unk is None:
        unk = getattr(getattr(tokenizer, "model", None), "unk_token", None)
    rows = []
    for s in sentences:
        if hasattr(tokenizer, "tokenize"):
            toks = list(tokenizer.tokenize(s))
        else:
            toks = list(tokenizer.encode(s, add_special_tokens=False).tokens)
        words = max(1, len(s.split()))
        rows.append({
            "sentence": s,
            "tokens": " | ".join(toks),
            "n_tokens": len(toks),
            "tokens_per_word": round(len(toks) / words, 2),
            "unknown": sum(1 for t in toks if unk is not None and t == unk),
        })
    return rows


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


def streamlit_command(
    app_path: Path, config: Path, *, port: int | None = None, headless: bool = True,
    address: str | None = None,
) -> list[str]:
    """The ``python -m streamlit run`` command line that ``lexiconlm app`` executes."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path),
           "--server.headless", "true" if headless else "false",
           "--browser.gatherUsageStats", "false"]
    if port is not None:
        cmd += ["--server.port", str(port)]
    if address:
        cmd += ["--server.address", address]
    cmd += ["--", "--config", str(config)]
    return cmd


def format_command(cmd: Sequence[str]) -> str:
    """A command line as a shell would show it."""
    return " ".join(shlex.quote(c) for c in cmd)
