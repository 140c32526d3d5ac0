"""Joint intent + slot model: training on a tiny random encoder, saving, exact resume, evaluation, bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from lexiconlm.errors import ConfigError, DataFormatError  # noqa: E402
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
    "epochs": 2,
    "lr": 0.003,
    "head_lr": 0.01,
    "freeze_embeddings": False,
    "checkpoint_every": 3,
    "seed": 3,
}


@pytest.fixture(scope="module")
def data():
    ds = read_massive(DEMO / "en-US" / "train.tsv")
    train = replace(ds, utterances=ds.utterances[:64])
    known = {u.intent for u in train}
    dev = replace(ds, utterances=tuple(u for u in ds.utterances[64:160] if u.intent in known)[:32])
    return train, dev


def _heads(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "heads.safetensors"))


def test_train_save_load_evaluate(tmp_path, data):
    from lexiconlm.nlu.evaluate import evaluate, predict
    from lexiconlm.nlu.model import load_joint
    from lexiconlm.nlu.train import train_joint

    train, dev = data
    model_dir = train_joint(TINY, train=[train], dev=dev, out_dir=tmp_path / "run", device="cpu", progress=False)
    assert (model_dir / "encoder" / "config.json").exists() and (model_dir / "encoder" / "tokenizer.json").exists()
    info = json.loads((model_dir / "nlu.json").read_text())
    assert info["signature"].startswith("nlu:joint.v1|") and info["labels"]["intents"]
    assert info["tags"][0] == "O" and len(info["tags"]) == 1 + 2 * len(info["labels"]["slots"])
    model, tok, _ = load_joint(model_dir)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params < 50_000  # a tiny model
    history = [json.loads(x) for x in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2] and all("dev_exact_match" in h for h in history)
    res = evaluate(model_dir, [dev], device="cpu", progress=False)
    r = res["en-US"]
    assert set(r) >= {"intent_accuracy", "slot_f1", "exact_match", "n"} and r["n"] == len(dev)
    preds = predict(model_dir, dev, device="cpu")
    assert [p.id for p in preds] == [u.id for u in dev]
    assert all(len(p.bio) == len(u.tokens) for p, u in zip(preds, dev))
    # the figures evaluate() reports are the ones metrics.score gives on the predictions
    from lexiconlm.nlu.metrics import score

    s = score(dev, preds)
    assert s["intent_accuracy"] == pytest.approx(r["intent_accuracy"]) and s["slot_f1"] == pytest.approx(r["slot_f1"])


def test_training_learns_the_training_set(tmp_path, data):
    from lexiconlm.nlu.evaluate import evaluate
    from lexiconlm.nlu.train import train_joint

    train, _ = data
    small = replace(train, utterances=train.utterances[:24])
    cfg = {**TINY, "epochs": 40, "batch_size": 8, "lr": 0.01, "head_lr": 0.03, "dropout": 0.0, "checkpoint_every": 1000}
    model_dir = train_joint(cfg, train=[small], dev=None, out_dir=tmp_path / "fit", device="cpu", progress=False)
    r = evaluate(model_dir, [small], device="cpu", progress=False)["en-US"]
    assert r["intent_accuracy"] >= 80.0, r


@pytest.mark.parametrize("frozen", [False, True])
def test_exact_resume_after_interruption(tmp_path, data, frozen):
    from lexiconlm.nlu.train import train_joint

    train, dev = data
    cfg = {**TINY, "freeze_embeddings": frozen}
    full = train_joint(cfg, train=[train], dev=dev, out_dir=tmp_path / "full", device="cpu", progress=False)
    # "killed" after 5 steps (mid-epoch), then resumed from the checkpoint
    part = tmp_path / "part"
    train_joint(cfg, train=[train], dev=dev, out_dir=part, device="cpu", progress=False, stop_after_steps=5)
    assert (part / "checkpoint" / "state.json").exists() and not (part / "model" / "nlu.json").exists()
    resumed = train_joint(cfg, train=[train], dev=dev, out_dir=part, device="cpu", progress=False)
    a, b = _heads(full), _heads(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    from safetensors.torch import load_file

    ea, eb = (load_file(str(d / "encoder" / "model.safetensors")) for d in (full, resumed))
    for k in ea:
        assert torch.equal(ea[k], eb[k]), k


def test_resume_with_changed_config_is_refused(tmp_path, data):
    from lexiconlm.nlu.train import train_joint

    train, dev = data
    train_joint(TINY, train=[train], dev=dev, out_dir=tmp_path / "r", device="cpu", progress=False, stop_after_steps=2)
    with pytest.raises(ConfigError, match="lr: checkpoint has 0.003, now 0.002"):
        train_joint({**TINY, "lr": 0.002}, train=[train], dev=dev, out_dir=tmp_path / "r", device="cpu", progress=False)
    other = replace(train, utterances=train.utterances[:40])
    with pytest.raises(ConfigError, match="train_sha"):
        train_joint(TINY, train=[other], dev=dev, out_dir=tmp_path / "r", device="cpu", progress=False)


def test_config_errors_list_every_problem():
    from lexiconlm.nlu.train import load_train_config

    with pytest.raises(ConfigError) as exc:
        load_train_config({"batch_size": 0, "pooling": "max", "lr": -1, "bogus": 1})
    text = str(exc.value)
    for part in ("batch_size", "pooling", "lr ->", "bogus -> unknown key"):
        assert part in text


def test_unknown_intent_in_test_file_lists_lines(tmp_path, data):
    from lexiconlm.nlu.evaluate import check_labels

    train, _ = data
    bad = tmp_path / "xx-XX.tsv"
    bad.write_text(
        "id\tintent\tannot_utt\n1\talarm_set\twake me at [time : nine]\n2\tmade_up_intent\thello\n"
        "3\tnot_an_intent\thi [date : today]\n",
        encoding="utf-8",
    )
    ds = read_massive(bad, locale="de-DE")
    with pytest.raises(DataFormatError) as exc:
        check_labels([ds], {u.intent for u in train}, {s.label for u in train for s in u.slots})
    text = str(exc.value)
    assert f"{bad}:3" in text and "made_up_intent" in text and f"{bad}:4" in text and "not_an_intent" in text


def test_mismatched_brackets_in_test_dir_list_lines(tmp_path):
    from lexiconlm.nlu.evaluate import read_test_dir

    d = tmp_path / "test"
    d.mkdir()
    (d / "de-DE.tsv").write_text(
        "id\tintent\tannot_utt\n1\talarm_set\tweck mich um [time : neun\n2\talarm_set\tum neun] bitte\n",
        encoding="utf-8",
    )
    (d / "fr-FR.tsv").write_text("id\tintent\tannot_utt\n1\talarm_set\treveille [time : neuf]\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as exc:
        read_test_dir(d)
    text = str(exc.value)
    assert "de-DE.tsv:2" in text and "unclosed '['" in text and "de-DE.tsv:3" in text and "unmatched ']'" in text


def test_resume_accepts_another_name_for_the_same_model_folder(tmp_path):
    from lexiconlm.nlu.train import _same_model

    (tmp_path / "m").mkdir()
    (tmp_path / "other").mkdir()
    assert _same_model(str(tmp_path / "m"), str(tmp_path / "m" / "."))
    assert not _same_model(str(tmp_path / "m"), str(tmp_path / "other"))
    assert not _same_model(str(tmp_path / "m"), None)
