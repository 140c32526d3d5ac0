#!/usr/bin/env python3
"""Languages with a usable lexicon before and after induction, overall and by family and script.

Reads a coverage table computed with the induced lexicons as a source (``configs/coverage/shared.yaml``
names ``runs/lexicon/induced``) and counts catalog languages whose lexicon entries reach 100 and
20: *before* = dictionaries only (every ``lex_*_entries`` column except ``lex_induced_entries``),
*after* = dictionaries + induced (``lex_total_entries``, as ``coverage compute`` reports it).
Because the coverage table counts entries (an English word with three induced translations
counts three), it also counts English *words* with at least one entry from the merged lexicons of
``lexiconlm lexicon merge`` when that folder exists (``--merged``), the stricter figure.

Usage::

    lexiconlm lexicon induce --langs all
    lexiconlm coverage compute --config configs/coverage/shared.yaml --out runs/coverage/induced.csv
    lexiconlm lexicon merge -d ../shared/data/lexicons/wiktionary -d ../shared/data/lexicons/gatitos
    python benchmarks/lexicon_induction_coverage.py --table runs/coverage/induced.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, RESULTS, command_line  # noqa: E402

from lexiconlm.files import atomic_write_text  # noqa: E402


def _int(v: str | None) -> int:
    try:
        return int(float(v or 0))
    except ValueError:
        return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", default=str(REPO / "runs" / "coverage" / "induced.csv"))
    ap.add_argument("--merged", default=str(REPO / "runs" / "lexicon" / "merged" / "summary.csv"))
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    table = Path(args.table)
    if not table.is_file():
        print(f"skipped: {table} is absent (run the commands in this script's docstring)")
        return 0
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    if "lex_induced_entries" not in rows[0]:
        raise SystemExit(f"{table} has no lex_induced_entries column: compute it with configs/coverage/shared.yaml")
    dict_cols = [
        c
        for c in rows[0]
        if c.startswith("lex_") and c.endswith("_entries") and c not in ("lex_total_entries", "lex_induced_entries")
    ]
    merged_words: dict[str, int] = {}
    mpath = Path(args.merged)
    if mpath.is_file():
        for r in csv.DictReader(mpath.open(encoding="utf-8")):
            merged_words[r["iso639_3"]] = _int(r["merged_sources"])
    out: dict = {"table": str(table), "thresholds": {}}
    lines = [
        "# Lexicon coverage before and after induction",
        "",
        f"Command: `{command_line('benchmarks/lexicon_induction_coverage.py', argv)}` (table: `{table.name}`)",
        "",
        "| threshold | dictionaries only | + induced (entries, coverage table) | induced alone "
        "| merged: English words with an entry |",
        "|---|---:|---:|---:|---:|",
    ]
    for th in (100, 20):
        before = sum(1 for r in rows if sum(_int(r[c]) for c in dict_cols) >= th)
        after = sum(1 for r in rows if _int(r["lex_total_entries"]) >= th)
        induced = sum(1 for r in rows if _int(r["lex_induced_entries"]) >= th)
        # languages with an induced lexicon: English words of the merged lexicon; the others: their dictionary entries
        words = (
            sum(1 for r in rows if merged_words.get(r["iso639_3"], sum(_int(r[c]) for c in dict_cols)) >= th)
            if merged_words
            else None
        )
        out["thresholds"][th] = {"before": before, "after": after, "induced_alone": induced, "merged_words": words}
        lines.append(f"| >= {th} | {before:,} | {after:,} | {induced:,} | {'-' if words is None else f'{words:,}'} |")
    for by in ("family", "scripts"):
        gained: dict[str, Counter] = defaultdict(Counter)
        for r in rows:
            key = ((r.get(by) or "").replace(";", " ").replace(",", " ").split() or ["(unknown)"])[0]
            b = sum(_int(r[c]) for c in dict_cols) >= 100
            a = _int(r["lex_total_entries"]) >= 100
            gained[key]["before"] += b
            gained[key]["after"] += a
        top = sorted(gained.items(), key=lambda kv: (-(kv[1]["after"] - kv[1]["before"]), -kv[1]["after"], kv[0]))
        lines += ["", f"## Languages with >= 100 entries by {by.rstrip('s')} (largest gains first)", ""]
        lines += [f"| {by.rstrip('s')} | before | after | gain |", "|---|---:|---:|---:|"]
        for key, c in top[: args.top]:
            lines.append(f"| {key} | {c['before']} | {c['after']} | +{c['after'] - c['before']} |")
        out[by] = {k: dict(v) for k, v in gained.items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / "lexicon_induction_coverage.md", "\n".join(lines) + "\n")
    atomic_write_text(RESULTS / "lexicon_induction_coverage.json", json.dumps(out, indent=2) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
