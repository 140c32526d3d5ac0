"""Overview: how many languages have which resources, by family and by script, and where
they are."""

from __future__ import annotations

import altair as alt
import app_ui
import pandas as pd
import streamlit as st

from lexiconlm.app.coverage import RESOURCE_LABELS, split_scripts

TOP_N = 20

st.title("Language resource coverage")
ctx = app_ui.require_context()
app_ui.show_missing_folders(ctx)
df, sources = app_ui.coverage(ctx)

if df.empty:
    st.info(
        "The coverage table is empty: the language catalog has no rows. "
        "Check `resources/languages.tsv` (or `$LEXICONLM_RESOURCES`)."
    )
    st.stop()

# ---------------------------------------------------------------- filters
c1, c2, c3 = st.columns([2, 2, 3])
areas = sorted(a for a in df["macroarea"].dropna().astype(str).unique() if a)
area = c1.selectbox("Macroarea", ["All", *areas], key="ov_area")
only_res = c2.checkbox(
    "Only languages with resources",
    key="ov_only",
    value=False,
    help="Hide languages for which no configured resource holds anything.",
)
view = df if area == "All" else df[df["macroarea"] == area]
if only_res:
    view = view[app_ui.any_resource(view)]

tier_order = app_ui.tier_order(df)
c3.caption(
    f"{len(view):,} of {len(df):,} catalog languages shown. Tiers, each adding to the one "
    "below: " + " < ".join(tier_order) + " (resources/tiers.tsv)."
)

if view.empty:
    st.info("No language matches these filters. Choose another macroarea or untick “Only languages with resources”.")
    st.stop()

# ---------------------------------------------------------------- counts
st.caption("Languages, and how many of them each resource has")
flags = app_ui.resource_flags(ctx).loc[view.index]
cols = st.columns(len(RESOURCE_LABELS) + 1)
cols[0].metric("Languages", f"{len(view):,}")
for col, (res, label) in zip(cols[1:], RESOURCE_LABELS.items()):
    col.metric(label, f"{int(flags[res].sum()):,}")

# ---------------------------------------------------------------- charts by family and script
tier_scale = alt.Scale(domain=tier_order, range=list(app_ui.TIER_COLOURS[: len(tier_order)]))


def stacked(frame: pd.DataFrame, group: str, title: str) -> alt.Chart:
    counts = frame.groupby([group, "tier_label"], dropna=False).size().reset_index(name="languages")
    totals = counts.groupby(group)["languages"].sum().sort_values(ascending=False)
    keep = list(totals.index[:TOP_N])
    counts = counts[counts[group].isin(keep)]
    return (
        alt.Chart(counts, title=title)
        .mark_bar()
        .encode(
            x=alt.X("languages:Q", title="languages"),
            y=alt.Y(f"{group}:N", sort=keep, title=None, axis=alt.Axis(labelOverlap=False, labelLimit=170)),
            color=alt.Color(
                "tier_label:N", scale=tier_scale, title="tier", legend=alt.Legend(orient="bottom", columns=2)
            ),
            tooltip=[group, "tier_label", "languages"],
        )
        .properties(height=24 * len(keep))
    )


fam = view.assign(family=view["family"].fillna("").replace("", "(no family)"))
scr = view.assign(script=view["scripts"].map(lambda s: (split_scripts(s) or ["(none)"])[0]))
left, right = st.columns(2)
CHART_HEIGHT = 24 * TOP_N + 190  # bars, axis and the legend below
left.altair_chart(stacked(fam, "family", f"Languages by family (top {TOP_N})"), width="stretch", height=CHART_HEIGHT)
right.altair_chart(
    stacked(scr, "script", f"Languages by main script (top {TOP_N})"), width="stretch", height=CHART_HEIGHT
)

# ---------------------------------------------------------------- map
st.subheader("Where the languages are")
geo = view.assign(
    latitude=pd.to_numeric(view["latitude"], errors="coerce"),
    longitude=pd.to_numeric(view["longitude"], errors="coerce"),
).dropna(subset=["latitude", "longitude"])
if geo.empty:
    st.info("None of these languages has coordinates in the catalog.")
else:
    geo = geo[["iso639_3", "name", "family", "latitude", "longitude", "tier", "tier_label"]].round(
        {"latitude": 2, "longitude": 2}
    )
    background = alt.Chart(alt.sphere()).mark_geoshape(fill="#eef3f8", stroke="#c9d6e3")
    grid = alt.Chart(alt.graticule(step=[30, 30])).mark_geoshape(stroke="#d5dde6", strokeWidth=0.5)
    # Languages without resources (most of the catalog) are drawn as a light layer with only
    # coordinates, so the chart's inline data stays small and the page renders fast.
    bare = geo[geo["tier"] <= 0][["latitude", "longitude"]]
    rich = geo[geo["tier"] > 0].sort_values("tier")
    dots = (
        alt.Chart(bare)
        .mark_circle(size=8, opacity=0.6, color=app_ui.TIER_COLOURS[0])
        .encode(longitude="longitude:Q", latitude="latitude:Q")
    )
    points = dots + (
        alt.Chart(rich)
        .mark_circle(size=28, opacity=0.85)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            color=alt.Color("tier_label:N", scale=tier_scale, title="tier"),
            tooltip=["name", "iso639_3", "family", "tier_label"],
        )
    )
    st.altair_chart(
        (background + grid + points).project("equalEarth").properties(height=400),
        width="stretch",
    )
    st.caption(f"{len(geo):,} languages with coordinates (catalog: Glottolog/WALS points).")

# ---------------------------------------------------------------- aggregate table
st.subheader("Coverage by group")
by = st.radio("Group by", list(app_ui.GROUPINGS), horizontal=True, key="ov_by")
agg = app_ui.aggregate_frame(ctx, by, area, only_res)
st.markdown(f"**Coverage by {by}** ({len(agg):,} groups)")
st.dataframe(agg, hide_index=True, width="stretch", height=320)
app_ui.download(f"Coverage by {by} (CSV)", agg, f"coverage-by-{by}", key=f"dl_agg_{by}")

with st.expander("Sources counted"):
    if sources:
        st.dataframe(app_ui.sources_frame(sources), hide_index=True, width="stretch")
    else:
        st.write("No resource folders are configured.")
