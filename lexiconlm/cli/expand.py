"""``lexiconlm expand``: the end-to-end pipeline (ingest, synthesise, adapt, fine-tune, evaluate, report)."""

from __future__ import annotations

from pathlib import Path

import typer

_STEPS_HELP = (
    "Steps to run, comma-separated, out of: ingest, synth, model, adapt, train, train_base, evaluate, report "
    "(default: all)."
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
            None,
            "--langs",
            help="Several languages: comma-separated codes, 'all' (every language with a lexicon in "
            "data.lexicons) or @FILE (one code per line); run as a batch with a summary.",
        ),
        family: str | None = typer.Option(
            None, "--family", help="With --langs: keep languages of this family or genus (comma-separated)."
        ),
        script: str | None = typer.Option(
            None, "--script", help="With --langs: keep languages whose main script is this (ISO 15924, e.g. Latn)."
        ),
        require: str | None = typer.Option(
            None, "--require", help="With --langs: keep languages that have 'parallel' text or a MASSIVE 'test' set."
        ),
        sample: int | None = typer.Option(
            None, "--sample", help="With --langs: a stable sample of this many languages (seeded by the config)."
        ),
        executor: str = typer.Option(
            "process", "--executor", help="Batch executor: process (a local pool), serial, or ray."
        ),
        workers: int = typer.Option(0, "--workers", help="Batch: parallel languages (0: cores / --threads)."),
        threads: int = typer.Option(1, "--threads", help="Batch: CPU threads per language."),
        address: str | None = typer.Option(
            None, "--address", help="Batch with --executor ray: the cluster (auto: the one `ray start` made)."
        ),
        retries: int = typer.Option(1, "--retries", help="Batch: times a language whose worker died is retried."),
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

        batch = langs is not None
        names = [x.strip() for x in (lang or "").split(",") if x.strip()]
        cfg = load_config(config, overrides=set_ or (), languages=names or None)
        parse_steps(steps)
        if batch:
            from lexiconlm.expand.batch import run_batch, select_languages

            if executor not in ("process", "serial", "ray"):
                raise ConfigError([f"--executor -> expected process, serial or ray, got {executor!r}"])
            chosen = select_languages(
                cfg, [langs, *names], family=family, script=script, sample=sample, seed=cfg.get("seed"), require=require
            )
            if check:
                for code in chosen:
                    language_inputs(cfg, code)
                typer.echo(f"config OK; {len(chosen)} language(s): {', '.join(chosen)}")
                return
            rows = run_batch(
                cfg,
                chosen,
                out=out,
                steps=parse_steps(steps),
                force=force,
                executor=executor,
                workers=workers,
                threads=threads,
                address=address,
                retries=retries,
                progress=not quiet,
            )
            root = out if out is not None else Path("runs/expand") / cfg.name
            failed = [r for r in rows if r.get("status") != "ok"]
            typer.echo(f"summary: {root / 'summary.md'} ({len(rows) - len(failed)} done, {len(failed)} failed)")
            if export is not None:
                from lexiconlm.expand.report import export_runs

                done = [root / f"{r['language']}-{cfg.name}" for r in rows if r.get("status") == "ok"]
                typer.echo(f"exported to {export} ({export_runs(done, export)})")
            if failed:
                for r in failed:
                    typer.echo(f"{r['language']}: failed: {r.get('error')}", err=True)
                raise typer.Exit(1)
            return
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
