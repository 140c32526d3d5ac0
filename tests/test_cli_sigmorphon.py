"""`lexiconlm sigmorphon score|affix`: official scoring of prediction files and affix predictions."""

from __future__ import annotations

import json

import pytest

from lexiconlm.cli.main import main
from lexiconlm.cli.sigmorphon import affix_predict, score
from lexiconlm.errors import DataFormatError

TRAIN = "".join(
    f"{lemma}\t{lemma}{suf}\tV;{feat}\n"
    for lemma in ("kula", "cheza", "soma", "imba", "lala", "piga")
    for suf, feat in (("ni", "PST"), ("ka", "FUT"))
)
GOLD = "ruka\trukani\tV;PST\nruka\trukaka\tV;FUT\nkula\tkulani\tV;PST\nnenda\tnendaxx\tV;SBJV\n"


def _write(tmp_path, name, text):
    f = tmp_path / "2022_part1" / name
    f.parent.mkdir(exist_ok=True)
    f.write_text(text, encoding="utf-8")
    return f


def test_score_matches_hand_computed_values(tmp_path):
    gold = _write(tmp_path, "swh.dev", GOLD)
    # one right, one wrong by one character, one missing (scored against ""), one extra
    pred = _write(
        tmp_path,
        "swh.dev.pred",
        "ruka\trukani\tV;PST\nruka\trukaki\tV;FUT\nnenda\tnendaxx\tV;SBJV\nzzz\tzzz\tN\n",
    )
    s = score(gold, pred)["all"]
    assert (s["n"], s["n_correct"], s["n_missing"], s["n_extra"]) == (4, 2, 1, 1)
    assert s["accuracy"] == 50.0
    assert s["levenshtein"] == pytest.approx((0 + 1 + len("kulani") + 0) / 4)


def test_score_2022_breakdown_with_train(tmp_path, capsys):
    gold = _write(tmp_path, "swh.dev", GOLD)
    train = _write(tmp_path, "swh_small.train", TRAIN)
    pred = tmp_path / "out.pred"
    affix_predict(train, gold, pred)
    r = score(gold, pred, train=train)
    assert set(r) == {"all", "both", "lemma", "feats", "unseen"}
    assert r["both"]["n"] == 1 and r["feats"]["n"] == 2 and r["unseen"]["n"] == 1
    assert r["feats"]["accuracy"] == 100.0  # ruka + ni / ka: learned suffix rules
    assert main(["sigmorphon", "score", "-g", str(gold), "-p", str(pred), "-t", str(train), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["all"]["n"] == 4


def test_affix_predicts_covered_test_in_input_order(tmp_path):
    train = _write(tmp_path, "swh_small.train", TRAIN)
    covered = _write(tmp_path, "swh.test", "ruka\tV;FUT\nruka\tV;PST\n")
    out = tmp_path / "swh_small.pred"
    assert main(["sigmorphon", "affix", "-t", str(train), "-i", str(covered), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "ruka\trukaka\tV;FUT\nruka\trukani\tV;PST\n"
    with pytest.raises(DataFormatError, match="covered test file"):
        score(covered, out)


def test_official_2021_baseline_prediction_scores(shared_data):
    d = shared_data / "sigmorphon" / "2021_task0"
    r = score(d / "ail.test.gold", d / "baseline_predictions" / "ail.wuetal-transformer-augment.test.pred")
    # baseline_accuracy_computed.tsv: ail wuetal-transformer-augment 12.93
    assert r["all"]["accuracy"] == pytest.approx(12.928, abs=1e-3)
