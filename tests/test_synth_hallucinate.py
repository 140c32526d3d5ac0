"""Hallucination augmentation (Anastasopoulos & Neubig 2019): stems replaced, affixes kept, seeded, leak-proof."""

from __future__ import annotations

import sys

import pytest

from lexiconlm.cli.main import main
from lexiconlm.inflection.hallucinate import (
    HallucinationStats,
    alphabet_of,
    check_training_data,
    hallucinate,
    hallucinate_pair,
    stem_spans,
)
from lexiconlm.leakage import LeakageError, LeakageGuard
from lexiconlm.types import InflectionEntry as E

TRAIN = [
    E("schielen", "geschielt", "V;V.PTCP;PST"),
    E("walken", "gewalkt", "V;V.PTCP;PST"),
    E("kaufen", "kauft", "V;IND;PRS;3;SG"),
    E("ab", "abab", "N;PL"),  # no stem of 3 characters
]


def test_stem_spans_find_the_shared_stem_in_both_strings():
    assert stem_spans("schielen", "geschielt") == [((0, 6), (2, 8))]
    assert stem_spans("kaufen", "kauft") == [((0, 4), (0, 4))]
    assert stem_spans("ab", "abab") == []
    assert stem_spans("ab", "abab", min_stem=2) == [((0, 2), (0, 2))]


def test_hallucinated_pairs_keep_affixes_and_features_and_replace_the_stem():
    out = hallucinate(TRAIN, n=60, seed=3)
    assert len(out) == 60
    letters = set(alphabet_of(TRAIN))
    for e in out:
        assert set(e.lemma) <= letters and set(e.form) <= letters
        if e.features == "V;V.PTCP;PST":
            # ge + stem + t from lemma stem + en
            assert e.form.startswith("ge") and e.lemma.endswith("en") and e.form.endswith("t")
            assert e.form[2:-1] == e.lemma[:-2]
        else:
            assert e.features == "V;IND;PRS;3;SG"
            assert e.lemma.endswith("en") and e.form == e.lemma[:4] + "t"
    assert not {(e.lemma, e.features) for e in out} & {(e.lemma, e.features) for e in TRAIN}
    assert len({(e.lemma, e.features) for e in out}) == 60  # no duplicates


def test_seeded_and_deterministic():
    a = hallucinate(TRAIN, n=20, seed=7)
    assert a == hallucinate(TRAIN, n=20, seed=7)
    assert a != hallucinate(TRAIN, n=20, seed=8)


def test_stats_and_signature():
    st = HallucinationStats()
    hallucinate(TRAIN, n=5, seed=1, stats=st)
    assert (st.n_generated, st.n_pairs_with_stem, st.n_pairs_without_stem) == (5, 3, 1)
    assert st.signature == "hallucinate.v1|n:5|min_stem:3|seed:1"
    assert hallucinate([E("ab", "abab", "N;PL")], n=5) == []


def test_training_data_with_an_evaluation_item_is_refused():
    guard = LeakageGuard().add_inflections([E("walken", None, "V;V.PTCP;PST")], source="deu.tst")
    with pytest.raises(LeakageError, match="deu.tst"):
        hallucinate(TRAIN, n=5, guard=guard)
    with pytest.raises(LeakageError, match="walken"):
        check_training_data(TRAIN, guard, what="extra training")
    check_training_data(TRAIN[2:], guard)  # clean: no error


def test_hallucinated_items_that_hit_the_guard_are_redrawn_never_returned():
    # one-letter alphabet: every hallucination of "kaufen" is "aaaaen"/"aaaat"; guard that key
    train = [E("kaufen", "kauft", "V;3;SG"), E("walken", "walkt", "V;3;SG")]
    guard = LeakageGuard().add_inflections([E("aaaaen", None, "V;3;SG")], source="dev")
    st = HallucinationStats()
    out = hallucinate(train, n=3, seed=0, alphabet=["a", "b"], guard=guard, stats=st)
    assert all((e.lemma, e.features) != ("aaaaen", "V;3;SG") for e in out)
    assert guard.find(out) == []
    st2 = HallucinationStats()
    out2 = hallucinate(train, n=2, seed=0, alphabet=["a"], guard=guard, stats=st2, max_tries_per_item=5)
    # "walken" gives "aaaaen" too: every draw leaks, so nothing comes back, and the draws are counted
    assert out2 == [] and st2.n_leaks_redrawn + st2.n_duplicates_redrawn == 10 and st2.n_leaks_redrawn > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="no form"):
        hallucinate_pair(E("a", None, "N"), ["a"], __import__("random").Random(0))
    with pytest.raises(ValueError):
        hallucinate(TRAIN, n=-1)


def test_does_not_import_torch():
    import subprocess

    code = "import lexiconlm.inflection.hallucinate, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cli_hallucinate_with_guard(tmp_path, capsys):
    folder = tmp_path / "2022_part1"
    folder.mkdir()
    train = folder / "deu_small.train"
    train.write_text("".join(f"{e.lemma}\t{e.form}\t{e.features}\n" for e in TRAIN), encoding="utf-8")
    dev = folder / "deu.dev"
    dev.write_text("laufen\tlauft\tV;IND;PRS;3;SG\n", encoding="utf-8")
    out = tmp_path / "hall.train"
    assert main(["sigmorphon", "hallucinate", "-t", str(train), "-g", str(dev), "-o", str(out), "--n", "10"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 10 and all(len(x.split("\t")) == 3 for x in lines)
    dev.write_text("walken\tgewalkt\tV;V.PTCP;PST\n", encoding="utf-8")
    before = out.read_text(encoding="utf-8")
    assert main(["sigmorphon", "hallucinate", "-t", str(train), "-g", str(dev), "-o", str(out), "--n", "10"]) != 0
    assert "walken" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == before  # nothing written


def test_syncretism_in_training_data_is_not_leakage():
    # the training pair has the dev item's form under *other* features: allowed (key-based refusal)
    guard = LeakageGuard().add_inflections([E("cræftiga", "cræftigan", "N;GEN;SG")], source="ang.dev")
    train = [E("cræftiga", "cræftigan", "N;ACC;PL"), E("stenga", "stengan", "N;ACC;PL")]
    check_training_data(train, guard)
    assert len(hallucinate(train, n=3, guard=guard)) == 3
    with pytest.raises(LeakageError, match="N;GEN;SG"):
        check_training_data([E("cræftiga", "x", "N;GEN;SG")], guard)
