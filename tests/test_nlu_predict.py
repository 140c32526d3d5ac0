"""Parsing new utterances with a trained joint model: lexiconlm.nlu.predict and `lexiconlm nlu predict`."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from lexiconlm.errors import LexiconLMError  # noqa: E402
from lexiconlm.io.massive import read_massive  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo" / "massive"

TINY = {
    "model": {
        "scratch": {
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
            "vocab_size": 300,
        }
    },
    "max_len": 16,
    "batch_size": 8,
    "epochs": 25,  # enough to fit 32 utterances, so that slots are predicted (about 7 s)
    "lr": 0.01,
    "head_lr": 0.03,
    "dropout": 0.0,
    "freeze_embeddings": False,
    "checkpoint_every": 1000,
    "seed": 3,
}
UTTERANCES = ["wake me up at nine am on friday", "olly quiet", "set an alarm for two hours from now", "stop"]


@pytest.fixture(scope="module")
def dev():
    ds = read_massive(DEMO / "en-US" / "train.tsv")
    return replace(ds, utterances=ds.utterances[64:96])


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from lexiconlm.nlu.train import train_joint

    ds = read_massive(DEMO / "en-US" / "train.tsv")
    train = replace(ds, utterances=ds.utterances[:32])
    out = tmp_path_factory.mktemp("nlu") / "run"
    return train_joint(TINY, train=[train], dev=None, out_dir=out, device="cpu", progress=False)


@pytest.fixture()
def run_dir(tmp_path, model_dir):
    """A fake `lexiconlm expand` run folder: steps/train.json names a copy of the model (relative
    path), steps/train_base.json the original (absolute path)."""
    run = tmp_path / "ind-demo"
    (run / "steps").mkdir(parents=True)
    shutil.copytree(model_dir, run / "train" / "model")
    _record(run, "train", "train/model")
    _record(run, "train_base", str(model_dir))
    return run


def _record(run: Path, step: str, model: str | None, **extra) -> None:
    outputs = {"model_dir": model, **extra}
    (run / "steps" / f"{step}.json").write_text(
        json.dumps({"name": step, "key": "k", "outputs": outputs, "seconds": 1.0}), encoding="utf-8"
    )


def _normalised(tags):
    """BIO tags as the MASSIVE metrics read them: an I- tag that starts a span becomes B-."""
    out = []
    for i, t in enumerate(tags):
        if t.startswith("I-") and (i == 0 or tags[i - 1][2:] != t[2:]):
            t = "B-" + t[2:]
        out.append(t)
    return out


def _tags_of(parse):
    tags = ["O"] * len(parse.tokens)
    for s in parse.slots:
        for k in range(s.start, s.end):
            tags[k] = ("B-" if k == s.start else "I-") + s.slot
    return tags


# --------------------------------------------------------------------------- API


def test_predict_on_a_model_folder(model_dir):
    from lexiconlm.nlu.predict import NLUPredictor, Parse, load_nlu

    nlu = load_nlu(model_dir)
    assert isinstance(nlu, NLUPredictor) and nlu.model_dir == Path(model_dir)
    assert nlu.meta["labels"]["intents"] == list(nlu.labels.intents)
    parses = nlu.predict(UTTERANCES, batch_size=3)
    assert [p.text for p in parses] == UTTERANCES
    for p in parses:
        assert isinstance(p, Parse)
        assert p.tokens == tuple(p.text.split()) and len(p.tags) == len(p.tokens)
        assert p.intent in nlu.labels.intents and 0.0 < p.intent_score <= 1.0
        assert set(p.tags) <= set(nlu.labels.tags)
        # the slots are the spans the tags spell, each with the words it covers
        assert _tags_of(p) == _normalised(list(p.tags))
        for s in p.slots:
            assert 0 <= s.start < s.end <= len(p.tokens) and s.slot in nlu.labels.slots
            assert s.text == " ".join(p.tokens[s.start : s.end])
        d = p.as_dict()
        assert json.loads(json.dumps(d)) == d and d["slots"] == [
            {"slot": s.slot, "text": s.text, "start": s.start, "end": s.end} for s in p.slots
        ]
    assert any(p.slots for p in parses), "the fitted model should find the slots of its training utterances"
    assert nlu.predict([]) == []
    with pytest.raises(TypeError, match="wrap"):
        nlu.predict("olly quiet")


def test_predictions_are_the_evaluations(model_dir, dev):
    """The same words and the same intents and tags as `lexiconlm nlu eval` gives on the same utterances."""
    from lexiconlm.nlu.evaluate import predict
    from lexiconlm.nlu.predict import load_nlu

    gold = [u for u in dev if " ".join(u.tokens) == u.text]
    assert len(gold) > 20
    ref = predict(model_dir, gold, device="cpu")
    parses = load_nlu(model_dir).predict([u.text for u in gold], batch_size=7)
    assert [p.tokens for p in parses] == [u.tokens for u in gold]
    assert [p.intent for p in parses] == [r.intent for r in ref]
    assert [_normalised(list(p.tags)) for p in parses] == [list(r.bio) for r in ref]
    assert [[(s.slot, s.start, s.end) for s in p.slots] for p in parses] == [
        [(s.label, s.tok_start, s.tok_end) for s in r.slots] for r in ref
    ]


def test_words_are_split_at_whitespace_only(model_dir):
    from lexiconlm.nlu.predict import load_nlu

    nlu = load_nlu(model_dir)
    spaced, unspaced, empty = nlu.predict(["  wake   me\tup ", "這週早上五點叫醒我", ""])
    assert spaced.tokens == ("wake", "me", "up") and spaced.text == "  wake   me\tup "
    assert unspaced.tokens == ("這週早上五點叫醒我",) and len(unspaced.tags) == 1
    assert empty.tokens == () and empty.tags == () and empty.slots == () and empty.intent in nlu.labels.intents


def test_slot_text_keeps_the_utterance_spacing():
    from lexiconlm.nlu.predict import _parse
    from lexiconlm.types import Utterance

    text = "wake me  at nine   am"
    spans = [(0, 4), (5, 7), (9, 11), (12, 16), (19, 21)]
    u = Utterance("0", text, "", tokens=tuple(text[a:b] for a, b in spans))
    p = _parse(u, spans, "alarm_set", 0.5, ["O", "O", "O", "B-time", "I-time"])
    assert [(s.slot, s.text, s.start, s.end) for s in p.slots] == [("time", "nine   am", 3, 5)]


def test_run_folder_expanded_and_base(run_dir, model_dir):
    from lexiconlm.nlu.predict import load_nlu, resolve_nlu_model

    assert resolve_nlu_model(run_dir) == run_dir / "train" / "model"
    assert resolve_nlu_model(run_dir, "base") == Path(model_dir)
    expanded = load_nlu(run_dir)
    base = load_nlu(run_dir, which="base")
    assert expanded.model_dir == run_dir / "train" / "model" and base.model_dir == Path(model_dir)
    a, b = expanded.predict(UTTERANCES), base.predict(UTTERANCES)
    assert [p.intent for p in a] == [p.intent for p in b]  # the same weights in both folders here
    assert [p.intent_score for p in a] == pytest.approx([p.intent_score for p in b])


def test_bad_paths_say_what_is_expected(tmp_path, run_dir, model_dir):
    from lexiconlm.nlu.predict import load_nlu, resolve_nlu_model

    with pytest.raises(LexiconLMError, match=r"no such file or folder; expected an NLU model folder"):
        resolve_nlu_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LexiconLMError, match=r"empty is not an NLU model folder .* or a `lexiconlm expand` run"):
        resolve_nlu_model(tmp_path / "empty")
    with pytest.raises(LexiconLMError, match="needs a `lexiconlm expand` run folder"):
        load_nlu(model_dir, which="base")
    with pytest.raises(LexiconLMError, match="which must be one of"):
        resolve_nlu_model(run_dir, "both")  # type: ignore[arg-type]
    # a run made before train_base existed
    (run_dir / "steps" / "train_base.json").unlink()
    with pytest.raises(LexiconLMError, match=r"has no base NLU model .*rerun `lexiconlm expand`") as err:
        load_nlu(run_dir, which="base")
    assert str(run_dir) in str(err.value) and "train_base.json" in str(err.value)
    _record(run_dir, "train_base", None, skipped=True)
    with pytest.raises(LexiconLMError, match="train_base step was skipped"):
        load_nlu(run_dir, which="base")
    _record(run_dir, "train", "train/gone")
    with pytest.raises(LexiconLMError, match=r"train.json names the model folder .*gone.*not a complete NLU model"):
        load_nlu(run_dir)
    (run_dir / "steps" / "train.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(LexiconLMError, match="not a step record"):
        load_nlu(run_dir)
    (run_dir / "steps" / "train.json").unlink()
    with pytest.raises(LexiconLMError, match="no trained NLU model yet"):
        load_nlu(run_dir)


# --------------------------------------------------------------------------- CLI


def _invoke(args, **kw):
    from typer.testing import CliRunner

    from lexiconlm.cli.main import app

    return CliRunner().invoke(app, ["nlu", "predict", *args], **kw)


def _readable(p) -> str:
    slots = " ".join(f"[{s.slot}: {s.text}]" for s in p.slots)
    return f"{p.intent} ({p.intent_score:.2f})" + (f"  {slots}" if slots else "")


def test_cli_arguments_file_and_stdin(model_dir, tmp_path):
    from lexiconlm.nlu.predict import load_nlu

    want = [_readable(p) for p in load_nlu(model_dir).predict(UTTERANCES)]
    r = _invoke([str(model_dir), *UTTERANCES])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == want
    f = tmp_path / "utts.txt"
    f.write_text("\n".join(UTTERANCES[:2]) + "\n\n" + "\n".join(UTTERANCES[2:]) + "\n", encoding="utf-8")
    r = _invoke([str(model_dir), "--file", str(f)])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == want
    r = _invoke([str(model_dir), "--file", "-"], input="\n".join(UTTERANCES))
    assert r.exit_code == 0 and r.stdout.splitlines() == want, r.output
    r = _invoke([str(model_dir)], input="\n".join(UTTERANCES) + "\n")  # piped, no argument
    assert r.exit_code == 0 and r.stdout.splitlines() == want, r.output


def test_cli_json_lines(model_dir, run_dir):
    from lexiconlm.nlu.predict import load_nlu

    want = [p.as_dict() for p in load_nlu(model_dir).predict(UTTERANCES)]
    r = _invoke([str(model_dir), "--json", *UTTERANCES])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows == want
    r = _invoke([str(run_dir), "--json", "--which", "both", *UTTERANCES])
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["text"] for row in rows] == UTTERANCES
    assert [row["expanded"] for row in rows] == want and [row["base"]["intent"] for row in rows] == [
        w["intent"] for w in want
    ]


def test_cli_both_side_by_side(run_dir):
    r = _invoke([str(run_dir), "--which", "both", *UTTERANCES[:2]])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("expanded: ") and "  |  base: " in line for line in lines)


def test_cli_errors(run_dir, tmp_path, capsys):
    from lexiconlm.cli.main import main

    (run_dir / "steps" / "train_base.json").unlink()
    assert main(["nlu", "predict", str(run_dir), "--which", "base", "olly quiet"]) == 1
    err = capsys.readouterr().err
    assert "has no base NLU model" in err and "rerun `lexiconlm expand`" in err
    assert main(["nlu", "predict", str(tmp_path / "nope"), "stop"]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    assert main(["nlu", "predict", str(run_dir), "--file", str(empty)]) == 2
    assert "holds no utterance" in capsys.readouterr().err
    assert main(["nlu", "predict", str(run_dir), "--file", str(empty), "stop"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_run_evaluated_with_translate_test_predicts_with_it(run_dir):
    """The expanded model of a run whose config has translate-test reads each utterance through the
    run's lexicon too, exactly as the evaluation did; the base model and --as-written do not."""
    import numpy as np
    import yaml

    from lexiconlm.io.lexicons import read_lexicon
    from lexiconlm.nlu.evaluate import decode, predict_probs
    from lexiconlm.nlu.model import load_joint
    from lexiconlm.nlu.predict import load_nlu
    from lexiconlm.nlu.translate_test import combine
    from lexiconlm.synth.reverse import ReverseTranslator
    from lexiconlm.synth.translate import count_words

    # an English -> "Indonesian" lexicon whose reading turns the test words back into English
    (run_dir / "data").mkdir()
    (run_dir / "data" / "lexicon.tsv").write_text(
        "wake\tbangun\nalarm\talarm\nnine\tsembilan\nquiet\tdiam\n", encoding="utf-8"
    )
    train = DEMO / "en-US" / "train.tsv"
    cfg = {
        "data": {"massive_train": str(train)},
        "synth": {"hygiene": "script.v1"},
        "evaluate": {"translate_test": {"enabled": True, "weight": 0.6, "slot_weight": 0.7}},
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    texts = ["bangun aku jam sembilan", "diam", "olly stop"]
    nlu = load_nlu(run_dir)
    assert nlu.reader is not None and (nlu.weight, nlu.slot_weight) == (0.6, 0.7)
    assert nlu.reader.read(["bangun", "aku"]).tokens == ("wake", "aku")
    parses = nlu.predict(texts)
    # the same figures by hand: both readings' distributions averaged with the run's shares
    model, tok, info = load_joint(run_dir / "train" / "model")
    reader = ReverseTranslator(
        read_lexicon(run_dir / "data" / "lexicon.tsv"),
        english_counts=count_words(u.text for u in read_massive(train)),
    )
    words = [t.split() for t in texts]
    readings = [reader.read(w) for w in words]
    ip, tp = predict_probs(model, tok, words, max_len=int(info["max_len"]))
    rip, rtp = predict_probs(model, tok, [list(r.tokens) for r in readings], max_len=int(info["max_len"]))
    intents, tags, scores = decode(model.labels, *combine(ip, tp, rip, rtp, readings, weight=0.6, slot_weight=0.7))
    assert [p.intent for p in parses] == intents and [list(p.tags) for p in parses] == tags
    assert np.allclose([p.intent_score for p in parses], scores, atol=1e-6)
    # the model alone: as written, and the base model never reads through the lexicon
    assert load_nlu(run_dir, translate_test=False).reader is None
    assert load_nlu(run_dir, which="base").reader is None
    cfg["evaluate"]["translate_test"]["enabled"] = False
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    assert load_nlu(run_dir).reader is None
