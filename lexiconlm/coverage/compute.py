"""One row per catalog language: which resources exist for it and how much.

:func:`compute_coverage` lists the files of every configured resource (see
:mod:`lexiconlm.coverage.config`), reads each file once with the project's reader for
its kind and keeps its statistics (language, counts) in a cache keyed by
``(absolute path, size, mtime_ns)``: a second run stats the files, reads only those
that changed and rebuilds the table from the cached statistics. The result is a
:class:`CoverageTable` with one row for each of the ~7,900 catalog languages, whether
or not any resource has it, and ``sources``: for each resource the folders, the files
read and skipped, the problems found and the languages the catalog does not know
(``unresolved``), which are reported there and never dropped silently.

The pieces: :mod:`~lexiconlm.coverage.stats` (one file's statistics),
:mod:`~lexiconlm.coverage.cache` (the cache, listing and reading the configured files),
:mod:`~lexiconlm.coverage.table` (the columns, :class:`CoverageTable`, CSV),
:mod:`~lexiconlm.coverage.tiers` (resource predicates and the tier of a row, from
``resources/tiers.tsv``).

Example:
    >>> table = compute_coverage("configs/coverage/demo.yaml")    # doctest: +SKIP
    >>> table.row("ind")["lex_total_entries"], table.row("ind")["tier_label"]  # doctest: +SKIP
    (5888, '+text')
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

from lexiconlm import __version__
from lexiconlm.coverage.aggregate import summary_markdown
from lexiconlm.coverage.cache import collect
from lexiconlm.coverage.config import CoverageConfig, load_config
from lexiconlm.coverage.table import COLUMNS, CoverageTable, sources_path
from lexiconlm.coverage.tiers import KIND_ORDER, RESOURCES, load_tiers, tier_of
from lexiconlm.files import atomic_write_text
from lexiconlm.languages import get_catalog
from lexiconlm.phonology import installed_maps
from lexiconlm.resources import resource_path

__all__ = [
    "DEFAULT_TABLE",
    "TABLE_VERSION",
    "compute_coverage",
    "file_statistics",
    "load_or_compute",
    "save_coverage",
]

#: Where ``lexiconlm coverage compute`` writes by default (relative to the working folder).
DEFAULT_TABLE = Path("runs") / "coverage" / "coverage.csv"
#: Version of the row definition (recorded in every table's signature).
TABLE_VERSION = "coverage.v1"
_MAX_PROBLEMS = 200


# --------------------------------------------------------------------------- epitran

_EPITRAN_CODE = re.compile(r"^(?P<lang>[a-z]{3})-(?P<script>[A-Za-z]{4})(?:[-_](?P<variant>.+))?$")


def _epitran_index(catalog) -> tuple[dict[str, list[str]], dict]:
    folder, codes = installed_maps()
    source: dict = {
        "kind": "epitran",
        "name": "epitran",
        "folders": [str(folder)] if folder else [],
        "absent": [],
        "files": len(codes),
        "files_read": 0,
        "files_cached": 0,
        "skipped": [],
        "problems": [],
        "n_problems": 0,
        "warnings": 0,
        "unresolved": [],
        "languages": 0,
    }
    if folder is None:
        source["absent"] = ["epitran is not installed: pip install 'lexiconlm[phon]'"]
    out: dict[str, list[str]] = defaultdict(list)
    for code in codes:
        m = _EPITRAN_CODE.match(code)
        lang = catalog.find(m["lang"], names=False) if m else None
        if lang is None:
            source["unresolved"].append({"name": code, "file": str(folder / f"{code}.csv") if folder else code})
            continue
        script = m["script"].capitalize()
        tag = f"{m['lang']}-{script}" + (f"-{m['variant']}" if m["variant"] else "")
        out[lang.iso639_3].append(tag)
    source["languages"] = sum(1 for c in out if c in catalog)
    return out, source


# --------------------------------------------------------------------------- computing


def _per_source(row: dict, by_source: Mapping[str, Mapping[str, int]], code: str, column: str) -> tuple[int, list[str]]:
    """Set ``row[column.format(source)]`` to each source's count for ``code``; the total and the sources with any."""
    total = 0
    used = []
    for n, counts in by_source.items():
        v = counts.get(code, 0)
        row[column.format(n)] = v
        total += v
        if v:
            used.append(n)
    return total, used


def _empty_row(lang) -> dict:
    return {
        "iso639_3": lang.iso639_3,
        "name": lang.name,
        "family": lang.family,
        "genus": lang.genus,
        "macroarea": lang.macroarea,
        "scripts": " ".join(lang.scripts),
        "latitude": lang.latitude,
        "longitude": lang.longitude,
        "speakers": lang.speakers,
        "endangerment": lang.endangerment,
        "scope": lang.scope,
    }


def _columns_for(config: CoverageConfig) -> tuple[str, ...]:
    cols = list(COLUMNS)
    i = cols.index("lex_total_entries")
    cols[i:i] = [f"lex_{n}_entries" for n in config.lexicons]
    j = cols.index("text_segments")
    cols[j:j] = [f"text_{n}_segments" for n in config.text]
    return tuple(cols)


def _tiers_signature() -> str:
    try:
        data = resource_path("tiers.tsv").read_bytes()
    except OSError:
        return "tiers:-"
    return "tiers:" + hashlib.sha256(data).hexdigest()[:8]


def compute_coverage(
    config: CoverageConfig | str | os.PathLike,
    *,
    catalog=None,
    use_cache: bool = True,
    progress: bool = False,
) -> CoverageTable:
    """Count every configured resource per catalog language.

    Args:
        config: a :class:`CoverageConfig` or the path of its YAML file.
        catalog: the :class:`~lexiconlm.languages.LanguageCatalog` whose languages get rows
            (default: :func:`~lexiconlm.languages.get_catalog`). Resource files are resolved
            to languages by the readers, with the bundled catalog.
        use_cache: reuse and update the per-file statistics cache (``config.cache_path``);
            ``False`` reads every file and leaves the cache file alone.
        progress: print one line per resource that has files to read (to stderr).

    Returns:
        :class:`CoverageTable` with one row per catalog language (in catalog order) and
        ``sources`` describing what was read, skipped, absent or not resolved.

    Raises:
        ConfigError: ``config`` is a path to an invalid YAML file.

    Example:
        >>> t = compute_coverage("configs/coverage/demo.yaml")   # doctest: +SKIP
        >>> [r["iso639_3"] for r in t.languages_with("unimorph")]  # doctest: +SKIP
        ['ind']
    """
    t0 = time.perf_counter()
    if not isinstance(config, CoverageConfig):
        config = load_config(config)
    if catalog is None:
        catalog = get_catalog()
    tiers = load_tiers()
    stats, sources, cache = collect(config, use_cache=use_cache, progress=progress)
    for key, path in config.absent:
        if key in sources and path not in sources[key]["absent"]:
            sources[key]["absent"].append(path)

    lex: dict[str, Counter] = {n: Counter() for n in config.lexicons}
    text_seg: dict[str, Counter] = {n: Counter() for n in config.text}
    text_tok: Counter = Counter()
    um_forms: Counter = Counter()
    um_lemmas: dict[str, set] = defaultdict(set)
    um_dims: dict[str, set] = defaultdict(set)
    sig_eds: dict[str, set] = defaultdict(set)
    sig_train: Counter = Counter()
    nlu: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    nlu_n: Counter = Counter()
    langs_per_source: dict[str, set] = defaultdict(set)

    for fs in stats:
        spec, s = fs.spec, fs.stats
        src = sources[spec.key]
        if "skip" in s:
            src["skipped"].append([str(fs.path), s["skip"]])
            continue
        src["files"] += 1
        if "error" in s:
            src["n_problems"] += s.get("n_errors", 1)
            src["problems"].append(s["error"])
            continue
        src["n_problems"] += s.get("errors", 0)
        src["warnings"] += s.get("warnings", 0)
        src["problems"].extend(s.get("problems", ()))
        iso = s.get("lang", "")
        if not iso or iso not in catalog:
            src["unresolved"].append({"name": s.get("name") or fs.path.stem, "file": str(fs.path)})
            continue
        langs_per_source[spec.key].add(iso)
        if spec.kind == "lexicons":
            lex[spec.name][iso] += s["entries"]
        elif spec.kind == "unimorph":
            um_forms[iso] += s["forms"]
            um_lemmas[iso].update(s["lemma_hashes"])
            um_dims[iso].update(s["dimensions"])
        elif spec.kind == "sigmorphon":
            sig_eds[iso].add(spec.name)
            if s.get("split") == "train":
                sig_train[iso] = max(sig_train[iso], s["examples"])
        elif spec.kind == "nlu":
            for part in s["partitions"]:
                nlu[iso][spec.name].add(part)
            nlu_n[iso] += s["examples"]
        else:
            text_seg[spec.name][iso] += s["segments"]
            text_tok[iso] += s["tokens"]

    for key, src in sources.items():
        src["languages"] = len(langs_per_source.get(key, ()))
        if len(src["problems"]) > _MAX_PROBLEMS:
            extra = len(src["problems"]) - _MAX_PROBLEMS
            src["problems"] = src["problems"][:_MAX_PROBLEMS] + [f"... and {extra} more"]
        src["n_problems"] = max(src["n_problems"], min(len(src["problems"]), _MAX_PROBLEMS))

    epi, epi_source = _epitran_index(catalog)
    sources["epitran"] = epi_source
    cache.save()

    columns = _columns_for(config)
    order = {name: i for i, name in enumerate(config.sigmorphon)}
    nlu_order = {name: i for i, name in enumerate(config.nlu)}
    rows: list[dict] = []
    for lang in catalog:
        code = lang.iso639_3
        r = _empty_row(lang)
        total, used = _per_source(r, lex, code, "lex_{}_entries")
        r["lex_total_entries"] = total
        r["lex_sources"] = ";".join(used)
        dims = um_dims.get(code, ())
        r["unimorph_lemmas"] = len(um_lemmas.get(code, ()))
        r["unimorph_forms"] = um_forms.get(code, 0)
        r["unimorph_dimensions"] = ";".join(sorted(dims))
        r["unimorph_n_dimensions"] = len(dims)
        r["sigmorphon_editions"] = ",".join(sorted(sig_eds.get(code, ()), key=lambda e: order.get(e, 0)))
        r["sigmorphon_max_train"] = sig_train.get(code, 0)
        sets = nlu.get(code)
        r["nlu_sets"] = (
            ";".join(
                f"{name}:{','.join(sorted(parts))}"
                for name, parts in sorted(sets.items(), key=lambda kv: nlu_order.get(kv[0], 0))
            )
            if sets
            else ""
        )
        r["nlu_examples"] = nlu_n.get(code, 0)
        seg_total, text_used = _per_source(r, text_seg, code, "text_{}_segments")
        r["text_segments"] = seg_total
        r["text_tokens"] = text_tok.get(code, 0)
        r["text_sources"] = ";".join(text_used)
        r["epitran"] = ";".join(sorted(epi.get(code, ())))
        r["resource_kinds"] = "+".join(k for k in KIND_ORDER if RESOURCES[k](r))
        r["tier"], r["tier_label"] = tier_of(r, tiers)
        rows.append({c: r.get(c) for c in columns})

    signature = "|".join([TABLE_VERSION, _tiers_signature(), f"lexiconlm:{__version__}", config.signature()])
    return CoverageTable(rows, sources, columns, signature, time.perf_counter() - t0)


def file_statistics(config: CoverageConfig | str | os.PathLike, *, use_cache: bool = True) -> list[dict]:
    """The per-file statistics behind a table: ``{"resource", "kind", "name", "path", **stats}`` per file.

    Cheap after :func:`compute_coverage` has filled the cache; used to find the files of
    one language (``lexiconlm coverage show``, tokenizer samples).
    """
    if not isinstance(config, CoverageConfig):
        config = load_config(config)
    stats, _, cache = collect(config, use_cache=use_cache, progress=False)
    cache.save()
    out = []
    for fs in stats:
        d = {"resource": fs.spec.key, "kind": fs.spec.kind, "source": fs.spec.name, "path": str(fs.path)}
        d.update({k: v for k, v in fs.stats.items() if k != "lemma_hashes"})
        out.append(d)
    return out


def load_or_compute(
    *,
    table: str | os.PathLike | None = None,
    config: CoverageConfig | str | os.PathLike | None = None,
    use_cache: bool = True,
) -> CoverageTable:
    """A coverage table: computed from ``config`` when one is given (fast with a warm cache),
    else read from ``table`` (default :data:`DEFAULT_TABLE`).

    Raises:
        DataFormatError: no config and no table file; the message gives the command that makes one.
    """
    if config is not None:
        return compute_coverage(config, use_cache=use_cache)
    return CoverageTable.from_csv(table if table is not None else DEFAULT_TABLE)


def save_coverage(table: CoverageTable, out: str | os.PathLike, *, top: int = 15) -> dict[str, Path]:
    """Write ``out`` (CSV), ``<stem>.sources.json`` and ``<stem>.summary.md`` (tiers, top
    families, scripts, macroareas), each atomically. Returns ``{"table", "sources", "summary"}``."""
    p = Path(out)
    table.to_csv(p)
    summary = p.with_name(p.stem + ".summary.md")
    text = summary_markdown(table.rows, top=top, title=f"Coverage summary ({p.name})")
    text += f"\nSignature: `{table.signature}`\n"
    atomic_write_text(summary, text)
    return {"table": p, "sources": sources_path(p), "summary": summary}
