#!/usr/bin/env python3
"""SIGMORPHON tables with the runner: affix and neural systems, every edition; best-on-dev test predictions.

What it does

* ``--system affix|neural --editions 2020,2021,2022,2023 [--langs ...]``: runs
  :func:`lexiconlm.inflection.runner.run` (train, predict dev and test in the official
  format, score with the official metrics; resumable) and copies its tables to
  ``docs/results/sigmorphon/<edition>_<system>[_<label>].{md,csv}`` plus ``..._summary.csv``,
  with the command and the machine in the Markdown header.
* ``--select 2022,2023``: per setting, the test predictions of the system with the best
  dev accuracy (dev only) go to ``docs/results/sigmorphon/predictions/<edition>/<setting>.pred``
  (``selection.csv`` beside them says which system).

Usage::

    python benchmarks/sigmorphon_neural.py --system affix --editions 2020,2021,2022,2023
    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/sigmorphon_neural.py --system neural --editions 2022 \\
        --langs hun_small --config configs/sigmorphon/neural-cpu-one.yaml --device cpu --threads 1 --label cpu-one
    python benchmarks/sigmorphon_neural.py --select 2022,2023

The data folder is ``$LEXICONLM_SHARED_DATA/sigmorphon`` or ``../shared/data/sigmorphon``
(``--data`` overrides); runs go to ``runs/sigmorphon`` (``--runs``).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, command_line, machine

from lexiconlm.files import atomic_write_text
from lexiconlm.inflection.runner import run, select_best

DOCS = REPO / "docs" / "results" / "sigmorphon"


def hallucinate_stats(data: str | None, cmd: str) -> None:
    """Hallucination on every 2022 _small setting: pairs with a stem, leaks redrawn, time."""
    from _common import md_table, to_csv

    from lexiconlm.inflection.hallucinate import HallucinationStats, hallucinate
    from lexiconlm.inflection.runner import discover
    from lexiconlm.io.sigmorphon import read_sigmorphon
    from lexiconlm.leakage import LeakageGuard

    rows = []
    for s in discover("2022", data, "all"):
        if s.size != "small":
            continue
        train = read_sigmorphon(s.train)
        guard = LeakageGuard().add_sigmorphon([p for p in (s.dev, s.test) if p])
        st = HallucinationStats()
        t0 = time.perf_counter()
        out = hallucinate(train.entries, n=1000, seed=13, guard=guard, stats=st)
        rows.append(
            {
                "setting": s.name,
                "train": len(train),
                "with_stem": st.n_pairs_with_stem,
                "generated": len(out),
                "leaks_redrawn": st.n_leaks_redrawn,
                "duplicates_redrawn": st.n_duplicates_redrawn,
                "seconds": round(time.perf_counter() - t0, 3),
                "example": f"{out[0].lemma} -> {out[0].form} ({out[0].features})" if out else "",
            }
        )
    cols = ["setting", "train", "with_stem", "generated", "leaks_redrawn", "duplicates_redrawn", "seconds", "example"]
    atomic_write_text(DOCS / "hallucinate_2022_small.csv", to_csv(rows, cols))
    head = (
        f"# Hallucination (hallucinate.v1, n=1000, min_stem=3, seed=13) on the 2022 _small settings\n\n"
        f"Command: `{cmd}`. Machine: {machine()}. Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.\n"
        "Guard: each setting's dev and covered test items (lemma + features).\n\n"
    )
    atomic_write_text(DOCS / "hallucinate_2022_small.md", head + md_table(rows, [(c, c) for c in cols]) + "\n")
    print(f"hallucination: {len(rows)} settings, {sum(r['generated'] for r in rows)} pairs")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--system", choices=("affix", "neural"))
    ap.add_argument("--editions", default="2022")
    ap.add_argument("--langs", default="all")
    ap.add_argument("--config")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--group", default="auto")
    ap.add_argument("--label", default="")
    ap.add_argument("--data")
    ap.add_argument("--runs", default=str(REPO / "runs" / "sigmorphon"))
    ap.add_argument("--select", default="")
    ap.add_argument(
        "--hallucinate-stats",
        action="store_true",
        help="hallucinate 1,000 pairs for every 2022 _small setting (guarded by its dev and test files)",
    )
    args = ap.parse_args(argv)
    cmd = command_line(__file__, argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.system:
        for edition in [e.strip() for e in args.editions.split(",") if e.strip()]:
            t0 = time.perf_counter()
            s = run(
                edition,
                langs=args.langs,
                system=args.system,
                device=args.device,
                data_dir=args.data,
                out_dir=args.runs,
                config=args.config,
                group=args.group,
                progress=True,
                log=print,
            )
            wall = time.perf_counter() - t0
            name = f"{edition}_{args.system}" + (f"_{args.label}" if args.label else "")
            md = Path(s.markdown).read_text(encoding="utf-8").split("\n", 2)
            header = [
                md[0],
                "",
                f"Command: `{cmd}` (this call: {wall:.0f} s wall, settings already finished are not re-run).",
                f"Machine: {machine()}. Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
            ]
            body = md[2].split("\n", 1)[1] if md[2].startswith("Command:") else md[2]
            atomic_write_text(DOCS / f"{name}.md", "\n".join(header) + "\n" + body)
            atomic_write_text(DOCS / f"{name}.csv", Path(s.csv).read_text(encoding="utf-8"))
            atomic_write_text(
                DOCS / f"{name}_summary.csv", (Path(s.csv).parent / "summary.csv").read_text(encoding="utf-8")
            )
            print(f"{name}: {len(s.rows)} settings, {wall:.0f} s -> {DOCS / name}.md")
            for row in s.summary:
                print("  ", row)
    if args.hallucinate_stats:
        hallucinate_stats(args.data, cmd)
    for edition in [e.strip() for e in args.select.split(",") if e.strip()]:
        rows = select_best(edition, out_dir=args.runs, dest=DOCS / "predictions" / edition, data_dir=args.data)
        chosen = {}
        for r in rows:
            chosen[r["chosen"]] = chosen.get(r["chosen"], 0) + 1
        print(f"{edition}: {len(rows)} prediction files ({chosen})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
