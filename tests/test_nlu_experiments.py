"""NLU experiment runner, CLI, configs, controls, baseline and plots (tiny models, demo data)."""

from __future__ import annotations

import csv
import json
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
        load_experiment_config(
            {
                "data": {"train": "nope.tsv"},
                "systems": ["zero-shot", "magic"],
                "pseudo": {"cap": 0},
                "train": {"epochs": 0},
                "bogus": 1,
            },
            base=tmp_path,
        )
    text = str(exc.value)
    for part in (
        "data.train -> no such file",
        "data.dev -> required",
        "unknown system 'magic'",
        "pseudo.cap",
        "train.epochs",
        "bogus -> unknown key",
    ):
        assert part in text, part


def test_derangement_control_has_no_fixed_point():
    from lexiconlm.nlu.experiments import control_lexicons

    locs = ["af-ZA", "de-DE", "sl-SL", "th-TH"]
    matched = {"af-ZA": Path("afrikaans.txt"), "de-DE": Path("german.txt"), "sl-SL": None, "th-TH": Path("thai.txt")}
    ctl = control_lexicons(locs, matched, [], method="derange.v1")
    assert ctl == {
        "af-ZA": Path("german.txt"),
        "de-DE": Path("thai.txt"),
        "sl-SL": None,
        "th-TH": Path("afrikaans.txt"),
    }


def test_other_language_control_never_uses_an_evaluated_language(shared_data):
    from lexiconlm.io.locate import scan_lexicon_dir
    from lexiconlm.languages import get_catalog
    from lexiconlm.nlu.experiments import control_lexicons, matched_lexicons

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


def test_all_lexicons_of_a_language_are_merged_for_both_sides(tmp_path):
    from lexiconlm.nlu.experiments import control_lexicons, lexicon_label, matched_lexicons, read_merged

    wik, gat = tmp_path / "wiktionary", tmp_path / "gatitos"
    wik.mkdir()
    gat.mkdir()
    (wik / "en_de.tsv").write_text("dog\tHund\nhouse\tHaus\ncat\tKatze\n", encoding="utf-8")
    (gat / "en_de.tsv").write_text("dog\tHund\nlight\tLicht\n", encoding="utf-8")
    (wik / "en_nl.tsv").write_text("dog\thond\nhouse\thuis\ncat\tkat\nbig\tgroot\n", encoding="utf-8")
    (gat / "en_nl.tsv").write_text("light\tlicht\n", encoding="utf-8")
    dirs = [wik, gat]
    largest = matched_lexicons(["de-DE"], dirs)
    assert largest["de-DE"] == wik / "en_de.tsv"
    both = matched_lexicons(["de-DE"], dirs, which="all")
    assert both["de-DE"] == (wik / "en_de.tsv", gat / "en_de.tsv")
    lex = read_merged(both["de-DE"])
    assert [(e.source, e.target) for e in lex.entries] == [
        ("dog", "Hund"),
        ("house", "Haus"),
        ("cat", "Katze"),
        ("light", "Licht"),
    ]
    assert lex.tgt.iso639_3 == "deu" and lexicon_label(both["de-DE"]) == "wiktionary/en_de.tsv+gatitos/en_de.tsv"
    # the control picks its language by the largest file and merges every file of it
    ctl = control_lexicons(["de-DE"], both, dirs, which="all")
    assert ctl["de-DE"] == (wik / "en_nl.tsv", gat / "en_nl.tsv")
    assert control_lexicons(["de-DE"], largest, dirs)["de-DE"] == wik / "en_nl.tsv"


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
    assert (
        main(
            [
                "nlu",
                "run",
                str(REPO / "configs" / "nlu" / "tiny-cpu.yaml"),
                "--out",
                str(out),
                "--systems",
                "baseline,zero-shot,translate-train",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
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
    assert (
        main(
            [
                "nlu",
                "run",
                str(REPO / "configs" / "nlu" / "tiny-cpu.yaml"),
                "--out",
                str(out),
                "--systems",
                "baseline,zero-shot,translate-train",
                "--no-plot",
            ]
        )
        == 0
    )
    # eval on the saved model through the CLI, as written and with translate-test through the demo lexicon
    csv_out = tmp_path / "eval.csv"
    demo = REPO / "resources" / "demo"
    base_args = ["nlu", "eval", str(out / "zero-shot" / "model"), str(demo / "massive" / "test"), "--out", str(csv_out)]
    zs = next(r for r in rows if r["system"] == "zero-shot")
    for extra, systems in (
        ([], {"model"}),
        (
            ["--lexicons", str(demo / "lexicons"), "--english", str(demo / "massive" / "en-US" / "train.tsv")],
            {"model", "model+translate-test"},
        ),
    ):
        assert main([*base_args, "--device", "cpu", *extra]) == 0
        with open(csv_out, encoding="utf-8") as fh:
            ev = {r["system"]: r for r in csv.DictReader(fh)}
        assert set(ev) == systems  # the plain row is the run's own figure either way
        assert ev["model"]["intent_accuracy"] == zs["intent_accuracy"] and ev["model"]["slot_f1"] == zs["slot_f1"]


def test_cli_eval_bad_file_exit_code_and_lines(tmp_path, capsys):
    pytest.importorskip("torch")
    from lexiconlm.cli.main import main

    bad = tmp_path / "test" / "de-DE.tsv"
    bad.parent.mkdir()
    bad.write_text("id\tintent\tannot_utt\n1\talarm_set\tweck [time : neun\n", encoding="utf-8")
    assert main(["nlu", "eval", str(tmp_path / "nomodel"), str(bad.parent)]) == 1
    assert f"{bad}:2" in capsys.readouterr().err


def _morph_fixture(tmp_path):
    """A toy target language (Indonesian locale, invented plural forms) for the morph system."""
    lex_dir = tmp_path / "lexicons"
    lex_dir.mkdir()
    (lex_dir / "indonesian.txt").write_text("alarm\talarm\nsong\tlagu\nset\tpasang\nplay\tputar\n", encoding="utf-8")
    um = tmp_path / "unimorph"
    um.mkdir()
    (um / "ind.tsv").write_text(
        "alarm\talarm\tN;SG\nalarm\talarm-alarm\tN;PL\nalarm\talarmku\tN;PL;PSSD;PSS1S\n"
        "lagu\tlagu\tN;SG\nlagu\tlagu-lagu\tN;PL\n",
        encoding="utf-8",
    )
    (um / "heb.tsv").write_text("שיר\tשירים\tN;PL\n", encoding="utf-8")
    eng = tmp_path / "eng.tsv"
    eng.write_text("play\tplay\tV;NFIN\nplay\tplays\tV;PRS;NOM(3,SG)\nplay\tplayed\tV;PST\n", encoding="utf-8")
    train = tmp_path / "train.tsv"
    train.write_text(
        "id\tintent\tannot_utt\n1\talarm_query\tshow my alarms\n2\tplay_music\tplay [artist_name : adele] songs\n"
        "3\talarm_set\tset two alarms\n",
        encoding="utf-8",
    )
    return lex_dir, um, eng, train


def test_morph_system_inflects_plurals_and_is_validated(tmp_path):
    from lexiconlm.io.massive import read_massive
    from lexiconlm.nlu.experiments import build_pseudo, load_experiment_config, morph_tables

    lex_dir, um, eng, train = _morph_fixture(tmp_path)
    tables = morph_tables(["id-ID", "he-IL", "fr-FR"], [um])
    assert tables == {"id-ID": um / "ind.tsv", "he-IL": um / "heb.tsv", "fr-FR": None}
    morph = {
        "english": [eng],
        "generate_english": False,
        "use_inflector": True,
        "lemma_fallback": True,
        "plural_nouns": True,
    }
    pseudo = {"cap": 10, "seed": 13, "sense": "first", "oov": "keep", "hygiene": None, "join": "script"}
    ds, rows = build_pseudo(
        read_massive(train),
        {"id-ID": lex_dir / "indonesian.txt"},
        tmp_path / "pseudo",
        pseudo,
        mode="morph",
        progress=False,
        tables=tables,
        morph=morph,
    )
    texts = sorted(u.text for u in ds[0])
    assert texts == ["pasang two alarm-alarm", "putar adele lagu-lagu", "show my alarm-alarm"]
    assert [u.slots[0].label for u in ds[0] if u.slots] == ["artist_name"]  # labels survive
    assert rows[0]["unimorph"] == "ind.tsv" and rows[0]["n_inflected"] == 3
    report = json.loads((tmp_path / "pseudo" / "morph" / "id-ID.morph.json").read_text(encoding="utf-8"))
    assert report["n_inflected"] == 3 and report["english_plural_readings"] == 2
    assert report["table_problems"] == []
    # the same call again reads the cache; a changed table rebuilds; a bad line is skipped, kept in the
    # report with its file and line, and said
    (um / "ind.tsv").write_text("alarm\talarms-x\tN;PL\nbroken line without tabs\n", encoding="utf-8")
    said = []
    ds2, _ = build_pseudo(
        read_massive(train),
        {"id-ID": lex_dir / "indonesian.txt"},
        tmp_path / "pseudo",
        pseudo,
        mode="morph",
        progress=False,
        tables=tables,
        morph=morph,
        log=said.append,
    )
    assert "show my alarms-x" in {u.text for u in ds2[0]}
    report = json.loads((tmp_path / "pseudo" / "morph" / "id-ID.morph.json").read_text(encoding="utf-8"))
    assert len(report["table_problems"]) == 1 and "ind.tsv:2" in report["table_problems"][0]
    assert len(said) == 1 and "1 bad line(s) of ind.tsv" in said[0] and "ind.tsv:2" in said[0]

    base = {
        "data": {"train": str(train), "dev": str(train), "test_dir": str(tmp_path)},
        "lexicon_dirs": [str(lex_dir)],
        "systems": ["translate-train+morph"],
    }
    with pytest.raises(ConfigError) as exc:
        load_experiment_config(
            {**base, "morph": {"unimorph": ["nope"], "plural_nouns": "yes", "colour": 1}}, base=tmp_path
        )
    text = str(exc.value)
    for part in (
        "morph.unimorph -> no such file",
        "morph.english -> required",
        "morph.plural_nouns -> expected true or false",
        "morph.colour -> unknown key",
    ):
        assert part in text, part
    ok = load_experiment_config({**base, "morph": {"unimorph": [str(um)], "english": [str(eng)]}}, base=tmp_path)
    assert ok["morph"]["plural_nouns"] is True and ok["morph"]["unimorph"] == [um]
    assert ok["morph"]["without_table"] == "plain"
    with pytest.raises(ConfigError, match="morph.without_table"):
        load_experiment_config(
            {**base, "morph": {"unimorph": [str(um)], "english": [str(eng)], "without_table": "yes"}}, base=tmp_path
        )

    # a locale without a table: with without_table: lemma its inflected English words get the translated lemma
    out = {}
    for how in ("plain", "lemma"):
        ds_, rows_ = build_pseudo(
            read_massive(train),
            {"id-ID": lex_dir / "indonesian.txt"},
            tmp_path / how,
            pseudo,
            mode="morph",
            progress=False,
            tables={"id-ID": None},
            morph={**morph, "without_table": how},
        )
        out[how] = ({u.text for u in ds_[0]}, rows_[0]["unimorph"])
    assert "show my alarms" in out["plain"][0] and out["plain"][1] == ""
    assert "show my alarm" in out["lemma"][0] and out["lemma"][1] == "(lemmas only)"


def test_pseudo_text_for_adaptation_drops_english_and_short_sentences(tmp_path):
    from lexiconlm.io.massive import read_massive
    from lexiconlm.nlu.experiments import load_experiment_config, pseudo_text

    lex_dir, _, _, train = _morph_fixture(tmp_path)
    pseudo = {"sense": "first", "seed": 13, "hygiene": None}
    texts = pseudo_text(
        read_massive(train), "ind", [lex_dir], pseudo, n=10, out=tmp_path / "adapt" / "text.txt", min_replaced=1
    )
    # English words dropped ("adele", and "alarms"/"songs": the lexicon has only the singulars);
    # "show my alarms" keeps no translated word and is left out
    assert texts == ["putar", "pasang"]
    assert (tmp_path / "adapt" / "text.txt").read_text(encoding="utf-8").splitlines() == texts
    assert pseudo_text(read_massive(train), "ind", [lex_dir], pseudo, n=10) == []  # none has 3 translated words
    assert pseudo_text(read_massive(train), "ind", [lex_dir], pseudo, n=2, min_replaced=1) == ["putar"]
    with pytest.raises(ConfigError, match="no lexicon of deu"):
        pseudo_text(read_massive(train), "deu", [lex_dir], pseudo, n=10)
    base = {
        "data": {"train": str(train), "dev": str(train), "test_dir": str(tmp_path)},
        "lexicon_dirs": [str(lex_dir)],
        "systems": ["translate-train+adapt"],
    }
    with pytest.raises(ConfigError) as exc:
        load_experiment_config({**base, "adapt": {"pseudo_text": -1, "size": 3}}, base=tmp_path)
    for part in ("adapt.config -> required", "adapt.pseudo_text -> expected", "adapt.size -> unknown key"):
        assert part in str(exc.value), part


def test_oov_drop_leaves_out_utterances_with_no_word_left(tmp_path):
    from lexiconlm.io.massive import read_massive
    from lexiconlm.nlu.experiments import build_pseudo

    lex_dir, _, _, train = _morph_fixture(tmp_path)
    pseudo = {"cap": 10, "seed": 13, "sense": "first", "oov": "drop", "hygiene": None, "join": "script"}
    (tmp_path / "train2.tsv").write_text(
        train.read_text(encoding="utf-8") + "4\tgeneral_joke\ttell me a joke\n", encoding="utf-8"
    )
    ds, rows = build_pseudo(
        read_massive(tmp_path / "train2.tsv"),
        {"id-ID": lex_dir / "indonesian.txt"},
        tmp_path / "pseudo",
        pseudo,
        mode="matched",
        progress=False,
    )
    texts = sorted(u.text for u in ds[0])
    # "show my alarms" and "tell me a joke" have no word of the lexicon (alarms is not alarm): left out;
    # a slot value the lexicon does not translate stays as it is (adele)
    assert texts == ["pasang", "putar adele"]
    meta = json.loads((tmp_path / "pseudo" / "matched" / "id-ID.json").read_text(encoding="utf-8"))
    assert rows[0]["n"] == 2 and meta["n_empty_dropped"] == 2


def test_translate_test_is_a_second_evaluation_of_each_model(tmp_path, caplog):
    """eval.translate_test adds `<system>+translate-test` rows; the plain figures are unchanged, the
    control reads through its own (mismatched) lexicon, and a finished run is evaluated again
    without training when translate-test is switched on later."""
    pytest.importorskip("torch")
    import yaml

    from lexiconlm.nlu.experiments import run_experiments

    cfg = yaml.safe_load((REPO / "configs" / "nlu" / "tiny-cpu.yaml").read_text(encoding="utf-8"))
    base = REPO / "configs" / "nlu"
    for k in ("train", "dev", "test_dir"):
        cfg["data"][k] = str((base / cfg["data"][k]).resolve())
    cfg["lexicon_dirs"] = [str((base / d).resolve()) for d in cfg["lexicon_dirs"]]
    out = tmp_path / "run"

    def rows() -> dict[str, dict]:
        with open(out / "results.csv", encoding="utf-8") as fh:
            return {r["system"]: r for r in csv.DictReader(fh)}

    run_experiments(cfg, out_dir=out, systems=["zero-shot"], device="cpu", progress=False, log=lambda *a: None)
    plain = rows()
    assert set(plain) == {"zero-shot"}
    mtime = (out / "zero-shot" / "model" / "heads.safetensors").stat().st_mtime_ns
    cfg["eval"]["translate_test"] = True
    cfg["eval"]["translate_test_slot_weight"] = 1.0
    # tabulating only adds nothing to a finished system, and an unfinished one is an error
    run_experiments(cfg, out_dir=out, systems=["zero-shot"], progress=False, log=lambda *a: None, tabulate_only=True)
    assert set(rows()) == {"zero-shot"}
    with pytest.raises(ConfigError, match="translate-train has no finished results"):
        run_experiments(cfg, out_dir=out, systems=["translate-train"], progress=False, tabulate_only=True)
    logs: list[str] = []
    caplog.clear()  # the plain evaluation above reported it too
    run_experiments(cfg, out_dir=out, systems=["zero-shot"], device="cpu", progress=False, log=logs.append)
    both = rows()
    assert set(both) == {"zero-shot", "zero-shot+translate-test"}
    assert (out / "zero-shot" / "model" / "heads.safetensors").stat().st_mtime_ns == mtime  # not trained again
    assert any("translate-test evaluation" in m for m in logs)
    # the demo test file's slot label the model never saw is reported, as the plain evaluation does
    assert any("slot labels the model does not know" in r.getMessage() for r in caplog.records)
    for k in ("intent_accuracy", "slot_f1", "exact_match"):
        assert both["zero-shot"][k] == plain["zero-shot"][k]
    # slot_weight 1: the slots are the original reading's
    assert both["zero-shot+translate-test"]["slot_f1"] == plain["zero-shot"]["slot_f1"]
    res = json.loads((out / "zero-shot" / "results.json").read_text(encoding="utf-8"))
    assert 0 < res["per_locale_translate_test"]["id-ID"]["read_ratio"] <= 100
    summary = (out / "summary.csv").read_text(encoding="utf-8")
    assert "zero-shot+translate-test,mean" in summary


def test_translate_test_config_is_validated(tmp_path):
    from lexiconlm.nlu.experiments import load_experiment_config

    with pytest.raises(ConfigError) as exc:
        load_experiment_config(
            {
                "data": {"train": "a.tsv", "dev": "a.tsv", "test_dir": "."},
                "systems": ["zero-shot"],
                "eval": {"translate_test": "yes", "translate_test_weight": 1.5},
            },
            base=tmp_path,
        )
    text = str(exc.value)
    assert "eval.translate_test -> expected true or false" in text
    assert "eval.translate_test_weight -> expected a number in [0, 1]" in text


def test_combine_averages_and_scales_by_the_read_share():
    import numpy as np

    from lexiconlm.nlu.translate_test import combine
    from lexiconlm.synth.reverse import Reading

    ip, rip = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0]])
    tp = [np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 0.0]])]
    rtp = [np.array([[0.0, 1.0]]), np.array([[0.0, 1.0], [0.0, 1.0]])]
    readings = [Reading(("a",), (0, -1), 2, 2), Reading(("b", "c"), (1,), 2, 1)]
    ci, ct = combine(ip, tp, rip, rtp, readings, weight=0.6, slot_weight=0.5)
    assert np.allclose(ci, [[0.6, 0.4], [0.6, 0.4]])
    # word 2 of utterance 1 has no word of its own in the reading: its own distribution stays
    assert np.allclose(ct[0], [[0.5, 0.5], [1.0, 0.0]]) and np.allclose(ct[1], [[0.5, 0.5]])
    ci, _ = combine(ip, tp, rip, rtp, readings, weight=0.6, by_ratio=True)
    assert np.allclose(ci, [[0.6, 0.4], [0.8, 0.2]])  # utterance 2 read half: half the reading's share
