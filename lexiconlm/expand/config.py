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
    :func:`lexiconlm.io.locate.find_lexicons`), ``unimorph`` (folders or files of
    UniMorph tables, ``<iso>.tsv``), ``source_text`` (English text translated into
    pseudo-monolingual text), ``target_text`` (folders or files of real text of the
    languages, for held-out evaluation and optional adaptation), ``massive_train`` and
    ``massive_dev`` (English MASSIVE files), ``massive_test`` (folders of
    ``<locale>.tsv`` test files).
``synth``
    translator settings (``sense``, ``oov``, ``hygiene``, ``join``, ``min_replaced``) and
    limits (``mono_limit``, ``label_limit``).
``model``
    ``base``: ``tiny`` (a small BERT built from ``model.tiny`` with a WordPiece
    tokenizer trained on the run's text), ``e5-small``, a local folder or a hub name.
``adapt``
    ``enabled`` and ``config`` (handed to :func:`lexiconlm.adapt.run.adapt`).
``nlu``
    ``config`` (handed to :func:`lexiconlm.nlu.train.train_joint`), ``train`` (which
    sets to train on: ``source``, ``pseudo``), ``source_limit``.
``evaluate``
    ``nlu``, ``tokenizer``, ``mlm`` and ``sigmorphon`` switches and sizes.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexiconlm.errors import ConfigError, LexiconLMError

__all__ = [
    "DEFAULTS",
    "ExpandConfig",
    "LanguageInputs",
    "apply_overrides",
    "config_from_dict",
    "language_inputs",
    "load_config",
]

_ANY = object()  # a free-form mapping (handed to another module's own validation)

#: Every key with its default; nested dicts are sections. ``_ANY`` marks free-form mappings.
DEFAULTS: dict[str, Any] = {
    "name": None,
    "languages": [],
    "seed": 13,
    "device": "auto",
    "data": {
        "lexicons": [],
        "unimorph": [],
        "source_text": None,
        "target_text": [],
        "massive_train": None,
        "massive_dev": None,
        "massive_test": [],
    },
    "synth": {
        "sense": "random",
        "oov": "keep",
        "hygiene": "script.v1",
        "join": "script",
        "min_replaced": 3,
        "mono_limit": None,
        "label_limit": None,
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
    "adapt": {"enabled": False, "texts": ["pseudo", "real"], "config": _ANY},
    "nlu": {"train": ["source", "pseudo"], "source_limit": None, "config": _ANY},
    "evaluate": {
        "nlu": True,
        "tokenizer": True,
        "mlm": {"enabled": True, "max_segments": 200},
        "held_out_share": 0.5,
        "sigmorphon": {"enabled": True, "dev_share": 0.1, "max_entries": 20000, "systems": ["affix"],
                       "neural_preset": "cpu", "neural": _ANY},
    },
}

_PATH_KEYS = {
    "data.lexicons": "list",
    "data.unimorph": "list",
    "data.source_text": "one",
    "data.target_text": "list",
    "data.massive_train": "one",
    "data.massive_dev": "one",
    "data.massive_test": "list",
}
_CHOICES = {
    "synth.oov": ("keep", "drop", "transliterate"),
    "synth.join": ("script", "spaces"),
    "device": None,  # checked by pattern below
}
_SETS = {"nlu.train": ("source", "pseudo"), "adapt.texts": ("pseudo", "real"),
         "evaluate.sigmorphon.systems": ("affix", "neural")}
_INTS = {"seed", "synth.min_replaced", "synth.mono_limit", "synth.label_limit", "nlu.source_limit",
         "evaluate.mlm.max_segments", "evaluate.sigmorphon.max_entries"}
_OPTIONAL = {"synth.mono_limit", "synth.label_limit", "nlu.source_limit"}
_SHARES = {"evaluate.held_out_share", "evaluate.sigmorphon.dev_share"}
_BOOLS = {"adapt.enabled", "evaluate.nlu", "evaluate.tokenizer", "evaluate.mlm.enabled",
          "evaluate.sigmorphon.enabled"}
#: Environment variable that replaces the folder of ``../shared/data`` in configs that use ``${DATA}``.
DATA_ENV = "LEXICONLM_SHARED_DATA"


@dataclass(frozen=True)
class ExpandConfig:
    """A validated configuration: ``values`` holds every key (defaults filled in), paths resolved."""

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

    def as_dict(self) -> dict:
        return {
            "language": self.language.iso639_3,
            "name": self.language.name,
            "locale": self.locale,
            "lexicons": [str(p) for p in self.lexicons],
            "unimorph": [str(p) for p in self.unimorph],
            "target_text": [str(p) for p in self.target_text],
            "massive_test": [str(p) for p in self.massive_test],
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


def _expand_vars(text: str, base: Path) -> str:
    """``${DATA}`` -> $LEXICONLM_SHARED_DATA or ``../shared/data`` beside the repository."""
    if "${DATA}" in text:
        data = os.environ.get(DATA_ENV) or str(Path(__file__).resolve().parents[2].parent / "shared" / "data")
        text = text.replace("${DATA}", data)
    return os.path.expandvars(os.path.expanduser(text))


def _merge(defaults: Any, given: Any, loc: str, problems: list[str]) -> Any:
    """Defaults overlaid with ``given``; unknown keys become problems (with did-you-mean)."""
    if defaults is _ANY:
        if given is None:
            return {}
        if not isinstance(given, Mapping):
            problems.append(f"{loc}: expected a mapping, got {type(given).__name__}")
            return {}
        return copy.deepcopy(dict(given))
    if isinstance(defaults, dict):
        if given is None:
            given = {}
        if not isinstance(given, Mapping):
            problems.append(f"{loc or 'top level'}: expected a mapping, got {type(given).__name__}")
            return copy.deepcopy({k: (_merge(v, None, f'{loc}.{k}'.lstrip('.'), problems)) for k, v in defaults.items()})
        out = {}
        for key in given:
            if key not in defaults:
                where = f"{loc}.{key}" if loc else str(key)
                close = difflib.get_close_matches(str(key), list(defaults), n=2, cutoff=0.6)
                hint = f" Did you mean: {', '.join(close)}?" if close else f" Known keys: {', '.join(defaults)}."
                problems.append(f"{where}: unknown key.{hint}")
        for key, dv in defaults.items():
            sub = f"{loc}.{key}" if loc else key
            out[key] = _merge(dv, given.get(key), sub, problems) if key in given else _merge(dv, None, sub, problems)
        return out
    return copy.deepcopy(defaults if given is None else given)


def _check_paths(values: dict, base: Path, problems: list[str]) -> None:
    for dotted, kind in _PATH_KEYS.items():
        sec, key = dotted.split(".")
        raw = values[sec][key]
        if raw is None or raw == []:
            values[sec][key] = None if kind == "one" else []
            continue
        items = [raw] if kind == "list" and isinstance(raw, (str, os.PathLike)) else raw
        if kind == "one" and not isinstance(raw, (str, os.PathLike)):
            problems.append(f"{dotted}: expected one path, got {type(raw).__name__}")
            continue
        if kind == "list" and not isinstance(items, (list, tuple)):
            problems.append(f"{dotted}: expected a path or a list of paths, got {type(raw).__name__}")
            continue
        resolved = []
        for item in ([items] if kind == "one" else items):
            if not isinstance(item, (str, os.PathLike)) or not str(item).strip():
                problems.append(f"{dotted}: expected a path, got {item!r}")
                continue
            p = Path(_expand_vars(str(item), base))
            if not p.is_absolute():
                p = (base / p).resolve()
            if not p.exists():
                problems.append(f"{dotted}: {item} does not exist (resolved to {p}; paths are relative to {base})")
            resolved.append(p)
        values[sec][key] = resolved[0] if kind == "one" and resolved else (resolved if kind == "list" else None)


def _check_sub_configs(values: dict, base: Path, problems: list[str]) -> None:
    """Paths inside ``nlu.config`` resolved; ``nlu.config`` checked by the NLU trainer's own validation."""
    nlu = values["nlu"]["config"]
    for k in ("intents_file", "slots_file"):
        v = nlu.get(k)
        if isinstance(v, str):
            p = Path(_expand_vars(v, base))
            p = p if p.is_absolute() else (base / p).resolve()
            if not p.is_file():
                problems.append(f"nlu.config.{k}: {v} does not exist (resolved to {p})")
            nlu[k] = str(p)
    sig = values["evaluate"]["sigmorphon"]
    if sig.get("neural_preset") not in ("cpu", "tiny"):
        problems.append(f"evaluate.sigmorphon.neural_preset: expected cpu or tiny, got {sig.get('neural_preset')!r}")
    elif "neural" in (sig.get("systems") or []):
        try:
            from lexiconlm.inflection.neural import NeuralConfig
        except ImportError:
            NeuralConfig = None
        if NeuralConfig is not None:
            try:
                getattr(NeuralConfig, sig["neural_preset"])(**sig["neural"]).validate()
            except TypeError as exc:
                problems.append(f"evaluate.sigmorphon.neural: {exc}")
            except ConfigError as exc:
                problems.extend(f"evaluate.sigmorphon.neural: {p}" for p in exc.problems)
    ad = values["adapt"]["config"]
    for k in ("base_model", "language"):
        if k in ad:
            problems.append(f"adapt.config.{k}: set by the pipeline (model.base and the run's language)")
    if values["adapt"].get("enabled") is True:
        try:
            from lexiconlm.adapt.config import load_config as adapt_config
        except ImportError:
            adapt_config = None
        if adapt_config is not None:
            try:
                adapt_config({**{k: v for k, v in ad.items() if k not in ("base_model", "language")},
                              "base_model": "placeholder", "language": "eng"}, has_texts=True, has_lexicon=True)
            except ConfigError as exc:
                problems.extend(f"adapt.config: {p}" for p in exc.problems)
    if "model" in nlu:
        problems.append("nlu.config.model: set by the pipeline (the adapted or base model); use model.base")
    try:
        from lexiconlm.nlu.train import DEFAULTS as NLU_DEFAULTS
        from lexiconlm.nlu.train import validate_train_config
    except ImportError:
        return
    try:
        validate_train_config({**NLU_DEFAULTS, **{k: v for k, v in nlu.items() if k != "model"}, "model": "x"})
    except ConfigError as exc:
        problems.extend(f"nlu.config: {p}" for p in exc.problems)


def _check_types(values: dict, problems: list[str]) -> None:
    cfg = ExpandConfig(values)
    for dotted in sorted(_INTS):
        v = cfg.get(dotted)
        if v is None and dotted in _OPTIONAL:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            problems.append(f"{dotted}: expected a non-negative integer, got {v!r}")
    for dotted in sorted(_SHARES):
        v = cfg.get(dotted)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
            problems.append(f"{dotted}: expected a number between 0 and 1 (exclusive), got {v!r}")
    for dotted in sorted(_BOOLS):
        if not isinstance(cfg.get(dotted), bool):
            problems.append(f"{dotted}: expected true or false, got {cfg.get(dotted)!r}")
    for dotted, allowed in _SETS.items():
        v = cfg.get(dotted)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            problems.append(f"{dotted}: expected a list of names out of {', '.join(allowed)}, got {v!r}")
            continue
        for x in v:
            if x not in allowed:
                close = difflib.get_close_matches(x, allowed, n=1)
                problems.append(f"{dotted}: unknown name {x!r}." + (f" Did you mean: {close[0]}?" if close else
                                                                     f" Known: {', '.join(allowed)}."))
    oov = cfg.get("synth.oov")
    if oov not in _CHOICES["synth.oov"]:
        problems.append(f"synth.oov: expected one of {', '.join(_CHOICES['synth.oov'])}, got {oov!r}")
    join = cfg.get("synth.join")
    if join not in _CHOICES["synth.join"]:
        problems.append(f"synth.join: expected one of {', '.join(_CHOICES['synth.join'])}, got {join!r}")
    sense = cfg.get("synth.sense")
    try:
        from lexiconlm.synth.translate import resolve_sense

        resolve_sense(str(sense))
    except LexiconLMError as exc:
        problems.append(f"synth.sense: {exc}")
    except (KeyError, ValueError) as exc:
        problems.append(f"synth.sense: {exc}")
    hyg = cfg.get("synth.hygiene")
    if hyg not in (None, "none", "script.v1", "script-any.v1"):
        problems.append(f"synth.hygiene: expected script.v1, script-any.v1 or none, got {hyg!r}")
    dev = cfg.get("device")
    if not isinstance(dev, str) or not (dev in ("auto", "cpu", "cuda", "mps") or dev.startswith("cuda:")):
        problems.append(f"device: expected auto, cpu, cuda, cuda:<n> or mps, got {dev!r}")
    base = cfg.get("model.base")
    if not isinstance(base, str) or not base.strip():
        problems.append(f"model.base: expected 'tiny', 'e5-small', a local folder or a hub name, got {base!r}")
    tiny = cfg.get("model.tiny")
    for k, v in tiny.items():
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            problems.append(f"model.tiny.{k}: expected a positive integer, got {v!r}")
    if not problems and tiny["hidden_size"] % tiny["num_attention_heads"]:
        problems.append("model.tiny: hidden_size must be a multiple of num_attention_heads")
    if not isinstance(values.get("name"), str) or not values["name"].strip():
        problems.append(f"name: expected a non-empty name, got {values.get('name')!r}")
    elif any(c in values["name"] for c in "/\\ "):
        problems.append(f"name: {values['name']!r} may not contain a slash or a space (it names run folders)")
    langs = values.get("languages")
    if isinstance(langs, str):
        values["languages"] = [langs]
    elif not isinstance(langs, list):
        problems.append(f"languages: expected a list of language codes, got {langs!r}")
    if not cfg.get("data.lexicons"):
        problems.append("data.lexicons: at least one lexicon folder or file is needed (nothing to synthesise from)")
    if "pseudo" in cfg.get("nlu.train") and cfg.get("data.massive_train") is None:
        problems.append("nlu.train: 'pseudo' needs data.massive_train (the English utterances to project)")
    if "source" in cfg.get("nlu.train") and cfg.get("data.massive_train") is None:
        problems.append("nlu.train: 'source' needs data.massive_train")


def check_languages(codes: Sequence[str], problems: list[str], where: str = "languages") -> list:
    """Resolve language codes with the catalog; unknown ones become problems with suggestions."""
    from lexiconlm.errors import UnknownLanguageError
    from lexiconlm.languages import get_catalog

    cat = get_catalog()
    out = []
    for code in codes:
        try:
            out.append(cat.lookup(str(code)))
        except UnknownLanguageError as exc:
            problems.append(f"{where}: {exc}")
    return out


def config_from_dict(raw: Mapping | None, *, base_dir: str | os.PathLike = ".", name: str = "config",
                     source: Path | None = None, languages: Sequence[str] | None = None) -> ExpandConfig:
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
    problems: list[str] = []
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError([f"top level: expected a mapping, got {type(raw).__name__}"], str(source or ""))
    values = _merge(DEFAULTS, dict(raw or {}), "", problems)
    if values["name"] is None:
        values["name"] = name
    _check_paths(values, Path(base_dir).resolve(), problems)
    _check_types(values, problems)
    _check_sub_configs(values, Path(base_dir).resolve(), problems)
    if isinstance(values.get("languages"), list):
        check_languages(values["languages"], problems)
    if languages:
        check_languages(languages, problems, where="--lang")
    if problems:
        raise ConfigError(problems, str(source or ""))
    return ExpandConfig(values, source)


def apply_overrides(raw: dict, overrides: Sequence[str]) -> dict:
    """``["nlu.config.epochs=2", "synth.sense=first"]`` applied to a raw mapping (values parsed as YAML)."""
    import yaml

    raw = copy.deepcopy(raw)
    problems = []
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(f"--set {item!r}: expected key.path=value")
            continue
        node = raw
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                problems.append(f"--set {item!r}: {part} is not a section")
                break
        else:
            node[parts[-1]] = yaml.safe_load(value)
    if problems:
        raise ConfigError(problems, "--set")
    return raw


def load_config(path: str | os.PathLike, *, overrides: Sequence[str] = (),
                languages: Sequence[str] | None = None) -> ExpandConfig:
    """Read and validate a YAML configuration (see the module docstring).

    Args:
        path: the YAML file.
        overrides: ``key.path=value`` items applied before validation.
        languages: languages named on the command line, checked with the rest.

    Raises:
        ConfigError: the file cannot be read or parsed, or any value is invalid (all listed).

    Example:
        >>> cfg = load_config("configs/expand/tiny.yaml")  # doctest: +SKIP
        >>> cfg.get("model.base")                          # doctest: +SKIP
        'tiny'
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError([f"{p}: no such file"], str(p))
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError([f"{p}: not valid YAML: {exc}"], str(p)) from None
    if overrides:
        raw = apply_overrides(raw or {}, overrides)
    return config_from_dict(raw, base_dir=p.parent, name=p.stem, source=p, languages=languages)


# --------------------------------------------------------------------------- per-language inputs


def _same_language(code: str, lang, *, context: str | None = None) -> bool:
    from lexiconlm.languages import get_catalog

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
    from lexiconlm.io.massive import locale_from_path
    from lexiconlm.io.text import text_language
    from lexiconlm.files import data_files
    from lexiconlm.io.unimorph import find_unimorph_tables
    from lexiconlm.languages import get_catalog
    from lexiconlm.io.locate import find_lexicons

    lang = get_catalog().lookup(language)
    notes: list[str] = []
    lex_dirs = [p for p in cfg.get("data.lexicons") if p.is_dir()]
    lex_files = [p for p in cfg.get("data.lexicons") if p.is_file()]
    lexicons = list(find_lexicons(lang, lex_dirs)) if lex_dirs else []
    for f in lex_files:  # files named explicitly are used when their language matches (or cannot be told)
        from lexiconlm.io.locate import _resolve

        hit = _resolve(f.name)
        if hit is None or hit[1] == lang.iso639_3:
            lexicons.append(f)
    if not lexicons:
        raise ConfigError([f"data.lexicons: no English-{lang.name} lexicon ({lang.iso639_3}) in "
                           + ", ".join(str(p) for p in cfg.get("data.lexicons"))], str(cfg.source or ""))
    unimorph = find_unimorph_tables(lang, cfg.get("data.unimorph"))
    want_script = lang.scripts[0] if lang.scripts else ""
    texts = []
    for p in data_files(cfg.get("data.target_text")):
        tl = text_language(p)
        if tl.iso639_3 != lang.iso639_3:
            continue
        # a version in another script (``jav_java``, ``tgl_tglg``) is left out
        from lexiconlm.io.text import read_text
        from lexiconlm.unicode_scripts import dominant_script

        segs = read_text(p, errors="collect", language=lang).segments[:50]
        scr = dominant_script([x.text for x in segs]) or ""
        if scr and want_script and scr != want_script:
            notes.append(f"real text {p.name} left out: written in {scr}, not {want_script}")
            continue
        texts.append(p)
    tests = []
    for p in data_files(cfg.get("data.massive_test")):
        loc = locale_from_path(p)
        if loc and _same_language(loc, lang):
            tests.append(p)
    locale = locale_from_path(tests[0]) if tests else (f"{lang.iso639_1}" if lang.iso639_1 else lang.iso639_3)
    return LanguageInputs(lang, locale, tuple(lexicons), tuple(unimorph), tuple(texts), tuple(tests), tuple(notes))
