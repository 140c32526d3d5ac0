"""MASSIVE metrics: intent accuracy, micro slot F1 over BIO spans, exact match.

The definitions follow MASSIVE's evaluation after its metric fix:

* **intent accuracy**: share of utterances whose predicted intent is the gold one;
* **slot F1**: micro-averaged F1 over labelled spans, computed like seqeval's default
  (conlleval) mode over one tag per word: a span starts at ``B-X``, or at ``I-X`` after
  ``O`` or after a tag of another type, and continues over ``I-X``; each span counts
  once (spans are compared as ``(label, first word, last word)`` sets per utterance);
  ``O`` and MASSIVE's ``Other`` are outside every span. Precision (recall) is 0 when
  there is no predicted (gold) span, and F1 is 0 when both are;
* **exact match**: the intent is right and the predicted spans equal the gold spans.

Every figure is a percentage (0-100). Nothing here imports torch or seqeval; the tests
check the spans and F1 against seqeval on hand-made cases. Spans come from
:func:`lexiconlm.io.conll.bio_spans` with ``outside=OUTSIDE`` (a tag without a ``B-``/``I-``
prefix, other than ``O``/``Other``, is read as ``I-<tag>``); ``bio_spans`` is re-exported here.

Example:
    >>> bio_spans(["B-time", "I-time", "O", "I-date"], outside=OUTSIDE)
    [('time', 0, 2), ('date', 3, 4)]
    >>> round(span_f1([["B-time", "I-time"]], [["B-time", "O"]]), 1)
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from lexiconlm.errors import UnknownNameError
from lexiconlm.io.conll import bio_spans
from lexiconlm.languages import get_catalog
from lexiconlm.types import NLUDataset, Utterance

__all__ = [
    "OUTSIDE",
    "bio_spans",
    "span_counts",
    "span_f1",
    "score_tags",
    "score",
    "aggregate",
    "mean_row",
    "METRICS",
]

#: Tags outside every span (MASSIVE writes ``Other`` where BIO writes ``O``).
OUTSIDE = frozenset({"O", "Other", ""})
#: The metric keys of every result row.
METRICS = ("intent_accuracy", "slot_f1", "exact_match")


def span_counts(gold: Sequence[str], pred: Sequence[str]) -> tuple[int, int, int]:
    """(true positives, gold spans, predicted spans) of one utterance; each span counts once."""
    g = set(bio_spans(gold, outside=OUTSIDE))
    p = set(bio_spans(pred, outside=OUTSIDE))
    return len(g & p), len(g), len(p)


def _f1(tp: int, n_gold: int, n_pred: int) -> float:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def span_f1(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> float:
    """Micro slot F1 (0-100) over utterances given as tag sequences."""
    tp = ng = np_ = 0
    for g, p in zip(gold, pred, strict=True):
        a, b, c = span_counts(g, p)
        tp, ng, np_ = tp + a, ng + b, np_ + c
    return 100.0 * _f1(tp, ng, np_)


def score_tags(
    gold_intents: Sequence[str],
    pred_intents: Sequence[str],
    gold_tags: Sequence[Sequence[str]] | None = None,
    pred_tags: Sequence[Sequence[str]] | None = None,
) -> dict[str, float]:
    """The three MASSIVE figures from intents and (optionally) per-word tag sequences.

    Without tags (an intent-only system) ``slot_f1`` and ``exact_match`` are NaN.

    Returns:
        ``{"intent_accuracy", "slot_f1", "exact_match", "n"}`` (percentages; ``n`` an int).

    Raises:
        ValueError: the sequences differ in length, or a predicted tag sequence is not as
            long as its gold one.
    """
    n = len(gold_intents)
    if len(pred_intents) != n:
        raise ValueError(f"{n} gold intents but {len(pred_intents)} predicted")
    ok_intent = [g == p for g, p in zip(gold_intents, pred_intents)]
    out: dict[str, float] = {
        "intent_accuracy": 100.0 * sum(ok_intent) / n if n else float("nan"),
        "slot_f1": float("nan"),
        "exact_match": float("nan"),
        "n": n,
    }
    if gold_tags is None or pred_tags is None:
        return out
    if len(gold_tags) != n or len(pred_tags) != n:
        raise ValueError(f"{n} utterances but {len(gold_tags)} gold and {len(pred_tags)} predicted tag sequences")
    tp = ng = np_ = exact = 0
    for i, (g, p) in enumerate(zip(gold_tags, pred_tags)):
        if len(g) != len(p):
            raise ValueError(f"utterance {i}: {len(g)} gold tags but {len(p)} predicted")
        gs, ps = set(bio_spans(g, outside=OUTSIDE)), set(bio_spans(p, outside=OUTSIDE))
        tp, ng, np_ = tp + len(gs & ps), ng + len(gs), np_ + len(ps)
        exact += ok_intent[i] and gs == ps
    out["slot_f1"] = 100.0 * _f1(tp, ng, np_)
    out["exact_match"] = 100.0 * exact / n if n else float("nan")
    return out


def score(gold: NLUDataset | Sequence[Utterance], pred: Sequence[Utterance]) -> dict[str, float]:
    """Score predicted utterances against gold ones (same order, same tokens).

    ``pred[i].bio`` is compared with ``gold[i].bio``; a prediction without tokens
    (an intent-only system) gives NaN slot F1 and exact match.

    Example:
        >>> score(gold_dataset, predicted_utterances)          # doctest: +SKIP
        {'intent_accuracy': 84.1, 'slot_f1': 71.3, 'exact_match': 62.0, 'n': 2974}
    """
    g = list(gold)
    if len(g) != len(pred):
        raise ValueError(f"{len(g)} gold utterances but {len(pred)} predicted")
    bad = [p.id for u, p in zip(g, pred) if u.id != p.id]
    if bad:
        raise ValueError(f"predictions are not in the gold order (first id mismatch: {bad[0]!r})")
    intents_only = all(not p.tokens for p in pred) and any(u.tokens for u in g)
    return score_tags(
        [u.intent for u in g],
        [p.intent for p in pred],
        None if intents_only else [u.bio for u in g],
        None if intents_only else [p.bio for p in pred],
    )


def mean_row(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Unweighted mean of each metric over rows (NaNs left out; NaN when none), ``n`` summed."""
    out: dict[str, float] = {}
    for k in METRICS:
        vals = [float(r[k]) for r in rows if r.get(k) is not None and not math.isnan(float(r[k]))]
        out[k] = sum(vals) / len(vals) if vals else float("nan")
    out["n"] = int(sum(int(r.get("n", 0)) for r in rows))
    out["n_locales"] = len(rows)
    return out


def aggregate(
    per_locale: Mapping[str, Mapping[str, float]],
    *,
    exclude: Iterable[str] = ("en-US",),
) -> dict[str, dict[str, dict[str, float]]]:
    """Averages of per-locale results: overall, by script and by family (from the catalog).

    Args:
        per_locale: ``{locale: {"intent_accuracy", "slot_f1", "exact_match", "n"}}``.
        exclude: locales left out of the averages (the training language by default).

    Returns:
        ``{"mean": {"all": row}, "script": {script: row}, "family": {family: row}}``; each
        row is the unweighted mean over locales (``n_locales`` says how many).
    """
    cat = get_catalog()
    skip = set(exclude)
    groups: dict[str, dict[str, list]] = {"script": {}, "family": {}}
    rows = []
    for loc, row in sorted(per_locale.items()):
        if loc in skip:
            continue
        rows.append(row)
        script, family = locale_script_family(loc, cat)
        groups["script"].setdefault(script, []).append(row)
        groups["family"].setdefault(family, []).append(row)
    return {
        "mean": {"all": mean_row(rows)},
        "script": {k: mean_row(v) for k, v in sorted(groups["script"].items())},
        "family": {k: mean_row(v) for k, v in sorted(groups["family"].items())},
    }


def locale_script_family(locale: str, catalog=None) -> tuple[str, str]:
    """(script, family) of a locale from the catalog; ``("?", "?")`` when the catalog does not know it.

    The script is the locale's own subtag when it has one (``sr-Latn-RS``), else the
    language's first catalog script.
    """
    cat = catalog or get_catalog()
    try:
        lang = cat.lookup(locale)
    except UnknownNameError:
        return "?", "?"
    parts = locale.replace("_", "-").split("-")
    script = next((p for p in parts[1:] if len(p) == 4 and p.isalpha()), "")
    script = script.title() if script else (lang.scripts[0] if lang.scripts else "?")
    return script, lang.family or "?"
