"""``lexiconlm languages [QUERY...]``: look up, search and summarise the language catalog."""

from __future__ import annotations

from collections import Counter
from typing import List, Optional

import typer

from lexiconlm.languages import LANGUAGE_COLUMNS, LanguageCatalog, get_catalog
from lexiconlm.types import Language

TABLE_COLUMNS = ("code", "name", "family", "genus", "scripts", "speakers", "macroarea")


def select_languages(
    queries: list[str] | tuple[str, ...] = (),
    *,
    search: bool = False,
    family: str | None = None,
    genus: str | None = None,
    script: str | None = None,
    macroarea: str | None = None,
    scope: str | None = None,
    context: str | None = None,
    resolve_macro: bool = True,
    limit: int | None = 50,
    catalog: LanguageCatalog | None = None,
) -> list[Language]:
    """The languages the ``languages`` command shows.

    With ``queries``: each one resolved with :meth:`LanguageCatalog.lookup` (or, with
    ``search=True``, every match of :meth:`LanguageCatalog.search`), in query order.
    Without: every language matching the filters, most spoken first. The filters
    (family, genus, script, macroarea, scope) narrow both.

    Raises:
        UnknownLanguageError: a query matched nothing (the message suggests close matches).

    Example:
        >>> [l.iso639_3 for l in select_languages(["swahili", "zh-TW"])]
        ['swh', 'cmn']
    """
    cat = catalog or get_catalog()
    if queries:
        found: list[Language] = []
        for q in queries:
            if search:
                found.extend(cat.search(q, limit=limit or 20))
            else:
                found.append(cat.lookup(q, context=context, resolve_macro=resolve_macro))
        langs = list(dict.fromkeys(found))
        if any(x is not None for x in (family, genus, script, macroarea, scope)):
            keep = set(cat.filter(family=family, genus=genus, script=script, macroarea=macroarea, scope=scope))
            langs = [lang for lang in langs if lang in keep]
        return langs
    langs = cat.filter(family=family, genus=genus, script=script, macroarea=macroarea, scope=scope)
    langs.sort(key=lambda lang: (-(lang.speakers or 0), lang.iso639_3))
    return langs[:limit] if limit else langs


def catalog_summary(catalog: LanguageCatalog | None = None, top: int = 15) -> dict:
    """Counts for ``lexiconlm languages`` without arguments: rows, coverage of each
    field, and the ``top`` families, macroareas and first scripts."""
    cat = catalog or get_catalog()
    langs = cat.all()
    coverage = {
        "family": sum(1 for lang in langs if lang.family),
        "genus": sum(1 for lang in langs if lang.genus),
        "scripts": sum(1 for lang in langs if lang.scripts),
        "coordinates": sum(1 for lang in langs if lang.latitude is not None),
        "speakers": sum(1 for lang in langs if lang.speakers is not None),
        "glottocode": sum(1 for lang in langs if lang.glottocode),
    }
    return {
        "languages": len(langs),
        "scope": dict(Counter(lang.scope for lang in langs).most_common()),
        "coverage": coverage,
        "families": Counter(lang.family or "(none)" for lang in langs).most_common(top),
        "macroareas": Counter(lang.macroarea or "(none)" for lang in langs).most_common(top),
        "first scripts": Counter(lang.scripts[0] if lang.scripts else "(none)" for lang in langs).most_common(top),
        "aliases": len(cat.aliases()),
        "alias contexts": [c for c in cat.contexts if c],
    }


def _row(lang: Language) -> list[str]:
    return [
        lang.iso639_3,
        lang.name,
        lang.family,
        lang.genus,
        " ".join(lang.scripts),
        f"{lang.speakers:,}" if lang.speakers is not None else "",
        lang.macroarea,
    ]


def _print_table(langs: list[Language], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in TABLE_COLUMNS:
        table.add_column(col, justify="right" if col == "speakers" else "left", overflow="fold")
    for lang in langs:
        table.add_row(*_row(lang))
    Console().print(table)


def _print_detail(cat: LanguageCatalog, lang: Language) -> None:
    from rich.console import Console
    from rich.table import Table

    info = cat.info(lang.iso639_3)
    table = Table(title=str(lang), show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for col in LANGUAGE_COLUMNS[1:]:
        value = info[col]
        if col == "alt_names":
            value = ", ".join(value.split("|"))
        elif col == "speakers" and value:
            value = f"{int(value):,}"
        table.add_row(col, value or "-")
    if lang.scope == "M":
        default = cat.macro_default(lang.iso639_3)
        table.add_row("default member", str(default) if default else "- (stays a macrolanguage)")
        table.add_row("members", ", ".join(m.iso639_3 for m in cat.members(lang.iso639_3)))
    table.add_row("tag", lang.tag())
    Console().print(table)


def _print_summary(s: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    n = s["languages"]
    console.print(
        f"[bold]{n:,} languages[/bold] (scope: "
        + ", ".join(f"{k} {v:,}" for k, v in s["scope"].items())
        + f"); {s['aliases']:,} aliases"
    )
    console.print("with " + ", ".join(f"{k} {v:,} ({v / n:.0%})" for k, v in s["coverage"].items()))
    for key in ("families", "macroareas", "first scripts"):
        table = Table(title=key, title_justify="left")
        table.add_column(key.rstrip("s").replace("familie", "family"))
        table.add_column("languages", justify="right")
        for name, count in s[key]:
            table.add_row(name, f"{count:,}")
        console.print(table)
    console.print("alias contexts: " + ", ".join(s["alias contexts"]))


def register(app: typer.Typer) -> None:
    @app.command("languages")
    def languages_cmd(
        queries: Optional[List[str]] = typer.Argument(
            None, help="Codes, BCP-47 tags or English names (ISO 639-3 swh, 639-1 sw, sw-KE, swahili, ancient_greek)."
        ),
        search: bool = typer.Option(False, "--search", "-s", help="Treat QUERY as text to search in names and codes."),
        detail: bool = typer.Option(False, "--detail", "-d", help="Show every field of each language."),
        family: Optional[str] = typer.Option(
            None, "--family", "-f", help="Only this Glottolog family, e.g. Austronesian."
        ),
        genus: Optional[str] = typer.Option(None, "--genus", "-g", help="Only this WALS genus, e.g. Bantu."),
        script: Optional[str] = typer.Option(
            None, "--script", help="Only languages written in this ISO 15924 script, e.g. Ethi."
        ),
        macroarea: Optional[str] = typer.Option(None, "--macroarea", "-m", help="Only this macroarea, e.g. Africa."),
        scope: Optional[str] = typer.Option(
            None, "--scope", help="I (individual), M (macrolanguage), S (special) or C (collective)."
        ),
        context: Optional[str] = typer.Option(
            None,
            "--context",
            "-c",
            help="Resource whose own codes apply, e.g. sigmorphon2023 (jap = Japanese), gatitos, wiktionary.",
        ),
        keep_macro: bool = typer.Option(
            False, "--keep-macro", help="Do not replace macrolanguages by their default language (swa stays swa)."
        ),
        limit: int = typer.Option(
            50, "--limit", "-n", min=0, help="At most this many rows when listing or searching (0: all)."
        ),
        tsv: bool = typer.Option(
            False, "--tsv", help="Print tab-separated rows (every catalog column) instead of tables."
        ),
    ) -> None:
        """Look up, search and summarise the language catalog (resources/languages.tsv).

        Without arguments: a summary (counts by family, macroarea, script). With QUERY: one row per language found; an unknown query is an error that suggests close matches. Filters alone list the matching languages, most spoken first.

        Examples:

          lexiconlm languages

          lexiconlm languages swahili sw-KE zh-Hant-TW ancient_greek

          lexiconlm languages jap --context sigmorphon2023

          lexiconlm languages amh --detail

          lexiconlm languages --search greek

          lexiconlm languages --family Kartvelian --tsv

          lexiconlm languages --script Ethi --macroarea Africa --limit 10
        """  # noqa: E501
        cat = get_catalog()
        queries = list(queries or [])
        filters = (family, genus, script, macroarea, scope)
        if not queries and all(x is None for x in filters):
            s = catalog_summary(cat, top=limit if 0 < limit < 50 else 15)
            if tsv:
                typer.echo("field\tvalue\tlanguages")
                for key in ("families", "macroareas", "first scripts"):
                    for name, count in s[key]:
                        typer.echo(f"{key}\t{name}\t{count}")
            else:
                _print_summary(s)
            return
        langs = select_languages(
            queries,
            search=search,
            family=family,
            genus=genus,
            script=script,
            macroarea=macroarea,
            scope=scope,
            context=context,
            resolve_macro=not keep_macro,
            limit=limit or None,
            catalog=cat,
        )
        if tsv:
            typer.echo("\t".join(LANGUAGE_COLUMNS))
            for lang in langs:
                info = cat.info(lang.iso639_3)
                typer.echo("\t".join(info[c] for c in LANGUAGE_COLUMNS))
            return
        if not langs:
            typer.echo("no language matches", err=True)
            raise typer.Exit(1)
        if detail:
            for lang in langs:
                _print_detail(cat, lang)
            return
        title = f"{len(langs)} language{'s' if len(langs) != 1 else ''}"
        if not queries and limit and len(langs) == limit:
            title += f" (first {limit}, most spoken first; --limit 0 for all)"
        _print_table(langs, title)
