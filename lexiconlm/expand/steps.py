"""The steps of ``lexiconlm expand`` and the registry of what they call.

Each step is a plain function ``step_<name>(ctx: StepContext) -> dict`` (the outputs recorded
in ``steps/<name>.json``, paths relative to the run folder) registered in :data:`STEPS` with
the configuration keys it reads, the steps it depends on and the data files it hashes.

What the steps call in other modules goes through :data:`BACKENDS`, a lazy registry of
``"module:function"`` names (``train_joint`` is ``lexiconlm.nlu.train:train_joint``).
:func:`lexiconlm.expand.pipeline.run_expand` takes ``backends={name: callable}`` to swap an
entry, which is how tests run the pipeline with small stand-ins.

Steps, in order:

``ingest``     read the language's lexicons, UniMorph tables and real text; split the real
               text into a training part and a held-out part
``synth``      pseudo-monolingual text (the English source text through the lexicon) and
               pseudo-labelled MASSIVE utterances (the English training set projected),
               with a leakage guard against the test sets
``model``      the base model: a tiny BERT built from ``model.tiny`` with a WordPiece
               tokenizer trained on the run's text, or a named/local model
``adapt``      tokenizer and embedding adaptation with continued MLM (when enabled)
``train``      fine-tune the joint intent/slot model
``evaluate``   NLU on the language's MASSIVE test set, tokenizer fertility/UNK rate and MLM
               loss on held-out real text, SIGMORPHON-style inflection accuracy on a split
               of the UniMorph table; what cannot be evaluated is listed
``report``     metrics.json, run.json, tables, plots, report.md and report.html
"""

from __future__ import annotations

import hashlib
import math
import shutil
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import replace as _r
from pathlib import Path
from typing import Any

from lexiconlm.coverage.tokenizer import load_tokenizer, tokenizer_coverage
from lexiconlm.errors import LexiconLMError, MissingDependencyError
from lexiconlm.expand.cache import StepRecord, write_record
from lexiconlm.expand.config import ExpandConfig, LanguageInputs, parallel_sources
from lexiconlm.expand.report import write_report
from lexiconlm.files import atomic_write_text
from lexiconlm.inflection.affix import AffixBaseline
from lexiconlm.inflection.choose import fit_inflector
from lexiconlm.inflection.metrics import evaluate as score_inflection
from lexiconlm.inflection.neural import LanguageData, NeuralConfig, NeuralInflector
from lexiconlm.inflection.neural import train as train_neural
from lexiconlm.io.lexicons import merge_lexicons, read_lexicon, write_lexicon
from lexiconlm.io.massive import read_massive, write_massive_tsv
from lexiconlm.io.text import read_text
from lexiconlm.io.unimorph import read_unimorph, write_unimorph
from lexiconlm.leakage import LeakageGuard
from lexiconlm.lexicon.parallel import ParallelUnit, parallel_units, select_units
from lexiconlm.models import quiet_transformers
from lexiconlm.registry import Registry
from lexiconlm.synth.pseudo_label import make_translator, project_utterances
from lexiconlm.synth.pseudo_mono import encode_corpus, read_source, translate_corpus, write_result
from lexiconlm.synth.reverse import ReverseTranslator
from lexiconlm.synth.translate import count_words
from lexiconlm.unicode_scripts import dominant_script

__all__ = ["BACKENDS", "STEPS", "STEP_ORDER", "Step", "StepContext", "resolve_backend", "split_share"]

#: What the steps call in other modules (lazy ``module:function`` names).
BACKENDS = Registry(
    "expand backend",
    versioned=False,
    entries={
        "resolve_model": "lexiconlm.models:resolve_model",
        "adapt": "lexiconlm.adapt.run:adapt",
        "train_joint": "lexiconlm.nlu.train:train_joint",
        "evaluate_nlu": "lexiconlm.nlu.evaluate:evaluate",
        "evaluate_nlu_translate_test": "lexiconlm.nlu.translate_test:evaluate_translate_test",
        "build_tiny_model": "lexiconlm.expand.steps:build_tiny_model",
        "mlm_loss": "lexiconlm.expand.steps:mlm_loss",
        "retrieval": "lexiconlm.expand.retrieval:model_retrieval",
    },
)


def resolve_backend(name: str, overrides: Mapping[str, Callable] | None = None) -> Callable:
    """The callable registered as ``name`` (an override first).

    Raises:
        LexiconLMError: the module that provides it cannot be imported (the message says which).
    """
    if overrides and name in overrides:
        return overrides[name]
    target = BACKENDS.reference(name)
    try:
        return BACKENDS.resolve(name)[1]
    except ModuleNotFoundError as exc:
        if exc.name in ("torch", "transformers", "tokenizers", "accelerate", "safetensors"):
            raise MissingDependencyError(
                f"the '{name}' step of lexiconlm expand", "gpu", "torch, transformers, tokenizers"
            ) from None
        raise LexiconLMError(f"the '{name}' backend ({target}) cannot be imported: {exc}") from None


@dataclass
class StepContext:
    """What a step sees: the config, the language's inputs, the run folder, earlier steps' records."""

    cfg: ExpandConfig
    inputs: LanguageInputs
    run_dir: Path
    records: dict[str, StepRecord]
    backends: Mapping[str, Callable] = field(default_factory=dict)
    log: Callable[[str], None] = print
    progress: bool = True

    def backend(self, name: str) -> Callable:
        return resolve_backend(name, self.backends)

    def out(self, step: str) -> dict:
        return self.records[step].outputs

    def path(self, rel: str) -> Path:
        return self.run_dir / rel

    def rel(self, p: Path) -> str:
        try:
            return str(Path(p).resolve().relative_to(self.run_dir.resolve()))
        except ValueError:
            return str(p)

    @property
    def device(self) -> str:
        return self.cfg.get("device")


@dataclass(frozen=True)
class Step:
    """A registered step: its function, version, dependencies, config keys, data files and work paths."""

    name: str
    run: Callable[[StepContext], dict]
    depends: tuple[str, ...]
    config_keys: tuple[str, ...]
    files: Callable[[LanguageInputs, ExpandConfig], list] = lambda inputs, cfg: []
    work: tuple[str, ...] = ()
    version: str = "v1"


# --------------------------------------------------------------------------- helpers


def split_share(key: str, share: float, seed: int) -> bool:
    """Deterministic membership of a held-out share, from a hash of the item and the seed."""
    h = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < share


def sample(items: list, limit: int | None, seed: int, key=lambda u: u.id) -> list:
    """At most ``limit`` items chosen by a seeded hash of their key, in their original order."""
    if not limit or len(items) <= limit:
        return list(items)
    ranked = sorted(range(len(items)), key=lambda i: hashlib.sha256(f"{seed}\x00{key(items[i])}".encode()).digest())
    keep = set(ranked[:limit])
    return [x for i, x in enumerate(items) if i in keep]


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(f"{x}\n" for x in lines))


def _read_lines(path: Path) -> list[str]:
    return [x for x in path.read_text(encoding="utf-8").split("\n") if x]


def merged_lexicon(inputs: LanguageInputs):
    """One :class:`Lexicon` from every lexicon file of the language (duplicates dropped, file order)."""
    lexicons = [read_lexicon(p, errors="collect", tgt=inputs.language) for p in inputs.lexicons]
    return merge_lexicons(lexicons), lexicons


# --------------------------------------------------------------------------- ingest


def step_ingest(ctx: StepContext) -> dict:
    """Read the lexicons, UniMorph tables and real text; split the real text; write ``data/``."""
    inp = ctx.inputs
    data = ctx.path("data")
    data.mkdir(parents=True, exist_ok=True)
    lex, parts = merged_lexicon(inp)
    write_lexicon(lex, data / "lexicon.tsv")
    errors = [p for p in lex.problems if p.severity == "error"]
    entries = []
    for p in inp.unimorph:
        table = read_unimorph(p, errors="collect", language=inp.language)
        entries.extend(table.entries)
    if entries:
        write_unimorph(entries, data / "unimorph.tsv")
    seed = ctx.cfg.get("seed")
    share = ctx.cfg.get("evaluate.held_out_share")
    segments: list[str] = []
    for p in inp.target_text:
        corpus = read_text(p, errors="collect", language=inp.language)
        segments.extend(s.text.strip() for s in corpus.segments if s.text.strip())
    segments = list(dict.fromkeys(segments))
    units = language_parallel_units(ctx.cfg, inp)
    unit_held = select_units(units, "heldout", share)
    unit_train = select_units(units, "train", share)
    _write_units(data / "parallel_heldout.tsv", unit_held)
    _write_units(data / "parallel_train.tsv", unit_train)
    # text of a held-out parallel unit is held out whatever its own hash says (retrieval is
    # measured on those units); other text is split by a hash of the segment
    in_held = _TextIndex(u.target for u in unit_held)
    in_train = _TextIndex(u.target for u in unit_train)
    held, train = [], []
    for seg in segments:
        if in_held.contains(seg) or (not in_train.contains(seg) and split_share(seg, share, seed)):
            held.append(seg)
        else:
            train.append(seg)
    _write_lines(data / "real_train.txt", train)
    _write_lines(data / "real_heldout.txt", held)
    return {
        "lexicon": "data/lexicon.tsv",
        "lexicon_files": [str(p) for p in inp.lexicons],
        "n_lexicon_entries": len(lex.entries),
        "n_lexicon_entries_per_file": {p.name: len(x.entries) for p, x in zip(inp.lexicons, parts)},
        "n_lexicon_problems": len(errors),
        "unimorph": "data/unimorph.tsv" if entries else None,
        "n_unimorph_entries": len(entries),
        "n_unimorph_lemmas": len({e.lemma for e in entries}),
        "real_train": "data/real_train.txt",
        "real_heldout": "data/real_heldout.txt",
        "n_real_segments": len(segments),
        "n_real_train": len(train),
        "n_real_heldout": len(held),
        "parallel_heldout": "data/parallel_heldout.tsv",
        "parallel_train": "data/parallel_train.tsv",
        "n_parallel_heldout": len(unit_held),
        "n_parallel_train": len(unit_train),
        "parallel_corpora": sorted({u.corpus for u in units}),
        "massive_test": [str(p) for p in inp.massive_test],
    }


def _ingest_files(inputs: LanguageInputs, cfg: ExpandConfig) -> list:
    return [*inputs.lexicons, *inputs.unimorph, *inputs.target_text, *(f.path for f in inputs.parallel)]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


class _TextIndex:
    """Whether a text is one of, or part of, a set of texts (whitespace and case normalised)."""

    def __init__(self, texts):
        self.exact = {_norm(t) for t in texts}
        self.blob = "\n".join(sorted(self.exact))

    def contains(self, text: str) -> bool:
        t = _norm(text)
        return bool(t) and (t in self.exact or (len(t) >= 20 and t in self.blob))


def language_parallel_units(cfg: ExpandConfig, inputs: LanguageInputs) -> list[ParallelUnit]:
    """The English-target units of the language's parallel text in its main writing system."""
    if not inputs.parallel:
        return []
    units = parallel_units(list(inputs.parallel), parallel_sources(cfg))
    scripts = [dominant_script([u.target]) or "" for u in units]
    want = inputs.language.scripts[0] if inputs.language.scripts else ""
    if want and want not in scripts and any(scripts):
        # the language's text is in another script than the catalog's first one: its commonest
        want = Counter(x for x in scripts if x).most_common(1)[0][0]
    if want:
        units = [u for u, x in zip(units, scripts) if (x or want) == want]
    return units


_UNIT_COLUMNS = ("corpus", "id", "group", "source", "target")


def _write_units(path: Path, units: Sequence[ParallelUnit]) -> None:
    def clean(x: str) -> str:
        return " ".join(x.split())

    lines = ["\t".join(_UNIT_COLUMNS)] + [
        "\t".join((u.corpus, u.id, u.group, clean(u.source), clean(u.target))) for u in units
    ]
    _write_lines(path, lines)


def read_units(path: Path) -> list[ParallelUnit]:
    """The units a run's ``data/parallel_*.tsv`` holds."""
    if not path.is_file():
        return []
    rows = path.read_text(encoding="utf-8").split("\n")[1:]
    out = []
    for r in rows:
        if r:
            c, i, g, src, tgt = r.split("\t")
            out.append(ParallelUnit(c, i, src, tgt, g))
    return out


# --------------------------------------------------------------------------- synth


def step_synth(ctx: StepContext) -> dict:
    """Pseudo-monolingual text and pseudo-labelled MASSIVE utterances, guarded against test leakage."""
    cfg, inp = ctx.cfg, ctx.inputs
    s = cfg.section("synth")
    lex, _ = merged_lexicon(inp)

    def translator():
        return make_translator(lex, sense=s["sense"], oov=s["oov"], seed=cfg.get("seed"), hygiene=s["hygiene"])

    out: dict[str, Any] = {}
    data = ctx.path("data")
    guard = LeakageGuard()
    if inp.massive_test:
        guard.add_massive(inp.massive_test)
    held = _read_lines(ctx.path(ctx.out("ingest")["real_heldout"]))
    if held:
        guard.add_texts(held, source="real_heldout.txt")
    src = cfg.get("data.source_text")
    if src is not None or s["source_parallel"]:
        texts, n_excluded = source_texts(ctx)
        res = translate_corpus(
            translator(), encode_corpus(texts, name=str(src or "parallel")), min_replaced=s["min_replaced"]
        )
        lines = res.lines
        clean, leaks = guard.filter(lines) if len(guard) else (lines, [])
        if leaks:
            res = _r(res, text="".join(f"{x}\n" for x in clean))
        write_result(res, data / "pseudo_mono.txt", extra={"source": str(src), "n_leaks_dropped": len(leaks)})
        out.update(
            pseudo_mono="data/pseudo_mono.txt",
            n_source_heldout_excluded=n_excluded,
            mono=res.stats.as_dict(),
            mono_signature=res.signature,
            mono_leaks_dropped=len(leaks),
        )
        out["mono"].pop("seconds", None)
    train_path = cfg.get("data.massive_train")
    if train_path is not None and "pseudo" in cfg.get("nlu.train"):
        ds = read_massive(train_path)
        utts = sample(list(ds.utterances), s["label_limit"], cfg.get("seed"))
        res = project_utterances(utts, translator(), locale=inp.locale, script="" if s["join"] == "spaces" else None)
        # with oov: drop an utterance whose every word was dropped is left out (nothing to learn from)
        projected = [p.utterance for p in res.items if p.utterance.text.strip()]
        n_empty = len(res.items) - len(projected)
        clean, leaks = guard.filter(projected) if len(guard) else (projected, [])
        write_massive_tsv(clean, data / "pseudo_train.tsv")
        atomic_write_text(data / "pseudo_train.tsv.signature", res.signature + "\n")
        st = res.stats
        out.update(
            pseudo_train="data/pseudo_train.tsv",
            label_signature=res.signature,
            n_pseudo_utterances=len(clean),
            n_pseudo_empty_dropped=n_empty,
            label_leaks_dropped=len(leaks),
            projection={"token_ratio": round(st.token_ratio, 6), "slot_ratio": round(st.slot_ratio, 6)},
        )
    return out


def _synth_files(inputs: LanguageInputs, cfg: ExpandConfig) -> list:
    files = [*inputs.lexicons, *inputs.massive_test]
    for key in ("data.source_text", "data.massive_train"):
        if cfg.get(key) is not None:
            files.append(cfg.get(key))
    return files


def source_texts(ctx: StepContext) -> tuple[list[str], int]:
    """The English source text (``data.source_text``, plus the English of the language's training
    half of parallel units with ``synth.source_parallel``), without the English of any held-out
    unit; and how many source sentences were left out for that."""
    cfg, ing = ctx.cfg, ctx.out("ingest")
    src = cfg.get("data.source_text")
    texts = read_source(src, limit=cfg.get("synth.mono_limit")) if src is not None else []
    held = read_units(ctx.path(ing.get("parallel_heldout", "data/parallel_heldout.tsv")))
    n_excluded = 0
    if held:
        index = _TextIndex(u.source for u in held)
        kept = [t for t in texts if not index.contains(t)]
        n_excluded, texts = len(texts) - len(kept), kept
    if cfg.get("synth.source_parallel"):
        seen = {_norm(t) for t in texts}
        for u in read_units(ctx.path(ing.get("parallel_train", "data/parallel_train.tsv"))):
            if _norm(u.source) not in seen:
                seen.add(_norm(u.source))
                texts.append(u.source)
    return texts, n_excluded


# --------------------------------------------------------------------------- model


def run_texts(ctx: StepContext) -> list[str]:
    """Every training text of the run (English source, pseudo text, real training text); never held-out text."""
    cfg = ctx.cfg
    texts: list[str] = source_texts(ctx)[0]
    syn = ctx.out("synth")
    if syn.get("pseudo_mono"):
        texts += _read_lines(ctx.path(syn["pseudo_mono"]))
    if cfg.get("data.massive_train") is not None:
        texts += [u.text for u in read_massive(cfg.get("data.massive_train")).utterances]
    if syn.get("pseudo_train"):
        texts += [u.text for u in read_massive(ctx.path(syn["pseudo_train"])).utterances]
    texts += _read_lines(ctx.path(ctx.out("ingest")["real_train"]))
    return texts


def build_tiny_model(texts: list[str], out_dir: Path, *, config: dict, seed: int) -> Path:
    """A small BERT (masked LM) built from ``config`` with a WordPiece tokenizer trained on ``texts``
    (:func:`lexiconlm.training.build_tiny_model`, tokenizer ``wordpiece-bert.v1``).

    Args:
        texts: training text for the tokenizer.
        out_dir: the HF folder to write (model + tokenizer).
        config: ``vocab_size``, ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``,
            ``intermediate_size``, ``max_position_embeddings``.
        seed: seeds the weight initialisation.

    Returns:
        ``out_dir``.
    """
    from lexiconlm.training import build_tiny_model as build  # imports torch
    from lexiconlm.training import save_model_folder

    bert, tok = build(texts, config, tokenizer="wordpiece-bert.v1", masked_lm=True, seed=seed)
    return save_model_folder(bert, tok, out_dir)


def step_model(ctx: StepContext) -> dict:
    """The base model: built (``tiny``) or resolved (``e5-small``, a folder, a hub name)."""
    base = ctx.cfg.get("model.base")
    if base == "tiny":
        out_dir = ctx.path("base_model")
        ctx.backend("build_tiny_model")(
            run_texts(ctx), out_dir, config=ctx.cfg.get("model.tiny"), seed=ctx.cfg.get("seed")
        )
        return {"model_dir": "base_model", "base": "tiny", "built": True}
    path = ctx.backend("resolve_model")(base)
    return {"model_dir": str(path), "base": base, "built": False}


def _model_dir(ctx: StepContext, step: str) -> Path:
    p = Path(ctx.out(step)["model_dir"])
    return p if p.is_absolute() else ctx.path(str(p))


# --------------------------------------------------------------------------- adapt


def step_adapt(ctx: StepContext) -> dict:
    """Tokenizer/embedding adaptation with continued MLM (:func:`lexiconlm.adapt.run.adapt`), when enabled."""
    if not ctx.cfg.get("adapt.enabled"):
        return {"model_dir": ctx.out("model")["model_dir"], "skipped": True}
    texts: list[str] = []
    which = ctx.cfg.get("adapt.texts")
    if "pseudo" in which and ctx.out("synth").get("pseudo_mono"):
        texts += _read_lines(ctx.path(ctx.out("synth")["pseudo_mono"]))
    if "real" in which:
        texts += _read_lines(ctx.path(ctx.out("ingest")["real_train"]))
    if not texts:
        raise LexiconLMError(
            "adapt: no text to adapt on (no pseudo-monolingual text and no real training text); "
            "set data.source_text or data.target_text, or adapt.enabled: false"
        )
    lex, _ = merged_lexicon(ctx.inputs)
    config = ctx.cfg.section("adapt")["config"]
    config["base_model"] = str(_model_dir(ctx, "model"))
    config["language"] = ctx.inputs.language.iso639_3
    config.setdefault("seed", ctx.cfg.get("seed"))
    out_dir = ctx.path("adapt")
    metrics = ctx.backend("adapt")(
        config, out_dir=out_dir, texts=texts, lexicon=lex, device=ctx.device, resume=True, progress=ctx.progress
    )
    model_dir = metrics.get("model_dir") or (out_dir / "model")
    # checkpoints only serve to resume a killed run; the finished model is saved
    shutil.rmtree(out_dir / "checkpoints", ignore_errors=True)
    return {
        "model_dir": ctx.rel(Path(model_dir)),
        "skipped": False,
        "n_texts": len(texts),
        "metrics": {k: v for k, v in metrics.items() if k != "model_dir"},
    }


# --------------------------------------------------------------------------- train


def nlu_datasets(ctx: StepContext) -> tuple[list, Any]:
    """The NLU training sets (English source and/or pseudo-labelled) and the dev set (or ``None``)."""
    cfg = ctx.cfg
    train = []
    which = cfg.get("nlu.train")
    if "source" in which:
        ds = read_massive(cfg.get("data.massive_train"))
        limit = cfg.get("nlu.source_limit")
        if limit:
            ds = replace(ds, utterances=tuple(sample(list(ds.utterances), limit, cfg.get("seed"))))
        train.append(ds)
    syn = ctx.out("synth")
    if "pseudo" in which and syn.get("pseudo_train"):
        train.append(read_massive(ctx.path(syn["pseudo_train"]), locale=ctx.inputs.locale))
    dev = read_massive(cfg.get("data.massive_dev")) if cfg.get("data.massive_dev") is not None else None
    return train, dev


def step_train(ctx: StepContext) -> dict:
    """Fine-tune the joint intent/slot model (:func:`lexiconlm.nlu.train.train_joint`); resumes from checkpoints."""
    if ctx.cfg.get("nlu.when") == "test" and not ctx.inputs.massive_test:
        return {"skipped": True, "model_dir": None, "n_train": {}, "n_dev": 0}
    train_sets, dev = nlu_datasets(ctx)
    if not train_sets:
        raise LexiconLMError("train: no NLU training data (nlu.train names no set that exists)")
    config = ctx.cfg.section("nlu")["config"]
    config["model"] = str(_model_dir(ctx, "adapt"))
    config.setdefault("seed", ctx.cfg.get("seed"))
    out_dir = ctx.path("train")
    model_dir = ctx.backend("train_joint")(
        config, train=train_sets, dev=dev, out_dir=out_dir, device=ctx.device, resume=True, progress=ctx.progress
    )
    return {
        "model_dir": ctx.rel(Path(model_dir)),
        "n_train": {d.locale: len(d) for d in train_sets},
        "n_dev": len(dev) if dev is not None else 0,
        "n_steps": planned_steps(config, sum(len(d) for d in train_sets)),
    }


def planned_steps(config: Mapping, n_utterances: int) -> int:
    """Optimizer steps of a training run of ``n_utterances`` (epochs x batches, capped by max_steps)."""
    merged = {"epochs": 2, "batch_size": 32, **{k: v for k, v in config.items() if v is not None}}
    steps = int(merged["epochs"]) * math.ceil(n_utterances / int(merged["batch_size"]))
    return min(steps, int(merged["max_steps"])) if merged.get("max_steps") else steps


def step_train_base(ctx: StepContext) -> dict:
    """The before figure for NLU: the *base* model fine-tuned on the English source only, with the
    same configuration, seed and number of optimizer steps as the expanded model (the source
    set is repeated for as many epochs as that takes)."""
    cfg = ctx.cfg
    wanted = cfg.get("evaluate.base_nlu") and cfg.get("evaluate.nlu") and ctx.inputs.massive_test
    if cfg.get("nlu.when") == "test" and not ctx.inputs.massive_test:
        wanted = False
    if not wanted or "source" not in cfg.get("nlu.train"):
        return {"skipped": True, "model_dir": None}
    sets, dev = nlu_datasets(ctx)
    source = sets[:1]  # nlu_datasets puts the English source first
    n_source = len(source[0])
    # the expanded model's steps (step_train), so this step does not wait for it nor rerun with it
    n_steps = planned_steps(cfg.section("nlu")["config"], sum(len(d) for d in sets))
    config = cfg.section("nlu")["config"]
    config["model"] = str(_model_dir(ctx, "model"))
    config.setdefault("seed", cfg.get("seed"))
    per_epoch = math.ceil(n_source / int(config.get("batch_size") or 32))
    config["epochs"] = max(1, math.ceil(n_steps / per_epoch))
    config["max_steps"] = n_steps
    model_dir = ctx.backend("train_joint")(
        config,
        train=source,
        dev=dev,
        out_dir=ctx.path("train_base"),
        device=ctx.device,
        resume=True,
        progress=ctx.progress,
    )
    return {"model_dir": ctx.rel(Path(model_dir)), "n_train": {source[0].locale: n_source}, "n_steps": n_steps}


# --------------------------------------------------------------------------- evaluate


def mlm_loss(
    model_dir: Path, texts: list[str], *, seed: int, max_length: int = 128, batch_size: int = 16, device: str = "cpu"
) -> dict:
    """Masked-LM loss on ``texts`` with a fixed mask (15 % of the non-special tokens, seeded).

    Returns ``{"loss", "perplexity", "n_masked"}``, or ``{"skipped": reason}`` when the model
    has no trained MLM head (a head missing from the checkpoint would be random).
    """
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    try:
        with quiet_transformers():  # a missing head is reported below, not as transformers' table
            model, info = AutoModelForMaskedLM.from_pretrained(str(model_dir), output_loading_info=True)
    except (OSError, ValueError) as exc:
        return {"skipped": f"cannot load a masked-LM model from {model_dir}: {exc}"}
    missing = [k for k in info.get("missing_keys", []) if "position_ids" not in k]
    if missing:
        return {
            "skipped": f"the checkpoint has no trained MLM head ({len(missing)} weights missing, e.g. {missing[0]})"
        }
    model.eval().to(device)
    gen = torch.Generator().manual_seed(seed)
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            enc = tok(
                texts[i : i + batch_size],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
                return_special_tokens_mask=True,
            )
            special = enc.pop("special_tokens_mask").bool() | (enc["attention_mask"] == 0)
            probs = torch.rand(enc["input_ids"].shape, generator=gen)
            mask = (probs < 0.15) & ~special
            if not mask.any():
                continue
            labels = torch.where(mask, enc["input_ids"], torch.full_like(enc["input_ids"], -100))
            inputs = enc["input_ids"].masked_fill(mask, tok.mask_token_id)
            enc = {k: v.to(device) for k, v in enc.items()}
            enc["input_ids"] = inputs.to(device)
            logits = model(**enc).logits
            loss = torch.nn.functional.cross_entropy(
                logits.view(-1, logits.size(-1)).float(), labels.to(device).view(-1), ignore_index=-100, reduction="sum"
            )
            total += float(loss)
            n += int(mask.sum())
    if not n:
        return {"skipped": "no token was masked (the held-out text is empty)"}
    return {"loss": round(total / n, 6), "perplexity": round(math.exp(min(total / n, 50.0)), 4), "n_masked": n}


def _inflection_split(entries, share: float, seed: int, max_entries: int):
    """Train/dev split by lemma (no lemma in both), capped at ``max_entries`` by a seeded hash."""
    entries = [e for e in entries if e.form]
    if len(entries) > max_entries:
        keyed = sorted(entries, key=lambda e: hashlib.sha256(f"{seed}\x00{e.lemma}\x00{e.features}".encode()).digest())
        entries = sorted(keyed[:max_entries], key=lambda e: (e.lemma, e.features))
    dev = [e for e in entries if split_share(e.lemma, share, seed)]
    train = [e for e in entries if not split_share(e.lemma, share, seed)]
    return train, dev


def _reverse_translators(ctx: StepContext, sets) -> dict:
    """Translate-test's reader for each test set: the language's merged lexicon read backwards, its
    English senses chosen by the English training utterances (else the source text)."""
    cfg = ctx.cfg
    if cfg.get("data.massive_train") is not None:
        english = [u.text for u in read_massive(cfg.get("data.massive_train")).utterances]
    else:
        english = read_source(cfg.get("data.source_text")) if cfg.get("data.source_text") is not None else []
    reader = ReverseTranslator(
        merged_lexicon(ctx.inputs)[0], english_counts=count_words(english), hygiene=cfg.get("synth.hygiene")
    )
    return {ds.locale: reader for ds in sets}


def step_evaluate(ctx: StepContext) -> dict:
    """Everything that can be evaluated for the language; what cannot is listed with the reason."""
    cfg, inp = ctx.cfg, ctx.inputs
    ev = cfg.section("evaluate")
    seed = cfg.get("seed")
    metrics: dict[str, Any] = {}
    tables: dict[str, list[dict]] = {}
    missing: list[str] = []
    base_dir = _model_dir(ctx, "model")
    adapted = not ctx.out("adapt").get("skipped", True)
    adapt_dir = _model_dir(ctx, "adapt")

    # NLU on labelled data of the language
    if ev["nlu"]:
        if inp.massive_test:
            sets = [read_massive(p) for p in inp.massive_test]
            final_dir = _model_dir(ctx, "train")
            tt = ev["translate_test"]
            if tt["enabled"] and inp.lexicons:
                # the recipe's figures: both readings averaged; the model on the text as written beside them
                readers = _reverse_translators(ctx, sets)
                plain, scores = ctx.backend("evaluate_nlu_translate_test")(
                    final_dir, sets, readers, weight=tt["weight"], slot_weight=tt["slot_weight"], device=ctx.device
                )
                metrics["nlu_as_written"] = {loc: {k: v for k, v in s.items() if k != "n"} for loc, s in plain.items()}
            else:
                plain, scores = None, ctx.backend("evaluate_nlu")(final_dir, sets, device=ctx.device)
            tables["nlu"] = [{"locale": loc, "model": "expanded", **dict(s)} for loc, s in scores.items()]
            if plain is not None:
                tables["nlu"] += [
                    {"locale": loc, "model": "expanded, as written", **dict(s)} for loc, s in plain.items()
                ]
            metrics["nlu"] = {loc: {k: v for k, v in s.items() if k != "n"} for loc, s in scores.items()}
            if ctx.out("train_base").get("model_dir"):
                base_scores = ctx.backend("evaluate_nlu")(_model_dir(ctx, "train_base"), sets, device=ctx.device)
                tables["nlu"] += [{"locale": loc, "model": "base", **dict(s)} for loc, s in base_scores.items()]
                metrics["nlu_base"] = {loc: {k: v for k, v in s.items() if k != "n"} for loc, s in base_scores.items()}
        else:
            missing.append(
                f"NLU (intent accuracy, slot F1): no MASSIVE test set for {inp.language.name} "
                f"({inp.language.iso639_3}) in data.massive_test"
            )
    held = _read_lines(ctx.path(ctx.out("ingest")["real_heldout"]))
    if not held:
        reason = f"no real {inp.language.name} text in data.target_text"
        if ev["tokenizer"]:
            missing.append(f"tokenizer fertility and UNK rate: {reason}")
        if ev["mlm"]["enabled"]:
            missing.append(f"MLM loss on held-out text: {reason}")
    else:
        if ev["tokenizer"]:
            rows = []
            models = [("base", base_dir)] + ([("adapted", adapt_dir)] if adapted else [])
            for label, d in models:
                cov = tokenizer_coverage(load_tokenizer(d), held)
                rows.append(
                    {
                        "language": inp.language.iso639_3,
                        "model": label,
                        "unk_rate": cov["unk_rate"],
                        "fertility": cov["fertility"],
                        "script_coverage": cov["script_coverage"],
                        "n_words": cov["n_words"],
                        "n_tokens": cov["n_tokens"],
                    }
                )
            tables["tokenizer"] = rows
            metrics["tokenizer"] = {r["model"]: {"unk_rate": r["unk_rate"], "fertility": r["fertility"]} for r in rows}
        if ev["mlm"]["enabled"]:
            texts = held[: ev["mlm"]["max_segments"]]
            rows = []
            models = [("base", base_dir)] + ([("adapted", adapt_dir)] if adapted else [])
            for label, d in models:
                res = ctx.backend("mlm_loss")(d, texts, seed=seed)
                if "skipped" in res:
                    missing.append(f"MLM loss of the {label} model: {res['skipped']}")
                    continue
                rows.append(
                    {
                        "language": inp.language.iso639_3,
                        "model": label,
                        "mlm_loss": res["loss"],
                        "perplexity": res["perplexity"],
                        "n_masked": res["n_masked"],
                    }
                )
            if rows:
                tables["mlm"] = rows
                metrics["mlm"] = {r["model"]: {"loss": r["mlm_loss"], "perplexity": r["perplexity"]} for r in rows}
    if ev["retrieval"]["enabled"]:
        units = read_units(ctx.path(ctx.out("ingest").get("parallel_heldout", "data/parallel_heldout.tsv")))
        if not units:
            missing.append(
                f"parallel-sentence retrieval: no held-out {inp.language.name} units with English in data.parallel"
            )
        else:
            rv = ev["retrieval"]
            units = sample(units, rv["max_units"], seed, key=lambda u: u.key)
            rows = []
            models = [("base", base_dir)] + ([("adapted", adapt_dir)] if adapted else [])
            for label, d in models:
                res = ctx.backend("retrieval")(
                    d,
                    units,
                    prefix=rv["prefix"],
                    batch_size=rv["batch_size"],
                    max_length=rv["max_length"],
                    device=ctx.device,
                )
                rows.append({"language": inp.language.iso639_3, "model": label, **res})
            tables["retrieval"] = rows
            metrics["retrieval"] = {
                r["model"]: {k: v for k, v in r.items() if k not in ("language", "model")} for r in rows
            }
    sig = ev["sigmorphon"]
    if sig["enabled"]:
        uni = ctx.out("ingest").get("unimorph")
        if not uni:
            missing.append(f"inflection accuracy: no UniMorph table for {inp.language.name} in data.unimorph")
        else:
            table = read_unimorph(ctx.path(uni), language=inp.language)
            tr, dv = _inflection_split(table.entries, sig["dev_share"], seed, sig["max_entries"])
            rows = []
            for system in sig["systems"]:
                chosen = None
                if system == "affix":
                    pred = AffixBaseline().fit(tr).predict(dv)
                elif system in ("transducer", "auto"):  # auto: the better on held-out lemmas of tr
                    fitted = fit_inflector(
                        tr,
                        system,
                        out_dir=ctx.path("inflection") / system,
                        config=sig["transducer"],
                        seed=seed,
                        device=ctx.device,
                        progress=ctx.progress,
                    )
                    pred, chosen = fitted.predict(dv), fitted.system
                else:
                    pred = neural_inflection(
                        tr,
                        dv,
                        ctx.path("inflection"),
                        tag=inp.language.iso639_3,
                        preset=sig["neural_preset"],
                        overrides={"seed": seed, **sig["neural"]},
                        device=ctx.device,
                        progress=ctx.progress,
                    )
                sc = score_inflection(dv, pred)
                rows.append(
                    {
                        "language": inp.language.iso639_3,
                        "system": system,
                        "n_train": len(tr),
                        "n_dev": len(dv),
                        "dev_accuracy": round(sc.accuracy, 4),
                        "dev_levenshtein": round(sc.levenshtein, 4),
                        **({"chosen": chosen} if chosen else {}),
                    }
                )
            if rows:
                tables["sigmorphon"] = rows
                metrics["inflection"] = {
                    r["system"]: {
                        "accuracy": r["dev_accuracy"],
                        "levenshtein": r["dev_levenshtein"],
                        **({"chosen": r["chosen"]} if "chosen" in r else {}),
                    }
                    for r in rows
                }
                best = max(rows, key=lambda r: r["dev_accuracy"])
                metrics["inflection"]["best"] = {
                    "system": best.get("chosen", best["system"]),
                    "accuracy": best["dev_accuracy"],
                    "levenshtein": best["dev_levenshtein"],
                }
    return {"metrics": metrics, "tables": tables, "not_evaluable": missing}


def neural_inflection(
    train_entries,
    dev_entries,
    out_dir: Path,
    *,
    tag: str,
    preset: str = "cpu",
    overrides: Mapping[str, Any] | None = None,
    device: str = "auto",
    progress: bool = True,
) -> list[str]:
    """Train the neural inflector (:mod:`lexiconlm.inflection.neural`) on one split; predict the dev forms.

    Resumes from ``out_dir``'s checkpoint after a kill.
    """
    cfg = getattr(NeuralConfig, preset)(**dict(overrides or {}))
    train_neural(
        cfg,
        [LanguageData(tag, list(train_entries), list(dev_entries))],
        out_dir,
        device=device,
        resume=True,
        progress=progress,
        desc=f"inflection {tag}",
    )
    return NeuralInflector.load(out_dir, device=device).predict(list(dev_entries), tag=tag)


def _evaluate_files(inputs: LanguageInputs, cfg: ExpandConfig) -> list:
    return list(inputs.massive_test)


# --------------------------------------------------------------------------- report


def step_report(ctx: StepContext) -> dict:
    """Write the run folder's results (see :mod:`lexiconlm.expand.report`); with
    ``adapt.keep_model: false`` (batches of many languages), the adapted model is removed once
    evaluated and the adapt step's record forgets its files, so the run stays cached."""
    out = write_report(ctx)
    rec = ctx.records.get("adapt")
    if not ctx.cfg.get("adapt.keep_model") and rec is not None and not rec.outputs.get("skipped", True):
        model_rel = rec.outputs["model_dir"].rstrip("/") + "/"
        shutil.rmtree(ctx.path(model_rel), ignore_errors=True)
        files = {k: v for k, v in (rec.files or {}).items() if not k.startswith(model_rel)}
        rec = replace(rec, files=files, outputs={**rec.outputs, "model_removed": True})
        ctx.records["adapt"] = rec
        write_record(ctx.run_dir, rec)
    return out


#: Every step, in the order the pipeline runs them.
STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step(
            "ingest",
            step_ingest,
            (),
            ("seed", "evaluate.held_out_share", "data.parallel"),
            _ingest_files,
            ("data",),
            version="v2",
        ),
        Step(
            "synth",
            step_synth,
            ("ingest",),
            ("seed", "synth", "nlu.train", "data.source_text", "data.massive_train"),
            _synth_files,
            version="v2",
        ),
        Step("model", step_model, ("synth",), ("seed", "model"), work=("base_model",)),
        Step(
            "train_base",
            step_train_base,
            ("model", "synth"),
            ("seed", "device", "nlu", "data.massive_train", "data.massive_dev", "evaluate.nlu", "evaluate.base_nlu"),
            _evaluate_files,
            ("train_base",),
        ),
        Step("adapt", step_adapt, ("model", "synth", "ingest"), ("seed", "device", "adapt"), work=("adapt",)),
        Step(
            "train",
            step_train,
            ("adapt", "synth"),
            ("seed", "device", "nlu", "data.massive_train", "data.massive_dev"),
            _evaluate_files,
            work=("train",),
            version="v2",
        ),
        Step(
            "evaluate",
            step_evaluate,
            ("train", "train_base", "adapt", "model", "ingest"),
            ("seed", "device", "evaluate"),
            _evaluate_files,
            ("inflection",),
        ),
        Step(
            "report",
            step_report,
            ("evaluate", "train_base", "train", "adapt", "model", "synth", "ingest"),
            ("name", "adapt.keep_model"),
            version="v3",
        ),
    )
}
STEP_ORDER: tuple[str, ...] = tuple(STEPS)


def config_part(cfg: ExpandConfig, keys: tuple[str, ...]) -> dict:
    """The part of the resolved config a step reads (JSON)."""
    full = cfg.to_json()
    out = {}
    for k in keys:
        node: Any = full
        for part in k.split("."):
            node = node[part]
        out[k] = node
    return out
