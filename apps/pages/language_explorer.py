"""Language explorer: filter the catalog by resources, then open one language's page
(resources, sample lexicon entries and paradigms, IPA of sample words, tokenizer segmentation)."""

from __future__ import annotations

import app_ui
import pandas as pd
import streamlit as st

from lexiconlm.app.coverage import RESOURCE_LABELS, filter_languages, split_scripts
from lexiconlm.app.tokenizer import segment_sentences
from lexiconlm.errors import LexiconLMError, UnknownLanguageError
from lexiconlm.languages import get_catalog

LIST_COLUMNS = [
    "iso639_3",
    "name",
    "family",
    "scripts",
    "macroarea",
    "speakers",
    "tier_label",
    "lex_total_entries",
    "unimorph_forms",
    "sigmorphon_editions",
    "nlu_sets",
    "text_segments",
    "epitran",
]

st.title("Language explorer")
ctx = app_ui.require_context()
app_ui.show_missing_folders(ctx)
df, _ = app_ui.coverage(ctx)
catalog = get_catalog()

# ---------------------------------------------------------------- the language named in the URL
url_lang: str | None = None
if "lang" in st.query_params:
    asked = str(st.query_params["lang"])
    try:
        url_lang = catalog.lookup(asked).iso639_3
    except UnknownLanguageError as exc:
        st.warning(f"The link names a language the catalog does not know. {exc}")
    if url_lang is not None and "ex_lang" not in st.session_state:
        st.session_state["ex_lang"] = url_lang

# ---------------------------------------------------------------- filters
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
search = c1.text_input("Search", key="ex_search", placeholder="a name or code, e.g. Indonesian or ind")
families = sorted(x for x in df["family"].dropna().astype(str).unique() if x)
family = c2.selectbox("Family", ["All", *families], key="ex_family")
scripts = sorted({s for v in df["scripts"].dropna() for s in split_scripts(v)})
script = c3.selectbox("Script", ["All", *scripts], key="ex_script")
areas = sorted(x for x in df["macroarea"].dropna().astype(str).unique() if x)
area = c4.selectbox("Macroarea", ["All", *areas], key="ex_area")
d1, d2 = st.columns([2, 3])
tiers = d1.multiselect("Tier", app_ui.tier_order(df), key="ex_tier")
has = d2.pills("Has", list(RESOURCE_LABELS.values()), selection_mode="multi", key="ex_has") or []

found = filter_languages(
    df,
    search=search,
    family=None if family == "All" else family,
    script=None if script == "All" else script,
    macroarea=None if area == "All" else area,
    tiers=tiers,
    has=has,
    flags=app_ui.resource_flags(ctx),
)
found = found.sort_values(["tier", "lex_total_entries", "speakers"], ascending=False, na_position="last")

st.markdown(f"**{len(found):,} languages match** (of {len(df):,})")
if found.empty:
    st.info(
        "No language matches these filters. Clear the search box, or pick fewer resources under “Has”.",
        icon=":material/search_off:",
    )
else:
    shown = found[[c for c in LIST_COLUMNS if c in found.columns]]
    st.dataframe(shown.head(1000), hide_index=True, width="stretch", height=300)
    if len(found) > 1000:
        st.caption("The first 1,000 are shown; the download has them all.")
    app_ui.download("Matching languages (CSV)", found, "languages", key="dl_languages")

# ---------------------------------------------------------------- one language
codes = list(found["iso639_3"])
if url_lang and url_lang not in codes:
    codes.insert(0, url_lang)
if not codes:
    st.stop()
names = dict(zip(df["iso639_3"], df["name"]))
if st.session_state.get("ex_lang") not in codes:
    st.session_state["ex_lang"] = codes[0]
iso = st.selectbox("Language", codes, key="ex_lang", format_func=lambda c: f"{names.get(c, c)} ({c})")
st.query_params["lang"] = iso
lang = catalog.get(iso)
row = df[df["iso639_3"] == iso].iloc[0].to_dict()

st.header(f"{lang.name} ({iso})")
f1, f2, f3, f4 = st.columns(4)
f1.metric("Family", lang.family or "-", help=f"genus: {lang.genus or '-'}")
f2.metric("Scripts", " ".join(lang.scripts) or "-")
f3.metric("Speakers", f"{lang.speakers:,}" if lang.speakers else "-")
f4.metric("Tier", str(row.get("tier_label", "-")))
st.caption(
    f"Macroarea: {lang.macroarea or '-'} · endangerment: {lang.endangerment or '-'} · "
    f"tag: `{lang.tag()}` · glottocode: {lang.glottocode or '-'}"
)


def resources_of(r: dict) -> pd.DataFrame:
    items = []
    for col, value in r.items():
        if col.startswith("lex_") and col.endswith("_entries") and col != "lex_total_entries" and value:
            items.append(("lexicon", col[4:-8], f"{int(value):,} entries"))
    if r.get("unimorph_forms"):
        amount = (
            f"{int(r['unimorph_lemmas']):,} lemmas, {int(r['unimorph_forms']):,} forms, "
            f"{r.get('unimorph_n_dimensions', 0)} dimensions"
        )
        items.append(("UniMorph", "unimorph", amount))
    if r.get("sigmorphon_editions"):
        items.append(
            (
                "SIGMORPHON",
                str(r["sigmorphon_editions"]),
                f"up to {int(r.get('sigmorphon_max_train') or 0):,} training items",
            )
        )
    if r.get("nlu_sets"):
        items.append(("NLU", str(r["nlu_sets"]), f"{int(r.get('nlu_examples') or 0):,} examples"))
    for col, value in r.items():
        if col.startswith("text_") and col.endswith("_segments") and col != "text_segments" and value:
            items.append(("text", col[5:-9], f"{int(value):,} segments"))
    if r.get("epitran"):
        items.append(("epitran", str(r["epitran"]), "grapheme-to-phoneme map"))
    return pd.DataFrame(items, columns=["resource", "source", "amount"])


res = resources_of(row)
st.subheader("Resources")
if (res["resource"] == "epitran").all():
    st.info(f"No configured resource has data for {lang.name}.")
if not res.empty:
    st.dataframe(res, hide_index=True, width="stretch")

found_samples = app_ui.samples(ctx, iso)
rows = found_samples["lexicon"]
pars = found_samples["paradigms"]
sentences = found_samples["sentences"]

tab_lex, tab_par, tab_ipa, tab_tok = st.tabs(["Lexicon", "Paradigms", "IPA", "Tokenizer"])

with tab_lex:
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.info(f"No lexicon entries for {lang.name} in the configured lexicon folders.")
    for n in found_samples["lexicon_notes"]:
        st.warning(n)

with tab_par:
    if pars:
        cols = st.columns(min(3, len(pars)))
        for i, (title, entries) in enumerate(pars.items()):
            with cols[i % len(cols)]:
                st.markdown(f"**{title}**")
                st.dataframe(pd.DataFrame(entries), hide_index=True, width="stretch")
    else:
        st.info(f"No UniMorph table or SIGMORPHON training file for {lang.name} in the configured folders.")
    for n in found_samples["paradigm_notes"]:
        st.warning(n)

with tab_ipa:
    words = [r["target"] for r in rows if " " not in r["target"]][:10]
    if not words:
        words = [e["form"] for entries in pars.values() for e in entries if e.get("form")][:10]
    if not words:
        words = [w for s in sentences for w in s["text"].split()][:10]
    ipa = app_ui.ipa(iso, tuple(words))
    if ipa.rows:
        st.caption(f"epitran map `{ipa.code}`")
        st.dataframe(pd.DataFrame(ipa.rows, columns=["word", "IPA"]), hide_index=True, width="stretch")
    else:
        st.info(ipa.message)

with tab_tok:
    choices = app_ui.tokenizers(ctx)
    if not sentences:
        st.info(f"No sample sentences for {lang.name}: no text corpus or NLU set of it is configured.")
    elif not choices:
        st.info(
            "No tokenizer to show: start the app with `lexiconlm app --tokenizer PATH` (a "
            "`tokenizer.json` or a local model folder), or keep the `tokenizer.json` of an "
            "adaptation run in a run folder."
        )
    else:
        pick = st.selectbox("Tokenizer", list(choices), key="ex_tok", format_func=lambda k: choices[k])
        try:
            tok = app_ui.load_tokenizer(ctx, pick)
        except LexiconLMError as exc:
            st.error(str(exc))
        else:
            st.dataframe(
                pd.DataFrame(segment_sentences(tok, [s["text"] for s in sentences])), hide_index=True, width="stretch"
            )
    for n in found_samples["sentence_notes"]:
        st.warning(n)
