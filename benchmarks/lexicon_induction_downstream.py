#!/usr/bin/env python3
"""What an induced lexicon buys downstream: dictionary vs induced vs both merged, same command and seed.

For each language (default: the visible MASSIVE locales af-ZA, cy-GB, jv-ID, ml-IN, tr-TR, whose
languages have both a dictionary and parallel text) and each lexicon

* ``none``        no lexicon (English only / English copied),
* ``dictionary``  Wiktionary + GATITOS (merged, dictionary entries only),
* ``induced``     ``runs/lexicon/induced/en_<iso>.tsv`` (from ``lexiconlm lexicon induce``; built
  from the *train* half of the parallel units only),
* ``merged``      dictionary + induced (:func:`lexiconlm.lexicon.merge.merge_lexicons`),

two figures:

1. **NLU (MASSIVE intent accuracy)**: the package's character n-gram intent classifier trained on
   en-US train plus ``--cap`` en-US train utterances translated word by word through the lexicon
   (label projection, ``sense: first``, seed 13), scored on the locale's whole MASSIVE test file.
   ``none`` is en-US train alone. Cheap on a CPU and sensitive to exactly what a lexicon
   changes: which target-language words the training data contains.
2. **Synthesis vs real text (held-out parallel units)**: the held-out half of the language's
   parallel units (never seen by induction) translated word by word from English through the
   lexicon (``sense: first``, English words without an entry dropped), compared with the real
   translation: clipped unigram precision, recall and F1 over lower-cased words (BLEU-1-like).
   ``none`` copies the English words.

Usage::

    # writes benchmarks/results/lexicon_induction_downstream.{md,json}
    python benchmarks/lexicon_induction_downstream.py
    python benchmarks/lexicon_induction_downstream.py --locales af-ZA,jv-ID --cap 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, RESULTS, command_line, machine, shared_data_dir  # noqa: E402

from lexiconlm.files import atomic_write_text  # noqa: E402
from lexiconlm.io.locate import find_lexicons  # noqa: E402
from lexiconlm.io.massive import read_massive  # noqa: E402
from lexiconlm.languages import get_catalog  # noqa: E402
from lexiconlm.lexicon.align import alignment_tokens  # noqa: E402
from lexiconlm.lexicon.merge import MergeSource, merge_lexicons  # noqa: E402
from lexiconlm.lexicon.parallel import find_parallel_files, parallel_units, select_units  # noqa: E402
from lexiconlm.nlu.baseline import evaluate_baseline, train_baseline  # noqa: E402
from lexiconlm.synth.pseudo_label import make_translator, project_utterances  # noqa: E402
from lexiconlm.types import Lexicon, Provenance  # noqa: E402

LEXICONS = ("none", "dictionary", "induced", "merged")


def _lexicon(kind: str, iso: str, dict_dirs: list[Path], induced_dir: Path) -> Lexicon | None:
    if kind == "none":
        return None
    sources = []
    if kind in ("dictionary", "merged"):
        sources += [MergeSource(p.parent.name, p) for p in find_lexicons(iso, dict_dirs)]
    if kind in ("induced", "merged"):
        path = induced_dir / f"en_{iso}.tsv"
        if not path.is_file():
            raise SystemExit(f"{path} is missing: run `lexiconlm lexicon induce --langs all` first")
        sources.append(MergeSource("induced", path, induced=True))
    entries = [e for e, _ in merge_lexicons(sources)]
    catalog = get_catalog()
    prov = Provenance(path=f"{kind}:{iso}", format="tsv", source=kind)
    return Lexicon(catalog.get("eng"), catalog.get(iso), tuple(entries), prov)


def _overlap(hyp: list[str], ref: list[str]) -> tuple[int, int, int]:
    h, r = Counter(hyp), Counter(ref)
    return sum((h & r).values()), sum(h.values()), sum(r.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--locales", default="af-ZA,cy-GB,jv-ID,ml-IN,tr-TR")
    ap.add_argument("--cap", type=int, default=2000, help="pseudo-labelled utterances per lexicon (en-US train)")
    ap.add_argument("--induced", default=str(REPO / "runs" / "lexicon" / "induced"))
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    data = shared_data_dir()
    if not (data / "nlu" / "massive").is_dir():
        print(f"skipped: {data}/nlu/massive is absent (set LEXICONLM_SHARED_DATA)")
        return 0
    dict_dirs = [data / "lexicons" / "wiktionary", data / "lexicons" / "gatitos"]
    corpora = {
        "udhr": data / "text" / "udhr",
        "bible": data / "text" / "bible",
        "flores": data / "text" / "flores200_dev",
    }
    files = find_parallel_files(corpora)
    massive = data / "nlu" / "massive"
    train = read_massive(massive / "en-US" / "train.tsv", errors="collect")
    catalog = get_catalog()
    rows = []
    start = time.perf_counter()
    for locale in [x.strip() for x in args.locales.split(",") if x.strip()]:
        iso = catalog.lookup(locale).iso639_3
        test = read_massive(massive / "test" / f"{locale}.tsv", errors="collect")
        units = select_units(parallel_units(files.get(iso, []), corpora), "heldout")
        for kind in LEXICONS:
            t0 = time.process_time()
            lex = _lexicon(kind, iso, dict_dirs, Path(args.induced))
            row = {"locale": locale, "iso639_3": iso, "lexicon": kind, "entries": len(lex.entries) if lex else 0}
            extra = []
            if lex is not None:
                tr = make_translator(lex, sense="first", oov="keep", seed=args.seed)
                projected = project_utterances(list(train)[: args.cap], tr, locale=locale)
                extra = [p.utterance for p in projected.items]
                row["translated_words"] = round(100.0 * projected.stats.token_ratio, 2)
            pipe = train_baseline(list(train) + extra, {})
            row["intent_accuracy"] = round(evaluate_baseline(pipe, [test])[locale]["intent_accuracy"], 2)
            # held-out parallel units: word-by-word synthesis vs the real translation
            hit = n_hyp = n_ref = 0
            drop = make_translator(lex, sense="first", oov="drop", seed=args.seed) if lex is not None else None
            for u in units:
                ref = alignment_tokens(u.target)
                hyp = alignment_tokens(drop.translate(u.source)[0]) if drop else alignment_tokens(u.source)
                a, b, c = _overlap(hyp, ref)
                hit, n_hyp, n_ref = hit + a, n_hyp + b, n_ref + c
            p = 100.0 * hit / n_hyp if n_hyp else 0.0
            r = 100.0 * hit / n_ref if n_ref else 0.0
            row.update(
                heldout_units=len(units),
                unigram_precision=round(p, 2),
                unigram_recall=round(r, 2),
                unigram_f1=round(2 * p * r / (p + r), 2) if p + r else 0.0,
                cpu_seconds=round(time.process_time() - t0, 1),
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
    wall = time.perf_counter() - start
    cols = [
        "locale",
        "lexicon",
        "entries",
        "translated_words",
        "intent_accuracy",
        "heldout_units",
        "unigram_precision",
        "unigram_recall",
        "unigram_f1",
        "cpu_seconds",
    ]
    md = [
        "# Induced lexicons downstream: dictionary vs induced vs merged",
        "",
        f"Command: `{command_line('benchmarks/lexicon_induction_downstream.py', argv)}`  ",
        f"Machine: {machine()}; wall {wall / 60:.1f} min.  ",
        f"NLU: character n-gram intent classifier, en-US train + {args.cap} pseudo-labelled utterances "
        f"(sense first, seed {args.seed}); whole MASSIVE test file. Held-out text: clipped unigram overlap of the "
        "word-by-word translation of the held-out English units with the real translation.",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for r in rows:
        md.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    md.append("")
    md.append("Mean over locales:")
    md.append("")
    md.append("| lexicon | intent accuracy | unigram F1 |")
    md.append("|---|---:|---:|")
    for kind in LEXICONS:
        sel = [r for r in rows if r["lexicon"] == kind]
        if sel:
            ia = sum(r["intent_accuracy"] for r in sel) / len(sel)
            f1 = sum(r["unigram_f1"] for r in sel) / len(sel)
            md.append(f"| {kind} | {ia:.2f} | {f1:.2f} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_text(RESULTS / "lexicon_induction_downstream.md", "\n".join(md) + "\n")
    atomic_write_text(RESULTS / "lexicon_induction_downstream.json", json.dumps(rows, indent=2) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
