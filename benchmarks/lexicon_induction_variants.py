#!/usr/bin/env python3
"""Choose the induction settings on development languages only, then report them everywhere.

The languages with both parallel text and a dictionary are split by a hash of their ISO code:
a quarter are *development* languages, on which the variants below are compared (precision
against their dictionaries); the other three quarters are never looked at for the choice. The
chosen variant then goes into ``configs/lexicon/induce.yaml`` and ``lexiconlm lexicon eval``
reports it over all languages.

Variants (eflomal, units: train): candidate ranking ``links`` vs ``dice``; stemming for
alignment ``prefix_len`` 0 vs 4; and pivoting through Spanish (UDHR only) vs direct English.
Rows run before the config gained ``segment`` (learned segmentation of scripts without spaces)
were run without it; later rows say ``+ segmentation``.

Usage::

    python benchmarks/lexicon_induction_variants.py     # benchmarks/results/lexicon_induction_variants.{md,json}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, RESULTS, command_line, machine  # noqa: E402

from lexiconlm.files import atomic_write_text  # noqa: E402
from lexiconlm.io.locate import find_lexicons  # noqa: E402
from lexiconlm.lexicon.evaluate import evaluate_induction, summarize  # noqa: E402
from lexiconlm.lexicon.induce import load_induce_config  # noqa: E402
from lexiconlm.lexicon.parallel import find_parallel_files  # noqa: E402


def is_dev_language(iso: str) -> bool:
    """A stable quarter of the ISO codes."""
    return hashlib.sha1(iso.encode()).digest()[0] % 4 == 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "configs" / "lexicon" / "induce.yaml"))
    ap.add_argument("--pivot", default="spa", help="pivot language for the UDHR pivot comparison ('' to skip it)")
    ap.add_argument(
        "--variants", default="links:0,dice:0,links:4,dice:4", help="rank:prefix_len pairs, e.g. links:3,links:5"
    )
    args = ap.parse_args(argv)
    base = load_induce_config(args.config)
    missing = [str(p) for p in base.corpora.values() if not Path(p).is_dir()]
    if missing:
        print(f"skipped: {missing} absent")
        return 0
    data = Path(base.corpora["udhr"]).parents[1]
    refs = [data / "lexicons" / "wiktionary", data / "lexicons" / "gatitos"]
    files = find_parallel_files(base.corpora)
    dev = sorted(iso for iso in files if is_dev_language(iso) and find_lexicons(iso, refs))
    print(f"{len(dev)} development languages: {' '.join(dev)}", flush=True)
    variants = {}
    for spec in args.variants.split(","):
        rank, _, prefix = spec.strip().partition(":")
        seg = ", + segmentation" if base.segment else ""
        variants[f"rank {rank}, prefix {int(prefix or 0)}{seg}"] = replace(base, rank=rank, prefix_len=int(prefix or 0))
    out_json = RESULTS / "lexicon_induction_variants.json"
    results = json.loads(out_json.read_text())["results"] if out_json.is_file() else {}
    for name, cfg in variants.items():
        t0 = time.perf_counter()
        rows = evaluate_induction(cfg, refs, aligners=("eflomal",), langs=dev)
        results[name] = {"summary": summarize(rows), "wall_seconds": round(time.perf_counter() - t0, 1)}
        print(name, [r for r in results[name]["summary"] if r["corpus"] == "any" and r["band"] == "all"], flush=True)
    # pivot: UDHR only, direct English vs through the pivot language's text and dictionary
    udhr_only = replace(base, corpora={"udhr": base.corpora["udhr"]})
    pivoted = replace(udhr_only, pivot=args.pivot, pivot_lexicons=tuple(refs))
    pivot_runs = {"UDHR direct (English)": udhr_only, f"UDHR through {args.pivot}": pivoted} if args.pivot else {}
    for name, cfg in pivot_runs.items():
        t0 = time.perf_counter()
        rows = evaluate_induction(cfg, refs, aligners=("eflomal",), langs=[x for x in dev if x != args.pivot])
        results[name] = {"summary": summarize(rows), "wall_seconds": round(time.perf_counter() - t0, 1)}
        print(name, [r for r in results[name]["summary"] if r["corpus"] == "any" and r["band"] == "all"], flush=True)
    lines = [
        "# Lexicon induction variants on development languages",
        "",
        f"Command: `{command_line('benchmarks/lexicon_induction_variants.py', argv)}`  ",
        f"Machine: {machine()}.  ",
        f"Development languages ({len(dev)}, a hash quarter of those with parallel text and a dictionary): "
        + " ".join(dev),
        "",
        "eflomal, train half of the units, candidates ranked top 5 without thresholds; precision against "
        "Wiktionary + GATITOS; every corpus of a language together.",
        "",
        "| variant | items | p@1 | p@5 | p@1 prefix | p@1 band 1 | p@1 band 2-4 | p@1 band 5+ | wall s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, res in results.items():
        cells = {r["band"]: r for r in res["summary"] if r["corpus"] == "any"}
        a = cells.get("all", {})
        lines.append(
            f"| {name} | {a.get('items')} | {a.get('p@1')} | {a.get('p@5')} | {a.get('p@1_prefix')} | "
            f"{cells.get('1', {}).get('p@1')} | {cells.get('2-4', {}).get('p@1')} | {cells.get('5+', {}).get('p@1')} | "
            f"{res['wall_seconds']} |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / "lexicon_induction_variants.md", "\n".join(lines) + "\n")
    atomic_write_text(
        RESULTS / "lexicon_induction_variants.json", json.dumps({"dev": dev, "results": results}, indent=2) + "\n"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
