"""``lexiconlm expand``: the end-to-end pipeline (ingest, synthesise, adapt, fine-tune,
evaluate, report) with cached, resumable steps and run folders."""
