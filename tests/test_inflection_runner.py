"""`lexiconlm sigmorphon run|predict|select`: whole-edition runs, covered-test predictions, shipped configs."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from lexiconlm.cli.main import main
from lexiconlm.errors import ConfigError
from lexiconlm.inflection.runner import discover, predict_file, run, select_best

REPO = Path(__file__).resolve().parents[1]
STEMS = ["kula", "cheza", "soma", "imba", "lala", "piga", "ruka", "tembea", "sema", "fika", "lima", "pika"]


def _lines(rows, order):
    return "".join("\t".join(r[i] for i in order) + "\n" for r in rows)


def make_2022(tmp_path: Path) -> Path:
    """A tiny 2022-style folder: swh small+large, xho small only; covered tests."""
    d = tmp_path / "sigmorphon" / "2022_part1"
    d.mkdir(parents=True)

    def pairs(stems):
        return [(s, s + suf, f"V;{f}") for s in stems for suf, f in (("ni", "PST"), ("ka", "FUT"))]

    (d / "swh_small.train").write_text(_lines(pairs(STEMS[:4]), (0, 1, 2)), encoding="utf-8")
    (d / "swh_large.train").write_text(_lines(pairs(STEMS[:8]), (0, 1, 2)), encoding="utf-8")
    (d / "swh.dev").write_text(_lines(pairs(STEMS[8:10]), (0, 1, 2)), encoding="utf-8")
    (d / "swh.test").write_text("".join(f"{s}\tV;FUT\n{s}\tV;PST\n" for s in STEMS[10:]), encoding="utf-8")
    (d / "xho_small.train").write_text(_lines([(s, "u" + s, "N;PL") for s in STEMS[:6]], (0, 1, 2)), encoding="utf-8")
    (d / "xho.dev").write_text(_lines([(s, "u" + s, "N;PL") for s in STEMS[6:8]], (0, 1, 2)), encoding="utf-8")
    (d / "xho.test").write_text("".join(f"{s}\tN;PL\n" for s in reversed(STEMS[8:])), encoding="utf-8")
    return d.parent


def make_2023(tmp_path: Path) -> Path:
    d = tmp_path / "sigmorphon" / "2023_part1"
    d.mkdir(parents=True)
    (d / "amh.trn").write_text("".join(f"{s}\tV;PST\t{s}ni\n" for s in STEMS[:8]), encoding="utf-8")
    (d / "amh.dev").write_text("".join(f"{s}\tV;PST\t{s}ni\n" for s in STEMS[8:10]), encoding="utf-8")
    (d / "amh.tst").write_text("".join(f"{s}\tV;PST\n" for s in STEMS[10:]), encoding="utf-8")
    return d.parent


def test_discover_settings_and_language_selection(tmp_path):
    data = make_2022(tmp_path)
    names = [s.name for s in discover("2022", data)]
    assert names == ["swh_large", "swh_small", "xho_small"]
    assert [s.name for s in discover("2022", data, "xho,swh_small")] == ["swh_small", "xho_small"]
    assert discover("2022", data, "swh")[0].test.endswith("swh.test")
    with pytest.raises(ConfigError, match="did you mean swh"):
        discover("2022", data, "swhh")
    with pytest.raises(ConfigError, match="edition"):
        discover("2019", data)


def test_affix_run_scores_tabulates_and_resumes(tmp_path):
    data = make_2022(tmp_path)
    out = tmp_path / "runs"
    r = run("2022", system="affix", data_dir=data, out_dir=out, progress=False)
    by = {row["setting"]: row for row in r.rows}
    assert set(by) == {"swh_large", "swh_small", "xho_small"}
    assert by["swh_small"]["dev_acc"] == 100.0 and by["xho_small"]["dev_acc"] == 100.0
    assert by["swh_small"]["dev_n"] == 4 and by["swh_small"]["dev_lemma"] is None  # no dev lemma in train
    total = next(s for s in r.summary if s["group"] == "TOTAL")
    assert total["n"] == 10 and total["micro_acc"] == 100.0
    assert (out / "2022" / "affix" / "results.md").read_text().count("| swh_small |") == 1
    assert "swh_small" in (out / "2022" / "affix" / "results.csv").read_text()
    pred = (out / "2022" / "affix" / "settings" / "xho_small" / "test.pred").read_text().splitlines()
    assert pred == [f"{s}\tu{s}\tN;PL" for s in reversed(STEMS[8:])]  # input order, lemma-form-features
    r2 = run("2022", system="affix", data_dir=data, out_dir=out, progress=False)
    assert sorted(r2.skipped) == ["swh_large", "swh_small", "xho_small"] and r2.rows == r.rows


def test_predict_covered_file_keeps_order_and_2023_column_order(tmp_path):
    data = make_2023(tmp_path)
    out = tmp_path / "runs"
    run("2023", system="affix", data_dir=data, out_dir=out, progress=False)
    target = tmp_path / "amh.pred"
    assert (
        main(
            [
                "sigmorphon",
                "predict",
                "--model",
                str(out / "2023" / "affix" / "settings" / "amh"),
                "--input",
                str(data / "2023_part1" / "amh.tst"),
                "--out",
                str(target),
            ]
        )
        == 0
    )
    assert target.read_text().splitlines() == [f"{s}\tV;PST\t{s}ni" for s in STEMS[10:]]  # lemma, features, form


def test_neural_run_with_a_tiny_config_resumes_and_predicts(tmp_path):
    pytest.importorskip("torch")
    data = make_2022(tmp_path)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("neural:\n  preset: tiny\n  max_steps: 6\n  eval_every: 3\n  hallucinate: 5\n", encoding="utf-8")
    out = tmp_path / "runs"
    assert (
        main(
            [
                "sigmorphon",
                "run",
                "--edition",
                "2022",
                "--system",
                "neural",
                "--data",
                str(data),
                "--out",
                str(out),
                "--config",
                str(cfg),
                "--device",
                "cpu",
                "--no-progress",
            ]
        )
        == 0
    )
    root = out / "2022" / "neural"
    assert (root / "models" / "small" / "best.pt").is_file() and (root / "models" / "large" / "best.pt").is_file()
    spec = json.loads((root / "settings" / "xho_small" / "model.json").read_text())
    assert spec["system"] == "neural" and spec["tag"] == "xho_small"
    preds = (root / "settings" / "xho_small" / "test.pred").read_text().splitlines()
    assert [p.split("\t")[0] for p in preds] == list(reversed(STEMS[8:])) and all(p.endswith("\tN;PL") for p in preds)
    # predict with the multilingual model folder and an explicit tag, same output as the run wrote
    target = tmp_path / "x.pred"
    predict_file(root / "models" / "small", data / "2022_part1" / "xho.test", target, tag="xho_small", device="cpu")
    assert target.read_text().splitlines() == preds
    # a changed config is refused on resume, naming the key
    cfg.write_text(
        "neural:\n  preset: tiny\n  max_steps: 6\n  eval_every: 3\n  hallucinate: 5\n  batch_size: 3\n",
        encoding="utf-8",
    )
    (root / "settings" / "xho_small" / "scores.json").unlink()
    with pytest.raises(ConfigError, match="batch_size"):
        run("2022", system="neural", data_dir=data, out_dir=out, config=cfg, device="cpu", progress=False)
    # select: per setting the best dev system, files named <setting>.pred
    run("2022", system="affix", data_dir=data, out_dir=out, progress=False)
    rows = select_best("2022", out_dir=out, dest=tmp_path / "sel", data_dir=data)
    assert {r["setting"] for r in rows} == {"swh_large", "swh_small", "xho_small"}
    assert (tmp_path / "sel" / "swh_large.pred").is_file() and (tmp_path / "sel" / "selection.csv").is_file()


def test_unknown_system_and_bad_model_folder(tmp_path):
    data = make_2022(tmp_path)
    with pytest.raises(ConfigError, match="system"):
        run("2022", system="lstm", data_dir=data, out_dir=tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="model.json"):
        predict_file(tmp_path, data / "2022_part1" / "xho.test", tmp_path / "o.pred")


def test_shipped_configs_load_and_name_their_command():
    import yaml

    from lexiconlm.inflection import neural, transducer

    files = sorted((REPO / "configs" / "sigmorphon").glob("*.yaml"))
    assert files
    for f in files:
        first = f.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# lexiconlm sigmorphon "), f
        values = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        if "transducer" in values:
            assert transducer.load_config(f).signature
        if "neural" in values or "transducer" not in values:
            neural.load_config(f)


def _nfc(s: str) -> str:
    """How the readers clean a field: NFC, stray byte-order marks removed (2022 mag.test has one inside)."""
    return unicodedata.normalize("NFC", s.replace("\ufeff", ""))


@pytest.mark.parametrize("edition,folder,suffix", [("2022", "2022_part1", ".test"), ("2023", "2023_part1", ".tst")])
def test_committed_predictions_match_the_covered_inputs(shared_data, edition, folder, suffix):
    pred_dir = REPO / "docs" / "results" / "sigmorphon" / "predictions" / edition
    if not pred_dir.is_dir():
        pytest.skip(f"{pred_dir} not generated")
    settings = discover(edition, shared_data / "sigmorphon")
    for s in settings:
        covered = (shared_data / "sigmorphon" / folder / f"{s.code}{suffix}").read_text(encoding="utf-8").splitlines()
        pred = (pred_dir / f"{s.name}.pred").read_text(encoding="utf-8").splitlines()
        assert len(pred) == len(covered), s.name
        for i, (c, p) in enumerate(zip(covered, pred)):
            lemma, feats = c.split("\t")
            f = p.split("\t")
            assert len(f) == 3, (s.name, i)
            got = (f[0], f[1]) if edition == "2023" else (f[0], f[2])
            assert (_nfc(got[0]), _nfc(got[1])) == (_nfc(lemma), _nfc(feats)), (s.name, i)
