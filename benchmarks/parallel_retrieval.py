#!/usr/bin/env python3
"""Parallel-sentence retrieval of a sentence encoder on the held-out half of every language's parallel units.

The "before" figure that expansion must move: for each language with parallel text in
``../shared/data`` (UDHR paragraphs, Bible verses with the English of the World English Bible,
FLORES sentences), the held-out half of its units (never used by lexicon induction), English →
target and target → English, top-1 and top-10 against the whole pool of the language's held-out
units (:mod:`lexiconlm.expand.retrieval`). Per language, mean and by corpus, family and script.

Usage::

    # a seeded sample of 60 languages (writes benchmarks/results/parallel_retrieval_<model>.{md,csv})
    OMP_NUM_THREADS=2 python benchmarks/parallel_retrieval.py --model e5-small --sample 60
    python benchmarks/parallel_retrieval.py --model e5-small --sample 0      # every language
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import RESULTS, command_line, machine, shared_data_dir, to_csv  # noqa: E402

from lexiconlm.expand.retrieval import parallel_retrieval  # noqa: E402
from lexiconlm.files import atomic_write_text  # noqa: E402
from lexiconlm.languages import get_catalog  # noqa: E402
from lexiconlm.lexicon.parallel import find_parallel_files, parallel_units, select_units  # noqa: E402
from lexiconlm.models import load_encoder, load_tokenizer  # noqa: E402
from lexiconlm.unicode_scripts import dominant_script  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--prefix", default="query: ")
    ap.add_argument("--sample", type=int, default=60, help="languages to sample (seeded); 0: all")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--langs", default="", help="comma-separated codes instead of a sample")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    args = ap.parse_args(argv)
    data = shared_data_dir()
    corpora = {
        "udhr": data / "text" / "udhr",
        "bible": data / "text" / "bible",
        "flores": data / "text" / "flores200_dev",
    }
    if not corpora["udhr"].is_dir():
        print(f"skipped: {corpora['udhr']} is absent (set LEXICONLM_SHARED_DATA)")
        return 0
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    files = find_parallel_files(corpora)
    langs = sorted(files)
    if args.langs:
        langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    elif args.sample:
        langs = sorted(random.Random(args.seed).sample(langs, min(args.sample, len(langs))))
    model = load_encoder(args.model, "cpu", pooler=False)
    tok = load_tokenizer(args.model)
    catalog = get_catalog()
    rows = []
    start = time.perf_counter()
    for n, iso in enumerate(langs, 1):
        t0 = time.perf_counter()
        units = select_units(parallel_units(files[iso], corpora), "heldout")
        if len(units) < 2:
            continue
        res = parallel_retrieval(units, model, tok, prefix=args.prefix)
        lang = catalog.get(iso)
        script = dominant_script([u.target for u in units]) or (lang.scripts or [""])[0]
        row = {"iso639_3": iso, "name": lang.name, "family": lang.family or "", "script": script}
        row |= res.as_dict()
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print(f"[{n}/{len(langs)}] {json.dumps(row, ensure_ascii=False)}", flush=True)
    wall = time.perf_counter() - start
    cols = [
        "iso639_3",
        "name",
        "family",
        "script",
        "corpora",
        "pool",
        "eng2tgt_top1",
        "eng2tgt_top10",
        "tgt2eng_top1",
        "tgt2eng_top10",
        "top1",
        "top10",
        "seconds",
    ]

    def mean(sel, key):
        return round(statistics.fmean(r[key] for r in sel), 2) if sel else float("nan")

    lines = [
        f"# Parallel-sentence retrieval of `{args.model}` on held-out parallel units",
        "",
        f"Command: `{command_line('benchmarks/parallel_retrieval.py', argv)}`  ",
        f"Machine: {machine()}; {len(rows)} languages in {wall / 60:.1f} min.  ",
        "Held-out half of each language's units (UDHR paragraphs, Bible verses, FLORES sentences; deduplicated; "
        "script: of the text); "
        "each query ranked against the language's whole held-out pool. top1/top10: mean of both directions.",
        "",
        "| languages | mean pool | top-1 | top-10 | eng→tgt top-1 | tgt→eng top-1 |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {len(rows)} | {mean(rows, 'pool'):.0f} | {mean(rows, 'top1')} | {mean(rows, 'top10')} | "
        f"{mean(rows, 'eng2tgt_top1')} | {mean(rows, 'tgt2eng_top1')} |",
    ]
    for key in ("corpora", "script", "family"):
        groups = defaultdict(list)
        for r in rows:
            groups[r[key] or "(unknown)"].append(r)
        lines += [
            "",
            f"By {key}:",
            "",
            f"| {key} | languages | mean pool | top-1 | top-10 |",
            "|---|---:|---:|---:|---:|",
        ]
        for g, sel in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:15]:
            lines.append(f"| {g} | {len(sel)} | {mean(sel, 'pool'):.0f} | {mean(sel, 'top1')} | {mean(sel, 'top10')} |")
    lines += ["", "Per language:", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    stem = "parallel_retrieval_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(args.model).name)
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / f"{stem}.md", "\n".join(lines) + "\n")
    atomic_write_text(RESULTS / f"{stem}.csv", to_csv(rows, cols))
    print("\n".join(lines[:12]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
