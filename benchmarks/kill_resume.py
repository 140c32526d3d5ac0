"""Kill/resume: every resumable command, killed (SIGKILL) at random points and rerun, must finish
with the same results as a run never killed.

Usage::

    python benchmarks/kill_resume.py [--trials 5] [--seed 13] [--only expand,adapt] [DATA_DIR]

For each command (on its tiny or demo settings, below) the script

1. runs it once uninterrupted (the reference; wall time T, and W: when it locked its run
   folder, i.e. when start-up, imports and config checks were over);
2. ``--trials`` times: in a fresh folder, starts it and kills its whole process group with
   SIGKILL at a random time in [W, 0.95 T] (seeded; from the third trial on, 1 to 3 kills in
   a row, each rerun killed again when it still runs at the drawn time), then reruns it to
   completion;
3. compares each trial's final folder with the reference, file by file.

Every run works in the same folder (``runs/bench/kill_resume/<command>/run``, moved aside to
``reference`` / ``trialN`` when it ends), so paths and the signatures that hash them are equal.
Files are compared *byte for byte* (model weights, tokenizers, predictions, synthetic corpora)
or *as figures*: JSON and CSV files without the keys/columns that hold times (seconds,
tokens/s, MFU, wall time) or the resume bookkeeping (``resumed_from``, ``steps_run``); what
remains must be equal exactly.

Commands and settings:

* ``expand``: ``lexiconlm expand --lang ind --config configs/expand/tiny.yaml`` (every step:
  tiny BERT, adaptation, NLU training, evaluation, report);
* ``adapt run``: ``configs/adapt/tiny.yaml`` with ``mlm.steps=200`` (checkpoints every 25 steps);
* ``nlu run``: ``configs/nlu/tiny-cpu.yaml`` (baseline, zero-shot, translate-train, control),
  ``--no-plot`` (the plots, redrawn by every run, would take most of the time);
* ``sigmorphon run``: the neural system, preset ``tiny``, 400 steps (checkpoints every 20), on
  the 2022 ``kaz_small`` setting of the shared data (a generated 2022-style folder when the
  shared data is absent);
* ``synth batch``: 30 GATITOS lexicons of the shared data (copies of the demo lexicon under
  12 names when absent) over the English UDHR of ``resources/demo``, 2 worker processes.

Writes ``benchmarks/results/kill_resume.md`` (and ``.csv``); run folders go to
``runs/bench/kill_resume`` (deleted at the start). Exit status 1 when any trial differs.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    REPO,
    RESULTS,
    command_line,
    find_data_dir,
    load_average,
    machine,
    md_table,
    to_csv,
)

WORK = REPO / "runs" / "bench" / "kill_resume"
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONHASHSEED": "0",
}
#: keys and columns that hold times or resume bookkeeping, never compared
VOLATILE = {
    "seconds",
    "seconds_this_run",
    "train_seconds",
    "train_seconds_epochs",
    "eval_seconds",
    "wall_s",
    "tokens_per_s",
    "achieved_tflops",
    "mfu",
    "resumed_from",
    "steps_run",
    "created",
}


# --------------------------------------------------------------------------- comparing folders


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _strip(obj):
    """A JSON value without its volatile keys."""
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def json_figures(path: Path) -> str:
    """Digest of a JSON (or JSON-lines) file without its volatile keys."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        value = [_strip(json.loads(x)) for x in text.splitlines() if x.strip()]
    else:
        value = _strip(json.loads(text))
    return _sha(json.dumps(value, sort_keys=True).encode())


def table_figures(path: Path) -> str:
    """Digest of a CSV/TSV file without its volatile columns."""
    delim = "\t" if path.suffix == ".tsv" else ","
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=delim))
    if not rows:
        return _sha(b"")
    keep = [i for i, c in enumerate(rows[0]) if c not in VOLATILE]
    return _sha(json.dumps([[r[i] for i in keep if i < len(r)] for r in rows]).encode())


@dataclass
class Rule:
    """Files (a glob below the run folder) compared ``bytes``, as ``figures``, or ``auto``
    (JSON files as figures, since some hold times; every other file byte for byte)."""

    pattern: str
    how: str = "auto"


def digests(out: Path, rules: list[Rule]) -> dict[str, str]:
    """``{"<relative path> (<how>)": digest}`` of every file the rules match."""
    found: dict[str, str] = {}
    for rule in rules:
        for p in sorted(out.glob(rule.pattern)):
            if not p.is_file():
                continue
            rel = p.relative_to(out).as_posix()
            how = rule.how
            if how == "auto":
                how = "figures" if p.suffix in (".json", ".jsonl") else "bytes"
            if how == "bytes":
                found[f"{rel} (bytes)"] = _sha(p.read_bytes())
            elif p.suffix in (".json", ".jsonl"):
                found[f"{rel} (figures)"] = json_figures(p)
            else:
                found[f"{rel} (figures)"] = table_figures(p)
    return found


# --------------------------------------------------------------------------- the commands


@dataclass
class Command:
    name: str
    argv: Callable[[Path], list[str]]
    rules: list[Rule]
    state: Callable[[Path], str]  # where a kill landed, from the folder's state
    settings: str


def _expand_state(out: Path) -> str:
    steps = out / "steps"
    started = sorted(p.name.split(".")[0] for p in steps.glob("*.started.json"))
    done = [p for p in steps.glob("*.json") if not p.name.endswith(".started.json")]
    return f"in {started[0]} ({len(done)} steps done)" if started else f"{len(done)} steps done"


def _find_step(obj, depth: int = 0):
    """The first ``step`` value in a checkpoint's JSON state (any layout), or None."""
    if not isinstance(obj, dict) or depth > 3:
        return None
    if isinstance(obj.get("step"), int):
        return obj["step"]
    for v in obj.values():
        found = _find_step(v, depth + 1)
        if found is not None:
            return found
    return None


def _ckpt_state(out: Path) -> str:
    """The newest finished checkpoint below ``out`` and its step."""
    found = []
    for p in out.rglob("state.json"):
        rel = p.relative_to(out).as_posix()
        if "checkpoint" in rel and "/." not in f"/{rel}":
            try:
                step = _find_step(json.loads(p.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                step = None
            found.append((p.stat().st_mtime_ns, rel.rsplit("/", 1)[0], step))
    if not found:
        return "before the first checkpoint"
    _, where, step = max(found)
    return f"checkpoint {where}" + (f" at step {step}" if step is not None else "")


def _nlu_state(out: Path) -> str:
    done = sorted(p.parent.name for p in out.glob("*/results.json"))
    return f"{len(done)} system(s) done; newest " + _ckpt_state(out)


def _synth_state(out: Path) -> str:
    return f"{len(list(out.glob('*/*.txt')))} corpora written"


def commands(data: Path | None, work: Path) -> list[Command]:
    """The five resumable commands on their tiny settings (inputs prepared in ``work/inputs``)."""
    py = [sys.executable, "-m", "lexiconlm"]
    inputs = work / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    sig_data, sig_lang = _sigmorphon_data(data, inputs)
    sig_cfg = inputs / "sigmorphon-tiny.yaml"
    sig_cfg.write_text(
        "neural:\n  preset: tiny\n  max_steps: 400\n  eval_every: 100\n  save_every: 20\n", encoding="utf-8"
    )
    lex_dir = _synth_lexicons(data, inputs)
    n_lex = len(list(lex_dir.iterdir()))
    tables = ("nlu", "tokenizer", "mlm", "sigmorphon")
    sig = "2022/neural"
    return [
        Command(
            "expand",
            lambda o: (
                py + ["expand", "--lang", "ind", "--config", "configs/expand/tiny.yaml", "--out", str(o), "--quiet"]
            ),
            [
                Rule("metrics.json", "figures"),
                *(Rule(f"{t}.csv", "figures") for t in tables),
                Rule("data/**/*"),
                Rule("base_model/**/*"),
                Rule("adapt/metrics.json", "figures"),
                Rule("adapt/model/**/*"),
                Rule("train/model/**/*"),
            ],
            _expand_state,
            "configs/expand/tiny.yaml (all steps)",
        ),
        Command(
            "adapt run",
            lambda o: (
                py
                + [
                    "adapt",
                    "run",
                    "--config",
                    "configs/adapt/tiny.yaml",
                    "--out",
                    str(o),
                    "--device",
                    "cpu",
                    "--quiet",
                    "--set",
                    "mlm.steps=200",
                    "--set",
                    "mlm.save_every=25",
                ]
            ),
            [
                Rule("metrics.json", "figures"),
                Rule("plan.json", "figures"),
                Rule("init_loss.json", "figures"),
                Rule("model/**/*"),
                Rule("base/**/*"),
            ],
            _ckpt_state,
            "configs/adapt/tiny.yaml, mlm.steps=200, save_every=25",
        ),
        Command(
            "nlu run",
            lambda o: py + ["nlu", "run", "configs/nlu/tiny-cpu.yaml", "--out", str(o), "--device", "cpu", "--no-plot"],
            [
                Rule("results.csv", "figures"),
                Rule("summary.csv", "figures"),
                Rule("metrics.json", "figures"),
                Rule("*/results.json", "figures"),
                Rule("*/model/**/*"),
                Rule("pseudo/**/*.tsv", "bytes"),
            ],
            _nlu_state,
            "configs/nlu/tiny-cpu.yaml (4 systems), --no-plot",
        ),
        Command(
            "sigmorphon run",
            lambda o: (
                py
                + [
                    "sigmorphon",
                    "run",
                    "--edition",
                    "2022",
                    "--langs",
                    sig_lang,
                    "--system",
                    "neural",
                    "--config",
                    str(sig_cfg),
                    "--device",
                    "cpu",
                    "--data",
                    str(sig_data),
                    "--out",
                    str(o),
                    "--no-progress",
                ]
            ),
            [
                Rule(f"{sig}/settings/*/*.pred", "bytes"),
                Rule(f"{sig}/settings/*/scores.json", "figures"),
                Rule(f"{sig}/results.csv", "figures"),
                Rule(f"{sig}/models/*/result.json", "figures"),
                Rule(f"{sig}/models/*/best.pt", "bytes"),
            ],
            _ckpt_state,
            f"neural, preset tiny, 400 steps, 2022 {sig_lang}",
        ),
        Command(
            "synth batch",
            lambda o: (
                py
                + [
                    "synth",
                    "batch",
                    "-d",
                    str(lex_dir),
                    "--source",
                    "resources/demo/text/eng_udhr.tsv",
                    "--out",
                    str(o),
                    "--workers",
                    "2",
                    "--no-progress",
                    "--show",
                    "0",
                ]
            ),
            [
                Rule("*/*.txt", "bytes"),
                Rule("*/*.kept", "bytes"),
                Rule("*/*.json", "figures"),
                Rule("summary.tsv", "figures"),
                Rule("per_language.csv", "figures"),
                Rule("metrics.json", "figures"),
            ],
            _synth_state,
            f"{n_lex} lexicons, English UDHR source, 2 workers",
        ),
    ]


def _sigmorphon_data(data: Path | None, inputs: Path) -> tuple[Path, str]:
    if data is not None and (data / "sigmorphon" / "2022_part1" / "kaz_small.train").is_file():
        return data / "sigmorphon", "kaz_small"
    d = inputs / "sigmorphon" / "2022_part1"
    d.mkdir(parents=True, exist_ok=True)
    stems = [a + b for a in ("ku", "che", "so", "im", "la", "pi", "ru", "te") for b in ("la", "za", "ma", "ba")]
    rows = [(s, s + suf, f"V;{f}") for s in stems for suf, f in (("ni", "PST"), ("ka", "FUT"), ("ta", "PRS"))]

    def write(name: str, lines: list[str]) -> None:
        (d / name).write_text("".join(x + "\n" for x in lines), encoding="utf-8")

    write("swh_small.train", ["\t".join(r) for r in rows[:72]])
    write("swh.dev", ["\t".join(r) for r in rows[72:84]])
    write("swh.test", [f"{r[0]}\t{r[2]}" for r in rows[84:]])
    return inputs / "sigmorphon", "swh_small"


def _synth_lexicons(data: Path | None, inputs: Path) -> Path:
    d = inputs / "lexicons"
    if d.is_dir():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    gat = data / "lexicons" / "gatitos" if data is not None else None
    if gat is not None and gat.is_dir():
        for p in sorted(gat.glob("en_*.tsv"))[:30]:
            shutil.copy(p, d / p.name)
    else:
        demo = (REPO / "resources" / "demo" / "lexicons" / "indonesian.txt").read_text(encoding="utf-8")
        for name in (
            "indonesian",
            "javanese",
            "sundanese",
            "balinese",
            "malay",
            "acehnese",
            "buginese",
            "madurese",
            "minangkabau",
            "tagalog",
            "cebuano",
            "ilocano",
        ):
            (d / f"{name}.txt").write_text(demo, encoding="utf-8")
    return d


# --------------------------------------------------------------------------- running


def start(argv: list[str], out: Path) -> subprocess.Popen:
    """Start the command in its own process group; its output goes to ``<out>.log`` beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{out.name}.log", "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        return subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def run_to_end(argv: list[str], out: Path, timeout: float = 1800) -> tuple[float, float]:
    """Run to completion; (wall time, time until the command locked its run folder)."""
    t0 = time.perf_counter()
    proc = start(argv, out)
    first = None
    while proc.poll() is None:
        if first is None and out.exists() and next(out.rglob(".lock"), None) is not None:
            first = time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            proc.kill()
        time.sleep(0.02)
    if proc.returncode != 0:
        log = (out.parent / f"{out.name}.log").read_text(encoding="utf-8", errors="replace")
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{log[-3000:]}")
    return time.perf_counter() - t0, first if first is not None else 0.0


def run_and_kill(argv: list[str], after: float, out: Path, state) -> tuple[bool, str, float]:
    """Start, SIGKILL the process group ``after`` seconds later; (killed before it ended, state,
    seconds it ran)."""
    t0 = time.perf_counter()
    proc = start(argv, out)
    try:
        proc.wait(timeout=after)
        return False, "finished before the kill", time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        pass
    landed = state(out)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True, landed, after


def bench(cmd: Command, trials: int, rng: random.Random, work: Path) -> dict:
    """The reference run and ``trials`` killed-and-resumed runs of one command, compared."""
    home = work / cmd.name.replace(" ", "_")
    run = home / "run"
    t_ref, t_work = run_to_end(cmd.argv(run), run)
    ref = home / "reference"
    os.replace(run, ref)
    want = digests(ref, cmd.rules)
    print(
        f"{cmd.name}: reference in {t_ref:.1f} s (folder locked at {t_work:.1f} s), {len(want)} files compared",
        flush=True,
    )
    kills, diffs, landed, resumed_times = 0, [], [], []
    for t in range(trials):
        n_kills = 1 if t < 2 else rng.randint(1, 3)
        t0 = time.perf_counter()
        done_kills, limit, retries = 0, t_ref, 0
        while done_kills < n_kills:
            after = rng.uniform(t_work, 0.95 * limit)
            killed, where, took = run_and_kill(cmd.argv(run), after, run, cmd.state)
            if not killed and done_kills == 0 and retries < 3:
                # faster than the reference (a less loaded machine): start the trial again, with
                # the kill drawn within this run's time
                shutil.rmtree(run)
                limit, retries = took, retries + 1
                continue
            if not killed:
                break  # a resumed run finished before the drawn time: nothing left to kill
            done_kills += 1
            landed.append(f"{after:.1f} s: {where}")
        run_to_end(cmd.argv(run), run)
        resumed_times.append(time.perf_counter() - t0)
        kills += done_kills
        final = home / f"trial{t + 1}"
        os.replace(run, final)
        got = digests(final, cmd.rules)
        bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
        diffs.append(bad)
        where = "; ".join(landed[len(landed) - done_kills :]) if done_kills else "-"
        print(
            f"  trial {t + 1}: {done_kills} kill(s) ({where}), "
            + ("identical" if not bad else f"DIFFERENT: {', '.join(bad[:6])}"),
            flush=True,
        )
    return {
        "command": cmd.name,
        "settings": cmd.settings,
        "trials": trials,
        "kills": kills,
        "identical": sum(1 for d in diffs if not d),
        "different_files": sorted({f for d in diffs for f in d}),
        "n_files": len(want),
        "files": _describe(want),
        "reference_s": round(t_ref, 1),
        "work_from_s": round(t_work, 1),
        "killed_and_resumed_s": round(sum(resumed_times) / len(resumed_times), 1),
        "kill_points": landed,
    }


def _describe(want: dict[str, str]) -> str:
    """The compared files, folded by folder: ``train/** (bytes, 6)``."""
    groups: dict[tuple[str, str], int] = {}
    for k in want:
        rel, how = k.rsplit(" (", 1)
        parts = rel.split("/")
        name = rel if len(parts) == 1 else parts[0] + ("/**" if len(parts) > 2 else "/*")
        groups[(name, how.rstrip(")"))] = groups.get((name, how.rstrip(")")), 0) + 1
    return ", ".join(f"`{g}` ({how}{', ' + str(n) if n > 1 else ''})" for (g, how), n in groups.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir", nargs="?", default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--only", default="", help="comma-separated first words of the commands (expand, adapt, nlu, sigmorphon, synth)"
    )
    args = ap.parse_args(argv)
    data = find_data_dir(args.data_dir)
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    rng = random.Random(args.seed)
    wanted = [x.strip() for x in args.only.split(",") if x.strip()]
    rows = []
    t0 = time.perf_counter()
    load0 = load_average()
    for cmd in commands(data, WORK):
        if wanted and cmd.name.split()[0] not in wanted:
            continue
        rows.append(bench(cmd, args.trials, rng, WORK))
    write_report(rows, args, argv, data, time.perf_counter() - t0, load0)
    return 0 if all(r["identical"] == r["trials"] for r in rows) else 1


def write_report(rows, args, argv, data, total: float, load0: float) -> None:
    """``benchmarks/results/kill_resume.md`` and ``.csv``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for r in rows:
        r["identical_col"] = f"{r['identical']}/{r['trials']}"
        if r["identical"] != r["trials"]:
            r["identical_col"] += f" (differ: {', '.join(r['different_files'][:4])})"
    table = md_table(
        rows,
        [
            ("command", "command"),
            ("settings", "settings"),
            ("trials", "trials"),
            ("kills", "kills (SIGKILL)"),
            ("identical_col", "identical to the uninterrupted run"),
            ("reference_s", "uninterrupted (s)"),
            ("work_from_s", "folder locked at (s)"),
            ("killed_and_resumed_s", "killed + resumed, mean per trial (s)"),
        ],
    )
    files = md_table(rows, [("command", "command"), ("n_files", "files"), ("files", "compared")])
    points = "\n".join(f"- **{r['command']}**: " + "; ".join(r["kill_points"]) for r in rows)
    text = f"""# Kill/resume of the resumable commands

Command: `{command_line(__file__, argv)}`
Machine: {machine()}; load average {load0:.1f} at the start (other jobs shared the CPUs: the
times are wall-clock times on a loaded machine). Shared data: {data or "absent (generated inputs)"}.
Total time: {total / 60:.1f} min.

Each command ran once uninterrupted; then in each trial it was started in a fresh folder and
its process group killed with SIGKILL at a random time (seed {args.seed}) between the moment it
locked its run folder in the uninterrupted run (start-up, imports and config checks over) and
95 % of that run's wall time; from trial 3 on 1 to 3 times in a row (each rerun killed again
when it still ran at the drawn time); then rerun to completion. The final folder is compared
with the uninterrupted one.

{table}

## What is compared

*bytes*: byte-identical files (model weights, tokenizers, predictions, synthetic corpora,
pseudo-labelled data). *figures*: JSON/CSV files compared exactly after removing the keys and
columns that hold times or say how the run went ({", ".join(sorted(VOLATILE))}); every
metric, count, loss, path and signature is kept. Every run works in the same folder (moved
aside when it ends), so paths, and signatures that hash them, are comparable.

{files}

## Where the kills landed

Seconds after the start, and the state of the folder just before the kill.

{points}

## What this does not show

Kills at a random wall-clock time mostly land in the phases that take the longest (model
loading and training); kills inside a write are covered by the atomic writes and by the
per-command tests in `tests/test_kill_resume.py` and `tests/test_expand_resume.py`. All runs
are on CPU with one thread; CUDA kernels that are not deterministic would need the figures
compared with a tolerance.
"""
    (RESULTS / "kill_resume.md").write_text(text, encoding="utf-8")
    cols = [
        "command",
        "settings",
        "trials",
        "kills",
        "identical",
        "different_files",
        "n_files",
        "reference_s",
        "work_from_s",
        "killed_and_resumed_s",
    ]
    flat = [{**r, "different_files": " ".join(r["different_files"])} for r in rows]
    (RESULTS / "kill_resume.csv").write_text(to_csv(flat, cols), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
