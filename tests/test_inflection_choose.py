"""The best inflector for a table (affix or transducer, chosen on held-out lemmas), in synthesis and expand."""

from __future__ import annotations

import pytest

from lexiconlm.errors import ConfigError
from lexiconlm.inflection.choose import fit_inflector, split_by_lemma
from lexiconlm.synth.target_morph import TargetMorphology
from lexiconlm.types import InflectionEntry as E

TINY = {"preset": "tiny", "max_epochs": 25, "seed": 3}
STEMS = ["kapa", "timu", "pamu", "kiti", "mapa", "tuka", "pika", "muta", "kama", "tipa", "paki", "mika"]


def _vowel_harmony() -> list[E]:
    """A plural whose suffix copies the stem's last vowel (-ak / -ik / -uk): one rule per vowel,
    which the affix rules learn per ending only, and a stem change in the past (a -> o)."""
    out = []
    for w in STEMS:
        out.append(E(w, w + w[-1] + "k", "N;PL"))
        out.append(E(w, w.replace("a", "o") + "n", "V;PST"))
    return out


def test_split_by_lemma_holds_out_whole_paradigms():
    train, held = split_by_lemma(_vowel_harmony(), 0.25, seed=1)
    assert held and train
    assert not {e.lemma for e in train} & {e.lemma for e in held}
    assert len(train) + len(held) == 2 * len(STEMS)
    assert split_by_lemma(_vowel_harmony(), 0.25, seed=1) == (train, held)


def test_affix_needs_no_folder_and_the_others_do():
    m = fit_inflector([E("cat", "cats", "N;PL"), E("dog", "dogs", "N;PL")], system="affix")
    assert (m.system, m.inflect("cup", "N;PL"), m.dev) == ("affix", "cups", {})
    with pytest.raises(ConfigError, match="out_dir"):
        fit_inflector([E("cat", "cats", "N;PL")], system="auto")
    with pytest.raises(ConfigError, match="must be one of"):
        fit_inflector([E("cat", "cats", "N;PL")], system="lstm")
    with pytest.raises(ConfigError, match="no training pairs"):
        fit_inflector([E("cat", None, "N;PL")], system="affix")


def test_auto_keeps_the_better_system_on_held_out_lemmas_and_reuses_its_model(tmp_path):
    data = _vowel_harmony()
    m = fit_inflector(data, system="auto", out_dir=tmp_path, config=TINY, dev_share=0.25)
    assert set(m.dev) == {"affix", "transducer"}
    better = "transducer" if m.dev["transducer"] > m.dev["affix"] else "affix"
    assert m.system == better
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert len(folders) == 1 and folders[0].startswith("transducer-")
    again = fit_inflector(data, system="transducer", out_dir=tmp_path, config=TINY, dev_share=0.25)
    assert sorted(p.name for p in tmp_path.iterdir()) == folders  # the same pairs and config: reused
    assert again.dev["transducer"] == m.dev["transducer"]
    assert again.predict([E("kaku", None, "N;PL")]) == [again.inflect("kaku", "N;PL")]


def test_target_morphology_inflects_unknown_lemmas_with_the_chosen_inflector(tmp_path):
    table = _vowel_harmony()
    with pytest.raises(ConfigError, match="inflector_dir"):
        TargetMorphology(table, inflector="transducer")
    with pytest.raises(ConfigError, match="must be one of"):
        TargetMorphology(table, inflector="lstm")
    tgt = TargetMorphology(table, inflector="auto", inflector_dir=tmp_path)
    tgt.inflector_config = TINY
    choice = tgt.inflect("taka", "N;PL")
    assert choice is None or choice.origin == "inflector"
    used = tgt.inflector_choices()
    assert set(used) == {"N"} and used["N"]["system"] in ("affix", "transducer")
    assert (tmp_path / "N").is_dir() and set(used["N"]["dev"]) == {"affix", "transducer"}


def test_expand_config_takes_the_inflector_systems_and_checks_transducer_settings():
    from pathlib import Path

    from lexiconlm.expand.config import load_config

    tiny = Path(__file__).resolve().parents[1] / "configs" / "expand" / "tiny.yaml"
    ok = load_config(tiny, overrides=["evaluate.sigmorphon.systems=[affix, auto]"])
    sig = ok.section("evaluate")["sigmorphon"]
    assert sig["systems"] == ["affix", "auto"] and sig["transducer"] == {"max_epochs": 10, "patience": 3}
    with pytest.raises(ConfigError, match="evaluate.sigmorphon.transducer"):
        load_config(
            tiny, overrides=["evaluate.sigmorphon.systems=[auto]", "evaluate.sigmorphon.transducer.dec_hiden=3"]
        )
    with pytest.raises(ConfigError, match="systems"):
        load_config(tiny, overrides=["evaluate.sigmorphon.systems=[lstm]"])
