"""MASSIVE experiment runner: zero-shot, translate-train and its control, over every test locale.

Systems (``systems:`` in the config, run in the order given, each resumable):

* ``baseline`` — character n-gram logistic regression on the training locale (intent only);
* ``zero-shot`` — the joint model trained on the training locale only (en-US train),
  selected on its dev set;
* ``translate-train`` — one multilingual joint model on en-US train plus, for every
  target locale, up to ``pseudo.cap`` en-US train utterances translated word by word
  through that locale's lexicon (:mod:`lexiconlm.synth.pseudo_label`), selected on
  en-US dev;
* ``control`` — the same, with the same utterances per locale, translated through a
  *mismatched* language's lexicon (``pseudo.control``):

  - ``other-language.v1`` (default): for each target locale (in sorted order), the largest
    unused lexicon of a language that is none of the evaluated locales' languages (nor those
    listed in ``pseudo.control_exclude``), of the same script when such a lexicon is at least
    half the size of the matched one, else of any script; each language used once.
    This is the control that means something for one multilingual model: a fixed
    derangement of the target locales would give the very same training set (the
    same 26 lexicons, only assigned to other locale tags);
  - ``derange.v1``: target locale *i* (sorted) gets the lexicon of locale *i+1* (a fixed
    derangement); meaningful for per-locale models only.

  ``pseudo.lexicons``: ``largest`` (default: a language's largest lexicon file) or ``all``
  (every file of the language in ``lexicon_dirs`` merged, e.g. Wiktionary + GATITOS; the
  control merges every file of its language the same way);
* ``translate-train+morph`` — translate-train whose pseudo-labelled utterances are also
  morphologically augmented (:class:`lexiconlm.synth.morph_augment.MorphAugmenter`) for every
  locale whose language has a UniMorph table in ``morph.unimorph``: an inflected English word
  the lexicon does not list (``booked``, ``playing``) gets the target form of its translated
  lemma with the matching features (from the table, else the table-trained affix model).
  Locales without a table get the plain translate-train data, or with ``morph.without_table:
  lemma`` the translated lemma of every inflected English word the lexicon lacks (``alarms`` ->
  the translation of ``alarm``); the same utterances, senses and seed as ``translate-train``, so
  the difference between the two is morphology alone;
* ``translate-train+adapt`` — translate-train on an encoder adapted by
  :func:`lexiconlm.adapt.run.adapt` (``adapt.config``: one target language), when that module is
  installed. With ``adapt.pseudo_text: N`` the adaptation also trains on a pseudo-monolingual
  corpus (Wang, Ruder & Neubig 2022): the first ``N`` en-US train utterances translated word by
  word through the adapted language's largest lexicon in ``lexicon_dirs`` (English words the
  lexicon lacks are dropped, so that no English piece enters the new vocabulary; sentences with
  fewer than 3 translated words are left out), written to ``adapt/pseudo_text.txt``.

With ``eval.translate_test: true`` every joint model is also evaluated with lexicon translate-test
(:mod:`lexiconlm.nlu.translate_test`): each test utterance is read into English word by word
through the locale's lexicon read backwards (a control reads through its own, mismatched
lexicon) and the model's distributions on both readings are averaged
(``eval.translate_test_weight``: the original reading's share of the intent distribution;
``eval.translate_test_slot_weight``: of the tag distributions, default the same). Its figures are
the result rows ``<system>+translate-test`` (``translate-train+translate-test:seed14``); a
finished system is evaluated again without training when it is switched on later.

A system name may carry a label, ``zero-shot:1ep``: a variant of ``zero-shot`` with its own run
folder and its own ``overrides``. ``overrides: {system: {train settings}}`` changes settings
for one system (e.g. fewer epochs for the larger translate-train set, to give every model the
same number of steps).

Nothing is chosen on non-English test data: the cap, the epochs and every setting come
from the config, model selection uses en-US dev only, and the pseudo-labelled utterances
come from en-US train only. Every file present in the test folder is evaluated; a locale
with no lexicon gets no pseudo data (and is still evaluated).

Run folder::

    pseudo/<mode>/<locale>.tsv       projected data (+ .signature)
    pseudo/morph/<locale>.morph.json  morphology counts, feature mappings and examples per locale
    pseudo/summary.csv               per locale and mode: lexicon, replaced-word and slot ratios, inflected words
    <system>/model/ ...              train_joint run folders
    <system>/results.json            per-locale figures, seconds, signature
    results.csv                      locale, system, intent_accuracy, slot_f1, exact_match, n, ...
    summary.csv                      means over non-training locales, by script and family

Why one module of about 1,050 lines: the experiment runner: each system (zero-shot, translate-
train, controls, +morph, +adapt, translate-test) is a short function over the same cached pseudo
data, lexicons and result tables.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from lexiconlm.adapt.config import load_config
from lexiconlm.adapt.run import adapt
from lexiconlm.config import (
    check_bool,
    check_choice,
    check_int,
    merge,
    raise_problems,
    read_config,
    resolve_existing,
    resolve_path,
)
from lexiconlm.errors import ConfigError, UnknownNameError
from lexiconlm.files import atomic_write_text, file_sha256, hold_run_folder, holds_run_folder_locks
from lexiconlm.io.lexicons import merge_lexicons, read_lexicon
from lexiconlm.io.locate import find_lexicons, scan_lexicon_dir
from lexiconlm.io.massive import read_massive, write_massive_tsv
from lexiconlm.io.unimorph import find_unimorph_tables, read_unimorph
from lexiconlm.languages import get_catalog
from lexiconlm.nlu.baseline import SIGNATURE as BASE_SIG
from lexiconlm.nlu.baseline import evaluate_baseline, train_baseline
from lexiconlm.nlu.evaluate import check_labels, evaluate, read_test_dir
from lexiconlm.nlu.metrics import aggregate, locale_script_family
from lexiconlm.nlu.train import DEFAULTS as TRAIN_DEFAULTS
from lexiconlm.nlu.train import _signature, label_maps_for, train_config_problems, train_joint
from lexiconlm.nlu.translate_test import evaluate_translate_test
from lexiconlm.synth.morph_augment import make_augmenter, morph_report
from lexiconlm.synth.pseudo_label import make_translator, project_utterances
from lexiconlm.synth.reverse import ReverseTranslator
from lexiconlm.synth.translate import count_words
from lexiconlm.types import Lexicon, NLUDataset, Provenance

__all__ = [
    "SYSTEMS",
    "RESULT_COLUMNS",
    "load_experiment_config",
    "matched_lexicons",
    "control_lexicons",
    "morph_tables",
    "build_pseudo",
    "pseudo_text",
    "run_experiments",
    "results_rows",
    "summary_rows",
    "reverse_translators",
    "translate_test_name",
]

SYSTEMS = ("baseline", "zero-shot", "translate-train", "control", "translate-train+morph", "translate-train+adapt")
#: pseudo-labelled data mode of each system that has one
PSEUDO_MODES = {
    "translate-train": "matched",
    "control": "control",
    "translate-train+morph": "morph",
    "translate-train+adapt": "matched",
}
CONTROLS = ("other-language.v1", "derange.v1")
RESULT_COLUMNS = [
    "locale",
    "system",
    "intent_accuracy",
    "slot_f1",
    "exact_match",
    "n",
    "language_name",
    "script",
    "family",
    "lex_token_ratio",
    "lex_slot_ratio",
    "seconds",
    "signature",
]
SUMMARY_COLUMNS = ["system", "group_by", "group", "intent_accuracy", "slot_f1", "exact_match", "n_locales", "n"]
_MORPH = {
    "unimorph": [],
    "english": [],
    "generate_english": False,
    "use_inflector": True,
    "lemma_fallback": True,
    "plural_nouns": True,
    "without_table": "plain",
}
_MORPH_FLAGS = ("generate_english", "use_inflector", "lemma_fallback", "plural_nouns")
_PSEUDO = {
    "cap": 1000,
    "seed": 13,
    "sense": "random",
    "oov": "keep",
    "hygiene": "script.v1",
    "control": "other-language.v1",
    "control_exclude": [],
    "join": "script",
    "lexicons": "largest",
}


#: Every key of an experiment config with its default (``train``, ``overrides`` and ``baseline``
#: are free-form here: checked against the NLU training settings below, or by the baseline).
_DEFAULTS: dict[str, Any] = {
    "data": {"train": None, "dev": None, "test_dir": None, "intents": None, "slots": None, "locales": None},
    "lexicon_dirs": [],
    "pseudo": _PSEUDO,
    "systems": None,
    "train": {},
    "overrides": {},
    "eval": {
        "batch_size": 128,
        "limit": None,
        "translate_test": False,
        "translate_test_weight": 0.5,
        "translate_test_slot_weight": None,
    },
    "baseline": {},
    "adapt": {"config": None, "pseudo_text": 0},
    "morph": _MORPH,
    "out": None,
}
_FREE = ("train", "overrides", "baseline")


def _path(base: Path, v: Any) -> Path:
    return resolve_path(v, base)


def load_experiment_config(config: Mapping | str | os.PathLike, *, base: Path | None = None) -> dict:
    """Read and validate an experiment config (YAML file or dict); paths are made absolute.

    Paths in a YAML are relative to the YAML's folder; in a dict, to ``base`` (default: cwd).
    Read and merged with :mod:`lexiconlm.config`.

    Raises:
        ConfigError: lists every problem (unknown keys or systems, missing files, bad values).
    """
    raw = read_config(config, base=base, hint="NLU configs live in configs/nlu/")
    base, source, problems = raw.base, raw.source, raw.problems
    cfg = merge(_DEFAULTS, raw.values, problems=problems, free=_FREE)
    data = cfg["data"]
    for k in ("train", "dev", "test_dir"):
        if not data.get(k):
            problems.append(f"data.{k} -> required")
        else:
            data[k] = _path(base, data[k])
            if not data[k].exists():
                problems.append(f"data.{k} -> no such file or folder: {data[k]}")
    for k in ("intents", "slots"):
        if data.get(k):
            data[k] = _path(base, data[k])
            if not data[k].is_file():
                problems.append(f"data.{k} -> no such file: {data[k]}")
    systems = list(cfg.get("systems") or ["baseline", "zero-shot"])
    for s in systems:
        if base_system(s) not in SYSTEMS:
            problems.append(f"systems -> unknown system {s!r} (known: {', '.join(SYSTEMS)})")
    lex_dirs = [_path(base, d) for d in (cfg.get("lexicon_dirs") or [])]
    needs_lex = any(base_system(s) in PSEUDO_MODES for s in systems)
    if needs_lex and not lex_dirs:
        problems.append("lexicon_dirs -> required for translate-train / control")
    for d in lex_dirs:
        if not d.is_dir():
            problems.append(f"lexicon_dirs -> no such folder: {d}")
    pseudo = cfg["pseudo"]
    check_int(pseudo["cap"], "pseudo.cap", problems, minimum=1)
    check_choice(pseudo["control"], "pseudo.control", CONTROLS, problems)
    check_choice(pseudo["join"], "pseudo.join", ("script", "spaces"), problems)
    check_choice(pseudo["lexicons"], "pseudo.lexicons", ("largest", "all"), problems)
    train = merge(TRAIN_DEFAULTS, cfg["train"], problems=problems, loc="train")
    resolve_existing(train, ("model",), base)
    if data.get("intents") and not train.get("intents_file"):
        train["intents_file"] = str(data["intents"])
    if data.get("slots") and not train.get("slots_file"):
        train["slots_file"] = str(data["slots"])
    problems.extend(f"train.{p}" for p in train_config_problems(train))
    overrides = cfg["overrides"]
    for sys_name, ov in overrides.items():
        if base_system(sys_name) not in SYSTEMS or base_system(sys_name) == "baseline":
            problems.append(f"overrides.{sys_name} -> not a joint-model system ({', '.join(SYSTEMS[1:])})")
        elif not isinstance(ov, Mapping):
            problems.append(f"overrides.{sys_name} -> expected a mapping of train settings")
        else:
            merged = merge(train, ov, problems=problems, loc=f"overrides.{sys_name}")
            problems.extend(f"overrides.{sys_name}.{p}" for p in train_config_problems(merged))
    adapt = cfg["adapt"]
    pt = adapt["pseudo_text"]
    if isinstance(pt, bool) or not isinstance(pt, int) or pt < 0:
        problems.append(f"adapt.pseudo_text -> expected a number of utterances >= 0, got {pt!r}")
    if any(base_system(s) == "translate-train+adapt" for s in systems):
        if not adapt.get("config"):
            problems.append("adapt.config -> required for translate-train+adapt")
        else:
            adapt["config"] = _path(base, adapt["config"])
            if not Path(adapt["config"]).is_file():
                problems.append(f"adapt.config -> no such file: {adapt['config']}")
    morph = cfg["morph"]
    for k in ("unimorph", "english"):
        v = morph[k]
        morph[k] = [_path(base, x) for x in ([v] if isinstance(v, (str, os.PathLike)) else (v or []))]
        for x in morph[k]:
            if not x.exists():
                problems.append(f"morph.{k} -> no such file or folder: {x}")
    if any(base_system(s) == "translate-train+morph" for s in systems):
        if not morph["unimorph"]:
            problems.append("morph.unimorph -> required for translate-train+morph (UniMorph tables or folders of them)")
        if not morph["english"]:
            problems.append(
                "morph.english -> required for translate-train+morph (English inflection files, "
                "e.g. sigmorphon/2023_part1/eng.trn and eng.dev)"
            )
    for k in _MORPH_FLAGS:
        check_bool(morph[k], f"morph.{k}", problems)
    check_choice(morph["without_table"], "morph.without_table", ("plain", "lemma"), problems)
    ev = cfg["eval"]
    check_bool(ev["translate_test"], "eval.translate_test", problems)
    for k in ("translate_test_weight", "translate_test_slot_weight"):
        v = ev[k]
        if v is None and k.endswith("slot_weight"):
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            problems.append(f"eval.{k} -> expected a number in [0, 1] (the original reading's share), got {v!r}")
    if ev["translate_test"] and not lex_dirs:
        problems.append("lexicon_dirs -> required for eval.translate_test (the lexicons read the test text back)")
    raise_problems(problems, source)
    out = _path(base, cfg["out"]) if cfg.get("out") else None
    return {
        "data": data,
        "systems": systems,
        "lexicon_dirs": lex_dirs,
        "pseudo": pseudo,
        "train": train,
        "overrides": {k: dict(v) for k, v in overrides.items()},
        "eval": cfg["eval"],
        "baseline": cfg["baseline"],
        "adapt": adapt,
        "morph": morph,
        "out": out,
    }


# --------------------------------------------------------------------------- lexicons


def matched_lexicons(
    locales: Sequence[str], lexicon_dirs: Sequence[Path], *, which: str = "largest"
) -> dict[str, Path | tuple[Path, ...] | None]:
    """The English-to-X lexicon per locale (``None`` when there is none).

    ``which="largest"``: the largest file, as ``synth label -d`` picks it; ``"all"``: every file of
    the locale's language in ``lexicon_dirs``, largest first (merged by :func:`read_merged`).
    """
    out: dict[str, Path | tuple[Path, ...] | None] = {}
    for loc in locales:
        try:
            found = find_lexicons(loc, lexicon_dirs)
        except UnknownNameError:
            found = []
        ranked = sorted(found, key=lambda p: (-p.stat().st_size, str(p)))
        if not ranked:
            out[loc] = None
        else:
            out[loc] = ranked[0] if which == "largest" else tuple(ranked)
    return out


def _size(lex: Path | tuple[Path, ...]) -> int:
    return sum(p.stat().st_size for p in lex) if isinstance(lex, tuple) else lex.stat().st_size


def lexicon_label(lex: Path | tuple[Path, ...]) -> str:
    """``wiktionary/welsh.txt`` (``+``-joined for several files), as the summaries name a lexicon."""
    paths = lex if isinstance(lex, tuple) else (lex,)
    return "+".join(f"{Path(p).parent.name}/{Path(p).name}" for p in paths)


def read_merged(lex: Path | tuple[Path, ...]) -> Lexicon:
    """One lexicon from one file, or from several files of the same language pair: every
    (source, target) pair once, in the order of the files (largest first) and their lines.
    """
    if not isinstance(lex, tuple):
        return read_lexicon(lex, errors="collect")
    parts = [read_lexicon(p, errors="collect") for p in lex]
    prov = Provenance("+".join(str(p) for p in lex), "merged", n_lines=sum(x.provenance.n_lines for x in parts))
    return merge_lexicons(parts, provenance=prov)


def control_lexicons(
    locales: Sequence[str],
    matched: Mapping[str, Path | None],
    lexicon_dirs: Sequence[Path],
    *,
    method: str = "other-language.v1",
    exclude_locales: Sequence[str] = (),
    which: str = "largest",
) -> dict[str, Path | tuple[Path, ...] | None]:
    """A mismatched lexicon for each locale that has a matched one (see the module docstring).

    With ``which="all"`` (the matched side merges every file of a language) the control language
    is picked the same way, by its largest file, and every file of it is merged too.
    """
    have = sorted(loc for loc in locales if matched.get(loc) is not None)
    if method == "derange.v1":
        if len(have) < 2:
            return {loc: None for loc in locales}
        return {loc: (matched[have[(have.index(loc) + 1) % len(have)]] if loc in have else None) for loc in locales}
    cat = get_catalog()
    banned: set[str] = set()
    for loc in list(locales) + list(exclude_locales) + ["en-US"]:
        try:
            lang = cat.lookup(loc)
        except UnknownNameError:
            continue
        banned.add(lang.iso639_3)
        if lang.macrolanguage:
            banned.add(lang.macrolanguage)
    cands = []
    for d in lexicon_dirs:
        for f in scan_lexicon_dir(d):
            code = f.language.iso639_3
            if not code or code in banned or f.language.macrolanguage in banned:
                continue
            cands.append(
                (f.path.stat().st_size, f.script or (f.language.scripts[0] if f.language.scripts else ""), code, f.path)
            )
    cands.sort(key=lambda c: (-c[0], str(c[3])))
    used_langs: set[str] = set()
    out: dict[str, Path | None] = {loc: None for loc in locales}
    for loc in have:
        try:
            lang = cat.lookup(loc)
            script = lang.scripts[0] if lang.scripts else ""
        except UnknownNameError:
            script = ""
        # same script only with a lexicon at least half the size of the matched one (a tiny lexicon would
        # leave the text English, a different control); else the largest unused lexicon of any script
        floor = _size(matched[loc]) / 2
        pick = next((c for c in cands if c[2] not in used_langs and c[1] == script and c[0] >= floor), None)
        pick = pick or next((c for c in cands if c[2] not in used_langs), None)
        if pick is not None:
            used_langs.add(pick[2])
            if which == "largest":
                out[loc] = pick[3]
            else:
                out[loc] = tuple(c[3] for c in cands if c[2] == pick[2])
    return out


def morph_tables(locales: Sequence[str], unimorph: Sequence[Path]) -> dict[str, Path | None]:
    """The UniMorph table per locale (``None`` when there is none).

    ``unimorph`` holds table files or folders of them, named by language code as in UniMorph
    (``heb.tsv``, ``kaz.noun.tsv``; :func:`lexiconlm.io.unimorph.find_unimorph_tables`: ``fas.tsv``
    serves ``fa-IR`` through the catalog's macrolanguage default); of several tables for a
    language, the largest is used.
    """
    out: dict[str, Path | None] = {}
    for loc in locales:
        try:
            cands = find_unimorph_tables(loc, unimorph)
        except UnknownNameError:
            cands = []
        out[loc] = max(cands, key=lambda f: (f.stat().st_size, str(f))) if cands else None
    return out


def _subset(n: int, cap: int, seed: int, locale: str) -> list[int]:
    """The en-US train indices projected for a locale: a seeded sample of ``cap``, the same for every mode."""
    rng = np.random.default_rng((int(seed), zlib.crc32(locale.encode("utf-8"))))
    return sorted(rng.permutation(n)[: min(cap, n)].tolist())


def build_pseudo(
    source: NLUDataset,
    lexicons: Mapping[str, Path | tuple[Path, ...] | None],
    out_dir: Path,
    pseudo: Mapping,
    *,
    mode: str,
    progress: bool = True,
    tables: Mapping[str, Path | None] | None = None,
    morph: Mapping | None = None,
    log=print,
) -> tuple[list[NLUDataset], list[dict]]:
    """Project ``pseudo['cap']`` source utterances per locale through the given lexicons (cached as TSV).

    With ``tables`` (locale -> UniMorph table) and ``morph`` (the config's ``morph`` section),
    the utterances of a locale with a table are also morphologically augmented
    (:class:`~lexiconlm.synth.morph_augment.MorphAugmenter`; counts in ``<locale>.morph.json``,
    with every bad line of the table, which is skipped and reported through ``log``).

    Returns:
        ``(datasets, rows)``: one dataset per locale with a lexicon, and one summary row per locale
        (``locale, mode, lexicon, lexicon_language, n, token_ratio, slot_ratio, unimorph, n_inflected``).
    """
    out_dir = Path(out_dir) / mode
    out_dir.mkdir(parents=True, exist_ok=True)
    src = list(source)
    datasets, rows = [], []
    for loc in tqdm(sorted(lexicons), disable=not progress, desc=f"pseudo ({mode})"):
        lex = lexicons[loc]
        if lex is None:
            rows.append(
                {
                    "locale": loc,
                    "mode": mode,
                    "lexicon": "",
                    "lexicon_language": "",
                    "n": 0,
                    "token_ratio": "",
                    "slot_ratio": "",
                }
            )
            continue
        idx = _subset(len(src), int(pseudo["cap"]), int(pseudo["seed"]), loc)
        path = out_dir / f"{loc}.tsv"
        meta_path = out_dir / f"{loc}.json"
        table = (tables or {}).get(loc) if morph is not None else None
        # a locale without a table: the plain data, or (without_table: lemma) translated lemmas
        use_morph = morph is not None and (table is not None or morph.get("without_table") == "lemma")
        key = {
            "lexicon": [str(p) for p in lex] if isinstance(lex, tuple) else str(lex),
            "cap": pseudo["cap"],
            "seed": pseudo["seed"],
            "sense": pseudo["sense"],
            "oov": pseudo["oov"],
            "hygiene": pseudo["hygiene"],
            "join": pseudo["join"],
            "source": source.provenance.sha256,
        }
        if use_morph:
            key["morph"] = {
                "table": str(table) if table is not None else "",
                "table_sha256": file_sha256(table) if table is not None else "",
                "english": [str(e) for e in morph["english"]],
                **{k: morph[k] for k in _MORPH_FLAGS},
            }
            if table is None:
                key["morph"]["without_table"] = morph["without_table"]
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() and path.exists() else None
        if meta is None or meta.get("key") != key:
            tr = make_translator(
                read_merged(lex),
                sense=pseudo["sense"],
                oov=pseudo["oov"],
                seed=int(pseudo["seed"]),
                hygiene=pseudo["hygiene"],
            )
            aug, extra_sig = None, []
            if use_morph:
                aug, extra_sig = _augmenter(tr, table, morph)
            res = project_utterances(
                [src[i] for i in idx],
                tr,
                locale=loc,
                inflect=aug,
                signature_extra=extra_sig,
                script="" if pseudo["join"] == "spaces" else None,
            )
            # with oov: drop an utterance whose every word was dropped is left out (nothing to learn from)
            kept = [p.utterance for p in res.items if p.utterance.text.strip()]
            write_massive_tsv(kept, path)
            atomic_write_text(path.with_name(path.name + ".signature"), res.signature + "\n")
            st = res.stats
            meta = {
                "key": key,
                "lexicon_language": tr.lexicon.tgt.code,
                "n": len(kept),
                "n_empty_dropped": len(res.items) - len(kept),
                "token_ratio": round(st.token_ratio, 4),
                "slot_ratio": round(st.slot_ratio, 4),
                "signature": res.signature,
                "unimorph": Path(table).name if table is not None else ("(lemmas only)" if aug is not None else ""),
                "n_inflected": aug.stats.n_inflected if aug is not None else "",
            }
            if aug is not None:
                report_path = path.with_name(f"{loc}.morph.json")
                atomic_write_text(report_path, json.dumps(morph_report(aug, res), ensure_ascii=False, indent=1) + "\n")
                if aug.target.problems and table is not None:
                    log(
                        f"warning: {loc}: {len(aug.target.problems)} bad line(s) of {Path(table).name} skipped, listed "
                        f"in {report_path}; first: {aug.target.problems[0]}"
                    )
            atomic_write_text(meta_path, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        datasets.append(read_massive(path, locale=loc))
        rows.append(
            {
                "locale": loc,
                "mode": mode,
                "lexicon": lexicon_label(lex),
                "lexicon_language": meta["lexicon_language"],
                "n": meta["n"],
                "token_ratio": meta["token_ratio"],
                "slot_ratio": meta["slot_ratio"],
                "unimorph": meta.get("unimorph", ""),
                "n_inflected": meta.get("n_inflected", ""),
            }
        )
    return datasets, rows


def _augmenter(translator, table: Path | None, morph: Mapping):
    """The MorphAugmenter of one locale and its signature pairs (the table is read with every bad line
    reported; ``None``: no table, translated lemmas only)."""
    return make_augmenter(
        translator.lexicon,
        read_unimorph(table, errors="collect") if table is not None else None,
        morph["english"],
        **{k: bool(morph[k]) for k in _MORPH_FLAGS},
    )


# --------------------------------------------------------------------------- tables


def _csv(rows: Sequence[Mapping], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if isinstance(r.get(k), float) and r.get(k) != r.get(k) else r.get(k, "")) for k in columns})
    return buf.getvalue()


def _fmt(v: Any) -> Any:
    return round(v, 2) if isinstance(v, float) and v == v else v


def results_rows(
    system: str, per_locale: Mapping[str, Mapping], *, signature: str = "", ratios: Mapping[str, Mapping] | None = None
) -> list[dict]:
    """CSV rows (``RESULT_COLUMNS``) for one system's per-locale figures."""
    cat = get_catalog()
    rows = []
    for loc in sorted(per_locale):
        r = per_locale[loc]
        script, family = locale_script_family(loc, cat)
        try:
            lang = cat.lookup(loc).name
        except UnknownNameError:
            lang = "?"
        rat = (ratios or {}).get(loc, {})
        rows.append(
            {
                "locale": loc,
                "system": system,
                **{k: _fmt(r.get(k)) for k in ("intent_accuracy", "slot_f1", "exact_match")},
                "n": r.get("n"),
                "language_name": lang,
                "script": script,
                "family": family,
                "lex_token_ratio": rat.get("token_ratio", ""),
                "lex_slot_ratio": rat.get("slot_ratio", ""),
                "seconds": r.get("seconds", ""),
                "signature": signature,
            }
        )
    return rows


def summary_rows(system: str, per_locale: Mapping[str, Mapping], *, train_locale: str = "en-US") -> list[dict]:
    """Means over the non-training locales: overall, by script, by family."""
    agg = aggregate(per_locale, exclude=(train_locale,))
    rows = []
    for group_by in ("mean", "script", "family"):
        for group, r in agg[group_by].items():
            rows.append(
                {
                    "system": system,
                    "group_by": group_by,
                    "group": group,
                    **{k: _fmt(r[k]) for k in ("intent_accuracy", "slot_f1", "exact_match")},
                    "n_locales": r["n_locales"],
                    "n": r["n"],
                }
            )
    return rows


# --------------------------------------------------------------------------- runner


@holds_run_folder_locks
def run_experiments(
    config: Mapping | str | os.PathLike,
    *,
    out_dir: str | os.PathLike | None = None,
    systems: Sequence[str] | None = None,
    device: str = "auto",
    progress: bool = True,
    log=print,
    tabulate_only: bool = False,
) -> Path:
    """Run the configured systems and write the tables; returns ``out_dir/results.csv``.

    A system whose ``results.json`` exists with the same signature is not rerun; a killed
    training resumes from its checkpoint. With ``tabulate_only``, finished systems are tabulated
    as they are (no translate-test evaluation is added to one that lacks it) and an unfinished
    one is an error.

    Raises:
        ConfigError: invalid config (every problem listed).
        DataFormatError: a test file with malformed annotations, or with intents / slot labels
            outside the training label set (every line listed).
    """
    cfg = load_experiment_config(config)
    out = Path(out_dir) if out_dir is not None else cfg["out"]
    if out is None:
        raise ConfigError(["out -> give an output folder (config `out:` or --out)"])
    hold_run_folder(out, "lexiconlm nlu run")  # one process at a time in the folder
    run_systems = list(systems) if systems else cfg["systems"]
    bad = [s for s in run_systems if base_system(s) not in SYSTEMS]
    if bad:
        raise ConfigError([f"systems -> unknown {bad} (known: {', '.join(SYSTEMS)})"])
    data = cfg["data"]
    train = read_massive(data["train"])
    dev = read_massive(data["dev"])
    tests = read_test_dir(data["test_dir"], locales=data.get("locales"))
    if cfg["eval"]["limit"]:
        # a seeded sample of positions (MASSIVE files are sorted by id, and ids are grouped by scenario, so
        # the first N rows would be a biased subset); the files are parallel, so every locale gets the same ids
        n_keep = int(cfg["eval"]["limit"])
        tests = [
            replace(t, utterances=tuple(t.utterances[i] for i in _subset(len(t), n_keep, 13, "eval"))) for t in tests
        ]
    labels = label_maps_for(list(train), cfg["train"])
    warnings = check_labels(tests + [dev], labels.intents, labels.slots)  # before any training
    if warnings:
        log(
            f"warning: {len(warnings)} utterance(s) with slot labels outside the training set "
            f"(scored as misses); first: {warnings[0]}"
        )
    targets = sorted(t.locale for t in tests if t.locale != train.locale)
    log(f"{len(tests)} test files ({', '.join(t.locale for t in tests)}); training locale {train.locale}")

    pseudo_rows: list[dict] = []
    ratios: dict[str, dict[str, dict]] = {}
    pseudo_cache: dict[str, list[NLUDataset]] = {}

    lex_cache: dict[str, dict] = {}

    def lexicons_for(kind: str) -> dict:
        """``matched`` or ``control``: the lexicon (file or files) of each target locale."""
        if "matched" not in lex_cache:
            lex_cache["matched"] = matched_lexicons(targets, cfg["lexicon_dirs"], which=cfg["pseudo"]["lexicons"])
        if kind == "control" and "control" not in lex_cache:
            lex_cache["control"] = control_lexicons(
                targets,
                lex_cache["matched"],
                cfg["lexicon_dirs"],
                method=cfg["pseudo"]["control"],
                exclude_locales=cfg["pseudo"]["control_exclude"],
                which=cfg["pseudo"]["lexicons"],
            )
        return lex_cache[kind]

    reader_cache: dict[str, dict] = {}

    def readers_for(system: str) -> dict:
        """Translate-test's reverse translators: the control's lexicons for a control, else the matched ones."""
        kind = "control" if base_system(system) == "control" else "matched"
        if kind not in reader_cache:
            reader_cache[kind] = reverse_translators(
                lexicons_for(kind), [u.text for u in train], hygiene=cfg["pseudo"]["hygiene"], progress=progress
            )
        return reader_cache[kind]

    def pseudo_for(mode: str) -> list[NLUDataset]:
        if mode in pseudo_cache:  # built for an earlier system of this run
            return pseudo_cache[mode]
        matched = lexicons_for("matched")
        tables = None
        if mode in ("matched", "morph"):
            lexes = matched
            if mode == "morph":
                tables = morph_tables(targets, cfg["morph"]["unimorph"])
                log(
                    "morphology: "
                    + (
                        ", ".join(
                            f"{loc} ({t.name})"
                            for loc, t in sorted(tables.items())
                            if t is not None and matched.get(loc) is not None
                        )
                        or "no locale has both a lexicon and a table"
                    )
                )
        else:
            lexes = lexicons_for("control")
        ds, rows = build_pseudo(
            train,
            lexes,
            out / "pseudo",
            cfg["pseudo"],
            mode=mode,
            progress=progress,
            tables=tables,
            morph=cfg["morph"] if mode == "morph" else None,
            log=log,
        )
        pseudo_rows.extend(rows)
        ratios[mode] = {r["locale"]: r for r in rows}
        pseudo_cache[mode] = ds
        atomic_write_text(
            out / "pseudo" / "summary.csv",
            _csv(
                pseudo_rows,
                [
                    "locale",
                    "mode",
                    "lexicon",
                    "lexicon_language",
                    "n",
                    "token_ratio",
                    "slot_ratio",
                    "unimorph",
                    "n_inflected",
                ],
            ),
        )
        return ds

    all_rows: list[dict] = []
    all_summary: list[dict] = []
    for system in run_systems:
        sdir = out / system
        res_path = sdir / "results.json"
        t0 = time.perf_counter()
        base = base_system(system)
        mode = PSEUDO_MODES.get(base)
        extra = pseudo_for(mode) if mode else []
        sig = _system_signature(system, cfg, extra)
        tt_sig = _translate_test_signature(cfg) if cfg["eval"]["translate_test"] and base != "baseline" else ""
        if res_path.exists():
            done = json.loads(res_path.read_text(encoding="utf-8"))
            if done.get("signature") == sig and set(done["per_locale"]) == {t.locale for t in tests}:
                if (
                    tt_sig
                    and not tabulate_only
                    and done.get("translate_test_signature") != tt_sig
                    and (sdir / "model").is_dir()
                ):
                    log(f"{system}: done earlier; translate-test evaluation ({tt_sig})")
                    t1 = time.perf_counter()
                    _, done["per_locale_translate_test"] = _translate_test(
                        cfg, sdir / "model", tests, readers_for(system), device, progress
                    )
                    done["translate_test_signature"] = tt_sig
                    done["translate_test_eval_seconds"] = round(time.perf_counter() - t1, 1)
                    atomic_write_text(res_path, json.dumps(done, indent=2) + "\n")
                else:
                    log(f"{system}: done earlier ({res_path})")
                all_rows += results_rows(system, done["per_locale"], signature=sig, ratios=ratios.get(mode or "", {}))
                all_summary += summary_rows(system, done["per_locale"], train_locale=train.locale)
                if tt_sig and done.get("translate_test_signature") == tt_sig:
                    name = translate_test_name(system)
                    all_rows += results_rows(name, done["per_locale_translate_test"], signature=f"{sig}|{tt_sig}")
                    all_summary += summary_rows(name, done["per_locale_translate_test"], train_locale=train.locale)
                continue
        if tabulate_only:
            raise ConfigError([f"systems -> {system} has no finished results in {out} (tabulate only)"])
        log(
            f"{system}: training on {len(train) + sum(len(d) for d in extra):,} utterances "
            f"({len(extra)} pseudo-labelled locales)"
        )
        timing: dict[str, float] = {}
        per_tt = None
        if base == "baseline":
            pipe = train_baseline(train, cfg["baseline"])
            timing["train_seconds"] = round(time.perf_counter() - t0, 1)
            t1 = time.perf_counter()
            per = evaluate_baseline(pipe, tests)
            timing["eval_seconds"] = round(time.perf_counter() - t1, 1)
        else:
            tcfg = _train_config(cfg, system)
            if base == "translate-train+adapt":
                tcfg["model"] = _adapted_model(cfg, out, source=train, device=device, progress=progress, log=log)
            model_dir = train_joint(
                tcfg, train=[train, *extra], dev=dev, out_dir=sdir, device=device, progress=progress
            )
            timing["train_seconds"] = round(time.perf_counter() - t0, 1)
            # the trainer's own epoch times, over every call (a resumed or finished run counts whole)
            timing["train_seconds_epochs"] = _epoch_seconds(sdir / "history.jsonl")
            t1 = time.perf_counter()
            if tt_sig:  # one pass gives both: the plain figures and translate-test's
                per, per_tt = _translate_test(cfg, model_dir, tests, readers_for(system), device, progress)
            else:
                per = evaluate(
                    model_dir, tests, device=device, batch_size=int(cfg["eval"]["batch_size"]), progress=progress
                )
            timing["eval_seconds"] = round(time.perf_counter() - t1, 1)
        sdir.mkdir(parents=True, exist_ok=True)
        record = {
            "system": system,
            "signature": sig,
            "per_locale": per,
            **timing,
            "n_train": len(train) + sum(len(d) for d in extra),
        }
        if per_tt is not None:
            record.update(per_locale_translate_test=per_tt, translate_test_signature=tt_sig)
        atomic_write_text(res_path, json.dumps(record, indent=2) + "\n")
        log(f"{system}: {timing}")
        all_rows += results_rows(system, per, signature=sig, ratios=ratios.get(mode or "", {}))
        all_summary += summary_rows(system, per, train_locale=train.locale)
        if per_tt is not None:
            name = translate_test_name(system)
            all_rows += results_rows(name, per_tt, signature=f"{sig}|{tt_sig}")
            all_summary += summary_rows(name, per_tt, train_locale=train.locale)
    atomic_write_text(out / "results.csv", _csv(all_rows, RESULT_COLUMNS))
    atomic_write_text(out / "summary.csv", _csv(all_summary, SUMMARY_COLUMNS))
    # the run-folder layout the app reads (docs/run-folders.md): one run of kind "massive"

    codes = sorted({t.language.iso639_3 for t in tests if t.language.iso639_3})
    meta = {
        "kind": "massive",
        "name": f"MASSIVE experiments ({', '.join(run_systems)})",
        "languages": codes,
        "config": json.loads(json.dumps({k: v for k, v in cfg.items() if k != "out"}, default=str)),
        "signature": _signature(cfg["train"]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    atomic_write_text(out / "run.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    means = {
        r["system"]: {
            k: r[k] for k in ("intent_accuracy", "slot_f1", "exact_match") if isinstance(r[k], float) and r[k] == r[k]
        }
        for r in all_summary
        if r["group_by"] == "mean"
    }
    atomic_write_text(out / "metrics.json", json.dumps({"mean_non_training_locales": means}, indent=2) + "\n")
    return out / "results.csv"


def _epoch_seconds(history: Path) -> float | None:
    """The sum of the ``seconds`` of the epoch rows of a trainer's ``history.jsonl`` (None without one)."""
    if not history.is_file():
        return None
    total = 0.0
    for line in history.read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        if "epoch" in row and "seconds" in row:
            total += float(row["seconds"])
    return round(total, 1)


def _system_signature(system: str, cfg: Mapping, extra: Sequence[NLUDataset]) -> str:
    if base_system(system) == "baseline":
        sig = BASE_SIG + "|" + json.dumps(cfg["baseline"], sort_keys=True)
    else:
        sig = f"{system}|{_signature(_train_config(cfg, system))}"
    if extra:
        p = cfg["pseudo"]
        sig += (
            f"|pseudo:cap={p['cap']},seed={p['seed']},sense={p['sense']},oov={p['oov']},"
            f"control={p['control']},n_locales={len(extra)}"
        )
        if p.get("join", "script") != "script":
            sig += f",join={p['join']}"
        if p.get("lexicons", "largest") != "largest":
            sig += f",lexicons={p['lexicons']}"
    if base_system(system) == "translate-train+morph":
        m = cfg["morph"]
        sig += (
            f"|morph:tables={','.join(sorted(Path(t).name for t in m['unimorph']))},"
            f"eng={','.join(Path(e).name for e in m['english'])},"
            f"gen={m['generate_english']},infl={m['use_inflector']},lemma={m['lemma_fallback']},pl={m['plural_nouns']}"
        )
        if m.get("without_table", "plain") != "plain":
            sig += f",without_table={m['without_table']}"
    if base_system(system) == "translate-train+adapt":
        sig += f"|adapt:{cfg['adapt']['config']}"
        if cfg["adapt"].get("pseudo_text"):
            sig += f",pseudo_text={cfg['adapt']['pseudo_text']}"
    if cfg["eval"]["limit"]:
        sig += f"|eval_sample:{cfg['eval']['limit']}"
    return sig


def translate_test_name(system: str) -> str:
    """The result name of a system evaluated with translate-test: ``translate-train:seed14`` ->
    ``translate-train+translate-test:seed14``."""
    base, _, label = system.partition(":")
    return f"{base}+translate-test" + (f":{label}" if label else "")


def _translate_test_signature(cfg: Mapping) -> str:
    ev, p = cfg["eval"], cfg["pseudo"]
    sw = ev["translate_test_slot_weight"]
    return (
        f"translate-test.v1:weight={float(ev['translate_test_weight'])},"
        f"slot_weight={float(sw) if sw is not None else float(ev['translate_test_weight'])},"
        f"hyg={p['hygiene']},lexicons={p['lexicons']},control={p['control']}"
    )


def reverse_translators(
    lexicons: Mapping[str, Path | tuple[Path, ...] | None],
    english: Iterable[str],
    *,
    hygiene: str | None = "script.v1",
    progress: bool = False,
) -> dict[str, ReverseTranslator | None]:
    """A :class:`~lexiconlm.synth.reverse.ReverseTranslator` per locale with a lexicon, its senses
    chosen by the word counts of ``english`` (the English training utterances; none: file order)."""
    counts = count_words(english)
    out: dict[str, ReverseTranslator | None] = {}
    for loc in tqdm(sorted(lexicons), disable=not progress, desc="translate-test lexicons"):
        lex = lexicons[loc]
        out[loc] = ReverseTranslator(read_merged(lex), english_counts=counts, hygiene=hygiene) if lex else None
    return out


def _translate_test(cfg: Mapping, model_dir: Path, tests, readers, device: str, progress: bool):
    ev = cfg["eval"]
    return evaluate_translate_test(
        model_dir,
        tests,
        readers,
        weight=float(ev["translate_test_weight"]),
        slot_weight=ev["translate_test_slot_weight"],
        device=device,
        batch_size=int(ev["batch_size"]),
        progress=progress,
    )


def base_system(name: str) -> str:
    """``zero-shot:1ep`` -> ``zero-shot``: a system may carry a label (a variant with its own ``overrides``)."""
    return name.split(":", 1)[0]


def _train_config(cfg: Mapping, system: str) -> dict:
    """The system's training settings: ``train`` with the system's ``overrides`` applied."""
    return {**cfg["train"], **cfg.get("overrides", {}).get(system, {})}


def _adapted_model(cfg: Mapping, out: Path, *, source: NLUDataset, device: str, progress: bool, log=print) -> str:
    """Run lexiconlm.adapt.run.adapt once (resumable) and return its model folder."""
    texts = None
    n = int(cfg["adapt"].get("pseudo_text") or 0)
    if n:
        language = load_config(Path(cfg["adapt"]["config"]), has_texts=True)["language"]
        texts = pseudo_text(
            source, language, cfg["lexicon_dirs"], cfg["pseudo"], n=n, out=out / "adapt" / "pseudo_text.txt"
        )
        log(
            f"adapt: {len(texts):,} pseudo-monolingual {language} sentences "
            f"from the first {n:,} {source.locale} utterances"
        )
    metrics = adapt(
        Path(cfg["adapt"]["config"]), out_dir=out / "adapt", texts=texts, device=device, resume=True, progress=progress
    )
    return str(metrics["model_dir"])


def pseudo_text(
    source: NLUDataset,
    language: str,
    lexicon_dirs: Sequence[Path],
    pseudo: Mapping,
    *,
    n: int,
    out: Path | None = None,
    min_replaced: int = 3,
) -> list[str]:
    """A pseudo-monolingual corpus: the first ``n`` source utterances translated word by word, English dropped.

    The lexicon is ``language``'s largest in ``lexicon_dirs``; ``pseudo`` gives the sense, seed and
    hygiene. Sentences with fewer than ``min_replaced`` translated words are left out.

    Raises:
        ConfigError: no lexicon of ``language`` in ``lexicon_dirs``.
    """
    lex = matched_lexicons([language], lexicon_dirs)[language]
    if lex is None:
        raise ConfigError([f"adapt.pseudo_text -> no lexicon of {language} in {', '.join(map(str, lexicon_dirs))}"])
    tr = make_translator(lex, sense=pseudo["sense"], oov="drop", seed=int(pseudo["seed"]), hygiene=pseudo["hygiene"])
    texts = []
    for u in list(source)[:n]:
        text, t = tr.translate(u.text)
        if t.n_replaced >= min_replaced and text.strip():
            texts.append(text.strip())
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, "".join(t + "\n" for t in texts))
    return texts
