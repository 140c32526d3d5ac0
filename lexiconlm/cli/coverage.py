"""``lexiconlm coverage``: per-language resource coverage (compute, show, summary, tokenizer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

coverage_app = typer.Typer(
    name="coverage",
    help="Per-language coverage of lexicons, morphology, labelled data, text and tokenizers.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_TABLE_HELP = "A table written by `coverage compute` (default runs/coverage/coverage.csv)."
_CONFIG_HELP = (
    "A coverage YAML (configs/coverage/*.yaml): recompute from it (fast with a warm cache) instead of reading --table."
)


def _console():
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _fmt(v) -> str:
    if v is None or v == "":
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _print_sources(table, console) -> None:
    from rich.table import Table

    t = Table(title="sources", title_justify="left")
    for col in ("resource", "files", "read", "cached", "skipped", "languages", "unresolved", "problems", "absent"):
        t.add_column(col, justify="left" if col in ("resource", "absent") else "right")
    for key, s in table.sources.items():
        if s.get("kind") == "tokenizer":
            continue
        t.add_row(
            key,
            _fmt(s.get("files", 0)),
            _fmt(s.get("files_read", 0)),
            _fmt(s.get("files_cached", 0)),
            _fmt(len(s.get("skipped", []))),
            _fmt(s.get("languages", 0)),
            _fmt(len(s.get("unresolved", []))),
            _fmt(s.get("n_problems", 0)),
            "; ".join(s.get("absent", [])) or "-",
        )
    console.print(t)
    absent = [(k, p) for k, s in table.sources.items() for p in s.get("absent", [])]
    if absent:
        console.print(
            f"[yellow]{len(absent)} configured path(s) do not exist and were counted as zero[/yellow] "
            "(fix the paths in the config, or pass --strict to make this an error)"
        )


def _print_groups(groups: list[dict], by: str, console, title: str) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    cols = (
        [by]
        + (["tier_label"] if by == "tier" else [])
        + [
            "languages",
            "with_any",
            "with_lexicon",
            "with_morphology",
            "with_nlu",
            "with_text",
            "with_epitran",
            "total_entries",
            "text_tokens",
            "mean_tier",
        ]
    )
    for c in cols:
        t.add_column(c.replace("with_", "").replace("_", " "), justify="left" if c in (by, "tier_label") else "right")
    for g in groups:
        t.add_row(*(_fmt(g[c]) for c in cols))
    console.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(coverage_app, name="coverage")


@coverage_app.command("compute")
def compute_cmd(
    config: Path = typer.Option(..., "--config", "-c", help="The coverage YAML, e.g. configs/coverage/shared.yaml."),
    out: Path = typer.Option(
        Path("runs/coverage/coverage.csv"),
        "--out",
        "-o",
        help="The CSV to write; .sources.json and .summary.md are written beside it.",
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Read every file again and leave the cache alone."),
    cache: Optional[Path] = typer.Option(
        None, "--cache", help="Use this statistics cache file instead of the config's `cache`."
    ),
    strict: bool = typer.Option(False, "--strict", help="A configured folder that does not exist is an error."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the paths written."),
) -> None:
    """Count every configured resource for each catalog language and write the table.

    Writes OUT (one CSV row per catalog language), OUT's .sources.json (files read, skipped, absent, problems, unresolved languages per resource) and .summary.md (languages per tier, top families, scripts, macroareas), each atomically. Per-file statistics are cached, so a second run reads only the files that changed.

    Examples:

      lexiconlm coverage compute --config configs/coverage/shared.yaml --out runs/coverage/coverage.csv

      lexiconlm coverage compute --config configs/coverage/demo.yaml --out runs/coverage/demo.csv --strict

      lexiconlm coverage compute -c configs/coverage/shared.yaml --no-cache
    """  # noqa: E501
    from lexiconlm.coverage.aggregate import aggregate
    from lexiconlm.coverage.compute import compute_coverage, save_coverage
    from lexiconlm.coverage.config import load_config

    cfg = load_config(config, strict=strict)
    if cache is not None:
        from dataclasses import replace

        cfg = replace(cfg, cache=cache.resolve())
    table = compute_coverage(cfg, use_cache=not no_cache, progress=not quiet)
    written = save_coverage(table, out)
    if quiet:
        for p in written.values():
            typer.echo(str(p))
        return
    console = _console()
    n_read = sum(s.get("files_read", 0) for s in table.sources.values())
    n_cached = sum(s.get("files_cached", 0) for s in table.sources.values())
    console.print(
        f"{len(table.rows):,} languages, {len(table.languages_with('any')):,} with any resource; "
        f"{n_read:,} files read, {n_cached:,} from the cache ({cfg.cache_path}); {table.seconds:.2f} s"
    )
    _print_sources(table, console)
    _print_groups(aggregate(table.rows, "tier"), "tier", console, "languages per tier")
    for name, p in written.items():
        console.print(f"wrote {name}: {p}")


@coverage_app.command("show")
def show_cmd(
    language: str = typer.Argument(..., help="ISO 639-3 code, BCP-47 tag or English name (swh, sw-KE, swahili)."),
    table: Optional[Path] = typer.Option(None, "--table", "-t", help=_TABLE_HELP),
    config: Optional[Path] = typer.Option(
        None, "--config", "-c", help=_CONFIG_HELP + " Also lists the language's files."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the row (and files) as JSON."),
) -> None:
    """Show one language's resources: its coverage row and, with --config, its files.

    Examples:

      lexiconlm coverage show swh

      lexiconlm coverage show amharic --config configs/coverage/shared.yaml

      lexiconlm coverage show ind --config configs/coverage/demo.yaml --json
    """
    from lexiconlm.coverage.compute import file_statistics, load_or_compute

    tab = load_or_compute(table=table, config=config)
    row = tab.row(language)
    files = []
    if config is not None:
        files = [f for f in file_statistics(config) if f.get("lang") == row["iso639_3"] and "skip" not in f]
    if as_json:
        typer.echo(json.dumps({"row": row, "files": files}, ensure_ascii=False, indent=1))
        return
    from rich.table import Table

    console = _console()
    t = Table(
        title=f"{row['name']} ({row['iso639_3']}): tier {row['tier']} ({row['tier_label']})",
        show_header=False,
        title_justify="left",
    )
    t.add_column("field", style="bold")
    t.add_column("value", overflow="fold")
    for col in tab.columns:
        if col in ("iso639_3", "name"):
            continue
        t.add_row(col, _fmt(row.get(col)))
    console.print(t)
    if files:
        ft = Table(title="files", title_justify="left")
        for c in ("resource", "file", "count"):
            ft.add_column(c, justify="right" if c == "count" else "left", overflow="fold")
        for f in files:
            n = next((f[k] for k in ("entries", "forms", "examples", "segments") if k in f), "")
            ft.add_row(f["resource"], f["path"], _fmt(n))
        console.print(ft)
    elif config is None:
        console.print("[dim]pass --config to list the files behind these numbers[/dim]")


@coverage_app.command("summary")
def summary_cmd(
    by: str = typer.Option(
        "tier",
        "--by",
        "-b",
        help="family, genus, macroarea, script (first catalog script), tier, resources or endangerment.",
    ),
    table: Optional[Path] = typer.Option(None, "--table", "-t", help=_TABLE_HELP),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    top: int = typer.Option(20, "--top", "-n", min=0, help="Show this many groups (0: all)."),
    include_empty: bool = typer.Option(False, "--all", help="Also list groups where no language has any resource."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, json or md."),
    columns: Optional[str] = typer.Option(
        None,
        "--columns",
        help="Comma-separated columns for csv/json/md (default: all), e.g. family,languages,with_any,tier_4.",
    ),
) -> None:
    """Sum the coverage rows by family, genus, macroarea, script, tier or resource combination.

    Groups are sorted by the number of languages with any resource (tiers in tier order).

    Examples:

      lexiconlm coverage summary --by tier

      lexiconlm coverage summary --by family --top 15

      lexiconlm coverage summary --by script --config configs/coverage/shared.yaml --format md

      lexiconlm coverage summary --by resources --format csv

      lexiconlm coverage summary --by family --format md --columns family,languages,with_any,with_lexicon,tier_4
    """
    from lexiconlm.coverage.aggregate import aggregate
    from lexiconlm.coverage.compute import load_or_compute

    if fmt not in ("table", "csv", "json", "md"):
        import difflib

        from lexiconlm.errors import UnknownNameError

        raise UnknownNameError(
            fmt, difflib.get_close_matches(fmt, ["table", "csv", "json", "md"]), "Formats: table, csv, json, md."
        )
    tab = load_or_compute(table=table, config=config)
    groups = aggregate(tab.rows, by)
    if not include_empty and by != "tier":
        groups = [g for g in groups if g["with_any"]]
    if top:
        groups = groups[:top]
    if columns:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        known = list(groups[0]) if groups else [by]
        for c in wanted:
            if c not in known:
                import difflib

                from lexiconlm.errors import UnknownNameError

                err = UnknownNameError(
                    c, difflib.get_close_matches(c, known, n=3), "Columns: " + ", ".join(known) + "."
                )
                err.kind = "column"  # type: ignore[misc]
                raise err
        groups = [{c: g[c] for c in wanted} for g in groups]
    if fmt == "json":
        typer.echo(json.dumps(groups, ensure_ascii=False, indent=1))
    elif fmt in ("csv", "md"):
        cols = list(groups[0]) if groups else [by]
        if fmt == "csv":
            import csv

            w = csv.writer(sys.stdout, lineterminator="\n")
            w.writerow(cols)
            for g in groups:
                w.writerow([g[c] for c in cols])
        else:
            typer.echo("| " + " | ".join(cols) + " |")
            typer.echo("|" + "---|" * len(cols))
            for g in groups:
                typer.echo("| " + " | ".join(str(g[c]) for c in cols) + " |")
    elif columns:
        from rich.table import Table

        t = Table(title=f"coverage by {by} ({len(tab.rows):,} languages)", title_justify="left")
        for c in groups[0] if groups else []:
            t.add_column(c)
        for g in groups:
            t.add_row(*(_fmt(v) for v in g.values()))
        _console().print(t)
    else:
        _print_groups(groups, by, _console(), f"coverage by {by} ({len(tab.rows):,} languages)")


@coverage_app.command("tokenizer")
def tokenizer_cmd(
    model: str = typer.Option(
        ...,
        "--model",
        "-m",
        help="A local tokenizer/model folder or a Hugging Face hub name (cached, with HF_HUB_OFFLINE=1).",
    ),
    config: Path = typer.Option(
        ..., "--config", "-c", help="The coverage YAML whose text and lexicons give the samples."
    ),
    out: Path = typer.Option(
        Path("runs/coverage/coverage_tokenizer.csv"),
        "--out",
        "-o",
        help="The CSV to write (with .sources.json beside it).",
    ),
    languages: Optional[str] = typer.Option(
        None, "--languages", "-l", help="Comma-separated ISO 639-3 codes (default: every language with sample text)."
    ),
    max_segments: int = typer.Option(200, "--max-segments", min=1, help="Text segments per language."),
    max_words: int = typer.Option(2000, "--max-words", min=1, help="Lexicon target words per language without text."),
    worst: int = typer.Option(15, "--worst", min=0, help="Print the languages with the highest UNK rate."),
) -> None:
    """Add the tokenizer's UNK rate, fertility and script coverage on each language's sample text.

    Samples are the language's text corpora (first configured corpus that has it), else the target words of its lexicons. Runs on the CPU; no model weights are loaded, only the tokenizer.

    Examples:

      lexiconlm coverage tokenizer --model runs/models/xlm-roberta-base --config configs/coverage/shared.yaml

      HF_HUB_OFFLINE=1 lexiconlm coverage tokenizer --model bert-base-multilingual-cased -c configs/coverage/shared.yaml

      lexiconlm coverage tokenizer -m ./my-tokenizer -c configs/coverage/demo.yaml --languages ind --out runs/coverage/demo_tok.csv
    """  # noqa: E501
    from lexiconlm.coverage.compute import compute_coverage
    from lexiconlm.coverage.config import load_config
    from lexiconlm.coverage.tokenizer import coverage_with_tokenizer, load_tokenizer

    cfg = load_config(config)
    tok = load_tokenizer(model)
    table = compute_coverage(cfg)
    codes = None
    if languages:
        from lexiconlm.languages import get_catalog

        cat = get_catalog()
        codes = [cat.lookup(x.strip()).iso639_3 for x in languages.split(",") if x.strip()]
    result = coverage_with_tokenizer(
        table, tok, cfg, languages=codes, max_segments=max_segments, max_words=max_words, progress=True
    )
    result.to_csv(out)
    measured = [r for r in result.rows if r.get("tok_unk_rate") is not None]
    console = _console()
    console.print(f"tokenizer {model}: {len(measured):,} languages measured (device: cpu); wrote {out}")
    if measured and worst:
        from rich.table import Table

        t = Table(title=f"highest UNK rate (of {len(measured):,})", title_justify="left")
        for c in ("iso639_3", "name", "scripts", "tok_unk_rate", "tok_fertility", "tok_script_coverage", "tok_sample"):
            t.add_column(c, justify="right" if c.startswith("tok_") and c != "tok_sample" else "left")
        for r in sorted(measured, key=lambda r: (-r["tok_unk_rate"], r["iso639_3"]))[:worst]:
            t.add_row(
                *(
                    _fmt(r[c])
                    for c in (
                        "iso639_3",
                        "name",
                        "scripts",
                        "tok_unk_rate",
                        "tok_fertility",
                        "tok_script_coverage",
                        "tok_sample",
                    )
                )
            )
        console.print(t)
