#!/usr/bin/env python3
"""Run the prefix/suffix-rule baseline on SIGMORPHON 2020-2023 and compare with official figures.

What it does

* 2022 part 1: for every ``<lang>_{small,large}.train`` with ``<lang>.dev``, fit
  :class:`~lexiconlm.inflection.affix.AffixBaseline`, predict dev, score with
  :func:`~lexiconlm.inflection.metrics.evaluate_2022`, and compare with the
  official non-neural dev table (``baseline_results/part1_nonneural_dev.txt``):
  difference, within +-2 points, category counts, micro averages (the table's
  LARGE/SMALL/TOTAL rows). Besides the chosen variant it runs
  ``sigmorphon-float.v1`` on the same (NFC) data and on the files' raw strings
  (read as the shared-task scripts read them: no Unicode normalisation), which
  separates algorithm differences from input normalisation.
* 2023 part 1 dev, 2020 task 0 dev and test, 2021 task 0 dev and test: the
  same baseline (no official affix figures exist for these here); for 2021 the
  neural baselines' test accuracies from ``baseline_accuracy_computed.tsv``
  are shown beside it.

Writes ``benchmarks/results/sigmorphon_affix_{2022_dev,2023_dev,2020,2021}.{csv,md}``
(and ``sigmorphon_affix_2022_variants.{csv,md}`` with ``--compare-variants``).

Usage::

    python benchmarks/sigmorphon_affix_baseline.py                 # everything
    python benchmarks/sigmorphon_affix_baseline.py --compare-variants   # + every variant on 2022
    python benchmarks/sigmorphon_affix_baseline.py --editions 2022 --jobs 2
    python benchmarks/sigmorphon_affix_baseline.py --variant lcs.v1 --out /tmp/affix

The data folder is ``$LEXICONLM_SHARED_DATA/sigmorphon`` or ``../shared/data/sigmorphon``
beside the repository (``--data`` overrides).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, command_line, cpu_model, md_table, shared_data_dir, to_csv

from lexiconlm import __version__
from lexiconlm.files import atomic_write_text
from lexiconlm.inflection.affix import AFFIX_VARIANTS, AffixBaseline
from lexiconlm.inflection.metrics import (
    CATEGORIES_2022,
    InflectionScores,
    evaluate,
    evaluate_2022,
    macro_average,
    micro_average,
    read_baseline_accuracy_tsv,
    read_baseline_table,
)
from lexiconlm.io.sigmorphon import read_sigmorphon
from lexiconlm.types import InflectionEntry

FLOAT_VARIANT = "sigmorphon-float.v1"


# --------------------------------------------------------------------------- helpers


def default_data_dir() -> Path:
    return shared_data_dir() / "sigmorphon"


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs (nproc), {cpu_model('unknown CPU')}; Python {platform.python_version()} "
        f"on {platform.system()} {platform.machine()}; lexiconlm {__version__}"
    )


def read_entries(path: Path, edition: str) -> tuple[list[InflectionEntry], int]:
    """Entries through the package reader (NFC), and how many lines it had to drop."""
    ds = read_sigmorphon(path, edition=edition, errors="collect")
    dropped = sum(1 for p in ds.problems if p.severity == "error")
    return list(ds.entries), dropped


def read_raw(path: Path) -> list[InflectionEntry]:
    """Lines exactly as the shared-task scripts read them (strip, split on tabs; no NFC).

    Only for the fidelity check against the official table; everything else uses
    the package reader.
    """
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line == "\n":
                continue
            lemma, form, feats = line.strip().split("\t")
            out.append(InflectionEntry(lemma, form, feats))
    return out


def r3(x: float) -> float:
    """Round to the tables' 3 decimals, without a negative zero."""
    return round(x, 3) + 0.0


def run_model(variant: str, train: list[InflectionEntry], gold: list[InflectionEntry]):
    t0 = time.perf_counter()
    model = AffixBaseline(variant).fit(train)
    t1 = time.perf_counter()
    pred = model.predict(gold)
    t2 = time.perf_counter()
    return model, pred, t1 - t0, t2 - t1


# --------------------------------------------------------------------------- 2022


def job_2022(args: tuple[str, str, str, dict]) -> dict:
    data, setting, variant, official = args
    folder = Path(data) / "2022_part1"
    lang = setting.split("_")[0]
    train, drop_tr = read_entries(folder / f"{setting}.train", "2022")
    dev, drop_dev = read_entries(folder / f"{lang}.dev", "2022")
    model, pred, fit_s, pred_s = run_model(variant, train, dev)
    r = evaluate_2022(dev, pred, train)
    _, pred_f, _, _ = run_model(FLOAT_VARIANT, train, dev)
    rf = evaluate_2022(dev, pred_f, train)
    raw_train = read_raw(folder / f"{setting}.train")
    raw_dev = read_raw(folder / f"{lang}.dev")
    _, pred_raw, _, _ = run_model(FLOAT_VARIANT, raw_train, raw_dev)
    rr = evaluate_2022(raw_dev, pred_raw, raw_train)
    row = {
        "setting": setting,
        "n": r["all"].n,
        "accuracy": round(r["all"].accuracy, 3),
        "levenshtein": round(r["all"].levenshtein, 3),
        "official": official["all acc"],
        "diff": r3(r["all"].accuracy - official["all acc"]),
        "within_2": abs(r["all"].accuracy - official["all acc"]) <= 2.0,
        "accuracy_float": round(rf["all"].accuracy, 3),
        "diff_float": r3(rf["all"].accuracy - official["all acc"]),
        "accuracy_float_raw": round(rr["all"].accuracy, 3),
        "diff_float_raw": r3(rr["all"].accuracy - official["all acc"]),
        "raw_all_columns_equal": all(
            abs(round(rr[c].accuracy, 3) - official[o]) < 5e-4
            for c, o in [("all", "all acc")] + [(k, k) for k in CATEGORIES_2022]
        ),
        "counts_match": all(r[c].n == official[f"#{c}"] for c in CATEGORIES_2022) and r["all"].n == official["#total"],
        "prefixing": model.prefixing,
        "n_train": len(train),
        "dropped_lines": drop_tr + drop_dev,
        "fit_s": round(fit_s, 3),
        "predict_s": round(pred_s, 3),
    }
    for c in CATEGORIES_2022:
        row[f"n_{c}"] = r[c].n
        row[f"official_n_{c}"] = official[f"#{c}"]
        row[f"acc_{c}"] = round(r[c].accuracy, 3)
        row[f"official_{c}"] = official[c]
    row["_scores"] = r["all"]
    row["_scores_float"] = rf["all"]
    row["_scores_raw"] = rr["all"]
    return row


def bench_2022(data: Path, variant: str, jobs: int, out: Path, command: str) -> dict:
    folder = data / "2022_part1"
    table = read_baseline_table(folder / "baseline_results" / "part1_nonneural_dev.txt")
    settings = [s for s, row in table.items() if "#total" in row]
    on_disk = sorted(p.name[: -len(".train")] for p in folder.glob("*.train"))
    missing = sorted(set(on_disk) ^ set(settings))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        rows = list(ex.map(job_2022, [(str(data), s, variant, table[s]) for s in settings]))
    wall = time.perf_counter() - t0

    summary_rows = []
    for part, label in [("_large", "LARGE"), ("_small", "SMALL"), ("", "TOTAL")]:
        sel = [r for r in rows if part in r["setting"]]
        mic = micro_average(r["_scores"] for r in sel)
        mic_f = micro_average(r["_scores_float"] for r in sel)
        mic_r = micro_average(r["_scores_raw"] for r in sel)
        mac = macro_average(r["_scores"] for r in sel)
        summary_rows.append(
            {
                "setting": f"{label} (micro, {len(sel)} settings)",
                "n": mic.n,
                "accuracy": round(mic.accuracy, 3),
                "levenshtein": round(mic.levenshtein, 3),
                "official": table[label]["all acc"],
                "diff": r3(mic.accuracy - table[label]["all acc"]),
                "accuracy_float": round(mic_f.accuracy, 3),
                "accuracy_float_raw": round(mic_r.accuracy, 3),
                "macro_accuracy": round(mac.accuracy, 3),
            }
        )
    n_within = sum(r["within_2"] for r in rows)
    n_exact = sum(abs(r["diff"]) < 5e-4 for r in rows)
    n_exact_float = sum(abs(r["diff_float"]) < 5e-4 for r in rows)
    n_exact_raw = sum(abs(r["diff_float_raw"]) < 5e-4 for r in rows)
    n_raw_all = sum(r["raw_all_columns_equal"] for r in rows)
    n_counts = sum(r["counts_match"] for r in rows)

    columns = [
        "setting",
        "n",
        "accuracy",
        "official",
        "diff",
        "within_2",
        "levenshtein",
        "accuracy_float",
        "diff_float",
        "accuracy_float_raw",
        "diff_float_raw",
        "raw_all_columns_equal",
        "counts_match",
        *[f"{p}{c}" for c in CATEGORIES_2022 for p in ("acc_", "official_")],
        *[f"{p}{c}" for c in CATEGORIES_2022 for p in ("n_", "official_n_")],
        "prefixing",
        "n_train",
        "dropped_lines",
        "fit_s",
        "predict_s",
        "macro_accuracy",
    ]
    atomic_write_text(out / "sigmorphon_affix_2022_dev.csv", to_csv(rows + summary_rows, columns))

    sig = AffixBaseline(variant).signature
    md = [
        "# Affix baseline vs the official 2022 non-neural dev figures",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; wall time of the 2022 part: {wall:.1f} s "
        f"({jobs} worker process(es); three runs per setting)  ",
        f"Variant: `{variant}` (`{sig}`), data read with `read_sigmorphon` (NFC).  ",
        "Official: `2022_part1/baseline_results/part1_nonneural_dev.txt`.",
        "",
        f"* within +-2 points of the official accuracy: **{n_within} / {len(rows)}** settings; "
        f"identical (to the table's 3 decimals): {n_exact} / {len(rows)}",
        f"* `{FLOAT_VARIANT}` (float tie-breaking) on the same NFC data: identical in {n_exact_float} / {len(rows)}",
        f"* `{FLOAT_VARIANT}` on the files' raw strings (no NFC, as the shared-task scripts read them): "
        f"overall accuracy identical in {n_exact_raw} / {len(rows)}, all five accuracy columns "
        f"identical in {n_raw_all} / {len(rows)}",
        f"* category counts (#total, #both, #lemma, #feats, #unseen) equal to the table's in "
        f"{n_counts} / {len(rows)} settings",
        f"* micro average (TOTAL): ours {summary_rows[-1]['accuracy']:.3f} vs official "
        f"{table['TOTAL']['all acc']:.3f}; macro average ours {summary_rows[-1]['macro_accuracy']:.3f}",
    ]
    if missing:
        md.append(f"* settings in only one of (files, official table): {', '.join(missing)}")
    md += [
        "",
        "## Per setting",
        "",
        "`acc` is ours (variant above), `float` / `float raw` the two check runs; `cats` = category "
        "counts equal the table's.",
        "",
        md_table(
            [
                {
                    **r,
                    "within_2": "yes" if r["within_2"] else "**no**",
                    "counts_match": "yes" if r["counts_match"] else "**no**",
                    "diff": f"{r['diff']:+.3f}",
                    "diff_float_raw": f"{r['diff_float_raw']:+.3f}",
                    "prefixing": "prefix" if r["prefixing"] else "suffix",
                }
                for r in rows
            ],
            [
                ("setting", "setting"),
                ("n", "n"),
                ("accuracy", "acc"),
                ("official", "official"),
                ("diff", "diff"),
                ("within_2", "±2"),
                ("levenshtein", "lev"),
                ("accuracy_float", "float"),
                ("accuracy_float_raw", "float raw"),
                ("diff_float_raw", "diff raw"),
                ("counts_match", "cats"),
                ("prefixing", "direction"),
                ("fit_s", "fit s"),
                ("predict_s", "predict s"),
            ],
        ),
        "",
        "## Averages",
        "",
        md_table(
            summary_rows,
            [
                ("setting", "partition"),
                ("n", "n"),
                ("accuracy", "acc (micro)"),
                ("official", "official"),
                ("diff", "diff"),
                ("accuracy_float", "float"),
                ("accuracy_float_raw", "float raw"),
                ("macro_accuracy", "acc (macro)"),
                ("levenshtein", "lev (micro)"),
            ],
        ),
        "",
    ]
    atomic_write_text(out / "sigmorphon_affix_2022_dev.md", "\n".join(md))
    return {
        "within": n_within,
        "n": len(rows),
        "exact": n_exact,
        "exact_float": n_exact_float,
        "exact_raw": n_exact_raw,
        "raw_all": n_raw_all,
        "counts": n_counts,
        "total": summary_rows[-1],
        "wall": wall,
        "outliers": [r for r in rows if not r["within_2"]],
    }


def job_2022_variant(args: tuple[str, str, str, bool]) -> tuple[str, str, bool, InflectionScores]:
    data, setting, variant, raw = args
    folder = Path(data) / "2022_part1"
    lang = setting.split("_")[0]
    if raw:
        train = read_raw(folder / f"{setting}.train")
        dev = read_raw(folder / f"{lang}.dev")
    else:
        train, _ = read_entries(folder / f"{setting}.train", "2022")
        dev, _ = read_entries(folder / f"{lang}.dev", "2022")
    pred = AffixBaseline(variant).fit(train).predict(dev)
    return setting, variant, raw, evaluate(dev, pred)


def compare_variants_2022(data: Path, jobs: int, out: Path, command: str) -> list[dict]:
    """Every named variant on 2022 dev (NFC data), plus the float variant on raw strings."""
    folder = data / "2022_part1"
    table = read_baseline_table(folder / "baseline_results" / "part1_nonneural_dev.txt")
    settings = [s for s, row in table.items() if "#total" in row]
    runs = [(v, False) for v in AFFIX_VARIANTS] + [(FLOAT_VARIANT, True)]
    tasks = [(str(data), s, v, raw) for v, raw in runs for s in settings]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(job_2022_variant, tasks))
    wall = time.perf_counter() - t0
    rows = []
    for v, raw in runs:
        got = {s: sc for s, vv, rr, sc in results if vv == v and rr == raw}
        diffs = {s: got[s].accuracy - table[s]["all acc"] for s in settings}
        outside = [s for s in settings if abs(diffs[s]) > 2.0]
        rows.append(
            {
                "variant": v,
                "input": "raw strings" if raw else "read_sigmorphon (NFC)",
                "signature": AffixBaseline(v).signature,
                "within_2": sum(abs(d) <= 2.0 for d in diffs.values()),
                "identical": sum(abs(round(got[s].accuracy, 3) - table[s]["all acc"]) < 5e-4 for s in settings),
                "n_settings": len(settings),
                "micro": round(micro_average(got.values()).accuracy, 3),
                "official_micro": table["TOTAL"]["all acc"],
                "macro": round(macro_average(got.values()).accuracy, 3),
                "outside_2": " ".join(f"{s}({diffs[s]:+.1f})" for s in outside),
            }
        )
    columns = list(rows[0])
    atomic_write_text(out / "sigmorphon_affix_2022_variants.csv", to_csv(rows, columns))
    md = [
        "# Affix-baseline variants vs the official 2022 non-neural dev figures",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; wall time {wall:.1f} s ({jobs} worker process(es))  ",
        "Official: `2022_part1/baseline_results/part1_nonneural_dev.txt` (53 settings; TOTAL = micro average).",
        "",
        md_table(
            [
                {
                    **r,
                    "variant": f"`{r['variant']}`",
                    "within_2": f"{r['within_2']} / {r['n_settings']}",
                    "identical": f"{r['identical']} / {r['n_settings']}",
                }
                for r in rows
            ],
            [
                ("variant", "variant"),
                ("input", "input"),
                ("within_2", "within ±2"),
                ("identical", "identical (3 decimals)"),
                ("micro", "micro acc"),
                ("official_micro", "official micro"),
                ("macro", "macro acc"),
                ("outside_2", "outside ±2 (diff)"),
            ],
        ),
        "",
        "Signatures: " + "; ".join(f"`{r['variant']}` = `{r['signature']}`" for r in rows[:-1]),
        "",
    ]
    atomic_write_text(out / "sigmorphon_affix_2022_variants.md", "\n".join(md))
    return rows


# --------------------------------------------------------------------------- other editions


def job_other(args: tuple[str, str, str, str, list[tuple[str, str]], str]) -> dict:
    data, edition, lang, train_name, evals, variant = args
    folder = Path(data)
    train, dropped = read_entries(folder / train_name, edition)
    row: dict = {"language": lang, "n_train": len(train)}
    model = AffixBaseline(variant).fit(train)
    row["prefixing"] = model.prefixing
    for split, name in evals:
        gold, d = read_entries(folder / name, edition)
        dropped += d
        t0 = time.perf_counter()
        pred = model.predict(gold)
        s = evaluate(gold, pred)
        row[f"{split}_n"] = s.n
        row[f"{split}_accuracy"] = round(s.accuracy, 2)
        row[f"{split}_levenshtein"] = round(s.levenshtein, 3)
        row[f"{split}_seconds"] = round(time.perf_counter() - t0, 3)
        row[f"_{split}"] = s
    row["dropped_lines"] = dropped
    return row


def bench_other(data: Path, edition: str, variant: str, jobs: int, out: Path, command: str) -> dict:
    if edition == "2023":
        folder, train_ext, evals, stem = "2023_part1", ".trn", [("dev", ".dev")], "sigmorphon_affix_2023_dev"
    elif edition == "2020":
        folder, train_ext, evals, stem = (
            "2020_task0",
            ".trn",
            [("dev", ".dev"), ("test", ".tst")],
            "sigmorphon_affix_2020",
        )
    else:
        folder, train_ext, evals, stem = (
            "2021_task0",
            ".train",
            [("dev", ".dev"), ("test", ".test.gold")],
            "sigmorphon_affix_2021",
        )
    langs = sorted(p.name[: -len(train_ext)] for p in (data / folder).glob(f"*{train_ext}"))
    tasks = [
        (str(data / folder), edition, lang, f"{lang}{train_ext}", [(s, f"{lang}{ext}") for s, ext in evals], variant)
        for lang in langs
    ]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        rows = list(ex.map(job_other, tasks))
    wall = time.perf_counter() - t0
    official = {}
    if edition == "2021":
        official = read_baseline_accuracy_tsv(data / folder / "baseline_accuracy_computed.tsv")
        for r in rows:
            for system, acc in official.get(r["language"], {}).items():
                if system != "n_test":
                    r[f"official_test_{system}"] = acc
    splits = [s for s, _ in evals]
    summary = {}
    for s in splits:
        mic = micro_average(r[f"_{s}"] for r in rows)
        mac = macro_average(r[f"_{s}"] for r in rows)
        summary[s] = (mic, mac)
    systems = sorted({k for r in rows for k in r if k.startswith("official_test_")})
    columns = ["language", "n_train"]
    for s in splits:
        columns += [f"{s}_n", f"{s}_accuracy", f"{s}_levenshtein"]
    columns += systems + ["prefixing", "dropped_lines"] + [f"{s}_seconds" for s in splits]
    avg_rows = []
    for kind in ("micro", "macro"):
        r = {"language": f"({kind} average, {len(rows)} languages)"}
        for s in splits:
            mic, mac = summary[s]
            r[f"{s}_accuracy"] = round(mic.accuracy if kind == "micro" else mac.accuracy, 2)
            r[f"{s}_levenshtein"] = round(mic.levenshtein if kind == "micro" else mac.levenshtein, 3)
            if kind == "micro":
                r[f"{s}_n"] = mic.n
        if systems and kind == "macro":
            for sysname in systems:
                vals = [x[sysname] for x in rows if sysname in x]
                r[sysname] = round(sum(vals) / len(vals), 2) if vals else ""
        avg_rows.append(r)
    atomic_write_text(out / f"{stem}.csv", to_csv(rows + avg_rows, columns))

    md_cols = [("language", "language"), ("n_train", "train")]
    for s in splits:
        md_cols += [(f"{s}_n", f"{s} n"), (f"{s}_accuracy", f"{s} acc"), (f"{s}_levenshtein", f"{s} lev")]
    md_cols += [(k, k.replace("official_test_", "") + " (test)") for k in systems]
    md_cols += [("prefixing", "direction"), ("dropped_lines", "dropped")]
    shown = [
        {**r, "prefixing": "prefix" if r.get("prefixing") else ("suffix" if "prefixing" in r else "")}
        for r in rows + avg_rows
    ]
    title = {
        "2023": "2023 part 1 dev",
        "2020": "2020 task 0 dev and test",
        "2021": "2021 task 0 dev and test",
    }[edition]
    md = [
        f"# Affix baseline on SIGMORPHON {title}",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; wall time {wall:.1f} s ({jobs} worker process(es))  ",
        f"Variant: `{variant}` (`{AffixBaseline(variant).signature}`); trained on each language's training "
        "file, scored with `lexiconlm.inflection.metrics.evaluate` (every gold row one item, NFC).",
        "",
        "No official affix-baseline figures for this edition are in the data folder.",
    ]
    if edition == "2021":
        md.append(
            "The neural columns are the 2021 baseline systems' test accuracies from "
            "`2021_task0/baseline_accuracy_computed.tsv` (computed by the data curator from the "
            "repository's prediction files, not an official table)."
        )
    if any(r["dropped_lines"] for r in rows):
        md.append(
            "`dropped`: lines the reader rejected (e.g. an empty form) and that were left out of training / scoring."
        )
    md += ["", md_table(shown, md_cols), ""]
    atomic_write_text(out / f"{stem}.md", "\n".join(md))
    return {"rows": rows, "summary": summary, "wall": wall, "stem": stem}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="the sigmorphon data folder")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    ap.add_argument("--variant", default="sigmorphon.v1", choices=sorted(AFFIX_VARIANTS))
    ap.add_argument("--editions", default="2022,2023,2020,2021")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--compare-variants",
        action="store_true",
        help="also run every named variant on 2022 dev (sigmorphon_affix_2022_variants.md)",
    )
    args = ap.parse_args(argv)
    data = args.data or default_data_dir()
    if not (data / "2022_part1").is_dir():
        print(f"no SIGMORPHON data at {data} (give --data DIR or set LEXICONLM_SHARED_DATA)", file=sys.stderr)
        return 2
    command = command_line(__file__, argv, start=Path.cwd())
    editions = [e.strip() for e in args.editions.split(",") if e.strip()]
    t0 = time.perf_counter()
    if "2022" in editions:
        r = bench_2022(data, args.variant, args.jobs, args.out, command)
        tot = r["total"]
        print(
            f"2022 dev: {r['within']}/{r['n']} settings within +-2 points of the official non-neural "
            f"figures ({r['exact']} identical; float variant {r['exact_float']}; float on raw strings "
            f"{r['exact_raw']}, all five columns {r['raw_all']}); category counts match in "
            f"{r['counts']}/{r['n']}; micro {tot['accuracy']:.3f} vs official {tot['official']:.3f} "
            f"({r['wall']:.1f} s)"
        )
        for o in r["outliers"]:
            print(
                f"  outside +-2: {o['setting']}: {o['accuracy']:.3f} vs {o['official']:.3f} "
                f"(float on raw strings: {o['accuracy_float_raw']:.3f})"
            )
    if args.compare_variants:
        for r in compare_variants_2022(data, args.jobs, args.out, command):
            print(
                f"variant {r['variant']} ({r['input']}): {r['within_2']}/{r['n_settings']} within +-2, "
                f"{r['identical']} identical, micro {r['micro']:.3f} vs {r['official_micro']:.3f}"
            )
    for ed in ("2023", "2020", "2021"):
        if ed in editions:
            r = bench_other(data, ed, args.variant, args.jobs, args.out, command)
            parts = ", ".join(
                f"{s} micro {mic.accuracy:.2f} / macro {mac.accuracy:.2f}" for s, (mic, mac) in r["summary"].items()
            )
            print(f"{ed}: {len(r['rows'])} languages, {parts} ({r['wall']:.1f} s) -> {r['stem']}.md")
    print(f"total {time.perf_counter() - t0:.1f} s; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
