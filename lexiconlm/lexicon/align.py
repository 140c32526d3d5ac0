"""Word alignment of parallel units: eflomal, an IBM Model 1 baseline, and Dice co-occurrence.

Sentences come in as token lists (:func:`alignment_tokens`: the synthesis tokenizer's words,
lower-cased, NFC; Han and kana split into characters, since those scripts write no spaces
and one character is the closest thing to a word there). An aligner returns, per unit, the
links ``(i, j)`` between source token ``i`` and target token ``j``:

``eflomal.v1``
    eflomal (Östling & Tiedemann 2016; Bayesian IBM-1 → HMM → fertility with collapsed Gibbs
    sampling), run in both directions and symmetrised with grow-diag-final-and. Needs the
    ``eflomal`` package (``pip install 'lexiconlm[align]'``). eflomal's sampler has no seed:
    two runs differ slightly.
``ibm1.v1``
    IBM Model 1 with a NULL word, trained with EM (vectorised with numpy) in both
    directions, Viterbi links, grow-diag-final-and. Deterministic; needs only numpy.
``dice.v1``
    No links: co-occurrence of word types in the same unit, scored by the Dice coefficient
    (the classic association baseline). :func:`dice_table` gives its pair table directly.

``prefix_len`` truncates words to their first characters *for alignment only* (a cheap
stemmer for morphologically rich languages); links still point at the full words.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from lexiconlm.errors import MissingDependencyError
from lexiconlm.registry import Registry
from lexiconlm.synth.tokenize import tokenize
from lexiconlm.unicode_scripts import char_script

__all__ = [
    "ALIGNERS",
    "Links",
    "alignment_tokens",
    "align",
    "align_eflomal",
    "align_ibm1",
    "dice_table",
    "grow_diag_final_and",
    "eflomal_available",
    "segment_unspaced",
    "UNSPACED_SCRIPTS",
]

Links = list[list[tuple[int, int]]]
_SPLIT_SCRIPTS = frozenset({"Hani", "Hira", "Kana"})


def _split_chars(word: str) -> list[str]:
    if not any(char_script(c) in _SPLIT_SCRIPTS for c in word):
        return [word]
    out: list[str] = []
    buf = ""
    for c in word:
        if char_script(c) in _SPLIT_SCRIPTS:
            if buf:
                out.append(buf)
                buf = ""
            out.append(c)
        elif unicodedata.combining(c) and out and not buf:
            out[-1] += c
        else:
            buf += c
    if buf:
        out.append(buf)
    return out


def alignment_tokens(text: str) -> list[str]:
    """The words of ``text`` for alignment: lower-cased, NFC, punctuation and numbers dropped."""
    out: list[str] = []
    for tok in tokenize(unicodedata.normalize("NFC", text)):
        if tok.is_word:
            out.extend(_split_chars(tok.text.lower()))
    return out


#: Scripts written without spaces whose words :func:`segment_unspaced` learns to split (Han and
#: kana are split into characters by :func:`alignment_tokens`; Tibetan syllables are separated
#: by the tsheg, which the tokenizer already splits on).
UNSPACED_SCRIPTS = frozenset({"Thai", "Laoo", "Khmr", "Mymr", "Java", "Bali", "Lana", "Talu", "Tale"})


def segment_unspaced(sentences: Sequence[Sequence[str]], *, vocab_size: int = 2000) -> list[list[str]]:
    """Split the long letter runs of a script written without spaces into learned pieces.

    A Unigram model (Hugging Face ``tokenizers``) is trained on the sentences themselves, so no
    data or model outside the corpus is needed; a piece that starts with a combining mark is
    glued to the piece before it (a vowel sign never stands alone). Returns the sentences
    unchanged when ``tokenizers`` is not installed.
    """
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    except ImportError:
        return [list(s) for s in sentences]
    texts = [" ".join(s) for s in sentences if s]
    if not texts:
        return [list(s) for s in sentences]
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, show_progress=False, max_piece_length=8)
    tok.train_from_iterator(texts, trainer)
    cache: dict[str, list[str]] = {}
    out: list[list[str]] = []
    for sent in sentences:
        pieces: list[str] = []
        for word in sent:
            if word not in cache:
                glued: list[str] = []
                for piece in tok.encode(word).tokens:
                    if glued and unicodedata.category(piece[0]).startswith("M"):
                        glued[-1] += piece
                    else:
                        glued.append(piece)
                cache[word] = glued or [word]
            pieces.extend(cache[word])
        out.append(pieces)
    return out


# --------------------------------------------------------------------------- symmetrisation


def grow_diag_final_and(fwd: set[tuple[int, int]], rev: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Koehn et al.'s grow-diag-final-and of two directional link sets (both as ``(src, tgt)``)."""
    union = fwd | rev
    links = set(fwd & rev)
    src_done = {i for i, _ in links}
    tgt_done = {j for _, j in links}
    neighbours = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))
    added = True
    while added:
        added = False
        for i, j in sorted(links):
            for di, dj in neighbours:
                ni, nj = i + di, j + dj
                if (ni, nj) in union and (ni, nj) not in links and (ni not in src_done or nj not in tgt_done):
                    links.add((ni, nj))
                    src_done.add(ni)
                    tgt_done.add(nj)
                    added = True
    for direction in (fwd, rev):
        for i, j in sorted(direction):
            if i not in src_done and j not in tgt_done:
                links.add((i, j))
                src_done.add(i)
                tgt_done.add(j)
    return sorted(links)


def _truncate(sents: Sequence[Sequence[str]], prefix_len: int) -> list[list[str]]:
    return [[w[:prefix_len] for w in s] if prefix_len else list(s) for s in sents]


# --------------------------------------------------------------------------- eflomal


def eflomal_available() -> bool:
    try:
        import eflomal  # noqa: F401
    except ImportError:
        return False
    return True


def _read_links(path: Path, n: int, reverse: bool) -> list[set[tuple[int, int]]]:
    lines = path.read_text(encoding="utf-8").split("\n")
    out = []
    for k in range(n):
        line = lines[k] if k < len(lines) else ""
        pairs = set()
        for item in line.split():
            a, b = item.split("-")
            pairs.add((int(a), int(b)))
        out.append(pairs)
    return out


def align_eflomal(
    src: Sequence[Sequence[str]],
    tgt: Sequence[Sequence[str]],
    *,
    prefix_len: int = 0,
    n_samplers: int = 2,
    model: int = 3,
) -> Links:
    """eflomal links for each pair of token lists, symmetrised (grow-diag-final-and).

    Raises:
        MissingDependencyError: eflomal is not installed.
    """
    try:
        import eflomal
    except ImportError as exc:
        raise MissingDependencyError("word alignment with eflomal", "align", "eflomal") from exc
    if len(src) != len(tgt):
        raise ValueError(f"{len(src)} source and {len(tgt)} target sentences; they must pair up")
    # eflomal cannot align an empty side: those units get no links.
    keep = [k for k in range(len(src)) if src[k] and tgt[k]]
    out: Links = [[] for _ in src]
    if not keep:
        return out
    s_lines = [" ".join(w for w in _truncate([src[k]], prefix_len)[0]) + "\n" for k in keep]
    t_lines = [" ".join(w for w in _truncate([tgt[k]], prefix_len)[0]) + "\n" for k in keep]
    aligner = eflomal.Aligner(model=model, n_samplers=n_samplers)
    with tempfile.TemporaryDirectory(prefix="lexiconlm-eflomal-") as tmp:
        fwd_p, rev_p = Path(tmp) / "fwd", Path(tmp) / "rev"
        aligner.align(s_lines, t_lines, links_filename_fwd=str(fwd_p), links_filename_rev=str(rev_p), quiet=True)
        fwd = _read_links(fwd_p, len(keep), False)
        rev = _read_links(rev_p, len(keep), True)
    for n, k in enumerate(keep):
        out[k] = grow_diag_final_and(fwd[n], rev[n])
    return out


# --------------------------------------------------------------------------- IBM-1


def _ibm1_direction(src: list[list[str]], tgt: list[list[str]], iterations: int) -> list[set[tuple[int, int]]]:
    """Viterbi links (i, j) of IBM-1 generating ``tgt`` from ``src`` (+ NULL, index -1)."""
    s_vocab: dict[str, int] = {"\0NULL": 0}
    t_vocab: dict[str, int] = {}
    rows_u, rows_i, rows_j, rows_e, rows_f, rows_pos = [], [], [], [], [], []
    pos = 0
    for u, (s, t) in enumerate(zip(src, tgt)):
        if not s or not t:
            continue
        e_ids = [0] + [s_vocab.setdefault(w, len(s_vocab)) for w in s]
        f_ids = [t_vocab.setdefault(w, len(t_vocab)) for w in t]
        n_e = len(e_ids)
        for j, f in enumerate(f_ids):
            rows_u.extend([u] * n_e)
            rows_i.extend(range(-1, n_e - 1))
            rows_j.extend([j] * n_e)
            rows_e.extend(e_ids)
            rows_f.extend([f] * n_e)
            rows_pos.extend([pos] * n_e)
            pos += 1
    out: list[set[tuple[int, int]]] = [set() for _ in src]
    if not rows_u:
        return out
    e = np.asarray(rows_e, dtype=np.int64)
    f = np.asarray(rows_f, dtype=np.int64)
    fpos = np.asarray(rows_pos, dtype=np.int64)
    pair_codes, pair = np.unique(e * len(t_vocab) + f, return_inverse=True)
    pair_e = pair_codes // len(t_vocab)
    t = np.ones(len(pair_codes), dtype=np.float64)
    for _ in range(iterations):
        p = t[pair]
        denom = np.bincount(fpos, weights=p, minlength=pos)
        post = p / denom[fpos]
        counts = np.bincount(pair, weights=post, minlength=len(pair_codes))
        total = np.bincount(pair_e, weights=counts, minlength=len(s_vocab))
        t = counts / np.maximum(total[pair_e], 1e-300)
    p = t[pair]
    order = np.lexsort((-p, fpos))
    first = np.ones(len(order), dtype=bool)
    first[1:] = fpos[order][1:] != fpos[order][:-1]
    best = order[first]
    u_arr = np.asarray(rows_u, dtype=np.int64)[best]
    i_arr = np.asarray(rows_i, dtype=np.int64)[best]
    j_arr = np.asarray(rows_j, dtype=np.int64)[best]
    for u, i, j in zip(u_arr.tolist(), i_arr.tolist(), j_arr.tolist()):
        if i >= 0:
            out[u].add((i, j))
    return out


def align_ibm1(
    src: Sequence[Sequence[str]],
    tgt: Sequence[Sequence[str]],
    *,
    prefix_len: int = 0,
    iterations: int = 5,
) -> Links:
    """IBM Model 1 links in both directions, symmetrised with grow-diag-final-and."""
    if len(src) != len(tgt):
        raise ValueError(f"{len(src)} source and {len(tgt)} target sentences; they must pair up")
    s, t = _truncate(src, prefix_len), _truncate(tgt, prefix_len)
    fwd = _ibm1_direction(s, t, iterations)
    rev = [{(i, j) for j, i in links} for links in _ibm1_direction(t, s, iterations)]
    return [grow_diag_final_and(a, b) for a, b in zip(fwd, rev)]


# --------------------------------------------------------------------------- Dice


def dice_table(src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]]) -> dict[str, list[tuple[str, float, int]]]:
    """Per source word, ``(target word, Dice, co-occurrences)`` over units, best first."""
    f_src: Counter = Counter()
    f_tgt: Counter = Counter()
    co: Counter = Counter()
    for s, t in zip(src, tgt):
        ss, ts = set(s), set(t)
        f_src.update(ss)
        f_tgt.update(ts)
        co.update((a, b) for a in ss for b in ts)
    table: dict[str, list[tuple[str, float, int]]] = {}
    for (a, b), c in co.items():
        table.setdefault(a, []).append((b, 2.0 * c / (f_src[a] + f_tgt[b]), c))
    for a in table:
        table[a].sort(key=lambda x: (-x[1], -x[2], x[0]))
    return table


# --------------------------------------------------------------------------- registry

ALIGNERS = Registry(
    "aligner",
    entries={
        "eflomal.v1": "lexiconlm.lexicon.align:align_eflomal",
        "ibm1.v1": "lexiconlm.lexicon.align:align_ibm1",
        "dice.v1": "lexiconlm.lexicon.align:dice_table",
    },
)


def align(name: str, src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]], **kwargs) -> Links:
    """Links from the aligner registered as ``name`` (``dice`` has none: use :func:`dice_table`)."""
    fn: Callable = ALIGNERS[name]
    if fn is dice_table:
        raise ValueError("dice.v1 gives a pair table, not links; call dice_table()")
    return fn(src, tgt, **kwargs)
