"""Runs: results of synthesis, adaptation, SIGMORPHON, MASSIVE and expand runs; apart from
them the batch summaries of ``lexiconlm expand --langs ...`` and the benchmark tables found in
the configured run folders (docs/run-folders.md). An expand run opens on its base-vs-expanded
table and, when it holds an NLU model, a box to try it. Things are compared in a chart only
when two or more of them report the same metric. The data logic lives in lexiconlm.app.runs;
this page lays it out."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import app_ui
import pandas as pd
import streamlit as st

from lexiconlm.app.files import PathNotAllowedError
from lexiconlm.app.runs import (
    BASE_VS_EXPANDED,
    BASE_VS_EXPANDED_FILES,
    BATCH,
    BENCHMARK,
    MIN_COMPARED,
    RUN_KINDS,
    SUMMARY_COLUMNS,
    TABLE_SUMMARY_COLUMNS,
    RunInfo,
    batch_frame,
    batch_means,
    batch_metrics,
    batch_scatter,
    comparable_metrics,
    comparison_frame,
    filter_batch,
    find_run,
    higher_is_better,
    hurt_languages,
    language_context,
    parse_view,
    runs_summary,
    tables_summary,
)
from lexiconlm.app.tables import (
    add_language_groups,
    format_metric,
    is_metric_name,
    language_column,
    metric_decimals,
    numeric_columns,
    rounded_frame,
)
from lexiconlm.errors import LexiconLMError

#: Colours of the difference column: an improvement, and a change for the worse.
BETTER, WORSE = "#1a7f37", "#cf222e"
#: Bars of the base-vs-expanded chart.
MODEL_COLOURS = alt.Scale(domain=["base", "expanded"], range=["#9aa5b1", "#2e7d5b"])


def kind_label(kind: str) -> str:
    """A kind as the page names it (loose tables are "benchmark tables", not runs)."""
    return {BENCHMARK: "benchmark tables", BATCH: "batches"}.get(kind, kind)


def value_format(metric: str) -> str:
    """A d3 number format with the metric's decimals (lexiconlm.app.tables.metric_decimals)."""
    return f",.{metric_decimals(str(metric))}f"


def frame_height(n: int, cap: int = 400) -> int:
    return min(cap, 38 + 35 * max(n, 1))


def compare(frame: pd.DataFrame, base: Sequence[str], label: str, noun: str, key: str) -> None:
    """A bar chart of one metric across the rows of ``frame`` (labelled by column ``label``),
    offered only for metrics that two or more rows report: one bar compares nothing."""
    metrics = comparable_metrics(frame, base)
    if not metrics:
        st.caption(f"A comparison chart is drawn when two or more {noun} report the same metric.")
        return
    metric = st.selectbox(f"Compare {noun} on", metrics, key=key)
    data = frame.dropna(subset=[metric])
    # plain field names: metric names hold dots (dev.accuracy), which Vega-Lite reads as nesting
    chart_data = pd.DataFrame(
        {
            "label": data[label].astype(str),
            "value": data[metric],
            "kind": data.get("kind", pd.Series(noun, index=data.index)),
        }
    )
    bars = max(120, 28 * len(data))
    st.altair_chart(
        alt.Chart(chart_data, title=f"{metric} of {len(data)} {noun}")
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=metric),
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("kind:N", title="kind"),
            tooltip=[
                alt.Tooltip("label:N", title=label),
                alt.Tooltip("kind:N"),
                alt.Tooltip("value:Q", title=metric, format=value_format(metric)),
            ],
        )
        .properties(height=bars),
        width="stretch",
        height=bars + 90,  # bars, then the title and the axis below them
    )


def pick(label: str, items: list[RunInfo], key: str) -> RunInfo:
    """A selectbox over ``items``, opened on the run named in the URL when it is one of them;
    choosing another puts it in the URL (``?run=<id>``)."""
    ids = [r.run_id for r in items]
    if url_run is not None and url_run.run_id in ids and key not in st.session_state:
        st.session_state[key] = url_run.run_id
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    by_id = {r.run_id: r for r in items}

    def to_url() -> None:
        st.query_params["run"] = st.session_state[key]

    chosen = st.selectbox(
        label,
        ids,
        key=key,
        on_change=to_url,
        format_func=lambda i: f"{by_id[i].name}  ·  {kind_label(by_id[i].kind)}  ·  {i}",
    )
    return by_id[chosen]


# ---------------------------------------------------------------------- one run


def show_comparison(run: RunInfo) -> None:
    """The base-vs-expanded table (difference green when it is an improvement, red when it
    is not) and a grouped bar chart, one row per metric since their scales differ."""
    st.markdown("##### Base vs expanded")
    if not run.comparison:
        st.caption(
            f"This run has no base-vs-expanded table (`{BASE_VS_EXPANDED}`, or `base_vs_expanded` "
            "in metrics.json): runs written before `lexiconlm expand` compared the two models "
            "lack it; run `lexiconlm expand` again on this folder to add it."
        )
        return
    frame = comparison_frame(run, rounded=False)
    values = ["base", "expanded", "difference"]
    shown = frame.drop(columns=["improved"])
    styler = shown.style
    for metric in dict.fromkeys(frame["metric"]):
        rows = frame.index[frame["metric"] == metric]
        styler = styler.format(lambda v, m=metric: format_metric(m, v), subset=pd.IndexSlice[rows, values])
    colour = frame["improved"].map({True: f"color: {BETTER}", False: f"color: {WORSE}"}).fillna("")
    styler = styler.apply(lambda _col: colour.tolist(), subset=["difference"])
    st.dataframe(styler, hide_index=True, width="stretch", height=frame_height(len(frame)))
    app_ui.download(
        "Base vs expanded (CSV)", comparison_frame(run, rounded=False), f"{run.name}-base-vs-expanded", key="dl_bve"
    )
    better, worse = int(frame["improved"].eq(True).sum()), int(frame["improved"].eq(False).sum())
    st.caption(
        f"Difference = expanded - base; green where it is an improvement given `higher_is_better` "
        f"({better} rows), red where it is not ({worse}); a difference of 0 is left uncoloured."
    )
    long = frame.melt(
        id_vars=["metric", "group"], value_vars=["base", "expanded"], var_name="model", value_name="value"
    ).dropna(subset=["value"])
    if long.empty:
        return
    long["shown"] = [format_metric(m, v) for m, v in zip(long["metric"], long["value"], strict=True)]
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("value:Q", title=None),
            y=alt.Y("group:N", title=None, axis=alt.Axis(labelLimit=200)),
            yOffset=alt.YOffset("model:N", sort=["base", "expanded"]),
            color=alt.Color("model:N", title="model", scale=MODEL_COLOURS),
            tooltip=["metric:N", "group:N", "model:N", alt.Tooltip("shown:N", title="value")],
        )
        .properties(width=460, height=alt.Step(14))
        .facet(
            row=alt.Row(
                "metric:N",
                sort=list(dict.fromkeys(frame["metric"])),  # the table's order
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left"),
            )
        )
        .resolve_scale(x="independent", y="independent")
        .properties(title="Base vs expanded, per metric")
    )
    st.altair_chart(chart, width="content")


def show_parse(view: dict) -> None:
    score = view["intent_score"]
    st.markdown(f"Intent: **{view['intent']}**" + (f" ({score:.3f})" if score is not None else ""))
    if view["slots"]:
        st.dataframe(pd.DataFrame(view["slots"]), hide_index=True, width="stretch")
    else:
        st.caption("No slot found.")
    if view["tokens"]:
        # one row per word (words may repeat, so they cannot be column names)
        st.dataframe(pd.DataFrame(view["tokens"]), hide_index=True, width="stretch")


def try_the_model(run: RunInfo) -> None:
    """A text box; on submit, the expanded and the base NLU model of the run parse it, side by side."""
    st.markdown("##### Try the model")
    with st.form("nlu_form", border=False):
        text = st.text_input("An utterance to parse", key="nlu_text", placeholder="an utterance in the run's language")
        submitted = st.form_submit_button("Parse", key="nlu_parse", icon=":material/play_arrow:")
    if submitted:
        st.session_state["nlu_parsed"] = (run.run_id, text)
    if not text.strip() or st.session_state.get("nlu_parsed") != (run.run_id, text):
        st.caption("Type an utterance and press Parse: the expanded and the base model parse it side by side.")
        return
    columns = dict(zip(("expanded", "base"), st.columns(2), strict=True))
    for which, column in columns.items():
        with column:
            st.markdown(f"**{which}**")
            try:
                with st.spinner(f"Loading the {which} model ..."):
                    predictor = app_ui.nlu_predictor(ctx, run.path, which)
                    [parse] = predictor.predict([text])
            except ImportError as exc:
                st.caption(
                    f"The models cannot be loaded in this app ({exc}): trying them needs "
                    "`lexiconlm.nlu.predict` and torch (`pip install 'lexiconlm[gpu]'`)."
                )
                return
            except LexiconLMError as exc:
                st.caption(f"No {which} model to try: {exc}")
            except (OSError, RuntimeError, ValueError) as exc:
                st.caption(f"The {which} model could not parse this: {exc.__class__.__name__}: {exc}")
            else:
                show_parse(parse_view(parse))


def show_tables(run: RunInfo, prefix: str, skip: Sequence[str] = ()) -> None:
    """Every CSV table of a run (or the benchmark table itself): rounded, downloadable, and
    per language (then by family and by script) when two or more languages can be compared."""
    context = language_context(run)
    for i, table_path in enumerate(run.tables):
        name = run.table_label(table_path)
        if name in skip:
            continue
        try:
            table = app_ui.table_of(ctx, table_path)
        except PathNotAllowedError as exc:
            st.warning(f"{name}: not read: {exc}")
            continue
        except (OSError, ValueError) as exc:
            st.warning(f"{name}: cannot be read as CSV ({exc})")
            continue
        st.markdown(f"**{name}** · {len(table):,} row{'' if len(table) == 1 else 's'}")
        st.dataframe(rounded_frame(table), hide_index=True, width="stretch", height=frame_height(len(table), 360))
        app_ui.download(f"{name} (CSV)", table, f"{run.name}-{table_path.stem}", key=f"dl_{prefix}{i}")
        col = language_column(table)
        numeric = numeric_columns(table)
        if not col or not numeric:
            continue
        preferred = [c for c in numeric if is_metric_name(c)] or numeric
        metric = st.selectbox("Metric to plot", preferred, key=f"{prefix}_tm{i}")
        grouped = add_language_groups(table, col, context=context).dropna(subset=[metric])
        unmatched = grouped[grouped["iso639_3"] == ""]
        grouped = grouped[grouped["iso639_3"] != ""]
        if len(unmatched):
            listed = ", ".join(map(str, unmatched[col].head(3)))
            st.caption(
                f"{len(unmatched)} row(s) not matched to a catalog language ({listed}"
                f"{' ...' if len(unmatched) > 3 else ''}) are left out of the charts."
            )
        if grouped[col].nunique() < MIN_COMPARED:
            st.caption(
                f"A chart per {col} is drawn when two or more different {col}s of the catalog "
                f"report {metric}; this table has {grouped[col].nunique()}."
            )
            continue
        # plain field names for Vega-Lite (column names may hold dots, brackets or colons)
        plot = pd.DataFrame(
            {
                "row": grouped[col].astype(str),
                "value": grouped[metric],
                "language_name": grouped["language_name"],
                "family": grouped["family"],
                "script": grouped["script"],
            }
        )
        fmt = value_format(str(metric))
        st.altair_chart(
            alt.Chart(plot)
            .mark_bar()
            .encode(
                x=alt.X("row:N", sort="-y", title=str(col)),
                y=alt.Y("value:Q", title=str(metric)),
                color=alt.Color("family:N", legend=None),
                tooltip=[
                    alt.Tooltip("row:N", title=str(col)),
                    "language_name",
                    "family",
                    "script",
                    alt.Tooltip("value:Q", title=str(metric), format=fmt),
                ],
            )
            .properties(title=f"{metric} per {col}", height=260),
            width="stretch",
            height=260 + 130,  # the bars, the title and the rotated labels
        )
        left, right = st.columns(2)
        for where, group in ((left, "family"), (right, "script")):
            agg = plot.groupby(group)["value"].agg(["mean", "count"]).reset_index()
            if len(agg) < MIN_COMPARED:
                where.caption(
                    f"Means by {group} are compared when the languages fall in two or more "
                    f"(all are {agg[group].iloc[0]})."
                )
                continue
            where.altair_chart(
                alt.Chart(agg)
                .mark_bar()
                .encode(
                    x=alt.X("mean:Q", title=f"mean {metric}"),
                    y=alt.Y(f"{group}:N", sort="-x", title=None),
                    tooltip=[
                        group,
                        alt.Tooltip("mean:Q", title=f"mean {metric}", format=fmt),
                        alt.Tooltip("count:Q", title="n"),
                    ],
                )
                .properties(title=f"mean {metric} by {group}", height=max(120, 22 * len(agg))),
                width="stretch",
                height=max(120, 22 * len(agg)) + 90,
            )


def show_scores(run: RunInfo) -> None:
    scores = {k: v for k, v in run.metrics.items() if not (run.is_table and k == "rows")}
    if scores:
        # a static table: a few rows, each rounded to its metric's precision (format_metric)
        st.table(
            pd.DataFrame({"metric": list(scores), "value": [format_metric(k, v) for k, v in scores.items()]}),
            hide_index=True,
        )


def show_header(run: RunInfo) -> None:
    st.markdown(f"#### {run.name}")
    m1, m2, m3 = st.columns(3)
    if run.is_table:
        m1.metric("Kind", "batch summary" if run.is_batch else "benchmark table")
        m2.metric("Languages", f"{len(run.languages):,}")
        m3.metric("Rows", format_metric("rows", run.metrics.get("rows")))
    else:
        m1.metric("Kind", run.kind)
        m2.metric("Languages", f"{len(run.languages):,}")
        m3.metric("Created", run.created or "-")
    if run.signature:
        st.caption(f"Signature: `{run.signature}`")
    for p in run.problems:
        st.warning(p)


def show_run(run: RunInfo) -> None:
    show_header(run)
    if run.kind == "expand" or run.comparison:
        show_comparison(run)
    if run.kind == "expand" and run.nlu_model:
        try_the_model(run)
    show_scores(run)
    if run.config:
        with st.expander("Config"):
            st.json(dict(run.config))
    if run.notes:
        with st.expander("Notes"):
            st.markdown(run.notes)
    if not run.tables:
        st.info("This run holds no CSV table.")
    show_tables(run, "runs", skip=BASE_VS_EXPANDED_FILES if run.comparison else ())


def show_benchmark_table(table: RunInfo) -> None:
    show_header(table)
    show_scores(table)
    if table.notes:
        with st.expander("Notes"):
            st.markdown(table.notes)
    show_tables(table, "bench")


# ---------------------------------------------------------------------- one batch


def show_batch(batch: RunInfo) -> None:
    """A batch summary: the languages (sortable, filtered by family and script), mean base
    and expanded values per family, base vs expanded per language and where expansion hurt."""
    show_header(batch)
    if batch.notes:
        with st.expander("Notes"):
            st.markdown(batch.notes)
    try:
        df = batch_frame(app_ui.table_of(ctx, batch.path))
    except PathNotAllowedError as exc:
        st.warning(f"{batch.run_id}: not read: {exc}")
        return
    except (OSError, ValueError, KeyError) as exc:
        st.warning(f"{batch.run_id}: cannot be read as a batch summary ({exc})")
        return
    metrics = batch_metrics(df.columns)
    c1, c2 = st.columns(2)
    families = c1.multiselect("Family", sorted(df["family"].unique()), key="batch_family", placeholder="every family")
    scripts = c2.multiselect("Script", sorted(df["script"].unique()), key="batch_script", placeholder="every script")
    shown = filter_batch(df, families=families, scripts=scripts)
    st.markdown(f"**{len(shown)} of {len(df)} languages in this batch**")
    if shown.empty:
        st.info("No language of this batch is in these families and scripts.", icon=":material/search_off:")
        return
    st.dataframe(rounded_frame(shown), hide_index=True, width="stretch", height=frame_height(len(shown)))
    app_ui.download("Batch summary (CSV)", shown, f"{batch.name}-summary", key="dl_batch")

    metric = st.selectbox("Metric", metrics, key="batch_metric")
    scatter = batch_scatter(shown, metric)
    if len(scatter) < MIN_COMPARED:
        st.caption(
            f"Base and expanded are plotted per language when two or more languages report both "
            f"for {metric}; {len(scatter)} of these do."
        )
    else:
        lo = float(min(scatter["base"].min(), scatter["expanded"].min()))
        hi = float(max(scatter["base"].max(), scatter["expanded"].max()))
        domain = alt.Scale(domain=[lo, hi], zero=False, nice=True)
        fmt = value_format(metric)
        diagonal = (
            alt.Chart(pd.DataFrame({"base": [lo, hi], "expanded": [lo, hi]}))
            .mark_line(color="#888", strokeDash=[4, 4])
            .encode(x="base:Q", y="expanded:Q")
        )
        points = (
            alt.Chart(scatter)
            .mark_circle(size=70, opacity=0.85)
            .encode(
                x=alt.X("base:Q", title=f"{metric}, base", scale=domain),
                y=alt.Y("expanded:Q", title=f"{metric}, expanded", scale=domain),
                color=alt.Color("script:N", title="script"),
                tooltip=[
                    alt.Tooltip("name:N", title="language"),
                    alt.Tooltip("language:N", title="code"),
                    "family:N",
                    "script:N",
                    alt.Tooltip("base:Q", format=fmt),
                    alt.Tooltip("expanded:Q", format=fmt),
                    alt.Tooltip("difference:Q", format=fmt),
                ],
            )
        )
        direction = {True: "above", False: "below"}.get(higher_is_better(metric))
        st.altair_chart(
            (diagonal + points).properties(title=f"{metric}: base vs expanded, {len(scatter)} languages", height=380),
            width="stretch",
        )
        st.caption(
            "Each point is a language; on the dashed line expansion changed nothing"
            + (f"; {direction} it, expansion helped." if direction else ".")
        )

    st.markdown("**Mean base and expanded by family**")
    means = batch_means(shown, "family")
    st.dataframe(rounded_frame(means), hide_index=True, width="stretch", height=frame_height(len(means), 360))

    hurt = hurt_languages(shown, metrics)
    scored = [m for m in metrics if higher_is_better(m)]
    if not scored:
        st.caption("No metric of this batch has a known direction (accuracy, F1, top-k ...): nothing to call hurt.")
    elif hurt.empty:
        st.success(f"Expansion lowered no score ({', '.join(scored)}) in these languages.")
    else:
        n = hurt["language"].nunique()
        st.markdown(
            f"**Expansion hurt {n} language{'s' if n != 1 else ''}**: a lower {' or '.join(scored)} than the base model"
        )
        st.dataframe(rounded_frame(hurt), hide_index=True, width="stretch", height=frame_height(len(hurt), 360))


# ---------------------------------------------------------------------- the page

st.title("Runs")
ctx = app_ui.require_context()
app_ui.show_missing_folders(ctx)

if not ctx.run_folders:
    st.info(
        f"No run folder is configured. Add one to `{ctx.config_path.name}`, e.g. "
        "`runs: [../../runs, ../../benchmarks/results]`; docs/run-folders.md describes what a "
        "run folder holds.",
        icon=":material/folder_open:",
    )
    st.stop()

found = app_ui.runs(ctx)
if not found:
    st.info(
        "No runs were found in " + ", ".join(f"`{f}`" for f in ctx.run_folders) + ". A run is a "
        "folder holding `run.json` (with `metrics.json` and CSV tables beside it); a CSV result "
        "table on its own is listed as a benchmark table. See docs/run-folders.md.",
        icon=":material/folder_open:",
    )
    st.stop()

# ---------------------------------------------------------------- the run named in the URL
url_run: RunInfo | None = None
if "run" in st.query_params:
    asked = str(st.query_params["run"])
    try:
        url_run = find_run(asked, found, ctx.run_folders)
    except PathNotAllowedError as exc:
        st.error(f"The run in the link cannot be opened: {exc}", icon=":material/block:")
        del st.query_params["run"]

# ---------------------------------------------------------------- filters
kinds = [k for k in (*RUN_KINDS, "unknown") if any(r.kind == k for r in found)]
f1, f2 = st.columns([3, 2])
picked = f1.pills("Show", kinds, selection_mode="multi", key="runs_kind", format_func=kind_label) or kinds
query = f2.text_input("Filter", key="runs_q", placeholder="a run name or a language code").strip().lower()


def wanted(r: RunInfo) -> bool:
    return r.kind in picked and (not query or query in r.name.lower() or query in (x.lower() for x in r.languages))


all_runs = [r for r in found if not r.is_table]
all_batches = [r for r in found if r.kind == BATCH]
all_tables = [r for r in found if r.kind == BENCHMARK]


def listed(items: list[RunInfo]) -> list[RunInfo]:
    """The items the filters keep, plus the one the URL names (so a link always opens it)."""
    out = [r for r in items if wanted(r)]
    ids = {r.run_id for r in out}
    if url_run is not None and url_run.run_id not in ids and any(r.run_id == url_run.run_id for r in items):
        out.insert(0, url_run)
    return out


runs, batches, tables = listed(all_runs), listed(all_batches), listed(all_tables)
if not runs and not batches and not tables:
    st.info(
        "No run, batch or benchmark table matches these filters: clear the filter box or pick other kinds.",
        icon=":material/search_off:",
    )
    st.stop()

# ---------------------------------------------------------------- runs: compared, then one
st.subheader("Runs")
if not all_runs:
    st.caption(
        "No run (a folder holding `run.json`) is in the run folders; only batch summaries or "
        "benchmark tables are. docs/run-folders.md describes a run folder."
    )
else:
    st.markdown(f"**{len(runs)} of {len(all_runs)} runs**")
    if runs:
        summary = pd.DataFrame(runs_summary(runs))
        st.dataframe(rounded_frame(summary), hide_index=True, width="stretch", height=frame_height(len(summary)))
        app_ui.download("Runs (CSV)", summary, "runs", key="dl_runs")
        compare(summary, SUMMARY_COLUMNS, "name", "runs", "runs_metric")
        show_run(pick("Run", runs, "runs_pick"))
    else:
        st.caption("No run matches these filters.")

# ---------------------------------------------------------------- batches of expand runs
if all_batches:
    st.subheader("Batches")
    st.markdown(f"**{len(batches)} of {len(all_batches)} batches**")
    st.caption(
        "Summaries of `lexiconlm expand --langs ...` (`summary.csv`): one row per language with "
        "its base and expanded scores."
    )
    if batches:
        show_batch(pick("Batch", batches, "runs_batch"))
    else:
        st.caption("No batch matches these filters.")

# ---------------------------------------------------------------- benchmark tables, apart
if all_tables:
    st.subheader("Benchmark tables")
    st.markdown(f"**{len(tables)} of {len(all_tables)} benchmark tables**")
    st.caption(
        "CSV result tables outside any run (such as `benchmarks/results/*.csv`): one "
        "row per table, with its number of rows and the mean of each score column over "
        "its language rows."
    )
    if tables:
        table_summary = pd.DataFrame(tables_summary(tables))
        st.dataframe(
            rounded_frame(table_summary), hide_index=True, width="stretch", height=frame_height(len(table_summary))
        )
        app_ui.download("Benchmark tables (CSV)", table_summary, "benchmark-tables", key="dl_tables")
        compare(table_summary, TABLE_SUMMARY_COLUMNS, "name", "benchmark tables", "tables_metric")
        show_benchmark_table(pick("Benchmark table", tables, "runs_table"))
    else:
        st.caption("No benchmark table matches these filters.")
