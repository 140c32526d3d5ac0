"""AdaptationPlan (pure, JSON, written before training) and config validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from lexiconlm.adapt.config import config_signature, load_config
from lexiconlm.adapt.plan import AdaptationPlan, read_plan
from lexiconlm.adapt.run import plan_only
from lexiconlm.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "adapt" / "tiny.yaml"


def test_plan_is_written_pure_and_round_trips(tmp_path):
    a = plan_only(TINY, out_dir=tmp_path / "a")
    first = a.read_text()
    b = plan_only(TINY, out_dir=tmp_path / "a")  # same base folder (builtin:tiny is built once per run folder)
    assert b.read_text() == first
    pa, pb = read_plan(a), read_plan(b)
    assert pa.n_new == 200 and pa.tokenizer_kind == "Unigram" and pa.init_method == "lexicon.v1"
    assert pa == pb
    assert AdaptationPlan.from_dict(json.loads(a.read_text())) == pa
    assert [t[0] for t in pa.new_tokens] == list(range(pa.base_vocab_size, pa.new_vocab_size))
    assert pa.fresh_head is True and pa.tied_embeddings is True
    assert pa.frozen_modules == ()  # freeze_body: false
    assert pa.texts["train_segments"] > 0 and pa.texts["heldout_segments"] > 0
    assert not (tmp_path / "a" / "checkpoints").exists()  # planning trains nothing
    assert json.loads((tmp_path / "a" / "config.json").read_text())["language"] == "ind"


def test_frozen_body_lists_the_body_modules(tmp_path):
    path = plan_only(TINY, out_dir=tmp_path, overrides=["mlm.freeze_body=true", "init.method=mean"])
    plan = read_plan(path)
    assert "bert.encoder" in plan.frozen_modules
    assert "bert.embeddings.word_embeddings" in plan.trainable_modules
    assert any(m.startswith("cls.") for m in plan.trainable_modules)
    assert plan.init_method == "mean.v1"


def test_config_errors_list_every_problem(tmp_path):
    bad = {
        "base_model": "builtin:tiny",
        "language": "notalanguage",
        "text": {"train": ["missing.txt"], "heldout_fraction": 2},
        "init": {"method": "lexicn"},
        "mlm": {"steps": -1, "precison": "bf16", "precision": "fp8"},
        "tokenizr": {},
    }
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    text = str(info.value)
    for needle in (
        "language ->",
        "missing.txt",
        "heldout_fraction",
        "init.method",
        "mlm.steps",
        "mlm.precison -> unknown key. Did you mean: precision?",
        "mlm.precision",
        "tokenizr",
    ):
        assert needle in text, needle
    assert len(info.value.problems) >= 8


def test_lexicon_init_without_lexicon_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a lexicon"):
        load_config(TINY, ["lexicon=null"])
    cfg = load_config(TINY, ["lexicon=null"], has_lexicon=True)
    assert cfg["lexicon"] is None


def test_signature_ignores_logging_settings_only():
    cfg = load_config(TINY)
    assert config_signature(cfg) == config_signature(load_config(TINY, ["mlm.save_every=1", "mlm.log_every=5"]))
    assert config_signature(cfg) != config_signature(load_config(TINY, ["mlm.lr=0.1"]))


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "adapt").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_starts_with_its_command_and_validates(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# lexiconlm adapt run --config configs/adapt/" + path.name)
    raw_needs_shared = "shared/data" in path.read_text(encoding="utf-8")
    if raw_needs_shared and not (REPO.parent / "shared" / "data").is_dir():
        pytest.skip("../shared/data is absent")
    cfg = load_config(path)
    assert cfg["init"]["method"].endswith(".v1")
