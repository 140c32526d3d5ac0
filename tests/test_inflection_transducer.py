"""The hard-attention transducer: oracle, learning, bounded decoding, exact resume, runner."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from lexiconlm.errors import ConfigError
from lexiconlm.inflection.runner import predict_file, run
from lexiconlm.inflection.transducer import (
    A_INS,
    TransducerConfig,
    TransducerInflector,
    TransducerVocab,
    _Transducer,
    apply_actions,
    load_config,
    oracle,
    train_transducer,
)
from lexiconlm.io.sigmorphon import read_sigmorphon
from lexiconlm.training import load_checkpoint
from lexiconlm.types import InflectionEntry as E

# letters, a space, a hyphen, a precomposed and a decomposed accent (combining mark), Ethiopic
ALPHABET = ["a", "b", "c", " ", "-", "é", "e\u0301", "\u0301", "ሀ", "ß"]


def _lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence (an independent check of minimality)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _random_word(rng: random.Random, longest: int = 8) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def test_oracle_reproduces_the_form_exactly_with_a_minimal_edit():
    rng = random.Random(7)
    pairs = [("", ""), ("", "abc"), ("abc", ""), ("e\u0301", "é"), ("a b", "a-b"), ("sing", "sang")]
    pairs += [(_random_word(rng), _random_word(rng)) for _ in range(500)]
    pairs += [(w, "ge" + w[1:] + "t") for w in (_random_word(rng) for _ in range(100))]
    for lemma, form in pairs:
        acts = oracle(lemma, form)
        assert apply_actions(lemma, acts) == form, (lemma, form, acts)
        assert acts[-1] == ("end", "") and acts.count(("end", "")) == 1
        kinds = [k for k, _ in acts]
        # the pointer walks the whole lemma, once
        assert kinds.count("copy") + kinds.count("del") == len(lemma)
        # minimal: copies = LCS, so insertions + deletions = |lemma| + |form| - 2 LCS
        assert kinds.count("copy") == _lcs(lemma, form), (lemma, form, acts)


def test_oracle_prefers_copy_then_insertion():
    walked = [("copy", "")] * 4 + [("ins", "e"), ("ins", "d"), ("end", "")]
    assert oracle("walk", "walked") == walked
    assert oracle("ab", "ab") == [("copy", ""), ("copy", ""), ("end", "")]
    # a substitution writes the new character while the pointer is on the old one
    assert oracle("sing", "sang")[1:3] == [("ins", "a"), ("del", "")]
    assert oracle("", "") == [("end", "")]


def _toy(n: int = 24, seed: int = 0) -> list[E]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        w = "".join(rng.choice("kaptimu") for _ in range(rng.randint(2, 6)))
        out += [E(w, w + "ed", "V;PST"), E(w, w + "s", "N;PL")]
    return out


def test_a_tiny_model_learns_a_suffixation_rule(tmp_path: Path):
    torch.set_num_threads(1)
    train = _toy()
    cfg = TransducerConfig.tiny(max_epochs=20)
    # no dev: all 20 epochs are trained, about 1 CPU-second
    result = train_transducer(cfg, train, (), tmp_path / "m")
    assert result.n_params < 20_000 and result.seeds[0]["epochs"] == 20
    model = TransducerInflector.load(tmp_path / "m")
    assert model.predict(train) == [e.form for e in train]
    # unseen characters are copied, never mapped to UNK
    assert model.predict([E("zyxz", None, "V;PST")]) == ["zyxzed"]
    saved = json.loads((tmp_path / "m" / "result.json").read_text(encoding="utf-8"))
    assert saved["dev_accuracy"] is None and saved["seeds"][0]["cpu_seconds"] > 0


def test_greedy_decoding_ends_even_when_the_model_only_wants_to_insert(tmp_path: Path):
    vocab = TransducerVocab(chars=list("ab"), inserts=list("xyz"), features=["V"], max_inserts=7)
    cfg = TransducerConfig.tiny()
    model = _Transducer(cfg, vocab)
    with torch.no_grad():
        model.out.bias.fill_(-100.0)
        model.out.bias[A_INS] = 100.0  # "insert x" beats everything, always
    inflector = TransducerInflector([model], cfg, vocab, "cpu")
    entries = [E(w, None, "V") for w in ("", "a", "abba", "b" * 40, "qq")]
    preds = inflector.predict(entries)
    for e, p in zip(entries, preds):
        # the insertion cap: at most max_inserts x's, then the lemma must be walked to the end
        assert p.startswith("x" * 7) and len(p) <= len(e.lemma) + vocab.max_inserts


def test_a_killed_run_resumes_to_the_same_weights(tmp_path: Path):
    torch.set_num_threads(1)
    train = _toy(10, seed=3)
    cfg = TransducerConfig.tiny(max_epochs=4, dropout=0.3, patience=0, lr_decay=0.5, lr_patience=1)
    full = train_transducer(cfg, train, train[:6], tmp_path / "full")
    part = train_transducer(cfg, train, train[:6], tmp_path / "part", stop_after_epochs=2)
    assert part.seeds[0]["stopped"] == "interrupted" and part.dev_accuracy is None
    assert not (tmp_path / "part" / "result.json").exists()
    resumed = train_transducer(cfg, train, train[:6], tmp_path / "part")
    assert resumed.seeds[0]["epochs"] == full.seeds[0]["epochs"] == 4
    ck_full = load_checkpoint(tmp_path / "full" / "seed-13" / "checkpoint")
    ck_part = load_checkpoint(tmp_path / "part" / "seed-13" / "checkpoint")
    a, b = ck_full["model"], ck_part["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    lrs = [g["lr"] for g in ck_full["optimizer"]["param_groups"]]
    assert lrs == [g["lr"] for g in ck_part["optimizer"]["param_groups"]]
    losses = [h["loss"] for h in resumed.seeds[0]["history"]]
    assert losses == [h["loss"] for h in full.seeds[0]["history"]]
    # a changed config is refused, naming the key
    with pytest.raises(ConfigError, match="config.dec_hidden"):
        other = TransducerConfig.tiny(max_epochs=4, dropout=0.3, patience=0, lr_decay=0.5, lr_patience=1, dec_hidden=30)
        train_transducer(other, train, train[:6], tmp_path / "part")


def test_config_lists_every_problem_and_knows_the_tiny_preset(tmp_path: Path):
    with pytest.raises(ConfigError) as err:
        load_config({"dec_hiden": 3, "features": "mean", "dropout": 1.5})
    text = str(err.value)
    assert "dec_hidden" in text and "features" in text and "dropout" in text
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text("transducer:\n  preset: tiny\n  seeds: 2\n", encoding="utf-8")
    cfg = load_config(yaml_file, overrides=["max_epochs=3"])
    assert (cfg.dec_hidden, cfg.seeds, cfg.max_epochs) == (TransducerConfig.tiny().dec_hidden, 2, 3)
    assert cfg.signature.startswith("hard-attention-transducer.v1|config:")


def _write_2022(folder: Path, name: str, entries: list[E]) -> None:
    text = "".join(f"{e.lemma}\t{e.form}\t{e.features}\n" for e in entries)
    folder.joinpath(name).write_text(text, encoding="utf-8")


def _data_2022(tmp_path: Path, files: dict[str, list[E]], covered_test: list[E] = ()) -> Path:
    """A 2022 data folder with these files (``name -> entries``) and ``xxx.test`` covered."""
    data = tmp_path / "sigmorphon" / "2022_part1"
    data.mkdir(parents=True)
    for name, entries in files.items():
        _write_2022(data, name, entries)
    if covered_test:
        text = "".join(f"{e.lemma}\t\t{e.features}\n" for e in covered_test)
        data.joinpath("xxx.test").write_text(text, encoding="utf-8")
    return data


def test_runner_trains_predicts_and_scores_with_the_transducer(tmp_path: Path):
    torch.set_num_threads(1)
    train, dev = _toy(20, seed=1), _toy(4, seed=2)
    data = _data_2022(tmp_path, {"xxx_small.train": train, "xxx.dev": dev}, dev[:3])
    out = tmp_path / "runs"
    summary = run(
        "2022",
        system="transducer",
        data_dir=data.parent,
        out_dir=out,
        progress=False,
        config={"preset": "tiny", "max_epochs": 20, "hallucinate": 10},
    )
    row = summary.rows[0]
    assert row["setting"] == "xxx_small" and row["dev_n"] == len(dev) and row["dev_acc"] >= 75.0
    sdir = out / "2022" / "transducer" / "settings" / "xxx_small"
    preds = read_sigmorphon(sdir / "dev.pred", edition="2022").entries
    assert [(e.lemma, e.features) for e in preds] == [(e.lemma, e.features) for e in dev]
    spec = json.loads((sdir / "model.json").read_text(encoding="utf-8"))
    assert spec["system"] == "transducer" and spec["hallucinated"] == 10
    assert json.loads((sdir / "scores.json").read_text(encoding="utf-8"))["cpu_seconds"] > 0
    test_pred = predict_file(sdir, data / "xxx.test", tmp_path / "xxx_small.pred", edition="2022")
    assert len(read_sigmorphon(test_pred, edition="2022").entries) == 3
    # a second call finds the setting finished
    again = run(
        "2022",
        system="transducer",
        data_dir=data.parent,
        out_dir=out,
        progress=False,
        config={"preset": "tiny", "max_epochs": 20, "hallucinate": 10},
    )
    assert again.skipped == ["xxx_small"]


def test_hallucination_only_below_the_size_threshold():
    cfg = load_config({"hallucinate": 1000, "hallucinate_below": 2000})
    assert (cfg.hallucinates(700), cfg.hallucinates(7000)) == (1000, 0)
    assert load_config({"hallucinate": 5}).hallucinates(10**6) == 5
    # the field left at 0 keeps the signatures of configs written before it
    assert load_config({}).signature == load_config({"hallucinate_below": 0}).signature
    assert load_config({}).signature != load_config({"hallucinate_below": 10}).signature


def test_auto_chooses_on_dev_runs_settings_on_a_pool_and_predicts_through_its_choice(tmp_path: Path):
    """Two settings on two worker processes; auto keeps, per setting, the better dev system."""
    dev = _toy(6, seed=2)
    files = {"xxx_small.train": _toy(12, seed=1), "xxx_large.train": _toy(30, seed=3), "xxx.dev": dev}
    data = _data_2022(tmp_path, files, dev[:4])
    out, dest = tmp_path / "runs", tmp_path / "preds"
    config = {"transducer": {"preset": "tiny", "max_epochs": 12, "hallucinate": 8, "hallucinate_below": 40}}
    lines: list[str] = []
    summary = run(
        "2022",
        system="auto",
        data_dir=data.parent,
        out_dir=out,
        progress=False,
        config=config,
        workers=2,
        dest=dest,
        log=lines.append,
    )
    assert any("2 worker processes" in line for line in lines), "\n".join(lines)
    assert any(line.startswith("xxx_small: +") and "hallucinated" in line for line in lines), "\n".join(lines)
    assert not any(line.startswith("xxx_large: +") for line in lines)  # 60 pairs >= hallucinate_below
    root = out / "2022"
    for row in summary.rows:
        rec = json.loads((root / "auto" / "settings" / row["setting"] / "scores.json").read_text(encoding="utf-8"))
        cands = rec["candidates"]
        assert set(cands) == {"affix", "transducer"}
        best = max(cands.values())
        assert rec["chosen"] == next(k for k in ("affix", "transducer") if cands[k] == best)
        assert row["dev_acc"] == best and row["system"] == rec["chosen"]
        assert rec["cpu_seconds"] > 0
        chosen_pred = root / rec["chosen"] / "settings" / row["setting"] / "test.pred"
        assert (dest / f"{row['setting']}.pred").read_text(encoding="utf-8") == chosen_pred.read_text(encoding="utf-8")
        again = predict_file(root / "auto" / "settings" / row["setting"], data / "xxx.test", tmp_path / "p.pred")
        assert again.read_text(encoding="utf-8") == chosen_pred.read_text(encoding="utf-8")
    assert {r["setting"] for r in summary.rows} == {"xxx_small", "xxx_large"}
    assert "cpu_seconds" in summary.summary[0] and (dest / "selection.csv").is_file()
    # a tampered model.json cannot send predict outside the run folder
    spec_file = root / "auto" / "settings" / "xxx_small" / "model.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec_file.write_text(json.dumps({**spec, "source": "../../../../../.."}), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a setting folder"):
        predict_file(spec_file.parent, data / "xxx.test", tmp_path / "q.pred")


def _children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            out.append(int(status.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc to find the workers")
def test_a_killed_pool_run_leaves_no_worker_behind_and_the_next_call_finishes(tmp_path: Path):
    import subprocess
    import sys
    import time

    files = {"xxx_small.train": _toy(40, seed=1), "xxx_large.train": _toy(60, seed=3), "xxx.dev": _toy(6, seed=2)}
    data = _data_2022(tmp_path, files)
    out = tmp_path / "runs"
    config = {"preset": "tiny", "max_epochs": 400, "patience": 0}
    script = (
        "from lexiconlm.inflection.runner import run\n"
        f"run('2022', system='transducer', data_dir={str(data.parent)!r}, out_dir={str(out)!r}, "
        f"progress=False, workers=2, config={config!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.time() + 180
        while time.time() < deadline and len(list(out.glob("2022/transducer/models/*/seed-*/checkpoint"))) < 2:
            time.sleep(0.5)
        workers = [p for p in _children(proc.pid) if _alive(p)]
        assert len(list(out.glob("2022/transducer/models/*/seed-*/checkpoint"))) == 2
    finally:
        proc.kill()
        proc.wait()
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert workers and not any(_alive(p) for p in workers)  # the workers died with the run
    summary = run(
        "2022",
        system="transducer",
        data_dir=data.parent,
        out_dir=out,
        progress=False,
        workers=1,
        config={**config, "max_epochs": 3},
        resume=False,
    )
    assert {r["setting"] for r in summary.rows} == {"xxx_small", "xxx_large"}


def test_official_training_pairs_that_hold_an_evaluation_key_are_not_hallucination_sources(tmp_path: Path):
    train, dev = _toy(20, seed=1), _toy(4, seed=2)
    # as in 2021 ckt: the official files overlap
    data = _data_2022(tmp_path, {"xxx_small.train": train + dev[:2], "xxx.dev": dev})
    lines: list[str] = []
    summary = run(
        "2022",
        system="transducer",
        data_dir=data.parent,
        out_dir=tmp_path / "runs",
        progress=False,
        workers=1,
        config={"preset": "tiny", "max_epochs": 2, "hallucinate": 10},
        log=lines.append,
    )
    assert summary.rows and any("2 training pair(s) share (lemma, features)" in line for line in lines), lines


def test_a_failing_setting_on_the_pool_is_named_and_the_others_finish(tmp_path: Path):
    import pickle

    from lexiconlm.leakage import LeakageError, LeakageGuard

    guard = LeakageGuard().add_inflections([E("a", "b", "N")], source="dev")
    with pytest.raises(LeakageError) as info:
        guard.check([E("a", "b", "N")])
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)  # survives a process pool

    data = _data_2022(tmp_path, {"xxx_small.train": _toy(10, seed=1), "xxx.dev": _toy(3, seed=2)})
    data.joinpath("yyy_small.train").write_text("only-one-column\n", encoding="utf-8")
    _write_2022(data, "yyy.dev", _toy(3, seed=2))
    out = tmp_path / "runs"
    with pytest.raises(ConfigError) as err:
        run(
            "2022",
            system="transducer",
            data_dir=data.parent,
            out_dir=out,
            progress=False,
            workers=2,
            config={"preset": "tiny", "max_epochs": 2},
        )
    text = str(err.value)
    assert "yyy_small -> " in text and "yyy_small.train" in text and "rerun the same command" in text
    assert (out / "2022" / "transducer" / "settings" / "xxx_small" / "scores.json").is_file()
