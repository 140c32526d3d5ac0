"""Vocabulary trimming: keep the pieces a set of texts uses, slice the embeddings to match.

A multilingual model spends most of its parameters on the embedding rows of a 250k
vocabulary; a model adapted to a few languages needs a fraction of them. :func:`trim_model`
keeps

* every special / added token,
* every piece the tokenizer produces on the given texts,
* optionally the ``top_k`` most frequent pieces of the original vocabulary (Unigram: the
  highest scores, which are log-probabilities; WordPiece: the lowest ids), so that text
  beyond the trimming set still finds common pieces, and
* for Unigram, the lowest-scoring piece (the unknown-token penalty is computed from the
  minimum score, so keeping it keeps every segmentation's score unchanged),

rebuilds the tokenizer with the kept pieces (Unigram: their scores; WordPiece: the same
greedy longest-match), the same normaliser, pre-tokenizer, post-processor and decoder, and
slices the input embeddings (and an MLM output layer and bias, when the model has one)
to the kept rows, in the old id order.

Why tokenisation of the trimming texts is unchanged: Unigram picks the best-scoring
segmentation, which survives the trim with the same score while other segmentations can
only disappear; WordPiece takes the longest piece in the vocabulary at each step, and the
pieces it took are kept while no longer piece existed. BPE (merge rules) is refused.

Example:
    >>> from lexiconlm.adapt.trim import trim_model
    >>> report = trim_model("e5-small", "out/e5-trim", texts=["Habari ya asubuhi"])  # doctest: +SKIP
    >>> report["kept_pieces"], report["parameters_after"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

from tqdm import tqdm

from lexiconlm import __version__
from lexiconlm.errors import DataFormatError, LexiconLMError
from lexiconlm.files import publish_folder
from lexiconlm.io.detect import detect_format, iter_data_files, read_any
from lexiconlm.languages import get_catalog
from lexiconlm.models import resolve_model
from lexiconlm.signature import Signature
from lexiconlm.types import Corpus, NLUDataset

__all__ = ["TRIM_METHOD", "TrimError", "load_texts", "trim_tokenizer_json", "trim_model"]

TRIM_METHOD = "trim.v1"


class TrimError(LexiconLMError, ValueError):
    """The model or tokenizer cannot be trimmed (says why and what to do)."""


# --------------------------------------------------------------------------- texts


def _lang_matches(wanted: set[str], locale: str | None, iso3: str | None) -> bool:
    if not wanted:
        return True
    keys = {k for k in (locale, iso3) if k}
    if locale:
        keys.add(locale.split("-")[0].split("_")[0])
    return bool(keys & wanted)


def _wanted_langs(langs: Sequence[str] | None) -> set[str]:
    """Codes to match: each as given plus its ISO 639-3 code when the catalog knows it."""
    out: set[str] = set()
    if not langs:
        return out

    cat = get_catalog()
    for lang in langs:
        out.add(lang)
        try:
            out.add(cat.lookup(lang).iso639_3)
        except LexiconLMError:
            pass
    return out


def load_texts(paths: Iterable[str | os.PathLike], *, langs: Sequence[str] | None = None) -> list[str]:
    """Texts of MASSIVE files and text corpora (files or folders, read with lexiconlm's readers).

    Args:
        paths: files or folders (folders are read recursively; files that are not data,
            such as PROVENANCE.md, are skipped there).
        langs: keep only files of these languages / locales (``am-ET``, ``amh``, ``am``...).

    Raises:
        DataFormatError: a file named directly is not a MASSIVE file or a text corpus,
            or a file has bad lines (all listed).
    """
    wanted = _wanted_langs(langs)
    texts: list[str] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise DataFormatError.single(
                str(root), None, "no such file or folder", "give MASSIVE files or text corpora"
            )
        files = iter_data_files(root)
        explicit = root.is_file()
        for f in files:
            guess = detect_format(f)
            if guess.kind not in ("massive", "text"):
                if explicit:
                    raise DataFormatError.single(
                        str(f),
                        None,
                        f"not a MASSIVE file or a text corpus (detected: {guess.kind})",
                        "give MASSIVE .tsv/.jsonl files or plain-text corpora",
                    )
                continue
            data = read_any(f)
            if isinstance(data, NLUDataset):
                if _lang_matches(wanted, data.locale, data.language.iso639_3):
                    texts.extend(u.text for u in data.utterances)
            elif isinstance(data, Corpus):
                if _lang_matches(wanted, None, data.language.iso639_3 if data.language else None):
                    texts.extend(s.text for s in data.segments)
    return texts


# --------------------------------------------------------------------------- tokenizer


def _remap_processor(node, idmap: dict[int, int]):
    """Rewrite special-token ids inside a post-processor JSON (Template, Roberta, Bert, Sequence)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ("sep", "cls") and isinstance(v, list) and len(v) == 2 and isinstance(v[1], int):
                out[k] = [v[0], idmap[v[1]]]
            elif k == "ids" and isinstance(v, list) and all(isinstance(i, int) for i in v):
                out[k] = [idmap[i] for i in v]
            else:
                out[k] = _remap_processor(v, idmap)
        return out
    if isinstance(node, list):
        return [_remap_processor(v, idmap) for v in node]
    return node


def _model_type(tj: dict) -> str:
    m = tj.get("model") or {}
    if m.get("type"):
        return m["type"]
    if "merges" in m:
        return "BPE"
    if "continuing_subword_prefix" in m and "max_input_chars_per_word" in m:
        return "WordPiece"
    if isinstance(m.get("vocab"), list):
        return "Unigram"
    return "unknown"


def trim_tokenizer_json(
    tj: dict,
    texts: Sequence[str],
    *,
    top_k: int = 0,
    progress: bool = False,
) -> tuple[dict, list[int], dict]:
    """Trim a ``tokenizer.json`` (as a dict) to the pieces ``texts`` use.

    Returns:
        ``(new_json, kept_old_ids, stats)``: ``kept_old_ids[new_id] = old_id`` (sorted, so the
        old order is kept); ``stats`` has ``old_pieces``, ``kept_pieces``, ``used_pieces``,
        ``tokens``, ``unk_tokens``.

    Raises:
        TrimError: a BPE or unknown tokenizer type.
    """
    from tokenizers import Tokenizer

    kind = _model_type(tj)
    if kind not in ("Unigram", "WordPiece"):
        raise TrimError(
            f"cannot trim a {kind} tokenizer: trimming supports SentencePiece Unigram (XLM-R, e5, mT5...) and "
            "WordPiece (BERT) vocabularies; for BPE, removing pieces would break its merge rules "
            "(adapt the model without trimming, or extend the vocabulary instead)"
        )
    tok = Tokenizer.from_str(json.dumps(tj))
    model = tj["model"]
    if kind == "Unigram":
        n_old = len(model["vocab"])
    else:
        n_old = max(model["vocab"].values()) + 1
    counts: Counter[int] = Counter()
    batch = 1000
    it = range(0, len(texts), batch)
    if progress:
        it = tqdm(it, desc="tokenize", unit="batch")
    n_tokens = 0
    for i in it:
        for enc in tok.encode_batch(list(texts[i : i + batch]), add_special_tokens=False):
            counts.update(enc.ids)
            n_tokens += len(enc.ids)
    keep = set(counts)
    added = {t["id"] for t in tj.get("added_tokens", [])}
    keep |= {i for i in added if i < n_old}
    if kind == "Unigram":
        unk = model.get("unk_id")
        if unk is not None:
            keep.add(unk)
        scores = [s for _, s in model["vocab"]]
        keep.add(min(range(n_old), key=scores.__getitem__))
    else:
        inv = {i: p for p, i in model["vocab"].items()}
        if model.get("unk_token") in model["vocab"]:
            keep.add(model["vocab"][model["unk_token"]])
    if top_k > 0:
        if kind == "Unigram":
            special = added | ({model["unk_id"]} if model.get("unk_id") is not None else set())
            ranked = sorted((i for i in range(n_old) if i not in special), key=lambda i: -scores[i])
            keep |= set(ranked[:top_k])
        else:
            keep |= {i for i in range(min(top_k, n_old)) if i in inv}
    kept = sorted(keep)
    idmap = {old: new for new, old in enumerate(kept)}
    new = json.loads(json.dumps(tj))
    if kind == "Unigram":
        new["model"]["vocab"] = [model["vocab"][i] for i in kept]
        if model.get("unk_id") is not None:
            new["model"]["unk_id"] = idmap[model["unk_id"]]
    else:
        new["model"]["vocab"] = {inv[i]: idmap[i] for i in kept}
    extra = [t for t in tj.get("added_tokens", []) if t["id"] >= n_old]
    for t in extra:  # added tokens beyond the model vocabulary follow the kept pieces
        idmap[t["id"]] = len(kept) + extra.index(t)
    new["added_tokens"] = [{**t, "id": idmap[t["id"]]} for t in tj.get("added_tokens", [])]
    if new.get("post_processor") is not None:
        new["post_processor"] = _remap_processor(new["post_processor"], idmap)
    stats = {
        "tokenizer_type": kind,
        "old_pieces": n_old,
        "kept_pieces": len(kept),
        "used_pieces": len(counts),
        "tokens": n_tokens,
        "unk_tokens": counts.get(
            model.get("unk_id") if kind == "Unigram" else model["vocab"].get(model.get("unk_token")), 0
        ),
    }
    return new, kept, stats


# --------------------------------------------------------------------------- model


def _load_model(path: str):
    """The model with its own head (config.architectures), falling back to AutoModel."""
    import transformers

    cfg = transformers.AutoConfig.from_pretrained(path)
    arch = (cfg.architectures or [None])[0]
    cls = getattr(transformers, arch, None) if arch else None
    if cls is None:
        cls = transformers.AutoModel
    return cls.from_pretrained(path), cls


def trim_model(
    model: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    texts: Sequence[str],
    top_k: int = 0,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Trim the vocabulary of ``model`` to the pieces ``texts`` use and write a new HF folder.

    Args:
        model: a local folder, an alias (``e5-small``) or a hub id (see :func:`resolve_model`).
        out_dir: the folder to write (model, tokenizer, ``trim.json``); it appears complete
            or not at all.
        texts: the texts whose pieces are kept.
        top_k: also keep the ``top_k`` most frequent pieces of the original vocabulary
            (Unigram: highest scores; WordPiece: lowest ids).
        overwrite: replace an existing ``out_dir``.
        progress: progress bars.

    Returns:
        The report written to ``out_dir/trim.json``: pieces and embedding rows before and
        after, parameters before and after, the kept old ids' file and the signature.

    Raises:
        TrimError: unsupported tokenizer type, no texts, or ``out_dir`` exists.
    """
    import torch
    import transformers

    if not texts:
        raise TrimError("no texts to trim the vocabulary to; give --texts files (MASSIVE files or text corpora)")
    out = Path(out_dir).expanduser()
    if out.exists() and not overwrite:
        raise TrimError(f"{out} already exists; pass --overwrite to replace it")
    path = resolve_model(str(model))
    src_tok = transformers.AutoTokenizer.from_pretrained(path)
    backend = getattr(src_tok, "backend_tokenizer", None)
    if backend is None:
        raise TrimError(f"{path}: the tokenizer has no tokenizers backend (tokenizer.json); cannot trim it")
    local_json = Path(path) / "tokenizer.json"
    tj = json.loads(local_json.read_text(encoding="utf-8")) if local_json.is_file() else json.loads(backend.to_str())
    new_tj, kept, stats = trim_tokenizer_json(tj, list(texts), top_k=top_k, progress=progress)

    net, cls = _load_model(path)
    in_emb = net.get_input_embeddings()
    old_rows = in_emb.weight.shape[0]
    if kept[-1] >= old_rows:
        raise TrimError(f"{path}: the tokenizer uses id {kept[-1]} but the model has {old_rows} embedding rows")
    vocab_ptrs = {in_emb.weight.data_ptr()}
    out_emb = net.get_output_embeddings()
    if out_emb is not None:
        vocab_ptrs.add(out_emb.weight.data_ptr())
        if getattr(out_emb, "bias", None) is not None:
            vocab_ptrs.add(out_emb.bias.data_ptr())
    idx = torch.tensor(kept, dtype=torch.long)
    sd = net.state_dict()
    n_before = sum(p.numel() for p in net.parameters())
    sliced = []
    for k, v in sd.items():
        if (
            v.shape
            and v.shape[0] == old_rows
            and (
                v.data_ptr() in vocab_ptrs
                or (v.ndim == 1 and k.endswith("bias") and ("predictions" in k or "lm_head" in k))
            )
        ):
            sd[k] = v.index_select(0, idx).clone()
            sliced.append(k)
    cfg = net.config
    cfg.vocab_size = len(kept)
    idmap = {old: new for new, old in enumerate(kept)}
    for attr in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id"):
        old = getattr(cfg, attr, None)
        if isinstance(old, int):
            setattr(cfg, attr, idmap.get(old, None))
    new_net = cls(cfg) if cls is not transformers.AutoModel else transformers.AutoModel.from_config(cfg)
    missing, unexpected = new_net.load_state_dict(sd, strict=False)
    missing = [m for m in missing if m not in sd]
    if missing or unexpected:
        raise TrimError(
            f"{path}: the trimmed weights do not fit the model class "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    n_after = sum(p.numel() for p in new_net.parameters())

    from tokenizers import Tokenizer

    new_tok = Tokenizer.from_str(json.dumps(new_tj))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        new_net.save_pretrained(str(tmp))
        hf_tok = type(src_tok)(
            tokenizer_object=new_tok,
            **{k: v for k, v in src_tok.special_tokens_map.items() if isinstance(v, str)},
            model_max_length=src_tok.model_max_length,
        )
        hf_tok.save_pretrained(str(tmp))
        new_tok.save(str(tmp / "tokenizer.json"))  # the exact trimmed pipeline
        src_cfg = Path(path) / "tokenizer_config.json"
        if src_cfg.is_file():
            tcfg = json.loads(src_cfg.read_text(encoding="utf-8"))
            tcfg.pop("added_tokens_decoder", None)
            (tmp / "tokenizer_config.json").write_text(
                json.dumps(tcfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        (tmp / "kept_ids.json").write_text(json.dumps(kept) + "\n", encoding="utf-8")
        sig = Signature.from_pairs(
            [
                ("base", Path(path).name),
                ("trim", TRIM_METHOD),
                ("texts", len(texts)),
                ("topk", top_k),
                ("pieces", len(kept)),
            ]
        )
        report = {
            "signature": str(sig),
            "base_model": path,
            "lexiconlm_version": __version__,
            "method": TRIM_METHOD,
            "n_texts": len(texts),
            **stats,
            "embedding_rows_before": old_rows,
            "embedding_rows_after": len(kept),
            "sliced_tensors": sliced,
            "parameters_before": n_before,
            "parameters_after": n_after,
            "parameter_reduction": round(1 - n_after / n_before, 4),
            "kept_ids_file": "kept_ids.json",
            "model_dir": str(out),
        }
        (tmp / "trim.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        publish_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report["sizes_mb"] = {
        "before": round(n_before * 4 / 2**20, 1),
        "after": round(n_after * 4 / 2**20, 1),
    }
    return report
