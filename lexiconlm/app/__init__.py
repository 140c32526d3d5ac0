"""Plain functions behind the Streamlit app (``apps/lexiconlm_app.py``).

Nothing here imports streamlit: the pages (``apps/pages/*.py``, through ``apps/app_ui.py``)
wrap these functions in ``st.cache_data`` / ``st.cache_resource``, so every argument and
result is a plain, picklable value. The app and the tests call the same functions.

Modules:

* :mod:`lexiconlm.app.files` - the one path check (:func:`~lexiconlm.app.files.resolve_inside`)
  and the readers built on it: every file the app opens passes through it.
* :mod:`lexiconlm.app.context` - which config the app shows, the folders it may read
  (:class:`~lexiconlm.app.context.AppContext`), the ``streamlit run`` command.
* :mod:`lexiconlm.app.coverage` - the coverage table, resource masks and the explorer's filters.
* :mod:`lexiconlm.app.samples` - sample lexicon entries, paradigms and sentences of a language.
* :mod:`lexiconlm.app.ipa` - IPA of sample words with epitran.
* :mod:`lexiconlm.app.tokenizer` - local tokenizers and how they segment sentences.
* :mod:`lexiconlm.app.runs` - runs and benchmark tables of the run folders.
* :mod:`lexiconlm.app.tables` - result tables: language columns, metric precision, CSV downloads.

Three promises the app keeps live here:

* **It reads only the configured folders.** Every path, from a URL, a widget or a run
  folder (``run.json``, ``metrics.json``, notes, tables), goes through
  :func:`~lexiconlm.app.files.resolve_inside`, which rejects ``..``, absolute paths elsewhere
  and symlinks that lead out.
* **It never recounts resources on a page load.** :func:`~lexiconlm.app.coverage.load_coverage`
  builds the table from the statistics cache file the coverage config names (reading only
  files added or changed since), and the app keeps the result in Streamlit's cache.
* **It fails with a remedy, not a traceback.** A missing config, a missing data folder, a bad
  or refused ``run.json`` or a language without an epitran map become messages
  (:class:`~lexiconlm.app.context.AppSetupError`, :attr:`~lexiconlm.app.runs.RunInfo.problems`,
  :attr:`~lexiconlm.app.ipa.IpaResult.message`).
"""
