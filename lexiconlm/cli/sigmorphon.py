"""``lexiconlm sigmorphon``: score prediction files, run the affix baseline and the neural inflector,
run whole editions (train, predict, score, tabulate) and predict covered test files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lexiconlm.cli._options import output_file

sigmorphon_app = typer.Typer(
    help="SIGMORPHON inflection: official metrics, the affix baseline, the neural inflector and whole-edition runs.",
    no_args_is_help=True,
)


def score(
    gold: Path,
    pred: Path,
    *,
    train: Path | None = None,
    edition: str | None = None,
    duplicates: str = "rows",
    warnings: list[str] | None = None,
) -> dict:
    """Score one prediction file against a gold file with the official definitions.

    Args:
        gold: the gold file (with forms).
        pred: the prediction file, in the same edition's columns.
        train: a training file: adds the 2022 categories.
        edition: the files' edition (default: detected).
        duplicates: ``"rows"`` or ``"collapse"`` (see :mod:`lexiconlm.inflection.metrics`).
        warnings: a list that gets what makes the score suspect: no prediction matches a
            gold (lemma, features) pair (:func:`~lexiconlm.inflection.metrics.match_warnings`),
            or the two files name different languages.

    Returns:
        A dict with ``all`` (and, given ``train``, the 2022 categories ``both``,
        ``lemma``, ``feats``, ``unseen``), each ``{accuracy, levenshtein, n, n_correct,
        n_missing, n_extra}``.

    Raises:
        DataFormatError: a file cannot be read (every bad line listed), or the gold file
            is a covered test file without forms.
    """
    from lexiconlm.errors import DataFormatError
    from lexiconlm.inflection.metrics import evaluate, evaluate_2022, match_warnings
    from lexiconlm.io.sigmorphon import code_in_name, read_predictions, read_sigmorphon

    g = read_sigmorphon(gold, edition=edition)
    if g.covered:
        raise DataFormatError.single(
            str(gold),
            None,
            "a covered test file has no gold forms to score against",
            "give the gold file (lemma, form and features)",
        )
    p = read_predictions(pred, edition=edition or g.edition or None)
    if train is not None:
        t = read_sigmorphon(train, edition=edition or g.edition or None)
        scores = evaluate_2022(g.entries, p.entries, t.entries, duplicates=duplicates)  # type: ignore[arg-type]
    else:
        scores = {"all": evaluate(g.entries, p.entries, duplicates=duplicates)}  # type: ignore[arg-type]
    if warnings is not None:
        gl, pl = g.language.iso639_3, p.language.iso639_3
        if gl and pl and gl != pl and code_in_name(gold) and code_in_name(pred):
            warnings.append(
                f"the gold file {gold} is {g.language.name or gl} ({gl}) but the predictions "
                f"{pred} are {p.language.name or pl} ({pl}), going by the file names"
            )
        warnings.extend(match_warnings(scores["all"]))
    return {
        k: {
            "accuracy": round(s.accuracy, 3),
            "levenshtein": round(s.levenshtein, 4),
            "n": s.n,
            "n_correct": s.n_correct,
            "n_missing": s.n_missing,
            "n_extra": s.n_extra,
        }
        for k, s in scores.items()
    }


def affix_predict(
    train: Path, inputs: Path, out: Path, *, edition: str | None = None, variant: str | None = None
) -> Path:
    """Fit the affix baseline on ``train`` and write predictions for every line of ``inputs``
    (a dev, gold or covered test file) in the edition's three-column format, in input order.
    Without ``variant``, the variant of the edition's official script
    (:func:`~lexiconlm.inflection.affix.variant_for_edition`: 2023 counts both strings' pads)."""
    from lexiconlm.inflection.affix import AffixBaseline, variant_for_edition
    from lexiconlm.io.sigmorphon import read_sigmorphon, write_sigmorphon
    from lexiconlm.types import InflectionEntry

    t = read_sigmorphon(train, edition=edition)
    src = read_sigmorphon(inputs, edition=edition or t.edition or None)
    model = AffixBaseline(variant or variant_for_edition(src.edition or t.edition)).fit(t.entries)
    forms = model.predict(src.entries)
    preds = [InflectionEntry(e.lemma, f, e.features) for e, f in zip(src.entries, forms)]
    return write_sigmorphon(preds, out, edition=src.edition or t.edition)


def register(app: typer.Typer) -> None:
    @sigmorphon_app.command("score")
    def score_cmd(
        gold: Path = typer.Option(
            ..., "--gold", "-g", help="Gold file (lemma, form, features in the edition's order)."
        ),
        pred: Path = typer.Option(..., "--pred", "-p", help="Prediction file in the same format."),
        train: Path | None = typer.Option(
            None, "--train", "-t", help="Training file: adds the 2022 breakdown (both / lemma / feats / unseen)."
        ),
        edition: str | None = typer.Option(None, help="2017, 2020, 2021, 2022 or 2023 (default: detected)."),
        duplicates: str = typer.Option(
            "rows", help="Gold rows sharing (lemma, features): rows (each scored) or collapse."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        strict: bool = typer.Option(
            False,
            "--strict",
            help="Exit with status 1 when the score is suspect (a warning: "
            "e.g. no prediction matches a gold (lemma, features) pair, or the files are of "
            "different languages).",
        ),
    ) -> None:
        """Exact-match accuracy and mean Levenshtein distance of a prediction file.

        Predictions are matched to gold by (lemma, features) as the official scripts do; a missing
        prediction counts as the empty string; both sides are NFC-normalised. A warning says when
        no prediction (or under half) matches a gold pair; --strict makes that exit 1.

        Examples:

          lexiconlm sigmorphon score -g ../shared/data/sigmorphon/2021_task0/ail.test.gold -p ../shared/data/sigmorphon/2021_task0/baseline_predictions/ail.wuetal-transformer-augment.test.pred

          lexiconlm sigmorphon score -g hun.dev -p hun.dev.pred -t hun_small.train --edition 2022
        """  # noqa: E501
        if duplicates not in ("rows", "collapse"):
            raise typer.BadParameter("rows or collapse", param_hint="--duplicates")
        problems: list[str] = []
        result = score(gold, pred, train=train, edition=edition, duplicates=duplicates, warnings=problems)
        for w in problems:
            typer.secho(f"warning: {w}", err=True, fg=typer.colors.YELLOW)
        if as_json:
            typer.echo(json.dumps(result))
        else:
            for k, s in result.items():
                typer.echo(
                    f"{k:7s} accuracy {s['accuracy']:7.3f}  levenshtein {s['levenshtein']:.4f}  "
                    f"n {s['n']}  missing {s['n_missing']}  extra {s['n_extra']}"
                )
        if strict and problems:
            typer.secho(f"--strict: {len(problems)} warning(s); exit status 1", err=True, fg=typer.colors.RED)
            raise typer.Exit(1)

    @sigmorphon_app.command("affix")
    def affix_cmd(
        train: Path = typer.Option(..., "--train", "-t", help="Training file."),
        inputs: Path = typer.Option(..., "--input", "-i", help="File to inflect: dev, gold or covered test."),
        out: Path = typer.Option(
            ..., "--out", "-o", callback=output_file, help="Prediction file to write (official format, input order)."
        ),
        edition: str | None = typer.Option(None, help="2017, 2020, 2021, 2022 or 2023 (default: detected)."),
        variant: str | None = typer.Option(
            None,
            help=(
                "Affix variant, e.g. sigmorphon.v1 or sigmorphon-float.v1 "
                "(default: the edition's: sigmorphon2023.v1 for 2023, else sigmorphon.v1)."
            ),
        ),
    ) -> None:
        """Predict with the prefix/suffix-rule (non-neural) baseline.

        Examples:

          lexiconlm sigmorphon affix -t ../shared/data/sigmorphon/2022_part1/hun_small.train -i ../shared/data/sigmorphon/2022_part1/hun.test -o runs/sigmorphon/hun_small.pred
        """  # noqa: E501
        path = affix_predict(train, inputs, out, edition=edition, variant=variant)
        typer.echo(f"wrote {path}")

    @sigmorphon_app.command("run")
    def run_cmd(
        edition: str = typer.Option(..., "--edition", "-e", help="2020, 2021, 2022 or 2023."),
        langs: str = typer.Option(
            "all", "--langs", "-l", help="all, or comma-separated codes / settings (hun,ang_small)."
        ),
        system: str = typer.Option(
            "affix",
            "--system",
            "-s",
            help=(
                "affix (prefix/suffix rules), neural (transformer), transducer (hard-attention edit actions) "
                "or auto (per setting the best on dev among affix, transducer and, on a GPU, neural)."
            ),
        ),
        device: str = typer.Option(
            "auto", "--device", help="auto, cpu, cuda or cuda:N (neural, transducer; bf16 autocast on CUDA)."
        ),
        data: Path | None = typer.Option(
            None, "--data", help="The sigmorphon data folder (default: ../shared/data/sigmorphon)."
        ),
        out: Path = typer.Option(Path("runs/sigmorphon"), "--out", "-o", help="Run folder root."),
        config: Path | None = typer.Option(
            None, "--config", "-c", help="Neural or transducer config YAML (configs/sigmorphon/*.yaml)."
        ),
        variant: str | None = typer.Option(
            None, help="Affix variant (default: the edition's, sigmorphon2023.v1 for 2023, else sigmorphon.v1)."
        ),
        group: str = typer.Option(
            "auto", help="Neural: auto (2022: one multilingual model per size), all, size or language."
        ),
        threads: int | None = typer.Option(
            None, min=1, help="CPU threads for torch (default: torch's choice; 1 per worker with several workers)."
        ),
        workers: int | None = typer.Option(
            None, min=1, help="Transducer/auto: settings trained at once, one process each (default: the CPUs)."
        ),
        dest: Path | None = typer.Option(
            None, "--dest", help="Also copy each setting's test predictions to DEST/<setting>.pred (+ selection.csv)."
        ),
        time_budget: float | None = typer.Option(
            None,
            min=0.0,
            help="Neural: minutes of training per model (resumed parts count); then the best dev weights are used.",
        ),
        resume: bool = typer.Option(True, "--resume/--no-resume", help="Skip finished settings, resume checkpoints."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
    ) -> None:
        """Train, predict (official format), score and tabulate every setting of an edition.

        Writes OUT/<edition>/<system>/settings/<setting>/{dev.pred,test.pred,scores.json,model.json}
        and OUT/<edition>/<system>/results.{csv,md} with the official baseline figures beside ours.
        A second call skips finished settings and resumes neural training after a kill.

        Examples:

          lexiconlm sigmorphon run --edition 2022 --langs all --system affix

          lexiconlm sigmorphon run --edition 2022 --langs all --system neural --device auto --config configs/sigmorphon/neural-2022-gpu.yaml

          lexiconlm sigmorphon run --edition 2022 --langs hun_small --system transducer --device cpu --threads 1

          lexiconlm sigmorphon run --edition 2022 --system auto --config configs/sigmorphon/auto-cpu.yaml --dest docs/results/sigmorphon/predictions/2022
        """  # noqa: E501
        from lexiconlm.inflection.runner import run

        if threads:
            import torch

            torch.set_num_threads(threads)
        summary = run(
            edition,
            langs=langs,
            system=system,
            device=device,
            data_dir=data,
            out_dir=out,
            config=config,
            variant=variant,
            group=group,
            resume=resume,
            progress=progress,
            log=typer.echo,
            time_budget_s=None if time_budget is None else 60.0 * time_budget,
            workers=workers,
            threads=threads,
            dest=dest,
        )
        _print_summary(summary)

    @sigmorphon_app.command("predict")
    def predict_cmd(
        model: Path = typer.Option(
            ..., "--model", "-m", help="A setting folder of a run (.../settings/hun_small) or a neural model folder."
        ),
        inputs: Path = typer.Option(
            ..., "--input", "-i", help="File to inflect: covered test (lemma, features), dev or gold."
        ),
        out: Path = typer.Option(
            ...,
            "--out",
            "-o",
            callback=output_file,
            help="Prediction file: one line per input line, input order, official columns.",
        ),
        edition: str | None = typer.Option(None, help="The input's edition when its name/folder do not tell."),
        tag: str | None = typer.Option(None, help="Neural multilingual model: the language tag (e.g. hun_small)."),
        beam: int | None = typer.Option(
            None, min=1, help="Neural: beam width (1 = greedy; default: the model's config)."
        ),
        device: str = typer.Option("auto", "--device", help="auto, cpu, cuda."),
    ) -> None:
        """Predict forms for a covered test file with a trained model.

        Examples:

          lexiconlm sigmorphon predict --model runs/sigmorphon/2022/affix/settings/hun_small --input ../shared/data/sigmorphon/2022_part1/hun.test --out hun_small.pred

          lexiconlm sigmorphon predict --model runs/sigmorphon/2023/neural/models/all --tag amh --input ../shared/data/sigmorphon/2023_part1/amh.tst --out amh.pred
        """  # noqa: E501
        from lexiconlm.inflection.runner import predict_file

        path = predict_file(model, inputs, out, edition=edition, tag=tag, beam=beam, device=device)
        typer.echo(f"wrote {path}")

    @sigmorphon_app.command("select")
    def select_cmd(
        edition: str = typer.Option(..., "--edition", "-e", help="2020, 2021, 2022 or 2023."),
        dest: Path = typer.Option(..., "--dest", help="Folder for <setting>.pred files and selection.csv."),
        out: Path = typer.Option(Path("runs/sigmorphon"), "--out", "-o", help="Run folder root (as given to run)."),
        data: Path | None = typer.Option(None, "--data", help="The sigmorphon data folder."),
        systems: str = typer.Option(
            "affix,neural,transducer", help="Systems to choose from, comma-separated (auto too)."
        ),
    ) -> None:
        """Copy, per setting, the test predictions of the system with the best dev accuracy (dev only).

        Example:

          lexiconlm sigmorphon select --edition 2022 --dest docs/results/sigmorphon/predictions/2022
        """
        from lexiconlm.inflection.runner import select_best

        rows = select_best(
            edition, out_dir=out, dest=dest, data_dir=data, systems=[s.strip() for s in systems.split(",") if s.strip()]
        )
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["chosen"]] = counts.get(r["chosen"], 0) + 1
        typer.echo(
            f"wrote {len(rows)} prediction files to {dest} (" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")"
        )

    @sigmorphon_app.command("hallucinate")
    def hallucinate_cmd(
        train: Path = typer.Option(..., "--train", "-t", help="Training file (lemma, form, features)."),
        out: Path = typer.Option(
            ..., "--out", "-o", callback=output_file, help="File to write the hallucinated pairs to (same edition)."
        ),
        n: int = typer.Option(1000, "--n", min=1, help="How many pairs."),
        seed: int = typer.Option(13, min=0, help="Random seed."),
        min_stem: int = typer.Option(3, min=1, help="Shortest shared stem replaced."),
        guard: list[Path] = typer.Option(
            [], "--guard", "-g", help="Dev/test files or folders whose items must not appear (repeatable)."
        ),
        edition: str | None = typer.Option(None, help="Edition of --train (default: detected)."),
    ) -> None:
        """Hallucinated training pairs (Anastasopoulos & Neubig 2019): the shared stem replaced by random letters.

        Training data holding a --guard item is refused; hallucinated items that hit one are drawn again.

        Example:

          lexiconlm sigmorphon hallucinate -t ../shared/data/sigmorphon/2022_part1/hun_small.train -g ../shared/data/sigmorphon/2022_part1/hun.dev -g ../shared/data/sigmorphon/2022_part1/hun.test -o hun_hall.train --n 1000
        """  # noqa: E501
        from lexiconlm.inflection.hallucinate import HallucinationStats, hallucinate
        from lexiconlm.io.sigmorphon import read_sigmorphon, write_sigmorphon
        from lexiconlm.leakage import LeakageGuard

        t = read_sigmorphon(train, edition=edition)
        g = LeakageGuard().add_sigmorphon(guard) if guard else None
        st = HallucinationStats()
        items = hallucinate(t.entries, n=n, seed=seed, min_stem=min_stem, guard=g, stats=st)
        write_sigmorphon(items, out, edition=t.edition or edition)
        typer.echo(f"wrote {len(items)} pairs to {out} ({st.signature}; {st.n_leaks_redrawn} leaks redrawn)")

    app.add_typer(sigmorphon_app, name="sigmorphon")


def _print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    per = Table(title=f"SIGMORPHON {summary.edition} {summary.system}: per setting")
    pcols = [
        "setting",
        "system",
        "dev_affix",
        "dev_transducer",
        "dev_neural",
        "dev_acc",
        "official_nonneural_dev",
        "official_neural_dev",
        "test_acc",
        "cpu_seconds",
        "seconds",
    ]
    pcols = [c for c in pcols if any(r.get(c) is not None for r in summary.rows)]
    for c in pcols:
        per.add_column(c)
    for r in summary.rows:
        per.add_row(*[_cell(r.get(c)) for c in pcols])
    if summary.rows:
        console.print(per)
    table = Table(title=f"SIGMORPHON {summary.edition} {summary.system}: summary")
    cols = [
        "group",
        "split",
        "settings",
        "n",
        "micro_acc",
        "macro_acc",
        "micro_lev",
        "official_nonneural_dev_micro",
        "official_neural_dev_micro",
        "cpu_seconds",
        "seconds",
    ]
    cols = [c for c in cols if any(c in r for r in summary.summary)]
    for c in cols:
        table.add_column(c)
    for r in summary.summary:
        table.add_row(*[_cell(r.get(c)) for c in cols])
    console.print(table)
    if summary.skipped:
        console.print(f"{len(summary.skipped)} setting(s) already finished, skipped")
    console.print(f"wall time of this call: {summary.seconds:.0f} s")
    console.print(f"tables: {summary.csv}, {summary.markdown}")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)
