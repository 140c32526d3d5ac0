"""``lexiconlm sigmorphon``: score prediction files and run the affix baseline (official metrics)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

sigmorphon_app = typer.Typer(
    help="SIGMORPHON inflection: official metrics and the affix (non-neural) baseline.",
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
        train: Optional[Path] = typer.Option(
            None, "--train", "-t", help="Training file: adds the 2022 breakdown (both / lemma / feats / unseen)."
        ),
        edition: Optional[str] = typer.Option(None, help="2017, 2020, 2021, 2022 or 2023 (default: detected)."),
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
        edition: Optional[str] = typer.Option(None, help="2017, 2020, 2021, 2022 or 2023 (default: detected)."),
        variant: Optional[str] = typer.Option(None, help="Affix variant, e.g. sigmorphon.v1 (default) or sigmorphon-float.v1."),
    ) -> None:
        """Predict with the prefix/suffix-rule (non-neural) baseline.

        Examples:

          lexiconlm sigmorphon affix -t ../shared/data/sigmorphon/2022_part1/hun_small.train -i ../shared/data/sigmorphon/2022_part1/hun.test -o runs/sigmorphon/hun_small.pred
        """
        path = affix_predict(train, inputs, out, edition=edition, variant=variant)
        typer.echo(f"wrote {path}")

    app.add_typer(sigmorphon_app, name="sigmorphon")
