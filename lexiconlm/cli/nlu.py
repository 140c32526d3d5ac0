"""``lexiconlm nlu``: train and evaluate joint intent + slot models on MASSIVE-style data, run the
zero-shot / translate-train / control experiments, plot the results, and parse new utterances."""

from __future__ import annotations

import json
import sys
from enum import Enum
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


class Which(str, Enum):
    """Which model of an expand run folder ``nlu predict`` uses."""

    expanded = "expanded"
    base = "base"
    both = "both"


def _read_utterances(utterances: list[str], file: Optional[str]) -> list[str]:
    """The utterances to parse: the arguments, the lines of ``--file`` (``-``: stdin), or piped stdin."""
    if file is not None:
        if utterances:
            raise typer.BadParameter("give utterances as arguments or with --file, not both", param_hint="--file")
        if file == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(file).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise typer.BadParameter(f"cannot read {file}: {exc}", param_hint="--file") from None
        where = "stdin" if file == "-" else file
    elif utterances:
        return list(utterances)
    elif not sys.stdin.isatty():
        text, where = sys.stdin.read(), "stdin"
    else:
        raise typer.BadParameter(
            "no utterance: give them as arguments, with --file FILE (one per line), or on stdin",
            param_hint="UTTERANCE",
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise typer.BadParameter(f"{where} holds no utterance (one per line expected)", param_hint="UTTERANCE")
    return lines


def _readable(parse) -> str:
    """``intent (0.93)  [date: tomorrow] [place_name: paris]``."""
    slots = " ".join(f"[{s.slot}: {s.text}]" for s in parse.slots)
    return f"{parse.intent} ({parse.intent_score:.2f})" + (f"  {slots}" if slots else "")


def register(app: typer.Typer) -> None:
    """Add ``lexiconlm nlu train|eval|run|plot|predict``."""

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
        lexicons: list[Path] = typer.Option(
            [],
            "--lexicons",
            help="Lexicon folder(s): also evaluate with translate-test, each locale's lexicons (merged) read "
            "backwards into English and both readings averaged (rows SYSTEM+translate-test).",
        ),
        english: Optional[Path] = typer.Option(
            None, help="With --lexicons: English MASSIVE utterances (e.g. en-US train) whose word counts pick senses."
        ),
        weight: float = typer.Option(0.6, min=0.0, max=1.0, help="With --lexicons: the original's intent share."),
        slot_weight: float = typer.Option(0.7, min=0.0, max=1.0, help="With --lexicons: the original's tag share."),
    ) -> None:
        """Score a model on MASSIVE files: intent accuracy, slot F1, exact match per locale (+ means)."""
        from lexiconlm.files import atomic_write_text
        from lexiconlm.nlu.evaluate import evaluate, read_test_dir
        from lexiconlm.nlu.experiments import RESULT_COLUMNS, _csv, results_rows
        from lexiconlm.nlu.metrics import aggregate

        datasets = [ds for t in tests for ds in read_test_dir(t)]
        if lexicons and predictions is not None:
            raise typer.BadParameter("--predictions writes the plain model's predictions: run it without --lexicons")
        results = {}
        if lexicons:
            from lexiconlm.io.massive import read_massive
            from lexiconlm.nlu.experiments import matched_lexicons, reverse_translators
            from lexiconlm.nlu.translate_test import evaluate_translate_test

            missing = [str(d) for d in lexicons if not d.is_dir()]
            if missing:
                raise typer.BadParameter(f"no such lexicon folder: {', '.join(missing)}", param_hint="--lexicons")
            texts = [u.text for u in read_massive(english)] if english else []
            lex = matched_lexicons([ds.locale for ds in datasets], list(lexicons), which="all")
            readers = reverse_translators(lex, texts)
            plain, both = evaluate_translate_test(
                model_dir,
                datasets,
                readers,
                weight=weight,
                slot_weight=slot_weight,
                device=device,
                batch_size=batch_size,
            )
            results = {system: plain, f"{system}+translate-test": both}
        else:
            results = {
                system: evaluate(model_dir, datasets, device=device, batch_size=batch_size, predictions_dir=predictions)
            }
        if out:
            rows = [r for name, res in results.items() for r in results_rows(name, res)]
            atomic_write_text(out, _csv(rows, RESULT_COLUMNS))
        if as_json:
            payload = {name: {"per_locale": res, "aggregate": aggregate(res)} for name, res in results.items()}
            typer.echo(json.dumps(payload[system] if len(payload) == 1 else payload, indent=2))
        else:
            for name, res in results.items():
                if len(results) > 1:
                    typer.echo(f"== {name}")
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

    @nlu_app.command("predict")
    def predict_cmd(
        model: Path = typer.Argument(
            ..., help="An `lexiconlm expand` run folder, or a trained NLU model folder (…/model)."
        ),
        utterances: Optional[list[str]] = typer.Argument(
            None, help="Utterances to parse (else --file, else stdin). Words are split at spaces."
        ),
        file: Optional[str] = typer.Option(
            None, "--file", "-f", help="Read utterances from this file, one per line (`-`: stdin)."
        ),
        which: Which = typer.Option(
            Which.expanded,
            "--which",
            help="In a run folder: the expanded model, the source-only base model, or both side by side.",
        ),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per utterance and line."),
        device: str = typer.Option("cpu", help="cpu, cuda or auto."),
        batch_size: int = typer.Option(32, min=1, help="Utterances per forward pass."),
        translate_test: bool = typer.Option(
            True,
            "--translate-test/--as-written",
            help="The expanded model of a run evaluated with translate-test also reads each utterance in "
            "English through the run's lexicon, as its figures were measured; --as-written: the model alone.",
        ),
    ) -> None:
        """Intent (with its probability) and slots of each utterance, one line each.

        Example: lexiconlm nlu predict runs/expand/ind-demo "bangunkan aku jam tujuh besok" --which both
        """
        from lexiconlm.nlu.predict import load_nlu, resolve_nlu_model

        names = ["expanded", "base"] if which is Which.both else [which.value]
        for n in names:  # a wrong folder fails before any input is read
            resolve_nlu_model(model, n)
        texts = _read_utterances(list(utterances or []), file)
        parses = {
            n: load_nlu(model, which=n, device=device, translate_test=translate_test).predict(
                texts, batch_size=batch_size
            )
            for n in names
        }
        if as_json:
            for i, text in enumerate(texts):
                row = parses[names[0]][i].as_dict() if len(names) == 1 else {"text": text}
                if len(names) > 1:
                    row.update({n: parses[n][i].as_dict() for n in names})
                typer.echo(json.dumps(row, ensure_ascii=False))
        elif len(names) == 1:
            for p in parses[names[0]]:
                typer.echo(_readable(p))
        else:
            left = [_readable(p) for p in parses["expanded"]]
            width = max(map(len, left))
            for a, b in zip(left, parses["base"]):
                typer.echo(f"expanded: {a:<{width}}  |  base: {_readable(b)}")

    app.add_typer(nlu_app, name="nlu")


def _plot(results: Path, out: Path) -> None:
    from lexiconlm.nlu.plots import plot_results

    for metric in ("intent_accuracy", "slot_f1", "exact_match"):
        r = plot_results(results, out / metric, metric=metric)
        for m in r["missing"]:
            typer.echo(f"{metric}: not written: {m}", err=True)
        typer.echo(f"{metric}: {', '.join(str(r[k]) for k in ('html', 'json', 'svg', 'png') if r[k])}", err=True)
