"""``lexiconlm adapt run|plan|fertility``: thin wrappers over the library; errors exit 2 with the message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from lexiconlm.cli.main import main

REPO = Path(__file__).resolve().parents[1]
TINY = str(REPO / "configs" / "adapt" / "tiny.yaml")
IND = str(REPO / "resources" / "demo" / "text" / "ind_udhr.tsv")


def test_help(capsys):
    assert main(["adapt", "--help"]) == 0
    out = capsys.readouterr().out
    for verb in ("run", "plan", "fertility"):
        assert verb in out


def test_plan_then_run(tmp_path, capsys):
    assert main(["adapt", "plan", "--config", TINY, "--out", str(tmp_path), "--set", "tokenizer.new_tokens=30"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["new_vocab_size"] - shown["base_vocab_size"] == 30
    assert (tmp_path / "plan.json").is_file()
    code = main(
        [
            "adapt",
            "run",
            "--config",
            TINY,
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
            "-q",
            "--set",
            "tokenizer.new_tokens=30",
            "--set",
            "mlm.steps=2",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "device: cpu" in captured.err
    metrics = json.loads(captured.out)
    assert metrics["new_tokens"] == 30 and Path(metrics["model_dir"]).is_dir()


def test_bad_config_exits_2_listing_problems(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("base_model: builtin:tiny\nlanguage: xx-nonsense\nmlm: {steps: -3}\n", encoding="utf-8")
    assert main(["adapt", "run", "--config", str(bad), "--out", str(tmp_path / "o"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "language" in err and "mlm.steps" in err and "text.train" in err


def test_fertility_command(tmp_path, capsys):
    from lexiconlm.adapt.mlm import build_tiny_base
    from lexiconlm.adapt.run import read_texts

    eng = read_texts([str(REPO / "resources" / "demo" / "text" / "eng_udhr.tsv")])
    folder = build_tiny_base(tmp_path / "base", eng, vocab_size=300, hidden=8)
    assert main(["adapt", "fertility", "--model", str(folder), "--text", IND, "--new-tokens", "300", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["overlap_segments"] == 0
    assert row["fertility_extended"] < row["fertility_base"]
    assert row["unk_rate_extended"] <= row["unk_rate_base"]
