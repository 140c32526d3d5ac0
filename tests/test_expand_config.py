"""Validation of ``lexiconlm expand`` configurations and the per-language inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lexiconlm.errors import ConfigError
from lexiconlm.expand.config import config_from_dict, language_inputs, load_config
from lexiconlm.expand.pipeline import parse_steps

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "resources" / "demo"


def _minimal(**extra):
    raw = {"data": {"lexicons": str(DEMO / "lexicons"), "massive_train": str(DEMO / "massive" / "en-US" / "train.tsv")}}
    raw.update(extra)
    return raw


def test_every_problem_is_listed_before_work():
    raw = {
        "nmae": "x",
        "languages": ["qqqz"],
        "data": {"lexicons": "nowhere", "massive_train": "/no/such/train.tsv", "unimorf": "x"},
        "synth": {"oov": "kep", "min_replaced": -1},
        "evaluate": {
            "sigmorphon": {"systems": ["afix"]},
            "held_out_share": 2,
            "translate_test": {"enabled": "yes", "weight": 1.5},
        },
        "nlu": {"config": {"epoch": 2}},
    }
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw, base_dir=REPO)
    text = str(err.value)
    problems = err.value.problems
    assert "nmae -> unknown key. Did you mean: name?" in problems
    assert any(p.startswith("data.unimorf -> unknown key. Did you mean: unimorph") for p in problems)
    assert any(p.startswith("data.lexicons -> nowhere does not exist") for p in problems)
    assert any(p.startswith("data.massive_train -> /no/such/train.tsv does not exist") for p in problems)
    assert any("Unknown language 'qqqz'" in p for p in problems)
    assert any(p.startswith("synth.oov ->") and "Did you mean: keep?" in p for p in problems)
    assert any(p.startswith("synth.min_replaced ->") for p in problems)
    assert any("Did you mean: affix?" in p for p in problems)
    assert any(p.startswith("evaluate.held_out_share ->") for p in problems)
    assert any(p.startswith("evaluate.translate_test.weight ->") for p in problems)
    assert any(p.startswith("evaluate.translate_test.enabled ->") for p in problems)
    assert "nlu.config.epoch -> unknown key. Did you mean: epochs?" in problems
    assert len(problems) >= 10 and text.startswith("invalid configuration")


def test_defaults_and_relative_paths(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    rel = Path("..") / Path(*([".."] * (len(tmp_path.parts) - 1))) / DEMO.relative_to("/")
    cfg_file.write_text(
        f"# lexiconlm expand --config {cfg_file}\ndata:\n  lexicons: {rel}/lexicons\n"
        f"  massive_train: {rel}/massive/en-US/train.tsv\n"
    )
    cfg = load_config(cfg_file)
    assert cfg.name == "c"
    assert cfg.get("data.lexicons") == [(DEMO / "lexicons").resolve()]
    assert cfg.get("model.base") == "tiny" and cfg.get("synth.sense") == "random"
    assert cfg.get("nlu.train") == ["source", "pseudo"]


def test_pseudo_needs_massive_train():
    with pytest.raises(ConfigError) as err:
        config_from_dict({"data": {"lexicons": str(DEMO / "lexicons")}})
    assert any("needs data.massive_train" in p for p in err.value.problems)


def test_overrides_and_language_check():
    cfg = load_config(REPO / "configs/expand/tiny.yaml", overrides=["nlu.config.epochs=2", "synth.sense=first"])
    assert cfg.get("nlu.config")["epochs"] == 2 and cfg.get("synth.sense") == "first"
    with pytest.raises(ConfigError) as err:
        load_config(REPO / "configs/expand/tiny.yaml", languages=["indonesain_x"])
    assert any(p.startswith("--lang ->") for p in err.value.problems)
    with pytest.raises(ConfigError):
        load_config(REPO / "configs/expand/tiny.yaml", overrides=["no-equals-sign"])


def test_language_inputs_found_through_the_catalog():
    cfg = config_from_dict(
        _minimal(
            data={
                "lexicons": str(DEMO / "lexicons"),
                "unimorph": str(DEMO / "unimorph"),
                "target_text": str(DEMO / "text"),
                "massive_train": str(DEMO / "massive/en-US/train.tsv"),
                "massive_test": str(DEMO / "massive/test"),
            }
        )
    )
    inp = language_inputs(cfg, "id-ID")
    assert inp.language.iso639_3 == "ind" and inp.locale == "id-ID"
    assert [p.name for p in inp.lexicons] == ["indonesian.txt"]
    assert [p.name for p in inp.unimorph] == ["ind.tsv"]
    assert [p.name for p in inp.target_text] == ["ind_udhr.tsv"]  # eng_udhr.tsv is English
    assert [p.name for p in inp.massive_test] == ["id-ID.tsv"]
    with pytest.raises(ConfigError) as err:
        language_inputs(cfg, "swh")
    assert "no English-Swahili lexicon" in str(err.value)


def test_parse_steps():
    assert parse_steps("report,synth") == ["synth", "report"]
    assert parse_steps(None)[0] == "ingest"
    with pytest.raises(ConfigError) as err:
        parse_steps("sytnh")
    assert "Did you mean: synth?" in str(err.value)


def test_cli_check_and_config_errors(capsys):
    from lexiconlm.cli.main import main

    assert main(["expand", "--lang", "ind", "--config", str(REPO / "configs/expand/tiny.yaml"), "--check"]) == 0
    out = capsys.readouterr().out
    assert "ind (Indonesian), locale id-ID:" in out and "config OK" in out
    code = main(
        [
            "expand",
            "--lang",
            "ind",
            "--config",
            str(REPO / "configs/expand/tiny.yaml"),
            "--set",
            "synth.sens=first",
            "--set",
            "nlu.trian=[source]",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "--set synth.sens -> unknown key. Did you mean: sense?" in err
    assert "--set nlu.trian -> unknown key. Did you mean: train?" in err


def test_validation_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys\nfrom lexiconlm.expand.config import load_config, language_inputs\n"
        f"cfg = load_config({str(REPO / 'configs/expand/tiny.yaml')!r})\nlanguage_inputs(cfg, 'ind')\n"
        "import lexiconlm.expand.pipeline, lexiconlm.cli.expand\nprint('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_optional_lexicons_join_when_present_and_are_a_note_when_absent(tmp_path):
    train = str(DEMO / "massive/en-US/train.tsv")
    absent = tmp_path / "induced"
    raw = {"data": {"lexicons": str(DEMO / "lexicons"), "optional_lexicons": [str(absent)], "massive_train": train}}
    cfg = config_from_dict(raw)  # an absent optional lexicon folder is not a problem
    assert [p.name for p in cfg.get("data.lexicons")] == ["lexicons"]
    inp = language_inputs(cfg, "id-ID")
    assert [p.name for p in inp.lexicons] == ["indonesian.txt"]
    assert any("optional lexicon" in n and "absent" in n for n in inp.notes)

    absent.mkdir()
    (absent / "en_ind.tsv").write_text("water\tair\n", encoding="utf-8")
    cfg = config_from_dict(raw)
    assert [p.name for p in cfg.get("data.lexicons")] == ["lexicons", "induced"]
    inp = language_inputs(cfg, "id-ID")
    assert sorted(p.name for p in inp.lexicons) == ["en_ind.tsv", "indonesian.txt"]
    assert not any("optional lexicon" in n for n in inp.notes)

    # only optional lexicons, none of them there: nothing to synthesise from
    with pytest.raises(ConfigError) as err:
        config_from_dict({"data": {"optional_lexicons": [str(tmp_path / "nope")], "massive_train": train}})
    assert "data.optional_lexicons -> none of" in str(err.value)
