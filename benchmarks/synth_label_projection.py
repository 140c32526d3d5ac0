#!/usr/bin/env python3
"""Label projection of MASSIVE en-US train into every visible MASSIVE locale, with every lexicon source.

What it does

For each locale of ``nlu/massive/test/`` other than en-US (26 locales), every
English-to-X lexicon :func:`~lexiconlm.io.locate.find_lexicons` finds in
``lexicons/wiktionary`` and ``lexicons/gatitos`` translates all en-US train
utterances with :func:`~lexiconlm.synth.pseudo_label.project_utterances`
(sense ``random``, OOV ``keep``, seed 13, hygiene ``script.v1``, words of
scripts written without spaces joined) and reports:

* the share of source word tokens translated through the lexicon, and of slot
  values translated fully (every word) and partly (at least one word);
* the projection check on every utterance: the output annotation parses back
  to the output slots, every slot value is ``text[start:end]`` (a real
  substring at its offsets), the labels are the source labels in the same
  order — and the label counts of the whole output equal the source's;
* the round trip: the output written with ``write_massive_tsv`` and read back
  with ``read_massive`` gives the same texts and slots.

Writes ``benchmarks/results/synth_label_projection.{csv,md}``.

Usage::

    python benchmarks/synth_label_projection.py                # all 26 locales
    python benchmarks/synth_label_projection.py --locales jv-ID,th-TH --limit 2000 --out /tmp/proj

The data folder is ``$LEXICONLM_SHARED_DATA`` or ``../shared/data`` beside the
repository (``--data`` overrides); without it the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, command_line, find_data_dir, machine, to_csv

COLUMNS = [
    "locale",
    "language",
    "source",
    "lexicon",
    "entries",
    "entries_kept",
    "utterances",
    "words",
    "words_translated",
    "token_frac",
    "slots",
    "slots_full",
    "slot_frac_full",
    "slots_partial",
    "slot_frac_partial",
    "slots_restored",
    "labels_match",
    "check_failures",
    "roundtrip_ok",
    "seconds",
]


def run_one(job: tuple) -> tuple[dict, list[tuple[str, str, str]]]:
    """Project en-US train with one lexicon; returns the row and a few example annotations."""
    locale, lex_path, train, limit, out_dir = job
    from lexiconlm.io.locate import lexicon_source
    from lexiconlm.io.massive import read_massive, write_massive_tsv
    from lexiconlm.synth.pseudo_label import check_projection, make_translator, project_utterances

    t0 = time.perf_counter()
    src = list(read_massive(train).utterances)
    if limit:
        src = src[:limit]
    tr = make_translator(lex_path, seed=13)
    res = project_utterances(src, tr, locale=locale)
    outs = [p.utterance for p in res.items]
    failures = sum(1 for s, o in zip(src, outs) if check_projection(s, o))
    src_labels = Counter(s.label for u in src for s in u.slots)
    out_labels = Counter(s.label for u in outs for s in u.slots)
    path = Path(out_dir) / f"{locale}.{Path(lex_path).stem}.tsv"
    back = read_massive(write_massive_tsv(outs, path)).utterances
    roundtrip = [(u.text, u.slots) for u in back] == [(u.text, u.slots) for u in outs]
    st = res.stats
    rep = tr.hygiene_report
    row = {
        "locale": locale,
        "language": tr.lexicon.tgt.code,
        "source": lexicon_source(lex_path),
        "lexicon": Path(lex_path).name,
        "entries": len(tr.lexicon),
        "entries_kept": rep.n_kept if rep is not None else len(tr.lexicon),
        "utterances": st.n_utterances,
        "words": st.n_words,
        "words_translated": st.n_replaced,
        "token_frac": f"{st.token_ratio:.4f}",
        "slots": st.n_slots,
        "slots_full": st.n_slots_translated,
        "slot_frac_full": f"{st.slot_ratio:.4f}",
        "slots_partial": st.n_slots_partial,
        "slot_frac_partial": f"{st.slot_partial_ratio:.4f}",
        "slots_restored": st.n_slots_restored,
        "labels_match": src_labels == out_labels,
        "check_failures": failures,
        "roundtrip_ok": roundtrip,
        "seconds": f"{time.perf_counter() - t0:.1f}",
    }
    examples = [(locale, s.annot_utt, o.annot_utt) for s, o in zip(src, outs) if s.slots][:2]
    return row, examples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="shared data folder (default: $LEXICONLM_SHARED_DATA or ../shared/data)")
    ap.add_argument(
        "--locales", default="all", help="comma-separated locales, or 'all' (the visible test locales but en-US)"
    )
    ap.add_argument("--limit", type=int, default=0, help="only the first N train utterances (0: all)")
    ap.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)), help="processes")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="results folder")
    ap.add_argument("--keep-outputs", help="also keep the projected TSV files in this folder")
    args = ap.parse_args(argv)
    data = find_data_dir(args.data)
    if data is None:
        print("skipped: the shared data folder (../shared/data or $LEXICONLM_SHARED_DATA) is absent")
        return 0
    from lexiconlm import __version__
    from lexiconlm.io.locate import find_lexicons

    massive = data / "nlu" / "massive"
    train = massive / "en-US" / "train.tsv"
    locales = (
        sorted(p.stem for p in (massive / "test").glob("*.tsv") if p.stem != "en-US")
        if args.locales == "all"
        else [x.strip() for x in args.locales.split(",") if x.strip()]
    )
    dirs = [data / "lexicons" / "wiktionary", data / "lexicons" / "gatitos"]
    tmp = tempfile.TemporaryDirectory()
    out_dir = Path(args.keep_outputs) if args.keep_outputs else Path(tmp.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs, missing = [], []
    for loc in locales:
        found = find_lexicons(loc, dirs)
        if not found:
            missing.append(loc)
        jobs += [(loc, str(p), str(train), args.limit, str(out_dir)) for p in found]
    t0 = time.perf_counter()
    rows, examples = [], []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as ex:
            results = list(ex.map(run_one, jobs))
    else:
        results = [run_one(j) for j in jobs]
    for row, ex in results:
        rows.append(row)
        examples += ex
        print(
            f"{row['locale']:6} {row['lexicon']:24} tokens {float(row['token_frac']):.1%}  "
            f"slots {float(row['slot_frac_full']):.1%}"
            f"  check failures {row['check_failures']}  labels match {row['labels_match']}",
            flush=True,
        )
    seconds = time.perf_counter() - t0
    tmp.cleanup()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "synth_label_projection.csv").write_text(to_csv(rows, COLUMNS), encoding="utf-8")

    command = command_line(__file__, argv)
    n_utt = rows[0]["utterances"] if rows else 0
    all_ok = all(r["check_failures"] == 0 and r["labels_match"] and r["roundtrip_ok"] for r in rows)
    md = [
        "# Label projection: MASSIVE en-US train into the visible MASSIVE locales",
        "",
        f"- command: `{command}` (from the repository root)",
        f"- machine: {machine()}; lexiconlm {__version__}",
        f"- data: `{os.path.relpath(train, REPO)}` ({n_utt:,} utterances); "
        "lexicons found by `find_lexicons` in `lexicons/wiktionary` and `lexicons/gatitos`",
        "- settings: sense random.v1, OOV keep, seed 13, hygiene script.v1, "
        "words of scripts without spaces joined (`proj:segments.v1`)",
        f"- total time: {seconds:.0f} s with {args.jobs} process(es)",
        f"- projection check on every utterance of every run: **{'passed' if all_ok else 'FAILED'}** "
        f"({sum(r['check_failures'] for r in rows)} failing utterances, "
        f"{sum(1 for r in rows if not r['labels_match'])} runs whose label counts differ from the source, "
        f"{sum(1 for r in rows if not r['roundtrip_ok'])} runs whose file does not read back identically)",
        f"- locales without any lexicon: {', '.join(missing) if missing else 'none'}",
        "",
        "`tokens` = source word tokens translated through the lexicon (numbers and punctuation are not words); "
        "`slots full` = slot values whose every word was translated; "
        "`slots partly` = with at least one word translated; "
        "`restored` = slot values whose words were all dropped and that kept their source words "
        "(always 0 with OOV keep). "
        "`check` = utterances failing the projection check (annotation parses back, every value is `text[start:end]`, "
        "labels equal the source's in order); `labels` = label counts of the output equal the source's; "
        "`round trip` = written with `write_massive_tsv` and read back identically.",
        "",
        "| locale | source | lexicon | entries (kept) | tokens | slots full | slots partly "
        "| restored | check | labels | round trip | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(
            f"| {r['locale']} | {r['source']} | {r['lexicon']} | {r['entries']:,} ({r['entries_kept']:,}) | "
            f"{float(r['token_frac']):.1%} | {float(r['slot_frac_full']):.1%} | {float(r['slot_frac_partial']):.1%} | "
            f"{r['slots_restored']} | {r['check_failures']} | {'yes' if r['labels_match'] else 'NO'} | "
            f"{'yes' if r['roundtrip_ok'] else 'NO'} | {r['seconds']} |"
        )
    md += ["", "Examples (the first two utterances with slots):", ""]
    shown = set()
    for loc, a, b in examples:
        if loc in ("jv-ID", "th-TH", "zh-TW", "es-ES", "ko-KR", "ar-SA") and (loc, a) not in shown:
            shown.add((loc, a))
            md.append(f"- {loc}: `{a}` → `{b}`")
    (out / "synth_label_projection.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print(f"wrote {out / 'synth_label_projection.md'} and .csv ({seconds:.0f} s)")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
