"""Helpers shared by the benchmark scripts: the repository and shared-data locations, the
machine description, the command line as written in the reports, CSV and Markdown tables.

The scripts run as ``python benchmarks/<name>.py`` from the repository root; each puts this
folder and the repository root on ``sys.path`` before importing from here.
"""

from __future__ import annotations

import csv
import io
import os
import platform
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def shared_data_dir() -> Path:
    """``$LEXICONLM_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    env = os.environ.get("LEXICONLM_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def find_data_dir(arg: str | None) -> Path | None:
    """The first existing folder of ``arg``, ``$LEXICONLM_SHARED_DATA`` and ``../shared/data``."""
    for c in (
        ([Path(arg)] if arg else [])
        + ([Path(os.environ["LEXICONLM_SHARED_DATA"])] if os.environ.get("LEXICONLM_SHARED_DATA") else [])
        + [REPO.parent / "shared" / "data"]
    ):
        if c.is_dir():
            return c
    return None


def cpu_model(default: str = "unknown") -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or default


def machine(*extra: str) -> str:
    """``N CPUs (nproc), <cpu>, Python X.Y.Z, <extra>..., <system>``."""
    return ", ".join(
        [
            f"{os.cpu_count()} CPUs (nproc)",
            cpu_model(),
            f"Python {platform.python_version()}",
            *extra,
            platform.system(),
        ]
    )


def load_average() -> float:
    """The 1-minute load average, NaN where the system does not give it."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def command_line(script: str, argv: list[str] | None, start: str | Path = REPO) -> str:
    """``python <script relative to start> <arguments>``, quoted for a shell; ``argv`` None: ``sys.argv[1:]``."""
    args = argv if argv is not None else sys.argv[1:]
    return "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(script, start), *args])


def to_csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in columns})
    return buf.getvalue()


def md_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    head = "| " + " | ".join(title for _, title in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(str(r.get(k, "")) for k, _ in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])


def load_nlu_config_or_skip(path: str | Path) -> dict | None:
    """An NLU experiment config (lexiconlm.nlu.experiments.load_experiment_config), or None after
    printing why, when the data it names is not on this machine (the benchmark then exits 0)."""
    from lexiconlm.errors import ConfigError
    from lexiconlm.nlu.experiments import load_experiment_config

    try:
        return load_experiment_config(path)
    except ConfigError as exc:
        if "no such file" in str(exc):
            print(f"skipped: {exc}")
            return None
        raise
