"""The character transformer: config validation, learning a toy task, exact resume, decoding, devices."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from lexiconlm.errors import ConfigError
from lexiconlm.inflection.neural import (
    LanguageData,
    NeuralConfig,
    NeuralInflector,
    Vocab,
    load_config,
    resolve_device,
    train,
)
from lexiconlm.types import InflectionEntry as E

torch.set_num_threads(1)

STEMS = ["kal", "tom", "ruk", "mel", "sop", "nat", "pil", "dor", "kum", "tes", "lam", "rop", "mut", "sel"]


def toy(stems):
    """Suffixing toy language: PST adds -ni, FUT adds -ka."""
    return [E(s, s + suf, f"V;{f}") for s in stems for suf, f in (("ni", "PST"), ("ka", "FUT"))]


def small_cfg(**kw):
    base = {
        "d_model": 32,
        "n_heads": 2,
        "d_ff": 64,
        "batch_size": 8,
        "lr": 5e-3,
        "warmup_steps": 20,
        "max_steps": 60,
        "eval_every": 20,
        "save_every": 10,
    }
    return NeuralConfig.tiny(**{**base, **kw})


def test_config_errors_list_every_problem():
    with pytest.raises(ConfigError) as exc:
        NeuralConfig.from_dict({"d_model": 30, "n_heads": 4, "batch_sise": 3, "dropout": 2.0, "lr": 0})
    text = str(exc.value)
    for needle in ("batch_sise -> unknown key. Did you mean: batch_size?", "dropout", "lr", "divisible"):
        assert needle in text
    assert NeuralConfig.from_dict({"preset": "cpu", "max_steps": 10}).d_model == 128


def test_load_config_reads_the_neural_section(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("# lexiconlm sigmorphon run ...\nneural:\n  preset: tiny\n  max_steps: 7\n", encoding="utf-8")
    cfg = load_config(f, seed=3)
    assert (cfg.max_steps, cfg.d_model, cfg.seed) == (7, 16, 3)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml")


def test_tiny_model_has_few_thousand_parameters(tmp_path):
    r = train(NeuralConfig.tiny(max_steps=2), [LanguageData("x", toy(STEMS[:3]))], tmp_path / "m", progress=False)
    assert 1000 < r.n_params < 20000


def test_vocab_input_invariant_positions():
    v = Vocab.build([LanguageData("x", toy(["ab"]))])
    ids, pos, types = v.encode_source(E("ab", None, "V;PST"), "x", invariant=True)
    assert pos == [0, 0, 0, 1, 2] and types == [2, 1, 1, 0, 0]
    assert v.decode(v.encode_target("abni")) == "abni"
    ids2, pos2, _ = v.encode_source(E("ab", None, "PST;V"), "x", invariant=True)
    assert pos2 == pos and sorted(ids2) == sorted(ids)  # tag order does not change positions
    _, pos3, types3 = v.encode_source(E("ab", None, "V;PST"), None, invariant=False)
    assert pos3 == [0, 1, 2, 3] and set(types3) == {0}


def test_learns_a_toy_suffix_language(tmp_path):
    import random

    rng = random.Random(0)
    stems = sorted({"".join(rng.choice("ptkmnslraeiou") for _ in range(rng.randint(3, 5))) for _ in range(120)})
    cfg = small_cfg(max_steps=800, eval_every=200, batch_size=16, lr=1e-2, dropout=0.0)
    dev = toy(stems[100:])
    r = train(cfg, [LanguageData("toy", toy(stems[:100]), dev)], tmp_path / "m", device="cpu", progress=False)
    assert r.steps == 800 and r.device == "cpu"
    m = NeuralInflector.load(tmp_path / "m", device="cpu")
    preds = m.predict(dev)
    acc = 100.0 * sum(p == e.form for p, e in zip(preds, dev)) / len(dev)
    assert acc == pytest.approx(r.best_dev)  # the saved best weights give the recorded dev accuracy
    assert acc >= 50.0, preds  # unseen stems: the model copies characters and adds the right suffix
    beam = m.predict(dev, beam=3)
    assert len(beam) == len(dev) and sum(p == e.form for p, e in zip(beam, dev)) >= 0.8 * sum(
        p == e.form for p, e in zip(preds, dev)
    )
    assert json.loads((tmp_path / "m" / "result.json").read_text())["best_dev"] == r.best_dev


def _state(path):
    from lexiconlm.training import load_checkpoint

    return load_checkpoint(path / "checkpoint")


def test_resume_after_a_kill_gives_exactly_the_uninterrupted_run(tmp_path):
    cfg = small_cfg(dropout=0.2)  # dropout: the RNG state must be restored too
    data = [LanguageData("a", toy(STEMS[:6]), toy(STEMS[6:8])), LanguageData("b", toy(STEMS[8:12]), toy(STEMS[12:]))]
    full = train(cfg, data, tmp_path / "full", progress=False)
    part = train(cfg, data, tmp_path / "cut", progress=False, stop_after_steps=27)  # not on an eval step
    assert part.stopped == "interrupted" and part.steps == 27
    resumed = train(cfg, data, tmp_path / "cut", progress=False)
    assert resumed.resumed_from == 27 and resumed.steps == full.steps
    a, b = _state(tmp_path / "full"), _state(tmp_path / "cut")
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    assert a["optimizer"]["state"][0]["exp_avg"].equal(b["optimizer"]["state"][0]["exp_avg"])
    assert a["scheduler"]["last_epoch"] == b["scheduler"]["last_epoch"]
    assert a["state"]["history"] == b["state"]["history"]
    # a finished run is not retrained
    again = train(cfg, data, tmp_path / "cut", progress=False)
    assert again.steps == full.steps and again.best_dev == full.best_dev


def test_resume_with_a_changed_config_or_data_is_refused(tmp_path):
    data = [LanguageData("a", toy(STEMS[:6]), toy(STEMS[6:8]))]
    train(small_cfg(), data, tmp_path / "m", progress=False, stop_after_steps=10)
    with pytest.raises(ConfigError, match=r"config.batch_size -> was 8 in the checkpoint, now 4"):
        train(small_cfg(batch_size=4), data, tmp_path / "m", progress=False)
    with pytest.raises(ConfigError, match="data -> the training or dev entries differ"):
        train(small_cfg(), [LanguageData("a", toy(STEMS[:5]), toy(STEMS[6:8]))], tmp_path / "m", progress=False)
    # beam is a decoding setting: changing it does not block a resume; --no-resume starts over
    train(small_cfg(beam=4), data, tmp_path / "m", progress=False, stop_after_steps=12)
    r = train(small_cfg(batch_size=4), data, tmp_path / "m", progress=False, resume=False, stop_after_steps=3)
    assert r.steps == 3 and r.resumed_from == 0


def test_time_budget_ends_training_with_the_best_weights(tmp_path):
    data = [LanguageData("a", toy(STEMS[:6]), toy(STEMS[6:8]))]
    r = train(small_cfg(max_steps=1000), data, tmp_path / "m", progress=False, time_budget_s=1e-6)
    assert (r.steps, r.stopped, r.best_step) == (1, "time_budget", 1)
    assert (tmp_path / "m" / "best.pt").is_file() and (tmp_path / "m" / "result.json").is_file()
    # a killed run resumed with a budget it has already spent: evaluated and finished at once
    train(small_cfg(max_steps=1000), data, tmp_path / "k", progress=False, stop_after_steps=7)
    r2 = train(small_cfg(max_steps=1000), data, tmp_path / "k", progress=False, time_budget_s=1e-6)
    assert (r2.steps, r2.stopped, r2.resumed_from) == (7, "time_budget", 7)
    assert NeuralInflector.load(tmp_path / "k").predict(toy(STEMS[6:7]))


def test_bad_data_is_refused_with_every_problem(tmp_path):
    with pytest.raises(ConfigError) as exc:
        train(
            NeuralConfig.tiny(),
            [LanguageData("a", []), LanguageData("a", [E("x", None, "N")])],
            tmp_path / "m",
            progress=False,
        )
    text = str(exc.value)
    assert "duplicate language tags" in text and "no training entries" in text and "without a form" in text


def test_multilingual_tags_and_input_order(tmp_path):
    data = [LanguageData("a", toy(STEMS[:4])), LanguageData("b", [E(s, "x" + s, "N;PL") for s in STEMS[:4]])]
    train(NeuralConfig.tiny(max_steps=5), data, tmp_path / "m", progress=False)
    m = NeuralInflector.load(tmp_path / "m")
    items = [E(s, None, "V;PST") for s in ["kalkalkal", "k", "tom"]]
    out = m.predict(items, tag="a")
    assert len(out) == 3 and all(isinstance(x, str) for x in out)
    with pytest.raises(ConfigError, match="pick one of"):
        m.predict(items)
    with pytest.raises(ConfigError, match="did you mean"):
        m.predict(items, tag="bb")
    assert m.predict([], tag="a") == []
    with pytest.raises(ConfigError, match="missing"):
        NeuralInflector.load(tmp_path)


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda")
    with pytest.raises(ConfigError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA"):
            resolve_device("cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bf16_training_and_resume(tmp_path):
    cfg = small_cfg(max_steps=40)
    data = [LanguageData("a", toy(STEMS[:10]), toy(STEMS[10:]))]
    train(cfg, data, tmp_path / "m", device="cuda", progress=False, stop_after_steps=15)
    r = train(cfg, data, tmp_path / "m", device="cuda", progress=False)
    assert r.device == "cuda" and r.steps == 40 and r.resumed_from == 15
    m = NeuralInflector.load(tmp_path / "m", device="cuda")
    assert len(m.predict(toy(STEMS[10:]), beam=2)) == 8
