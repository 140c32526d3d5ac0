"""Embedding initialisation for new tokens: a registry of methods keyed by versioned names.

Every method maps each new token to a *recipe*: a weighted combination of old token rows
(``{old_id: weight}``, weights summing to 1), or ``None`` for a random row. The same recipe
is applied to every matrix indexed by the vocabulary (input embeddings, untied output
embeddings, the output bias), so tied and untied models are treated alike, and it can be
computed on CPU without the model (it goes into the :class:`~lexiconlm.adapt.plan.AdaptationPlan`
summary). Old rows are never touched.

Methods (:data:`EMBEDDING_INITS`; a short name such as ``"mean"`` means the latest version):

``random.v1``
    every new row drawn from a normal distribution with the per-dimension mean and standard
    deviation of the old rows (seeded).
``mean.v1`` (FVT, Gee et al. 2022)
    the new token's text is split by the *old* tokenizer; the row is the mean of those pieces'
    rows (``<unk>`` left out). A token the old tokenizer cannot split without ``<unk>`` gets a
    random row.
``lexicon.v1`` (WECHSEL-like, Minixhofer et al. 2022)
    for every lexicon entry, the target word is split by the *new* tokenizer and the source
    word (its translation) by the old one; each new token found in a target word collects the
    source word's pieces, with weight ``1 / number of source pieces``. The row is the
    weighted mean of the collected rows; tokens no lexicon word contains fall back to
    ``mean.v1``.
``overlap.v1`` (FOCUS-like, Dobler & de Melo 2023)
    auxiliary token vectors are learnt from the target text split by the new tokenizer
    (positive PMI of co-occurrence within a window, reduced by SVD); a new token's row is
    the sparsemax-weighted combination of the old-vocabulary tokens that also occur in the
    text (the overlap), by cosine similarity of the auxiliary vectors. Tokens absent from
    the text fall back to ``mean.v1``.
``phonology.v1``
    the new token is written in IPA with epitran's map for the target language and script
    (``amh-Ethi``); old-vocabulary pieces of the source script (Latin: epitran
    ``generic-Latn`` unless the source language has its own map) are written in IPA too.
    The ``k`` source pieces nearest in panphon feature edit distance (normalised by length,
    at most ``max_distance``) give the row, weighted by ``exp(-distance / temperature)``.
    It bridges scripts: Ethiopic ``ሰ`` (``sə``) takes the rows of Latin ``se``/``sa``-like
    pieces. Tokens without IPA or without a close source fall back to ``mean.v1``.

Example:
    >>> ctx = InitContext(old_tok, new_tok, new_tokens, texts=texts, lexicon=lex)  # doctest: +SKIP
    >>> name, fn = resolve_init("lexicon")  # doctest: +SKIP
    >>> recipe = fn(ctx)  # doctest: +SKIP
    >>> rows = apply_recipe(recipe, old_matrix, seed=13)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from lexiconlm.adapt.vocab import surface_fn
from lexiconlm.errors import LexiconLMError
from lexiconlm.phonology import epitran_instance, map_tag, panphon_tables
from lexiconlm.registry import Registry
from lexiconlm.unicode_scripts import char_script

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from lexiconlm.types import Lexicon

__all__ = [
    "EMBEDDING_INITS",
    "InitContext",
    "InitRecipe",
    "resolve_init",
    "init_names",
    "apply_recipe",
    "random_init",
    "mean_init",
    "lexicon_init",
    "overlap_init",
    "phonology_init",
]

#: Versioned name -> ``module:function``, imported on first use (:func:`resolve_init`).
EMBEDDING_INITS = Registry(
    "embedding init",
    entries={
        "random.v1": "lexiconlm.adapt.init:random_init",
        "mean.v1": "lexiconlm.adapt.init:mean_init",
        "lexicon.v1": "lexiconlm.adapt.init:lexicon_init",
        "overlap.v1": "lexiconlm.adapt.init:overlap_init",
        "phonology.v1": "lexiconlm.adapt.init:phonology_init",
    },
)


@dataclass
class InitContext:
    """What an initialisation method may use.

    Attributes:
        old_tokenizer / new_tokenizer: ``transformers`` fast tokenizers (base, extended).
        new_tokens: ``(id, piece)`` of every new token, ids after the old vocabulary.
        texts: target-language training text (``overlap`` learns from it).
        lexicon: a bilingual lexicon whose *targets* are target-language words (``lexicon``).
        language / script: the target language (ISO 639-3) and script (ISO 15924), for
            ``phonology`` (epitran map ``<language>-<script>``).
        source_language / source_script: the language whose pieces the base knows well;
            ``phonology`` matches new tokens against old pieces of this script.
        options: method settings (``k``, ``temperature``, ``window``, ``dim``, ``max_distance``,
            ``max_sources``), unknown keys ignored.
    """

    old_tokenizer: Any
    new_tokenizer: Any
    new_tokens: Sequence[tuple[int, str]]
    texts: Sequence[str] = ()
    lexicon: "Lexicon | None" = None
    language: str = ""
    script: str = ""
    source_language: str = "eng"
    source_script: str = "Latn"
    options: dict = field(default_factory=dict)

    def opt(self, key: str, default: Any) -> Any:
        value = self.options.get(key)
        return default if value is None else value


@dataclass
class InitRecipe:
    """Per new token, ``{old_id: weight}`` (weights sum to 1) or ``None`` (a random row).

    ``sources`` names what each token's row came from (``"lexicon"``, ``"mean"``, ``"random"``...);
    :attr:`summary` counts them.
    """

    method: str
    rows: list[Optional[dict[int, float]]]
    sources: list[str]
    details: dict = field(default_factory=dict)

    @property
    def summary(self) -> dict:
        counts: dict[str, int] = {}
        for s in self.sources:
            counts[s] = counts.get(s, 0) + 1
        return {"method": self.method, "n_new": len(self.rows), "by_source": counts, **self.details}


def init_names() -> list[str]:
    """Every registered name, versioned and short."""
    return EMBEDDING_INITS.names()


def resolve_init(name: str) -> tuple[str, Callable[[InitContext], InitRecipe]]:
    """``(versioned name, function)`` for an init method name (a short name means the latest
    version).

    Raises:
        UnknownNameError: not registered (the message lists close names).
    """
    return EMBEDDING_INITS.resolve(name)


# --------------------------------------------------------------------------- helpers


def _unk_id(tokenizer: Any) -> int | None:
    return getattr(tokenizer, "unk_token_id", None)


def _old_pieces(ctx: InitContext, texts: Sequence[str]) -> list[list[int]]:
    """Old-tokenizer ids of each text (no special tokens, no ``<unk>``, no bare word-boundary piece)."""
    if not texts:
        return []
    tok = ctx.old_tokenizer
    unk = _unk_id(tok)
    bare = {i for i in (tok.convert_tokens_to_ids("▁"),) if i is not None and i != unk}
    out = []
    for i in range(0, len(texts), 2048):
        enc = tok(list(texts[i : i + 2048]), add_special_tokens=False)["input_ids"]
        for ids in enc:
            kept = [t for t in ids if t != unk]
            if len(kept) > 1:
                kept = [t for t in kept if t not in bare] or kept
            out.append(kept)
    return out


def _surfaces(ctx: InitContext) -> list[str]:
    fn = surface_fn(ctx.new_tokenizer)
    return [fn(piece)[0] for _, piece in ctx.new_tokens]


def _uniform(ids: Sequence[int]) -> dict[int, float] | None:
    if not ids:
        return None
    w = 1.0 / len(ids)
    out: dict[int, float] = {}
    for i in ids:
        out[i] = out.get(i, 0.0) + w
    return out


def _normalise(acc: dict[int, float]) -> dict[int, float] | None:
    total = sum(acc.values())
    if total <= 0:
        return None
    return {k: v / total for k, v in sorted(acc.items())}


# --------------------------------------------------------------------------- methods


def random_init(ctx: InitContext) -> InitRecipe:
    """``random.v1``: every new row random (normal with the old rows' per-dimension mean and std)."""
    n = len(ctx.new_tokens)
    return InitRecipe("random.v1", [None] * n, ["random"] * n)


def mean_init(ctx: InitContext) -> InitRecipe:
    """``mean.v1`` (FVT): mean of the old-tokenizer pieces of the new token's text."""
    pieces = _old_pieces(ctx, _surfaces(ctx))
    rows = [_uniform(p) for p in pieces]
    return InitRecipe("mean.v1", rows, ["mean" if r else "random" for r in rows])


def _with_fallback(method: str, rows: list, source: str, ctx: InitContext, details: dict) -> InitRecipe:
    """Fill tokens a method could not place with ``mean.v1`` (then random)."""
    missing = [i for i, r in enumerate(rows) if r is None]
    sources = [source if r is not None else "" for r in rows]
    if missing:
        fallback = mean_init(ctx)
        for i in missing:
            rows[i] = fallback.rows[i]
            sources[i] = fallback.sources[i]
    return InitRecipe(method, rows, sources, details)


def lexicon_init(ctx: InitContext) -> InitRecipe:
    """``lexicon.v1`` (WECHSEL-like): a new token takes the old pieces of the lexicon translations
    of the target words that contain it; the rest fall back to ``mean.v1``.

    Raises:
        LexiconLMError: no lexicon was given.
    """
    if ctx.lexicon is None or not len(ctx.lexicon):
        raise LexiconLMError(
            "embedding init 'lexicon' needs a bilingual lexicon whose targets are in the target language: "
            "set `lexicon:` in the config (a file lexiconlm.io.read_lexicon reads) or pass lexicon=... to adapt()"
        )
    new_index = {tid: k for k, (tid, _) in enumerate(ctx.new_tokens)}
    entries = [e for e in ctx.lexicon.entries if e.source.strip() and e.target.strip()]
    targets = [e.target for e in entries]
    tgt_ids: list[list[int]] = []
    for i in range(0, len(targets), 2048):
        tgt_ids.extend(ctx.new_tokenizer(targets[i : i + 2048], add_special_tokens=False)["input_ids"])
    src_ids = _old_pieces(ctx, [e.source for e in entries])
    acc: list[dict[int, float]] = [{} for _ in ctx.new_tokens]
    used = 0
    for t_ids, s_ids in zip(tgt_ids, src_ids):
        hits = [new_index[t] for t in t_ids if t in new_index]
        if not hits or not s_ids:
            continue
        used += 1
        w = 1.0 / len(s_ids)
        for k in set(hits):
            row = acc[k]
            for s in s_ids:
                row[s] = row.get(s, 0.0) + w
    rows = [_normalise(a) if a else None for a in acc]
    return _with_fallback("lexicon.v1", rows, "lexicon", ctx, {"lexicon_entries_used": used})


def _sparsemax(z: "Any") -> "Any":
    """Sparsemax (Martins & Astudillo 2016) of a 1-D numpy vector: a projection onto the simplex
    that gives exact zeros, as FOCUS uses to pick a few overlapping tokens."""
    zs = np.sort(z)[::-1]
    cssv = np.cumsum(zs)
    k = np.arange(1, len(z) + 1)
    support = zs - (cssv - 1) / k > 0
    k_max = k[support][-1]
    tau = (cssv[support][-1] - 1) / k_max
    return np.maximum(z - tau, 0.0)


def overlap_init(ctx: InitContext) -> InitRecipe:
    """``overlap.v1`` (FOCUS-like): sparsemax over cosine similarities, in auxiliary vectors learnt
    from the target text, to the old tokens that occur in it."""
    from scipy import sparse
    from scipy.sparse.linalg import svds

    texts = [t for t in ctx.texts if t and not t.isspace()]
    n_new = len(ctx.new_tokens)
    if not texts:
        return _with_fallback("overlap.v1", [None] * n_new, "overlap", ctx, {"overlap_tokens": 0})
    window = int(ctx.opt("window", 4))
    dim = int(ctx.opt("dim", 64))
    k = int(ctx.opt("k", 16))
    temperature = float(ctx.opt("temperature", 0.1))
    seqs: list[list[int]] = []
    for i in range(0, len(texts), 2048):
        seqs.extend(ctx.new_tokenizer(texts[i : i + 2048], add_special_tokens=False)["input_ids"])
    vocab = sorted({t for s in seqs for t in s})
    index = {t: i for i, t in enumerate(vocab)}
    rows_i, cols_i = [], []
    for s in seqs:
        ids = [index[t] for t in s]
        for a in range(len(ids)):
            for b in range(max(0, a - window), a):
                rows_i.append(ids[a])
                cols_i.append(ids[b])
    n = len(vocab)
    r = np.array(rows_i + cols_i, dtype=np.int64)
    c = np.array(cols_i + rows_i, dtype=np.int64)
    counts = sparse.coo_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(n, n)).tocsr()
    total = counts.sum()
    row_sum = np.asarray(counts.sum(axis=1)).ravel()
    coo = counts.tocoo()
    pmi = np.log(coo.data * total / (row_sum[coo.row] * row_sum[coo.col] + 1e-12) + 1e-12)
    keep = pmi > 0
    ppmi = sparse.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
    d = max(1, min(dim, n - 2))
    if n < 4 or ppmi.nnz == 0:
        return _with_fallback("overlap.v1", [None] * n_new, "overlap", ctx, {"overlap_tokens": 0})
    u, s, _ = svds(ppmi, k=d, random_state=0)
    vecs = u * np.sqrt(s)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-12
    old_vocab = len(ctx.old_tokenizer)
    special = set(ctx.old_tokenizer.all_special_ids)
    overlap = [t for t in vocab if t < old_vocab and t not in special]
    details = {"overlap_tokens": len(overlap), "aux_dim": d}
    if not overlap:
        return _with_fallback("overlap.v1", [None] * n_new, "overlap", ctx, details)
    ov = vecs[[index[t] for t in overlap]]
    rows: list = []
    for tid, _ in ctx.new_tokens:
        if tid not in index:
            rows.append(None)
            continue
        sims = ov @ vecs[index[tid]]
        top = np.argsort(-sims)[:k]
        w = _sparsemax(sims[top] / temperature)
        rows.append(_normalise({int(overlap[j]): float(x) for j, x in zip(top, w) if x > 0}))
    return _with_fallback("overlap.v1", rows, "overlap", ctx, details)


# --------------------------------------------------------------------------- phonology


def _phon():
    ft, dist = panphon_tables("embedding init 'phonology'")
    return epitran_instance, ft, dist


def _map_tag(language: str, script: str, role: str) -> str:
    """The epitran map for ``<language>-<script>`` (``generic-Latn`` for Latin without its own)."""
    return map_tag(language, script, feature="embedding init 'phonology'", role=role)


def _vector(ft: Any, ipa: str, slots: int) -> Any:
    feats = ft.word_to_vector_list(ipa, numeric=True)[:slots]
    out = np.zeros((slots, 25), dtype=np.float32)
    for i, f in enumerate(feats):
        out[i, :24] = f
        out[i, 24] = 2.0  # presence: a missing phone is far from any phone
    return out.ravel()


def phonology_init(ctx: InitContext) -> InitRecipe:
    """``phonology.v1``: rows of the old source-script pieces that sound most alike (epitran IPA +
    panphon feature edit distance); tokens without IPA or a close source fall back to ``mean.v1``.

    Raises:
        LexiconLMError: epitran has no map for the target language and script.
        MissingDependencyError: epitran/panphon are not installed.
    """
    import torch

    if not ctx.language or not ctx.script:
        raise LexiconLMError(
            "embedding init 'phonology' needs the target `language` and `script` "
            "(epitran map <iso639-3>-<Script>, e.g. amh-Ethi)"
        )
    epi_of, ft, dist = _phon()
    tgt_tag = _map_tag(ctx.language, ctx.script, "target language")
    src_tag = _map_tag(ctx.source_language, ctx.source_script, "source language")
    tgt_epi, src_epi = epi_of(tgt_tag), epi_of(src_tag)
    k = int(ctx.opt("k", 3))
    temperature = float(ctx.opt("temperature", 0.1))
    max_distance = float(ctx.opt("max_distance", 0.5))
    max_sources = int(ctx.opt("max_sources", 30000))
    slots = 6

    # source pieces: old-vocabulary pieces written only in the source script
    old_surface = surface_fn(ctx.old_tokenizer)
    special = set(ctx.old_tokenizer.all_special_ids)
    vocab = ctx.old_tokenizer.get_vocab()
    src_ids: list[int] = []
    src_ipa: list[str] = []
    src_initial: list[bool] = []
    by_ipa: dict[tuple[str, bool], list[int]] = {}
    for piece, pid in sorted(vocab.items(), key=lambda kv: kv[1]):
        if len(src_ids) >= max_sources:
            break
        if pid in special:
            continue
        text, initial = old_surface(piece)
        if not text or len(text) > 12 or not all(char_script(ch) == ctx.source_script for ch in text):
            continue
        ipa = src_epi.transliterate(text.lower())
        if not ipa or not ft.word_to_vector_list(ipa):
            continue
        src_ids.append(pid)
        src_ipa.append(ipa)
        src_initial.append(initial)
        by_ipa.setdefault((ipa, initial), []).append(len(src_ids) - 1)
    if not src_ids:
        raise LexiconLMError(
            f"embedding init 'phonology': the base vocabulary has no {ctx.source_script} "
            "pieces to match new tokens against; set `source_script`"
        )
    src_mat = torch.from_numpy(np.stack([_vector(ft, s, slots) for s in src_ipa]))
    src_flag = torch.tensor(src_initial, dtype=torch.float32)

    new_surface = surface_fn(ctx.new_tokenizer)
    rows: list = []
    n_exact = 0
    distances: list[float] = []
    for _, piece in ctx.new_tokens:
        text, initial = new_surface(piece)
        ipa = tgt_epi.transliterate(text) if text else ""
        segs = ft.word_to_vector_list(ipa) if ipa else []
        if not segs:
            rows.append(None)
            continue
        exact = by_ipa.get((ipa, initial))
        if exact:
            n_exact += 1
            distances.append(0.0)
            rows.append(_uniform([src_ids[j] for j in exact]))
            continue
        q = torch.from_numpy(_vector(ft, ipa, slots))
        coarse = (src_mat - q).abs().sum(dim=1) + 8.0 * (src_flag != float(initial))
        cand = torch.topk(coarse, min(32, len(src_ids)), largest=False).indices.tolist()
        scored = []
        for j in cand:
            d = dist.feature_edit_distance(ipa, src_ipa[j]) / max(len(segs), len(ft.word_to_vector_list(src_ipa[j])))
            d += 0.25 * (src_initial[j] != initial)
            scored.append((d, j))
        scored.sort()
        best = [(d, j) for d, j in scored[:k] if d <= max_distance]
        if not best:
            rows.append(None)
            continue
        distances.append(best[0][0])
        acc: dict[int, float] = {}
        for d, j in best:
            acc[src_ids[j]] = acc.get(src_ids[j], 0.0) + math.exp(-d / temperature)
        rows.append(_normalise(acc))
    details = {
        "target_map": tgt_tag,
        "source_map": src_tag,
        "source_pieces": len(src_ids),
        "exact_ipa_matches": n_exact,
        "mean_best_distance": round(float(np.mean(distances)), 4) if distances else None,
    }
    return _with_fallback("phonology.v1", rows, "phonology", ctx, details)


# --------------------------------------------------------------------------- applying


def apply_recipe(recipe: InitRecipe, old: "torch.Tensor", *, seed: int = 13) -> "torch.Tensor":
    """New rows for an old matrix (``[V_old, d]``, or a ``[V_old]`` bias): combinations of old rows,
    random rows for ``None`` entries (normal, old rows' per-dimension mean and std, seeded).

    Returns:
        A ``[n_new, d]`` (or ``[n_new]``) tensor in ``old``'s dtype and device.
    """
    import torch

    vector = old.dim() == 1
    mat = old.detach().float().reshape(old.shape[0], -1).cpu()
    n = len(recipe.rows)
    out = torch.empty((n, mat.shape[1]), dtype=torch.float32)
    gen = torch.Generator().manual_seed(int(seed))
    mean, std = mat.mean(dim=0), mat.std(dim=0) if mat.shape[0] > 1 else torch.zeros(mat.shape[1])
    for i, row in enumerate(recipe.rows):
        if row is None:
            out[i] = mean + std * torch.randn(mat.shape[1], generator=gen)
        else:
            ids = torch.tensor(list(row.keys()), dtype=torch.long)
            w = torch.tensor(list(row.values()), dtype=torch.float32)
            out[i] = (w[:, None] * mat[ids]).sum(dim=0)
    out = out.to(dtype=old.dtype, device=old.device)
    return out.reshape(n) if vector else out
