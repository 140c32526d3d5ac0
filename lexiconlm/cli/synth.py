"""``lexiconlm synth ...``: synthetic data from lexicons.

Commands: ``mono`` (one pseudo-monolingual corpus), ``batch`` (every language
with a lexicon, in parallel, resumable), ``hygiene`` (script-consistency report),
``source`` (the English source built from the shared data). Other modules add
commands to the same sub-app: ``synth_app`` is a module-level ``typer.Typer``,
so ``@synth_app.command("label")`` (or a ``register_*(synth_app)`` function
called from here) attaches one.

Each command is a thin wrapper over a plain function in :mod:`lexiconlm.synth`.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from lexiconlm.cli._options import output_file

__all__ = ["synth_app", "register"]

synth_app = typer.Typer(
    name="synth",
    help="Synthesize training data from bilingual lexicons (word-by-word translation).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_SENSE_HELP = (
    "Sense strategy: random, first, frequency, prefer-consensus, corpus-frequency (needs --target-text) "
    "(or a versioned name such as random.v1)."
)
_OOV_HELP = (
    "Out-of-lexicon words: keep, drop or transliterate (through IPA, where epitran can write the target script)."
)
_HYG_HELP = (
    "Lexicon hygiene: script.v1 (one script per language), script-any.v1 (any script the catalog lists) or none."
)


def _hygiene(policy: str, target_script: Optional[str]):
    from lexiconlm.synth.hygiene import HygieneConfig

    if policy == "none" and not target_script:
        return None
    return HygieneConfig(policy if policy != "none" else "script.v1", target_script)


@synth_app.command("mono")
def mono_cmd(
    lexicon: Path = typer.Option(..., "--lexicon", "-l", help="Lexicon file (any format lexiconlm reads)."),
    source: Path = typer.Option(
        ..., "--source", "-s", help="Source-language text, one sentence per line (or id<TAB>text)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", callback=output_file, help="Output text file; OUT.json gets the signature and stats."
    ),
    sense: str = typer.Option("random", help=_SENSE_HELP),
    oov: str = typer.Option("keep", help=_OOV_HELP),
    seed: int = typer.Option(13, min=0, help="Random seed."),
    hygiene: str = typer.Option("script.v1", help=_HYG_HELP),
    target_script: Optional[str] = typer.Option(None, help="Keep only targets in this ISO 15924 script, e.g. Latn."),
    min_replaced: int = typer.Option(
        0, min=0, help="Keep sentences with at least this many words replaced (Wang et al. 2022: 3)."
    ),
    min_ratio: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Keep sentences whose replacement ratio is at least this."
    ),
    limit: Optional[int] = typer.Option(None, min=1, help="Only the first N source sentences."),
    target_text: Optional[Path] = typer.Option(
        None,
        "--target-text",
        help="Real target-language text (one sentence per line or id<TAB>text) whose word "
        "frequencies the corpus-frequency sense strategy uses.",
    ),
) -> None:
    """Translate a source text file word by word into a pseudo target-language corpus.

    Example:

      lexiconlm synth mono -l ../shared/data/lexicons/wiktionary/indonesian.txt -s ../shared/data/text/flores200_dev/eng_Latn.dev -o runs/synth/ind.txt --min-replaced 3
    """  # noqa: E501
    import warnings

    from lexiconlm.io.lexicons import read_lexicon
    from lexiconlm.synth.hygiene import check_direction
    from lexiconlm.synth.pseudo_mono import (
        encode_corpus,
        read_source,
        translate_corpus,
        write_result,
    )
    from lexiconlm.synth.translate import LexiconTranslator

    lex = read_lexicon(lexicon, errors="collect")
    tgt_texts = None
    if target_text is not None:
        from lexiconlm.io.text import read_text

        tgt_texts = read_text(target_text, errors="collect").texts
    tr = LexiconTranslator(
        lex, sense=sense, oov=oov, seed=seed, hygiene=_hygiene(hygiene, target_script), target_text=tgt_texts
    )
    texts = read_source(source, limit=limit)
    if not texts:
        from lexiconlm.errors import LexiconLMError

        raise LexiconLMError(f"{source}: no text to translate")
    corpus = encode_corpus(texts, name=str(source))
    vocab = {w for w, ok in zip(corpus.lowered, corpus.is_word.tolist()) if ok}
    check = check_direction(lex, vocab)
    if not check.ok:
        typer.secho(f"warning: {check.message}", err=True, fg=typer.colors.YELLOW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = translate_corpus(tr, corpus, min_replaced=min_replaced, min_ratio=min_ratio)
    s = res.stats
    if s.n_words == 0:
        typer.secho(
            f"warning: {source}: no words in the {s.n_sentences:,} source sentence(s), only "
            "punctuation, digits or symbols; nothing can be translated (the output copies them)",
            err=True,
            fg=typer.colors.YELLOW,
        )
    if s.n_kept == 0:
        from lexiconlm.errors import LexiconLMError

        words = corpus.words_per_sentence.tolist()
        best = max((round(r * w) for r, w in zip(res.ratios.tolist(), words)), default=0)
        raise LexiconLMError(
            f"no sentence of {source} passed the filters (--min-replaced {min_replaced}, "
            f"--min-ratio {min_ratio:g}); nothing written to {out} (fix: lower them: at most "
            f"{best} word(s) were replaced in a sentence, the highest ratio was "
            f"{float(res.ratios.max(initial=0.0)):.2f})"
        )
    write_result(res, out, extra={"source": str(source), "min_replaced": min_replaced, "min_ratio": min_ratio})
    rep = tr.hygiene_report
    if rep is not None and rep.n_dropped:
        typer.echo(
            f"hygiene {rep.policy}: kept {rep.n_kept:,}/{rep.n_entries:,} entries "
            f"(dropped {', '.join(f'{k} {v:,}' for k, v in rep.dropped.items())})"
        )
    typer.echo(
        f"{s.n_kept:,}/{s.n_sentences:,} sentences kept, coverage {s.coverage:.1%} of {s.n_words:,} source words, "
        f"mean ratio {s.mean_ratio:.2f}, {s.entries_used:,} entries used, "
        f"{s.n_tokens / max(s.seconds, 1e-9) / 1e6:.2f} M tokens/s"
    )
    typer.echo(f"wrote {out} ({tr.signature})")


@synth_app.command("batch")
def batch_cmd(
    lexicon_dir: List[Path] = typer.Option(..., "--lexicon-dir", "-d", help="Folder of lexicon files (repeatable)."),
    out: Path = typer.Option(
        Path("runs/synth"), "--out", "-o", help="Output folder (summary.tsv, summary.json, one text per lexicon)."
    ),
    langs: str = typer.Option("all", help="'all', or comma-separated codes/names of the target languages."),
    source: Optional[Path] = typer.Option(None, "--source", "-s", help="Source text file (one sentence per line)."),
    data_dir: Optional[Path] = typer.Option(
        None, help="Build the 10,000-sentence English source from this shared data folder instead of --source."
    ),
    n_sentences: int = typer.Option(10_000, "--n-sentences", min=1, help="Sentences of the built English source."),
    workers: int = typer.Option(2, "--workers", "-w", min=0, help="Processes (1: in this process)."),
    sense: str = typer.Option("random", help=_SENSE_HELP),
    oov: str = typer.Option("keep", help=_OOV_HELP),
    seed: int = typer.Option(13, min=0, help="Random seed."),
    hygiene: str = typer.Option("script.v1", help=_HYG_HELP),
    min_replaced: int = typer.Option(0, min=0, help="Keep sentences with at least this many words replaced."),
    min_ratio: float = typer.Option(
        0.0, min=0.0, max=1.0, help="Keep sentences whose replacement ratio is at least this."
    ),
    show: int = typer.Option(20, min=0, help="Rows of the summary to print (0: none)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
) -> None:
    """Synthesize a pseudo-monolingual corpus for every language that has a lexicon.

    Resumable: a lexicon whose output exists with the same signature, lexicon and
    source is skipped. Outputs are written atomically; OUT/summary.tsv lists one
    row per lexicon (entries, entries kept after hygiene, coverage, replacement
    ratio, sentences kept, output, seconds).

    Example:

      lexiconlm synth batch --langs all --lexicon-dir ../shared/data/lexicons/wiktionary --data-dir ../shared/data --out runs/synth/wiktionary
    """  # noqa: E501
    from lexiconlm.errors import LexiconLMError
    from lexiconlm.synth.batch import BatchConfig, english_source, lexicon_files, run_batch
    from lexiconlm.synth.pseudo_mono import read_source

    if (source is None) == (data_dir is None):
        raise LexiconLMError("give either --source FILE or --data-dir DIR (to build the English source)")
    if source is not None:
        texts, desc = read_source(source), str(source)
    else:
        texts, desc = english_source(data_dir, n_sentences)
    files = lexicon_files(lexicon_dir, langs)
    cfg = BatchConfig(sense=sense, oov=oov, seed=seed, hygiene=hygiene, min_replaced=min_replaced, min_ratio=min_ratio)
    typer.echo(f"{len(files):,} lexicons, source: {desc}, {workers} worker(s)", err=True)
    res = run_batch(files, texts, out, config=cfg, workers=workers, progress=progress, source_name=desc)
    ok = [r for r in res.rows if r["status"] == "ok"]
    typer.echo(
        f"{len(res.rows):,} lexicons: {res.n_done:,} synthesized, {res.n_skipped:,} reused, "
        f"{res.n_failed:,} failed, in {res.seconds:.1f} s; summary: {res.summary_tsv}"
    )
    if show and ok:
        _print_rows(
            sorted(ok, key=lambda r: -float(r["coverage"] or 0))[:show], f"top {min(show, len(ok))} by coverage"
        )
    failed = [r for r in res.rows if r["status"] != "ok"]
    for r in failed[:10]:
        typer.echo(f"  {Path(r['lexicon']).name}: {r['status']}", err=True)
    if len(failed) > 10:
        typer.echo(f"  ... {len(failed) - 10} more in {res.summary_tsv}", err=True)


def _print_rows(rows: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    cols = ("language", "lexicon", "entries", "entries_kept", "coverage", "mean_ratio", "sentences_kept", "seconds")
    table = Table(title=title, title_justify="left")
    for c in cols:
        table.add_column(c, justify="left" if c in ("language", "lexicon") else "right")
    for r in rows:
        vals = []
        for c in cols:
            v = r.get(c, "")
            if c == "lexicon":
                v = Path(str(v)).name
            elif c in ("coverage", "mean_ratio") and v != "":
                v = f"{float(v):.3f}"
            vals.append(str(v))
        table.add_row(*vals)
    Console().print(table)


@synth_app.command("hygiene")
def hygiene_cmd(
    lexicons: Optional[List[Path]] = typer.Argument(None, help="Lexicon files."),
    lexicon_dir: Optional[List[Path]] = typer.Option(
        None, "--lexicon-dir", "-d", help="Also every lexicon of this folder."
    ),
    policy: str = typer.Option("script.v1", help=_HYG_HELP),
    target_script: Optional[str] = typer.Option(None, help="Require this ISO 15924 script, e.g. Latn."),
    tsv: bool = typer.Option(False, "--tsv", help="Tab-separated rows instead of a table."),
) -> None:
    """Report what the script-consistency filter drops from each lexicon (entries per script).

    Example:

      lexiconlm synth hygiene ../shared/data/lexicons/wiktionary/javanese.txt ../shared/data/lexicons/wiktionary/azerbaijani.txt
    """  # noqa: E501
    from lexiconlm.errors import LexiconLMError
    from lexiconlm.io.lexicons import iter_lexicon_files, read_lexicon
    from lexiconlm.synth.hygiene import EmptyLexiconError, HygieneConfig, filter_lexicon

    files = list(lexicons or [])
    for d in lexicon_dir or []:
        files.extend(iter_lexicon_files(d))
    if not files:
        raise LexiconLMError("give lexicon files or --lexicon-dir")
    cfg = HygieneConfig(policy, target_script)
    cols = (
        "lexicon",
        "language",
        "target_script",
        "script_source",
        "entries",
        "kept",
        "dropped",
        "dropped_share",
        "dropped_by_script",
    )
    rows = []
    for f in files:
        lex = read_lexicon(f, errors="collect")
        try:
            _, rep = filter_lexicon(lex, cfg)
            row = {"lexicon": Path(f).name, **rep.as_row()}
        except EmptyLexiconError as exc:
            row = {"lexicon": Path(f).name, "language": lex.tgt.code, "dropped_by_script": f"error: {exc}"}
        rows.append(row)
    if tsv:
        typer.echo("\t".join(cols))
        for r in rows:
            typer.echo("\t".join(str(r.get(c, "")) for c in cols))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"hygiene {cfg.name}", title_justify="left")
    for c in cols:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(str(r.get(c, "")) for c in cols))
    Console().print(table)


@synth_app.command("source")
def source_cmd(
    data_dir: Path = typer.Option(..., help="The shared data folder (…/shared/data)."),
    out: Path = typer.Option(
        ..., "--out", "-o", callback=output_file, help="Where to write the sentences, one per line."
    ),
    n_sentences: int = typer.Option(10_000, "--n-sentences", min=1, help="How many sentences."),
) -> None:
    """Write the English source used by batch runs: FLORES-200 dev English, then MASSIVE en-US train utterances.

    Example:

      lexiconlm synth source --data-dir ../shared/data --out runs/synth/en_10k.txt
    """
    from lexiconlm.io.text import write_text
    from lexiconlm.synth.batch import english_source

    texts, desc = english_source(data_dir, n_sentences)
    write_text(texts, out, format="lines")
    typer.echo(f"wrote {out}: {desc}")


def register(app: typer.Typer) -> None:
    """Attach ``synth`` (with ``label`` and ``morph`` from :mod:`lexiconlm.cli.synth_label`) to the main app."""
    from lexiconlm.cli.synth_label import register as register_label

    if "label" not in {c.name for c in synth_app.registered_commands}:
        register_label(synth_app)
    app.add_typer(synth_app, name="synth")
