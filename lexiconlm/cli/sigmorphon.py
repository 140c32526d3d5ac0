"""``lexiconlm sigmorphon``: score prediction files, run the affix baseline and the neural inflector,
run whole editions (train, predict, score, tabulate) and predict covered test files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

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
) -> dict:
    """Score one prediction file against a gold file with the official definitions.

    Returns a dict with ``all`` (and, given ``train``, the 2022 categories ``both``,
    ``lemma``, ``feats``, ``unseen``), each ``{accuracy, levenshtein, n, n_correct,
    n_missing, n_extra}``.

    Raises:
        DataFormatError: a file cannot be read (every bad line listed), or the gold file
            is a covered test file without forms.
    """
    from lexiconlm.errors import DataFormatError
    from lexiconlm.inflection.metrics import evaluate, evaluate_2022
    from lexiconlm.io.sigmorphon import read_predictions, read_sigmorphon

    g = read_sigmorphon(gold, edition=edition)
    if g.covered:
        raise DataFormatError.single(
            str(gold), None, "a covered test file has no gold forms to score against",
            "give the gold file (lemma, form and features)",
        )
    p = read_predictions(pred, edition=edition or g.edition or None)
    if train is not None:
        t = read_sigmorphon(train, edition=edition or g.edition or None)
        scores = evaluate_2022(g.entries, p.entries, t.entries, duplicates=duplicates)  # type: ignore[arg-type]
    else:
        scores = {"all": evaluate(g.entries, p.entries, duplicates=duplicates)}  # type: ignore[arg-type]
    return {
        k: {
            "accuracy": round(s.accuracy, 3), "levenshtein": round(s.levenshtein, 4), "n": s.n,
            "n_correct": s.n_correct, "n_missing": s.n_missing, "n_extra": s.n_extra,
        }
        for k, s in scores.items()
    }


def affix_predict(train: Path, inputs: Path, out: Path, *, edition: str | None = None, variant: str | None = None) -> Path:
    """Fit the affix baseline on ``train`` and write predictions for every line of ``inputs``
    (a dev, gold or covered test file) in the edition's three-column format, in input order."""
    from lexiconlm.inflection.affix import AffixBaseline
    from lexiconlm.io.sigmorphon import read_sigmorphon, write_sigmorphon
    from lexiconlm.types import InflectionEntry

    t = read_sigmorphon(train, edition=edition)
    src = read_sigmorphon(inputs, edition=edition or t.edition or None)
    model = AffixBaseline(variant).fit(t.entries)
    forms = model.predict(src.entries)
    preds = [InflectionEntry(e.lemma, f, e.features) for e, f in zip(src.entries, forms)]
    return write_sigmorphon(preds, out, edition=src.edition or t.edition)


def register(app: typer.Typer) -> None:
    @sigmorphon_app.command("score")
    def score_cmd(
        gold: Path = typer.Option(..., "--gold", "-g", help="Gold file (lemma, form, features in the edition's order)."),
        pred: Path = typer.Option(..., "--pred", "-p", help="Prediction file in the same format."),
        train: Path | None = typer.Option(
            None, "--train", "-t", help="Training file: adds the 2022 breakdown (both / lemma / feats / unseen)."
        ),
        edition: str | None = typer.Option(None, help="2017, 2020, 2021, 2022 or 2023 (default: detected)."),
        duplicates: str = typer.Option("rows", help="Gold rows sharing (lemma, features): rows (each scored) or collapse."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Exact-match accuracy and mean Levenshtein distance of a prediction file.

        Predictions are matched to gold by (lemma, features) as the official scripts do; a missing
        prediction counts as the empty string; both sides are NFC-normalised.

        Examples:

          lexiconlm sigmorphon score -g ../shared/data/sigmorphon/2021_task0/ail.test.gold -p ../shared/data/sigmorphon/2021_task0/baseline_predictions/ail.wuetal-transformer-augment.test.pred

          lexiconlm sigmorphon score -g hun.dev -p hun.dev.pred -t hun_small.train --edition 2022
        """
        if duplicates not in ("rows", "collapse"):
            raise typer.BadParameter("rows or collapse", param_hint="--duplicates")
        result = score(gold, pred, train=train, edition=edition, duplicates=duplicates)
        if as_json:
            typer.echo(json.dumps(result))
            return
        for k, s in result.items():
            typer.echo(
                f"{k:7s} accuracy {s['accuracy']:7.3f}  levenshtein {s['levenshtein']:.4f}  "
                f"n {s['n']}  missing {s['n_missing']}  extra {s['n_extra']}"
            )

    @sigmorphon_app.command("affix")
    def affix_cmd(
        train: Path = typer.Option(..., "--train", "-t", help="Training file."),
        inputs: Path = typer.Option(..., "--input", "-i", help="File to inflect: dev, gold or covered test."),
        out: Path = typer.Option(..., "--out", "-o", help="Prediction file to write (official format, input order)."),
        edition: str | None = typer.Option(None, help="2017, 2020, 2021, 2022 or 2023 (default: detected)."),
        variant: str | None = typer.Option(None, help="Affix variant, e.g. sigmorphon.v1 (default) or sigmorphon-float.v1."),
    ) -> None:
        """Predict with the prefix/suffix-rule (non-neural) baseline.

        Examples:

          lexiconlm sigmorphon affix -t ../shared/data/sigmorphon/2022_part1/hun_small.train -i ../shared/data/sigmorphon/2022_part1/hun.test -o runs/sigmorphon/hun_small.pred
        """
        path = affix_predict(train, inputs, out, edition=edition, variant=variant)
        typer.echo(f"wrote {path}")

    @sigmorphon_app.command("run")
    def run_cmd(
        edition: str = typer.Option(..., "--edition", "-e", help="2020, 2021, 2022 or 2023."),
        langs: str = typer.Option("all", "--langs", "-l", help="all, or comma-separated codes / settings (hun,ang_small)."),
        system: str = typer.Option("affix", "--system", "-s", help="affix (prefix/suffix rules) or neural (transformer)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N (neural; bf16 autocast on CUDA)."),
        data: Path | None = typer.Option(None, "--data", help="The sigmorphon data folder (default: ../shared/data/sigmorphon)."),
        out: Path = typer.Option(Path("runs/sigmorphon"), "--out", "-o", help="Run folder root."),
        config: Path | None = typer.Option(None, "--config", "-c", help="Neural config YAML (configs/sigmorphon/*.yaml)."),
        variant: str | None = typer.Option(None, help="Affix variant (default sigmorphon.v1)."),
        group: str = typer.Option("auto", help="Neural: auto (2022: one multilingual model per size), all, size or language."),
        threads: int | None = typer.Option(None, help="CPU threads for torch (default: torch's choice)."),
        time_budget: float | None = typer.Option(
            None, help="Neural: minutes of training per model (resumed parts count); then the best dev weights are used."
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
        """
        from lexiconlm.inflection.runner import run

        if threads:
            import torch

            torch.set_num_threads(threads)
        summary = run(
            edition, langs=langs, system=system, device=device, data_dir=data, out_dir=out, config=config,
            variant=variant, group=group, resume=resume, progress=progress, log=typer.echo,
            time_budget_s=None if time_budget is None else 60.0 * time_budget,
        )
        _print_summary(summary)

    @sigmorphon_app.command("predict")
    def predict_cmd(
        model: Path = typer.Option(..., "--model", "-m", help="A setting folder of a run (.../settings/hun_small) or a neural model folder."),
        inputs: Path = typer.Option(..., "--input", "-i", help="File to inflect: covered test (lemma, features), dev or gold."),
        out: Path = typer.Option(..., "--out", "-o", help="Prediction file: one line per input line, input order, official columns."),
        edition: str | None = typer.Option(None, help="The input's edition when its name/folder do not tell."),
        tag: str | None = typer.Option(None, help="Neural multilingual model: the language tag (e.g. hun_small)."),
        beam: int | None = typer.Option(None, help="Neural: beam width (1 = greedy; default: the model's config)."),
        device: str = typer.Option("auto", "--device", help="auto, cpu, cuda."),
    ) -> None:
        """Predict forms for a covered test file with a trained model.

        Examples:

          lexiconlm sigmorphon predict --model runs/sigmorphon/2022/affix/settings/hun_small --input ../shared/data/sigmorphon/2022_part1/hun.test --out hun_small.pred

          lexiconlm sigmorphon predict --model runs/sigmorphon/2023/neural/models/all --tag amh --input ../shared/data/sigmorphon/2023_part1/amh.tst --out amh.pred
        """
        from lexiconlm.inflection.runner import predict_file

        path = predict_file(model, inputs, out, edition=edition, tag=tag, beam=beam, device=device)
        typer.echo(f"wrote {path}")

    @sigmorphon_app.command("select")
    def select_cmd(
        edition: str = typer.Option(..., "--edition", "-e", help="2020, 2021, 2022 or 2023."),
        dest: Path = typer.Option(..., "--dest", help="Folder for <setting>.pred files and selection.csv."),
        out: Path = typer.Option(Path("runs/sigmorphon"), "--out", "-o", help="Run folder root (as given to run)."),
        data: Path | None = typer.Option(None, "--data", help="The sigmorphon data folder."),
        systems: str = typer.Option("affix,neural", help="Systems to choose from, comma-separated."),
    ) -> None:
        """Copy, per setting, the test predictions of the system with the best dev accuracy (dev only).

        Example:

          lexiconlm sigmorphon select --edition 2022 --dest docs/results/sigmorphon/predictions/2022
        """
        from lexiconlm.inflection.runner import select_best

        rows = select_best(edition, out_dir=out, dest=dest, data_dir=data,
                           systems=[s.strip() for s in systems.split(",") if s.strip()])
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["chosen"]] = counts.get(r["chosen"], 0) + 1
        typer.echo(f"wrote {len(rows)} prediction files to {dest} (" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + ")")

    @sigmorphon_app.command("hallucinate")
    def hallucinate_cmd(
        train: Path = typer.Option(..., "--train", "-t", help="Training file (lemma, form, features)."),
        out: Path = typer.Option(..., "--out", "-o", help="File to write the hallucinated pairs to (same edition)."),
        n: int = typer.Option(1000, "--n", help="How many pairs."),
        seed: int = typer.Option(13, help="Random seed."),
        min_stem: int = typer.Option(3, help="Shortest shared stem replaced."),
        guard: list[Path] = typer.Option([], "--guard", "-g", help="Dev/test files or folders whose items must not appear (repeatable)."),
        edition: str | None = typer.Option(None, help="Edition of --train (default: detected)."),
    ) -> None:
        """Hallucinated training pairs (Anastasopoulos & Neubig 2019): the shared stem replaced by random letters.

        Training data holding a --guard item is refused; hallucinated items that hit one are drawn again.

        Example:

          lexiconlm sigmorphon hallucinate -t ../shared/data/sigmorphon/2022_part1/hun_small.train -g ../shared/data/sigmorphon/2022_part1/hun.dev -g ../shared/data/sigmorphon/2022_part1/hun.test -o hun_hall.train --n 1000
        """
        from lexiconlm.io.sigmorphon import read_sigmorphon, write_sigmorphon
        from lexiconlm.inflection.hallucinate import HallucinationStats, hallucinate
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

    table = Table(title=f"SIGMORPHON {summary.edition} {summary.system}: summary")
    cols = ["group", "split", "settings", "n", "micro_acc", "macro_acc", "micro_lev",
            "official_nonneural_dev_micro", "official_neural_dev_micro"]
    cols = [c for c in cols if any(c in r for r in summary.summary)]
    for c in cols:
        table.add_column(c)
    for r in summary.summary:
        table.add_row(*[str(r.get(c, "")) for c in cols])
    console = Console()
    console.print(table)
    if summary.skipped:
        console.print(f"{len(summary.skipped)} setting(s) already finished, skipped")
    console.print(f"tables: {summary.csv}, {summary.markdown}")
