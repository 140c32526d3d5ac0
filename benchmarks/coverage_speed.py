"""Time ``compute_coverage`` on ../shared/data cold (empty cache) and warm (every file cached),
and compare the table with the staged-data index ``metadata/languages_staged.tsv``.

Usage::

    python benchmarks/coverage_speed.py [--config configs/coverage/shared.yaml] [--repeat 5]

Each run is a fresh Python process (imports and the catalog load are included in the
"process" column; "compute" is the ``compute_coverage`` call alone). The cold runs use a new,
empty cache file; the warm runs reuse the cache the last cold run filled. Writes
``benchmarks/results/coverage_speed.md`` (machine, command, timings) and
``benchmarks/results/coverage_staged_check.md`` (languages per resource: table vs index).

With ``--tokenizer-demo`` it also trains a small WordPiece tokenizer (8,000 pieces) on the
English FLORES dev set, saves it to ``runs/tokenizers/flores-eng-wordpiece``, times
``coverage_with_tokenizer`` over every language with sample text and writes
``benchmarks/results/coverage_tokenizer_demo.md`` (UNK rate, fertility and script coverage by
script). It only illustrates the measurement on real data: no pretrained tokenizer is
available offline here.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, command_line, load_average, machine, shared_data_dir

# index column -> coverage resource (see configs/coverage/shared.yaml)
INDEX_COLUMNS = {
    "gatitos": "lexicons:gatitos",
    "unimorph": "unimorph",
    "sigmorphon2020": "sigmorphon:2020",
    "sigmorphon2021": "sigmorphon:2021",
    "sigmorphon2022": "sigmorphon:2022",
    "sigmorphon2023": "sigmorphon:2023",
    "massive": "nlu:massive",
    "masakhaner": "nlu:masakhaner",
    "bible": "text:bible",
    "udhr": "text:udhr",
    "flores200_dev": "text:flores200_dev",
}


def child(config: str, cache: str, use_cache: bool) -> None:
    """One run in this process: print the timings as JSON."""
    t0 = time.perf_counter()
    from dataclasses import replace

    from lexiconlm.coverage import compute_coverage, load_config

    cfg = replace(load_config(config), cache=Path(cache))
    t1 = time.perf_counter()
    table = compute_coverage(cfg, use_cache=use_cache)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "compute": t2 - t1,
                "process": t2 - t0,
                "rows": len(table.rows),
                "files_read": sum(s.get("files_read", 0) for s in table.sources.values()),
                "files_cached": sum(s.get("files_cached", 0) for s in table.sources.values()),
                "per_resource": {k: s.get("seconds", 0.0) for k, s in table.sources.items() if "seconds" in s},
            }
        )
    )


def run_child(config: str, cache: Path, use_cache: bool = True) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--config", config, "--cache", str(cache)]
        + ([] if use_cache else ["--no-cache"]),
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    wall = time.perf_counter() - t0
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def staged_check(config: str, cache: Path, index: Path) -> list[str]:
    """Markdown lines comparing languages per resource with the staged index."""
    from dataclasses import replace

    from lexiconlm.coverage import compute_coverage, load_config
    from lexiconlm.languages import get_catalog

    cat = get_catalog()
    table = compute_coverage(replace(load_config(config), cache=cache))
    with open(index, encoding="utf-8", newline="") as fh:
        staged = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    lines = [
        "| index column | languages in the index | in the table | same after resolving macrolanguages "
        "| index codes resolved differently (index → table) | only in the index, after resolving |",
        "|---|---|---|---|---|---|",
    ]
    for column, resource in INDEX_COLUMNS.items():
        if resource not in table.sources:
            continue
        ctx = column if column in cat.contexts else None
        raw = {r["iso639_3"] for r in staged if r[column]}
        resolved = {code: cat.lookup(code, context=ctx).iso639_3 for code in raw}
        got = {r["iso639_3"] for r in table.languages_with(resource)}
        renamed = sorted(f"{a}→{b}" for a, b in resolved.items() if a != b)
        missing = sorted(set(resolved.values()) - got)
        extra = sorted(got - set(resolved.values()))
        same = "yes" if not missing and not extra else f"no (+{len(extra)} / −{len(missing)})"
        lines.append(
            f"| {column} | {len(raw)} | {len(got)} | {same} | {', '.join(renamed) or '-'} | "
            f"{', '.join(missing) or '-'} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/coverage/shared.yaml")
    ap.add_argument("--repeat", type=int, default=5, help="warm runs (the cold run is repeated 2 times)")
    ap.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "coverage_speed.md")
    ap.add_argument("--index", type=Path, default=None, help="languages_staged.tsv (default: beside the shared data)")
    ap.add_argument(
        "--tokenizer-demo",
        action="store_true",
        help="also time tokenizer coverage with a tokenizer trained on English FLORES",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cache", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--no-cache", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.config, args.cache, not args.no_cache)
        return 0

    load_before = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="coverage-bench-"))
    cold = []
    for i in range(2):
        cache = tmp / f"cold{i}.json"
        r = run_child(args.config, cache)
        cold.append(r)
        print(f"cold  compute {r['compute']:.2f} s  process {r['process']:.2f} s  read {r['files_read']}")
    warm = []
    for _ in range(args.repeat):
        r = run_child(args.config, tmp / "cold1.json")
        warm.append(r)
        print(
            f"warm  compute {r['compute']:.2f} s  process {r['process']:.2f} s  "
            f"read {r['files_read']} cached {r['files_cached']}"
        )
    # the CLI end to end, on the cache the cold runs filled
    out_csv = tmp / "coverage.csv"
    cli = [
        sys.executable,
        "-m",
        "lexiconlm",
        "coverage",
        "compute",
        "--config",
        args.config,
        "--out",
        str(out_csv),
        "--cache",
        str(tmp / "cold1.json"),
        "--quiet",
    ]
    cli_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True, cwd=REPO)
        cli_times.append(time.perf_counter() - t0)
    load_after = load_average()

    command = command_line(__file__, argv)
    machine_info = machine()

    def stats(runs: list[dict], key: str) -> str:
        xs = sorted(r[key] for r in runs)
        return f"{xs[0]:.2f} / {xs[len(xs) // 2]:.2f} / {xs[-1]:.2f}"

    lines = [
        "# Coverage: cold and warm computation",
        "",
        f"- command: `{command}` (from the repository root)",
        f"- machine: {machine_info}",
        f"- config: `{args.config}` ({cold[0]['rows']:,} catalog languages, {cold[0]['files_read']:,} files read cold)",
        f"- 1-minute load average before / after: {load_before:.2f} / {load_after:.2f}",
        "- each run is a new Python process; *compute* is the `compute_coverage` call, *process* adds "
        "the imports and the catalog load, *wall* is the whole child process as the parent saw it",
        "",
        "| run | n | files read | files from the cache | compute s (min / median / max) | process s | wall s |",
        "|---|---|---|---|---|---|---|",
        f"| cold (empty cache) | {len(cold)} | {cold[0]['files_read']:,} | {cold[0]['files_cached']:,} | "
        f"{stats(cold, 'compute')} | {stats(cold, 'process')} | {stats(cold, 'wall')} |",
        f"| warm (every file cached) | {len(warm)} | {warm[0]['files_read']:,} | {warm[0]['files_cached']:,} | "
        f"{stats(warm, 'compute')} | {stats(warm, 'process')} | {stats(warm, 'wall')} |",
        "",
        f"`lexiconlm coverage compute --config {args.config} --out ... --cache <the warm cache> --quiet` "
        "end to end (interpreter start, imports, CSV, sources JSON and summary written), 3 runs: "
        + ", ".join(f"{x:.2f} s" for x in cli_times)
        + ".",
        "",
        "Seconds per resource (listing the files and reading those not cached), cold runs / first warm run:",
        "",
        "| resource | " + " | ".join(f"cold {i + 1}" for i in range(len(cold))) + " | warm |",
        "|---|" + "---|" * (len(cold) + 1),
        *(
            f"| {k} | "
            + " | ".join(f"{r['per_resource'].get(k, 0):.2f}" for r in cold)
            + f" | {warm[0]['per_resource'].get(k, 0):.2f} |"
            for k in cold[0]["per_resource"]
        ),
        "",
        "Goal: a warm recompute of all catalog languages in under 5 s. Cold runs read every file with "
        "the project's readers (2.46 M lexicon lines with `read_lexicons`, UniMorph tables with "
        "`read_unimorph` + `feature_stats`, SIGMORPHON detection, MASSIVE annotation parsing, text corpora).",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.output}")

    index = args.index
    if index is None:
        index = shared_data_dir() / "metadata" / "languages_staged.tsv"
    if index.is_file():
        check = [
            "# Coverage vs the staged-data index",
            "",
            f"- command: `{command}` (from the repository root)",
            f"- index: `{os.path.relpath(index, REPO)}`; table: `{args.config}`",
            "- the index keeps some macrolanguage and resource-specific codes (`orm`, `cre`, `syr`, GATITOS "
            "`cpf`); the readers resolve them with the catalog (macrolanguage default, resource aliases). "
            "The column *resolved differently* lists them; *same* compares after resolving the index codes "
            "the same way.",
            "",
            *staged_check(args.config, tmp / "cold1.json", index),
            "",
        ]
        out = args.output.with_name("coverage_staged_check.md")
        out.write_text("\n".join(check), encoding="utf-8")
        print(f"wrote {out}")
    if args.tokenizer_demo:
        lines = tokenizer_demo(args.config, tmp / "cold1.json", index.parent.parent, command, machine_info)
        out = args.output.with_name("coverage_tokenizer_demo.md")
        out.write_text("\n".join(lines), encoding="utf-8")
        print(f"wrote {out}")
    return 0


def tokenizer_demo(config: str, cache: Path, data: Path, command: str, machine: str) -> list[str]:
    """Train a WordPiece tokenizer on English FLORES and measure every language with sample text."""
    from dataclasses import replace

    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from lexiconlm.coverage import compute_coverage, load_config
    from lexiconlm.coverage.aggregate import group_key
    from lexiconlm.coverage.tokenizer import coverage_with_tokenizer

    english = (data / "text" / "flores200_dev" / "eng_Latn.dev").read_text(encoding="utf-8").split("\n")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(english, trainers.WordPieceTrainer(vocab_size=8000, special_tokens=["[UNK]", "[PAD]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
    folder = REPO / "runs" / "tokenizers" / "flores-eng-wordpiece"
    fast.save_pretrained(folder)
    cfg = replace(load_config(config), cache=cache)
    table = compute_coverage(cfg)
    t0 = time.perf_counter()
    result = coverage_with_tokenizer(table, str(folder), cfg)
    seconds = time.perf_counter() - t0
    measured = result.languages_with("tokenizer")
    by_script: dict[str, list[dict]] = {}
    for r in measured:
        by_script.setdefault(str(group_key(r, "script")), []).append(r)
    lines = [
        "# Tokenizer coverage: an illustration on ../shared/data",
        "",
        f"- command: `{command}` (from the repository root)",
        f"- machine: {machine} (CPU only)",
        "- tokenizer: WordPiece, 8,000 pieces, trained on the 997 English FLORES dev sentences "
        f"(`{os.path.relpath(folder, REPO)}`); not a pretrained model, so the figures only show how the "
        "measure behaves (Latin-script languages share most characters with English, other scripts do not)",
        f"- `coverage_with_tokenizer` over {len(measured):,} languages with sample text "
        f"(200 text segments, else 2,000 lexicon target words): {seconds:.1f} s",
        "",
        "| first script | languages | mean UNK rate | mean fertility | mean script coverage |",
        "|---|---|---|---|---|",
    ]

    def mean(rows: list[dict], col: str) -> float:
        values = [r[col] for r in rows if r[col] is not None]
        return sum(values) / len(values) if values else float("nan")

    for script, rows in sorted(by_script.items(), key=lambda kv: -len(kv[1]))[:15]:
        lines.append(
            f"| {script} | {len(rows):,} | {mean(rows, 'tok_unk_rate'):.3f} | "
            f"{mean(rows, 'tok_fertility'):.2f} | {mean(rows, 'tok_script_coverage'):.3f} |"
        )
    lines += ["", "| language | sample | UNK rate | fertility | script coverage |", "|---|---|---|---|---|"]
    for code in ("eng", "swh", "ind", "deu", "amh", "arb", "bod", "cmn", "hye", "kat"):
        try:
            r = result.row(code)
        except LookupError:
            continue
        if r["tok_unk_rate"] is None:
            continue
        lines.append(
            f"| {r['name']} ({code}) | {r['tok_sample']} | {r['tok_unk_rate']:.3f} | "
            f"{r['tok_fertility']:.2f} | {r['tok_script_coverage']:.3f} |"
        )
    lines += [
        "",
        "Fertility counts pieces per whitespace word: scripts written without spaces between "
        "words (Tibetan, Chinese) get very high values.",
        "",
    ]
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
