"""Downloads: every table the app shows, as CSV."""

from __future__ import annotations

import app_ui
import streamlit as st

from lexiconlm.app.runs import runs_summary, tables_summary

st.title("Downloads")
ctx = app_ui.require_context()
app_ui.show_missing_folders(ctx)
df, sources = app_ui.coverage(ctx)

st.markdown("Every table is written as UTF-8 CSV when its button is clicked.")

st.subheader("Coverage")
st.caption(
    f"One row per catalog language ({len(df):,} rows, {len(df.columns)} columns). Signature: `{app_ui.signature(ctx)}`"
)
app_ui.download("Coverage table", df, "coverage", key="dl_coverage")
for by in app_ui.GROUPINGS:
    app_ui.download(
        f"Coverage by {by}", lambda by=by: app_ui.aggregate_frame(ctx, by), f"coverage-by-{by}", key=f"dl_by_{by}"
    )
app_ui.download("Sources counted", app_ui.sources_frame(sources), "coverage-sources", key="dl_sources")

st.subheader("Runs and benchmark tables")
found = app_ui.runs(ctx) if ctx.run_folders else []
runs = [r for r in found if not r.is_table]
tables = [r for r in found if r.is_table]
if not found:
    st.info("No runs were found in the configured run folders (see docs/run-folders.md).")
else:
    if runs:
        app_ui.download("Runs summary", lambda: runs_summary(runs), "runs", key="dl_runs_all")
    if tables:
        app_ui.download(
            "Benchmark tables summary", lambda: tables_summary(tables), "benchmark-tables", key="dl_tables_all"
        )
    for i, run in enumerate(found):
        for j, path in enumerate(run.tables):
            label = run.table_label(path)
            app_ui.download(
                f"{run.name} · {label}",
                lambda p=path: app_ui.table_of(ctx, p),
                f"{run.name}-{path.stem}",
                key=f"dl_run_{i}_{j}",
            )
