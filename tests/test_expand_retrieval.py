"""Parallel-sentence retrieval: the metric on known embeddings, dedupe, and a run with a tiny encoder."""

from __future__ import annotations

import numpy as np
import pytest

from lexiconlm.expand.retrieval import dedupe_units, parallel_retrieval, retrieval_accuracy
from lexiconlm.lexicon.parallel import ParallelUnit


def _unit(k: int, s: str, t: str) -> ParallelUnit:
    return ParallelUnit("flores", str(k), s, t, str(k))


def test_accuracy_on_known_similarities():
    q = np.eye(4, dtype=np.float32)
    pool = np.eye(4, dtype=np.float32)[[1, 0, 2, 3]]  # queries 0 and 1 find each other's gold
    acc = retrieval_accuracy(q, pool, ks=(1, 2))
    assert acc["top1"] == 50.0  # 2 and 3 right
    assert acc["top2"] == 50.0  # 0's gold is orthogonal to it: ranks last among equals
    same = np.ones((5, 3), dtype=np.float32) / np.sqrt(3)
    assert retrieval_accuracy(same, same)["top1"] == 0.0  # ties count against the query
    assert retrieval_accuracy(same, same)["top10"] == 100.0  # the pool has only 5 items
    with pytest.raises(ValueError, match="pair up"):
        retrieval_accuracy(q, pool[:3])
    assert np.isnan(retrieval_accuracy(q[:0], pool[:0])["top1"])


def test_dedupe_keeps_first_of_repeated_texts():
    units = [_unit(1, "A b.", "x"), _unit(2, "a  B.", "y"), _unit(3, "c", "X"), _unit(4, "d", "z")]
    assert [u.id for u in dedupe_units(units)] == ["1", "4"]


def test_retrieval_with_a_tiny_encoder():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from lexiconlm.training import build_tiny_model

    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    units = [_unit(k, f"{w} {w} one", f"{w} {w} uno") for k, w in enumerate(words)]
    model, tok = build_tiny_model([u.source + " " + u.target for u in units], {"hidden_size": 32}, masked_lm=False)
    res = parallel_retrieval(units, model, tok, prefix="")
    assert res.pool == len(words) and res.corpora == "flores" and len(res.units_hash) == 12
    # each pair shares its rare word: even an untrained encoder finds most of them
    assert res.eng2tgt_top1 > 50 and res.tgt2eng_top10 == 100.0
    d = res.as_dict()
    assert d["top1"] == round((res.eng2tgt_top1 + res.tgt2eng_top1) / 2, 2)
