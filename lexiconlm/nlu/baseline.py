"""Classical intent baseline: character n-gram TF-IDF + logistic regression (scikit-learn).

Fast on any CPU and needs no model download: trained on en-US train (optionally plus
pseudo-labelled data), it gives intent accuracy on every locale (no slots: slot F1 and
exact match are reported as empty). Character n-grams inside word boundaries
(``char_wb``) transfer to languages that share words or sub-words with the training
data and fall to near chance for other scripts: the floor every model must beat.

Example:
    >>> clf = train_baseline(read_massive("en-US/train.tsv"))               # doctest: +SKIP
    >>> evaluate_baseline(clf, read_test_dir("test"))["de-DE"]["intent_accuracy"]  # doctest: +SKIP
    38.4
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence

from lexiconlm.errors import MissingDependencyError
from lexiconlm.nlu.metrics import score_tags
from lexiconlm.types import NLUDataset, Utterance

__all__ = ["BASELINE_DEFAULTS", "train_baseline", "predict_intents", "evaluate_baseline", "SIGNATURE"]

#: The baseline's settings (fixed in advance, not tuned on any test data).
BASELINE_DEFAULTS = {"ngram_min": 1, "ngram_max": 4, "min_df": 2, "C": 10.0, "max_features": 200_000, "seed": 13}
SIGNATURE = "nlu:char-ngram-logreg.v1"


def _sklearn():
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
    except ImportError:
        raise MissingDependencyError("the character n-gram baseline", "ml", "scikit-learn") from None
    return TfidfVectorizer, LogisticRegression, make_pipeline


def train_baseline(train: NLUDataset | Iterable[Utterance], settings: Mapping | None = None):
    """Fit the pipeline on the utterances' lowercased text and intents; returns a scikit-learn pipeline."""
    TfidfVectorizer, LogisticRegression, make_pipeline = _sklearn()
    s = {**BASELINE_DEFAULTS, **(settings or {})}
    utts = list(train)
    vec = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(s["ngram_min"], s["ngram_max"]),
        min_df=s["min_df"],
        sublinear_tf=True,
        lowercase=True,
        max_features=s["max_features"],
    )
    clf = LogisticRegression(C=s["C"], max_iter=2000, random_state=s["seed"])
    pipe = make_pipeline(vec, clf)
    pipe.fit([u.text for u in utts], [u.intent for u in utts])
    return pipe


def predict_intents(pipe, utterances: Sequence[Utterance]) -> list[str]:
    """Predicted intents, in input order."""
    return list(pipe.predict([u.text for u in utterances])) if utterances else []


def evaluate_baseline(pipe, datasets: Sequence[NLUDataset]) -> dict[str, dict]:
    """``{locale: {"intent_accuracy", "slot_f1": nan, "exact_match": nan, "n", "seconds"}}``."""
    out = {}
    for ds in datasets:
        t0 = time.perf_counter()
        utts = list(ds)
        res = score_tags([u.intent for u in utts], predict_intents(pipe, utts))
        res["seconds"] = round(time.perf_counter() - t0, 2)
        out[ds.locale] = res
    return out
