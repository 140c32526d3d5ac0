"""``lexiconlm expand`` records the SHA-256 of every file a step writes; a missing or changed file
runs the step (and the steps after it) again instead of counting as cached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from lexiconlm.errors import ConfigError
from lexiconlm.expand.cache import check_files, read_record
from lexiconlm.expand.pipeline import run_expand
from lexiconlm.files import LOCK_NAME, file_sha256

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "expand" / "tiny.yaml"
# the NLU part of the tiny pipeline only, trained on the English set (the rest is covered elsewhere)
FAST = ["adapt.enabled=false", "evaluate.mlm.enabled=false", "evaluate.sigmorphon.enabled=false", "nlu.train=[source]"]
ALL = ["ingest", "synth", "model", "train_base", "adapt", "train", "evaluate", "report"]


def _run(out: Path, **kw):
    [res] = run_expand(TINY, languages=["ind"], out=out, progress=False, overrides=FAST, **kw)
    return res


def _heads(run_dir: Path) -> str:
    """The trained heads' weights, as the train step recorded them."""
    [rel] = [
        f
        for f in read_record(run_dir, "train").files
        if f.startswith("train/model/") and f.endswith("heads.safetensors")
    ]
    return rel


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("expand-outputs") / "ind-tiny"
    res = _run(out)
    assert res.ran == ALL
    return out


@pytest.fixture
def run_copy(done, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(done, d)
    return d


def test_every_step_records_the_files_it_wrote(done):
    files = {name: read_record(done, name).files for name in ALL}
    assert {"data/lexicon.tsv", "data/real_train.txt", "data/real_heldout.txt"} <= set(files["ingest"])
    assert {"data/pseudo_mono.txt", "data/pseudo_mono.txt.json"} <= set(files["synth"])
    assert "data/lexicon.tsv" not in files["synth"]  # written by ingest, left alone by synth
    assert "base_model/config.json" in files["model"]
    assert files["adapt"] == {}  # disabled: nothing written
    assert any(f.startswith("train/model/") and f.endswith(".safetensors") for f in files["train"])
    assert {"report.md", "metrics.json", "run.json", "nlu.csv"} <= set(files["report"])
    everything = [f for fs in files.values() for f in fs]
    assert not any(f.startswith("steps/") or f.endswith(LOCK_NAME) or ".tmp" in f for f in everything)
    for name, fs in files.items():
        for rel, sha in fs.items():
            assert file_sha256(done / rel) == sha, (name, rel)
        assert check_files(done, read_record(done, name)) == []


def test_a_rerun_of_an_intact_folder_is_all_cached(run_copy):
    res = _run(run_copy)
    assert res.ran == [] and res.cached == ALL and res.damaged == {}


@pytest.mark.slow
def test_a_truncated_model_file_reruns_training_and_what_follows(done, run_copy, capsys):
    heads = _heads(run_copy)
    p = run_copy / heads
    p.write_bytes(p.read_bytes()[:100])  # truncated (a full disk, a copy interrupted ...)
    old_report = (run_copy / "report.md").stat().st_mtime_ns
    res = _run(run_copy)
    assert res.ran == ["train", "evaluate", "report"]
    assert res.cached == ["ingest", "synth", "model", "train_base", "adapt"]
    assert list(res.damaged) == ["train"] and str(p) in res.damaged["train"][0]
    assert "changed since the step wrote it" in res.damaged["train"][0]
    assert str(p) in capsys.readouterr().err  # said even with progress off
    # training from scratch again gives the same model and figures
    assert p.read_bytes() == (done / heads).read_bytes()
    metrics = json.loads((run_copy / "metrics.json").read_text())
    assert metrics == json.loads((done / "metrics.json").read_text())
    assert (run_copy / "report.md").stat().st_mtime_ns != old_report


def test_a_deleted_report_reruns_only_the_report(run_copy):
    (run_copy / "report.md").unlink()
    res = _run(run_copy)
    assert res.ran == ["report"]
    assert res.damaged["report"] == [f"{run_copy / 'report.md'} is missing"]
    assert (run_copy / "report.md").is_file()


@pytest.mark.slow
def test_a_changed_synthetic_corpus_reruns_everything_after_ingest(run_copy):
    p = run_copy / "data" / "pseudo_mono.txt"
    p.write_text(p.read_text(encoding="utf-8") + "sisipan\n", encoding="utf-8")
    res = _run(run_copy)
    assert res.ran == ALL[1:] and list(res.damaged) == ["synth"]
    assert "sisipan" not in p.read_text(encoding="utf-8")


def test_a_step_subset_on_damaged_results_names_the_file(run_copy):
    (run_copy / "data" / "real_train.txt").unlink()
    with pytest.raises(ConfigError) as err:
        _run(run_copy, steps="evaluate,report")
    msg = str(err.value)
    assert "add it to --steps" in msg and "real_train.txt is missing" in msg


@pytest.mark.slow
def test_the_old_report_is_removed_when_an_earlier_step_reruns(run_copy):
    """A rerun that dies part-way leaves no report (or record) describing the replaced results."""
    heads = _heads(run_copy)
    (run_copy / heads).unlink()

    def broken_train(*args, **kwargs):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        _run(run_copy, backends={"train_joint": broken_train})
    assert not (run_copy / "report.md").exists() and not (run_copy / "metrics.json").exists()
    assert read_record(run_copy, "report") is None and read_record(run_copy, "evaluate") is None
    assert read_record(run_copy, "model") is not None  # earlier results stay
    res = _run(run_copy)
    assert res.ran == ["train", "evaluate", "report"] and (run_copy / "report.md").is_file()


def test_a_record_without_files_is_trusted(run_copy):
    """Run folders written before files were recorded stay cached."""
    for name in ALL:
        p = run_copy / "steps" / f"{name}.json"
        d = json.loads(p.read_text())
        d.pop("files")
        p.write_text(json.dumps(d))
    (run_copy / "nlu.csv").unlink()  # not noticed: nothing was recorded
    res = _run(run_copy)
    assert res.ran == [] and res.damaged == {}
