"""Lexicons for languages without one: induction from parallel text, evaluation, merging.

* :mod:`~lexiconlm.lexicon.parallel` — English–target units from UDHR paragraphs, Bible verses
  (English from the public-domain World English Bible) and FLORES sentences; the held-out half.
* :mod:`~lexiconlm.lexicon.align` — eflomal, IBM Model 1 and Dice; grow-diag-final-and.
* :mod:`~lexiconlm.lexicon.induce` — entries with p(t|s), links and frequency for every language
  (``lexiconlm lexicon induce --langs all``), optionally through a pivot language.
* :mod:`~lexiconlm.lexicon.evaluate` — precision@1/@5 against dictionaries by frequency band and corpus.
* :mod:`~lexiconlm.lexicon.merge` — dictionaries + induced lexicons with per-entry provenance.
"""
