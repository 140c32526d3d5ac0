"""Tables and a plot of a batch of ``lexiconlm expand`` runs: before/after per language, by family
and script, where expansion hurt and why, time per language and the extrapolation to every
language with parallel text.

    # the batch (about a minute per language and worker on a 2-core CPU)
    lexiconlm expand --langs all --require parallel --sample 120 --config configs/expand/survey.yaml \\
        --out runs/expand/survey-sample --workers 2 --threads 1
    # its tables (docs/results/scale/) and the markdown printed for docs/results/scale.md
    python benchmarks/expand_scale.py runs/expand/survey-sample --out docs/results/scale

Reads each run folder of the batch (``metrics.json``, ``steps.csv``, ``steps/ingest.json``);
the batch's wall time comes from ``batch.done`` (``wall_s=...``) in each batch folder when the
batch was started by the command in docs/results/scale.md (several folders: the times add up).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import md_table, to_csv  # noqa: E402
from lexiconlm.expand.batch import batch_row  # noqa: E402
from lexiconlm.lexicon.parallel import find_parallel_files  # noqa: E402


def lexicon_sources(run_dir: Path) -> str:
    """``wiktionary+induced``: the collections the run's lexicon files came from (by folder)."""
    rec = json.loads((run_dir / "steps" / "ingest.json").read_text(encoding="utf-8"))["outputs"]
    names = []
    for f in rec.get("lexicon_files", []):
        parent = Path(f).parent.name
        names.append("induced" if parent == "induced" else parent)
    return "+".join(sorted(set(names)))


def rows_of(batch: Path) -> list[dict]:
    rows = []
    for d in sorted(p for p in batch.iterdir() if (p / "metrics.json").is_file()):
        r = batch_row(d)
        r["lexicon_sources"] = lexicon_sources(d)
        rows.append(r)
    return rows


def mean(xs) -> float | None:
    xs = [float(x) for x in xs if x is not None]
    return round(statistics.fmean(xs), 2) if xs else None


def pearson(xs, ys) -> float | None:
    pairs = [(float(x), float(y)) for x, y in zip(xs, ys) if x is not None and y is not None]
    if len(pairs) < 3:
        return None
    mx, my = statistics.fmean(p[0] for p in pairs), statistics.fmean(p[1] for p in pairs)
    sx = math.sqrt(sum((p[0] - mx) ** 2 for p in pairs))
    sy = math.sqrt(sum((p[1] - my) ** 2 for p in pairs))
    return round(sum((p[0] - mx) * (p[1] - my) for p in pairs) / (sx * sy), 3) if sx and sy else None


def group(rows: list[dict], key) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    out = []
    for g, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(
            {
                "group": g,
                "languages": len(rs),
                "top1_base": mean(r["retrieval_top1_base"] for r in rs),
                "top1_expanded": mean(r["retrieval_top1_expanded"] for r in rs),
                "top1_diff": mean(r["retrieval_top1_diff"] for r in rs),
                "top10_base": mean(r["retrieval_top10_base"] for r in rs),
                "top10_expanded": mean(r["retrieval_top10_expanded"] for r in rs),
                "fertility_base": mean(r["fertility_base"] for r in rs),
                "fertility_expanded": mean(r["fertility_expanded"] for r in rs),
                "hurt": sum(1 for r in rs if (r["retrieval_top1_diff"] or 0) < 0),
            }
        )
    return out


def lexicon_band(n) -> str:
    n = n or 0
    return "<300" if n < 300 else "300-1k" if n < 1000 else "1k-10k" if n < 10000 else "10k+"


def scatter_svg(rows: list[dict], path: Path) -> bool:
    try:
        import altair as alt
        import pandas as pd
        import vl_convert as vlc
    except ImportError:
        return False
    df = pd.DataFrame(rows)
    df = df[df["retrieval_top1_base"].notna() & df["retrieval_top1_expanded"].notna()]
    pts = (
        alt.Chart(df)
        .mark_circle(size=40, opacity=0.7)
        .encode(
            x=alt.X("retrieval_top1_base:Q", title="base top-1 (%)", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("retrieval_top1_expanded:Q", title="expanded top-1 (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("script:N"),
            tooltip=["language", "name", "family", "script", "retrieval_top1_base", "retrieval_top1_expanded"],
        )
    )
    diag = alt.Chart(pd.DataFrame({"x": [0, 100], "y": [0, 100]})).mark_line(color="gray").encode(x="x", y="y")
    chart = (diag + pts).properties(
        width=420, height=420, title="Parallel-sentence retrieval top-1: base vs expanded, per language"
    )
    path.write_text(vlc.vegalite_to_svg(chart.to_json()), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("batch", type=Path, nargs="+", help="batch folders (lexiconlm expand --langs ... --out)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "scale")
    ap.add_argument("--udhr", default=None, help="UDHR folder, to count every language with parallel text")
    args = ap.parse_args(argv)
    rows = [r for b in args.batch for r in rows_of(b)]
    ok = [r for r in rows if r["status"] == "ok" and r.get("retrieval_top1_base") is not None]
    args.out.mkdir(parents=True, exist_ok=True)
    cols = [
        "language", "name", "family", "genus", "script", "lexicon_entries", "lexicon_sources", "new_tokens",
        "corpora", "pool", "retrieval_top1_base", "retrieval_top1_expanded", "retrieval_top1_diff",
        "retrieval_top10_base", "retrieval_top10_expanded", "retrieval_top10_diff", "fertility_base",
        "fertility_expanded", "fertility_diff", "unk_rate_base", "unk_rate_expanded", "locale",
        "intent_accuracy_base", "intent_accuracy_expanded", "intent_accuracy_diff", "slot_f1_base",
        "slot_f1_expanded", "slot_f1_diff", "adapt_seconds", "run_seconds",
    ]  # fmt: skip
    (args.out / "per_language.csv").write_text(to_csv(rows, cols), encoding="utf-8")
    by_family = group(ok, lambda r: r["family"] or "(none)")
    by_script = group(ok, lambda r: r["script"] or "(none)")
    by_lex = group(ok, lambda r: lexicon_band(r["lexicon_entries"]))
    by_src = group(ok, lambda r: "induced only" if r["lexicon_sources"] == "induced" else "dictionary (+ induced)")
    by_corpus = group(ok, lambda r: r["corpora"] or "(none)")
    gcols = list(by_family[0]) if by_family else []
    for name, table in (("by_family", by_family), ("by_script", by_script), ("by_lexicon_size", by_lex)):
        (args.out / f"{name}.csv").write_text(to_csv(table, gcols), encoding="utf-8")
    hurt = sorted((r for r in ok if r["retrieval_top1_diff"] < 0), key=lambda r: r["retrieval_top1_diff"])
    (args.out / "hurt.csv").write_text(to_csv(hurt, cols), encoding="utf-8")
    plotted = scatter_svg(ok, args.out / "retrieval_scatter.svg")

    # time
    secs = [r["run_seconds"] for r in ok if r.get("run_seconds")]
    wall = None
    for b in args.batch:  # batch.done: `rc=... wall_s=...` written by the command in docs/results/scale.md
        done = b / "batch.done"
        m = re.search(r"wall_s=(\d+)", done.read_text()) if done.is_file() else None
        if m:
            wall = (wall or 0) + int(m.group(1))
    n_parallel = None
    if args.udhr:
        n_parallel = len(find_parallel_files({"udhr": args.udhr}))
    g = group(ok, lambda r: "all")
    n_failed = sum(1 for r in rows if r["status"] != "ok")
    print(f"languages: {len(rows)} run, {len(ok)} with retrieval figures, {n_failed} failed")
    print("\n### Mean over languages\n")
    print(md_table(g, [(c, c) for c in gcols]))
    for title, table in (
        ("By script", by_script),
        ("By family", by_family),
        ("By lexicon size (entries)", by_lex),
        ("By lexicon source", by_src),
        ("By corpus of the held-out units", by_corpus),
    ):
        print(f"\n### {title}\n")
        print(md_table(table, [(c, c) for c in gcols]))
    print("\n### Correlations with the top-1 difference (Pearson, over languages)\n")
    diffs = [r["retrieval_top1_diff"] for r in ok]
    print(f"- log10 lexicon entries: {pearson([math.log10(max(1, r['lexicon_entries'] or 1)) for r in ok], diffs)}")
    print(f"- base top-1: {pearson([r['retrieval_top1_base'] for r in ok], diffs)}")
    print(f"- fertility drop (base - expanded): {pearson([-(r['fertility_diff'] or 0) for r in ok], diffs)}")
    print(f"- pool size: {pearson([r['pool'] for r in ok], diffs)}")
    print(f"\n### Hurt ({len(hurt)} of {len(ok)})\n")
    hc = ["language", "name", "family", "script", "lexicon_entries", "lexicon_sources", "corpora", "pool",
          "retrieval_top1_base", "retrieval_top1_expanded", "retrieval_top1_diff", "fertility_diff"]  # fmt: skip
    print(md_table(hurt, [(c, c) for c in hc]))
    nlu = [r for r in ok if r.get("intent_accuracy_base") is not None]
    if nlu:
        print("\n### NLU where a MASSIVE test exists\n")
        nc = ["language", "locale", "intent_accuracy_base", "intent_accuracy_expanded", "intent_accuracy_diff",
              "slot_f1_base", "slot_f1_expanded", "slot_f1_diff"]  # fmt: skip
        print(md_table(nlu, [(c, c) for c in nc]))
    if secs:
        print("\n### Time\n")
        print(
            f"- per language (all steps, as run): mean {statistics.fmean(secs):.0f} s, median "
            f"{statistics.median(secs):.0f} s, max {max(secs):.0f} s; adapt mean "
            f"{statistics.fmean([r['adapt_seconds'] for r in ok if r.get('adapt_seconds')]):.0f} s"
        )
        if wall:
            per = wall / len(rows)
            print(f"- batch wall time: {wall / 60:.1f} min for {len(rows)} languages = {per:.0f} s per language")
            for n in filter(None, (n_parallel, 465, 1031)):
                print(f"- extrapolated to {n} languages at that rate: {n * per / 3600:.1f} h")
    print(
        f"\nwrote {args.out}/per_language.csv, by_family.csv, by_script.csv, by_lexicon_size.csv, hurt.csv"
        + (", retrieval_scatter.svg" if plotted else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
