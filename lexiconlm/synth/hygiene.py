"""Lexicon hygiene before translation: script consistency and direction checks.

Real dictionaries mix writing systems (the Wiktionary Javanese dictionary is
about a fifth Javanese script while MASSIVE jv-ID is Latin; the Azerbaijani one
has Cyrillic entries) and are sometimes read the wrong way round. This module

* filters target entries whose script is not the one chosen for the language
  (:func:`filter_lexicon`, policies in :data:`HYGIENE_POLICIES`), with a report of
  what was dropped per script (:class:`HygieneReport`);
* checks that the source column looks like the source language
  (:func:`check_direction`), so that a reversed lexicon is noticed before a
  corpus is synthesized from it;
* refuses an empty lexicon with a clear error (:func:`require_entries`).

Policies (versioned names, see :data:`HYGIENE_POLICIES`):

``script.v1``
    Keep entries whose target is written in *one* script: the script given
    explicitly (``HygieneConfig(target_script="Latn")``), else, among the
    scripts the catalog lists for the target language, the one most entries of
    this lexicon are written in (ties: catalog order); when the catalog lists
    no script for the language, or the lexicon has more than twice as many
    entries in a script the catalog does not list (a romanised dictionary), the
    lexicon's own dominant script. Targets without letters (numbers, symbols)
    are kept.
``script-any.v1``
    Keep entries written in any script the catalog lists for the language (or
    the explicit one).
``none``
    Keep everything.

Composite catalog scripts stand for several character-level scripts (``Jpan``
is Han + Hiragana + Katakana, ``Hans`` is Han); the correspondence is data in
``resources/script_joining.tsv``.

Example:
    >>> from lexiconlm.io.lexicons import read_lexicon  # doctest: +SKIP
    >>> lex, report = filter_lexicon(read_lexicon(".../wiktionary/javanese.txt"))  # doctest: +SKIP
    >>> report.target_script, report.dropped  # doctest: +SKIP
    ('Latn', {'Java': 1409})
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Optional

from lexiconlm.errors import LexiconLMError
from lexiconlm.registry import Registry
from lexiconlm.synth.tokenize import script_joining
from lexiconlm.types import Language, Lexicon, LexiconEntry
from lexiconlm.unicode_scripts import dominant_script

__all__ = [
    "HYGIENE_POLICIES",
    "HygieneConfig",
    "HygieneReport",
    "DirectionCheck",
    "LexiconDirectionWarning",
    "EmptyLexiconError",
    "char_scripts_of",
    "choose_script",
    "entry_script",
    "filter_lexicon",
    "check_direction",
    "require_entries",
    "script_filter",
    "script_any_filter",
    "keep_all_filter",
]

#: Hygiene filters by name: ``f(language, script_counts, explicit_script)`` returns
#: ``(allowed scripts, chosen script, where the choice came from)``, or ``None`` to keep every
#: entry. ``script`` / ``script-any`` mean their latest version; ``off`` means ``none``.
HYGIENE_POLICIES = Registry("hygiene policy", versioned=False, aliases={"off": "none"})


class EmptyLexiconError(LexiconLMError, ValueError):
    """A lexicon has no entries (or none left after hygiene); nothing can be translated."""


class LexiconDirectionWarning(UserWarning):
    """The source column of a lexicon does not look like the source language."""


@dataclass(frozen=True)
class HygieneConfig:
    """Which hygiene filter to apply.

    Args:
        policy: one of :data:`HYGIENE_POLICIES` (``"script"`` means the latest ``script.vN``).
        target_script: force this ISO 15924 script (e.g. ``"Latn"`` to match MASSIVE
            jv-ID) instead of choosing one from the catalog and the lexicon.
    """

    policy: str = "script.v1"
    target_script: Optional[str] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", HYGIENE_POLICIES.full_name(self.policy))

    @property
    def name(self) -> str:
        """As written in signatures: ``script.v1``, ``script.v1@Latn`` or ``none``."""
        if self.policy == "none":
            return "none"
        return self.policy + (f"@{self.target_script}" if self.target_script else "")


@dataclass(frozen=True)
class HygieneReport:
    """What a hygiene filter did to one lexicon."""

    policy: str
    language: str
    allowed_scripts: tuple[str, ...]
    target_script: str
    n_entries: int
    n_kept: int
    kept: dict = field(default_factory=dict)  # script -> entries kept
    dropped: dict = field(default_factory=dict)  # script -> entries dropped
    examples: dict = field(default_factory=dict)  # script -> a few dropped "source -> target"
    script_source: str = "catalog"  # explicit | catalog | lexicon (the catalog's scripts are not used) | none

    @property
    def n_dropped(self) -> int:
        return self.n_entries - self.n_kept

    @property
    def dropped_share(self) -> float:
        return self.n_dropped / self.n_entries if self.n_entries else 0.0

    def as_row(self) -> dict:
        return {
            "language": self.language,
            "policy": self.policy,
            "target_script": self.target_script,
            "script_source": self.script_source,
            "allowed": " ".join(self.allowed_scripts),
            "entries": self.n_entries,
            "kept": self.n_kept,
            "dropped": self.n_dropped,
            "dropped_share": round(self.dropped_share, 4),
            "dropped_by_script": " ".join(f"{k}:{v}" for k, v in sorted(self.dropped.items(), key=lambda kv: -kv[1])),
        }


def char_scripts_of(script: str) -> frozenset:
    """The character-level scripts a catalog script stands for (``Jpan`` -> Hani, Hira, Kana)."""
    rule = script_joining().get(script)
    return rule.chars if rule is not None else frozenset([script])


def entry_script(text: str) -> str | None:
    """The script with most letters in ``text`` (``None`` without letters); see
    :func:`lexiconlm.unicode_scripts.dominant_script`."""
    return dominant_script(text)


def require_entries(lexicon: Lexicon, what: str = "") -> None:
    """Raise :class:`EmptyLexiconError` when ``lexicon`` has no entries."""
    if len(lexicon) == 0:
        where = lexicon.provenance.path or "the lexicon"
        errors = [p for p in lexicon.problems if p.severity == "error"]
        why = (
            f" ({errors[0].message}{f'; {len(errors) - 1} more problem(s)' if len(errors) > 1 else ''})"
            if errors
            else ""
        )
        raise EmptyLexiconError(
            f"{where}: {what or 'the lexicon has no entries'}{why}; nothing to translate with "
            "(check that the file is the right one and was read without errors)"
        )


def _catalog_scripts(lang: Language) -> tuple[str, ...]:
    return tuple(lang.scripts)


def _choose_script(lang: Language, counts: Counter, explicit: str | None) -> tuple[str, tuple[str, ...], str]:
    """The script to keep, the catalog scripts, and where the choice came from."""
    listed = _catalog_scripts(lang)
    if explicit:
        return explicit, listed, "explicit"
    if listed:
        scores = [sum(counts.get(c, 0) for c in char_scripts_of(s)) for s in listed]
        best = max(range(len(listed)), key=lambda i: (scores[i], -i))
        top = counts.most_common(1)[0][1] if counts else 0
        if not counts or (scores[best] > 0 and 2 * scores[best] >= top):
            return listed[best], listed, "catalog"
    if counts:
        # the catalog lists no script, or none this lexicon uses (a romanised dictionary):
        # keep the lexicon consistent in its own dominant script
        return counts.most_common(1)[0][0], listed, "lexicon"
    return "", listed, "none"


@HYGIENE_POLICIES.register("script.v1")
def script_filter(lang: Language, counts: Counter, explicit: str | None) -> tuple[tuple[str, ...], str, str]:
    """``script.v1``: keep the one script chosen by :func:`_choose_script`."""
    chosen, _, origin = _choose_script(lang, counts, explicit)
    return ((chosen,) if chosen else ()), chosen, origin


@HYGIENE_POLICIES.register("script-any.v1")
def script_any_filter(lang: Language, counts: Counter, explicit: str | None) -> tuple[tuple[str, ...], str, str]:
    """``script-any.v1``: keep every script the catalog lists (the one chosen when the script is
    explicit or the lexicon's own)."""
    chosen, listed, origin = _choose_script(lang, counts, explicit)
    if explicit or origin == "lexicon":
        return ((chosen,) if chosen else ()), chosen, origin
    return listed or ((chosen,) if chosen else ()), chosen, origin


@HYGIENE_POLICIES.register("none")
def keep_all_filter(lang: Language, counts: Counter, explicit: str | None) -> None:
    """``none``: keep every entry."""
    return None


def choose_script(lexicon: Lexicon, explicit: str | None = None) -> tuple[str, str]:
    """The script ``script.v1`` keeps for this lexicon, and where the choice came from
    (``explicit``, ``catalog``, ``lexicon`` or ``none``), without filtering anything."""
    counts = Counter(s for s in map(entry_script, (e.target for e in lexicon.entries)) if s is not None)
    chosen, _, origin = _choose_script(lexicon.tgt, counts, explicit)
    return chosen, origin


def filter_lexicon(lexicon: Lexicon, config: HygieneConfig | None = None) -> tuple[Lexicon, HygieneReport]:
    """Apply a hygiene policy to a lexicon.

    Args:
        lexicon: the lexicon (entries are not modified, only kept or dropped).
        config: the policy; ``None`` means ``HygieneConfig()`` (``script.v1``).

    Returns:
        ``(filtered lexicon, report)``; the filtered lexicon keeps the provenance.

    Raises:
        EmptyLexiconError: the lexicon is empty, or every entry was dropped (the
            message names the scripts found and the one that was required).

    Example:
        >>> lex, rep = filter_lexicon(lexicon, HygieneConfig(target_script="Latn"))  # doctest: +SKIP
    """
    config = config or HygieneConfig()
    require_entries(lexicon)
    scripts = [entry_script(e.target) for e in lexicon.entries]
    counts = Counter(s for s in scripts if s is not None)
    lang_name = lexicon.tgt.code if lexicon.tgt.iso639_3 else lexicon.tgt.name
    choice = HYGIENE_POLICIES[config.policy](lexicon.tgt, counts, config.target_script)
    if choice is None:
        n = len(lexicon)
        rep = HygieneReport(config.name, lang_name, (), "", n, n, dict(counts), {}, {}, "none")
        return lexicon, rep
    allowed_scripts, chosen, origin = choice
    allowed: set[str] = set()
    for s in allowed_scripts:
        allowed |= char_scripts_of(s)
    kept_entries: list[LexiconEntry] = []
    kept: Counter = Counter()
    dropped: Counter = Counter()
    examples: dict[str, list[str]] = {}
    for e, s in zip(lexicon.entries, scripts):
        if s is None or not allowed or s in allowed:
            kept_entries.append(e)
            kept[s or "none"] += 1
        else:
            dropped[s] += 1
            ex = examples.setdefault(s, [])
            if len(ex) < 3:
                ex.append(f"{e.source} -> {e.target}")
    report = HygieneReport(
        config.name,
        lang_name,
        tuple(allowed_scripts),
        chosen,
        len(lexicon),
        len(kept_entries),
        dict(kept),
        dict(dropped),
        examples,
        origin,
    )
    if not kept_entries:
        raise EmptyLexiconError(
            f"{lexicon.provenance.path}: all {len(lexicon)} entries were dropped by hygiene "
            f"{config.name} (targets are written in {', '.join(sorted(counts)) or 'no script'}; "
            f"required {' or '.join(allowed_scripts)}); pass HygieneConfig(target_script=...) "
            "or policy 'none'"
        )
    if len(kept_entries) == len(lexicon):
        return lexicon, report
    return replace(lexicon, entries=tuple(kept_entries)), report


# --------------------------------------------------------------------------- direction


@dataclass(frozen=True)
class DirectionCheck:
    """Whether a lexicon's source column looks like its source language."""

    ok: bool
    message: str
    source_script: str | None
    target_script: str | None
    source_in_vocab: float | None = None  # share of single-word sources found in the vocabulary
    target_in_vocab: float | None = None  # the same for targets

    def warn(self) -> None:
        if not self.ok:
            warnings.warn(self.message, LexiconDirectionWarning, stacklevel=3)


def _sample(values: list[str], n: int = 5000) -> list[str]:
    if len(values) <= n:
        return values
    step = len(values) / n
    return [values[int(i * step)] for i in range(n)]


def check_direction(
    lexicon: Lexicon,
    source_vocab: Iterable[str] | None = None,
    *,
    min_share: float = 0.3,
    min_entries: int = 20,
) -> DirectionCheck:
    """Check that the source column is in the source language.

    Two signals: the *script* of the source column must be one the catalog lists
    for the source language (when it lists any); and, when ``source_vocab`` (word
    types of source-language text, e.g. the corpus to translate) is given, the
    target words must not be found in it clearly more often than the source words
    (by more than 10 points, with at least ``min_share`` of them found).

    Args:
        lexicon: the lexicon.
        source_vocab: words of source-language text (compared lowercased).
        min_share: share of target words found in the text above which a reversed
            lexicon is suspected.
        min_entries: the vocabulary signal needs at least this many single-word sources.

    Returns:
        A :class:`DirectionCheck`; call ``.warn()`` to emit a
        :class:`LexiconDirectionWarning` when it failed.

    Example:
        >>> check_direction(lexicon, {"dog", "house", "water"}).ok  # doctest: +SKIP
        True
    """
    sources = _sample([e.source for e in lexicon.entries])
    targets = _sample([e.target for e in lexicon.entries])
    s_counts = Counter(s for s in map(entry_script, sources) if s)
    t_counts = Counter(s for s in map(entry_script, targets) if s)
    s_script = s_counts.most_common(1)[0][0] if s_counts else None
    t_script = t_counts.most_common(1)[0][0] if t_counts else None
    where = lexicon.provenance.path or "lexicon"
    src_listed: set[str] = set()
    for s in lexicon.src.scripts:
        src_listed |= char_scripts_of(s)
    tgt_listed: set[str] = set()
    for s in lexicon.tgt.scripts:
        tgt_listed |= char_scripts_of(s)
    problems: list[str] = []
    if src_listed and s_script and s_script not in src_listed:
        problems.append(
            f"the source column is mostly {s_script} but {lexicon.src.name} is written in "
            f"{' '.join(lexicon.src.scripts)}"
        )
    s_share = t_share = None
    if source_vocab is not None:
        vocab = {w.lower() for w in source_vocab}
        singles_s = [s.lower() for s in sources if " " not in s]
        singles_t = [t.lower() for t in targets if " " not in t]
        if vocab and singles_s:
            s_share = sum(w in vocab for w in singles_s) / len(singles_s)
            t_share = sum(w in vocab for w in singles_t) / len(singles_t) if singles_t else 0.0
            # a handful of entries says nothing ("louse -> mi": "mi" happens to be in the text)
            if len(singles_s) >= min_entries and t_share >= min_share and t_share > s_share + 0.1:
                problems.append(
                    f"{t_share:.0%} of target words but only {s_share:.0%} of source words are "
                    f"found in the {lexicon.src.name} text"
                )
    if problems:
        msg = (
            f"{where}: the lexicon may be in the wrong direction ({lexicon.src.code} -> "
            f"{lexicon.tgt.code}): "
            + "; ".join(problems)
            + ". Swap the columns (or pass src=/tgt=) if the file is target -> source."
        )
        return DirectionCheck(False, msg, s_script, t_script, s_share, t_share)
    return DirectionCheck(True, f"{where}: direction looks right", s_script, t_script, s_share, t_share)
