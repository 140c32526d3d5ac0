"""SIGMORPHON inflection metrics, as the official evaluation scripts define them.

Two figures per language (the 2016-2023 shared tasks):

* **accuracy**: the percentage of gold items whose predicted form equals the gold
  form exactly;
* **levenshtein**: the mean character-level edit distance between prediction and
  gold (insertion, deletion and substitution each cost 1; characters are
  Unicode code points).

Both sides are normalised to Unicode NFC before comparing (the 2022 script does
this; the earlier ones compare raw strings, which gives the same result on NFC
files), so a precomposed ``é`` and ``e`` + combining acute are the same form.
Lemmas and feature bundles are NFC-normalised as well before they are matched.

Matching predictions to gold
    A prediction is matched to gold by its key ``(lemma, features)``, as the
    keyed official scripts (2017-2020 ``evaluate.py``) do. A gold item with no
    prediction is scored against the empty string (a wrong answer whose distance
    is the length of the gold form). Predictions whose key is not in gold are
    ignored and counted in :attr:`InflectionScores.n_extra`.

Duplicate keys in gold (``duplicates=``)
    Some gold files list one ``(lemma, features)`` twice, usually with two
    spelling variants (e.g. 2020 ``tuk.tst`` has 192 such rows).

    ``"rows"`` (default)
        Every gold row is one item, as the line-by-line scorers count them (2020
        ``compute_acc_single.py``, 2022 ``evaluate.py``). The k-th gold row with a
        key is paired with the k-th prediction with that key; when there are
        fewer predictions than gold rows for a key, the last prediction is used
        again, so a system that predicts each key once gets the same score as one
        that repeats the prediction (and a mapping, which holds one prediction per
        key, works too). For predictions written one per gold row in gold order,
        this is exactly the line-by-line score.
    ``"collapse"``
        One item per distinct key, the gold form of its *last* row and the last
        prediction for it, as the keyed ``evaluate.py`` of 2017-2020 computes (it
        reads both files into ``{lemma: {tags: form}}`` dictionaries).

The 2022 breakdown (:func:`evaluate_2022`) splits gold rows by whether their
lemma and their feature bundle occur in the training file: ``both``, ``lemma``
(lemma only), ``feats`` (bundle only), ``unseen`` (neither), the columns of the
official ``baseline_results/part1_*.txt`` tables, which :func:`read_baseline_table`
reads.

Example:
    >>> from lexiconlm.types import InflectionEntry as E
    >>> gold = [E("walk", "walked", "V;PST"), E("go", "went", "V;PST")]
    >>> s = evaluate(gold, {("walk", "V;PST"): "walked", ("go", "V;PST"): "goed"})
    >>> s.accuracy, s.levenshtein, s.n_correct
    (50.0, 2.0, 1)
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Union

from lexiconlm.files import ProblemLog, read_lines
from lexiconlm.types import InflectionEntry

__all__ = [
    "CATEGORIES_2022",
    "Duplicates",
    "InflectionScores",
    "Key",
    "MacroAverage",
    "categorize_2022",
    "evaluate",
    "evaluate_2022",
    "levenshtein",
    "macro_average",
    "match_warnings",
    "micro_average",
    "read_baseline_accuracy_tsv",
    "read_baseline_table",
]

Key = tuple[str, str]
Duplicates = Literal["rows", "collapse"]
Predictions = Union[Sequence[InflectionEntry], Sequence[str], Mapping[Key, str | None]]

#: The 2022 categories, in the order of the official tables.
CATEGORIES_2022: tuple[str, ...] = ("both", "lemma", "feats", "unseen")


@dataclass(frozen=True)
class InflectionScores:
    """Scores of one prediction set against one gold set.

    Attributes:
        accuracy: exact-match accuracy in percent (0-100); 0.0 when ``n == 0``.
        levenshtein: mean edit distance per gold item; 0.0 when ``n == 0``.
        n: number of gold items scored.
        n_correct: items whose prediction equals the gold form.
        n_missing: items with no prediction (scored against ``""``).
        n_extra: predictions that matched no gold item (ignored in the scores).
        distance: total edit distance (``levenshtein * n``), kept exact for pooling.
    """

    accuracy: float
    levenshtein: float
    n: int
    n_correct: int
    n_missing: int
    n_extra: int = 0
    distance: int = 0

    @classmethod
    def from_counts(
        cls, n: int, n_correct: int, distance: int, n_missing: int = 0, n_extra: int = 0
    ) -> InflectionScores:
        """Build the record from raw counts (accuracy in percent, mean distance)."""
        return cls(
            accuracy=100.0 * n_correct / n if n else 0.0,
            levenshtein=distance / n if n else 0.0,
            n=n,
            n_correct=n_correct,
            n_missing=n_missing,
            n_extra=n_extra,
            distance=distance,
        )


@dataclass(frozen=True)
class MacroAverage:
    """Unweighted mean over evaluation sets (each language / setting counts once)."""

    accuracy: float
    levenshtein: float
    n_sets: int


def _nfc(s: str) -> str:
    # is_normalized is much cheaper than normalize on text that is already NFC.
    return s if unicodedata.is_normalized("NFC", s) else unicodedata.normalize("NFC", s)


def _key(lemma: str, features: str) -> Key:
    return (_nfc(lemma), _nfc(features))


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings: insertions, deletions, substitutions cost 1.

    Characters are code points; normalise first (NFC) if the strings may differ in
    composition. :func:`evaluate` does.

    >>> levenshtein("kitten", "sitting")
    3
    >>> levenshtein("", "abc")
    3
    """
    if a == b:
        return 0
    # Common prefix and suffix never change the distance; trimming them makes the
    # usual case (a prediction that is almost right) nearly free.
    start = 0
    stop = min(len(a), len(b))
    while start < stop and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a = a[start:end_a]
    b = b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,  # delete ca
                    current[j - 1] + 1,  # insert cb
                    previous[j - 1] + (ca != cb),  # substitute / match
                )
            )
        previous = current
    return previous[-1]


def _check_gold(gold: Sequence[InflectionEntry]) -> None:
    for i, e in enumerate(gold):
        if not isinstance(e, InflectionEntry):
            raise TypeError(f"gold[{i}] is {type(e).__name__}, expected InflectionEntry")
        if e.form is None:
            raise ValueError(
                f"gold[{i}] ({e.lemma!r}, {e.features!r}) has no form: gold must come from a file "
                "with forms (a dev file or the gold test file, not the covered test input)"
            )


def _pred_index(pred: Predictions, gold: Sequence[InflectionEntry]) -> dict[Key, list[str | None]]:
    """Predictions grouped by NFC key, in their order (one list per key)."""
    index: dict[Key, list[str | None]] = defaultdict(list)
    if isinstance(pred, Mapping):
        for k, form in pred.items():
            if not (isinstance(k, tuple) and len(k) == 2):
                raise TypeError(f"prediction keys must be (lemma, features) tuples, got {k!r}")
            index[_key(*k)].append(form)
        return index
    pred = list(pred)
    if pred and all(isinstance(p, str) for p in pred):
        if len(pred) != len(gold):
            raise ValueError(
                f"a list of predicted forms must have one form per gold item in gold order: "
                f"got {len(pred)} forms for {len(gold)} gold items"
            )
        for g, form in zip(gold, pred):
            index[_key(g.lemma, g.features)].append(form)
        return index
    for i, p in enumerate(pred):
        if not isinstance(p, InflectionEntry):
            raise TypeError(
                f"pred[{i}] is {type(p).__name__}; expected InflectionEntry, a form string "
                "(one per gold item), or a mapping {(lemma, features): form}"
            )
        index[_key(p.lemma, p.features)].append(p.form)
    return index


def _pair(
    gold: Sequence[InflectionEntry], pred: Predictions, duplicates: Duplicates
) -> tuple[list[tuple[InflectionEntry, str, str | None]], int]:
    """(gold entry, NFC gold form, NFC guess or None) for each scored item, and n_extra."""
    if duplicates not in ("rows", "collapse"):
        raise ValueError(f"duplicates must be 'rows' or 'collapse', got {duplicates!r}")
    _check_gold(gold)
    index = _pred_index(pred, gold)
    items: list[tuple[InflectionEntry, str, str | None]] = []
    used: dict[Key, int] = defaultdict(int)
    if duplicates == "collapse":
        last: dict[Key, InflectionEntry] = {}
        for g in gold:
            k = _key(g.lemma, g.features)
            last[k] = g  # the key keeps its first position, the value is the last row
        for k, g in last.items():
            guesses = index.get(k)
            guess = guesses[-1] if guesses else None
            used[k] = len(guesses) if guesses else 0
            items.append((g, _nfc(g.form or ""), None if guess is None else _nfc(guess)))
    else:
        seen: dict[Key, int] = defaultdict(int)
        for g in gold:
            k = _key(g.lemma, g.features)
            occurrence = seen[k]
            seen[k] += 1
            guesses = index.get(k)
            if guesses:
                guess = guesses[min(occurrence, len(guesses) - 1)]
                used[k] = min(len(guesses), occurrence + 1)
            else:
                guess = None
            items.append((g, _nfc(g.form or ""), None if guess is None else _nfc(guess)))
    n_extra = sum(len(v) - used.get(k, 0) for k, v in index.items())
    return items, n_extra


def _score(items: Iterable[tuple[InflectionEntry, str, str | None]], n_extra: int = 0) -> InflectionScores:
    n = n_correct = n_missing = distance = 0
    for _, gold_form, guess in items:
        n += 1
        if guess is None:
            n_missing += 1
            guess = ""
        if guess == gold_form:
            n_correct += 1
        else:
            distance += levenshtein(gold_form, guess)
    return InflectionScores.from_counts(n, n_correct, distance, n_missing, n_extra)


def evaluate(
    gold: Sequence[InflectionEntry],
    pred: Predictions,
    *,
    duplicates: Duplicates = "rows",
) -> InflectionScores:
    """Score predictions against gold: accuracy (%) and mean Levenshtein distance.

    Args:
        gold: gold entries (every ``form`` set), e.g. a dev file's entries.
        pred: the predictions, as ``InflectionEntry`` records (matched by
            ``(lemma, features)``), a mapping ``{(lemma, features): form}``, or a
            list of forms with one form per gold entry in gold order. A ``None``
            form counts as no prediction.
        duplicates: ``"rows"`` (every gold row is an item) or ``"collapse"`` (one
            item per distinct key, last row wins); see the module docstring.

    Returns:
        :class:`InflectionScores`. ``n == 0`` (empty gold) gives 0.0 for both figures.

    Raises:
        ValueError: a gold entry without a form, a list of forms of the wrong
            length, an unknown ``duplicates`` value.
        TypeError: records of the wrong type.

    Example:
        >>> from lexiconlm.types import InflectionEntry as E
        >>> evaluate([E("a", "ab", "X")], [E("a", "ac", "X")]).levenshtein
        1.0
    """
    items, n_extra = _pair(gold, pred, duplicates)
    return _score(items, n_extra)


def match_warnings(scores: InflectionScores) -> list[str]:
    """What makes a score suspect: predictions that do not answer the gold items.

    A prediction file of another language, split or edition matches no ``(lemma, features)``
    pair of gold, and scores a plain accuracy of 0 that looks like a real (bad) result.

    Args:
        scores: the overall scores of one prediction set.

    Returns:
        Messages (empty when the predictions answer most gold items): one when no gold item
        has a prediction, one when more than half have none.

    Example:
        >>> match_warnings(InflectionScores.from_counts(3, 0, 9, n_missing=3, n_extra=5))[0][:40]
        'no prediction matches a gold (lemma, fea'
    """
    n, missing = scores.n, scores.n_missing
    if not n or not missing:
        return []
    extra = f"; {scores.n_extra:,} prediction(s) match no gold item" if scores.n_extra else ""
    if missing == n:
        return [
            f"no prediction matches a gold (lemma, features) pair: all {n:,} gold items are scored "
            f"as missing{extra}. Are the predictions for this gold file (same language, split "
            "and edition)?"
        ]
    if 2 * missing > n:
        return [
            f"{missing:,} of {n:,} gold items have no prediction with their (lemma, features) "
            f"and are scored as wrong{extra}"
        ]
    return []


def categorize_2022(gold: Sequence[InflectionEntry], train: Iterable[InflectionEntry]) -> list[str]:
    """The 2022 category of each gold row: ``both``, ``lemma``, ``feats`` or ``unseen``.

    ``both``: the lemma and the feature bundle each occur somewhere in ``train``
    (not necessarily together); ``lemma``: only the lemma does; ``feats``: only the
    bundle does; ``unseen``: neither. Strings are compared after NFC.

    >>> from lexiconlm.types import InflectionEntry as E
    >>> train = [E("a", "ab", "X")]
    >>> categorize_2022([E("a", "", "X"), E("a", "", "Y"), E("b", "", "X"), E("b", "", "Y")], train)
    ['both', 'lemma', 'feats', 'unseen']
    """
    lemmas: set[str] = set()
    feats: set[str] = set()
    for e in train:
        lemmas.add(_nfc(e.lemma))
        feats.add(_nfc(e.features))
    out = []
    for g in gold:
        seen_lemma = _nfc(g.lemma) in lemmas
        seen_feats = _nfc(g.features) in feats
        if seen_lemma and seen_feats:
            out.append("both")
        elif seen_lemma:
            out.append("lemma")
        elif seen_feats:
            out.append("feats")
        else:
            out.append("unseen")
    return out


def evaluate_2022(
    gold: Sequence[InflectionEntry],
    pred: Predictions,
    train: Iterable[InflectionEntry],
    *,
    duplicates: Duplicates = "rows",
) -> dict[str, InflectionScores]:
    """Scores overall and per 2022 category (the official ``part1_*`` table columns).

    Args:
        gold: gold entries (dev or gold test).
        pred: predictions, as for :func:`evaluate`.
        train: the training entries that define what was "seen".
        duplicates: as for :func:`evaluate`.

    Returns:
        ``{"all": ..., "both": ..., "lemma": ..., "feats": ..., "unseen": ...}``, each
        an :class:`InflectionScores`; ``n`` of each category is the table's
        ``#both`` / ``#lemma`` / ... column, ``accuracy`` its accuracy column.
        An empty category has ``n == 0`` and accuracy 0.0, which the official
        tables print as ``0``.

    Example:
        >>> from lexiconlm.types import InflectionEntry as E
        >>> r = evaluate_2022([E("a", "ab", "X"), E("c", "cd", "Y")], ["ab", "c"], [E("a", "ab", "X")])
        >>> r["all"].accuracy, r["both"].n, r["unseen"].accuracy
        (50.0, 1, 0.0)
    """
    train = list(train)
    items, n_extra = _pair(gold, pred, duplicates)
    cats = categorize_2022([g for g, _, _ in items], train)
    out = {"all": _score(items, n_extra)}
    for c in CATEGORIES_2022:
        out[c] = _score(it for it, cat in zip(items, cats) if cat == c)
    return out


def micro_average(scores: Iterable[InflectionScores]) -> InflectionScores:
    """Pool several evaluation sets: every gold item counts once.

    This is how the official 2022 tables compute their ``LARGE`` / ``SMALL`` /
    ``TOTAL`` rows (all predictions of the partition together).

    >>> a = InflectionScores.from_counts(10, 5, 10)
    >>> b = InflectionScores.from_counts(30, 30, 0)
    >>> micro_average([a, b]).accuracy
    87.5
    """
    n = n_correct = n_missing = n_extra = distance = 0
    for s in scores:
        n += s.n
        n_correct += s.n_correct
        n_missing += s.n_missing
        n_extra += s.n_extra
        distance += s.distance
    return InflectionScores.from_counts(n, n_correct, distance, n_missing, n_extra)


def macro_average(scores: Iterable[InflectionScores], *, skip_empty: bool = True) -> MacroAverage:
    """Unweighted mean of accuracies and of mean distances (each set counts once).

    Args:
        scores: one :class:`InflectionScores` per language / setting.
        skip_empty: leave out sets with ``n == 0`` (their 0.0 is not a measurement).

    >>> a = InflectionScores.from_counts(10, 5, 10)
    >>> b = InflectionScores.from_counts(30, 30, 0)
    >>> macro_average([a, b]).accuracy
    75.0
    """
    acc = []
    lev = []
    for s in scores:
        if skip_empty and s.n == 0:
            continue
        acc.append(s.accuracy)
        lev.append(s.levenshtein)
    if not acc:
        return MacroAverage(0.0, 0.0, 0)
    return MacroAverage(math.fsum(acc) / len(acc), math.fsum(lev) / len(lev), len(acc))


# --------------------------------------------------------------------------- tables


def _number(text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        return float(text)


def read_baseline_table(path: str | os.PathLike) -> dict[str, dict[str, float | int]]:
    """Read an official 2022 baseline table (``baseline_results/part1_nonneural_dev.txt`` ...).

    The header is ``Lang, all acc, both, lemma, feats, unseen, #total, #both,
    #lemma, #feats, #unseen`` with blank separator columns, which the data rows
    place differently from the header; blank fields are therefore dropped and the
    remaining fields taken in order. Summary rows (``LARGE``, ``SMALL``,
    ``TOTAL``) have the five accuracies only.

    Args:
        path: the table file.

    Returns:
        ``{setting: {"all acc": 42.148, "both": 76.395, ..., "#total": 866, ...}}``
        in file order, accuracies as floats (percent), counts as ints; the keys
        are the header's column names.

    Raises:
        DataFormatError: listing every line that is not a row of numbers of the
            expected length (file and line number given).

    Example:
        >>> t = read_baseline_table("part1_nonneural_dev.txt")  # doctest: +SKIP
        >>> t["ang_large"]["all acc"], t["ang_large"]["#total"], t["TOTAL"]["all acc"]  # doctest: +SKIP
        (42.148, 866, 31.423)
    """
    raw = read_lines(path)
    log: ProblemLog = raw.log
    rows: dict[str, dict[str, float | int]] = {}
    header: list[str] | None = None
    for line_no, line in raw.lines:
        fields = [f.strip() for f in line.split("\t")]
        fields = [f for f in fields if f]
        if not fields:
            continue
        if header is None:
            header = fields[1:]
            if not header or fields[0].lower() not in ("lang", "language"):
                log.error(line_no, f"expected a header starting with 'Lang', got {line!r}")
                header = []
            continue
        name, values = fields[0], fields[1:]
        n_acc = sum(1 for h in header if not h.startswith("#"))
        if len(values) not in (n_acc, len(header)):
            log.error(
                line_no,
                f"row {name!r} has {len(values)} values; expected {len(header)} (or {n_acc} for a summary row)",
            )
            continue
        try:
            parsed = [_number(v) for v in values]
        except ValueError:
            log.error(line_no, f"row {name!r} has a value that is not a number: {values!r}")
            continue
        if name in rows:
            log.error(line_no, f"setting {name!r} appears twice")
            continue
        row: dict[str, float | int] = {}
        for col, v in zip(header, parsed):
            row[col] = int(v) if col.startswith("#") else float(v)
        rows[name] = row
    if header is None:
        log.error(None, "no header line", "the table should start with 'Lang<TAB>...'")
    log.finish("raise")
    return rows


def read_baseline_accuracy_tsv(path: str | os.PathLike) -> dict[str, dict[str, float | int]]:
    """Read ``2021_task0/baseline_accuracy_computed.tsv``: per-language accuracy of each system.

    Columns: ``lang, n_test, <system>, <system>, ...`` (accuracy in percent).

    Returns:
        ``{lang: {"n_test": 263, "vanila-transformer": 12.17, ...}}`` in file order.

    Raises:
        DataFormatError: listing every malformed line.
    """
    raw = read_lines(path)
    log = raw.log
    out: dict[str, dict[str, float | int]] = {}
    header: list[str] | None = None
    for line_no, line in raw.lines:
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("\t")]
        if header is None:
            header = fields
            if len(header) < 2 or header[0] != "lang":
                log.error(line_no, f"expected a header 'lang<TAB>n_test<TAB>...', got {line!r}")
            continue
        if len(fields) != len(header):
            log.error(line_no, f"expected {len(header)} tab-separated fields, got {len(fields)}")
            continue
        try:
            values = {col: (int(v) if col.startswith("n_") else float(v)) for col, v in zip(header[1:], fields[1:])}
        except ValueError:
            log.error(line_no, f"a value is not a number: {fields[1:]!r}")
            continue
        out[fields[0]] = values
    if header is None:
        log.error(None, "no header line")
    log.finish("raise")
    return out
