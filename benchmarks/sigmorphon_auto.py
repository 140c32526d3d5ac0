#!/usr/bin/env python3
"""SIGMORPHON with ``--system auto`` (affix or transducer per setting, chosen on dev): tables, time, predictions.

What it does, per edition (``--editions 2022,2021,2023,2020``):

* runs ``lexiconlm sigmorphon run --edition E --system auto --config configs/sigmorphon/auto-cpu.yaml``
  (one command: affix and transducer trained on every setting, the transducers on a process
  pool of one worker per CPU, choice on dev, dev and test predicted and scored), timing the
  command's wall clock and CPU time (its processes and their children) and the load average;
  a call that trains nothing (everything finished) keeps the timing recorded before;
* copies the run's tables to ``docs/results/sigmorphon/<E>_auto.{md,csv}`` (+ ``_summary.csv``);
* for editions with covered test files (2022, 2023) the chosen system's test predictions go to
  ``docs/results/sigmorphon/predictions/<E>/<setting>.pred`` with ``selection.csv`` (``--dest``);
* writes ``benchmarks/results/sigmorphon_auto.md`` (+ ``.json``): per edition the summary,
  the wall and CPU time, and how the transducer's cost grows with training size (CPU-s per
  setting and per 1,000 training pairs, epochs run, by training-size band).

Usage::

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/sigmorphon_auto.py --editions 2022
    python benchmarks/sigmorphon_auto.py --editions 2022,2021,2023 --report-only

The data folder is ``$LEXICONLM_SHARED_DATA/sigmorphon`` or ``../shared/data/sigmorphon``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, command_line, load_average, machine, md_table

from lexiconlm.files import atomic_write_text
from lexiconlm.inflection.runner import default_data_dir, discover

DOCS = REPO / "docs" / "results" / "sigmorphon"
RESULTS = REPO / "benchmarks" / "results"
CONFIG = "configs/sigmorphon/auto-cpu.yaml"
COVERED = {"2022", "2023"}


def _n_lines(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def run_edition(edition: str, runs: Path, config: str) -> dict | None:
    """One ``lexiconlm sigmorphon run --system auto`` call, timed; None when it trained nothing."""
    cmd = [
        sys.executable,
        "-m",
        "lexiconlm.cli.main",
        "sigmorphon",
        "run",
        "--edition",
        edition,
        "--system",
        "auto",
        "--config",
        config,
        "--out",
        str(runs),
        "--no-progress",
    ]
    if edition in COVERED:
        cmd += ["--dest", str(DOCS / "predictions" / edition)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0, t0 = load_average(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, text=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stdout.write(proc.stdout[-4000:])
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{edition}: the run failed (exit {proc.returncode})")
    trained = [line for line in proc.stdout.splitlines() if "CPU-s training" in line]
    if not trained:
        return None
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 1),
        "load": f"{load0:.1f}-{load_average():.1f}",
        "settings_trained": len(trained),
        "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        "command": "lexiconlm sigmorphon run --edition {e} --system auto --config {c}".format(e=edition, c=config)
        + (f" --dest docs/results/sigmorphon/predictions/{edition}" if edition in COVERED else ""),
    }


def parse_time_log(path: str) -> dict:
    """Wall and CPU time from the output of ``/usr/bin/time -v <the same command>``."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    vals = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("User time (seconds):"):
            vals["user"] = float(line.split(":")[1])
        elif line.startswith("System time (seconds):"):
            vals["sys"] = float(line.split(":")[1])
        elif line.startswith("Command being timed:"):
            vals["command"] = line.split(":", 1)[1].strip().strip('"')
        elif line.startswith("Elapsed (wall clock) time"):
            parts = [float(x) for x in line.rsplit(" ", 1)[1].split(":")]
            vals["wall"] = sum(x * 60**i for i, x in enumerate(reversed(parts)))
    if {"user", "sys", "wall", "command"} - set(vals):
        raise SystemExit(f"{path}: no /usr/bin/time -v figures")
    trained = sum(1 for line in text.splitlines() if "CPU-s training" in line)
    return {
        "wall_s": round(vals["wall"], 1),
        "cpu_s": round(vals["user"] + vals["sys"], 1),
        "settings_trained": trained,
        "timed_with": "/usr/bin/time -v",
        "command": vals["command"],
    }


def copy_tables(edition: str, runs: Path) -> None:
    src = runs / edition / "auto"
    for name, dest in (("results.md", "auto.md"), ("results.csv", "auto.csv"), ("summary.csv", "auto_summary.csv")):
        if (src / name).is_file():
            shutil.copyfile(src / name, DOCS / f"{edition}_{dest}")


def cost_rows(edition: str, runs: Path) -> list[dict]:
    """Per training-size band: transducer CPU-s per setting, per 1,000 pairs, epochs."""
    bands: dict[str, list[tuple[int, float, int]]] = {}
    for s in discover(edition, None, "all"):
        sdir = runs / edition / "transducer" / "settings" / s.name
        rec_file, res_file = sdir / "scores.json", runs / edition / "transducer" / "models" / s.name / "result.json"
        if not rec_file.is_file():
            continue
        rec = json.loads(rec_file.read_text(encoding="utf-8"))
        epochs = 0
        if res_file.is_file():
            epochs = sum(x["epochs"] for x in json.loads(res_file.read_text(encoding="utf-8"))["seeds"])
        n = _n_lines(s.train)
        band = "< 1,000" if n < 1000 else "1,000-4,999" if n < 5000 else "5,000-9,999" if n < 10000 else "10,000+"
        bands.setdefault(band, []).append((n, float(rec.get("cpu_seconds") or rec["seconds"]), epochs))
    out = []
    for band in ("< 1,000", "1,000-4,999", "5,000-9,999", "10,000+"):
        xs = bands.get(band)
        if not xs:
            continue
        pairs, cpu, ep = sum(x[0] for x in xs), sum(x[1] for x in xs), sum(x[2] for x in xs)
        out.append(
            {
                "edition": edition,
                "training pairs": band,
                "settings": len(xs),
                "mean pairs": f"{pairs / len(xs):,.0f}",
                "CPU-s per setting": f"{cpu / len(xs):.0f}",
                "CPU-s per 1,000 pairs": f"{1000 * cpu / pairs:.1f}",
                "mean epochs": f"{ep / len(xs):.1f}",
            }
        )
    return out


def summary_rows(edition: str, runs: Path) -> list[dict]:
    f = runs / edition / "auto" / "summary.csv"
    if not f.is_file():
        return []
    import csv

    with open(f, encoding="utf-8") as fh:
        return [dict(r, edition=edition) for r in csv.DictReader(fh)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--editions", default="2022", help="comma-separated: 2020,2021,2022,2023")
    ap.add_argument("--runs", default="runs/sigmorphon-auto", help="run folder root")
    ap.add_argument("--config", default=CONFIG)
    ap.add_argument("--report-only", action="store_true", help="only rebuild the tables from finished runs")
    ap.add_argument(
        "--time-log",
        action="append",
        default=[],
        metavar="EDITION=FILE",
        help="take an edition's timing from the output of `/usr/bin/time -v` around the same command",
    )
    args = ap.parse_args(argv)
    if default_data_dir() is None:
        print("skipped: no ../shared/data/sigmorphon (set LEXICONLM_SHARED_DATA)")
        return 0
    runs = (REPO / args.runs).resolve()
    store = RESULTS / "sigmorphon_auto.json"
    timing = json.loads(store.read_text(encoding="utf-8")) if store.is_file() else {}
    editions = [e.strip() for e in args.editions.split(",") if e.strip()]
    for item in args.time_log:
        e, _, f = item.partition("=")
        timing[e] = {**parse_time_log(f), "machine": machine()}
        atomic_write_text(store, json.dumps(timing, indent=1) + "\n")
    for e in editions:
        if not args.report_only:
            t = run_edition(e, runs, args.config)
            if t is not None:  # read again: another call may have added an edition meanwhile
                timing = json.loads(store.read_text(encoding="utf-8")) if store.is_file() else {}
                timing[e] = {**t, "machine": machine()}
                atomic_write_text(store, json.dumps(timing, indent=1) + "\n")
        copy_tables(e, runs)
    done = sorted(e for e in {"2020", "2021", "2022", "2023"} if (runs / e / "auto" / "summary.csv").is_file())
    summ = [r for e in done for r in summary_rows(e, runs)]
    cols = [
        ("edition", "edition"),
        ("group", "group"),
        ("split", "split"),
        ("settings", "settings"),
        ("n", "items"),
        ("micro_acc", "micro"),
        ("macro_acc", "macro"),
        ("micro_both", "both"),
        ("micro_lemma", "lemma"),
        ("micro_feats", "feats"),
        ("micro_unseen", "unseen"),
        ("official_neural_dev_micro", "official neural micro"),
        ("official_nonneural_dev_micro", "official non-neural micro"),
        ("cpu_seconds", "CPU-s (affix + transducer)"),
    ]
    trows = [
        {"edition": e, **{k: v for k, v in t.items() if k != "machine"}} for e, t in sorted(timing.items()) if e in done
    ]
    text = [
        "# SIGMORPHON `--system auto` (affix or transducer per setting, chosen on dev)",
        "",
        f"Command: `{command_line(__file__, argv)}` (tables only: `--report-only`). Machine: {machine()}.",
        "Each edition is one `lexiconlm sigmorphon run --system auto` call (below), which trains the affix system and",
        f"the transducer (`{args.config}`) on every setting, two settings at a time on a process pool (one torch",
        "thread each), chooses per setting on dev, predicts dev and test and scores them.",
        "",
        "## Accuracy",
        "",
        md_table(summ, cols),
        "",
        "## Time (the whole command)",
        "",
        md_table(
            trows,
            [
                ("edition", "edition"),
                ("settings_trained", "settings trained"),
                ("wall_s", "wall s"),
                ("cpu_s", "CPU-s"),
                ("load", "load average start-end"),
                ("date", "date"),
                ("command", "command"),
            ],
        ),
        "",
        "## How the transducer's cost grows with training size",
        "",
        "CPU-s of one setting: training (early stopping on dev, patience 8, at most 40 epochs) + predicting dev",
        "and test.",
        "",
        md_table(
            [r for e in done for r in cost_rows(e, runs)],
            [
                ("edition", "edition"),
                ("training pairs", "training pairs"),
                ("settings", "settings"),
                ("mean pairs", "mean pairs"),
                ("CPU-s per setting", "CPU-s per setting"),
                ("CPU-s per 1,000 pairs", "CPU-s per 1,000 pairs"),
                ("mean epochs", "mean epochs"),
            ],
        ),
        "",
    ]
    atomic_write_text(RESULTS / "sigmorphon_auto.md", "\n".join(text))
    print(f"wrote {RESULTS / 'sigmorphon_auto.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
