"""``lexiconlm expand`` end to end on the tiny config: run folder, caching, step subsets, backends."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from lexiconlm.errors import ConfigError
from lexiconlm.expand.pipeline import run_expand
from lexiconlm.expand.steps import STEP_ORDER

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "expand" / "tiny.yaml"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("expand") / "ind-tiny"
    [res] = run_expand(TINY, languages=["ind"], out=out, progress=False)
    return res


def test_run_folder_holds_every_result(tiny_run):
    d = tiny_run.run_dir
    assert tiny_run.ran == ["ingest", "synth", "model", "train_base", "adapt", "train", "evaluate", "report"]
    run = json.loads((d / "run.json").read_text())
    assert run["kind"] == "expand" and run["languages"] == ["ind"]
    assert run["signature"].startswith("expand:tiny|lang:ind|lex:lexicons/indonesian.txt")
    m = json.loads((d / "metrics.json").read_text())
    nlu = m["nlu"]["id-ID"]
    # translate-test (the default): both readings averaged, the text as written beside them
    assert set(nlu) == {"intent_accuracy", "slot_f1", "exact_match", "read_ratio"}
    assert all(0 <= v <= 100 for v in nlu.values()) and nlu["read_ratio"] > 0
    assert set(m["nlu_as_written"]["id-ID"]) == {"intent_accuracy", "slot_f1", "exact_match"}
    assert set(m["tokenizer"]) == {"base", "adapted"} and m["tokenizer"]["base"]["fertility"] > 1
    assert m["mlm"]["adapted"]["loss"] > 0
    assert 0 <= m["inflection"]["affix"]["accuracy"] <= 100
    assert m["synthesis"]["pseudo_utterances"] == 594 and m["data"]["lexicon_entries"] == 5888
    assert m["not_evaluable"] == []
    for f in (
        "report.md",
        "report.html",
        "README.md",
        "config.yaml",
        "signature.txt",
        "nlu.csv",
        "tokenizer.csv",
        "mlm.csv",
        "sigmorphon.csv",
        "steps.csv",
        "plots/nlu.svg",
        "data/pseudo_mono.txt",
        "data/pseudo_train.tsv",
        "data/lexicon.tsv",
        "data/real_heldout.txt",
        "train/model/encoder/config.json",
        "train/model/nlu.json",
    ):
        assert (d / f).is_file(), f
    md = (d / "report.md").read_text()
    assert "## NLU (MASSIVE test)" in md and "| id-ID |" in md and "Time:" in md
    html = (d / "report.html").read_text()
    assert html.count("<table>") >= 4 and "<svg" in html
    # held-out real text never reaches training data
    held = set((d / "data/real_heldout.txt").read_text().splitlines())
    train = set((d / "data/real_train.txt").read_text().splitlines())
    assert held and train and not held & train


def test_the_app_lists_the_run(tiny_run):
    from lexiconlm.app.runs import discover_runs

    runs = discover_runs([tiny_run.run_dir.parent])
    [r] = [r for r in runs if r.kind == "expand"]
    assert not r.problems and r.languages == ("ind",)
    assert "nlu.csv" in {t.name for t in r.tables}
    assert r.metrics["nlu.id-ID.intent_accuracy"] == tiny_run.metrics["nlu"]["id-ID"]["intent_accuracy"]
    assert r.notes.startswith("# lexiconlm expand: Indonesian (ind)")


def test_rerun_is_cached_and_a_changed_setting_reruns_only_what_depends_on_it(tiny_run, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(tiny_run.run_dir, d)
    [again] = run_expand(TINY, languages=["ind"], out=d, progress=False)
    assert again.ran == [] and len(again.cached) == len(STEP_ORDER)
    [changed] = run_expand(
        TINY, languages=["ind"], out=d, progress=False, overrides=["evaluate.sigmorphon.dev_share=0.2"]
    )
    assert changed.ran == ["evaluate", "report"]
    assert json.loads((d / "metrics.json").read_text())["inflection"] != tiny_run.metrics["inflection"]


def test_oov_drop_leaves_out_empty_pseudo_utterances(tiny_run, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(tiny_run.run_dir, d)
    [res] = run_expand(
        TINY, languages=["ind"], out=d, steps="ingest,synth", progress=False, overrides=["synth.oov=drop"]
    )
    assert res.ran == ["synth"]
    synth = json.loads((d / "steps" / "synth.json").read_text())["outputs"]
    rows = (d / "data" / "pseudo_train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert rows and all(r.split("\t")[2].strip() for r in rows)  # no empty annot_utt
    assert synth["n_pseudo_utterances"] == len(rows) and synth["n_pseudo_empty_dropped"] >= 0


def test_steps_subset(tiny_run, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(tiny_run.run_dir, d)
    [res] = run_expand(TINY, languages=["ind"], out=d, steps="report", force=True, progress=False)
    assert res.ran == ["report"]
    with pytest.raises(ConfigError) as err:
        run_expand(TINY, languages=["ind"], out=tmp_path / "fresh", steps="synth,train", progress=False)
    assert "ingest" in str(err.value) and "add it to --steps" in str(err.value)


def test_backends_are_injected(tiny_run, tmp_path):
    """A named base model goes through resolve_model; evaluate_nlu's figures reach metrics.json."""
    calls = {}

    def resolve(name):
        calls["resolve"] = name
        return str(tiny_run.run_dir / "base_model")

    def fake_eval(model_dir, datasets, *, device="auto"):
        calls["eval"] = Path(model_dir)
        return {
            ds.locale: {"intent_accuracy": 50.0, "slot_f1": 25.0, "exact_match": 10.0, "n": len(ds)} for ds in datasets
        }

    [res] = run_expand(
        TINY,
        languages=["ind"],
        out=tmp_path / "r",
        progress=False,
        overrides=[
            "model.base=some-model",
            "adapt.enabled=false",
            "evaluate.mlm.enabled=false",
            "evaluate.sigmorphon.enabled=false",
            "evaluate.translate_test.enabled=false",  # the model on the text as written: evaluate_nlu alone
        ],
        backends={"resolve_model": resolve, "evaluate_nlu": fake_eval},
    )
    assert calls["resolve"] == "some-model" and calls["eval"].name == "model"
    m = res.metrics
    assert m["nlu"]["id-ID"] == {"intent_accuracy": 50.0, "slot_f1": 25.0, "exact_match": 10.0}
    assert "mlm" not in m and "inflection" not in m and m["tokenizer"]["base"]["fertility"] > 1


def test_what_cannot_be_evaluated_is_reported(tiny_run, tmp_path):
    [res] = run_expand(
        TINY,
        languages=["ind"],
        out=tmp_path / "r",
        progress=False,
        overrides=["data.massive_test=[]", "data.unimorph=[]", "adapt.enabled=false"],
    )
    m = res.metrics
    assert "nlu" not in m and "inflection" not in m
    assert any(
        x.startswith("NLU (intent accuracy, slot F1): no MASSIVE test set for Indonesian") for x in m["not_evaluable"]
    )
    assert any(x.startswith("inflection accuracy: no UniMorph table") for x in m["not_evaluable"])
    assert "## Not evaluable" in res.report.read_text()


def test_export_copies_reports_not_models(tiny_run, tmp_path):
    from lexiconlm.expand.report import export_runs

    summary = export_runs([tiny_run.run_dir], tmp_path / "results")
    d = tmp_path / "results" / "ind"
    assert {"report.md", "report.html", "metrics.json", "run.json", "nlu.csv", "steps.csv"} <= {
        p.name for p in d.iterdir()
    }
    assert (d / "plots" / "nlu.svg").is_file()
    assert not (d / "train").exists() and not (d / "data").exists()
    text = summary.read_text()
    assert "| ind | tiny | id-ID |" in text


def _evaluate_again(tiny_run, tmp_path, overrides: list[str]):
    """Copy the finished tiny run and rerun its evaluation with other settings."""
    d = tmp_path / "copy"
    shutil.copytree(tiny_run.run_dir, d)
    [res] = run_expand(TINY, languages=["ind"], out=d, progress=False, overrides=overrides)
    return d, res


def test_neural_inflection_on_the_unimorph_split(tiny_run, tmp_path):
    d, res = _evaluate_again(
        tiny_run,
        tmp_path,
        [
            "evaluate.sigmorphon.systems=[affix,neural]",
            "evaluate.sigmorphon.neural_preset=tiny",
            "evaluate.sigmorphon.neural={max_steps: 20}",
        ],
    )
    assert res.ran == ["evaluate", "report"]
    inf = res.metrics["inflection"]
    assert set(inf) == {"affix", "neural", "best"} and 0 <= inf["neural"]["accuracy"] <= 100
    assert inf["best"]["accuracy"] == max(inf["affix"]["accuracy"], inf["neural"]["accuracy"])
    assert (d / "inflection" / "best.pt").is_file()


def test_auto_inflector_chooses_between_affix_and_transducer(tiny_run, tmp_path):
    d, res = _evaluate_again(
        tiny_run,
        tmp_path,
        ["evaluate.sigmorphon.systems=[affix,auto]", "evaluate.sigmorphon.transducer={preset: tiny, max_epochs: 2}"],
    )
    assert res.ran == ["evaluate", "report"]
    inf = res.metrics["inflection"]
    assert set(inf) == {"affix", "auto", "best"}
    assert inf["auto"]["chosen"] in ("affix", "transducer")
    best = max(("affix", "auto"), key=lambda k: inf[k]["accuracy"])
    assert inf["best"]["accuracy"] == inf[best]["accuracy"]
    assert list((d / "inflection" / "auto").glob("transducer-*/run.json"))
