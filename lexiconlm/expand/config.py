"""The configuration of ``lexiconlm expand``: schema, validation and per-language inputs.

A configuration is a YAML file (``configs/expand/*.yaml``) whose relative paths are taken
relative to the file's folder. Every key has a default except ``data.lexicons``; an
unknown key, a value of the wrong type, a path that does not exist or a language the
catalog does not know is a problem, and :func:`load_config` raises one
:class:`~lexiconlm.errors.ConfigError` listing *every* problem before any work starts.

Sections (see ``configs/expand/demo.yaml`` for a commented example):

``name``, ``languages``, ``seed``, ``device``
    the run's name (default: the file's stem), default languages, seed, device.
``data``
    ``lexicons`` (folders or files of English-to-X lexicons, found per language with
    :func:`lexiconlm.io.locate.find_lexicons`), ``optional_lexicons`` (the same, used when
    they exist: outputs of other commands such as ``lexiconlm lexicon induce``; an absent one
    is a note in each language's inputs, not a problem), ``unimorph`` (folders or files of
    UniMorph tables, ``<iso>.tsv``), ``source_text`` (English text translated into
    pseudo-monolingual text), ``target_text`` (folders or files of real text of the
    languages, for held-out evaluation and optional adaptation), ``massive_train`` and
    ``massive_dev`` (English MASSIVE files), ``massive_test`` (folders of
    ``<locale>.tsv`` test files), ``parallel`` (``udhr``, ``bible``, ``flores``: the folders
    of parallel text, :func:`lexiconlm.lexicon.parallel.find_parallel_files`; the held-out half
    of a language's units is never trained on and is what retrieval is measured on).
``synth``
    translator settings (``sense``, ``oov``, ``hygiene``, ``join``, ``min_replaced``) and
    limits (``mono_limit``, ``label_limit``); ``source_parallel`` adds the English side of the
    language's training half of parallel units to the source text.
``model``
    ``base``: ``tiny`` (a small BERT built from ``model.tiny`` with a WordPiece
    tokenizer trained on the run's text), ``e5-small``, a local folder or a hub name.
``adapt``
    ``enabled``, ``texts``, ``keep_model`` (``false``: remove the adapted model once evaluated,
    for batches of many languages) and ``config`` (handed to :func:`lexiconlm.adapt.run.adapt`).
``nlu``
    ``config`` (handed to :func:`lexiconlm.nlu.train.train_joint`), ``train`` (which
    sets to train on: ``source``, ``pseudo``), ``source_limit``, ``when`` (``always``, or
    ``test``: only for languages with a MASSIVE test set).
``evaluate``
    ``nlu``, ``base_nlu`` (also train the base model on the source only, same seed and
    steps, for the before/after NLU figure), ``tokenizer``, ``mlm``, ``retrieval``
    (parallel-sentence retrieval, base vs adapted model), ``translate_test`` (``enabled``: the
    expanded model also reads each test utterance into English through the language's lexicon
    and averages both readings, :mod:`lexiconlm.nlu.translate_test`; ``weight`` and
    ``slot_weight``: the original reading's share of the intent and tag distributions) and
    ``sigmorphon`` switches and sizes.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lexiconlm.adapt.config import load_config as load_adapt_config
from lexiconlm.config import (
    apply_overrides,
    check_bool,
    check_choice,
    check_int,
    check_number,
    did_you_mean,
    merge,
    raise_problems,
    read_config,
    resolve_paths,
)
from lexiconlm.errors import ConfigError, LexiconLMError, UnknownLanguageError
from lexiconlm.files import data_files
from lexiconlm.inflection.neural import NeuralConfig
from lexiconlm.io.locate import _resolve as _lexicon_file_language
from lexiconlm.io.locate import find_lexicons
from lexiconlm.io.massive import locale_from_path
from lexiconlm.io.text import read_text, text_language
from lexiconlm.io.unimorph import find_unimorph_tables
from lexiconlm.languages import get_catalog
from lexiconlm.lexicon.parallel import find_parallel_files
from lexiconlm.nlu.train import DEFAULTS as NLU_DEFAULTS
from lexiconlm.nlu.train import train_config_problems
from lexiconlm.synth.translate import resolve_sense
from lexiconlm.unicode_scripts import dominant_script

__all__ = [
    "DEFAULTS",
    "ExpandConfig",
    "LanguageInputs",
    "apply_overrides",
    "config_from_dict",
    "check_inputs",
    "language_inputs",
    "load_config",
]

#: Every key with its default; nested dicts are sections (:data:`_FREE`: free-form mappings).
DEFAULTS: dict[str, Any] = {
    "name": None,
    "languages": [],
    "seed": 13,
    "device": "auto",
    "data": {
        "lexicons": [],
        "optional_lexicons": [],
        "unimorph": [],
        "source_text": None,
        "target_text": [],
        "massive_train": None,
        "massive_dev": None,
        "massive_test": [],
        "parallel": {"udhr": None, "bible": None, "flores": None},
    },
    "synth": {
        "sense": "random",
        "oov": "keep",
        "hygiene": "script.v1",
        "join": "script",
        "min_replaced": 3,
        "mono_limit": None,
        "label_limit": None,
        "source_parallel": False,
    },
    "model": {
        "base": "tiny",
        "tiny": {
            "vocab_size": 2000,
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "max_position_embeddings": 128,
        },
    },
    "adapt": {"enabled": False, "texts": ["pseudo", "real"], "keep_model": True, "config": {}},
    "nlu": {"train": ["source", "pseudo"], "source_limit": None, "when": "always", "config": {}},
    "evaluate": {
        "nlu": True,
        "tokenizer": True,
        "mlm": {"enabled": True, "max_segments": 200},
        "held_out_share": 0.5,
        "base_nlu": True,
        "retrieval": {"enabled": True, "prefix": "query: ", "max_units": None, "batch_size": 32, "max_length": 256},
        "translate_test": {"enabled": True, "weight": 0.6, "slot_weight": 0.7},
        "sigmorphon": {
            "enabled": True,
            "dev_share": 0.1,
            "max_entries": 20000,
            "systems": ["affix", "auto"],
            "neural_preset": "cpu",
            "neural": {},
            "transducer": {"max_epochs": 10, "patience": 3},
        },
    },
}
#: Free-form mappings, handed to another module's own validation.
_FREE = ("adapt.config", "nlu.config", "evaluate.sigmorphon.neural", "evaluate.sigmorphon.transducer")

_PATH_KEYS = {
    "data.lexicons": "list",
    "data.unimorph": "list",
    "data.source_text": "one",
    "data.target_text": "list",
    "data.massive_train": "one",
    "data.massive_dev": "one",
    "data.massive_test": "list",
    "data.parallel.udhr": "one",
    "data.parallel.bible": "one",
    "data.parallel.flores": "one",
}
_CHOICES = {
    "synth.oov": ("keep", "drop", "transliterate"),
    "synth.join": ("script", "spaces"),
    "device": None,  # checked by pattern below
}
_SETS = {
    "nlu.train": ("source", "pseudo"),
    "adapt.texts": ("pseudo", "real"),
    "evaluate.sigmorphon.systems": ("affix", "transducer", "auto", "neural"),
}
_INTS = {
    "seed",
    "synth.min_replaced",
    "synth.mono_limit",
    "synth.label_limit",
    "nlu.source_limit",
    "evaluate.mlm.max_segments",
    "evaluate.sigmorphon.max_entries",
    "evaluate.retrieval.max_units",
    "evaluate.retrieval.batch_size",
    "evaluate.retrieval.max_length",
}
_OPTIONAL = {"synth.mono_limit", "synth.label_limit", "nlu.source_limit", "evaluate.retrieval.max_units"}
_SHARES = {"evaluate.held_out_share", "evaluate.sigmorphon.dev_share"}
#: the original reading's share of translate-test's averaged distributions (0 and 1 allowed)
_WEIGHTS = {"evaluate.translate_test.weight", "evaluate.translate_test.slot_weight"}
_BOOLS = {
    "adapt.enabled",
    "adapt.keep_model",
    "synth.source_parallel",
    "evaluate.nlu",
    "evaluate.base_nlu",
    "evaluate.tokenizer",
    "evaluate.mlm.enabled",
    "evaluate.retrieval.enabled",
    "evaluate.translate_test.enabled",
    "evaluate.sigmorphon.enabled",
}
#: Environment variable that replaces the folder of ``../shared/data`` in configs that use
#: ``${DATA}``.
DATA_ENV = "LEXICONLM_SHARED_DATA"


@dataclass(frozen=True)
class ExpandConfig:
    """A validated configuration: ``values`` holds every key (defaults filled in), paths
    resolved."""

    values: dict
    source: Path | None = None

    @property
    def name(self) -> str:
        return self.values["name"]

    def get(self, dotted: str) -> Any:
        """``cfg.get("synth.sense")``."""
        node: Any = self.values
        for part in dotted.split("."):
            node = node[part]
        return node

    def section(self, name: str) -> dict:
        return copy.deepcopy(self.values[name])

    def to_json(self) -> dict:
        """The resolved configuration as JSON-able data (paths as strings)."""
        return _jsonable(self.values)


@dataclass(frozen=True)
class LanguageInputs:
    """The files a run uses for one language (found with the catalog in the configured folders)."""

    language: Any  # lexiconlm.types.Language
    locale: str  # MASSIVE-style locale used for pseudo-labelled data (e.g. ``id-ID`` or ``ind``)
    lexicons: tuple[Path, ...]
    unimorph: tuple[Path, ...]
    target_text: tuple[Path, ...]
    massive_test: tuple[Path, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: the language's files of parallel text (:class:`lexiconlm.lexicon.parallel.ParallelFile`)
    parallel: tuple = ()

    def as_dict(self) -> dict:
        return {
            "language": self.language.iso639_3,
            "name": self.language.name,
            "locale": self.locale,
            "lexicons": [str(p) for p in self.lexicons],
            "unimorph": [str(p) for p in self.unimorph],
            "target_text": [str(p) for p in self.target_text],
            "massive_test": [str(p) for p in self.massive_test],
            "parallel": [f"{f.corpus}:{f.path}" for f in self.parallel],
            "notes": list(self.notes),
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _variables() -> dict[str, str]:
    """``${DATA}``: $LEXICONLM_SHARED_DATA, or ``shared/data`` beside the repository."""
    beside = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return {"DATA": os.environ.get(DATA_ENV) or str(beside)}


def _check_sub_configs(values: dict, base: Path, problems: list[str]) -> None:
    """Paths inside ``nlu.config`` resolved; the sub-configurations checked by their own modules."""
    nlu = values["nlu"]["config"]
    resolve_paths(
        values,
        {"nlu.config.intents_file": "one", "nlu.config.slots_file": "one"},
        base,
        problems,
        variables=_variables(),
    )
    for k in ("intents_file", "slots_file"):
        if isinstance(nlu.get(k), Path):
            nlu[k] = str(nlu[k])
    sig = values["evaluate"]["sigmorphon"]
    preset = sig.get("neural_preset")
    if check_choice(preset, "evaluate.sigmorphon.neural_preset", ("cpu", "tiny"), problems) and "neural" in (
        sig.get("systems") or []
    ):
        if "preset" in sig["neural"]:
            problems.append("evaluate.sigmorphon.neural.preset -> set it as evaluate.sigmorphon.neural_preset")
        try:
            NeuralConfig.from_dict({**sig["neural"], "preset": preset})
        except ConfigError as exc:
            problems.extend(f"evaluate.sigmorphon.neural.{p}" for p in exc.problems)
    if {"transducer", "auto"} & set(sig.get("systems") or []):
        from lexiconlm.inflection import transducer  # imports torch

        try:
            transducer.load_config(dict(sig["transducer"]))
        except ConfigError as exc:
            problems.extend(f"evaluate.sigmorphon.transducer.{p}" for p in exc.problems)
    ad = values["adapt"]["config"]
    for k in ("base_model", "language"):
        if k in ad:
            problems.append(f"adapt.config.{k} -> set by the pipeline (model.base and the run's language)")
    if values["adapt"].get("enabled") is True:
        given = {k: v for k, v in ad.items() if k not in ("base_model", "language")}
        try:
            load_adapt_config(
                {**given, "base_model": "placeholder", "language": "eng"}, has_texts=True, has_lexicon=True
            )
        except ConfigError as exc:
            problems.extend(f"adapt.config.{p}" for p in exc.problems)
    if "model" in nlu:
        problems.append("nlu.config.model -> set by the pipeline (the adapted or base model); use model.base")
    train = merge(NLU_DEFAULTS, {k: v for k, v in nlu.items() if k != "model"}, problems=problems, loc="nlu.config")
    problems.extend(f"nlu.config.{p}" for p in train_config_problems({**train, "model": "x"}))


def _check_types(values: dict, problems: list[str]) -> None:
    cfg = ExpandConfig(values)
    for dotted in sorted(_INTS):
        check_int(cfg.get(dotted), dotted, problems, minimum=0, optional=dotted in _OPTIONAL)
    for dotted in sorted(_SHARES):
        check_number(cfg.get(dotted), dotted, problems, low=0, high=1, low_open=True, high_open=True)
    for dotted in sorted(_WEIGHTS):
        check_number(cfg.get(dotted), dotted, problems, low=0, high=1)
    for dotted in sorted(_BOOLS):
        check_bool(cfg.get(dotted), dotted, problems)
    for dotted, allowed in _SETS.items():
        v = cfg.get(dotted)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            problems.append(f"{dotted} -> expected a list of names out of {', '.join(allowed)}, got {v!r}")
            continue
        for x in v:
            if x not in allowed:
                close = did_you_mean(x, allowed, n=1)
                hint = f" Did you mean: {close[0]}?" if close else f" Known: {', '.join(allowed)}."
                problems.append(f"{dotted} -> unknown name {x!r}.{hint}")
    check_choice(cfg.get("synth.oov"), "synth.oov", _CHOICES["synth.oov"], problems)
    check_choice(cfg.get("synth.join"), "synth.join", _CHOICES["synth.join"], problems)
    check_choice(cfg.get("nlu.when"), "nlu.when", ("always", "test"), problems)
    if not isinstance(cfg.get("evaluate.retrieval.prefix"), str):
        problems.append(f"evaluate.retrieval.prefix -> expected text, got {cfg.get('evaluate.retrieval.prefix')!r}")
    try:
        resolve_sense(str(cfg.get("synth.sense")))
    except (LexiconLMError, KeyError, ValueError) as exc:
        problems.append(f"synth.sense -> {exc}")
    hyg = cfg.get("synth.hygiene")
    if hyg not in (None, "none", "script.v1", "script-any.v1"):
        problems.append(f"synth.hygiene -> expected script.v1, script-any.v1 or none, got {hyg!r}")
    dev = cfg.get("device")
    if not isinstance(dev, str) or not (dev in ("auto", "cpu", "cuda", "mps") or dev.startswith("cuda:")):
        problems.append(f"device -> expected auto, cpu, cuda, cuda:<n> or mps, got {dev!r}")
    base = cfg.get("model.base")
    if not isinstance(base, str) or not base.strip():
        problems.append(f"model.base -> expected 'tiny', 'e5-small', a local folder or a hub name, got {base!r}")
    tiny = cfg.get("model.tiny")
    n_before = len(problems)
    for k, v in tiny.items():
        check_int(v, f"model.tiny.{k}", problems, minimum=1)
    if len(problems) == n_before and tiny["hidden_size"] % tiny["num_attention_heads"]:
        problems.append("model.tiny -> hidden_size must be a multiple of num_attention_heads")
    if not isinstance(values.get("name"), str) or not values["name"].strip():
        problems.append(f"name -> expected a non-empty name, got {values.get('name')!r}")
    elif any(c in values["name"] for c in "/\\ "):
        problems.append(f"name -> {values['name']!r} may not contain a slash or a space (it names run folders)")
    langs = values.get("languages")
    if isinstance(langs, str):
        values["languages"] = [langs]
    elif not isinstance(langs, list):
        problems.append(f"languages -> expected a list of language codes, got {langs!r}")
    if not cfg.get("data.lexicons"):
        if cfg.get("data.optional_lexicons"):
            where = ", ".join(str(p) for p in cfg.get("data.optional_lexicons"))
            problems.append(
                f"data.optional_lexicons -> none of {where} exists, and data.lexicons is empty"
                " (nothing to synthesise from)"
            )
        else:
            problems.append(
                "data.lexicons -> at least one lexicon folder or file is needed (nothing to synthesise from)"
            )
    train_sets = cfg.get("nlu.train") if isinstance(cfg.get("nlu.train"), list) else []
    if "pseudo" in train_sets and cfg.get("data.massive_train") is None:
        problems.append("nlu.train -> 'pseudo' needs data.massive_train (the English utterances to project)")
    if "source" in train_sets and cfg.get("data.massive_train") is None:
        problems.append("nlu.train -> 'source' needs data.massive_train")


def check_languages(codes: Sequence[str], problems: list[str], where: str = "languages") -> list:
    """Resolve language codes with the catalog; unknown ones become problems with suggestions.

    Args:
        codes: ISO 639-3 / BCP-47 codes or names.
        problems: where ``where -> Unknown language ...`` problems go.
        where: the location named in the problems (``languages``, ``--lang``).

    Returns:
        The :class:`~lexiconlm.types.Language` of every code the catalog knows.
    """
    cat = get_catalog()
    out = []
    for code in codes:
        try:
            out.append(cat.lookup(str(code)))
        except UnknownLanguageError as exc:
            problems.append(f"{where} -> {exc}")
    return out


def _validate(
    raw: Mapping | None,
    base: Path,
    name: str,
    source: Path | None,
    languages: Sequence[str] | None,
    problems: list[str],
) -> ExpandConfig:
    """Merge with :data:`DEFAULTS` and check everything; raise every problem found at once."""
    values = merge(DEFAULTS, raw, problems=problems, free=_FREE)
    if values["name"] is None:
        values["name"] = name
    resolve_paths(values, _PATH_KEYS, base, problems, variables=_variables())
    resolve_paths(values, {"data.optional_lexicons": "list"}, base, problems, must_exist=False, variables=_variables())
    # the optional lexicons that exist join the others (for finding, `--langs all` and signatures)
    present = [p for p in values["data"]["optional_lexicons"] if p.exists()]
    values["data"]["lexicons"] = list(values["data"]["lexicons"]) + [
        p for p in present if p not in values["data"]["lexicons"]
    ]
    _check_types(values, problems)
    _check_sub_configs(values, base, problems)
    if isinstance(values.get("languages"), list):
        check_languages(values["languages"], problems)
    if languages:
        check_languages(languages, problems, where="--lang")
    raise_problems(problems, str(source or ""))
    return ExpandConfig(values, source)


def config_from_dict(
    raw: Mapping | None,
    *,
    base_dir: str | os.PathLike = ".",
    name: str = "config",
    source: Path | None = None,
    languages: Sequence[str] | None = None,
) -> ExpandConfig:
    """Validate a configuration mapping; relative paths are taken relative to ``base_dir``.

    Args:
        raw: the parsed YAML (``None``: every default).
        base_dir: the folder relative paths start from (the YAML file's folder).
        name: the default run name.
        source: the YAML file, recorded in the result.
        languages: languages to check as well (those given on the command line).

    Raises:
        ConfigError: listing every problem found.
    """
    if raw is not None and not isinstance(raw, Mapping):
        got = type(raw).__name__
        raise ConfigError([f"top level -> expected a mapping, got {got}"], str(source or ""))
    return _validate(raw, Path(base_dir).resolve(), name, source, languages, [])


def load_config(
    path: str | os.PathLike, *, overrides: Sequence[str] = (), languages: Sequence[str] | None = None
) -> ExpandConfig:
    """Read and validate a YAML configuration (see the module docstring).

    Args:
        path: the YAML file.
        overrides: ``key.path=value`` items applied before validation (values parsed as YAML;
            an unknown key is a problem with a did-you-mean).
        languages: languages named on the command line, checked with the rest.

    Raises:
        ConfigError: the file cannot be read or parsed, or any value or override is invalid
            (all listed).

    Example:
        >>> cfg = load_config("configs/expand/tiny.yaml")  # doctest: +SKIP
        >>> cfg.get("model.base")                          # doctest: +SKIP
        'tiny'
    """
    p = Path(path)
    raw = read_config(p, hint="expand configs live in configs/expand/, e.g. configs/expand/tiny.yaml")
    values = apply_overrides(
        raw.values, overrides, defaults=DEFAULTS, free=_FREE, problems=raw.problems, example="synth.sense=first"
    )
    return _validate(values, raw.base, p.stem, p, languages, raw.problems)


# --------------------------------------------------------------------------- per-language inputs


def _same_language(code: str, lang, *, context: str | None = None) -> bool:
    found = get_catalog().find(code, context=context) if code else None
    if found is None:
        return False
    return found.iso639_3 == lang.iso639_3


def language_inputs(cfg: ExpandConfig, language: str) -> LanguageInputs:
    """Find the lexicons, UniMorph tables, real text and MASSIVE test files of ``language``.

    Raises:
        UnknownLanguageError: the catalog does not know ``language``.
        ConfigError: no lexicon of the language is in ``data.lexicons``.
    """
    lang = get_catalog().lookup(language)
    notes: list[str] = [
        f"optional lexicon {p} is absent (left out)" for p in cfg.get("data.optional_lexicons") or [] if not p.exists()
    ]
    lex_dirs = [p for p in cfg.get("data.lexicons") if p.is_dir()]
    lex_files = [p for p in cfg.get("data.lexicons") if p.is_file()]
    lexicons = list(find_lexicons(lang, lex_dirs)) if lex_dirs else []
    # files named explicitly are used when their language matches (or cannot be told)
    for f in lex_files:
        hit = _lexicon_file_language(f.name)
        if hit is None or hit[1] == lang.iso639_3:
            lexicons.append(f)
    if not lexicons:
        where = ", ".join(str(p) for p in cfg.get("data.lexicons"))
        problem = f"data.lexicons -> no English-{lang.name} lexicon ({lang.iso639_3}) in {where}"
        raise ConfigError([problem], str(cfg.source or ""))
    unimorph = find_unimorph_tables(lang, cfg.get("data.unimorph"))
    want_script = lang.scripts[0] if lang.scripts else ""
    texts = []
    other: list[tuple[Path, str]] = []
    for p in data_files(cfg.get("data.target_text")):
        tl = text_language(p)
        if tl.iso639_3 != lang.iso639_3:
            continue
        # a version in another script (``jav_java``, ``tgl_tglg``) is left out
        segs = read_text(p, errors="collect", language=lang).segments[:50]
        scr = dominant_script([x.text for x in segs]) or ""
        if scr and want_script and scr != want_script:
            other.append((p, scr))
            continue
        texts.append(p)
    if not texts and other:
        # none in the catalog's script: the text is written in another one (Bamun in Latin
        # letters, Hakka in Han characters); the commonest script of the files is used
        common = Counter(scr for _, scr in other).most_common(1)[0][0]
        texts = [p for p, scr in other if scr == common]
        notes.append(f"no real text in {want_script}; the {common} text is used ({', '.join(p.name for p in texts)})")
        other = [(p, scr) for p, scr in other if scr != common]
    notes += [f"real text {p.name} left out: written in {scr}, not {want_script}" for p, scr in other]
    tests = []
    for p in data_files(cfg.get("data.massive_test")):
        loc = locale_from_path(p)
        if loc and _same_language(loc, lang):
            tests.append(p)
    if tests:
        locale = locale_from_path(tests[0])
    else:
        locale = lang.iso639_1 or lang.iso639_3
    parallel = tuple(parallel_files(cfg).get(lang.iso639_3, ()))
    return LanguageInputs(
        lang, locale, tuple(lexicons), tuple(unimorph), tuple(texts), tuple(tests), tuple(notes), parallel
    )


def check_inputs(cfg: ExpandConfig, languages: Sequence[str]) -> None:
    """Find every language's inputs before any work, so that a missing lexicon stops a run at once.

    Raises:
        ConfigError: listing every language without a lexicon (one problem each).
    """
    problems: list[str] = []
    for lang in languages:
        try:
            language_inputs(cfg, lang)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, str(cfg.source or ""))


def parallel_sources(cfg: ExpandConfig) -> dict[str, str]:
    """``{corpus: folder}`` of the configured parallel text (``data.parallel``)."""
    return {k: str(v) for k, v in cfg.get("data.parallel").items() if v is not None}


@lru_cache(maxsize=4)
def _parallel_files(sources: tuple[tuple[str, str], ...]) -> dict:
    return find_parallel_files(dict(sources)) if sources else {}


def parallel_files(cfg: ExpandConfig) -> dict:
    """Every language's parallel-text files in ``data.parallel`` (read once per process)."""
    return _parallel_files(tuple(sorted(parallel_sources(cfg).items())))
