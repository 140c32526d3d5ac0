"""Runs: results of synthesis, adaptation, SIGMORPHON, MASSIVE and expand runs, and, apart
from them, the benchmark tables found in the configured run folders (docs/run-folders.md).
Runs are compared on a metric when two or more report it; each table is plotted per
language and averaged by family and by script."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import app_ui
import pandas as pd
import streamlit as st

from lexiconlm.app.files import PathNotAllowedError
from lexiconlm.app.runs import (
    BENCHMARK,
    RUN_KINDS,
    SUMMARY_COLUMNS,
    TABLE_SUMMARY_COLUMNS,
    RunInfo,
    find_run,
    language_context,
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


def kind_label(kind: str) -> str:
    """A kind as the page names it (loose tables are "benchmark tables", not runs)."""
    return "benchmark tables" if kind == BENCHMARK else kind


def compare(frame: pd.DataFrame, base: Sequence[str], label: str, noun: str, key: str) -> None:
    """A bar chart of one metric across the rows of ``frame`` (labelled by column ``label``),
    offered only for metrics that two or more rows report: one bar compares nothing."""
    metrics = [
        c
        for c in frame.columns
        if c not in base and pd.api.types.is_numeric_dtype(frame[c]) and frame[c].notna().sum() >= 2
    ]
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
                alt.Tooltip("value:Q", title=metric, format=f",.{metric_decimals(metric)}f"),
            ],
        )
        .properties(height=bars),
        width="stretch",
        height=bars + 90,  # bars, then the title and the axis below them
    )


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
all_tables = [r for r in found if r.is_table]
runs = [r for r in all_runs if wanted(r)]
tables = [r for r in all_tables if wanted(r)]
if not runs and not tables:
    st.info(
        "No run or benchmark table matches these filters: clear the filter box or pick other kinds.",
        icon=":material/search_off:",
    )
    st.stop()

# ---------------------------------------------------------------- runs, compared
st.subheader("Runs")
if not all_runs:
    st.caption(
        "No run (a folder holding `run.json`) is in the run folders; only benchmark "
        "tables are. docs/run-folders.md describes a run folder."
    )
else:
    st.markdown(f"**{len(runs)} of {len(all_runs)} runs**")
    if runs:
        summary = pd.DataFrame(runs_summary(runs))
        st.dataframe(rounded_frame(summary), hide_index=True, width="stretch", height=min(400, 38 + 35 * len(summary)))
        app_ui.download("Runs (CSV)", summary, "runs", key="dl_runs")
        compare(summary, SUMMARY_COLUMNS, "name", "runs", "runs_metric")
    else:
        st.caption("No run matches these filters.")

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
            rounded_frame(table_summary),
            hide_index=True,
            width="stretch",
            height=min(400, 38 + 35 * len(table_summary)),
        )
        app_ui.download("Benchmark tables (CSV)", table_summary, "benchmark-tables", key="dl_tables")
        compare(table_summary, TABLE_SUMMARY_COLUMNS, "name", "benchmark tables", "tables_metric")
    else:
        st.caption("No benchmark table matches these filters.")

# ---------------------------------------------------------------- one run or table
st.subheader("Details")
shown = [*runs, *tables]
ids = [r.run_id for r in shown]
if url_run is not None and url_run.run_id not in ids:
    shown.insert(0, url_run)
    ids.insert(0, url_run.run_id)
if url_run is not None and "runs_pick" not in st.session_state:
    st.session_state["runs_pick"] = url_run.run_id
if st.session_state.get("runs_pick") not in ids:
    st.session_state["runs_pick"] = ids[0]
by_id = {r.run_id: r for r in shown}
run_id = st.selectbox(
    "Run or benchmark table",
    ids,
    key="runs_pick",
    format_func=lambda i: f"{by_id[i].name}  ·  {kind_label(by_id[i].kind)}  ·  {i}",
)
st.query_params["run"] = run_id
run = by_id[run_id]

st.markdown(f"#### {run.name}")
m1, m2, m3 = st.columns(3)
if run.is_table:
    m1.metric("Kind", "benchmark table")
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
scores = {k: v for k, v in run.metrics.items() if not (run.is_table and k == "rows")}
if scores:
    # a static table: a few rows, each rounded to its metric's precision (format_metric)
    st.table(
        pd.DataFrame({"metric": list(scores), "value": [format_metric(k, v) for k, v in scores.items()]}),
        hide_index=True,
    )
if run.config:
    with st.expander("Config"):
        st.json(dict(run.config))
if run.notes:
    with st.expander("Notes"):
        st.markdown(run.notes)
if not run.tables:
    st.info("This run holds no CSV table.")

context = language_context(run)
for i, table_path in enumerate(run.tables):
    name = run.table_label(table_path)
    try:
        table = app_ui.table_of(ctx, table_path)
    except PathNotAllowedError as exc:
        st.warning(f"{name}: not read: {exc}")
        continue
    except (OSError, ValueError) as exc:
        st.warning(f"{name}: cannot be read as CSV ({exc})")
        continue
    st.markdown(f"**{name}** · {len(table):,} rows")
    st.dataframe(rounded_frame(table), hide_index=True, width="stretch", height=min(360, 38 + 35 * len(table)))
    app_ui.download(f"{name} (CSV)", table, f"{run.name}-{table_path.stem}", key=f"dl_t{i}")
    col = language_column(table)
    numeric = numeric_columns(table)
    if not col or not numeric:
        continue
    preferred = [c for c in numeric if is_metric_name(c)] or numeric
    metric = st.selectbox("Metric to plot", preferred, key=f"runs_tm{i}")
    grouped = add_language_groups(table, col, context=context).dropna(subset=[metric])
    unmatched = grouped[grouped["iso639_3"] == ""]
    grouped = grouped[grouped["iso639_3"] != ""]
    if len(unmatched):
        listed = ", ".join(map(str, unmatched[col].head(3)))
        st.caption(
            f"{len(unmatched)} row(s) not matched to a catalog language ({listed}"
            f"{' ...' if len(unmatched) > 3 else ''}) are left out of the charts."
        )
    if grouped.empty:
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
    value_format = f",.{metric_decimals(str(metric))}f"
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
                alt.Tooltip("value:Q", title=str(metric), format=value_format),
            ],
        )
        .properties(title=f"{metric} per {col}", height=260),
        width="stretch",
        height=260 + 130,  # the bars, the title and the rotated labels
    )
    left, right = st.columns(2)
    for where, group in ((left, "family"), (right, "script")):
        agg = plot.groupby(group)["value"].agg(["mean", "count"]).reset_index()
        where.altair_chart(
            alt.Chart(agg)
            .mark_bar()
            .encode(
                x=alt.X("mean:Q", title=f"mean {metric}"),
                y=alt.Y(f"{group}:N", sort="-x", title=None),
                tooltip=[
                    group,
                    alt.Tooltip("mean:Q", title=f"mean {metric}", format=value_format),
                    alt.Tooltip("count:Q", title="n"),
                ],
            )
            .properties(title=f"mean {metric} by {group}", height=max(120, 22 * len(agg))),
            width="stretch",
            height=max(120, 22 * len(agg)) + 90,
        )
