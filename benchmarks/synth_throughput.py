"""Throughput of pseudo-monolingual synthesis, the batch over every Wiktionary dictionary, and
lexicon hygiene / sense-trap measurements.

Usage::

    python benchmarks/synth_throughput.py [DATA_DIR] [--repeat 3] [--skip-batch] [--workers 2]

DATA_DIR is the shared data folder (default ``../shared/data`` beside the repository, or
$LEXICONLM_SHARED_DATA). The English source is the 10,000 sentences of
:func:`lexiconlm.synth.batch.english_source` (FLORES-200 dev English + MASSIVE en-US train
utterances); for throughput it is repeated until it holds at least 1 M tokens.

Measured in the same run, per lexicon (median of ``--repeat`` runs, one core):

* *baseline*: a plain per-token dictionary lookup: tokenise each sentence, look every token
  up lowercased in a ``dict`` of single-word entries, ``random.choice`` a translation, join
  with spaces (no multi-word entries, casing, spacing or joining rules);
* *per sentence*: :meth:`LexiconTranslator.translate` sentence by sentence;
* *fast, translate*: :func:`translate_corpus` on the already encoded corpus (what each
  language costs in batch mode, where the source is encoded once);
* *fast, end to end*: encoding + building the translator (hygiene, tables) + translating.

Then ``synth batch`` over all Wiktionary dictionaries with ``--workers`` processes (output in
``runs/bench/synth_batch``, started empty), the hygiene figures over all dictionaries, and the
sense-trap rates. Writes ``benchmarks/results/synth_throughput.md``,
``benchmarks/results/synth_batch_wiktionary.csv`` (the batch's per-language table) and
``benchmarks/results/synth_traps.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

import numpy as np
from _common import REPO, RESULTS, command_line, load_average, machine, shared_data_dir

from lexiconlm.io.lexicons import iter_lexicon_files, read_lexicon
from lexiconlm.synth.batch import BatchConfig, english_source, run_batch
from lexiconlm.synth.hygiene import (
    EmptyLexiconError,
    HygieneConfig,
    char_scripts_of,
    entry_script,
    filter_lexicon,
)
from lexiconlm.synth.pseudo_mono import encode_corpus, translate_corpus
from lexiconlm.synth.tokenize import split_tokens
from lexiconlm.synth.translate import (
    LexiconTranslator,
    SenseContext,
    is_whole_word,
    resolve_sense,
)

LEXICONS = [
    "wiktionary/indonesian.txt",
    "wiktionary/thai.txt",
    "wiktionary/japanese.txt",
    "wiktionary/finnish.txt",
    "gatitos/en_ace.tsv",
]
TRAP_EXAMPLES = [
    ("georgian", "at"),
    ("armenian", "am"),
    ("japanese", "at"),
    ("hungarian", "at"),
    ("dutch", "at"),
    ("amharic", "at"),
]


def baseline(lex, texts: list[str], seed: int = 13) -> list[str]:
    """The plain per-token dictionary lookup."""
    table: dict[str, list[str]] = {}
    for e in lex.entries:
        if " " not in e.source:
            table.setdefault(e.source.lower(), []).append(e.target)
    rnd = random.Random(seed)
    out = []
    for s in texts:
        toks = split_tokens(s)[0]
        words = []
        for t in toks:
            c = table.get(t.lower())
            words.append(rnd.choice(c) if c else t)
        out.append(" ".join(words))
    return out


CPU: dict[int, float] = {}  # id(fn) -> median CPU seconds of the last median_time call


def median_time(fn, repeat: int) -> float:
    """Median wall seconds of ``repeat`` calls (the median CPU seconds go to ``CPU``)."""
    times, cpus = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    CPU[id(fn)] = statistics.median(cpus)
    return statistics.median(times)


def timed(fn, repeat: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds of this process)."""
    wall = median_time(fn, repeat)
    return wall, CPU[id(fn)]


def throughput(data: Path, repeat: int) -> tuple[list[dict], dict]:
    texts, desc = english_source(data, 10_000)
    small = encode_corpus(texts)
    k = -(-1_000_000 // small.n_tokens)
    big_texts = texts * k
    t_enc, c_enc = timed(lambda: encode_corpus(big_texts), repeat)
    corpus = encode_corpus(big_texts).prepare()
    info = {
        "source": desc,
        "copies": k,
        "tokens": corpus.n_tokens,
        "sentences": corpus.n_sentences,
        "types": len(corpus.types),
        "encode_s": t_enc,
        "encode_cpu": c_enc,
    }
    rows = []
    for rel in LEXICONS:
        path = data / "lexicons" / rel
        if not path.is_file():
            continue
        lex = read_lexicon(path, errors="collect")
        hyg = HygieneConfig()
        t_base, c_base = timed(lambda lex=lex: baseline(lex, big_texts), repeat)
        tr = LexiconTranslator(lex, hygiene=hyg)
        t_build, c_build = timed(lambda lex=lex, hyg=hyg: LexiconTranslator(lex, hygiene=hyg), repeat)
        t_fast, c_fast = timed(lambda tr=tr: translate_corpus(tr, corpus), repeat)
        one = LexiconTranslator(lex, hygiene=hyg)
        # 10k sentences once, scaled to the repeated corpus
        t_sent, c_sent = timed(lambda one=one: [one.translate(s) for s in texts], 1)
        t_sent, c_sent = t_sent * k, c_sent * k
        n = corpus.n_tokens
        rows.append(
            {
                "lexicon": rel,
                "entries": len(lex),
                "tokens": n,
                "baseline": (n / t_base, n / c_base),
                "per_sentence": (n / t_sent, n / c_sent),
                "fast_translate": (n / t_fast, n / c_fast),
                "fast_end_to_end": (n / (t_enc + t_build + t_fast), n / (c_enc + c_build + c_fast)),
                "build_s": t_build,
            }
        )
        print(
            f"{rel}: M tok/s wall/cpu: baseline {n / t_base / 1e6:.2f}/{n / c_base / 1e6:.2f}, per sentence "
            f"{n / t_sent / 1e6:.2f}/{n / c_sent / 1e6:.2f}, "
            f"fast translate {n / t_fast / 1e6:.2f}/{n / c_fast / 1e6:.2f}, "
            f"fast end to end {rows[-1]['fast_end_to_end'][0] / 1e6:.2f}/{rows[-1]['fast_end_to_end'][1] / 1e6:.2f}",
            flush=True,
        )
    return rows, info


def batch(data: Path, workers: int) -> tuple[dict, list[dict]]:
    texts, desc = english_source(data, 10_000)
    files = iter_lexicon_files(data / "lexicons" / "wiktionary")
    out = REPO / "runs" / "bench" / "synth_batch"
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    res = run_batch(files, texts, out, workers=workers, progress=False, source_name=desc, config=BatchConfig())
    seconds = time.perf_counter() - t0
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = res.rows
    with open(RESULTS / "synth_batch_wiktionary.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        cols = [c for c in rows[0] if c not in ("signature",)]
        w.writerow(cols)
        for r in rows:
            vals = []
            for c in cols:
                v = r.get(c, "")
                if c in ("lexicon", "output") and v:
                    v = os.path.relpath(v, REPO) if os.path.isabs(str(v)) else v
                vals.append(v)
            w.writerow(vals)
    size = sum(p.stat().st_size for p in out.rglob("*.txt"))
    return {
        "seconds": seconds,
        "files": len(files),
        "ok": sum(r["status"] == "ok" for r in rows),
        "failed": res.n_failed,
        "bytes": size,
        "source": desc,
        "out": out,
        "signature": rows[0]["signature"] if rows else "",
    }, rows


def hygiene_stats(rows: list[dict]) -> dict:
    ok = [r for r in rows if r["status"] == "ok"]
    entries = sum(int(r["entries"]) for r in ok)
    kept = sum(int(r["entries_kept"]) for r in ok)
    by_script: Counter = Counter()
    with_drops = 0
    for r in ok:
        if r["dropped_by_script"]:
            with_drops += 1
            for part in r["dropped_by_script"].split():
                s, n = part.rsplit(":", 1)
                by_script[s] += int(n)
    return {
        "lexicons": len(ok),
        "entries": entries,
        "kept": kept,
        "with_drops": with_drops,
        "by_script": by_script.most_common(12),
    }


def trap_rates(data: Path, top: int = 50) -> tuple[list[dict], list[dict]]:
    """Translations of the most frequent source words that are affixes, patterns or in a foreign script.

    For every Wiktionary dictionary (after hygiene ``none``, so that foreign-script entries are
    still there) and each of the ``top`` most frequent source words it has entries for: the
    chance that ``random.v1`` picks such a target (share of trap candidates) against what
    ``prefer-consensus.v1`` picks (a trap, a whole word, or nothing: the word becomes
    out-of-lexicon).
    """
    texts, _ = english_source(data, 10_000)
    counts = Counter(t.lower() for s in texts for t in split_tokens(s)[0] if any(ch.isalpha() for ch in t))
    words = [w for w, _ in counts.most_common(top)]
    wanted = set(words)
    _, consensus = resolve_sense("prefer-consensus")
    tot_rand = tot_cons = n_words = n_rejected = 0.0
    examples = []
    ex_set = {(lang, w) for lang, w in TRAP_EXAMPLES}
    for path in iter_lexicon_files(data / "lexicons" / "wiktionary"):
        lex = read_lexicon(path, errors="collect")
        if not len(lex):
            continue
        try:
            _, rep = filter_lexicon(lex, HygieneConfig())
        except EmptyLexiconError:
            continue  # nothing left after hygiene: no word to choose a sense for
        allowed = (
            frozenset().union(*[char_scripts_of(s) for s in rep.allowed_scripts])
            if rep.allowed_scripts
            else frozenset()
        )
        groups: dict[str, list] = {}
        for e in lex.entries:
            if e.source.lower() in wanted:
                groups.setdefault(e.source.lower(), [])
                if e.target not in [c.target for c in groups[e.source.lower()]]:
                    groups[e.source.lower()].append(e)
        if not groups:
            continue
        ctx = SenseContext(lex.entries, allowed)

        def trap(target: str, allowed: frozenset = allowed) -> bool:
            s = entry_script(target)
            return not is_whole_word(target) or (bool(allowed) and s is not None and s not in allowed)

        for w, cands in groups.items():
            rate = sum(trap(c.target) for c in cands) / len(cands)
            weights = consensus(cands, ctx)
            if weights is None:
                choice, cons_trap = None, 0.0
                n_rejected += 1
            else:
                choice = cands[int(np.argmax(weights))].target
                cons_trap = float(trap(choice))
            tot_rand += rate
            tot_cons += cons_trap
            n_words += 1
            if (path.stem, w) in ex_set:
                examples.append(
                    {
                        "lexicon": f"wiktionary/{path.name}",
                        "word": w,
                        "candidates": " / ".join(c.target for c in cands),
                        "random_trap_chance": round(rate, 3),
                        "prefer_consensus": choice if choice is not None else "(rejected: out of lexicon)",
                    }
                )
    summary = [
        {
            "words": top,
            "lexicon_word_pairs": int(n_words),
            "random_trap_rate": round(tot_rand / n_words, 4) if n_words else 0.0,
            "prefer_consensus_trap_rate": round(tot_cons / n_words, 4) if n_words else 0.0,
            "prefer_consensus_rejected": int(n_rejected),
        }
    ]
    return summary, examples


def write_report(args, info, rows, batch_info, hyg, traps, trap_examples, load_before, load_after) -> Path:
    cmd = command_line(__file__, None)
    lines = [
        "# Pseudo-monolingual synthesis: throughput and batch",
        "",
        f"- command: `{cmd.strip()}` (from the repository root)",
        f"- machine: {machine(f'numpy {np.__version__}')}",
        f"- 1-minute load average before / after: {load_before:.2f} / {load_after:.2f} "
        "(other jobs share this machine; timings are medians)",
        f"- source: {info['source']}; for throughput repeated {info['copies']}× = "
        f"{info['tokens']:,} tokens, {info['sentences']:,} sentences, {info['types']:,} token types",
        f"- encoding the source once (tokenise into ids, shared by every language in batch mode): "
        f"{info['encode_s']:.2f} s wall = {info['tokens'] / info['encode_s'] / 1e6:.2f} M tokens/s "
        f"({info['tokens'] / info['encode_cpu'] / 1e6:.2f} M tokens per CPU second)",
        f"- runs per measurement: {args.repeat} (median); the per-sentence path is timed on the 10,000 "
        "sentences once and scaled",
        "",
        "Source tokens per second on one core, as *wall / CPU*: per wall-clock second, and per CPU "
        "second of the process (what one core does when other jobs take turns on it). "
        "M = million source tokens, punctuation included. Goal: ≥ 1 M/s.",
        "",
        "| lexicon | entries | baseline: dict lookup | per sentence (`translate`) "
        "| fast: translate | fast: end to end | build translator s |",
        "|---|---|---|---|---|---|---|",
    ]

    def m(pair) -> str:
        return f"{pair[0] / 1e6:.2f} / {pair[1] / 1e6:.2f} M"

    for r in rows:
        lines.append(
            f"| {r['lexicon']} | {r['entries']:,} | {m(r['baseline'])} | {m(r['per_sentence'])} "
            f"| **{m(r['fast_translate'])}** | {m(r['fast_end_to_end'])} | {r['build_s']:.2f} |"
        )
    lines += [
        "",
        "*baseline*: tokenise, look each token up lowercased in a dict of single-word entries, "
        "`random.choice`, join with spaces. *fast*: `translate_corpus` (numpy: type-level lookup, "
        "vectorised longest match candidates, one seeded draw per translated unit, one join); "
        "*end to end* adds encoding the source and building the translator (hygiene, tables). "
        "The fast path gives exactly what `LexiconTranslator.translate` gives sentence by sentence "
        "(tests/test_synth_mono_batch.py).",
        "",
    ]
    if batch_info:
        lines += [
            "## Batch: every Wiktionary dictionary",
            "",
            f"- `run_batch` (= `lexiconlm synth batch --langs all --lexicon-dir ../shared/data/lexicons/wiktionary "
            f"--data-dir ../shared/data --workers {args.workers}`), started with an empty output folder",
            f"- {batch_info['files']:,} dictionaries, {batch_info['ok']:,} synthesized, {batch_info['failed']} failed; "
            f"source: {batch_info['source']}",
            f"- **{batch_info['seconds']:.1f} s** wall ({batch_info['seconds'] / 60:.1f} min) with {args.workers} "
            f"worker processes; goal: under 10 min",
            f"- outputs: {batch_info['bytes'] / 1e9:.2f} GB of text in `{os.path.relpath(batch_info['out'], REPO)}` "
            "(git-ignored); per-language table: `benchmarks/results/synth_batch_wiktionary.csv`",
            f"- signature of the first: `{batch_info['signature']}`",
            "",
        ]
    if hyg:
        lines += [
            "## Hygiene over all Wiktionary dictionaries (`script.v1`)",
            "",
            f"- {hyg['lexicons']:,} dictionaries, {hyg['entries']:,} entries, {hyg['kept']:,} kept "
            f"({hyg['kept'] / hyg['entries']:.2%}); {hyg['with_drops']:,} dictionaries lose at least one entry",
            "- dropped entries by script: " + ", ".join(f"{s} {n:,}" for s, n in hyg["by_script"]),
            "",
        ]
    if traps:
        t = traps[0]
        lines += [
            "## Sense traps",
            "",
            f"Over every Wiktionary dictionary and the {t['words']} most frequent words of the source "
            f"({t['lexicon_word_pairs']:,} dictionary-word pairs with entries): the chance that a "
            "translation is an affix (`-dha`), a pattern with a placeholder (`op ... af`) or in a script "
            "the hygiene filter would not keep.",
            "",
            "| strategy | trap rate | words rejected (left to the OOV policy) |",
            "|---|---|---|",
            f"| random.v1 | {t['random_trap_rate']:.2%} | 0 |",
            f"| prefer-consensus.v1 | {t['prefer_consensus_trap_rate']:.2%} | {t['prefer_consensus_rejected']:,} |",
            "",
            "| lexicon | word | candidates | random: trap chance | prefer-consensus picks |",
            "|---|---|---|---|---|",
        ]
        for e in trap_examples:
            lines.append(
                f"| {e['lexicon']} | {e['word']} | {e['candidates']} | "
                f"{e['random_trap_chance']:.0%} | {e['prefer_consensus']} |"
            )
        lines.append("")
    path = RESULTS / "synth_throughput.md"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", nargs="?", type=Path, default=shared_data_dir())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-batch", action="store_true", help="only the throughput table")
    args = ap.parse_args()
    load_before = load_average()
    rows, info = throughput(args.data, args.repeat)
    batch_info, hyg = {}, {}
    if not args.skip_batch:
        batch_info, brows = batch(args.data, args.workers)
        print(f"batch: {batch_info['files']} dictionaries in {batch_info['seconds']:.1f} s", flush=True)
        hyg = hygiene_stats(brows)
    traps, examples = trap_rates(args.data)
    with open(RESULTS / "synth_traps.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(examples[0]) if examples else ["lexicon"], lineterminator="\n")
        w.writeheader()
        w.writerows(examples)
    path = write_report(args, info, rows, batch_info, hyg, traps, examples, load_before, load_average())
    print(path.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
