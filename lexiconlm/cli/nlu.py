"""``lexiconlm nlu``: train and evaluate joint intent + slot models on MASSIVE-style data, run the
zero-shot / translate-train / control experiments and plot the results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

nlu_app = typer.Typer(
    help="Multilingual NLU (MASSIVE): joint intent + slot models, the char n-gram baseline, experiments, plots.",
    no_args_is_help=True,
)


def _print_table(per_locale: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table("locale", "intent acc", "slot F1", "exact match", "n")
    for loc, r in sorted(per_locale.items()):
        t.add_row(
            loc,
            *(f"{r[k]:.1f}" if r[k] == r[k] else "-" for k in ("intent_accuracy", "slot_f1", "exact_match")),
            str(r["n"]),
        )
    Console(stderr=False).print(t)


def register(app: typer.Typer) -> None:
    """Add ``lexiconlm nlu train|eval|run|plot``."""

    @nlu_app.command("train")
    def train_cmd(
        config: Path = typer.Argument(
            ..., help="YAML config (its `train:` section, or the whole file), e.g. configs/nlu/tiny-cpu.yaml."
        ),
        train: list[Path] = typer.Option(
            ..., "--train", "-t", help="Training file(s) (MASSIVE TSV/JSON lines); repeat for several."
        ),
        dev: Optional[Path] = typer.Option(
            None, "--dev", help="Selection file (en-US dev); without it the last epoch is kept."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Run folder (checkpoint, history, model/)."),
        device: str = typer.Option("auto", help="auto, cpu or cuda."),
        resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from the run folder's checkpoint."),
    ) -> None:
        """Train a joint intent + slot model; writes OUT/model (encoder + tokenizer + heads + labels)."""
        from lexiconlm.io.massive import read_massive
        from lexiconlm.nlu.train import load_train_config, resolve_device, train_joint

        cfg = load_train_config(config)
        typer.echo(f"device: {resolve_device(device)}", err=True)
        model = train_joint(
            cfg,
            train=[read_massive(p) for p in train],
            dev=read_massive(dev) if dev else None,
            out_dir=out,
            device=device,
            resume=resume,
        )
        typer.echo(str(model))

    @nlu_app.command("eval")
    def eval_cmd(
        model_dir: Path = typer.Argument(..., help="A trained model folder (…/model)."),
        tests: list[Path] = typer.Argument(..., help="Test files or folders (every .tsv/.jsonl in a folder)."),
        out: Optional[Path] = typer.Option(
            None, "--out", "-o", help="Write results CSV here (locale, system, intent_accuracy, ...)."
        ),
        system: str = typer.Option("model", help="The `system` column of the CSV."),
        predictions: Optional[Path] = typer.Option(None, help="Also write predictions per locale into this folder."),
        device: str = typer.Option("auto", help="auto, cpu or cuda."),
        batch_size: int = typer.Option(128, min=1, help="Utterances per forward pass."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """Score a model on MASSIVE files: intent accuracy, slot F1, exact match per locale (+ means)."""
        from lexiconlm.files import atomic_write_text
        from lexiconlm.nlu.evaluate import evaluate, read_test_dir
        from lexiconlm.nlu.experiments import RESULT_COLUMNS, _csv, results_rows
        from lexiconlm.nlu.metrics import aggregate

        datasets = [ds for t in tests for ds in read_test_dir(t)]
        res = evaluate(model_dir, datasets, device=device, batch_size=batch_size, predictions_dir=predictions)
        if out:
            atomic_write_text(out, _csv(results_rows(system, res), RESULT_COLUMNS))
        if as_json:
            typer.echo(json.dumps({"per_locale": res, "aggregate": aggregate(res)}, indent=2))
        else:
            _print_table(res)
            m = aggregate(res)["mean"]["all"]
            if m["n_locales"]:
                typer.echo(
                    f"mean over {m['n_locales']} locales (en-US excluded): intent {m['intent_accuracy']:.1f}, "
                    f"slot F1 {m['slot_f1']:.1f}, exact match {m['exact_match']:.1f}"
                )

    @nlu_app.command("run")
    def run_cmd(
        config: Path = typer.Argument(..., help="Experiment YAML, e.g. configs/nlu/massive-e5-small.yaml."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default: the config's `out:`)."),
        systems: Optional[str] = typer.Option(None, help="Comma-separated systems to run (default: the config's)."),
        device: str = typer.Option("auto", help="auto, cpu or cuda."),
        plot: bool = typer.Option(True, "--plot/--no-plot", help="Also write the per-locale bar charts."),
    ) -> None:
        """Run baseline / zero-shot / translate-train / control over every test file; writes results.csv and summary.csv."""  # noqa: E501
        from lexiconlm.nlu.experiments import run_experiments
        from lexiconlm.nlu.train import resolve_device

        typer.echo(f"device: {resolve_device(device)}", err=True)
        path = run_experiments(
            config,
            out_dir=out,
            systems=systems.split(",") if systems else None,
            device=device,
            log=lambda m: typer.echo(m, err=True),
        )
        typer.echo(str(path))
        if plot:
            _plot(path, path.parent / "plots")

    @nlu_app.command("plot")
    def plot_cmd(
        results: Path = typer.Argument(
            ..., help="A results.csv (locale, system, intent_accuracy, slot_f1, exact_match, ...)."
        ),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Folder for <metric>.html/.vl.json (+ .svg/.png with vl-convert)."
        ),
    ) -> None:
        """Per-locale grouped bar charts of each metric."""
        _plot(results, out)

    app.add_typer(nlu_app, name="nlu")


def _plot(results: Path, out: Path) -> None:
    from lexiconlm.nlu.plots import plot_results

    for metric in ("intent_accuracy", "slot_f1", "exact_match"):
        r = plot_results(results, out / metric, metric=metric)
        for m in r["missing"]:
            typer.echo(f"{metric}: not written: {m}", err=True)
        typer.echo(f"{metric}: {', '.join(str(r[k]) for k in ('html', 'json', 'svg', 'png') if r[k])}", err=True)
