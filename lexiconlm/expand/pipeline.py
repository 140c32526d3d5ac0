"""``lexiconlm expand``: run the pipeline for one or more languages into run folders.

For each language the steps of :data:`lexiconlm.expand.steps.STEPS` run in order; each is
skipped when its record in ``<run>/steps/<name>.json`` has the key the step has now
(:mod:`lexiconlm.expand.cache`) and every file it wrote is still there unchanged (SHA-256
recorded when it finished). A step that was killed leaves ``<name>.started.json``
and no record: the next run starts it again with its work folder intact, so training
resumes from its last checkpoint. A step whose key changed (its config or an input
changed), or whose files are missing or changed (a message names each), has its work
folder cleared first; the steps after it run again too, and their records (and the
previous report's files, which describe the results being replaced) are removed when it
starts. One process at a time works in a run folder: a second one stops at once, naming
the first (:func:`lexiconlm.files.run_folder_lock`).

Example:
    >>> from lexiconlm.expand.pipeline import run_expand
    >>> results = run_expand("configs/expand/tiny.yaml", languages=["ind"])  # doctest: +SKIP
    >>> results[0].report                                                     # doctest: +SKIP
    PosixPath('runs/expand/ind-tiny/report.md')
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from lexiconlm.errors import ConfigError
from lexiconlm.expand.cache import (
    StepRecord,
    check_files,
    clear_step,
    files_signature,
    output_files,
    read_record,
    remove_record,
    snapshot,
    step_key,
    write_record,
)
from lexiconlm.expand.config import ExpandConfig, check_inputs, language_inputs, load_config
from lexiconlm.expand.steps import STEP_ORDER, STEPS, StepContext, config_part
from lexiconlm.files import atomic_write_text, run_folder_lock
from lexiconlm.languages import get_catalog

__all__ = ["LanguageRun", "default_run_dir", "parse_steps", "run_expand", "run_language"]


@dataclass
class LanguageRun:
    """The outcome for one language: its run folder, the steps run or reused, the report."""

    language: str
    run_dir: Path
    ran: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    #: steps whose recorded files were missing or changed, with one line per file
    damaged: dict[str, list[str]] = field(default_factory=dict)

    @property
    def report(self) -> Path:
        return self.run_dir / "report.md"

    @property
    def metrics(self) -> dict:
        p = self.run_dir / "metrics.json"
        return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}


def default_run_dir(language: str, cfg: ExpandConfig, root: str | os.PathLike = "runs/expand") -> Path:
    """``runs/expand/<iso639_3>-<config name>``."""
    return Path(root) / f"{get_catalog().lookup(language).iso639_3}-{cfg.name}"


def parse_steps(spec: str | Sequence[str] | None) -> list[str]:
    """``"synth,train"`` -> the named steps in pipeline order; unknown names raise ConfigError with suggestions."""
    if spec is None or spec == "" or spec == "all":
        return list(STEP_ORDER)
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    problems = []
    for n in names:
        if n not in STEPS:
            close = difflib.get_close_matches(n, STEP_ORDER, n=1)
            problems.append(
                f"--steps: unknown step {n!r}."
                + (f" Did you mean: {close[0]}?" if close else f" Steps: {', '.join(STEP_ORDER)}.")
            )
    if problems:
        raise ConfigError(problems, "--steps")
    return [s for s in STEP_ORDER if s in names]


class _Printer:
    """Progress lines per step (rich when available, plain text otherwise)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.console = None
        if enabled:
            self.console = Console(stderr=True, highlight=False, soft_wrap=True)

    def __call__(self, text: str) -> None:
        if not self.enabled:
            return
        if self.console is not None:
            self.console.print(text)
        else:  # pragma: no cover
            print(text, flush=True)


def _warn(text: str) -> None:
    """Damaged results are said on stderr even when progress is off (plain text: no wrapping)."""
    print(text, file=sys.stderr, flush=True)


def _key_for(name: str, cfg: ExpandConfig, inputs, records: Mapping[str, StepRecord]) -> str:
    step = STEPS[name]
    files = files_signature(step.files(inputs, cfg))
    deps = {d: records[d].key for d in step.depends}
    return step_key(name, step.version, config_part(cfg, step.config_keys), deps, files)


def run_language(
    cfg: ExpandConfig,
    language: str,
    *,
    out: str | os.PathLike | None = None,
    steps: Sequence[str] | None = None,
    force: bool = False,
    backends: Mapping[str, Callable] | None = None,
    progress: bool = True,
) -> LanguageRun:
    """Run (or resume) the pipeline for one language.

    Args:
        cfg: a validated configuration (:func:`lexiconlm.expand.config.load_config`).
        language: any code or name the catalog resolves.
        out: the run folder (default :func:`default_run_dir`).
        steps: the steps to run (default all); a step whose dependencies have no valid
            record is an error naming the steps to add.
        force: run the steps even when their record is current.
        backends: replacements for entries of :data:`lexiconlm.expand.steps.BACKENDS`.
        progress: print a line per step.

    Returns:
        :class:`LanguageRun`.

    Raises:
        ConfigError: the language has no lexicon, or ``steps`` leaves out a step that is needed.
        RunFolderBusyError: another process works in the run folder (the message names it).
    """
    say = _Printer(progress)
    inputs = language_inputs(cfg, language)
    iso = inputs.language.iso639_3
    run_dir = Path(out) if out is not None else default_run_dir(iso, cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    wanted = list(STEP_ORDER) if steps is None else [s for s in STEP_ORDER if s in steps]
    with run_folder_lock(run_dir, f"lexiconlm expand --lang {iso}, config {cfg.name}"):
        return _run_steps(cfg, inputs, run_dir, wanted, force=force, backends=backends, say=say, progress=progress)


def _run_steps(
    cfg: ExpandConfig,
    inputs,
    run_dir: Path,
    wanted: list[str],
    *,
    force: bool,
    backends: Mapping[str, Callable] | None,
    say: _Printer,
    progress: bool,
) -> LanguageRun:
    """The body of :func:`run_language`, run while the run folder is locked."""
    iso = inputs.language.iso639_3
    result = LanguageRun(iso, run_dir)
    records: dict[str, StepRecord] = {}
    # records of earlier runs are valid when their key matches what the key is now
    # and the files they recorded are still there, unchanged
    for name in STEP_ORDER:
        rec = read_record(run_dir, name)
        if rec is None or any(d not in records for d in STEPS[name].depends):
            continue
        if rec.key != _key_for(name, cfg, inputs, records):
            continue
        problems = check_files(run_dir, rec)
        if problems:
            result.damaged[name] = problems
            more = [f"... and {len(problems) - 5} more"] if len(problems) > 5 else []
            for line in problems[:5] + more:
                _warn(f"{name}: {line}; the step and the steps after it run again")
            continue
        records[name] = rec
    # an adapted model removed after its evaluation (adapt.keep_model: false) is only as good as
    # that evaluation: when evaluate has to run again, so does adapt
    adapt = records.get("adapt")
    if adapt is not None and adapt.outputs.get("model_removed") and "evaluate" not in records:
        for later in STEP_ORDER[STEP_ORDER.index("adapt") :]:
            records.pop(later, None)
    missing = []
    for name in wanted:
        for d in STEPS[name].depends:
            if d not in wanted and d not in records and d not in missing:
                missing.append(d)
    if missing:
        why = [f"{d}: {result.damaged[d][0]}" for d in missing if d in result.damaged]
        first = (
            f"--steps: {', '.join(wanted)} need(s) {', '.join(missing)}, which has no current "
            f"result in {run_dir}; add it to --steps"
        )
        raise ConfigError([first, *why], "--steps")
    say(f"[bold]lexiconlm expand[/bold] {inputs.language.name} ({iso}), config {cfg.name} -> {run_dir}")
    for note in inputs.notes:
        say(f"  note: {note}")
    n = len(wanted)
    for i, name in enumerate(wanted, 1):
        step = STEPS[name]
        key = _key_for(name, cfg, inputs, records)
        rec = records.get(name)
        if rec is not None and rec.key == key and not force:
            result.cached.append(name)
            result.seconds[name] = rec.seconds
            say(f"  [{i}/{n}] {name:<9} cached ({rec.seconds:.1f} s when it ran)")
            continue
        # a step killed with the same key keeps its work folder (training resumes); else start clean
        started = run_dir / "steps" / f"{name}.started.json"
        same = started.is_file() and _started_key(started) == key and not force
        if not same:
            clear_step(run_dir, name, [run_dir / w for w in step.work])
        started.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(started, json.dumps({"key": key}) + "\n")
        _retire_later(run_dir, name, records, say)
        say(f"  [{i}/{n}] {name:<9} {'resuming' if same else 'running'} ...")
        ctx = StepContext(cfg, inputs, run_dir, records, dict(backends or {}), say, progress)
        before = snapshot(run_dir)
        t0 = time.perf_counter()
        outputs = step.run(ctx)
        dt = time.perf_counter() - t0
        rec = StepRecord(name, key, outputs, dt, output_files(run_dir, before, step.work))
        write_record(run_dir, rec)
        started.unlink(missing_ok=True)
        records[name] = rec
        result.ran.append(name)
        result.seconds[name] = dt
        say(f"  [{i}/{n}] {name:<9} done in {dt:.1f} s")
    if (run_dir / "report.md").is_file():
        say(f"report: {run_dir / 'report.md'} and {run_dir / 'report.html'}")
    return result


def _retire_later(run_dir: Path, name: str, records: dict[str, StepRecord], say: _Printer) -> None:
    """The steps after ``name`` are no longer current: forget their records (on disk too), and
    remove the previous report's files, which describe the results being replaced."""
    for later in STEP_ORDER[STEP_ORDER.index(name) + 1 :]:
        records.pop(later, None)
        old = read_record(run_dir, later)
        if later == "report" and old is not None and old.files:
            for rel in old.files:
                (run_dir / rel).unlink(missing_ok=True)
            say(
                f"  the previous report ({len(old.files)} files: report.md, metrics.json ...) "
                "is removed; the report step writes a new one"
            )
        remove_record(run_dir, later)


def _started_key(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError):
        return None


def run_expand(
    config: str | os.PathLike | ExpandConfig,
    *,
    languages: Sequence[str] | None = None,
    out: str | os.PathLike | None = None,
    steps: str | Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    force: bool = False,
    backends: Mapping[str, Callable] | None = None,
    progress: bool = True,
) -> list[LanguageRun]:
    """Run the pipeline for each language (what ``lexiconlm expand`` calls).

    Args:
        config: a YAML file or a validated :class:`ExpandConfig`.
        languages: codes or names (default: the config's ``languages``).
        out: the run folder for one language; with several, the parent folder of
            ``<iso>-<config name>`` folders (default ``runs/expand``).
        steps: step names (``"synth,train"`` or a list); default all.
        overrides: ``key.path=value`` items applied to the YAML before validation.
        force: rerun steps even when cached.
        backends: replacements for :data:`lexiconlm.expand.steps.BACKENDS` entries.
        progress: print progress.

    Returns:
        One :class:`LanguageRun` per language.

    Raises:
        ConfigError: every problem of the config, the languages and ``steps``, before any work.
    """
    cfg = config if isinstance(config, ExpandConfig) else load_config(config, overrides=overrides, languages=languages)
    langs = list(languages) if languages else list(cfg.values["languages"])
    if not langs:
        raise ConfigError(
            ["no language given: pass --lang (or --langs), or list languages in the config"], str(cfg.source or "")
        )
    wanted = parse_steps(steps)
    check_inputs(cfg, langs)
    results = []
    for lang in langs:
        if out is None:
            target = None
        elif len(langs) == 1:
            target = Path(out)
        else:
            target = default_run_dir(lang, cfg, out)
        results.append(
            run_language(cfg, lang, out=target, steps=wanted, force=force, backends=backends, progress=progress)
        )
    return results
