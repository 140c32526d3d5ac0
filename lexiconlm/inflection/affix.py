"""The prefix/suffix-rule baseline of the SIGMORPHON inflection shared tasks.

A re-implementation of the non-neural baseline that the 2017-2023 tasks ship
(described in the task papers and the baseline's README), pure Python and
deterministic.

Learning
    1. Each training pair ``lemma -> form`` is aligned character by character.
       The default alignment (``alignment="levenshtein"``) is a minimum-cost
       edit alignment where insertions and deletions cost 1 and a substitution
       1.1, so that of two otherwise equal alignments the one keeping shared
       characters matched wins over one substituting them (the shared stem
       stays aligned, changes show up as gaps at the edges); among equal-cost
       alignments it prefers, from left to right, match/substitution, then
       insertion, then deletion.
       ``alignment="lcs"`` instead anchors the longest common substring.
    2. The alignment is cut into a prefix part (the columns before the last
       leading gap of either string), a stem and a suffix part (from the first
       trailing gap on)::

           Pr   St      Su
           __ | schiele | n     schielen -> geschielt
           ge | schielt | _

    3. Suffix rules: for every cut point inside stem + suffix, the rest of the
       lemma maps to the rest of the form, anchored at the end of the word
       (``n$ > $``, ``en$ > t$``, ``len$ > lt$`` ... ``schielen$ > schielt$``).
       Prefix rules: the prefix change, with 0, 1, 2 ... characters of the
       form's stem as context (``^ > ^ge``, ``^s > ^ges`` ...).
    4. Every rule is counted once per training pair, under the pair's feature
       bundle.

Prediction
    For an unseen bundle the lemma is returned unchanged. Otherwise the
    longest suffix rule whose left side ends the word is applied (ties: the
    rule seen in more training pairs, then the longer output, then the rule
    seen first), then the most frequent prefix rule whose left side starts the
    word (ties: the rule seen first).

Prefixing languages
    Each pair is also aligned by shifting the form along the lemma (the shift
    with the fewest mismatching columns, unmatched ends counting as
    mismatches; :func:`shift_align`). Padding at the beginning votes for
    prefixing, padding at the end for suffixing; if the beginning wins, all
    strings are reversed for learning and prediction. The shared-task
    implementation, run under Python 3, counts the padding of the *lemma*
    only and leaves out only pairs whose *lemma* has a space or ``-``
    (``bias="lemma-pads"``, the default, which reproduces its decisions: it
    reverses Karelian and Low German, whose multi-word forms such as
    ``smiettie -> että smieti`` pad the lemma in front). ``bias="pads"`` counts
    both strings and leaves out pairs with a space or ``-`` in either string;
    ``bias="pairs"`` counts pairs rather than gap symbols (:func:`edge_scores`).
    The 2023 script fixed the Python 3 slip, so it counts both strings
    (``bias="pads"``, variant ``sigmorphon2023.v1``, the default of 2023 runs:
    :func:`variant_for_edition`). The difference matters where forms have
    several words: Albanian ``abonohem -> do të isha abonuar`` pads the lemma
    in front, so ``lemma-pads`` calls Albanian prefixing (27,779 votes to
    15,814 on ``sqi.trn``) and reverses every string (dev accuracy 19.2),
    while ``pads`` leaves such pairs out (85 to 9,658: suffixing, 86.2).

Fidelity
    The shared-task implementation sums alignment costs in floating point,
    which breaks some exact ties between equal-cost alignments differently;
    the default here uses exact integer costs, ``arithmetic="float"`` (variant
    ``sigmorphon-float.v1``) reproduces the floating-point choices. On the
    2022 part 1 dev sets, the float variant on the files' original strings
    reproduces the official non-neural accuracy of all 53 settings; see
    ``docs/results/sigmorphon-affix-baseline.md`` for the exact variant and for
    what Unicode NFC normalisation changes (Arabic).

Variants are named in :data:`AFFIX_VARIANTS` (``sigmorphon.v1`` is the default);
``AffixBaseline("lcs.v1")`` or ``AffixBaseline(bias="pairs")`` pick others.

Example:
    >>> from lexiconlm.types import InflectionEntry as E
    >>> train = [E("walk", "walked", "V;PST"), E("jump", "jumped", "V;PST"),
    ...          E("walk", "walks", "V;3;SG;PRS")]
    >>> model = AffixBaseline().fit(train)
    >>> model.predict([E("talk", None, "V;PST"), E("talk", None, "V;3;SG;PRS"), E("talk", None, "N")])
    ['talked', 'talks', 'talk']
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from lexiconlm.registry import Registry
from lexiconlm.types import InflectionEntry

__all__ = [
    "AFFIX_VARIANTS",
    "EDITION_VARIANTS",
    "AffixBaseline",
    "AffixConfig",
    "align_lcs",
    "align_levenshtein",
    "align_levenshtein_float",
    "edge_gaps",
    "edge_scores",
    "extract_rules",
    "shift_align",
    "split_alignment",
    "variant_for_edition",
]

Alignment = Literal["levenshtein", "lcs"]
Bias = Literal["lemma-pads", "pads", "pairs"]
Direction = Literal["auto", "suffixing", "prefixing"]
Arithmetic = Literal["exact", "float"]

# Word-boundary markers. Control characters that do not occur in word forms, so
# a lemma containing '<' or '>' (which the shared-task code uses) is safe.
BOS = "\u0002"
EOS = "\u0003"

#: A column of an alignment: (lemma character, form character); "" is a gap.
Column = tuple[str, str]


@dataclass(frozen=True)
class AffixConfig:
    """Settings of :class:`AffixBaseline` (the defaults are the shared-task baseline).

    Attributes:
        alignment: ``"levenshtein"`` (weighted edit alignment) or ``"lcs"``
            (anchor the longest common substring).
        substitution_cost: cost of a substitution for ``"levenshtein"``
            (insertion and deletion cost 1); 1.1 makes the alignment prefer an
            insertion + deletion at the word edges over two substitutions.
        bias: how the prefixing test counts: ``"lemma-pads"`` (the shared-task
            baseline), ``"pads"`` or ``"pairs"``; see :func:`edge_scores`.
        direction: ``"auto"`` runs the prefixing test; ``"suffixing"`` /
            ``"prefixing"`` force it.
        arithmetic: ``"exact"`` (integer costs: equal-cost alignments are true
            ties, broken left to right as described) or ``"float"`` (costs summed
            in floating point in the order of the shared-task implementation's
            memoised depth-first search, whose rounding sometimes decides between
            equal-cost alignments; see :func:`align_levenshtein_float`).
    """

    alignment: Alignment = "levenshtein"
    substitution_cost: float = 1.1
    bias: Bias = "lemma-pads"
    direction: Direction = "auto"
    arithmetic: Arithmetic = "exact"

    def __post_init__(self) -> None:
        problems = []
        if self.alignment not in ("levenshtein", "lcs"):
            problems.append(f"alignment must be 'levenshtein' or 'lcs', got {self.alignment!r}")
        if not (self.substitution_cost > 0):
            problems.append(f"substitution_cost must be > 0, got {self.substitution_cost!r}")
        if self.bias not in ("lemma-pads", "pads", "pairs"):
            problems.append(f"bias must be 'lemma-pads', 'pads' or 'pairs', got {self.bias!r}")
        if self.arithmetic not in ("exact", "float"):
            problems.append(f"arithmetic must be 'exact' or 'float', got {self.arithmetic!r}")
        if self.direction not in ("auto", "suffixing", "prefixing"):
            problems.append(f"direction must be 'auto', 'suffixing' or 'prefixing', got {self.direction!r}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def signature(self) -> str:
        """``affix|align:levenshtein|sub:1.1|bias:lemma-pads|dir:auto|arith:exact`` (stored with results)."""
        return (
            f"affix|align:{self.alignment}|sub:{self.substitution_cost:g}|"
            f"bias:{self.bias}|dir:{self.direction}|arith:{self.arithmetic}"
        )


#: Named variants. ``sigmorphon.v1`` is the shared-task baseline's behaviour with
#: exact tie-breaking; ``sigmorphon-float.v1`` also reproduces its floating-point
#: tie-breaking between equal-cost alignments.
AFFIX_VARIANTS = Registry(
    "affix variant",
    entries={
        "sigmorphon.v1": AffixConfig(),
        "sigmorphon-float.v1": AffixConfig(arithmetic="float"),
        "sub1.v1": AffixConfig(substitution_cost=1.0),
        "lcs.v1": AffixConfig(alignment="lcs"),
        "pads.v1": AffixConfig(bias="pads"),
        "pairs.v1": AffixConfig(bias="pairs"),
        # The 2023 part 1 baseline (2023InflectionST part1/baselines/nonneural.py) materialises
        # its zip, so the prefixing test counts the pads of both strings and leaves out pairs
        # with a space or '-' in either (Albanian's multi-word forms); see EDITION_VARIANTS.
        "sigmorphon2023.v1": AffixConfig(bias="pads"),
        "sigmorphon2023-float.v1": AffixConfig(bias="pads", arithmetic="float"),
    },
)

#: The variant that behaves like each edition's official non-neural baseline script (runs of
#: an edition not named here use ``sigmorphon.v1``): the 2020-2022 scripts count only the
#: lemma's pads under Python 3 (``bias="lemma-pads"``), the 2023 script both strings'.
EDITION_VARIANTS: dict[str, str] = {"2023": "sigmorphon2023.v1"}


def variant_for_edition(edition: str | None) -> str:
    """The affix variant of an edition's official script (``sigmorphon2023.v1``, ``sigmorphon.v1``).

    >>> variant_for_edition("2023"), variant_for_edition("2022"), variant_for_edition(None)
    ('sigmorphon2023.v1', 'sigmorphon.v1', 'sigmorphon.v1')
    """
    return EDITION_VARIANTS.get(str(edition), "sigmorphon.v1")


# --------------------------------------------------------------------------- alignment


def align_levenshtein(lemma: str, form: str, substitution_cost: float = 1.1) -> list[Column]:
    """Minimum-cost alignment (insert/delete 1, substitute ``substitution_cost``).

    Among equal-cost alignments, the one that at each step (left to right) takes a
    match/substitution, else an insertion, else a deletion.

    >>> "".join(a or "_" for a, _ in align_levenshtein("schielen", "geschielt"))
    '__schielen'
    >>> "".join(b or "_" for _, b in align_levenshtein("schielen", "geschielt"))
    'geschielt_'
    """
    # Integer costs (x1000) so that ties are exact.
    ins = dele = 1000
    sub = round(substitution_cost * 1000)
    n, m = len(lemma), len(form)
    # rest[i][j]: cheapest alignment of lemma[i:] with form[j:].
    rest = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(m - 1, -1, -1):
        rest[n][j] = rest[n][j + 1] + ins
    for i in range(n - 1, -1, -1):
        row, below = rest[i], rest[i + 1]
        row[m] = below[m] + dele
        a = lemma[i]
        for j in range(m - 1, -1, -1):
            diag = below[j + 1] + (0 if a == form[j] else sub)
            right = row[j + 1] + ins
            down = below[j] + dele
            row[j] = min(diag, right, down)
    cols: list[Column] = []
    i = j = 0
    while i < n or j < m:
        if i == n:
            cols.append(("", form[j]))
            j += 1
        elif j == m:
            cols.append((lemma[i], ""))
            i += 1
        else:
            here = rest[i][j]
            if here == rest[i + 1][j + 1] + (0 if lemma[i] == form[j] else sub):
                cols.append((lemma[i], form[j]))
                i += 1
                j += 1
            elif here == rest[i][j + 1] + ins:
                cols.append(("", form[j]))
                j += 1
            else:
                cols.append((lemma[i], ""))
                i += 1
    return cols


def align_levenshtein_float(lemma: str, form: str, substitution_cost: float = 1.1) -> list[Column]:
    """:func:`align_levenshtein` with the shared-task implementation's float tie-breaking.

    The shared-task code searches alignments depth first from the left
    (match/substitution, then insertion, then deletion), memoising for each pair
    of remainders the cost still to pay as the difference of two floating-point
    totals (every visit, the first included, returns the cost spent so far plus
    that difference), and keeps the first candidate of minimal total. Mathematically equal
    totals can then differ in the last bit, which decides some ties differently
    from exact arithmetic (e.g. 86 of the 7,000 Arabic ``ara_large`` training
    pairs). This function reproduces that search.
    """
    n, m = len(lemma), len(form)
    if n + m + 50 > sys.getrecursionlimit():
        return align_levenshtein(lemma, form, substitution_cost)
    memo: dict[tuple[int, int], tuple[float, int]] = {}

    def search(i: int, j: int, spent: float) -> float:
        hit = memo.get((i, j))
        if hit is not None:
            return spent + hit[0]
        if i == n:
            total, move = spent + (m - j), 1
        elif j == m:
            total, move = spent + (n - i), 2
        else:
            step = 0 if lemma[i] == form[j] else substitution_cost
            total, move = search(i + 1, j + 1, spent + step), 0
            cand = search(i, j + 1, spent + 1.0)
            if cand < total:
                total, move = cand, 1
            cand = search(i + 1, j, spent + 1.0)
            if cand < total:
                total, move = cand, 2
        rest = total - spent
        memo[(i, j)] = (rest, move)
        return spent + rest  # what a cached visit returns, also on the first visit

    search(0, 0, 0)
    cols: list[Column] = []
    i = j = 0
    while i < n or j < m:
        move = 1 if i == n else 2 if j == m else memo[(i, j)][1]
        if move == 0:
            cols.append((lemma[i], form[j]))
            i += 1
            j += 1
        elif move == 1:
            cols.append(("", form[j]))
            j += 1
        else:
            cols.append((lemma[i], ""))
            i += 1
    return cols


def align_lcs(lemma: str, form: str) -> tuple[list[Column], list[Column], list[Column]]:
    """Split around the longest common substring: (prefix, stem, suffix) columns.

    The common substring is the stem (leftmost in the lemma, then in the form, on
    ties). The prefix parts are right-aligned (gaps first), the suffix parts
    left-aligned (gaps last). With nothing in common, everything is suffix.

    >>> pre, stem, suf = align_lcs("machen", "gemacht")
    >>> pre, "".join(a for a, _ in stem), suf
    ([('', 'g'), ('', 'e')], 'mach', [('e', 't'), ('n', '')])
    """
    n, m = len(lemma), len(form)
    best = 0
    bi = bj = 0
    prev = [0] * (m + 1)
    for i in range(1, n + 1):
        cur = [0] * (m + 1)
        a = lemma[i - 1]
        for j in range(1, m + 1):
            if a == form[j - 1]:
                v = prev[j - 1] + 1
                cur[j] = v
                if v > best or (v == best and (i - v, j - v) < (bi, bj)):
                    best, bi, bj = v, i - v, j - v
        prev = cur
    if best == 0:
        return [], [], _pad_right(lemma, form)
    stem = [(c, c) for c in lemma[bi : bi + best]]
    pre = _pad_left(lemma[:bi], form[:bj])
    suf = _pad_right(lemma[bi + best :], form[bj + best :])
    return pre, stem, suf


def _pad_left(a: str, b: str) -> list[Column]:
    k = max(len(a), len(b))
    a_cols = [""] * (k - len(a)) + list(a)
    b_cols = [""] * (k - len(b)) + list(b)
    return list(zip(a_cols, b_cols))


def _pad_right(a: str, b: str) -> list[Column]:
    k = max(len(a), len(b))
    a_cols = list(a) + [""] * (k - len(a))
    b_cols = list(b) + [""] * (k - len(b))
    return list(zip(a_cols, b_cols))


def _leading_gaps(chars: Sequence[str]) -> int:
    k = 0
    for c in chars:
        if c:
            break
        k += 1
    return k


def split_alignment(cols: Sequence[Column]) -> tuple[list[Column], list[Column], list[Column]]:
    """Cut aligned columns into (prefix, stem, suffix) at the outermost edge gaps.

    The prefix runs to the end of the longer leading gap run of either string, the
    suffix from the start of the longer trailing run (when the two overlap, which
    happens only for an empty string, the stem is empty and the suffix wins).
    """
    cols = list(cols)
    total = len(cols)
    upper = [a for a, _ in cols]
    lower = [b for _, b in cols]
    lead = max(_leading_gaps(upper), _leading_gaps(lower))
    trail = max(_leading_gaps(upper[::-1]), _leading_gaps(lower[::-1]))
    return cols[:lead], cols[lead : total - trail], cols[total - trail :]


def shift_align(lemma: str, form: str) -> list[Column]:
    """The best alignment without inner gaps: the form shifted along the lemma.

    A shift costs the number of columns where the two strings differ, a
    character facing nothing included. The cheapest shift wins; on ties, the
    shift placing the form furthest right. Columns where both are gaps are
    dropped.

    >>> cols = shift_align("schielen", "geschielt")
    >>> "".join(a or "_" for a, _ in cols), "".join(b or "_" for _, b in cols)
    ('__schielen', 'geschielt_')
    """
    n, m = len(lemma), len(form)
    best_score = n + m + 1
    best_d = n
    for d in range(n, -m - 1, -1):  # the form starts at lemma position d
        lo = max(0, d)
        hi = min(n, d + m)
        overlap = max(0, hi - lo)
        equal = sum(1 for i in range(lo, hi) if lemma[i] == form[i - d])
        score = n + m - overlap - equal
        if score < best_score:
            best_score = score
            best_d = d
    d = best_d
    return [
        (lemma[p] if 0 <= p < n else "", form[p - d] if 0 <= p - d < m else "") for p in range(min(0, d), max(n, d + m))
    ]


def edge_gaps(chars: Sequence[str]) -> tuple[int, int]:
    """(leading, trailing) gap counts of one aligned string; all gaps counts as both."""
    return _leading_gaps(chars), _leading_gaps(chars[::-1])


def edge_scores(lemma: str, form: str, bias: Bias = "lemma-pads") -> tuple[int, int] | None:
    """How much one pair votes for prefixing and for suffixing (``None``: pair left out).

    ``"lemma-pads"``: gaps before / after the lemma in :func:`shift_align`, pairs
    whose lemma contains a space or ``-`` left out -- what the shared-task
    implementation computes in Python 3 (its form-side count is always zero).
    ``"pads"``: gaps of both strings, pairs with a space or ``-`` in either string
    left out. ``"pairs"``: 1 if either string has any gap at that end (same
    exclusion as ``"pads"``).
    """
    if bias == "lemma-pads":
        if " " in lemma or "-" in lemma:
            return None
        cols = shift_align(lemma, form)
        return edge_gaps([a for a, _ in cols])
    if any(c in s for c in " -" for s in (lemma, form)):
        return None
    cols = shift_align(lemma, form)
    ll, lt = edge_gaps([a for a, _ in cols])
    fl, ft = edge_gaps([b for _, b in cols])
    if bias == "pads":
        return ll + fl, lt + ft
    return int(ll + fl > 0), int(lt + ft > 0)


# --------------------------------------------------------------------------- rules


def _join(chars: Iterable[str]) -> str:
    return "".join(chars)


def extract_rules(
    pre: Sequence[Column], stem: Sequence[Column], suf: Sequence[Column]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Prefix and suffix rules of one aligned pair (markers: BOS/EOS; gaps dropped).

    Suffix rules: for every cut point in stem + suffix, (rest of lemma + EOS,
    rest of form + EOS), longest first, ending with the identity (EOS, EOS).
    Prefix rules: (BOS + lemma prefix + ctx, BOS + form prefix + ctx) where ctx is
    the first 0, 1, ... len(stem) - 1 characters of the form's stem.
    """
    tail = list(stem) + list(suf)
    suffix_rules: list[tuple[str, str]] = []
    for i in range(len(tail) + 1):
        rule = (_join(a for a, _ in tail[i:]) + EOS, _join(b for _, b in tail[i:]) + EOS)
        if rule not in suffix_rules:
            suffix_rules.append(rule)
    in_pre = BOS + _join(a for a, _ in pre)
    out_pre = BOS + _join(b for _, b in pre)
    prefix_rules: list[tuple[str, str]] = []
    for i in range(len(stem)):
        ctx = _join(b for _, b in stem[:i])
        rule = (in_pre + ctx, out_pre + ctx)
        if rule not in prefix_rules:
            prefix_rules.append(rule)
    return prefix_rules, suffix_rules


class _RuleTable:
    """Rules of one feature bundle: counts and first-seen order, indexed by left side."""

    __slots__ = ("best", "counts", "order")

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.order: dict[tuple[str, str], int] = {}
        self.best: dict[str, tuple[str, int, int]] = {}

    def add(self, rule: tuple[str, str], serial: int) -> None:
        self.counts[rule] = self.counts.get(rule, 0) + 1
        self.order.setdefault(rule, serial)

    def finish(self, suffix: bool) -> None:
        """For each left side keep the winning right side: (rhs, count, first-seen)."""
        best: dict[str, tuple[tuple, str, int, int]] = {}
        for (lhs, rhs), count in self.counts.items():
            order = self.order[(lhs, rhs)]
            key = (count, len(rhs), -order) if suffix else (count, -order)
            cur = best.get(lhs)
            if cur is None or key > cur[0]:
                best[lhs] = (key, rhs, count, order)
        self.best = {lhs: (rhs, count, order) for lhs, (_, rhs, count, order) in best.items()}


class AffixBaseline:
    """Prefix/suffix-rule inflection baseline (see the module docstring).

    Args:
        config: an :class:`AffixConfig`, or the name of a variant in
            :data:`AFFIX_VARIANTS` (default: the shared-task behaviour).
        **overrides: fields of :class:`AffixConfig` to change.

    Raises:
        UnknownNameError: an unknown variant name (close names are suggested).
        ValueError: an invalid setting.

    Example:
        >>> from lexiconlm.types import InflectionEntry as E
        >>> m = AffixBaseline(direction="prefixing").fit([E("bona", "mabona", "V;PL")])
        >>> m.predict([E("hamba", None, "V;PL")])
        ['mahamba']
    """

    def __init__(self, config: AffixConfig | str | None = None, **overrides) -> None:
        if config is None:
            config = AFFIX_VARIANTS["sigmorphon.v1"]
        elif isinstance(config, str):
            config = AFFIX_VARIANTS.resolve(config)[1]
        if overrides:
            config = AffixConfig(**{**asdict(config), **overrides})
        self.config: AffixConfig = config
        self.prefixing: bool = False
        self.prefix_score: int = 0
        self.suffix_score: int = 0
        self.n_train: int = 0
        self._prefix: dict[str, _RuleTable] = {}
        self._suffix: dict[str, _RuleTable] = {}
        self._fitted = False

    @property
    def signature(self) -> str:
        return self.config.signature

    @property
    def features(self) -> list[str]:
        """Feature bundles seen in training (in first-seen order)."""
        return list(self._suffix)

    def _split(self, lemma: str, form: str) -> tuple[list[Column], list[Column], list[Column]]:
        if self.config.alignment == "lcs":
            return align_lcs(lemma, form)
        if self.config.arithmetic == "float":
            return split_alignment(align_levenshtein_float(lemma, form, self.config.substitution_cost))
        return split_alignment(align_levenshtein(lemma, form, self.config.substitution_cost))

    def fit(self, train: Iterable[InflectionEntry]) -> AffixBaseline:
        """Learn rules from training entries (every ``form`` must be set).

        Returns:
            ``self``.

        Raises:
            ValueError: an entry without a form.
        """
        entries = list(train)
        for i, e in enumerate(entries):
            if e.form is None:
                raise ValueError(
                    f"training entry {i} ({e.lemma!r}, {e.features!r}) has no form; train on a file with forms"
                )
        pre_score = suf_score = 0
        for e in entries:
            votes = edge_scores(e.lemma, e.form or "", self.config.bias)
            if votes is not None:
                pre_score += votes[0]
                suf_score += votes[1]
        self.prefix_score, self.suffix_score = pre_score, suf_score
        if self.config.direction == "auto":
            self.prefixing = pre_score > suf_score
        else:
            self.prefixing = self.config.direction == "prefixing"

        prefix: dict[str, _RuleTable] = {}
        suffix: dict[str, _RuleTable] = {}
        cache: dict[tuple[str, str], tuple[list, list]] = {}
        serial = 0
        for e in entries:
            lemma, form = e.lemma, e.form or ""
            if self.prefixing:
                lemma, form = lemma[::-1], form[::-1]
            rules = cache.get((lemma, form))
            if rules is None:
                rules = extract_rules(*self._split(lemma, form))
                cache[(lemma, form)] = rules
            prules, srules = rules
            if prules:
                table = prefix.setdefault(e.features, _RuleTable())
                for r in prules:
                    table.add(r, serial)
                    serial += 1
            table = suffix.setdefault(e.features, _RuleTable())
            for r in srules:
                table.add(r, serial)
                serial += 1
        for t in prefix.values():
            t.finish(suffix=False)
        for t in suffix.values():
            t.finish(suffix=True)
        self._prefix, self._suffix = prefix, suffix
        self.n_train = len(entries)
        self._fitted = True
        return self

    def inflect(self, lemma: str, features: str) -> str:
        """The predicted form of ``lemma`` for ``features`` (the lemma if the bundle is unseen)."""
        if not self._fitted:
            raise RuntimeError("AffixBaseline.inflect called before fit(); call fit(train) first")
        stable = self._suffix.get(features)
        ptable = self._prefix.get(features)
        if stable is None and ptable is None:
            return lemma
        word = lemma[::-1] if self.prefixing else lemma
        base = BOS + word + EOS
        if stable is not None:
            for k in range(len(base), 0, -1):
                hit = stable.best.get(base[-k:])
                if hit is not None:
                    base = base[:-k] + hit[0]
                    break
        if ptable is not None:
            winner: tuple[tuple[int, int], int, str] | None = None
            for k in range(1, len(base) + 1):
                hit = ptable.best.get(base[:k])
                if hit is not None:
                    rank = (hit[1], -hit[2])
                    if winner is None or rank > winner[0]:
                        winner = (rank, k, hit[0])
            if winner is not None:
                _, k, rhs = winner
                base = rhs + base[k:]
        out = base.replace(BOS, "").replace(EOS, "")
        return out[::-1] if self.prefixing else out

    def predict(self, entries: Iterable[InflectionEntry]) -> list[str]:
        """Predicted forms, one per entry in order (entries' ``form`` is ignored)."""
        return [self.inflect(e.lemma, e.features) for e in entries]

    def __repr__(self) -> str:
        state = (
            f"fitted on {self.n_train} pairs, {len(self._suffix)} bundles, "
            f"{'prefixing' if self.prefixing else 'suffixing'}"
            if self._fitted
            else "not fitted"
        )
        return f"AffixBaseline({self.signature}; {state})"
