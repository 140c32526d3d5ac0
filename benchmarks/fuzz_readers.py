"""Fuzz every reader/writer pair of lexiconlm.io with a few thousand examples each.

The cases are the suite's (tests/fuzz_cases.py): a round trip of valid record sets (records
equal after write and read; a second write gives the same bytes), and arbitrary bytes (records
or a DataFormatError naming the file and a line inside it, never another exception). The suite
runs 100 examples per case; this runs --examples per case (default 3000) and writes a table
of examples run and failures found, with the smallest failing input hypothesis found.

    python benchmarks/fuzz_readers.py --examples 3000

Writes benchmarks/results/fuzz_readers.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parent),
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "tests"),
]

from _common import RESULTS, command_line, machine, md_table  # noqa: E402
from fuzz_cases import (  # noqa: E402
    ANY_BYTES,
    ANY_BYTES_DATA,
    ROUND_TRIPS,
    check_any_bytes,
    check_inspect,
    scratch_dir,
)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402

#: What earlier runs of this script found, each fixed in the reader and kept as an input in
#: tests/test_fuzz_readers.py::FOUND (so the table below is the state after the fixes).
FOUND_AND_FIXED = [
    (
        "read_sigmorphon, read_predictions",
        "StopIteration on a line that is blank once U+FEFF is removed (`\\t\\ufeff`): the blank-line "
        "warning looked for the first blank line in the raw lines",
        "the first blank line is taken while reading",
    ),
    (
        "read_massive (.jsonl), inspect",
        "RecursionError on deeply nested JSON (`[[[...` 1000 deep)",
        "`file:line: error: JSON nested too deeply to read`",
    ),
    (
        "read_massive (.jsonl), inspect",
        "ValueError on an integer of more than 4300 digits (Python's int limit)",
        "`file:line: error: JSON that Python cannot read: ...`",
    ),
    (
        "read_massive (.jsonl)",
        "a lone surrogate escape (`\\ud800`) read into the text: records that cannot be written as UTF-8",
        "`file:line: error: field(s) annot_utt hold a lone surrogate escape`",
    ),
]


def _describe(exc: BaseException) -> str:
    """``Type: message`` of each failure (hypothesis groups distinct ones), with the input."""
    subs = getattr(exc, "exceptions", None)
    if subs:
        return "; ".join(_describe(e) for e in subs)
    message = (str(exc).strip().splitlines() or [""])[0][:200]
    notes = "\n".join(getattr(exc, "__notes__", []))
    head = next((h for h in ("Falsifying example", "Failing test case") if h in notes), "")
    example = notes.split(head, 1)[1].split("\n", 1)[-1] if head else ""
    example = " ".join(example.split())[:150].rstrip(",)").removeprefix("value=")
    return f"{type(exc).__name__}: {message}" + (f" (input {example})" if example else "")


def _run(name: str, strategy, body, examples: int, seed: int) -> dict:
    """Run one property with ``examples`` examples; the row of the results table."""
    count = 0

    @settings(
        max_examples=examples, deadline=None, database=None, derandomize=False, suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def prop(value):
        nonlocal count
        count += 1
        with scratch_dir() as d:
            body(value, Path(d))

    t0 = time.perf_counter()
    failure = ""
    try:
        hypothesis_seed(seed)(prop)()
    except Exception as exc:  # a falsifying example (already shrunk by hypothesis)
        failure = _describe(exc).replace("|", "\\|").replace("\n", " ")[:600]
    return {
        "case": name,
        "examples": count,
        "failures": 1 if failure else 0,
        "seconds": f"{time.perf_counter() - t0:.1f}",
        "first failure (shrunk)": failure or "-",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=3000, help="examples per case")
    ap.add_argument("--seed", type=int, default=0, help="hypothesis seed (the run is repeatable)")
    ap.add_argument("--only", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--out", type=Path, default=RESULTS / "fuzz_readers.md")
    args = ap.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}

    rows = []
    for name, case in ROUND_TRIPS.items():
        if not only or f"round-trip {name}" in only or name in only:
            rows.append(_run(f"round trip: {name}", case.records, case.check, args.examples, args.seed))
            print(rows[-1], flush=True)
    for name, (file_name, reader) in ANY_BYTES.items():
        if not only or f"bytes {name}" in only or name in only:
            body = (lambda fn, rd: lambda data, d: check_any_bytes(rd, d / fn, data))(file_name, reader)
            rows.append(_run(f"any bytes: {name} ({file_name})", ANY_BYTES_DATA, body, args.examples, args.seed))
            print(rows[-1], flush=True)
    if not only or "inspect" in only:
        rows.append(
            _run(
                "any bytes: inspect_path (data.tsv)",
                ANY_BYTES_DATA,
                lambda data, d: check_inspect(d / "data.tsv", data),
                args.examples,
                args.seed,
            )
        )
        print(rows[-1], flush=True)

    total = sum(r["examples"] for r in rows)
    failed = [r for r in rows if r["failures"]]
    text = "\n".join(
        [
            "# Fuzzing the readers",
            "",
            f"Command: `{command_line(__file__, argv)}`",
            "",
            f"Machine: {machine()}",
            "",
            "Every reader/writer pair of `lexiconlm.io` (cases in `tests/fuzz_cases.py`, which the "
            "suite runs with 100 examples each). *Round trip*: a valid record set written and read "
            "back gives the same records, and a second write the same bytes. *Any bytes*: random "
            "bytes, text glued from format fragments (tabs, feature bundles, brackets, JSON, BOMs, "
            "CR, NUL, U+2028, decomposed accents), and such text with invalid UTF-8 inserted; the "
            'reader (both `errors="raise"` and `"collect"`) must end in records or a '
            "`DataFormatError` whose problems name the file and a line inside it, and the text "
            "of the records it returns must be Unicode (no lone surrogates).",
            "",
            md_table(
                rows,
                [
                    ("case", "case"),
                    ("examples", "examples"),
                    ("failures", "failures"),
                    ("seconds", "s"),
                    ("first failure (shrunk)", "first failure (shrunk)"),
                ],
            ),
            "",
            f"{total:,} examples in {len(rows)} cases; {len(failed)} case(s) failed. (A failing "
            "case's count includes the runs hypothesis spent shrinking the input.)",
            "",
            "## Found by earlier runs and fixed",
            "",
            md_table(
                [{"reader": r, "failure": f, "now": n} for r, f, n in FOUND_AND_FIXED],
                [("reader", "reader"), ("failure", "failure"), ("now", "now")],
            ),
            "",
            "What this does not show: only the properties above are checked (beyond Unicode text, "
            "not that the records read from arbitrary bytes are sensible), the generators reach "
            "the parsers' branches they were built for (file names are fixed per case), and a pass "
            "is evidence, not proof.",
            "",
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
