"""Streamlit glue shared by the pages: cached loaders, the config error screen, download buttons.

The work itself is done by plain functions in the :mod:`lexiconlm.app` package; this
module wraps them in ``st.cache_data`` / ``st.cache_resource`` (keyed by the config
file and its modification time, so an edited config is picked up) and turns their
errors into messages with the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from lexiconlm.app import context as app_context
from lexiconlm.app import coverage as app_coverage
from lexiconlm.app import files as app_files
from lexiconlm.app import ipa as app_ipa
from lexiconlm.app import runs as app_runs
from lexiconlm.app import samples as app_samples
from lexiconlm.app import tables as app_tables
from lexiconlm.app import tokenizer as app_tokenizer
from lexiconlm.app.context import AppContext
from lexiconlm.coverage.aggregate import aggregate
from lexiconlm.coverage.tiers import load_tiers
from lexiconlm.errors import ConfigError, LexiconLMError
from lexiconlm.languages import get_catalog

#: What the overview's table groups by (see lexiconlm.coverage.aggregate.AGGREGATE_BY).
GROUPINGS = ("family", "script", "macroarea", "genus", "tier", "resources")


def _mtime(p: Path | None) -> float:
    try:
        return p.stat().st_mtime if p is not None else 0.0
    except OSError:
        return 0.0


# ---------------------------------------------------------------------- config


@st.cache_resource(show_spinner=False)
def _context(config: str, tokenizer: str | None, stamp: float) -> AppContext:
    return app_context.load_context(config, tokenizer=tokenizer)


def _key() -> tuple[str, str | None, float]:
    path = app_context.app_config_path()
    tok = app_context.app_tokenizer_path()
    return str(path), (str(tok) if tok else None), _mtime(path)


def require_context() -> AppContext:
    """The app's :class:`~lexiconlm.app.context.AppContext`. On a bad config the page shows
    what is wrong and how to fix it, then stops (no traceback)."""
    key = _key()
    try:
        return _context(*key)
    except ConfigError as exc:
        st.error(
            f"The config `{key[0]}` is not valid:\n\n"
            + "\n".join(f"- {p}" for p in exc.problems)
            + "\n\nFix it, or start the app on the bundled demo data: "
            "`lexiconlm app --config configs/coverage/demo.yaml`."
        )
    except LexiconLMError as exc:
        st.error(str(exc))
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def show_missing_folders(ctx: AppContext) -> None:
    """A warning that names each configured folder that does not exist, with the fix."""
    msg = ctx.missing_message()
    if msg:
        st.warning(msg, icon=":material/folder_off:")


# ---------------------------------------------------------------------- coverage


@st.cache_data(show_spinner="Loading the coverage table ...")
def _coverage(config: str, tokenizer: str | None, stamp: float) -> tuple[pd.DataFrame, dict, str]:
    table = app_coverage.load_coverage(_context(config, tokenizer, stamp))
    frame = pd.DataFrame(table.rows, columns=list(table.columns))
    return frame, dict(table.sources), table.signature


def coverage(ctx: AppContext) -> tuple[pd.DataFrame, dict]:
    """The coverage table as a DataFrame and its ``sources``. Built once from the statistics
    cache, then served from Streamlit's cache until the config changes or the
    "Recount resources" button in the sidebar is pressed."""
    try:
        df, sources, _ = _coverage(str(ctx.config_path), ctx.tokenizer, _mtime(ctx.config_path))
    except LexiconLMError as exc:
        st.error(f"The coverage table could not be built:\n\n{exc}")
        st.stop()
        raise
    return df, sources


def signature(ctx: AppContext) -> str:
    """The coverage table's signature (the settings that produced it)."""
    return _coverage(str(ctx.config_path), ctx.tokenizer, _mtime(ctx.config_path))[2]


@st.cache_data(show_spinner=False)
def _language_files(config: str, tokenizer: str | None, stamp: float) -> dict[str, list[dict[str, str]]]:
    return app_samples.language_files(_context(config, tokenizer, stamp))


def language_files(ctx: AppContext) -> dict[str, list[dict[str, str]]]:
    """Data files per language, from the coverage statistics cache."""
    return _language_files(str(ctx.config_path), ctx.tokenizer, _mtime(ctx.config_path))


def clear_caches() -> None:
    """Forget the loaded tables (the "Recount resources" button)."""
    _coverage.clear()
    _flags.clear()
    _language_files.clear()
    _aggregate.clear()
    _runs.clear()
    _nlu_predictor.clear()
    _samples.clear()
    _tokenizers.clear()


@st.cache_data(show_spinner=False)
def _flags(config: str, tokenizer: str | None, stamp: float) -> pd.DataFrame:
    df, _, _ = _coverage(config, tokenizer, stamp)
    masks = app_coverage.resource_masks(df, [*app_coverage.RESOURCE_LABELS, "any"])
    return pd.DataFrame(masks, index=df.index)


def resource_flags(ctx: AppContext) -> pd.DataFrame:
    """One boolean column per resource of :data:`~lexiconlm.app.coverage.RESOURCE_LABELS`
    (and ``any``), aligned with the coverage table's rows; computed once per table."""
    return _flags(str(ctx.config_path), ctx.tokenizer, _mtime(ctx.config_path))


def any_resource(df: pd.DataFrame) -> pd.Series:
    """Rows with at least one kind of data (lexicon, morphology, NLU, text); an epitran map
    alone does not count (``any`` of :data:`lexiconlm.coverage.tiers.RESOURCES`)."""
    return app_coverage.resource_mask(df, "any")


#: Colours of the tiers, lowest first: grey for "no lexicon", then warm to dark.
TIER_COLOURS = ("#c4ccd4", "#f2a541", "#3fa07f", "#c0504d", "#2e3f8f", "#7b3294", "#111111")


def tier_order(df: pd.DataFrame) -> list[str]:
    """Every tier label of ``resources/tiers.tsv`` (lowest first), then any other label in
    ``df``."""
    labels = [t.label for t in load_tiers()]
    if "tier_label" not in df.columns:
        return labels
    if "tier" in df.columns:
        pairs = df[["tier", "tier_label"]].drop_duplicates().sort_values("tier")
    else:
        pairs = df[["tier_label"]].drop_duplicates()
    return list(dict.fromkeys([*labels, *(str(x) for x in pairs["tier_label"])]))


@st.cache_data(show_spinner=False)
def _aggregate(config: str, tokenizer: str | None, stamp: float, by: str, area: str, only_res: bool) -> pd.DataFrame:
    df, _, _ = _coverage(config, tokenizer, stamp)
    if area != "All":
        df = df[df["macroarea"] == area]
    if only_res:
        df = df[any_resource(df)]
    return pd.DataFrame(aggregate(app_coverage.records(df), by=by))


def aggregate_frame(ctx: AppContext, by: str, area: str = "All", only_res: bool = False) -> pd.DataFrame:
    """The coverage table aggregated by ``by`` (family, genus, macroarea, script, tier ...),
    filtered."""
    return _aggregate(str(ctx.config_path), ctx.tokenizer, _mtime(ctx.config_path), by, area, only_res)


def sources_frame(sources: dict) -> pd.DataFrame:
    """The table's ``sources`` (resource -> folders, files, absent, problems ...) as rows."""
    rows = []
    for key, info in sources.items():
        info = info if isinstance(info, dict) else {"value": info}
        rows.append(
            {
                "resource": key,
                "folders": ", ".join(map(str, info.get("folders", []))),
                "files": info.get("files", 0),
                "languages": info.get("languages", 0),
                "absent": ", ".join(map(str, info.get("absent", []))),
                "problems": info.get("n_problems", len(info.get("problems", []))),
                "unresolved": len(info.get("unresolved", [])),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------- runs


def _runs_stamp(folders: Sequence[Path]) -> tuple[float, ...]:
    """Modification times of the run folders and their children (a new run changes them)."""
    out: list[float] = []
    for f in folders:
        out.append(_mtime(f))
        if f.is_dir():
            out.extend(_mtime(c) for c in sorted(f.iterdir())[:500])
    return tuple(out)


@st.cache_data(show_spinner="Looking for runs ...")
def _runs(folders: tuple[str, ...], stamp: tuple[float, ...]) -> list[app_runs.RunInfo]:
    return app_runs.discover_runs([Path(f) for f in folders])


def runs(ctx: AppContext) -> list[app_runs.RunInfo]:
    """Every run, batch summary and benchmark table in the config's run folders (cached
    until a folder changes); ``RunInfo.is_table`` and ``RunInfo.kind`` tell them apart."""
    return _runs(tuple(str(f) for f in ctx.run_folders), _runs_stamp(ctx.run_folders))


@st.cache_data(show_spinner=False)
def _result_table(path: str, roots: tuple[str, ...], stamp: float) -> pd.DataFrame:
    return app_files.read_result_table(path, list(roots))


def table_of(ctx: AppContext, path: Path) -> pd.DataFrame:
    """A run's CSV table (its path is checked to lie inside the run folders)."""
    return _result_table(str(path), tuple(str(r) for r in ctx.run_folders), _mtime(path))


@st.cache_resource(show_spinner=False, max_entries=4)
def _nlu_predictor(run_dir: str, which: str, stamp: float) -> Any:
    # lexiconlm.nlu.predict imports torch: only when a parse is asked for
    from lexiconlm.nlu.predict import load_nlu

    return load_nlu(run_dir, which=which, device="cpu")


def nlu_predictor(ctx: AppContext, run_dir: Path, which: str) -> Any:
    """The NLU model of an expand run (``which``: ``"expanded"`` or ``"base"``), loaded on
    CPU once per process (the run folder is checked to lie inside the run folders).

    Raises:
        ImportError: ``lexiconlm.nlu.predict`` (or torch) is not available.
        LexiconLMError: the run has no such model (``PathNotAllowedError`` included).
    """
    folder = app_files.resolve_inside(run_dir, list(ctx.run_folders))
    return _nlu_predictor(str(folder), which, _mtime(folder))


# ---------------------------------------------------------------------- widgets


def download(label: str, data: pd.DataFrame | Callable[[], Any], name: str, key: str) -> None:
    """A CSV download button; the CSV is built when the button is clicked."""
    if isinstance(data, pd.DataFrame):
        frame = data

        def payload() -> bytes:
            return app_tables.table_csv(frame)
    else:
        make = data

        def payload() -> bytes:
            return app_tables.table_csv(make())

    st.download_button(
        label,
        data=payload,
        file_name=app_tables.safe_file_name(name),
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


def sidebar() -> None:
    """The config in use and the recount button, in the sidebar of every page."""
    path = app_context.app_config_path()
    try:
        shown: Path | str = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    with st.sidebar:
        st.caption(f"Config: `{shown}`")
        if st.button(
            "Recount resources",
            key="recount",
            icon=":material/refresh:",
            help="Read the data folders again (only new or changed files are read).",
        ):
            clear_caches()


# ---------------------------------------------------------------------- tokenizers


def tokenizers(ctx: AppContext) -> dict[str, str]:
    """Local tokenizers to choose from (folder -> label)."""
    return _tokenizers(tuple(str(f) for f in ctx.run_folders), ctx.tokenizer, _runs_stamp(ctx.run_folders))


@st.cache_data(show_spinner=False)
def _tokenizers(folders: tuple[str, ...], given: str | None, stamp: tuple[float, ...]) -> dict[str, str]:
    return app_tokenizer.find_tokenizers(_bare_context(folders, given))


def _bare_context(folders: tuple[str, ...], given: str | None) -> AppContext:
    return AppContext(Path("."), None, {}, tuple(Path(f) for f in folders), None, given)


@st.cache_resource(show_spinner="Loading the tokenizer ...", max_entries=4)
def _tokenizer(folder: str, roots: tuple[str, ...]) -> Any:
    return app_tokenizer.load_local_tokenizer(folder, list(roots))


def load_tokenizer(ctx: AppContext, folder: str) -> Any:
    """A tokenizer folder (checked to lie inside the app's folders), loaded once per process."""
    return _tokenizer(folder, tuple(str(r) for r in ctx.allowed_roots))


# ---------------------------------------------------------------------- one language


@st.cache_data(show_spinner="Reading samples ...", max_entries=64)
def _samples(config: str, tokenizer: str | None, stamp: float, iso: str) -> dict[str, Any]:
    ctx = _context(config, tokenizer, stamp)
    index = _language_files(config, tokenizer, stamp)
    lang = get_catalog().get(iso)

    def files(kind: str, split: str | None = None) -> list[Path]:
        return app_samples.files_for_language(ctx, index, iso, kind, split=split)

    lexicon, lex_notes = app_samples.sample_lexicon(ctx, files("lexicons"), lang)
    paradigms, par_notes = app_samples.sample_paradigms(ctx, files("unimorph"), files("sigmorphon", "train"), lang)
    sentences, sent_notes = app_samples.sample_sentences(ctx, files("text"), files("nlu"), lang)
    return {
        "lexicon": lexicon,
        "lexicon_notes": lex_notes,
        "paradigms": paradigms,
        "paradigm_notes": par_notes,
        "sentences": sentences,
        "sentence_notes": sent_notes,
    }


def samples(ctx: AppContext, iso: str) -> dict[str, Any]:
    """Sample lexicon entries, paradigms and sentences of one language (read once, then cached)."""
    return _samples(str(ctx.config_path), ctx.tokenizer, _mtime(ctx.config_path), iso)


@st.cache_data(show_spinner="Transcribing ...", max_entries=64)
def ipa(iso: str, words: tuple[str, ...]) -> app_ipa.IpaResult:
    """IPA of sample words of a language (epitran maps are loaded once per process)."""
    return app_ipa.transcribe(get_catalog().get(iso), words)
