"""The training toolkit: RNG state, autocast, checkpoints without pickle (round trip, exact resume,
corrupt and old-format files), the tiny-model builder, and the three loops' resume paths."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from lexiconlm.errors import ConfigError, UnknownNameError
from lexiconlm.training import (
    STATE_FILE,
    TENSORS_FILE,
    CheckpointError,
    autocast,
    build_tiny_model,
    capture_rng,
    checkpoint_exists,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
    seed_all,
    tiny_tokenizer,
)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo"


def _draws() -> tuple:
    import numpy as np

    return (
        random.random(),
        random.gauss(0, 1),
        np.random.rand(3).tolist(),
        torch.rand(3).tolist(),
        torch.randn(2).tolist(),
    )


# --------------------------------------------------------------------------- RNG


def test_rng_round_trip_directly_and_through_a_checkpoint(tmp_path):
    seed_all(5)
    random.gauss(0, 1)  # leaves a cached Gaussian in Python's generator state
    state = capture_rng()
    want = _draws()
    restore_rng(state)
    assert _draws() == want
    save_checkpoint(tmp_path / "ck", {"rng": state})
    seed_all(99)
    restore_rng(load_checkpoint(tmp_path / "ck")["rng"])
    assert _draws() == want
    doc = json.loads((tmp_path / "ck" / STATE_FILE).read_text())
    assert doc["state"]["rng"]["torch"] == {"__tensor__": "rng/torch"}  # bytes in safetensors


# --------------------------------------------------------------------------- autocast


def test_autocast_is_bf16_on_cuda_only_unless_asked():
    a, b = torch.ones(2, 2), torch.ones(2, 2)
    with autocast("cpu"):
        assert (a @ b).dtype == torch.float32
    with autocast("cpu", "bf16"):
        assert (a @ b).dtype == torch.bfloat16
    with autocast("cuda", "fp32"):
        assert not torch.is_autocast_enabled("cuda")
    with pytest.raises(ConfigError, match="precision"):
        autocast("cpu", "fp16")


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_keeps_types_and_values(tmp_path):
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    state = {
        "step": 7,
        "best": -math.inf,
        "loss": 0.1 + 0.2,
        "name": "x",
        "flag": True,
        "none": None,
        "betas": (0.9, 0.98),
        "by_id": {0: {"m": torch.ones(2)}, 1: {"m": torch.zeros(2)}},
        "tensors": {
            "bf16": torch.randn(3).to(torch.bfloat16),
            "int": torch.tensor([1, 2], dtype=torch.int64),
            "bytes": torch.get_rng_state(),
            "scalar": torch.tensor(3.5),
            "empty": torch.zeros(0),
        },
        "tied_a": base,
        "tied_b": base.detach(),
        "slice": base[1:],  # shared memory
        "marker_like": {"__tensor__": "not a tensor"},
        "history": [{"epoch": 1, "loss": 2.5}],
    }
    save_checkpoint(tmp_path / "ck", state)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [STATE_FILE, TENSORS_FILE]
    got = load_checkpoint(tmp_path / "ck")
    assert got["step"] == 7 and got["best"] == -math.inf and got["loss"] == 0.1 + 0.2
    assert got["betas"] == (0.9, 0.98) and isinstance(got["betas"], tuple)
    assert set(got["by_id"]) == {0, 1} and torch.equal(got["by_id"][1]["m"], torch.zeros(2))
    for k, v in state["tensors"].items():
        assert got["tensors"][k].dtype == v.dtype and torch.equal(got["tensors"][k], v), k
    assert torch.equal(got["tied_a"], base) and torch.equal(got["tied_b"], base)
    assert torch.equal(got["slice"], base[1:])
    assert got["marker_like"] == {"__tensor__": "not a tensor"}
    assert got["history"] == state["history"] and got["none"] is None and got["flag"] is True


def test_checkpoint_is_read_without_pickle(tmp_path, monkeypatch):
    import pickle

    save_checkpoint(tmp_path / "ck", {"w": torch.ones(3), "opt": {"state": {0: {"step": torch.tensor(1.0)}}}})

    def refuse(*args, **kwargs):
        raise AssertionError("pickle/torch.load was used to read a checkpoint")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    assert torch.equal(load_checkpoint(tmp_path / "ck")["w"], torch.ones(3))


def test_a_failed_save_leaves_the_old_checkpoint_and_no_temporary_folder(tmp_path):
    save_checkpoint(tmp_path / "ck", {"step": 1, "w": torch.ones(2)})
    with pytest.raises(TypeError, match="a function cannot be stored"):
        save_checkpoint(tmp_path / "ck", {"step": 2, "fn": lambda: 0})
    assert load_checkpoint(tmp_path / "ck")["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]
    save_checkpoint(tmp_path / "ck", {"step": 3})  # replaced whole
    assert load_checkpoint(tmp_path / "ck")["step"] == 3


def _tiny_loop(steps: int, model, opt, sched) -> list[float]:
    losses = []
    for _ in range(steps):
        x = torch.randn(4, 6)
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses


def _make(seed: int):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
    return model, opt, sched


def test_a_tiny_loop_resumes_bit_identically(tmp_path):
    model, opt, sched = _make(0)
    full = _tiny_loop(10, model, opt, sched)

    model2, opt2, sched2 = _make(0)
    first = _tiny_loop(4, model2, opt2, sched2)
    save_checkpoint(
        tmp_path / "ck",
        {
            "model": model2.state_dict(),
            "optimizer": opt2.state_dict(),
            "scheduler": sched2.state_dict(),
            "rng": capture_rng(),
        },
    )
    torch.manual_seed(123)  # the "new process" has other random state and fresh objects
    model3, opt3, sched3 = _make(1)
    state = load_checkpoint(tmp_path / "ck")
    model3.load_state_dict(state["model"])
    opt3.load_state_dict(state["optimizer"])
    sched3.load_state_dict(state["scheduler"])
    restore_rng(state["rng"])
    rest = _tiny_loop(6, model3, opt3, sched3)
    assert first + rest == full
    for (k, a), b in zip(model.state_dict().items(), model3.state_dict().values()):
        assert torch.equal(a, b), k
    for i, s in opt.state_dict()["state"].items():
        assert torch.equal(s["exp_avg_sq"], opt3.state_dict()["state"][i]["exp_avg_sq"])
    assert sched.state_dict() == sched3.state_dict()


def test_truncated_or_damaged_files_name_the_file_and_the_fix(tmp_path):
    folder = tmp_path / "ck"
    save_checkpoint(folder, {"w": torch.randn(64, 64)})
    data = (folder / TENSORS_FILE).read_bytes()
    (folder / TENSORS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(folder, restart_hint="rerun with --no-resume")
    text = str(exc.value)
    assert str(folder / TENSORS_FILE) in text and "truncated" in text
    assert "rerun with --no-resume" in text and f"delete {folder}" in text
    assert exc.value.path == folder / TENSORS_FILE

    save_checkpoint(folder, {"w": torch.randn(2)})
    raw = (folder / STATE_FILE).read_text()
    (folder / STATE_FILE).write_text(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=f"{STATE_FILE}: cannot read the checkpoint state"):
        load_checkpoint(folder)
    (folder / STATE_FILE).write_text(raw)
    (folder / TENSORS_FILE).unlink()
    with pytest.raises(CheckpointError, match=f"{TENSORS_FILE}: no such file"):
        load_checkpoint(folder)


# --------------------------------------------------------------------------- old pickle checkpoints


class _Payload:
    """Unpickling this creates ``marker``: what a crafted checkpoint could do."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _write_payload(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": _Payload(marker)}, path)
    return path


def test_the_payload_is_live(tmp_path):
    """The old loaders (``torch.load(weights_only=False)``) would have run it."""
    marker = tmp_path / "ran"
    torch.load(_write_payload(tmp_path / "state.pt", marker), weights_only=False)
    assert marker.exists()


def test_an_old_state_pt_is_refused_unopened(tmp_path):
    marker = tmp_path / "PWNED"
    _write_payload(tmp_path / "ck" / "state.pt", marker)
    assert checkpoint_exists(tmp_path / "ck")
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(tmp_path / "ck", restart_hint="rerun with --no-resume")
    text = str(exc.value)
    assert str(tmp_path / "ck" / "state.pt") in text and "pickle" in text and "--no-resume" in text
    assert not marker.exists()


@pytest.fixture(scope="module")
def nlu_data():
    pytest.importorskip("transformers")
    from lexiconlm.io.massive import read_massive

    ds = read_massive(DEMO / "massive" / "en-US" / "train.tsv")
    train = replace(ds, utterances=ds.utterances[:64])
    known = {u.intent for u in train}
    dev = replace(ds, utterances=tuple(u for u in ds.utterances[64:160] if u.intent in known)[:32])
    return train, dev


NLU_TINY = {
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


def test_nlu_resume_never_unpickles_an_old_checkpoint(tmp_path, nlu_data):
    import shutil

    from lexiconlm.nlu.train import train_joint

    train, dev = nlu_data
    run, marker = tmp_path / "run", tmp_path / "PWNED"
    train_joint(NLU_TINY, train=[train], dev=dev, out_dir=run, device="cpu", progress=False, stop_after_steps=1)
    shutil.rmtree(run / "checkpoint")
    _write_payload(run / "checkpoint" / "state.pt", marker)
    with pytest.raises(CheckpointError) as exc:
        train_joint(NLU_TINY, train=[train], dev=dev, out_dir=run, device="cpu", progress=False)
    assert str(run / "checkpoint" / "state.pt") in str(exc.value) and "--no-resume" in str(exc.value)
    assert not marker.exists()
    # --no-resume starts over without opening it
    train_joint(
        NLU_TINY, train=[train], dev=dev, out_dir=run, device="cpu", progress=False, resume=False, stop_after_steps=1
    )
    assert not marker.exists() and (run / "checkpoint" / STATE_FILE).is_file()


def test_nlu_truncated_checkpoint_names_the_file(tmp_path, nlu_data):
    from lexiconlm.nlu.train import train_joint

    train, dev = nlu_data
    run = tmp_path / "run"
    train_joint(NLU_TINY, train=[train], dev=dev, out_dir=run, device="cpu", progress=False, stop_after_steps=1)
    f = run / "checkpoint" / TENSORS_FILE
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated") as exc:
        train_joint(NLU_TINY, train=[train], dev=dev, out_dir=run, device="cpu", progress=False)
    assert str(f) in str(exc.value) and "--no-resume" in str(exc.value)


def test_nlu_history_after_a_resume_equals_the_uninterrupted_run(tmp_path, nlu_data):
    from lexiconlm.nlu.train import train_joint

    train, dev = nlu_data
    train_joint(NLU_TINY, train=[train], dev=dev, out_dir=tmp_path / "full", device="cpu", progress=False)
    part = tmp_path / "part"
    # killed twice inside the first epoch (8 batches), then resumed to the end
    train_joint(NLU_TINY, train=[train], dev=dev, out_dir=part, device="cpu", progress=False, stop_after_steps=3)
    train_joint(NLU_TINY, train=[train], dev=dev, out_dir=part, device="cpu", progress=False, stop_after_steps=2)
    train_joint(NLU_TINY, train=[train], dev=dev, out_dir=part, device="cpu", progress=False)

    def history(run: Path) -> list[tuple]:
        rows = [json.loads(x) for x in (run / "history.jsonl").read_text().splitlines()]
        return [(r["epoch"], r["step"], r["train_loss"], r.get("dev_exact_match")) for r in rows]

    assert history(part) == history(tmp_path / "full")
    assert len(history(part)) == 2


def test_inflection_resume_never_unpickles_an_old_checkpoint(tmp_path):
    import shutil

    from lexiconlm.inflection.neural import LanguageData, NeuralConfig, train
    from lexiconlm.types import InflectionEntry as E

    data = [LanguageData("x", [E(s, s + "ni", "V;PST") for s in ("kal", "tom", "ruk")])]
    run, marker = tmp_path / "m", tmp_path / "PWNED"
    cfg = NeuralConfig.tiny(max_steps=4)
    train(cfg, data, run, device="cpu", progress=False, stop_after_steps=2)
    shutil.rmtree(run / "checkpoint")
    _write_payload(run / "checkpoint.pt", marker)  # where earlier versions kept it
    with pytest.raises(CheckpointError) as exc:
        train(cfg, data, run, device="cpu", progress=False)
    assert str(run / "checkpoint.pt") in str(exc.value) and "--no-resume" in str(exc.value)
    assert not marker.exists()
    r = train(cfg, data, run, device="cpu", progress=False, resume=False)
    assert r.steps == 4 and not marker.exists() and not (run / "checkpoint.pt").exists()


def test_adapt_resume_never_unpickles_an_old_checkpoint(tmp_path):
    pytest.importorskip("accelerate")
    from lexiconlm.adapt.run import adapt

    run, marker = tmp_path / "run", tmp_path / "PWNED"
    _write_payload(run / "checkpoints" / "step-0000001" / "state.pt", marker)
    overrides = ["mlm.steps=2", "mlm.save_every=1", "tokenizer.new_tokens=20", "init.method=mean"]
    with pytest.raises(CheckpointError) as exc:
        adapt(REPO / "configs" / "adapt" / "tiny.yaml", out_dir=run, device="cpu", progress=False, overrides=overrides)
    assert str(run / "checkpoints" / "step-0000001" / "state.pt") in str(exc.value)
    assert "--no-resume" in str(exc.value)
    assert not marker.exists()


# --------------------------------------------------------------------------- tiny models


TEXTS = ["the cat sat on the mat", "a dog ate the bone, twice!", "ሰላም ለዓለም", "café naïve 5€"] * 5


@pytest.mark.parametrize("recipe", ["wordpiece-whitespace.v1", "wordpiece-bert.v1", "unigram-metaspace.v1"])
def test_tiny_tokenizers_are_deterministic(recipe):
    pytest.importorskip("transformers")
    a = tiny_tokenizer(TEXTS, recipe, vocab_size=60, max_length=64)
    b = tiny_tokenizer(TEXTS, recipe, vocab_size=60, max_length=64)
    assert a.backend_tokenizer.to_str() == b.backend_tokenizer.to_str()
    ids = a("the cat ሰላም")["input_ids"]
    assert ids[0] == a.cls_token_id and a.unk_token_id not in ids  # every character is in the vocabulary


def test_tiny_model_is_small_and_seeded(tmp_path):
    pytest.importorskip("transformers")
    from lexiconlm.training import save_model_folder

    cfg = {"vocab_size": 80, "hidden_size": 8, "num_hidden_layers": 1, "intermediate_size": 16}
    m1, tok = build_tiny_model(TEXTS, cfg, seed=3)
    m2, _ = build_tiny_model(TEXTS, cfg, seed=3)
    assert type(m1).__name__ == "BertForMaskedLM" and m1.config.vocab_size == len(tok)
    assert 1000 < sum(p.numel() for p in m1.parameters()) < 10_000
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(a, b), k
    body, _ = build_tiny_model(TEXTS, cfg, tokenizer=tok, masked_lm=False, seed=3)
    assert type(body).__name__ == "BertModel" and body.pooler is None
    folder = save_model_folder(m1, tok, tmp_path / "m")
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()


def test_tiny_builder_reports_bad_settings():
    with pytest.raises(ConfigError) as exc:
        build_tiny_model(TEXTS, {"hidden_sise": 8, "num_hidden_layers": 0})
    assert "hidden_sise -> unknown key" in str(exc.value) and "num_hidden_layers" in str(exc.value)
    with pytest.raises(UnknownNameError, match="Did you mean: wordpiece-bert.v1"):
        tiny_tokenizer(TEXTS, "wordpiece-bert.v2")
