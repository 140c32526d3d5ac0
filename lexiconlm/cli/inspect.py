"""``lexiconlm inspect PATH...``: detect formats, validate and summarise data files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from lexiconlm.errors import DataFormatError, Problem
from lexiconlm.io.detect import KINDS, InspectReport, inspect_path, list_data_files


def inspect(
    paths: list[str | Path],
    *,
    kind: str | None = None,
    format: str | None = None,
    progress: bool = False,
) -> list[InspectReport]:
    """Inspect files and folders (recursively); one :class:`InspectReport` per file.

    Nothing is left out without a word: a FIFO, device or socket (given, or found in a
    folder) gets a report of kind ``"unknown"`` with an error saying what it is; a folder
    without a file to read gets one with an error ``no files to inspect``. Hidden files
    are skipped (not reported).

    Raises:
        DataFormatError: a path does not exist.
    """
    files: list[Path] = []
    reports: list[InspectReport] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise DataFormatError.single(str(p), None, "no such file or folder", "check the path")
        found, skipped = list_data_files(p)
        files.extend(found)
        for path, why in skipped:
            if not why.startswith("hidden"):
                reports.append(_unread(path, f"{why}; not read", "inspect regular files only"))
        if p.is_dir() and not found:
            hidden = sum(1 for _, why in skipped if why.startswith("hidden"))
            reports.append(
                _unread(
                    str(p),
                    "no files to inspect in this folder"
                    + (f" ({hidden} hidden file(s)/folder(s) skipped)" if hidden else ""),
                    "check the path; data files must not start with '.'",
                )
            )
    iterator = files
    if progress and len(files) > 20:
        from rich.progress import track

        iterator = track(files, description="inspecting", transient=True)
    return reports + [inspect_path(f, kind=kind, format=format) for f in iterator]


def _unread(path: str, message: str, hint: str) -> InspectReport:
    """The report of a path that could not be read at all (its one problem says why)."""
    return InspectReport(path, "unknown", "", problems=[Problem(path, None, message, hint)])


def _print_reports(reports: list[InspectReport], max_problems: int, show_not_data: bool) -> None:
    import os
    import sys

    from rich.console import Console
    from rich.table import Table

    # a pipe or file gets a wide table instead of rich's 80-column default
    console = Console() if sys.stdout.isatty() else Console(width=160)
    data = [r for r in reports if r.kind != "not-data"]
    base = os.path.commonpath([os.path.dirname(os.path.abspath(r.path)) for r in reports]) if reports else ""

    def short(path: str) -> str:
        rel = os.path.relpath(os.path.abspath(path), base) if base else path
        return rel if len(reports) > 1 else path

    skipped = [r for r in reports if r.kind == "not-data"]
    if len(reports) == 1 and data:
        r = data[0]
        table = Table(title=r.path, show_header=False, title_justify="left")
        table.add_row("kind", f"{r.kind} ({r.format})")
        table.add_row("records", f"{r.n_records:,}")
        table.add_row("lines", f"{r.n_lines:,}")
        table.add_row("languages", ", ".join(r.languages) or "-")
        table.add_row("scripts", _fmt_scripts(r.scripts))
        for k, v in r.stats.items():
            table.add_row(k, f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v))
        table.add_row("problems", f"{r.n_errors} errors, {r.n_warnings} warnings")
        console.print(table)
    elif data:
        table = Table(title=f"{len(data)} data files under {base}", title_justify="left")
        for col in ("file", "kind", "records", "lines", "languages", "scripts", "errors", "warnings"):
            table.add_column(col, justify="right" if col in ("records", "lines", "errors", "warnings") else "left")
        for r in data:
            table.add_row(
                short(r.path),
                f"{r.kind}/{r.format}",
                f"{r.n_records:,}",
                f"{r.n_lines:,}",
                ",".join(r.languages),
                _fmt_scripts(r.scripts, 2),
                f"[red]{r.n_errors}[/red]" if r.n_errors else "0",
                str(r.n_warnings),
            )
        console.print(table)
        by_kind: dict[str, int] = {}
        for r in data:
            by_kind[r.kind] = by_kind.get(r.kind, 0) + r.n_records
        console.print(
            "totals: "
            + ", ".join(f"{k} {v:,} records" for k, v in sorted(by_kind.items()))
            + f"; {sum(r.n_errors for r in data)} errors, {sum(r.n_warnings for r in data)} warnings"
        )
    if skipped:
        if show_not_data:
            for r in skipped:
                console.print(f"[dim]skipped {short(r.path)}: {r.stats.get('reason', '')}[/dim]")
        else:
            console.print(
                f"[dim]{len(skipped)} non-data file(s) skipped (README, PROVENANCE, "
                "metadata); --show-skipped lists them[/dim]"
            )
    problems = [p for r in reports for p in r.problems]
    if problems:
        console.print(f"\n[bold]problems[/bold] ({len(problems)}):")
        for p in problems[:max_problems]:
            style = "red" if p.severity == "error" else "yellow"
            console.print(str(p), style=style, highlight=False, markup=False)
        if len(problems) > max_problems:
            console.print(f"... {len(problems) - max_problems} more (use --max-problems)")


def _fmt_scripts(shares: dict[str, float], n: int = 4) -> str:
    if not shares:
        return "-"
    return " ".join(f"{s} {v:.0%}" for s, v in list(shares.items())[:n])


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect_cmd(
        paths: List[Path] = typer.Argument(..., help="Files or folders (folders are read recursively)."),
        kind: Optional[str] = typer.Option(None, "--kind", "-k", help=f"Skip detection: one of {', '.join(KINDS)}."),
        format: Optional[str] = typer.Option(
            None,
            "--format",
            "-f",
            help="Reader variant, e.g. gatitos, wiktionary, muse, panlex (lexicons); "
            "2020..2023 (sigmorphon); lines, id_tsv (text).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object per file instead of tables."),
        max_problems: int = typer.Option(50, "--max-problems", min=0, help="How many problems to list."),
        show_skipped: bool = typer.Option(False, "--show-skipped", help="List the non-data files that were skipped."),
    ) -> None:
        """Detect the format of data files, validate every line and print a summary.

        Reports records, languages, scripts and every problem as FILE:LINE: message (fix: ...).
        Exits with status 1 when any file has errors, or when no data file was read (an empty
        folder, only README/metadata files, a FIFO or device).

        Examples:

          lexiconlm inspect ../shared/data/lexicons/gatitos/en_sw.tsv

          lexiconlm inspect ../shared/data/sigmorphon/2023_part1 --json

          lexiconlm inspect my_lexicon.txt --kind lexicon --format muse
        """
        if kind is not None and kind not in KINDS:
            import difflib

            from lexiconlm.errors import UnknownNameError

            raise UnknownNameError(
                kind, difflib.get_close_matches(kind, KINDS, n=3), "Valid kinds: " + ", ".join(KINDS)
            )
        reports = inspect(paths, kind=kind, format=format, progress=not as_json)
        if as_json:
            for r in reports:
                typer.echo(json.dumps(r.to_dict(), ensure_ascii=False))
        else:
            _print_reports(reports, max_problems, show_skipped)
        if not any(r.kind in KINDS for r in reports):
            n_docs = sum(1 for r in reports if r.kind == "not-data")
            hint = "; --show-skipped lists the non-data files" if n_docs and not show_skipped else ""
            typer.secho(
                f"nothing was read: {n_docs} non-data file(s) skipped, "
                f"{len(reports) - n_docs} path(s) unreadable (see above{hint})",
                err=True,
                fg=typer.colors.RED,
            )
            raise typer.Exit(1)
        if any(r.n_errors for r in reports):
            raise typer.Exit(1)
