"""``lexiconlm expand``: the end-to-end pipeline (ingest, synthesise, adapt, fine-tune, evaluate, report)."""

from __future__ import annotations

from pathlib import Path

import typer

_STEPS_HELP = (
    "Steps to run, comma-separated, out of: ingest, synth, model, adapt, train, evaluate, report (default: all)."
)


def register(app: typer.Typer) -> None:
    @app.command(
        "expand",
        help=(
            "Expand a model to a language: read its lexicons and UniMorph table, synthesise "
            "pseudo-monolingual and pseudo-labelled data, optionally adapt the tokenizer and "
            "embeddings, fine-tune the NLU model, evaluate on whatever labelled data exists and "
            "write a run folder with metrics.json, tables, plots, report.md and report.html. "
            "Steps are cached and resumable: rerunning after a kill finishes the run."
        ),
        no_args_is_help=True,
    )
    def expand_cmd(
        config: Path = typer.Option(..., "--config", "-c", help="YAML configuration (configs/expand/*.yaml)."),
        lang: str | None = typer.Option(None, "--lang", "-l", help="Language (ISO 639-3, BCP-47 or name), e.g. swh."),
        langs: str | None = typer.Option(
            None, "--langs", help="Several languages, comma-separated, run one after another."
        ),
        steps: str | None = typer.Option(None, "--steps", help=_STEPS_HELP),
        out: Path | None = typer.Option(
            None,
            "--out",
            "-o",
            help="Run folder (default runs/expand/<lang>-<config name>); with --langs, the parent folder.",
        ),
        set_: list[str] | None = typer.Option(
            None, "--set", help="Override a config value, e.g. --set nlu.config.epochs=1 (repeatable)."
        ),
        force: bool = typer.Option(False, "--force", help="Run the steps even when their cached result is current."),
        check: bool = typer.Option(
            False, "--check", help="Validate the config and find each language's files; run nothing."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
        export: Path | None = typer.Option(
            None,
            "--export",
            help="After the run, copy each language's reports, metrics, tables and plots (no models, no data) "
            "to EXPORT/<lang>/ and write EXPORT/summary.csv and EXPORT/summary.md.",
        ),
    ) -> None:
        from lexiconlm.errors import ConfigError
        from lexiconlm.expand.config import language_inputs, load_config
        from lexiconlm.expand.pipeline import parse_steps, run_expand

        names = [x.strip() for x in ",".join(filter(None, [lang, langs])).split(",") if x.strip()]
        cfg = load_config(config, overrides=set_ or (), languages=names or None)
        parse_steps(steps)
        if check:
            chosen = names or list(cfg.values["languages"])
            if not chosen:
                raise ConfigError(["no language given: pass --lang (or --langs), or list languages in the config"])
            for code in chosen:
                inp = language_inputs(cfg, code).as_dict()
                typer.echo(f"{inp['language']} ({inp['name']}), locale {inp['locale']}:")
                for key in ("lexicons", "unimorph", "target_text", "massive_test"):
                    typer.echo(f"  {key}: {', '.join(inp[key]) or '(none)'}")
                for note in inp["notes"]:
                    typer.echo(f"  note: {note}")
            typer.echo("config OK")
            return
        results = run_expand(cfg, languages=names or None, out=out, steps=steps, force=force, progress=not quiet)
        if export is not None:
            from lexiconlm.expand.report import export_runs

            summary = export_runs([r.run_dir for r in results], export)
            typer.echo(f"exported to {export} ({summary})")
        for r in results:
            if r.report.is_file():
                typer.echo(f"{r.language}: {r.report} ({r.run_dir / 'report.html'})")
            else:
                typer.echo(f"{r.language}: {r.run_dir} (steps run: {', '.join(r.ran) or 'none'})")
