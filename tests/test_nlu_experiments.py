"""NLU experiment runner, CLI, configs, controls, baseline and plots (tiny models, demo data)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lexiconlm.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs" / "nlu").glob("*.yaml"))


def test_every_config_starts_with_its_command_and_loads(shared_data):
    from lexiconlm.nlu.experiments import load_experiment_config

    assert CONFIGS
    for cfg in CONFIGS:
        first = cfg.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# lexiconlm nlu run configs/nlu/" + cfg.name), cfg
        c = load_experiment_config(cfg)
        assert c["systems"] and c["data"]["test_dir"].exists()


def test_config_errors_list_every_problem(tmp_path):
    from lexiconlm.nlu.experiments import load_experiment_config

    with pytest.raises(ConfigError) as exc:
        load_experiment_config({"data": {"train": "nope.tsv"}, "systems": ["zero-shot", "magic"],
                                "pseudo": {"cap": 0}, "train": {"epochs": 0}, "bogus": 1}, base=tmp_path)
    text = str(exc.value)
    for part in ("data.train -> no such file", "data.dev -> required", "unknown system 'magic'",
                 "pseudo.cap", "train.epochs", "bogus -> unknown key"):
        assert part in text, part


def test_derangement_control_has_no_fixed_point():
    from lexiconlm.nlu.experiments import control_lexicons

    locs = ["af-ZA", "de-DE", "sl-SL", "th-TH"]
    matched = {"af-ZA": Path("afrikaans.txt"), "de-DE": Path("german.txt"), "sl-SL": None, "th-TH": Path("thai.txt")}
    ctl = control_lexicons(locs, matched, [], method="derange.v1")
    assert ctl == {"af-ZA": Path("german.txt"), "de-DE": Path("thai.txt"), "sl-SL": None, "th-TH": Path("afrikaans.txt")}


def test_other_language_control_never_uses_an_evaluated_language(shared_data):
    from lexiconlm.languages import get_catalog
    from lexiconlm.nlu.experiments import control_lexicons, matched_lexicons
    from lexiconlm.synth.locate import scan_lexicon_dir

    dirs = [shared_data / "lexicons" / "wiktionary", shared_data / "lexicons" / "gatitos"]
    locs = ["de-DE", "th-TH", "sw-KE", "sl-SL"]
    matched = matched_lexicons(locs, dirs)
    assert matched["sl-SL"] is None and matched["de-DE"].name == "german.txt"
    ctl = control_lexicons(locs, matched, dirs, exclude_locales=["fr-FR"])
    assert ctl["sl-SL"] is None
    langs = {f.path: f.language.iso639_3 for d in dirs for f in scan_lexicon_dir(d)}
    cat = get_catalog()
    banned = {cat.lookup(x).iso639_3 for x in locs + ["fr-FR", "en-US"]}
    picked = [langs[ctl[loc]] for loc in ("de-DE", "th-TH", "sw-KE")]
    assert len(set(picked)) == 3 and not set(picked) & banned


def test_baseline_learns_english_intents():
    from lexiconlm.io.massive import read_massive
    from lexiconlm.nlu.baseline import evaluate_baseline, train_baseline

    ds = read_massive(REPO / "resources" / "demo" / "massive" / "en-US" / "train.tsv")
    pipe = train_baseline(ds)
    res = evaluate_baseline(pipe, [ds])["en-US"]
    assert res["intent_accuracy"] > 90 and res["n"] == len(ds)


def test_cli_run_eval_plot_on_tiny_config(tmp_path):
    pytest.importorskip("torch")
    from lexiconlm.cli.main import main

    out = tmp_path / "run"
    assert main(["nlu", "run", str(REPO / "configs" / "nlu" / "tiny-cpu.yaml"), "--out", str(out),
                 "--systems", "baseline,zero-shot,translate-train", "--device", "cpu"]) == 0
    with open(out / "results.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["system"] for r in rows} == {"baseline", "zero-shot", "translate-train"}
    assert {"locale", "system", "intent_accuracy", "slot_f1", "exact_match", "n", "script", "family"} <= set(rows[0])
    for r in rows:
        assert r["locale"] == "id-ID" and r["n"] == "288" and 0 <= float(r["intent_accuracy"]) <= 100
    tt = next(r for r in rows if r["system"] == "translate-train")
    assert 0 < float(tt["lex_token_ratio"]) < 1  # the pseudo data's replaced-word ratio is reported
    assert (out / "pseudo" / "matched" / "id-ID.tsv").exists() and (out / "summary.csv").exists()
    assert (out / "plots" / "intent_accuracy.html").exists() and (out / "plots" / "intent_accuracy.vl.json").exists()
    # a second run reuses every finished system
    assert main(["nlu", "run", str(REPO / "configs" / "nlu" / "tiny-cpu.yaml"), "--out", str(out),
                 "--systems", "baseline,zero-shot,translate-train", "--no-plot"]) == 0
    # eval on the saved model through the CLI
    csv_out = tmp_path / "eval.csv"
    assert main(["nlu", "eval", str(out / "zero-shot" / "model"), str(REPO / "resources" / "demo" / "massive" / "test"),
                 "--out", str(csv_out), "--device", "cpu"]) == 0
    with open(csv_out, encoding="utf-8") as fh:
        ev = list(csv.DictReader(fh))
    zs = next(r for r in rows if r["system"] == "zero-shot")
    assert ev[0]["intent_accuracy"] == zs["intent_accuracy"] and ev[0]["slot_f1"] == zs["slot_f1"]


def test_cli_eval_bad_file_exit_code_and_lines(tmp_path, capsys):
    pytest.importorskip("torch")
    from lexiconlm.cli.main import main

    bad = tmp_path / "test" / "de-DE.tsv"
    bad.parent.mkdir()
    bad.write_text("id\tintent\tannot_utt\n1\talarm_set\tweck [time : neun\n", encoding="utf-8")
    assert main(["nlu", "eval", str(tmp_path / "nomodel"), str(bad.parent)]) == 2
    assert f"{bad}:2" in capsys.readouterr().err
