#!/usr/bin/env python3
"""The hard-attention transducer on a few SIGMORPHON 2022 dev settings, with CPU-seconds.

What it does

* For each configuration variant (``--variants``) and setting (``--settings``), runs
  ``lexiconlm sigmorphon run --edition 2022 --system transducer`` through
  :func:`lexiconlm.inflection.runner.run` (official-format predictions, official metrics,
  resumable) into ``<runs>/<variant>/``, on one torch thread, and reads back the dev accuracy
  and the process CPU-seconds of the setting (training + dev/test prediction + scoring).
* Puts beside them the affix system (this package, run here too) and the official non-neural
  and neural baselines' dev accuracies (``2022_part1/baseline_results``).
* Keeps every measurement in ``benchmarks/results/sigmorphon_transducer.json`` (a later call
  with other variants adds to it) and writes ``benchmarks/results/sigmorphon_transducer.md``.
* ``--affix-2023``: the affix system on every 2023 dev file with the variant 2023 runs used
  before (``sigmorphon.v1``), the 2023 variant (``sigmorphon2023.v1``) and its float twin;
  writes ``benchmarks/results/sigmorphon_affix_2023_variants.md``.

Usage::

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/sigmorphon_transducer.py \\
        --settings hun_small,ara_small,kat_small,pol_small,evn_small,hun_large --variants base
    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/sigmorphon_transducer.py --affix-2023

Selection uses dev only: every variant's dev accuracy comes from the epoch that was best on
that same dev file (as for the official neural baseline's checkpoints), so dev figures are
slightly optimistic for every neural system alike; the 2022 test gold is not used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, RESULTS, command_line, load_average, machine, md_table

from lexiconlm.files import atomic_write_text
from lexiconlm.inflection.runner import discover, official_baselines, run

#: Configuration variants: overrides of the transducer's defaults.
VARIANTS: dict[str, dict] = {
    "base": {},
    "attention": {"features": "attention"},
    "hall1k": {"hallucinate": 1000},
    "hall3k": {"hallucinate": 3000},
    "seeds3": {"seeds": 3},
    "hall1k-seeds3": {"hallucinate": 1000, "seeds": 3},
    "decay": {"lr_decay": 0.5, "lr_patience": 2},
    "decay-seeds3": {"lr_decay": 0.5, "lr_patience": 2, "seeds": 3},
    "decay-60": {"lr_decay": 0.5, "lr_patience": 2, "max_epochs": 60, "patience": 10},
    "b64": {"batch_size": 64},
    "b64-decay": {"batch_size": 64, "lr_decay": 0.5, "lr_patience": 2},
    "big": {"enc_hidden": 150, "dec_hidden": 300},
}
JSON_FILE = RESULTS / "sigmorphon_transducer.json"
MD_FILE = RESULTS / "sigmorphon_transducer.md"
AFFIX_2023_MD = RESULTS / "sigmorphon_affix_2023_variants.md"
OFFICIAL_2023 = RESULTS / "sigmorphon_2023_official_nonneural_dev.txt"


def _records() -> dict:
    if JSON_FILE.is_file():
        return json.loads(JSON_FILE.read_text(encoding="utf-8"))
    return {"transducer": {}, "affix": {}}


def measure(settings: list[str], variants: list[str], runs: Path, data: str | None, threads: int) -> dict:
    """Run every (variant, setting) not measured yet; returns all records."""
    import torch

    torch.set_num_threads(threads)
    rec = _records()
    for name in settings:
        if name not in rec["affix"]:
            c0 = time.process_time()
            run("2022", langs=name, system="affix", data_dir=data, out_dir=runs / "affix", progress=False)
            sdir = runs / "affix" / "2022" / "affix" / "settings" / name
            sc = json.loads((sdir / "scores.json").read_text(encoding="utf-8"))
            rec["affix"][name] = {
                "dev": sc["scores"]["dev"]["all"]["accuracy"],
                "cpu_seconds": round(time.process_time() - c0, 2),
            }
    for v in variants:
        for name in settings:
            key = f"{v}/{name}"
            if key in rec["transducer"]:
                continue
            load0 = load_average()
            t0 = time.perf_counter()
            run(
                "2022",
                langs=name,
                system="transducer",
                config=VARIANTS[v],
                data_dir=data,
                out_dir=runs / v,
                progress=False,
                log=print,
            )
            root = runs / v / "2022" / "transducer" / "settings" / name
            sc = json.loads((root / "scores.json").read_text(encoding="utf-8"))
            model = json.loads((root / "model.json").read_text(encoding="utf-8"))
            mdir = root / model["model_dir"]
            result = json.loads((mdir / "result.json").read_text(encoding="utf-8"))
            rec["transducer"][key] = {
                "variant": v,
                "setting": name,
                "config": VARIANTS[v],
                "signature": sc["signature"],
                "dev": sc["scores"]["dev"]["all"]["accuracy"],
                "dev_by_seed": [s["best_dev"] for s in result["seeds"]],
                "last_epoch_dev": [s["history"][-1]["dev"] for s in result["seeds"]],
                "epochs": [s["epochs"] for s in result["seeds"]],
                "best_epoch": [s["best_epoch"] for s in result["seeds"]],
                "cpu_seconds": model["cpu_seconds"],
                "train_cpu_seconds": model["train_cpu_seconds"],
                "wall_seconds": round(time.perf_counter() - t0, 1),
                "threads": threads,
                "load_average_start": round(load0, 2),
                "load_average_end": round(load_average(), 2),
                "n_params": result["n_params"],
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            }
            atomic_write_text(JSON_FILE, json.dumps(rec, indent=1) + "\n")
            r = rec["transducer"][key]
            print(f"{key}: dev {r['dev']:.2f}, {r['cpu_seconds']:.0f} CPU-s, epochs {r['epochs']}", flush=True)
    atomic_write_text(JSON_FILE, json.dumps(rec, indent=1) + "\n")
    return rec


def write_report(rec: dict, data: str | None, cmd: str) -> None:
    """The Markdown table: one row per setting, one dev/CPU column pair per variant."""
    official = official_baselines("2022", data)
    variants = [v for v in VARIANTS if any(k.startswith(v + "/") for k in rec["transducer"])]
    names = sorted({r["setting"] for r in rec["transducer"].values()}, key=lambda n: (n.endswith("_large"), n))
    rows = []
    for n in names:
        off = official.get(n, {})
        row = {
            "setting": n,
            "nonneural": f"{off.get('official_nonneural_dev', float('nan')):.2f}",
            "neural": f"{off.get('official_neural_dev', float('nan')):.2f}",
        }
        if n in rec["affix"]:
            row["affix"] = f"{rec['affix'][n]['dev']:.2f}"
        for v in variants:
            r = rec["transducer"].get(f"{v}/{n}")
            if r:
                row[v] = f"{r['dev']:.2f}"
                row[f"{v}_cpu"] = f"{r['cpu_seconds']:.0f}"
        rows.append(row)
    cols = [
        ("setting", "setting"),
        ("nonneural", "official non-neural"),
        ("neural", "official neural"),
        ("affix", "affix (ours)"),
    ]
    for v in variants:
        cols += [(v, f"transducer {v}"), (f"{v}_cpu", f"{v} CPU-s")]
    detail = []
    for key, r in sorted(rec["transducer"].items()):
        detail.append(
            {
                "run": key,
                "dev": f"{r['dev']:.2f}",
                "by_seed": ", ".join(f"{x:.1f}" for x in r["dev_by_seed"]),
                "last": ", ".join(f"{x:.1f}" for x in r["last_epoch_dev"]),
                "epochs": ", ".join(f"{b}/{e}" for b, e in zip(r["best_epoch"], r["epochs"])),
                "cpu": f"{r['cpu_seconds']:.0f}",
                "train_cpu": f"{r['train_cpu_seconds']:.0f}",
                "wall": f"{r['wall_seconds']:.0f}",
                "load": f"{r['load_average_start']:.1f}-{r['load_average_end']:.1f}",
                "params": f"{r['n_params']:,}",
                "date": r["date"],
            }
        )
    variants_line = "; ".join(f"`{v}` = {json.dumps(VARIANTS[v]) if VARIANTS[v] else 'defaults'}" for v in variants)
    intro = [
        (
            f"Command: `{cmd}` (each call adds the runs not measured yet to "
            f"`{JSON_FILE.relative_to(REPO)}`; this table shows all of them)."
        ),
        (
            f"Machine: {machine()}. Shared with other jobs: the load average at the start and end of "
            "each run is in the second table; CPU-s (process CPU time, one torch thread) is the "
            "figure to compare, wall time depends on the load."
        ),
        "",
        (
            "Dev accuracy (exact match, %, official metric) of the transducer variants "
            "(`lexiconlm.inflection.transducer`, `lexiconlm sigmorphon run --system transducer`), "
            "the affix system and the official baselines "
            "(`2022_part1/baseline_results/part1_{nonneural,neural}_dev.txt`). "
            "CPU-s: training + predicting dev and test + scoring, one setting, one thread."
        ),
        (
            "Each transducer's epoch is chosen on the same dev file (early stopping), as neural "
            "baselines choose checkpoints; `last epoch dev` in the second table is the last epoch's "
            "dev accuracy."
        ),
        "",
        f"Variants: {variants_line}.",
        "",
        "Reproduce (one torch thread, `OMP_NUM_THREADS=1 nice -n 19` here): "
        + "; ".join(
            f"`python benchmarks/sigmorphon_transducer.py --variants {v} --settings "
            + ",".join(
                sorted(
                    (r["setting"] for r in rec["transducer"].values() if r["variant"] == v),
                    key=lambda n: (n.endswith("_large"), n),
                )
            )
            + "`"
            for v in variants
        )
        + ".",
    ]
    runs_cols = [
        ("run", "variant/setting"),
        ("dev", "dev"),
        ("by_seed", "dev per seed"),
        ("last", "last epoch dev"),
        ("epochs", "best/run epochs"),
        ("cpu", "CPU-s"),
        ("train_cpu", "training CPU-s"),
        ("wall", "wall s"),
        ("load", "load avg"),
        ("params", "parameters"),
        ("date", "date"),
    ]
    text = [
        "# SIGMORPHON 2022 dev: the hard-attention transducer",
        "",
        *intro,
        "",
        md_table(rows, cols),
        "",
        *small_means(rec, official),
        "## Runs",
        "",
        md_table(detail, runs_cols),
        "",
    ]
    atomic_write_text(MD_FILE, "\n".join(text))
    print(f"wrote {MD_FILE}")


def small_means(rec: dict, official: dict) -> list[str]:
    """Means over the `_small` settings every listed variant ran, and the seed-to-seed spread."""
    runs = rec["transducer"]
    small = sorted({r["setting"] for r in runs.values() if r["setting"].endswith("_small")})
    covering = [v for v in VARIANTS if small and all(f"{v}/{n}" in runs for n in small)]
    if not covering:
        return []

    def mean(values: list[float]) -> str:
        return f"{sum(values) / len(values):.2f}"

    rows = [
        {
            "system": "official neural",
            "dev": mean([official.get(n, {}).get("official_neural_dev", float("nan")) for n in small]),
        },
        {"system": "affix (ours)", "dev": mean([rec["affix"][n]["dev"] for n in small])},
    ]
    for v in covering:
        rows.append(
            {
                "system": f"transducer {v}",
                "dev": mean([runs[f"{v}/{n}"]["dev"] for n in small]),
                "cpu": mean([runs[f"{v}/{n}"]["cpu_seconds"] for n in small]),
                "better": sum(runs[f"{v}/{n}"]["dev"] > runs[f"base/{n}"]["dev"] for n in small)
                if v != "base" and "base" in covering
                else "",
            }
        )
    spreads = []
    for r in runs.values():
        seeds = r["dev_by_seed"]
        if len(seeds) > 1:
            m = sum(seeds) / len(seeds)
            spreads.append((sum((x - m) ** 2 for x in seeds) / (len(seeds) - 1)) ** 0.5)
    lines = [
        f"## Means over the {len(small)} `_small` settings ({', '.join(small)})",
        "",
        md_table(
            rows, [("system", "system"), ("dev", "mean dev"), ("cpu", "mean CPU-s"), ("better", "settings above base")]
        ),
        "",
    ]
    if spreads:
        lines += [
            (
                f"Noise: the standard deviation of single-seed dev accuracies across seeds, averaged over "
                f"the {len(spreads)} multi-seed runs, is {sum(spreads) / len(spreads):.2f} points; a "
                "1,000-item dev file alone has a binomial standard error of about 1.5 points at 50-70%."
            ),
            "",
        ]
    return lines


def read_official_output(path: Path) -> dict[str, float]:
    """``lang: 0.746`` lines printed by the official 2023 non-neural script -> {lang: accuracy %}."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition(": ")
        if sep and name.strip() and not name.startswith("#"):
            try:
                out[name.strip()] = 100.0 * float(value)
            except ValueError:
                continue
    return out


def affix_2023(data: str | None, cmd: str) -> None:
    """Affix variants on every 2023 dev file: the old default, the 2023 variant, its float twin,
    beside the official script's figures when ``OFFICIAL_2023`` holds its output."""
    from lexiconlm.inflection.affix import AffixBaseline
    from lexiconlm.inflection.metrics import evaluate, micro_average
    from lexiconlm.io.sigmorphon import read_sigmorphon

    variants = ["sigmorphon.v1", "sigmorphon2023.v1", "sigmorphon2023-float.v1"]
    official = read_official_output(OFFICIAL_2023) if OFFICIAL_2023.is_file() else {}
    rows, scores = [], {v: [] for v in variants}
    for s in discover("2023", data, "all"):
        train = read_sigmorphon(s.train, edition="2023")
        dev = read_sigmorphon(s.dev, edition="2023")
        row = {"setting": s.name}
        for v in variants:
            m = AffixBaseline(v).fit(train.entries)
            sc = evaluate(dev.entries, m.predict(dev.entries))
            scores[v].append(sc)
            row[v] = f"{sc.accuracy:.2f}"
            row[v + "_dir"] = "pre" if m.prefixing else "suf"
        row["diff"] = f"{float(row['sigmorphon2023.v1']) - float(row['sigmorphon.v1']):+.2f}"
        if s.name in official:
            row["official"] = f"{official[s.name]:.2f}"
            row["diff_official"] = f"{round(float(row['sigmorphon2023.v1']) - official[s.name], 2) + 0.0:+.2f}"
        rows.append(row)
        print(row, flush=True)
    micro = {"setting": "**micro (27,000 items)**", "diff": ""}
    for v in variants:
        micro[v] = f"{micro_average(scores[v]).accuracy:.2f}"
    micro["diff"] = f"{float(micro['sigmorphon2023.v1']) - float(micro['sigmorphon.v1']):+.2f}"
    cols = [("setting", "file")]
    for v in variants:
        cols += [(v, f"`{v}` dev"), (v + "_dir", "direction")]
    cols.append(("diff", "2023.v1 - v1"))
    if official:
        cols += [("official", "official 2023 script"), ("diff_official", "2023.v1 - official")]
        diffs = [abs(float(r["diff_official"])) for r in rows if "diff_official" in r]
        float_same = sum(
            abs(float(r["sigmorphon2023-float.v1"]) - official[r["setting"]]) < 0.005 for r in rows if "official" in r
        )
        macro = sum(official[r["setting"]] for r in rows if r["setting"] in official) / max(1, len(diffs))
        ours = sum(float(r["sigmorphon2023.v1"]) for r in rows if "official" in r) / max(1, len(diffs))
        micro["official"] = ""
        official_note = (
            f"Official column: the output of the task's own script (`part1/baselines/nonneural.py` of "
            f"sigmorphon/2023InflectionST, commit e84245c; not bundled) run on the same files with "
            f"`python nonneural.py -p ../shared/data/sigmorphon/2023_part1/`, kept verbatim in "
            f"`{OFFICIAL_2023.relative_to(REPO)}`. `sigmorphon2023.v1` is within 2 points of it on "
            f"{sum(d <= 2.0 for d in diffs)} of {len(diffs)} files, identical on "
            f"{sum(d < 0.005 for d in diffs)}; largest difference {max(diffs):.2f}. Macro over the "
            f"{len(diffs)} files: ours {ours:.2f}, official {macro:.2f}. `sigmorphon2023-float.v1` "
            f"(the script's floating-point tie-breaking too) is identical on {float_same} of {len(diffs)} files."
        )
    else:
        official_note = "No output of the official 2023 script found (" + str(OFFICIAL_2023.name) + ")."
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    intro = [
        f"Command: `{cmd}`. Machine: {machine()}. Date: {date}.",
        "",
        (
            "`sigmorphon.v1` reproduces the 2022 script, which (under Python 3) counts only the "
            "lemma's padding in the prefixing test and leaves out only pairs whose lemma has a space "
            "or `-`. The 2023 script (`part1/baselines/nonneural.py` of sigmorphon/2023InflectionST) "
            "counts both strings and leaves out pairs with a space or `-` in either: "
            "`sigmorphon2023.v1` (`bias=pads`, exact tie-breaking, the default of 2023 runs) and "
            "`sigmorphon2023-float.v1` (also the script's floating-point tie-breaking between "
            "equal-cost alignments). `direction`: suffixing or prefixing (strings reversed), as "
            "decided on the training file."
        ),
        official_note,
    ]
    text = [
        "# SIGMORPHON 2023 part 1 dev: the affix system before and after the 2023 variant",
        "",
        *intro,
        "",
        md_table(rows + [micro], cols),
        "",
    ]
    atomic_write_text(AFFIX_2023_MD, "\n".join(text))
    print(f"wrote {AFFIX_2023_MD}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", default="hun_small,ara_small,kat_small,pol_small,evn_small,hun_large")
    ap.add_argument("--variants", default="base", help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--runs", default=str(REPO / "runs" / "sigmorphon-transducer"))
    ap.add_argument("--data", default=None, help="the sigmorphon data folder")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--report-only", action="store_true", help="rewrite the Markdown from the JSON")
    ap.add_argument("--affix-2023", action="store_true", help="the 2023 affix variant table instead")
    args = ap.parse_args(argv)
    cmd = command_line(__file__, argv)
    if args.affix_2023:
        affix_2023(args.data, cmd)
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    if args.report_only:
        rec = _records()
    else:
        rec = measure(settings, variants, Path(args.runs), args.data, args.threads)
    write_report(rec, args.data, cmd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
