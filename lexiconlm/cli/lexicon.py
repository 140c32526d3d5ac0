"""``lexiconlm lexicon``: induce lexicons from parallel text, evaluate them, merge them with dictionaries."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace
from pathlib import Path
from typing import List, Optional

import typer

from lexiconlm.errors import ConfigError
from lexiconlm.files import atomic_write_text

lexicon_app = typer.Typer(
    name="lexicon",
    help="Bilingual lexicons from parallel text: induce (eflomal / IBM-1 / Dice), eval, merge.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_CONFIG = Path("configs/lexicon/induce.yaml")
_LANGS_HELP = "Languages: 'all' (every language with parallel text), codes 'amh,quy', or @FILE (one code per line)."


def register(app: typer.Typer) -> None:
    app.add_typer(lexicon_app, name="lexicon")


def _parse_langs(value: Optional[str]) -> Optional[list[str]]:
    if value is None or value.strip() in ("", "all"):
        return None
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise ConfigError([f"--langs -> {path} does not exist (give @FILE with one ISO 639-3 code per line)"])
        codes = [ln.split("#")[0].strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    else:
        codes = value.split(",")
    from lexiconlm.languages import get_catalog

    catalog = get_catalog()
    return [catalog.lookup(c).iso639_3 for c in (c.strip() for c in codes) if c]


def _progress(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=0, desc=desc, unit="lang", dynamic_ncols=True)

    def update(done: int, total: int, iso: str) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.set_postfix_str(iso)
        bar.refresh()

    return bar, update


def _write_csv(path: Path, rows: list[dict]) -> Path:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return atomic_write_text(path, buf.getvalue())


@lexicon_app.command("induce")
def induce_cmd(
    config: Path = typer.Option(_CONFIG, "--config", "-c", help="Induction YAML (corpora, aligner, thresholds)."),
    langs: Optional[str] = typer.Option("all", "--langs", "-l", help=_LANGS_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default: the config's `out`)."),
    aligner: Optional[str] = typer.Option(None, "--aligner", help="eflomal (default), ibm1 or dice."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Processes (default: the CPUs)."),
    set_: List[str] = typer.Option([], "--set", help="Override a setting: key=value (e.g. min_prob=0.2); repeatable."),
    list_: bool = typer.Option(False, "--list", help="List the languages with parallel text and exit."),
) -> None:
    """Induce an English → X lexicon for every language with parallel text (UDHR, Bible, FLORES).

    Writes OUT/en_<iso>.tsv (lexicon TSV: source, target, weight = p(t|s), links, source_freq,
    provenance) and OUT/en_<iso>.json (signature, counts, CPU time) per language, and
    OUT/summary.csv. Languages already induced with the same settings and data are reused,
    so an interrupted run resumes. By default only the units outside the held-out half are
    aligned (units: train).

    Examples:

      lexiconlm lexicon induce --langs all

      lexiconlm lexicon induce --langs amh,quy --aligner ibm1 --out runs/lexicon/ibm1
    """
    from lexiconlm.lexicon.induce import induce_all, load_induce_config
    from lexiconlm.lexicon.parallel import find_parallel_files

    overrides = list(set_)
    if aligner:
        overrides.append(f"aligner={aligner}")
    if workers is not None:
        overrides.append(f"workers={workers}")
    cfg = load_induce_config(config, overrides)
    if out is not None:
        cfg = replace(cfg, out=out.resolve())
    if list_:
        for iso, fs in find_parallel_files(cfg.corpora).items():
            typer.echo(f"{iso}\t{'+'.join(sorted({f.corpus for f in fs}))}")
        return
    codes = _parse_langs(langs)
    bar, update = _progress(f"induce ({cfg.aligner})")
    start = time.perf_counter()
    try:
        rows = induce_all(cfg, codes, progress=update)
    finally:
        bar.close()
    wall = time.perf_counter() - start
    n100 = sum(1 for r in rows if r["sources"] >= 100)
    n20 = sum(1 for r in rows if r["sources"] >= 20)
    reused = sum(1 for r in rows if r.get("reused"))
    cpu = sum(r.get("cpu_seconds") or 0 for r in rows)
    typer.echo(
        f"{len(rows)} languages ({reused} reused) in {wall:.0f} s wall, {cpu:.0f} CPU-s of alignment: "
        f"{n100} with >= 100 English words translated, {n20} with >= 20; written to {cfg.out}"
    )


@lexicon_app.command("eval")
def eval_cmd(
    config: Path = typer.Option(_CONFIG, "--config", "-c", help="Induction YAML (corpora, units, prefix_len)."),
    reference: List[Path] = typer.Option(
        [], "--reference", "-r", help="Dictionary folder to evaluate against (repeatable; Wiktionary, GATITOS ...)."
    ),
    aligners: str = typer.Option("eflomal,ibm1,dice", "--aligners", help="Comma-separated aligners to compare."),
    langs: Optional[str] = typer.Option("all", "--langs", "-l", help=_LANGS_HELP),
    out: Path = typer.Option(
        Path("runs/lexicon/eval"), "--out", "-o", help="Folder for rows.csv, summary.csv, summary.md."
    ),
    workers: int = typer.Option(0, "--workers", help="Processes (default: the CPUs)."),
    set_: List[str] = typer.Option([], "--set", help="Override a setting of the config: key=value; repeatable."),
) -> None:
    """Precision@1/@5 of induced candidates against dictionaries, by frequency band and corpus.

    For every language with parallel text and a dictionary in --reference: each corpus alone
    (and all together when it has several), each aligner; the dictionary is never used by
    induction. Writes OUT/rows.csv (language x corpus x aligner x band), OUT/summary.csv and
    OUT/summary.md (micro-averages).

    Example:

      lexiconlm lexicon eval -r ../shared/data/lexicons/wiktionary -r ../shared/data/lexicons/gatitos
    """
    from lexiconlm.lexicon.evaluate import evaluate_induction, summarize
    from lexiconlm.lexicon.induce import ALIGNER_NAMES, load_induce_config

    if not reference:
        raise ConfigError(["--reference -> give at least one dictionary folder (e.g. ../shared/data/lexicons/gatitos)"])
    names = [a.strip() for a in aligners.split(",") if a.strip()]
    bad = [a for a in names if a not in ALIGNER_NAMES]
    if bad or not names:
        raise ConfigError([f"--aligners -> unknown {bad}; choose among {', '.join(ALIGNER_NAMES)}"])
    cfg = load_induce_config(config, list(set_))
    bar, update = _progress("eval")
    start = time.perf_counter()
    try:
        rows = evaluate_induction(
            cfg, reference, aligners=names, langs=_parse_langs(langs), workers=workers, progress=update
        )
    finally:
        bar.close()
    summary = summarize(rows)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "rows.csv", rows)
    _write_csv(out / "summary.csv", summary)
    md = [
        "| corpus | aligner | band | languages | items | p@1 | p@5 | p@1 prefix |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in summary:
        md.append(
            f"| {r['corpus']} | {r['aligner']} | {r['band']} | {r['languages']} | {r['items']} | "
            f"{r['p@1']} | {r['p@5']} | {r['p@1_prefix']} |"
        )
    atomic_write_text(out / "summary.md", "\n".join(md) + "\n")
    typer.echo("\n".join(md))
    typer.echo(
        f"{len({r['iso639_3'] for r in rows})} languages in {time.perf_counter() - start:.0f} s; written to {out}"
    )


@lexicon_app.command("merge")
def merge_cmd(
    induced: Path = typer.Option(Path("runs/lexicon/induced"), "--induced", help="Folder of induced en_<iso>.tsv."),
    dictionary: List[Path] = typer.Option(
        [], "--dict", "-d", help="Dictionary folder (repeatable), preferred in this order."
    ),
    out: Path = typer.Option(Path("runs/lexicon/merged"), "--out", "-o", help="Output folder of merged en_<iso>.tsv."),
    langs: Optional[str] = typer.Option("all", "--langs", "-l", help=_LANGS_HELP),
    induced_weight: float = typer.Option(
        0.5, "--induced-weight", help="Weight factor of induced-only entries, in (0, 1)."
    ),
) -> None:
    """Merge dictionaries and induced lexicons into one lexicon per language, with provenance.

    Dictionary entries come first (weight 1, or 1 + p(t|s) when the parallel text confirms
    them); induced entries fill the words the dictionaries lack (weight induced_weight x p).

    Example:

      lexiconlm lexicon merge -d ../shared/data/lexicons/gatitos -d ../shared/data/lexicons/wiktionary
    """
    from lexiconlm.lexicon.merge import merge_all

    bar, update = _progress("merge")
    try:
        rows = merge_all(
            dictionary, induced, out, langs=_parse_langs(langs), induced_weight=induced_weight, progress=update
        )
    finally:
        bar.close()
    _write_csv(out / "summary.csv", rows)
    n100 = sum(1 for r in rows if r["merged_sources"] >= 100)
    typer.echo(f"{len(rows)} languages merged ({n100} with >= 100 English words); written to {out}")
