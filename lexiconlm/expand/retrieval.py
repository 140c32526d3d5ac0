"""Parallel-sentence retrieval: a before/after yardstick that exists for every language with parallel text.

For one language, the held-out half of its English–target units
(:func:`lexiconlm.lexicon.parallel.select_units` with ``"heldout"``; induction and adaptation
use the other half) is embedded on both sides with a sentence encoder (mean pooling, e5's
``"query: "`` prefix by default); each English unit is ranked against the whole pool of the
language's held-out target units by cosine similarity, and the other way round. Reported:
top-1 and top-10 accuracy in both directions (as Glot500's SR-B reports top-10) and the pool
size, which says how hard the task was (chance top-1 = 1 / pool).

>>> import numpy as np
>>> retrieval_accuracy(np.eye(3), np.eye(3), ks=(1,))
{'top1': 100.0}
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from lexiconlm.lexicon.parallel import ParallelUnit
from lexiconlm.models import embed_texts, load_encoder, load_tokenizer

__all__ = ["RetrievalResult", "dedupe_units", "model_retrieval", "parallel_retrieval", "retrieval_accuracy"]


def dedupe_units(units: Sequence[ParallelUnit]) -> list[ParallelUnit]:
    """The units whose English and target texts are both seen for the first time (a language
    with several versions of the UDHR repeats English paragraphs; a repeated text would make
    the gold item ambiguous)."""
    seen_s: set[str] = set()
    seen_t: set[str] = set()
    out = []
    for u in units:
        s, t = " ".join(u.source.split()).lower(), " ".join(u.target.split()).lower()
        if s in seen_s or t in seen_t:
            continue
        seen_s.add(s)
        seen_t.add(t)
        out.append(u)
    return out


def retrieval_accuracy(queries: np.ndarray, pool: np.ndarray, ks: Sequence[int] = (1, 10)) -> dict[str, float]:
    """Share (in %) of queries ``i`` whose gold item ``pool[i]`` is among the ``k`` most similar.

    Rows are L2-normalised embeddings (cosine = dot product); ties count against the query
    (an item as similar as the gold one ranks before it), so a constant encoder scores 0, not 100.
    """
    if queries.shape != pool.shape:
        raise ValueError(f"queries {queries.shape} and pool {pool.shape} must pair up row by row")
    n = len(queries)
    if n == 0:
        return {f"top{k}": float("nan") for k in ks}
    sims = queries @ pool.T
    gold = np.diag(sims)
    # rank of the gold item: how many pool items are at least as similar (gold itself excluded)
    better = (sims >= gold[:, None]).sum(axis=1) - 1
    return {f"top{k}": round(100.0 * float((better < k).mean()), 2) for k in ks}


@dataclass(frozen=True)
class RetrievalResult:
    """Retrieval over one language's held-out units."""

    pool: int
    eng2tgt_top1: float
    eng2tgt_top10: float
    tgt2eng_top1: float
    tgt2eng_top10: float
    corpora: str = ""
    units_hash: str = ""

    @property
    def top1(self) -> float:
        """Mean of both directions' top-1 (the headline)."""
        return round((self.eng2tgt_top1 + self.tgt2eng_top1) / 2, 2)

    @property
    def top10(self) -> float:
        return round((self.eng2tgt_top10 + self.tgt2eng_top10) / 2, 2)

    def as_dict(self) -> dict:
        return asdict(self) | {"top1": self.top1, "top10": self.top10}


def parallel_retrieval(
    units: Sequence[ParallelUnit],
    model,
    tokenizer,
    *,
    prefix: str = "query: ",
    batch_size: int = 32,
    max_length: int = 256,
) -> RetrievalResult:
    """Top-1/top-10 retrieval in both directions over ``units`` (pass the held-out half).

    Args:
        units: the language's held-out units; the pool is all of them.
        model, tokenizer: a sentence encoder and its tokenizer
            (:func:`lexiconlm.models.load_encoder` / :func:`~lexiconlm.models.load_tokenizer`).
        prefix: prepended to every text (e5 models expect ``"query: "``; ``""`` for others).
    """
    units = dedupe_units(units)
    eng = embed_texts(
        [u.source for u in units], model, tokenizer, prefix=prefix, batch_size=batch_size, max_length=max_length
    )
    tgt = embed_texts(
        [u.target for u in units], model, tokenizer, prefix=prefix, batch_size=batch_size, max_length=max_length
    )
    e2t = retrieval_accuracy(eng, tgt)
    t2e = retrieval_accuracy(tgt, eng)
    digest = hashlib.sha1("\n".join(u.key for u in units).encode()).hexdigest()[:12]
    return RetrievalResult(
        pool=len(units),
        eng2tgt_top1=e2t["top1"],
        eng2tgt_top10=e2t["top10"],
        tgt2eng_top1=t2e["top1"],
        tgt2eng_top10=t2e["top10"],
        corpora="+".join(sorted({u.corpus for u in units})),
        units_hash=digest,
    )


def model_retrieval(
    model_dir,
    units: Sequence[ParallelUnit],
    *,
    prefix: str = "query: ",
    batch_size: int = 32,
    max_length: int = 256,
    device: str = "auto",
) -> dict:
    """:func:`parallel_retrieval` with the encoder of a model folder (or name); the result as a dict
    (``pool``, ``top1``, ``top10``, both directions, ``corpora``, ``units_hash``)."""
    model = load_encoder(str(model_dir), device, pooler=False)
    tokenizer = load_tokenizer(str(model_dir))
    positions = getattr(model.config, "max_position_embeddings", None) or max_length
    if getattr(model.config, "model_type", "") in ("roberta", "xlm-roberta"):
        positions -= 2  # RoBERTa's positions start after the padding index
    max_length = min(max_length, positions)
    res = parallel_retrieval(units, model, tokenizer, prefix=prefix, batch_size=batch_size, max_length=max_length)
    return res.as_dict()
