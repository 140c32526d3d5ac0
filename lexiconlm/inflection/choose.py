"""The best inflector for a table: affix rules or the transducer, chosen on held-out pairs.

Synthesis (:mod:`lexiconlm.synth.target_morph`) and ``expand``'s inflection step inflect
lemmas a UniMorph table lacks. :func:`fit_inflector` gives them one object with
``inflect(lemma, features)`` and ``predict(entries)``, whichever system is behind it:

* ``affix``: :class:`~lexiconlm.inflection.affix.AffixBaseline` (pure Python, instant);
* ``transducer``: :mod:`lexiconlm.inflection.transducer` (torch; trained in ``out_dir``,
  resumable, reused by a second call on the same pairs and config);
* ``auto``: both, scored on a held-out share of the pairs (``dev_share``, split by lemma, so
  that the held-out lemmas are unseen as in SIGMORPHON); the better one is returned, the affix
  model refitted on every pair. Ties go to ``affix`` (the cheaper one).

The choice and both held-out accuracies are in :attr:`FittedInflector.dev`, so a report can
say why a system was used.

Example:
    >>> from lexiconlm.types import InflectionEntry as E
    >>> pairs = [E(w, w + "s", "N;PL") for w in ("cat", "dog", "cup", "hat", "pen")]
    >>> m = fit_inflector(pairs, system="affix")
    >>> m.system, m.inflect("bed", "N;PL")
    ('affix', 'beds')
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexiconlm.errors import ConfigError
from lexiconlm.inflection.affix import AffixBaseline
from lexiconlm.inflection.metrics import evaluate
from lexiconlm.types import InflectionEntry

__all__ = ["INFLECTOR_SYSTEMS", "FittedInflector", "fit_inflector", "split_by_lemma"]

INFLECTOR_SYSTEMS = ("affix", "transducer", "auto")


def split_by_lemma(
    entries: Sequence[InflectionEntry], share: float, seed: int = 13
) -> tuple[list[InflectionEntry], list[InflectionEntry]]:
    """(train, held-out): about ``share`` of the lemmas, every pair of each, held out; input order kept."""
    lemmas = sorted({e.lemma for e in entries})
    rng = random.Random(seed)
    rng.shuffle(lemmas)
    n_out = max(1, round(share * len(lemmas))) if len(lemmas) > 1 and share > 0 else 0
    held = set(lemmas[:n_out])
    return [e for e in entries if e.lemma not in held], [e for e in entries if e.lemma in held]


@dataclass
class FittedInflector:
    """A trained inflector and how it was chosen.

    Attributes:
        system: ``affix`` or ``transducer`` (what predicts).
        model: the model (has ``predict(entries)``).
        dev: held-out accuracy (%) of each system tried (empty when nothing was held out).
        n_train: training pairs.
        path: the transducer's folder ("" for affix).
    """

    system: str
    model: Any
    dev: dict[str, float] = field(default_factory=dict)
    n_train: int = 0
    path: str = ""
    _cache: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def predict(self, entries: Sequence[InflectionEntry]) -> list[str]:
        """Forms for ``entries`` (their ``form`` is ignored), in order."""
        return list(self.model.predict(list(entries)))

    def inflect(self, lemma: str, features: str) -> str:
        """The form of one lemma (cached: synthesis asks for the same words again and again)."""
        key = (lemma, features)
        if key not in self._cache:
            if isinstance(self.model, AffixBaseline):
                self._cache[key] = self.model.inflect(lemma, features)
            else:
                self._cache[key] = self.predict([InflectionEntry(lemma, None, features)])[0]
        return self._cache[key]

    @property
    def signature(self) -> str:
        """``affix|...`` or ``hard-attention-transducer.v1|config:...`` of the system used."""
        return str(getattr(getattr(self.model, "config", None), "signature", "")) or getattr(
            self.model, "signature", self.system
        )


def _digest(entries: Sequence[InflectionEntry], config: Mapping[str, Any]) -> str:
    h = hashlib.sha256(json.dumps(dict(config), sort_keys=True).encode())
    for e in entries:
        h.update(f"{e.lemma}\t{e.form}\t{e.features}\n".encode())
    return h.hexdigest()[:12]


def _transducer(
    train: Sequence[InflectionEntry],
    dev: Sequence[InflectionEntry],
    out_dir: Path,
    config: Mapping[str, Any] | None,
    device: str,
    progress: bool,
):
    from lexiconlm.inflection import transducer  # imports torch

    cfg = transducer.load_config(dict(config or {}))
    folder = out_dir / f"transducer-{_digest(list(train) + [InflectionEntry('', '', '')] + list(dev), cfg.to_dict())}"
    transducer.train_transducer(cfg, train, dev, folder, device=device, resume=True, progress=progress)
    return transducer.TransducerInflector.load(folder, device=device), str(folder)


def fit_inflector(
    entries: Sequence[InflectionEntry],
    system: str = "auto",
    *,
    out_dir: str | os.PathLike | None = None,
    config: Mapping[str, Any] | None = None,
    dev_share: float = 0.1,
    seed: int = 13,
    device: str = "auto",
    progress: bool = False,
) -> FittedInflector:
    """Train the ``system`` inflector on ``entries`` (see the module docstring).

    Args:
        entries: training pairs (every form set).
        system: ``affix``, ``transducer`` or ``auto``.
        out_dir: where transducers are trained (required unless ``system`` is ``affix``);
            one sub-folder per (pairs, config), so a second call reuses the model.
        config: transducer settings (:class:`~lexiconlm.inflection.transducer.TransducerConfig`
            keys).
        dev_share: share of lemmas held out for the transducer's early stopping and for the
            ``auto`` choice.
        seed: the held-out split.
        device: ``auto``, ``cpu``, ``cuda``.
        progress: the transducer's progress bars.

    Raises:
        ConfigError: unknown system, no out_dir for a transducer, no pairs, pairs without forms.
    """
    problems = []
    if system not in INFLECTOR_SYSTEMS:
        problems.append(f"inflector -> must be one of {', '.join(INFLECTOR_SYSTEMS)}, got {system!r}")
    if system != "affix" and out_dir is None:
        problems.append(f"inflector -> {system} trains a model: give out_dir (a folder for it)")
    entries = [e for e in entries if e.form is not None]
    if not entries:
        problems.append("inflector -> no training pairs with a form")
    if problems:
        raise ConfigError(problems)
    if system == "affix":
        return FittedInflector("affix", AffixBaseline().fit(entries), n_train=len(entries))
    train, held = split_by_lemma(entries, dev_share, seed)
    if not train:
        train, held = entries, []
    model, path = _transducer(train, held, Path(out_dir), config, device, progress)  # type: ignore[arg-type]
    dev: dict[str, float] = {}
    if held:
        dev["transducer"] = round(evaluate(held, model.predict(held)).accuracy, 3)
    if system == "transducer":
        return FittedInflector("transducer", model, dev, len(train), path)
    if held:
        dev["affix"] = round(evaluate(held, AffixBaseline().fit(train).predict(held)).accuracy, 3)
    if dev.get("transducer", -1.0) > dev.get("affix", -1.0):
        return FittedInflector("transducer", model, dev, len(train), path)
    return FittedInflector("affix", AffixBaseline().fit(entries), dev, len(entries))
