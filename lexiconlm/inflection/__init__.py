"""SIGMORPHON morphological inflection: official metrics and the affix-rule baseline.

This package is import-light: :mod:`lexiconlm.inflection.metrics` and
:mod:`lexiconlm.inflection.affix` are pure Python (no torch, no numpy). Import
the submodules directly::

    from lexiconlm.inflection.metrics import evaluate, evaluate_2022
    from lexiconlm.inflection.affix import AffixBaseline
"""

__all__: list[str] = []
