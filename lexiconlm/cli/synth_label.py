"""``lexiconlm synth label`` and ``lexiconlm synth morph``: pseudo-labelled data with label projection.

``register(synth_app)`` adds both commands to the ``synth`` sub-app. Each is a thin
wrapper over :func:`lexiconlm.synth.pseudo_label.label_file` and
:func:`lexiconlm.synth.morph_augment.morph_file`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lexiconlm.cli._options import output_file

__all__ = ["label_cmd", "morph_cmd", "register"]

_SENSE_HELP = "Sense strategy: random, first, frequency, prefer-consensus (or a versioned name such as random.v1)."
_OOV_HELP = "Out-of-lexicon words: keep, drop or transliterate."
_HYG_HELP = "Lexicon hygiene: script.v1 (one script per language), script-any.v1 or none."


def _lexicon_path(lexicon: Path | None, lexicon_dir: list[Path], locale: str | None) -> Path:
    """The lexicon given, or the largest one ``find_lexicons`` finds for the locale in the folders
    (e.g. for nb-NO the 5,000-entry ``norwegian_bokmål.txt``, not the 394-entry ``norwegian.txt``)."""
    from lexiconlm.errors import LexiconLMError

    if lexicon is not None:
        return lexicon
    if not lexicon_dir or not locale:
        raise LexiconLMError("give --lexicon FILE, or --lexicon-dir DIR with --locale to find one")
    from lexiconlm.io.locate import find_lexicons

    found = find_lexicons(locale, lexicon_dir)
    if not found:
        raise LexiconLMError(f"no lexicon for {locale} in {', '.join(map(str, lexicon_dir))}; give --lexicon FILE")
    found = sorted(found, key=lambda p: -p.stat().st_size)  # stable: folder order among equals
    typer.echo(
        f"lexicon for {locale}: {found[0]}"
        + (f" (also: {', '.join(p.name for p in found[1:])})" if len(found) > 1 else ""),
        err=True,
    )
    return found[0]


def _guard(guard_sigmorphon: list[Path], guard_massive: list[Path], language: str | None):
    if not guard_sigmorphon and not guard_massive:
        return None
    from lexiconlm.leakage import LeakageGuard

    g = LeakageGuard()
    if guard_sigmorphon:
        g.add_sigmorphon(guard_sigmorphon, language=language)
    if guard_massive:
        g.add_massive(guard_massive)
    typer.echo(f"leakage guard: {g!r}", err=True)
    return g


def _print_stats(stats, what: str) -> None:
    typer.echo(
        f"{stats.n_utterances:,} {what}: {stats.n_replaced:,}/{stats.n_words:,} words translated "
        f"({stats.token_ratio:.1%}); slot values fully translated {stats.n_slots_translated:,}/{stats.n_slots:,} "
        f"({stats.slot_ratio:.1%}), partly {stats.slot_partial_ratio:.1%}; "
        f"{stats.n_slots_restored:,} slot(s) kept their source words"
    )


def label_cmd(
    input: Path = typer.Argument(..., help="MASSIVE TSV / JSON lines, or a CoNLL file (token + tag columns)."),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        callback=output_file,
        help="Output file (MASSIVE: .tsv or .jsonl); OUT.signature is written beside it.",
    ),
    lexicon: Path | None = typer.Option(None, "--lexicon", "-l", help="Lexicon file."),
    lexicon_dir: list[Path] = typer.Option(
        [],
        "--lexicon-dir",
        "-d",
        help="Find the lexicon of --locale in these folders (repeatable; the first match is used).",
    ),
    locale: str | None = typer.Option(
        None, help="Target locale written into MASSIVE output, e.g. jv-ID (default: the lexicon's language)."
    ),
    input_format: str = typer.Option("auto", help="auto, massive or conll."),
    sense: str = typer.Option("random", help=_SENSE_HELP),
    oov: str = typer.Option("keep", help=_OOV_HELP),
    seed: int = typer.Option(13, help="Random seed (each utterance is seeded with it and its id)."),
    hygiene: str = typer.Option("script.v1", help=_HYG_HELP),
    target_script: str | None = typer.Option(None, help="Keep only targets in this ISO 15924 script, e.g. Latn."),
    limit: int | None = typer.Option(None, min=1, help="Only the first N utterances / sentences."),
    guard_massive: list[Path] = typer.Option(
        [], "--guard-massive", help="Evaluation MASSIVE files: refuse output holding their ids or texts (repeatable)."
    ),
    join: str = typer.Option(
        "script",
        help="script: join words of scripts written without spaces (as MASSIVE ja/zh); "
        "spaces: always a space (as MASSIVE th/km).",
    ),
) -> None:
    """Translate labelled data through a lexicon and project the labels (MASSIVE slots or CoNLL BIO tags).

    The whole input is checked first; a malformed line anywhere stops the run with
    every bad line listed as file:line, and nothing is written.

    Example:

      lexiconlm synth label ../shared/data/nlu/massive/en-US/train.tsv -l ../shared/data/lexicons/wiktionary/javanese.txt --locale jv-ID -o runs/label/jv-ID.train.tsv
    """  # noqa: E501
    from lexiconlm.synth.pseudo_label import label_file

    lex = _lexicon_path(lexicon, lexicon_dir, locale)
    res = label_file(
        input,
        out,
        lexicon=lex,
        locale=locale,
        input_format=input_format,
        sense=sense,
        oov=oov,
        seed=seed,
        hygiene=hygiene,
        target_script=target_script,
        limit=limit,
        guard=_guard([], guard_massive, None),
        join=join,
    )
    _print_stats(res.stats, "items")
    typer.echo(f"wrote {res.output} ({res.signature})")


def morph_cmd(
    input: Path = typer.Argument(..., help="MASSIVE TSV / JSON lines in English (e.g. en-US/train.tsv)."),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        callback=output_file,
        help="Output MASSIVE file (.tsv or .jsonl); OUT.signature and OUT.morph.json are written beside it.",
    ),
    unimorph: Path = typer.Option(..., "--unimorph", "-u", help="The target language's UniMorph table."),
    english: list[Path] = typer.Option(
        ..., "--english", "-e", help="English inflection table(s), e.g. sigmorphon/2023_part1/eng.trn (repeatable)."
    ),
    locale: str = typer.Option(..., help="Target locale, e.g. hi-IN."),
    lexicon: Path | None = typer.Option(None, "--lexicon", "-l", help="Lexicon file."),
    lexicon_dir: list[Path] = typer.Option(
        [], "--lexicon-dir", "-d", help="Find the lexicon of --locale in these folders (repeatable)."
    ),
    expansion: Path | None = typer.Option(
        None, "--expansion", "-x", help="Also write the paradigm-expansion lexicon (TSV) here."
    ),
    guard_sigmorphon: list[Path] = typer.Option(
        [], "--guard-sigmorphon", help="SIGMORPHON files or folders whose dev/test items must not leak (repeatable)."
    ),
    guard_massive: list[Path] = typer.Option([], "--guard-massive", help="Evaluation MASSIVE files (repeatable)."),
    on_leak: str = typer.Option(
        "error", help="error: refuse, listing every leaked item; drop: remove evaluation items from the table first."
    ),
    no_guard: bool = typer.Option(
        False,
        "--no-guard",
        help="State that no evaluation data needs guarding "
        "(otherwise --guard-sigmorphon or --guard-massive is required).",
    ),
    generate_english: bool = typer.Option(
        False, help="Also analyse English verbs the tables lack (forms generated by the English affix model)."
    ),
    plural_nouns: bool = typer.Option(
        False,
        help="Also give regular English plurals (alarms, cities) the plural of their translation "
        "where the table has a noun paradigm for it.",
    ),
    inflector: bool = typer.Option(
        True, help="Inflect lemmas missing from the table with an inflector trained on it (--inflector-system)."
    ),
    inflector_system: str = typer.Option(
        "affix",
        help="affix (rules, instant), transducer (neural, trained on the table) or auto (the better of the two "
        "on held-out lemmas of the table).",
    ),
    inflector_dir: Path | None = typer.Option(
        None, help="Where transducer/auto train their models (default: OUT.inflector/; reused by the next run)."
    ),
    lemma_fallback: bool = typer.Option(True, help="Give the translated lemma when no inflected form exists."),
    sense: str = typer.Option("random", help=_SENSE_HELP),
    oov: str = typer.Option("keep", help=_OOV_HELP),
    seed: int = typer.Option(13, help="Random seed."),
    hygiene: str = typer.Option("script.v1", help=_HYG_HELP),
    limit: int | None = typer.Option(None, min=1, help="Only the first N utterances."),
) -> None:
    """Pseudo-labelled MASSIVE data where inflected English verbs (and, with --plural-nouns, plural nouns) get inflected target forms.

    Example:

      lexiconlm synth morph ../shared/data/nlu/massive/en-US/train.tsv --locale hi-IN -d ../shared/data/lexicons/wiktionary -u ../shared/data/unimorph/hin.tsv -e ../shared/data/sigmorphon/2023_part1/eng.trn -e ../shared/data/sigmorphon/2023_part1/eng.dev --guard-sigmorphon ../shared/data/sigmorphon -x runs/morph/hi.expansion.tsv -o runs/morph/hi-IN.train.tsv
    """  # noqa: E501
    from lexiconlm.languages import get_catalog
    from lexiconlm.synth.morph_augment import morph_file

    if on_leak not in ("error", "drop"):
        raise typer.BadParameter("--on-leak must be error or drop")
    if not (guard_sigmorphon or guard_massive or no_guard):
        from lexiconlm.errors import LexiconLMError

        raise LexiconLMError(
            "the UniMorph table is training data for this command: give --guard-sigmorphon DIR "
            "(SIGMORPHON dev/test items to keep out, e.g. ../shared/data/sigmorphon) and/or "
            "--guard-massive FILE, or --no-guard to state that there is no evaluation set to protect"
        )
    lex = _lexicon_path(lexicon, lexicon_dir, locale)
    lang = get_catalog().lookup(locale)
    codes = {lang.iso639_3, lang.macrolanguage} - {""}
    guard = None
    if guard_sigmorphon or guard_massive:
        from lexiconlm.leakage import LeakageGuard

        guard = LeakageGuard()
        for code in sorted(codes) or [None]:
            guard.add_sigmorphon([p for p in guard_sigmorphon if p.is_dir()], language=code)
        guard.add_sigmorphon([p for p in guard_sigmorphon if not p.is_dir()])
        guard.add_massive(guard_massive)
        typer.echo(f"leakage guard: {guard!r}", err=True)
    res = morph_file(
        input,
        out,
        lexicon=lex,
        unimorph=unimorph,
        english=english,
        locale=locale,
        expansion=expansion,
        guard=guard,
        on_leak=on_leak,  # type: ignore[arg-type]
        generate_english=generate_english,
        use_inflector=inflector,
        inflector=inflector_system,
        inflector_dir=inflector_dir,
        lemma_fallback=lemma_fallback,
        plural_nouns=plural_nouns,
        sense=sense,
        oov=oov,
        seed=seed,
        hygiene=hygiene,
        limit=limit,
    )
    st = res.stats
    _print_stats(res.projection.stats, "utterances")  # type: ignore[attr-defined]
    typer.echo(
        f"morphology: {st.n_analysed:,} inflected English tokens; {st.n_inflected:,} got an inflected form "
        f"({st.n_table:,} from the table, {st.n_inflector:,} from the {inflector_system} inflector), "
        f"{st.n_same_form:,} a form equal to the lemma, {st.n_no_form:,} no form, "
        f"{st.n_no_translation:,} no translation of the lemma"
    )
    for m in res.mappings:
        typer.echo(f"  feature mapping {m.describe()}")
    if res.table_leaks:
        typer.echo(f"dropped {len(res.table_leaks):,} evaluation item(s) from the table before use")
    import json

    bad = json.loads(res.report.read_text(encoding="utf-8")).get("table_problems", [])
    if bad:
        typer.echo(f"skipped {len(bad):,} bad line(s) of the table (listed in {res.report}); first: {bad[0]}", err=True)
    if res.expansion is not None:
        typer.echo(f"wrote {res.expansion} ({res.n_expanded:,} entries)")
    typer.echo(f"wrote {res.output} and {res.report}")


def register(synth_app: typer.Typer) -> None:
    """Add ``label`` and ``morph`` to the ``synth`` sub-app."""
    synth_app.command("label")(label_cmd)
    synth_app.command("morph")(morph_cmd)
