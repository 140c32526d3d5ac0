"""Time reading every GATITOS and Wiktionary lexicon with lexiconlm.io.lexicons.read_lexicons.

Usage::

    python benchmarks/read_lexicons.py [DATA_DIR] [--workers 0,auto] [--repeat 3]

DATA_DIR is the shared data folder (default: ``../shared/data`` beside the
repository, or $LEXICONLM_SHARED_DATA); it must hold ``lexicons/gatitos`` and/or
``lexicons/wiktionary``. For each worker setting the script prints files,
entries, lines, seconds (best of ``--repeat`` runs) and lines per second, and
writes ``benchmarks/results/read_lexicons.md`` with the machine and the command.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, command_line, load_average, machine, shared_data_dir

from lexiconlm.io.lexicons import read_lexicons


def run(dirs: list[Path], workers: int | None, repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        lexicons = read_lexicons(dirs, errors="collect", workers=workers)
        seconds = time.perf_counter() - t0
        if best is None or seconds < best["seconds"]:
            problems = [p for lex in lexicons for p in lex.problems]
            best = {
                "seconds": seconds,
                "files": len(lexicons),
                "entries": sum(len(lex) for lex in lexicons),
                "duplicates": sum(lex.n_duplicates for lex in lexicons),
                "lines": sum(lex.provenance.n_lines for lex in lexicons),
                "errors": sum(p.severity == "error" for p in problems),
                "warnings": sum(p.severity == "warning" for p in problems),
                "bytes": sum(Path(lex.provenance.path).stat().st_size for lex in lexicons),
            }
        del lexicons
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", type=Path, default=shared_data_dir())
    ap.add_argument(
        "--workers",
        default="0,auto",
        help="comma-separated worker settings to time; 'auto' is read_lexicons' default",
    )
    ap.add_argument("--repeat", type=int, default=3, help="runs per setting; the best is reported")
    ap.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "read_lexicons.md")
    args = ap.parse_args(argv)

    dirs = [args.data_dir / "lexicons" / name for name in ("gatitos", "wiktionary")]
    dirs = [d for d in dirs if d.is_dir()]
    if not dirs:
        print(f"no lexicons/gatitos or lexicons/wiktionary under {args.data_dir}", file=sys.stderr)
        return 2

    load_before = load_average()
    rows = []
    for setting in args.workers.split(","):
        workers = None if setting.strip() == "auto" else int(setting)
        r = run(dirs, workers, args.repeat)
        r["workers"] = setting.strip()
        rows.append(r)
        print(
            f"workers={r['workers']:>4}  files={r['files']}  entries={r['entries']:,}  "
            f"duplicates={r['duplicates']:,}  lines={r['lines']:,}  errors={r['errors']}  "
            f"warnings={r['warnings']}  seconds={r['seconds']:.2f}  "
            f"lines/s={r['lines'] / r['seconds']:,.0f}"
        )

    load_after = load_average()
    command = command_line(__file__, argv)
    lines = [
        "# Reading all GATITOS and Wiktionary lexicons",
        "",
        f"- command: `{command}` (from the repository root)",
        f"- machine: {machine()}",
        f"- data: {', '.join(os.path.relpath(d, REPO) for d in dirs)}",
        f"- runs per setting: {args.repeat} (best reported); goal: under 15 s",
        (
            f"- 1-minute load average before / after: {load_before:.2f} / {load_after:.2f} "
            "(other jobs on the machine make the timings of one setting vary by up to ~1 s)"
        ),
        "",
        "| workers | files | entries | duplicates | lines | MB | errors | warnings | seconds | lines/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workers']} | {r['files']} | {r['entries']:,} | {r['duplicates']:,} | {r['lines']:,} | "
            f"{r['bytes'] / 1e6:.1f} | {r['errors']} | {r['warnings']} | {r['seconds']:.2f} | "
            f"{r['lines'] / r['seconds']:,.0f} |"
        )
    lines += [
        "",
        (
            "`workers=0` reads in one process; `N` uses N reading processes while the calling "
            "process builds the entries; `auto` is the default of `read_lexicons` (in-process "
            "below 4 cores, else `min(cpu_count - 1, 4)` workers)."
        ),
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
