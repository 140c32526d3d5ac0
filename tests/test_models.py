"""One model-name resolver and one loader of each kind (lexiconlm.models), portable model
names in signatures, one bio_spans, and step functions that do not shadow module names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lexiconlm import __version__
from lexiconlm import models as M
from lexiconlm.signature import Signature

# --------------------------------------------------------------------------- names


def _fake_model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (folder / name).write_text("{}", encoding="utf-8")
    return folder


def test_resolve_model_passes_paths_and_hub_ids_and_resolves_aliases(tmp_path, monkeypatch):
    monkeypatch.setenv("LEXICONLM_CACHE", str(tmp_path / "cache"))
    assert M.resolve_model("bert-base-multilingual-cased") == "bert-base-multilingual-cased"
    assert M.resolve_model(tmp_path) == str(tmp_path)
    _fake_model(M.e5_folder())
    for alias in ("e5-small", "multilingual-e5-small", "intfloat/multilingual-e5-small"):
        assert M.resolve_model(alias) == str(M.e5_folder())


def test_model_ids_are_portable(tmp_path, monkeypatch):
    monkeypatch.setenv("LEXICONLM_CACHE", str(tmp_path / "cache"))
    e5 = _fake_model(M.e5_folder())
    local = _fake_model(tmp_path / "runs" / "adapt" / "model")
    assert M.model_id("e5-small") == "e5-small"
    assert M.model_id(str(e5)) == "e5-small"  # the cache path is this machine's
    assert M.model_id(str(local)) == "adapt/model"
    assert M.model_id("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"
    assert M.model_id("bert-base-multilingual-cased") == "bert-base-multilingual-cased"
    assert M.model_id("builtin:tiny") == "builtin:tiny"


def test_adapt_and_coverage_use_the_same_functions():
    from lexiconlm.adapt import run as AR
    from lexiconlm.coverage import tokenizer as CT

    assert AR.resolve_model is M.resolve_model
    assert M.load_tokenizer is CT.load_tokenizer
    import lexiconlm.nlu.model as NM  # noqa: F401 - needs torch

    assert not hasattr(NM, "load_encoder")


# --------------------------------------------------------------------------- loading


def _tiny_folder(path: Path) -> Path:
    """A tiny BERT with a WordPiece tokenizer trained here, saved as a Hugging Face folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordPieceTrainer(vocab_size=60, special_tokens=["[UNK]", "[PAD]"])
    tok.train_from_iterator(["habari ya asubuhi", "maji ni uhai"] * 5, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
    fast.save_pretrained(path)
    cfg = BertConfig(
        vocab_size=len(fast),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    BertModel(cfg).save_pretrained(path)
    return path


def test_an_alias_loads_the_same_way_for_every_caller(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from lexiconlm.coverage.tokenizer import load_tokenizer, tokenizer_coverage

    folder = _tiny_folder(tmp_path / "tiny")
    M.MODEL_ALIASES.register("tiny-test-alias", lambda name: str(folder))
    try:
        tok = load_tokenizer("tiny-test-alias")  # `lexiconlm coverage tokenizer -m ALIAS`
        assert tokenizer_coverage(tok, ["maji ni uhai"])["unk_rate"] == 0.0
        with_pooler = M.load_encoder("tiny-test-alias", "cpu")
        without = M.load_encoder("tiny-test-alias", "cpu", pooler=False)
    finally:
        M.MODEL_ALIASES.pop("tiny-test-alias")
    assert with_pooler.pooler is not None and without.pooler is None and not without.training


def test_load_tokenizer_says_when_a_folder_has_no_tokenizer(tmp_path):
    pytest.importorskip("transformers")
    from lexiconlm.errors import LexiconLMError

    (tmp_path / "empty").mkdir()
    with pytest.raises(LexiconLMError, match="exists but holds no tokenizer files"):
        M.load_tokenizer(tmp_path / "empty")


# --------------------------------------------------------------------------- signatures


def test_nlu_signature_is_a_signature_with_a_portable_model(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from lexiconlm.nlu.train import DEFAULTS, _signature

    cfg = dict(DEFAULTS)
    sig = _signature(cfg)
    # the same text the f-string gave before it became a Signature
    assert sig == (
        f"nlu:joint.v1|model:e5-small|pool:{cfg['pooling']}|max_len:{cfg['max_len']}|bs:{cfg['batch_size']}"
        f"|ep:{cfg['epochs']}|lr:{cfg['lr']}|head_lr:{cfg['head_lr']}|frozen_emb:{cfg['freeze_embeddings']}"
        f"|seed:{cfg['seed']}|select:{cfg['select_metric']}|lexiconlm:{__version__}"
    )
    monkeypatch.setenv("LEXICONLM_CACHE", str(tmp_path / "cache"))
    e5 = _fake_model(M.e5_folder())
    assert Signature.parse(_signature({**cfg, "model": str(e5)}))["model"] == "e5-small"
    scratch = Signature.parse(_signature({**cfg, "model": {"scratch": {"hidden": 8}}}))
    assert scratch["model"] == 'scratch{"hidden": 8}'


def test_adapt_config_signature_fields(tmp_path, monkeypatch):
    from lexiconlm.adapt.config import config_signature

    monkeypatch.setenv("LEXICONLM_CACHE", str(tmp_path / "cache"))
    cfg = {
        "base_model": str(_fake_model(M.e5_folder())),
        "language": "amh",
        "init": {"method": "lexicon.v1", "options": {}},
        "mlm": {"lr": 5e-4, "save_every": 10, "log_every": 10, "peak_tflops": None, "train_rows": "all"},
    }
    sig = Signature.parse(config_signature(cfg))
    # no lexiconlm version: a run resumes after an upgrade
    assert list(sig) == ["adapt", "model", "lang", "init", "config"]
    assert sig["model"] == "e5-small" and sig["lang"] == "amh" and sig["init"] == "lexicon.v1"
    assert re.fullmatch(r"[0-9a-f]{12}", sig["config"])
    logging_only = {**cfg, "mlm": {**cfg["mlm"], "save_every": 1, "log_every": 5}}
    assert config_signature(logging_only) == config_signature(cfg)
    assert config_signature({**cfg, "mlm": {**cfg["mlm"], "lr": 0.1}}) != config_signature(cfg)
    assert config_signature(cfg, extra={"train": "x"}) != config_signature(cfg)


# --------------------------------------------------------------------------- one bio_spans


def test_one_bio_spans_with_an_explicit_outside_rule():
    from lexiconlm.io.conll import bio_spans
    from lexiconlm.nlu import metrics

    assert metrics.bio_spans is bio_spans
    tags = ["Other", "B-time", "time", "NOUN", "B-Other", "I-x y"]
    # CoNLL files: only B-X / I-X tags are entities (a POS label such as NOUN is outside)
    assert bio_spans(tags) == [("time", 1, 2), ("Other", 4, 5)]
    # MASSIVE: only O / Other / "" are outside; a bare label continues or opens a span
    massive = [("time", 1, 3), ("NOUN", 3, 4), ("x y", 5, 6)]
    assert bio_spans(tags, outside=metrics.OUTSIDE) == massive
    gold, pred = [["B-time", "time"]], [["B-time", "I-time"]]
    assert metrics.span_f1(gold, pred) == 100.0  # the metric reads tags with the MASSIVE rule


# --------------------------------------------------------------------------- step names


def test_step_functions_do_not_shadow_module_names():
    from lexiconlm.expand import steps

    for name, step in steps.STEPS.items():
        assert step.run.__name__ == f"step_{name}" and getattr(steps, f"step_{name}") is step.run
    for shadow in ("adapt", "train", "evaluate", "model", "report", "synth"):
        assert not callable(getattr(steps, shadow, None)), shadow
