"""adapt() end to end on the tiny config: plan before training, HF folder, metrics; texts and a
Lexicon passed in; bad inputs; two CPU processes (gloo) through torchrun."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from lexiconlm.adapt.run import adapt
from lexiconlm.adapt.vocab import UnsupportedTokenizerError
from lexiconlm.errors import ConfigError
from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "adapt" / "tiny.yaml"


def test_tiny_config_end_to_end(tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    m = adapt(TINY, out_dir=tmp_path, device="cpu", progress=False)
    for key in (
        "mlm_loss_init",
        "mlm_loss_final",
        "tokens_per_s",
        "mfu",
        "device",
        "model_dir",
        "precision",
        "flops_per_token",
        "world_size",
    ):
        assert key in m
    assert m["device"] == "cpu" and m["world_size"] == 1 and m["fresh_head"] is True
    assert m["new_tokens"] == 200 and m["mlm_loss_final"] > 0
    # plan.json was written before the first checkpoint
    plan_t = (tmp_path / "plan.json").stat().st_mtime
    first_ckpt = sorted((tmp_path / "checkpoints").iterdir())[0] / "state.json"
    assert plan_t <= first_ckpt.stat().st_mtime
    assert json.loads((tmp_path / "metrics.json").read_text())["model_dir"] == m["model_dir"]
    tok = AutoTokenizer.from_pretrained(m["model_dir"])
    model = AutoModelForMaskedLM.from_pretrained(m["model_dir"])
    assert len(tok) == model.config.vocab_size == m["new_vocab_size"]
    enc = AutoModel.from_pretrained(m["model_dir"])  # what downstream NLU training loads
    out = enc(**tok(["semua orang berhak"], return_tensors="pt"))
    assert out.last_hidden_state.shape[-1] == model.config.hidden_size
    # a second call finds everything done and resumes at the end
    again = adapt(TINY, out_dir=tmp_path, device="cpu", progress=False)
    assert again["resumed_from"] == m["steps"] and again["steps_run"] == 0
    assert again["mlm_loss_final"] == pytest.approx(m["mlm_loss_final"])
    # ... and keeps the throughput its training measured (not None from a call that trained nothing)
    assert again["tokens_per_s"] == m["tokens_per_s"] is not None and again["wall_s"] == m["wall_s"]
    assert json.loads((tmp_path / "metrics.json").read_text())["tokens_per_s"] == m["tokens_per_s"]


def test_texts_and_lexicon_passed_in(tmp_path):
    pseudo = ["anjing itu makan nasi di rumah", "rumah itu besar dan anjing itu kecil"] * 30
    lex = Lexicon(
        Language("eng", "English", scripts=("Latn",)),
        Language("ind", "Indonesian", scripts=("Latn",)),
        (LexiconEntry("dog", "anjing"), LexiconEntry("house", "rumah"), LexiconEntry("rice", "nasi")),
        Provenance("test/en-id.tsv", "tsv"),
    )
    cfg = {
        "base_model": "builtin:tiny",
        "language": "ind",
        "text": {"train": [], "heldout_fraction": 0.2},
        "tokenizer": {"new_tokens": 40},
        "init": {"method": "lexicon"},
        "mlm": {"steps": 2, "batch_size": 2, "seq_len": 16, "save_every": 0, "eval_segments": 4},
    }
    m = adapt(cfg, out_dir=tmp_path, texts=pseudo, lexicon=lex, device="cpu", progress=False)
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["lexicon"]["path"] == "test/en-id.tsv"
    assert plan["init_summary"]["by_source"].get("lexicon", 0) > 0
    assert m["init_method"] == "lexicon.v1"


def test_train_rows_new_keeps_the_base_rows_bit_identical(tmp_path):
    from transformers import AutoModel, AutoModelForMaskedLM

    from lexiconlm.adapt.config import config_signature, load_config

    m_all = adapt(TINY, out_dir=tmp_path / "all", device="cpu", progress=False, overrides=["mlm.save_every=0"])
    m_new = adapt(
        TINY,
        out_dir=tmp_path / "new",
        device="cpu",
        progress=False,
        overrides=["mlm.save_every=0", "mlm.train_rows=new"],
    )
    n_old = m_new["base_vocab_size"]
    base = AutoModel.from_pretrained(tmp_path / "new" / "base").get_input_embeddings().weight.detach()[:n_old]
    a = AutoModelForMaskedLM.from_pretrained(m_all["model_dir"]).get_input_embeddings().weight.detach()
    b = AutoModelForMaskedLM.from_pretrained(m_new["model_dir"]).get_input_embeddings().weight.detach()
    assert torch.equal(b[:n_old], base)  # "new": the base rows are bit-identical after training
    assert not torch.equal(a[:n_old], base)  # "all": they moved
    assert b.shape[0] == n_old + m_new["new_tokens"]
    # the base rows do not count as trained: exactly their number of values fewer than with "all"
    assert m_all["trainable_params"] - m_new["trainable_params"] == n_old * b.shape[1] + n_old  # rows + output bias
    # the trainer says how many parameters it trained: the base rows do not count with "new"
    assert m_new["trainable_params"] < m_all["trainable_params"]
    # the default leaves earlier signatures unchanged; "new" is a different run; a bad value is refused
    cfg = load_config(TINY)
    assert config_signature(cfg) == config_signature(
        {**cfg, "mlm": {k: v for k, v in cfg["mlm"].items() if k != "train_rows"}}
    )
    assert config_signature(load_config(TINY, ["mlm.train_rows=new"])) != config_signature(cfg)
    with pytest.raises(ConfigError, match="mlm.train_rows"):
        load_config(TINY, ["mlm.train_rows=old"])


def test_unsupported_tokenizer_type_is_refused(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from lexiconlm.adapt.mlm import build_tiny_base

    folder = build_tiny_base(tmp_path / "base", ["a b c d e"] * 10, vocab_size=20, hidden=8)
    wl = Tokenizer(
        models.WordLevel({"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 3, "<mask>": 4, "a": 5}, unk_token="<unk>")
    )
    wl.pre_tokenizer = pre_tokenizers.Whitespace()
    for f in ("tokenizer.json", "tokenizer_config.json"):
        (folder / f).unlink()
    PreTrainedTokenizerFast(
        tokenizer_object=wl,
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
    ).save_pretrained(folder)
    cfg = {
        "base_model": str(folder),
        "language": "ind",
        "init": "mean",
        "mlm": {"steps": 1, "batch_size": 2, "seq_len": 16},
    }
    with pytest.raises(UnsupportedTokenizerError, match="WordLevel"):
        adapt(cfg, out_dir=tmp_path / "run", texts=["satu dua tiga"] * 10, device="cpu", progress=False)


def test_missing_text_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="text.train"):
        adapt({"base_model": "builtin:tiny", "language": "ind"}, out_dir=tmp_path, device="cpu")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_cpu_processes_with_gloo(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(_free_port()),
        "-m",
        "lexiconlm",
        "adapt",
        "run",
        "--config",
        str(TINY),
        "--out",
        str(tmp_path),
        "--device",
        "cpu",
        "--quiet",
        "--set",
        "mlm.steps=2",
        "--set",
        "mlm.save_every=1",
        "--set",
        "tokenizer.new_tokens=40",
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["steps_run"] == 2
    assert (tmp_path / "checkpoints" / "step-0000002" / "state.json").is_file()
