"""The 2023 affix variant: multi-word forms (Albanian) must not make a suffixing language prefixing.

The 2022 script, under Python 3, counts only the lemma's padding in its prefixing test and
leaves out only pairs whose lemma has a space or '-'; the 2023 script counts both strings and
leaves out pairs with a space or '-' in either. ``sigmorphon.v1`` keeps the 2022 behaviour
(its figures are unchanged), ``sigmorphon2023.v1`` is the 2023 one and the default of 2023 runs.
"""

from __future__ import annotations

from pathlib import Path

from lexiconlm.cli.sigmorphon import affix_predict
from lexiconlm.inflection.affix import (
    AFFIX_VARIANTS,
    AffixBaseline,
    AffixConfig,
    edge_scores,
    variant_for_edition,
)
from lexiconlm.io.sigmorphon import read_sigmorphon
from lexiconlm.types import InflectionEntry as E

BUNDLES = ("V;COND;3;SG", "V;PST;3;SG", "V;IND;PRS;3;SG", "V;IPFV;1;PL")


def _albanian_like() -> list[E]:
    """Four verbs: two multi-word forms (``do të lahej``, ``u lahua``), two suffixed ones."""
    out = []
    for stem in ("lah", "kreh", "vesh", "ngrit"):
        lemma = stem + "em"
        out += [
            E(lemma, f"do të {stem}ej", BUNDLES[0]),
            E(lemma, f"u {stem}ua", BUNDLES[1]),
            E(lemma, f"{stem}et", BUNDLES[2]),
            E(lemma, f"{stem}eshim", BUNDLES[3]),
        ]
    return out


def test_multi_word_forms_do_not_vote_for_prefixing_in_the_2023_variant():
    train = _albanian_like()
    new = AffixBaseline("sigmorphon2023.v1").fit(train)
    assert (new.prefixing, new.prefix_score, new.suffix_score) == (False, 0, 12)
    queries = [E("larem", None, b) for b in BUNDLES]
    assert new.predict(queries) == ["do të larej", "u larua", "laret", "lareshim"]
    # the 2022 behaviour, kept under sigmorphon.v1: the lemma's front padding in the
    # multi-word pairs outvotes the suffixes, every string is reversed, and the rules miss
    old = AffixBaseline("sigmorphon.v1").fit(train)
    assert (old.prefixing, old.prefix_score, old.suffix_score) == (True, 32, 12)
    assert old.predict(queries) == ["do të larem", "u larem", "larem", "larem"]


def test_edge_scores_leave_out_pairs_with_a_space_or_hyphen_in_the_form():
    assert edge_scores("lahem", "do të lahej", "pads") is None
    assert edge_scores("lahem", "do-lahej", "pads") is None
    assert edge_scores("lahem", "do të lahej", "lemma-pads") == (6, 0)
    assert edge_scores("lahem", "laheshim", "pads") == (0, 3)


def test_2023_variants_are_registered_beside_the_old_ones():
    assert AFFIX_VARIANTS["sigmorphon2023.v1"] == AffixConfig(bias="pads")
    assert AFFIX_VARIANTS["sigmorphon2023-float.v1"] == AffixConfig(bias="pads", arithmetic="float")
    assert AFFIX_VARIANTS["sigmorphon.v1"] == AffixConfig()  # 2022 figures stay bit-identical
    assert AFFIX_VARIANTS.resolve("sigmorphon")[0] == "sigmorphon.v1"
    assert variant_for_edition("2023") == "sigmorphon2023.v1"
    older = ("2017", "2020", "2021", "2022", None)
    assert [variant_for_edition(e) for e in older] == ["sigmorphon.v1"] * 5


def test_affix_predict_uses_the_2023_variant_for_2023_files(tmp_path: Path):
    train = tmp_path / "sqx.trn"
    text = "".join(f"{e.lemma}\t{e.features}\t{e.form}\n" for e in _albanian_like())
    train.write_text(text, encoding="utf-8")
    covered = tmp_path / "sqx.covered.tst"
    covered.write_text(f"larem\t{BUNDLES[0]}\nlarem\t{BUNDLES[3]}\n", encoding="utf-8")
    out = affix_predict(train, covered, tmp_path / "sqx.pred", edition="2023")
    preds = read_sigmorphon(out, edition="2023").entries
    assert [e.form for e in preds] == ["do të larej", "lareshim"]
    # a named variant still wins
    old = affix_predict(train, covered, tmp_path / "old.pred", edition="2023", variant="sigmorphon.v1")
    forms = [e.form for e in read_sigmorphon(old, edition="2023").entries]
    assert forms == ["do të larem", "larem"]
