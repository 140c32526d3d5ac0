"""Before/after figures of ``lexiconlm expand`` (retrieval, base NLU, base_vs_expanded), the
held-out parallel split, and batches of languages (selection, summary, failures, CLI)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from typer.testing import CliRunner

from lexiconlm.cli.main import app
from lexiconlm.errors import ConfigError
from lexiconlm.expand import batch
from lexiconlm.expand.config import load_config
from lexiconlm.expand.pipeline import run_expand
from lexiconlm.expand.steps import read_units

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "expand" / "tiny.yaml"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("expand-ba") / "ind-tiny"
    [res] = run_expand(TINY, languages=["ind"], out=out, progress=False)
    return res


def _norm(t: str) -> str:
    return " ".join(t.split()).casefold()


def test_held_out_parallel_units_are_never_trained_on(run):
    d = run.run_dir
    held = read_units(d / "data" / "parallel_heldout.tsv")
    train = read_units(d / "data" / "parallel_train.tsv")
    assert held and train and not {u.key for u in held} & {u.key for u in train}
    # no held-out unit's text is in the real training text
    real_train = {_norm(x) for x in (d / "data" / "real_train.txt").read_text().splitlines()}
    assert not real_train & {_norm(u.target) for u in held}
    # the English of held-out units was left out of the source text of the pseudo-monolingual text
    syn = json.loads((d / "steps" / "synth.json").read_text())["outputs"]
    assert syn["n_source_heldout_excluded"] > 0


def test_retrieval_and_nlu_have_base_and_expanded_figures(run):
    m = run.metrics
    r = m["retrieval"]
    assert set(r) == {"base", "adapted"}
    for v in r.values():
        assert v["pool"] > 10 and 0 <= v["top1"] <= v["top10"] <= 100 and v["corpora"] == "udhr"
    assert set(m["nlu_base"]) == set(m["nlu"]) == {"id-ID"}
    rows = m["base_vs_expanded"]
    metrics = {x["metric"] for x in rows}
    assert {"retrieval_top1", "retrieval_top10", "fertility", "intent_accuracy", "slot_f1"} <= metrics
    for x in rows:
        assert x["difference"] == pytest.approx(x["expanded"] - x["base"], abs=2e-3)
    with open(run.run_dir / "base_vs_expanded.csv", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)
    report = (run.run_dir / "report.md").read_text()
    assert report.index("## Base vs expanded") < report.index("## Data")
    assert (run.run_dir / "plots" / "base_vs_expanded.svg").is_file()


def test_base_nlu_model_trains_as_many_steps_on_the_source_only(run):
    d = run.run_dir
    tr = json.loads((d / "steps" / "train.json").read_text())["outputs"]
    base = json.loads((d / "steps" / "train_base.json").read_text())["outputs"]
    assert base["n_steps"] == tr["n_steps"] > 0
    assert list(base["n_train"]) == ["en-US"] and set(tr["n_train"]) == {"en-US", "id-ID"}
    assert (d / base["model_dir"]).is_dir()


def test_select_languages(tmp_path):
    cfg = load_config(TINY)
    assert batch.select_languages(cfg, "all") == ["ind"]
    f = tmp_path / "langs.txt"
    f.write_text("# my batch\nind\nswh  # Swahili\n\n")
    assert batch.select_languages(cfg, f"@{f}") == ["ind", "swh"]
    assert batch.select_languages(cfg, "ind,swh,amh", script="Ethi") == ["amh"]
    assert batch.select_languages(cfg, "ind,swh", family="austronesian") == ["ind"]
    assert len(batch.select_languages(cfg, "ind,swh,amh,jav,fij", sample=2)) == 2
    with pytest.raises(ConfigError, match="Unknown language|unknown"):
        batch.select_languages(cfg, "ind,xqz-not-a-language")
    with pytest.raises(ConfigError, match="cannot read"):
        batch.select_languages(cfg, f"@{tmp_path / 'missing.txt'}")
    with pytest.raises(ConfigError, match="no language left"):
        batch.select_languages(cfg, "ind", script="Cyrl")


def test_batch_summary_and_cache(run, tmp_path):
    cfg = load_config(TINY)
    out = tmp_path / "batch"
    # the run folder of the module's run is reused: same config, so every step is cached
    import shutil

    shutil.copytree(run.run_dir, out / "ind-tiny")
    rows = batch.run_batch(cfg, ["ind"], out=out, executor="serial", progress=False)
    assert [r["status"] for r in rows] == ["ok"] and rows[0]["cached"] is True
    r = rows[0]
    assert r["family"] == "Austronesian" and r["script"] == "Latn" and r["pool"] > 10
    assert r["retrieval_top1_diff"] == pytest.approx(r["retrieval_top1_expanded"] - r["retrieval_top1_base"], abs=0.02)
    assert r["intent_accuracy_base"] is not None and r["intent_accuracy_expanded"] is not None
    with open(out / "summary.csv", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert [g["language"] for g in got] == ["ind"]
    md = (out / "summary.md").read_text()
    assert "## By script" in md and "## By family" in md and "Where expansion hurt" in md
    assert (out / "ind-tiny" / "expand.log").is_file()


def test_a_failing_language_is_a_row_not_a_stop(monkeypatch, tmp_path):
    cfg = load_config(TINY)

    def boom(cfg, language, run_dir, steps, force):
        raise RuntimeError(f"no luck for {language}")

    monkeypatch.setattr(batch, "run_one", boom)
    rows = batch.run_batch(cfg, ["ind"], out=tmp_path, executor="serial", progress=False)
    assert rows[0]["status"] == "failed" and "no luck for ind" in rows[0]["error"]
    assert "## Failed" in (tmp_path / "summary.md").read_text()


def test_cli_batch_check_and_bad_executor(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["expand", "--config", str(TINY), "--langs", "all", "--check"])
    assert res.exit_code == 0, res.output
    assert "1 language(s): ind" in res.output
    res = runner.invoke(app, ["expand", "--config", str(TINY), "--langs", "ind", "--executor", "dask"])
    assert res.exit_code != 0 and "--executor" in res.output + str(res.exception)


def test_batch_on_ray_gives_the_same_rows(run, tmp_path):
    """The same batch as Ray tasks on a local Ray instance: same rows as the process pool."""
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'lexiconlm[scale]')")
    import shutil

    cfg = load_config(TINY)
    out = tmp_path / "ray"
    shutil.copytree(run.run_dir, out / "ind-tiny")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        rows = batch.run_batch(cfg, ["ind"], out=out, executor="ray", progress=False)
    finally:
        if started:
            ray.shutdown()
    assert rows[0]["status"] == "ok", rows[0].get("error")
    assert rows[0]["retrieval_top1_base"] == batch.batch_row(run.run_dir)["retrieval_top1_base"]
    assert (out / "summary.csv").is_file()


def test_signatures_name_models_portably(tmp_path):
    """The same run on two machines (the model in two cache folders) has one signature."""
    import copy

    from lexiconlm.adapt.config import DEFAULTS, config_signature
    from lexiconlm.models import model_id

    sigs = []
    for home in ("alice", "bob"):
        cfg = copy.deepcopy(DEFAULTS)
        cfg.update(base_model=f"/home/{home}/.cache/lexiconlm/models/multilingual-e5-small", language="amh")
        cfg["lexicon"] = f"/home/{home}/data/lexicons/gatitos/en_am.tsv"
        sigs.append(config_signature(cfg))
    assert sigs[0] == sigs[1] and "/home" not in sigs[0]
    assert model_id("e5-small") == "e5-small"


def test_text_in_another_script_than_the_catalogs_is_used_when_it_is_all_there_is(tmp_path):
    """Bamun's UDHR is in Latin letters, the catalog's first script is Bamum: the text is used, with a note."""
    from lexiconlm.expand.config import config_from_dict, language_inputs

    texts = tmp_path / "text"
    texts.mkdir()
    (texts / "ind.tsv").write_text("".join(f"a{i}\tسلام دنيا كتاب {i}\n" for i in range(40)), encoding="utf-8")
    cfg = config_from_dict(
        {
            "data": {"lexicons": str(REPO / "resources/demo/lexicons"), "target_text": str(texts)},
            "nlu": {"train": []},
        },
        base_dir=REPO,
    )
    inp = language_inputs(cfg, "ind")
    assert [p.name for p in inp.target_text] == ["ind.tsv"]
    assert any("the Arab text is used" in n for n in inp.notes)


def test_a_removed_adapted_model_is_rebuilt_when_evaluate_reruns(tmp_path):
    out = tmp_path / "ind-tiny"
    [first] = run_expand(TINY, languages=["ind"], out=out, progress=False, overrides=["adapt.keep_model=false"])
    rec = json.loads((out / "steps" / "adapt.json").read_text())
    assert rec["outputs"]["model_removed"] and not (out / rec["outputs"]["model_dir"]).exists()
    [again] = run_expand(TINY, languages=["ind"], out=out, progress=False, overrides=["adapt.keep_model=false"])
    assert again.ran == []  # all cached: the removed model is not "damage"
    [changed] = run_expand(
        TINY,
        languages=["ind"],
        out=out,
        progress=False,
        overrides=["adapt.keep_model=false", "evaluate.retrieval.max_units=20"],
    )
    assert changed.ran[:1] == ["adapt"] and "evaluate" in changed.ran
    assert json.loads((out / "metrics.json").read_text())["retrieval"]["adapted"]["pool"] <= 20
