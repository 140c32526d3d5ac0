"""lexiconlm's coverage app: which languages have which resources, and how runs did.

Start it with ``lexiconlm app`` (or ``streamlit run apps/lexiconlm_app.py -- --config
configs/coverage/demo.yaml``). Pages: Overview, Language explorer, Runs, Downloads.
The app only reads the folders its coverage config names (see docs/run-folders.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tokenizers are loaded from local folders only
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:  # pages import app_ui from this folder
    sys.path.insert(0, str(APP_DIR))

import app_ui

st.set_page_config(page_title="lexiconlm coverage", page_icon=":material/translate:", layout="wide")

# File names differ from the URL paths on purpose: a request for /runs made before any session
# has called st.navigation must not run pages/runs.py on its own (Streamlit's pages/ folder rule).
PAGES = [
    st.Page(
        APP_DIR / "pages" / "coverage_overview.py",
        title="Overview",
        icon=":material/public:",
        url_path="overview",
        default=True,
    ),
    st.Page(
        APP_DIR / "pages" / "language_explorer.py",
        title="Language explorer",
        icon=":material/search:",
        url_path="explorer",
    ),
    st.Page(APP_DIR / "pages" / "run_results.py", title="Runs", icon=":material/monitoring:", url_path="runs"),
    st.Page(
        APP_DIR / "pages" / "csv_downloads.py", title="Downloads", icon=":material/download:", url_path="downloads"
    ),
]

page = st.navigation(PAGES)
app_ui.sidebar()
page.run()
