"""MASSIVE metrics: BIO spans and micro slot F1 against seqeval, intent accuracy, exact match, aggregation."""

from __future__ import annotations

import math
import random
import sys

import pytest

from lexiconlm.io.massive import utterance_from_annotation
from lexiconlm.nlu.metrics import aggregate, bio_spans, score, score_tags, span_f1


def test_metrics_do_not_import_torch():
    assert "lexiconlm.nlu.metrics" in sys.modules
    import subprocess

    code = "import sys, lexiconlm.nlu.metrics; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.mark.parametrize(
    "tags, spans",
    [
        (["B-time", "I-time", "O", "B-date"], [("time", 0, 2), ("date", 3, 4)]),
        (["O", "I-x", "I-x"], [("x", 1, 3)]),  # I- after O opens a span (conlleval)
        (["B-a", "I-b"], [("a", 0, 1), ("b", 1, 2)]),  # a type change opens a span
        (["B-a", "B-a"], [("a", 0, 1), ("a", 1, 2)]),
        (["Other", "B-x", "Other"], [("x", 1, 2)]),  # MASSIVE's Other is outside
        ([], []),
    ],
)
def test_bio_spans(tags, spans):
    assert bio_spans(tags) == spans


# expected values worked out by hand (precision, recall over span sets), then checked against seqeval below
HAND = [
    ([["B-time", "I-time", "O", "B-date"]], [["B-time", "I-time", "O", "B-date"]], 100.0),
    ([["B-time", "I-time", "O", "B-date"]], [["B-time", "O", "O", "B-date"]], 50.0),  # P = R = 1/2
    ([["O", "I-x", "I-x"]], [["O", "B-x", "I-x"]], 100.0),
    ([["B-x", "O"]], [["O", "O"]], 0.0),  # nothing predicted
    # micro over utterances: tp 1, 2 predicted, 3 gold -> P 1/2, R 1/3, F1 = 2/5
    ([["B-a", "O", "B-b"], ["B-c"]], [["B-a", "O", "B-a"], ["O"]], 40.0),
    # a span is counted once: the repeated gold span matches one predicted span
    ([["B-a", "I-a", "O"]], [["B-a", "I-a", "B-b"]], 2 * (1 / 2) * 1 / (1 / 2 + 1) * 100),
]


@pytest.mark.parametrize("gold, pred, expected", HAND)
def test_span_f1_hand_cases(gold, pred, expected):
    assert span_f1(gold, pred) == pytest.approx(expected)


@pytest.mark.parametrize("gold, pred, expected", HAND)
def test_span_f1_matches_seqeval_on_hand_cases(gold, pred, expected):
    seqeval = pytest.importorskip("seqeval.metrics")
    assert 100 * seqeval.f1_score(gold, pred) == pytest.approx(expected)


def test_span_f1_matches_seqeval_on_random_sequences():
    seqeval = pytest.importorskip("seqeval.metrics")
    rng = random.Random(7)
    tags = ["O", "B-a", "I-a", "B-b", "I-b", "I-c"]
    for _ in range(200):
        n = rng.randint(1, 6)
        gold = [[rng.choice(tags) for _ in range(rng.randint(1, 7))] for _ in range(n)]
        pred = [[rng.choice(tags) for _ in g] for g in gold]
        assert span_f1(gold, pred) == pytest.approx(100 * seqeval.f1_score(gold, pred)), (gold, pred)


def test_score_tags_intent_and_exact_match():
    res = score_tags(
        ["a", "a", "b", "b"],
        ["a", "b", "b", "b"],
        [["B-x"], ["O"], ["B-y", "O"], ["O"]],
        [["B-x"], ["O"], ["B-y", "B-y"], ["O"]],
    )
    assert res["intent_accuracy"] == 75.0
    # utt 0 right; utt 1 wrong intent; utt 2 extra span; utt 3 right
    assert res["exact_match"] == 50.0
    assert res["slot_f1"] == pytest.approx(100 * 2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert res["n"] == 4


def test_score_tags_intent_only_gives_nan_slots():
    res = score_tags(["a", "b"], ["a", "a"])
    assert res["intent_accuracy"] == 50.0 and math.isnan(res["slot_f1"]) and math.isnan(res["exact_match"])


def test_score_tags_rejects_length_mismatch():
    with pytest.raises(ValueError, match="gold tags"):
        score_tags(["a"], ["a"], [["O", "O"]], [["O"]])


def test_score_on_utterances():
    g = [
        utterance_from_annotation("wake me at [time : nine am]", id="1", intent="alarm_set"),
        utterance_from_annotation("play [artist_name : adele]", id="2", intent="play_music"),
    ]
    p = [
        utterance_from_annotation("wake me at [time : nine] am", id="1", intent="alarm_set"),
        utterance_from_annotation("play [artist_name : adele]", id="2", intent="play_music"),
    ]
    res = score(g, p)
    assert res["intent_accuracy"] == 100.0
    assert res["slot_f1"] == 50.0  # 1 of 2 spans right on both sides
    assert res["exact_match"] == 50.0


def test_aggregate_by_script_and_family():
    per = {
        "en-US": {"intent_accuracy": 90.0, "slot_f1": 80.0, "exact_match": 70.0, "n": 10},
        "de-DE": {"intent_accuracy": 60.0, "slot_f1": 40.0, "exact_match": 30.0, "n": 10},
        "th-TH": {"intent_accuracy": 40.0, "slot_f1": 20.0, "exact_match": 10.0, "n": 10},
    }
    agg = aggregate(per)
    assert agg["mean"]["all"]["intent_accuracy"] == 50.0 and agg["mean"]["all"]["n_locales"] == 2
    assert agg["script"]["Latn"]["intent_accuracy"] == 60.0
    assert agg["script"]["Thai"]["intent_accuracy"] == 40.0
    assert agg["family"]["Indo-European"]["n_locales"] == 1
