#!/usr/bin/env python3
"""MASSIVE: baseline, zero-shot, translate-train and its control over every test locale -> docs tables.

What it does

Runs (or, when the run folder already holds finished systems, reuses)
``lexiconlm.nlu.experiments.run_experiments`` with a config (default
``configs/nlu/massive-e5-small.yaml``), then writes into ``docs/results/massive/``:

* ``results.csv`` — one row per locale and system: ``locale, system, intent_accuracy,
  slot_f1, exact_match, n, language_name, script, family, lex_token_ratio, lex_slot_ratio, ...``
  (the layout the Streamlit app reads);
* ``summary.csv`` — means over the non-English locales, by script and by family;
* ``pseudo.csv`` — per locale: the matched and control lexicons and their replaced-word
  and fully-translated-slot ratios on the pseudo-labelled data;
* ``timing.csv`` — training and evaluation seconds per system, with the machine;
* ``tables.md`` — the Markdown tables (per locale with gains, means, by script, by family);
* ``plots/<metric>.{html,vl.json}`` (+ ``.svg``/``.png`` when vl-convert is installed).

Usage::

    python benchmarks/massive_nlu.py                                  # the default config
    python benchmarks/massive_nlu.py --config configs/nlu/massive-e5-small-full.yaml \
        --run runs/nlu/massive-e5-small-full --out docs/results/massive-full   # full test files, + morph
    python benchmarks/massive_nlu.py --config configs/nlu/tiny-cpu.yaml --run runs/nlu/tiny --out /tmp/tiny

The data folder must exist (the config names it); without it the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, command_line, load_average, load_nlu_config_or_skip, machine, md_table, to_csv  # noqa: E402

METRICS = ("intent_accuracy", "slot_f1", "exact_match")
#: the differences tabulated: translate-train against its control (same steps) and against zero-shot
PAIRS = (
    ("translate-train", "control"),
    ("translate-train", "zero-shot:1ep"),
    ("translate-train", "zero-shot"),
    ("translate-train:2ep", "control:2ep"),
    ("translate-train:2ep", "zero-shot"),
    ("translate-train+morph", "translate-train"),
    ("translate-train+morph", "control"),
    ("translate-train+adapt", "translate-train"),
    ("translate-train:seed14", "control:seed14"),
    ("translate-train+morph:seed14", "control:seed14"),
    ("translate-train+morph:seed14", "translate-train:seed14"),
    # translate-test: against the control read through its own lexicon, against the plain control,
    # and against the same model on the text as written
    ("translate-train+translate-test", "control+translate-test"),
    ("translate-train+translate-test", "control"),
    ("translate-train+translate-test", "translate-train"),
    ("translate-train+translate-test:seed14", "control+translate-test:seed14"),
    ("translate-train+translate-test:seed14", "control:seed14"),
    ("translate-train+translate-test:seed14", "translate-train:seed14"),
    ("translate-train+morph+translate-test", "control+translate-test"),
    ("translate-train+morph+translate-test:seed14", "control+translate-test:seed14"),
)


def _f(v) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(x) else f"{x:.1f}"


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def tables(results: list[dict], summary: list[dict], pseudo: list[dict], adapted: set[str] = frozenset()) -> str:
    systems = list(dict.fromkeys(r["system"] for r in results))
    by = {(r["locale"], r["system"]): r for r in results}
    locales = sorted({r["locale"] for r in results})
    ratio = {(p["locale"], p["mode"]): p for p in pseudo}
    # (column, system, minus system): translate-train against its control and against zero-shot
    pairs = [(f"{x} − {y}", x, y) for x, y in PAIRS if x in systems and y in systems]
    out = []
    for metric in METRICS:
        rows = []
        for loc in locales:
            row = {"locale": loc, "script": by.get((loc, systems[0]), {}).get("script", "")}
            for s in systems:
                row[s] = _f(by.get((loc, s), {}).get(metric))
            for name, x, y in pairs:
                rx, ry = by.get((loc, x)), by.get((loc, y))
                if rx and ry and rx[metric] and ry[metric]:
                    row[name] = f"{float(rx[metric]) - float(ry[metric]):+.1f}"
            m = ratio.get((loc, "matched"))
            row["lex words"] = f"{100 * float(m['token_ratio']):.0f}%" if m and m["token_ratio"] else "—"
            rows.append(row)
        mean = {"locale": "**mean (non-en)**", "script": ""}
        for s in systems:
            r = next((x for x in summary if x["system"] == s and x["group_by"] == "mean"), None)
            mean[s] = f"**{_f(r[metric])}**" if r else "—"
        for name, x, y in pairs:
            rx = next((r for r in summary if r["system"] == x and r["group_by"] == "mean"), None)
            ry = next((r for r in summary if r["system"] == y and r["group_by"] == "mean"), None)
            if rx and ry and rx[metric] and ry[metric]:
                mean[name] = f"**{float(rx[metric]) - float(ry[metric]):+.1f}**"
        rows.append(mean)
        cols = [("locale", "locale"), ("script", "script")] + [(s, s) for s in systems]
        cols += [(name, name) for name, _, _ in pairs if any(name in r for r in rows)]
        cols += [("lex words", "lexicon words replaced")] if pseudo else []
        out.append(f"### {metric.replace('_', ' ')}\n\n" + md_table(rows, cols))
    out.append(gain_analysis(results, pseudo))
    out.append(spread(results, pseudo, adapted))
    for group_by in ("script", "family"):
        groups = sorted({r["group"] for r in summary if r["group_by"] == group_by})
        rows = []
        for g in groups:
            row = {"group": g}
            for s in systems:
                r = next(
                    (x for x in summary if x["system"] == s and x["group_by"] == group_by and x["group"] == g), None
                )
                if r:
                    row["n"] = r["n_locales"]
                    row[s] = " / ".join(_f(r[m]) for m in METRICS)
            rows.append(row)
        cols = [("group", group_by), ("n", "locales")] + [(s, f"{s} (intent / slot F1 / EM)") for s in systems]
        out.append(f"### by {group_by} (mean over locales, en-US excluded)\n\n" + md_table(rows, cols))
    return "\n\n".join(out) + "\n"


def _pearson(x: list[float], y: list[float]) -> float:
    n = len(x)
    if n < 3:
        return float("nan")
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else float("nan")


def gain_analysis(results: list[dict], pseudo: list[dict]) -> str:
    """Translate-train gains against the lexicon's replaced-word ratio, and the locales that lose."""
    by = {(r["locale"], r["system"]): r for r in results}
    ratio = {p["locale"]: p for p in pseudo if p["mode"] == "matched" and p["token_ratio"]}
    rows, xs, g_zs, g_ctl = [], [], [], []
    for loc in sorted({r["locale"] for r in results}):
        tt, zs, ct = by.get((loc, "translate-train")), by.get((loc, "zero-shot")), by.get((loc, "control"))
        if not (tt and zs) or loc not in ratio:
            continue
        d_zs = float(tt["intent_accuracy"]) - float(zs["intent_accuracy"])
        d_ct = float(tt["intent_accuracy"]) - float(ct["intent_accuracy"]) if ct else float("nan")
        xs.append(float(ratio[loc]["token_ratio"]))
        g_zs.append(d_zs)
        g_ctl.append(d_ct)
        if d_zs < 0 or d_ct < 0:
            rows.append(
                {
                    "locale": loc,
                    "script": tt["script"],
                    "family": tt["family"],
                    "lexicon": ratio[loc]["lexicon"],
                    "words replaced": f"{100 * xs[-1]:.0f}%",
                    "slots fully": f"{100 * float(ratio[loc]['slot_ratio']):.0f}%",
                    "tt − zs": f"{d_zs:+.1f}",
                    "tt − control": f"{d_ct:+.1f}",
                }
            )
    if not xs:
        return ""
    head = (
        "### translate-train gains (intent accuracy) against lexicon coverage\n\n"
        f"Pearson r over {len(xs)} locales with a lexicon: gain over zero-shot vs share of words the lexicon "
        f"replaced r = {_pearson(xs, g_zs):.2f}; gain over the control vs the same share r = "
        f"{_pearson(xs, g_ctl):.2f}.\n\nLocales where translate-train loses (to zero-shot or to the control):\n\n"
    )
    cols = [
        (k, k)
        for k in ("locale", "script", "family", "lexicon", "words replaced", "slots fully", "tt − zs", "tt − control")
    ]
    return head + (md_table(rows, cols) if rows else "(none)")


#: (variant, reference): runs whose difference measures noise, where the variant's data are the reference's
NOISE_PAIRS = (
    ("control:seed14", "control"),
    ("translate-train:seed14", "translate-train"),
    ("translate-train+morph", "translate-train"),
    ("translate-train+adapt", "translate-train"),
)


def spread(results: list[dict], pseudo: list[dict], adapted: set[str]) -> str:
    """How far two runs differ where nothing but the training run differs (another seed; or, for
    +morph / +adapt, the locales whose data or encoding the variant did not change), and
    translate-train − control averaged over the seeds."""
    import statistics

    by = {(r["locale"], r["system"]): r for r in results}
    with_table = {p["locale"] for p in pseudo if p["mode"] == "morph" and p.get("unimorph")}
    locales = sorted({r["locale"] for r in results if r["locale"] != "en-US"})
    rows = []
    for var, ref in NOISE_PAIRS:
        skip = with_table if var.endswith("+morph") else adapted if var.endswith("+adapt") else set()
        for metric in ("intent_accuracy", "slot_f1"):
            d = [
                float(by[(loc, var)][metric]) - float(by[(loc, ref)][metric])
                for loc in locales
                if loc not in skip and (loc, var) in by and (loc, ref) in by
            ]
            if len(d) < 2:
                continue
            rows.append(
                {
                    "pair": f"{var} − {ref}",
                    "metric": metric.replace("_", " "),
                    "locales": f"{len(d)}" + (f" (without {', '.join(sorted(skip))})" if skip else ""),
                    "mean": f"{statistics.mean(d):+.2f}",
                    "higher": f"{sum(x > 0 for x in d)}/{len(d)}",
                    "sd": f"{statistics.pstdev(d):.2f}",
                    "min": f"{min(d):+.1f}",
                    "max": f"{max(d):+.1f}",
                }
            )
    if not rows:
        return ""
    out = (
        "### noise: runs that differ only in the training run (per-locale differences, en-US excluded)\n\n"
        + md_table(rows, [(k, k) for k in rows[0]])
    )
    seeds = [("translate-train", "control"), ("translate-train:seed14", "control:seed14")]
    if all((loc, s) in by for loc in locales for pair in seeds for s in pair):
        parts = []
        for metric in METRICS:
            d = [
                statistics.mean(float(by[(loc, a)][metric]) - float(by[(loc, b)][metric]) for a, b in seeds)
                for loc in locales
            ]
            parts.append(
                f"{metric.replace('_', ' ')} {statistics.mean(d):+.2f} (higher in {sum(x > 0 for x in d)}/{len(d)})"
            )
        out += "\n\ntranslate-train − control, mean of the two seeds: " + "; ".join(parts) + "."
    return out


#: (column, system, control) of a reference run: each lever's gain over the control of its own run
REFERENCE_LEVERS = (
    ("250/locale s13", "translate-train", "control"),
    ("250/locale s14", "translate-train:seed14", "control:seed14"),
    ("+morph s13", "translate-train+morph", "control"),
    ("+adapt (km) s13", "translate-train+adapt", "control"),
)
#: the same for this run
LEVERS = (
    ("s13", "translate-train", "control"),
    ("s14", "translate-train:seed14", "control:seed14"),
    ("+morph s13", "translate-train+morph", "control"),
    ("+morph s14", "translate-train+morph:seed14", "control:seed14"),
    ("+translate-test s13", "translate-train+translate-test", "control+translate-test"),
    ("+translate-test s14", "translate-train+translate-test:seed14", "control+translate-test:seed14"),
    ("+morph+translate-test s13", "translate-train+morph+translate-test", "control+translate-test"),
    ("+morph+translate-test s14", "translate-train+morph+translate-test:seed14", "control+translate-test:seed14"),
)


def weak_locales(results: list[dict], reference: list[dict], *, below: float = 55.0, label: str = "this run") -> str:
    """Per locale whose zero-shot intent accuracy (in ``reference``) is below ``below``: each lever's
    intent-accuracy gain over the mismatched-lexicon control trained beside it (same seed, same steps)."""
    ref = {(r["locale"], r["system"]): r for r in reference}
    by = {(r["locale"], r["system"]): r for r in results}
    weak = sorted(
        loc
        for (loc, sys_), r in ref.items()
        if sys_ == "zero-shot" and loc != "en-US" and float(r["intent_accuracy"]) < below
    )
    if not weak:
        return ""
    rows = []
    cols = [("locale", "locale"), ("zero-shot", "zero-shot intent")]
    for name, x, y in REFERENCE_LEVERS:
        cols.append((name, f"{name} − control"))
    for name, x, y in LEVERS:
        cols.append((f"new {name}", f"{label} {name} − control"))
    for loc in weak:
        row = {"locale": loc, "zero-shot": _f(ref[(loc, "zero-shot")]["intent_accuracy"])}
        for name, x, y in REFERENCE_LEVERS:
            if (loc, x) in ref and (loc, y) in ref:
                row[name] = f"{float(ref[(loc, x)]['intent_accuracy']) - float(ref[(loc, y)]['intent_accuracy']):+.1f}"
        for name, x, y in LEVERS:
            if (loc, x) in by and (loc, y) in by:
                d = float(by[(loc, x)]["intent_accuracy"]) - float(by[(loc, y)]["intent_accuracy"])
                row[f"new {name}"] = f"{d:+.1f}"
        rows.append(row)
    cols = [c for c in cols if any(c[0] in r for r in rows)]
    return (
        f"### locales where zero-shot intent accuracy is below {below:g}: each lever's gain over its control\n\n"
        "Intent accuracy; every system minus the mismatched-lexicon control trained with the same seed and steps "
        "(the reference run's levers against its control, this run's against its own).\n\n" + md_table(rows, cols)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(REPO / "configs" / "nlu" / "massive-e5-small.yaml"))
    ap.add_argument("--run", default=str(REPO / "runs" / "nlu" / "massive-e5-small"), help="run folder")
    ap.add_argument("--out", default=str(REPO / "docs" / "results" / "massive"), help="tables folder")
    ap.add_argument("--systems", help="comma-separated systems (default: the config's)")
    ap.add_argument("--device", default="auto")
    ap.add_argument(
        "--no-run",
        action="store_true",
        help="only tabulate the run folder's finished systems (nothing trained or evaluated)",
    )
    ap.add_argument(
        "--reference",
        help="results.csv of an earlier run with zero-shot (e.g. docs/results/massive-full/results.csv): adds the "
        "table of the locales whose zero-shot intent is below 55, each lever against its control",
    )
    args = ap.parse_args(argv)
    from lexiconlm.files import atomic_write_text
    from lexiconlm.nlu.experiments import _epoch_seconds, run_experiments

    cfg = load_nlu_config_or_skip(args.config)
    if cfg is None:
        return 0
    run = Path(args.run)
    systems = args.systems.split(",") if args.systems else cfg["systems"]
    if args.no_run:
        systems = [s for s in systems if (run / s / "results.json").exists()]
    results_csv = run_experiments(
        args.config, out_dir=run, systems=systems, device=args.device, tabulate_only=args.no_run
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(results_csv, out / "results.csv")
    shutil.copyfile(run / "summary.csv", out / "summary.csv")
    pseudo = _read(run / "pseudo" / "summary.csv") if (run / "pseudo" / "summary.csv").exists() else []
    if pseudo:
        # one row per (locale, mode): every system that builds pseudo data appends its rows
        rows = (run / "pseudo" / "summary.csv").read_text(encoding="utf-8").splitlines()
        atomic_write_text(out / "pseudo.csv", "\n".join(dict.fromkeys(rows)) + "\n")
    timing = []
    for s in systems:
        d = json.loads((run / s / "results.json").read_text(encoding="utf-8"))
        timing.append(
            {
                "system": s,
                "n_train": d.get("n_train"),
                "train_seconds": d.get("train_seconds"),
                "train_seconds_epochs": d.get("train_seconds_epochs")
                or _epoch_seconds(run / s / "history.jsonl")
                or "",
                "eval_seconds": d.get("eval_seconds"),
                # a finished system evaluated again with translate-test (both readings) later
                "translate_test_eval_seconds": d.get("translate_test_eval_seconds", ""),
                "n_test": sum(int(r["n"]) for r in d["per_locale"].values()),
                "machine": machine(),
                "load_average_end": f"{load_average():.1f}",
            }
        )
    atomic_write_text(out / "timing.csv", to_csv(timing, list(timing[0])))
    header = (
        f"<!-- generated by {command_line(__file__, argv)}; do not edit -->\n\n"
        f"Machine: {machine()}; 1 thread per job (`torch.set_num_threads(1)`).\n\n"
    )
    # the locales of the language the translate-train+adapt encoder was adapted to (its plan says which)
    adapted: set[str] = set()
    if (run / "adapt" / "plan.json").is_file():
        from lexiconlm.languages import get_catalog

        lang = json.loads((run / "adapt" / "plan.json").read_text(encoding="utf-8")).get("language")
        cat = get_catalog()
        adapted = {
            r["locale"] for r in _read(results_csv) if lang and getattr(cat.find(r["locale"]), "iso639_3", None) == lang
        }
    text = tables(_read(results_csv), _read(run / "summary.csv"), pseudo, adapted)
    if args.reference:
        text += "\n" + weak_locales(_read(results_csv), _read(Path(args.reference)), label=run.name) + "\n"
    atomic_write_text(out / "tables.md", header + text)
    from lexiconlm.nlu.plots import plot_results

    tested = {r["system"] for r in _read(results_csv)}  # with the rows translate-test adds
    for metric in METRICS:
        r = plot_results(
            results_csv,
            out / "plots" / metric,
            metric=metric,
            systems=[
                s
                for s in (
                    "baseline",
                    "zero-shot",
                    "zero-shot:1ep",
                    "control",
                    "translate-train",
                    "control:2ep",
                    "translate-train:2ep",
                    "translate-train+morph",
                    "translate-train+adapt",
                    "control+translate-test",
                    "translate-train+translate-test",
                )
                if s in systems or s in tested
            ],
        )
        for m in r["missing"]:
            print(f"{metric}: not written: {m}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
