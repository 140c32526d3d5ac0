"""Data hallucination for low-resource inflection (Anastasopoulos & Neubig 2019).

Each training pair ``lemma -> form`` is aligned character by character (the edit
alignment of the affix baseline, :func:`lexiconlm.inflection.affix.align_levenshtein`);
runs of at least ``min_stem`` aligned identical characters are the shared stem.
A hallucinated pair replaces every stem character, in lemma and form alike, with
a random character of the language's alphabet, and keeps the affixes and the
feature bundle::

    schielen -> geschielt        (stem "schiel")
    ktöxfen  -> gektöxft         (hallucinated)

The alphabet is the set of letters (Unicode categories L*) of the training lemmas
and forms; pairs without a stem of ``min_stem`` characters are not used.
Generation is seeded (same input and settings, same output).

Leakage
    Given a :class:`~lexiconlm.leakage.LeakageGuard` built from the dev/test
    files, :func:`hallucinate` refuses (raises :class:`LeakageError`) when the
    training data it starts from holds an evaluation item's key (same lemma and
    features, exactly or after the guard's normalisation; the same form under other
    features is syncretism and allowed), and never returns a hallucinated item that
    the guard flags by any of its rules (key, or lemma and form): such items are
    drawn again and counted in ``stats.n_leaks_redrawn``.
    :func:`check_training_data` is the same refusal for any extra training data.

Example:
    >>> from lexiconlm.types import InflectionEntry as E
    >>> train = [E("schielen", "geschielt", "V;V.PTCP;PST"), E("walken", "gewalkt", "V;V.PTCP;PST")]
    >>> out = hallucinate(train, n=2, seed=1)
    >>> [e.features for e in out]
    ['V;V.PTCP;PST', 'V;V.PTCP;PST']
    >>> all(e.form.startswith("ge") for e in out)
    True
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lexiconlm.inflection.affix import align_levenshtein
from lexiconlm.leakage import LeakageError, LeakageGuard
from lexiconlm.types import InflectionEntry

__all__ = [
    "HallucinationStats",
    "alphabet_of",
    "check_training_data",
    "hallucinate",
    "hallucinate_pair",
    "stem_spans",
]

SIGNATURE_VERSION = "hallucinate.v1"


@dataclass
class HallucinationStats:
    """What :func:`hallucinate` did: items made, pairs without a stem, leaks redrawn."""

    n_requested: int = 0
    n_generated: int = 0
    n_pairs_with_stem: int = 0
    n_pairs_without_stem: int = 0
    n_leaks_redrawn: int = 0
    n_duplicates_redrawn: int = 0
    signature: str = ""


def alphabet_of(entries: Iterable[InflectionEntry]) -> list[str]:
    """The letters (Unicode category L*) of the lemmas and forms, sorted; all non-space
    characters when there are no letters."""
    chars: set[str] = set()
    for e in entries:
        chars.update(e.lemma)
        chars.update(e.form or "")
    letters = sorted(c for c in chars if unicodedata.category(c).startswith("L"))
    return letters or sorted(c for c in chars if not c.isspace())


def stem_spans(lemma: str, form: str, min_stem: int = 3) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Runs of ``>= min_stem`` aligned identical characters: ``((lemma start, end), (form start, end))``.

    >>> stem_spans("schielen", "geschielt")
    [((0, 6), (2, 8))]
    """
    cols = align_levenshtein(lemma, form)
    spans = []
    i = j = 0
    run_start: tuple[int, int] | None = None
    run_len = 0
    for a, b in cols + [("", "")]:
        same = bool(a) and a == b
        if same:
            if run_start is None:
                run_start, run_len = (i, j), 0
            run_len += 1
        elif run_start is not None:
            if run_len >= min_stem:
                spans.append(((run_start[0], run_start[0] + run_len), (run_start[1], run_start[1] + run_len)))
            run_start = None
        i += bool(a)
        j += bool(b)
    return spans


def hallucinate_pair(
    entry: InflectionEntry, alphabet: Sequence[str], rng: random.Random, min_stem: int = 3
) -> InflectionEntry | None:
    """One hallucinated copy of ``entry`` (its stem characters replaced), or None without a stem."""
    if entry.form is None:
        raise ValueError(f"{entry!r} has no form; hallucination needs training pairs")
    spans = stem_spans(entry.lemma, entry.form, min_stem)
    if not spans:
        return None
    lemma, form = list(entry.lemma), list(entry.form)
    for (ls, le), (fs, _fe) in spans:
        for k in range(le - ls):
            c = rng.choice(alphabet)
            lemma[ls + k] = c
            form[fs + k] = c
    return InflectionEntry("".join(lemma), "".join(form), entry.features)


def check_training_data(
    entries: Iterable[InflectionEntry], guard: LeakageGuard | None, *, what: str = "training"
) -> None:
    """Refuse training (or augmentation) data that holds the (lemma, features) of an evaluation item.

    Raises:
        LeakageError: listing every leaked item.
    """
    if guard is not None:
        # keys only: a training pair whose *form* equals a dev form under other features is
        # syncretism (ang "cræftigan" is N;ACC;PL and N;GEN;SG), not a leaked evaluation item
        guard.check([InflectionEntry(e.lemma, None, e.features) for e in entries], what=what)


def hallucinate(
    train: Sequence[InflectionEntry],
    *,
    n: int = 1000,
    seed: int = 13,
    min_stem: int = 3,
    alphabet: Sequence[str] | None = None,
    guard: LeakageGuard | None = None,
    stats: HallucinationStats | None = None,
    max_tries_per_item: int = 20,
) -> list[InflectionEntry]:
    """``n`` hallucinated training pairs built from ``train`` (seeded, leakage-checked).

    Args:
        train: the real training pairs (every form set).
        n: how many pairs to make (fewer when ``train`` has no pair with a stem).
        seed: random seed; the output depends only on the inputs and the settings.
        min_stem: shortest run of aligned identical characters taken as the stem.
        alphabet: characters to draw from (default: :func:`alphabet_of` ``train``).
        guard: evaluation items; leaking training data is refused, leaking
            hallucinated items are redrawn.
        stats: filled in with counts (pass a :class:`HallucinationStats`).
        max_tries_per_item: give up after ``n * max_tries_per_item`` draws.

    Returns:
        New :class:`InflectionEntry` records, none equal to a training pair or to each other.

    Raises:
        LeakageError: ``train`` contains an evaluation item of ``guard``.
        ValueError: a training entry without a form, ``n < 0`` or ``min_stem < 1``.
    """
    if n < 0 or min_stem < 1:
        raise ValueError(f"n must be >= 0 and min_stem >= 1, got n={n}, min_stem={min_stem}")
    train = list(train)
    check_training_data(train, guard, what="training")
    st = stats if stats is not None else HallucinationStats()
    st.n_requested = n
    st.signature = f"{SIGNATURE_VERSION}|n:{n}|min_stem:{min_stem}|seed:{seed}"
    usable = [e for e in train if e.form is not None and stem_spans(e.lemma, e.form, min_stem)]
    if any(e.form is None for e in train):
        raise ValueError("hallucination needs training pairs with forms (got a covered entry)")
    st.n_pairs_with_stem = len(usable)
    st.n_pairs_without_stem = len(train) - len(usable)
    if not usable or n == 0:
        return []
    letters = list(alphabet) if alphabet is not None else alphabet_of(train)
    if not letters:
        return []
    rng = random.Random(seed)
    seen = {(e.lemma, e.features) for e in train}
    out: list[InflectionEntry] = []
    tries = 0
    while len(out) < n and tries < n * max_tries_per_item:
        tries += 1
        item = hallucinate_pair(rng.choice(usable), letters, rng, min_stem)
        if item is None:  # pragma: no cover - usable pairs always have a stem
            continue
        if (item.lemma, item.features) in seen:
            st.n_duplicates_redrawn += 1
            continue
        if guard is not None and guard.find([item]):
            st.n_leaks_redrawn += 1
            continue
        seen.add((item.lemma, item.features))
        out.append(item)
    st.n_generated = len(out)
    return out


__all__ += ["LeakageError"]
