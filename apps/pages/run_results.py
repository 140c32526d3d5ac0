"""Runs: results of synthesis, adaptation, SIGMORPHON and MASSIVE runs, and benchmark tables,
found in the configured run folders (docs/run-folders.md), compared by family and script."""

from __future__ import annotations

import altair as alt
import app_ui
import pandas as pd
import streamlit as st

from lexiconlm import app_support as sup

BASE_COLUMNS = {"run", "name", "kind", "languages", "created", "signature", "tables", "problems"}

st.title("Runs")
ctx = app_ui.require_context()
app_ui.show_missing_folders(ctx)

if not ctx.run_folders:
    st.info(
        f"No run folder is configured. Add one to `{ctx.config_path.name}`, e.g. "
        "`runs: [../../runs, ../../benchmarks/results]`; docs/run-folders.md describes what a "
        "run folder holds.", icon=":material/folder_open:",
    )
    st.stop()

all_runs = app_ui.runs(ctx)
if not all_runs:
    st.info(
        "No runs were found in " + ", ".join(f"`{f}`" for f in ctx.run_folders) + ". A run is a "
        "folder holding `run.json` (with `metrics.json` and CSV tables beside it); a CSV result "
        "table on its own is shown as a benchmark run. See docs/run-folders.md.",
        icon=":material/folder_open:",
    )
    st.stop()

# ---------------------------------------------------------------- the run named in the URL
url_run: sup.RunInfo | None = None
if "run" in st.query_params:
    asked = str(st.query_params["run"])
    try:
        url_run = sup.find_run(asked, all_runs, ctx.run_folders)
    except sup.PathNotAllowedError as exc:
        st.error(f"The run in the link cannot be opened: {exc}", icon=":material/block:")
        del st.query_params["run"]

# ---------------------------------------------------------------- filters
kinds = [k for k in (*sup.RUN_KINDS, "unknown") if any(r.kind == k for r in all_runs)]
f1, f2 = st.columns([3, 2])
picked = f1.pills("Kind", kinds, selection_mode="multi", key="runs_kind") or kinds
query = f2.text_input("Filter", key="runs_q", placeholder="a run name or a language code").strip().lower()
runs = [
    r for r in all_runs
    if r.kind in picked
    and (not query or query in r.name.lower() or query in (x.lower() for x in r.languages))
]
st.markdown(f"**{len(runs)} of {len(all_runs)} runs**")
if not runs:
    st.info("No run matches these filters: clear the filter box or pick other kinds.",
            icon=":material/search_off:")
    st.stop()

summary = pd.DataFrame(sup.runs_summary(runs))
st.dataframe(summary, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(summary)))
app_ui.download("Runs (CSV)", summary, "runs", key="dl_runs")

# ---------------------------------------------------------------- compare runs on one metric
metric_cols = [c for c in summary.columns if c not in BASE_COLUMNS
               and pd.api.types.is_numeric_dtype(summary[c]) and summary[c].notna().sum() > 0]
if metric_cols:
    st.subheader("Compare runs")
    metric = st.selectbox("Metric", metric_cols, key="runs_metric")
    data = summary.dropna(subset=[metric])
    st.altair_chart(
        alt.Chart(data).mark_bar().encode(
            x=alt.X(f"{metric}:Q", title=metric),
            y=alt.Y("name:N", sort="-x", title=None),
            color=alt.Color("kind:N", title="kind"),
            tooltip=["run", "kind", metric],
        ).properties(height=max(120, 24 * len(data))),
        width="stretch",
    )

# ---------------------------------------------------------------- one run
st.subheader("Run")
ids = [r.run_id for r in runs]
if url_run is not None and url_run.run_id not in ids:
    runs.insert(0, url_run)
    ids.insert(0, url_run.run_id)
if url_run is not None and "runs_pick" not in st.session_state:
    st.session_state["runs_pick"] = url_run.run_id
if st.session_state.get("runs_pick") not in ids:
    st.session_state["runs_pick"] = ids[0]
by_id = {r.run_id: r for r in runs}
run_id = st.selectbox("Run", ids, key="runs_pick",
                      format_func=lambda i: f"{by_id[i].name}  ·  {by_id[i].kind}  ·  {i}")
st.query_params["run"] = run_id
run = by_id[run_id]

m1, m2, m3 = st.columns(3)
m1.metric("Kind", run.kind)
m2.metric("Languages", f"{len(run.languages):,}")
m3.metric("Created", run.created or "-")
if run.signature:
    st.caption(f"Signature: `{run.signature}`")
for p in run.problems:
    st.warning(p)
if run.metrics:
    st.dataframe(pd.DataFrame({"metric": list(run.metrics), "value": [str(v) for v in run.metrics.values()]}),
                 hide_index=True, width="stretch")
if run.config:
    with st.expander("Config"):
        st.json(dict(run.config))
if run.notes:
    with st.expander("Notes"):
        st.markdown(run.notes)
if not run.tables:
    st.info("This run holds no CSV table.")

context = sup.language_context(run)
for i, table_path in enumerate(run.tables):
    name = table_path.relative_to(run.path).as_posix() if table_path != run.path else table_path.name
    try:
        table = app_ui.table_of(ctx, table_path)
    except (OSError, ValueError) as exc:
        st.warning(f"{name}: cannot be read as CSV ({exc})")
        continue
    st.markdown(f"**{name}** · {len(table):,} rows")
    st.dataframe(table, hide_index=True, width="stretch", height=min(360, 38 + 35 * len(table)))
    app_ui.download(f"{name} (CSV)", table, f"{run.name}-{table_path.stem}", key=f"dl_t{i}")
    col = sup.language_column(table)
    numeric = sup.numeric_columns(table)
    if not col or not numeric:
        continue
    preferred = [c for c in numeric if sup.is_metric_name(c)] or numeric
    metric = st.selectbox("Metric to plot", preferred, key=f"runs_tm{i}")
    grouped = sup.add_language_groups(table, col, context=context).dropna(subset=[metric])
    unmatched = grouped[grouped["iso639_3"] == ""]
    grouped = grouped[grouped["iso639_3"] != ""]
    if len(unmatched):
        shown = ", ".join(map(str, unmatched[col].head(3)))
        st.caption(f"{len(unmatched)} row(s) not matched to a catalog language ({shown}"
                   f"{' ...' if len(unmatched) > 3 else ''}) are left out of the charts.")
    if grouped.empty:
        continue
    per_lang = (
        alt.Chart(grouped).mark_bar().encode(
            x=alt.X(f"{col}:N", sort="-y", title=col),
            y=alt.Y(f"{metric}:Q", title=metric),
            color=alt.Color("family:N", legend=None),
            tooltip=[col, "language_name", "family", "script", metric],
        ).properties(title=f"{metric} per {col}", height=260)
    )
    st.altair_chart(per_lang, width="stretch")
    left, right = st.columns(2)
    for where, group in ((left, "family"), (right, "script")):
        agg = grouped.groupby(group)[metric].agg(["mean", "count"]).reset_index()
        agg = agg.rename(columns={"mean": metric, "count": "n"})
        where.altair_chart(
            alt.Chart(agg).mark_bar().encode(
                x=alt.X(f"{metric}:Q", title=f"mean {metric}"),
                y=alt.Y(f"{group}:N", sort="-x", title=None),
                tooltip=[group, alt.Tooltip(f"{metric}:Q", format=".3f"), "n"],
            ).properties(title=f"mean {metric} by {group}", height=max(120, 22 * len(agg))),
            width="stretch",
        )
