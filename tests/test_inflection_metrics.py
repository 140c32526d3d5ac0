"""SIGMORPHON metrics: expected values derived by hand from the official definitions.

Accuracy: percentage of gold items whose prediction equals the gold form (NFC on
both sides). Levenshtein: mean edit distance, every operation costing 1, over
code points after NFC. A gold item without a prediction is scored against "".
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError
from lexiconlm.inflection.metrics import (
    CATEGORIES_2022,
    InflectionScores,
    categorize_2022,
    evaluate,
    evaluate_2022,
    levenshtein,
    macro_average,
    micro_average,
    read_baseline_accuracy_tsv,
    read_baseline_table,
)
from lexiconlm.types import InflectionEntry as E


def test_no_torch_imported():
    # in a fresh interpreter: other tests of the session may have imported torch
    code = (
        "import sys, lexiconlm.inflection, lexiconlm.inflection.metrics, lexiconlm.inflection.affix; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- levenshtein


@pytest.mark.parametrize(
    "a, b, d",
    [
        ("", "", 0),
        ("", "abc", 3),  # three insertions
        ("abc", "", 3),
        ("kitten", "sitting", 3),  # k->s, e->i, +g
        ("flaw", "lawn", 2),  # -f, +n
        ("walked", "walkt", 2),  # e->t, -d  (or -e, d->t)
        ("went", "goed", 4),  # no character can stay aligned cheaper than 4 edits
        ("ab", "ba", 2),
        ("כתבתי", "כתבת", 1),  # Hebrew: one deletion; logical order, direction irrelevant
        ("ሰበረ", "ሰበሩ", 1),  # Ethiopic: each syllable is one code point
        ("q\u0307", "q", 1),  # a combining mark without precomposed form is a character
    ],
)
def test_levenshtein_values(a, b, d):
    assert levenshtein(a, b) == d
    assert levenshtein(b, a) == d


def _reference_distance(a: str, b: str) -> int:
    """Full-matrix textbook dynamic programme (Wagner-Fischer)."""
    m = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        m[i][0] = i
    for j in range(len(b) + 1):
        m[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            m[i][j] = min(m[i - 1][j] + 1, m[i][j - 1] + 1, m[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return m[len(a)][len(b)]


words = st.text(alphabet="abcé\u0301אבጀ ", max_size=9)


@settings(max_examples=300, deadline=None)
@given(words, words, words)
def test_levenshtein_is_a_metric_and_matches_reference(a, b, c):
    dab = levenshtein(a, b)
    assert dab == _reference_distance(a, b)
    assert dab == levenshtein(b, a)  # symmetry
    assert (dab == 0) == (a == b)  # identity of indiscernibles
    assert levenshtein(a, a) == 0
    assert levenshtein(a, c) <= dab + levenshtein(b, c)  # triangle inequality
    assert abs(len(a) - len(b)) <= dab <= max(len(a), len(b))


# --------------------------------------------------------------------------- evaluate

GOLD = [
    E("walk", "walked", "V;PST"),
    E("go", "went", "V;PST"),
    E("sing", "sang", "V;PST"),
    E("run", "ran", "V;PST"),
]


def test_evaluate_hand_computed():
    pred = [
        E("walk", "walked", "V;PST"),  # right, 0
        E("go", "goed", "V;PST"),  # wrong, distance 4
        E("sing", "singed", "V;PST"),  # wrong: sang->singed = a->i, +e,+d ... = 3
        # run: missing -> "" : distance 3
    ]
    s = evaluate(GOLD, pred)
    assert (s.n, s.n_correct, s.n_missing, s.n_extra) == (4, 1, 1, 0)
    assert s.accuracy == 25.0
    assert levenshtein("sang", "singed") == 3
    assert s.levenshtein == (0 + 4 + 3 + 3) / 4
    assert s.distance == 10


def test_mapping_and_positional_list_give_the_same_scores():
    forms = ["walked", "goed", "sang", "runned"]
    by_key = {g.key: f for g, f in zip(GOLD, forms)}
    entries = [E(g.lemma, f, g.features) for g, f in zip(GOLD, forms)]
    assert evaluate(GOLD, forms) == evaluate(GOLD, by_key) == evaluate(GOLD, entries[::-1])
    assert evaluate(GOLD, forms).accuracy == 50.0


def test_every_prediction_missing_scores_the_gold_length():
    s = evaluate(GOLD, {})
    assert s.accuracy == 0.0 and s.n_missing == 4
    assert s.levenshtein == (6 + 4 + 4 + 3) / 4


def test_none_form_in_predictions_counts_as_missing():
    s = evaluate([E("a", "ab", "X")], {("a", "X"): None})
    assert s.n_missing == 1 and s.levenshtein == 2.0


def test_extra_predictions_are_ignored_and_counted():
    pred = [E(g.lemma, g.form, g.features) for g in GOLD] + [
        E("walk", "walks", "V;PRS;3;SG"),  # key not in gold
        E("fly", "flew", "V;PST"),
    ]
    s = evaluate(GOLD, pred)
    assert s.accuracy == 100.0 and s.n == 4 and s.n_extra == 2


def test_empty_gold_form_and_empty_prediction():
    gold = [E("x", "", "V;NFIN"), E("y", "ab", "V")]
    s = evaluate(gold, ["", ""])
    # "" == "" is correct; "" vs "ab" costs 2 (the prediction exists, so it is not missing)
    assert (s.n_correct, s.n_missing, s.levenshtein) == (1, 0, 1.0)


def test_decomposed_and_precomposed_accents_are_equal():
    pre = "caf\u00e9"  # é precomposed
    dec = "cafe\u0301"  # e + combining acute
    assert pre != dec and unicodedata.normalize("NFC", dec) == pre
    s = evaluate([E("caf", pre, "N")], [E("caf", dec, "N")])
    assert s.accuracy == 100.0 and s.levenshtein == 0.0
    # keys are normalised too: a decomposed lemma still finds its gold item
    s = evaluate([E(pre, pre + "s", "N;PL")], {(dec, "N;PL"): dec + "s"})
    assert s.accuracy == 100.0 and s.n_missing == 0
    # é vs è: one substitution after NFC (not two code points of which one differs)
    s = evaluate([E("a", "e\u0301", "X")], ["e\u0300"])
    assert s.levenshtein == 1.0


def test_rtl_hebrew_and_ethiopic():
    gold = [E("כתב", "כתבתי", "V;PST;1;SG"), E("ሰበረ", "ሰበሩ", "V;PST;3;PL")]
    s = evaluate(gold, ["כתבת", "ሰበሩ"])
    assert s.accuracy == 50.0 and s.levenshtein == 0.5


def test_combining_marks_count_as_characters():
    # Arabic: a short vowel (combining fatha) missing from the prediction is one edit
    gold = [E("كتب", "كَتَبَ", "V;PST")]
    s = evaluate(gold, ["كَتَب"])
    assert s.levenshtein == 1.0 and s.accuracy == 0.0


def test_duplicate_gold_keys_rows_and_collapse():
    gold = [E("a", "f1", "X"), E("a", "f2", "X"), E("b", "g", "X")]
    one = {("a", "X"): "f1", ("b", "X"): "g"}
    rows = evaluate(gold, one)
    assert (rows.n, rows.n_correct) == (3, 2)  # both "a" rows compared with "f1"
    coll = evaluate(gold, one, duplicates="collapse")
    assert (coll.n, coll.n_correct) == (2, 1)  # one "a" item whose gold is the last row, "f2"
    # two predictions for the key pair with the two gold rows in order
    both = [E("a", "f1", "X"), E("a", "f2", "X"), E("b", "g", "X")]
    assert evaluate(gold, both).n_correct == 3
    assert evaluate(gold, both, duplicates="collapse").n_correct == 2  # last prediction "f2" vs "f2"
    # more predictions than gold rows: the surplus is extra
    assert evaluate(gold, both + [E("a", "f3", "X")]).n_extra == 1


def test_bad_inputs_raise_clearly():
    with pytest.raises(ValueError, match="no form"):
        evaluate([E("a", None, "X")], ["a"])
    with pytest.raises(ValueError, match="one form per gold item"):
        evaluate(GOLD, ["x"])
    with pytest.raises(ValueError, match="duplicates"):
        evaluate(GOLD, [], duplicates="first")
    with pytest.raises(TypeError):
        evaluate(GOLD, [("walk", "walked", "V;PST")])


def test_empty_gold_gives_zero_with_n_zero():
    s = evaluate([], [])
    assert (s.n, s.accuracy, s.levenshtein) == (0, 0.0, 0.0)


# --------------------------------------------------------------------------- 2022 categories

TRAIN = [E("a", "a1", "X"), E("b", "b1", "Y")]


def test_categories_follow_the_definition():
    gold = [
        E("a", "a2", "Y"),  # lemma seen, bundle seen (in another pair): both
        E("a", "a3", "Z"),  # lemma only
        E("c", "c1", "X"),  # bundle only
        E("d", "d1", "Z"),  # neither
        E("b", "b1", "Y"),  # the same pair as in train: both
    ]
    assert categorize_2022(gold, TRAIN) == ["both", "lemma", "feats", "unseen", "both"]
    r = evaluate_2022(gold, ["a2", "x", "c1", "d1", "b1"], TRAIN)
    assert set(r) == {"all", *CATEGORIES_2022}
    assert (r["all"].n, r["all"].n_correct) == (5, 4)
    assert (r["both"].n, r["both"].accuracy) == (2, 100.0)
    assert (r["lemma"].n, r["lemma"].accuracy) == (1, 0.0)
    assert (r["feats"].n, r["feats"].accuracy) == (1, 100.0)
    assert (r["unseen"].n, r["unseen"].accuracy) == (1, 100.0)
    assert sum(r[c].n for c in CATEGORIES_2022) == r["all"].n


def test_category_with_no_items_is_zero_like_the_official_tables():
    r = evaluate_2022([E("a", "a2", "X")], ["a2"], TRAIN)
    assert r["unseen"].n == 0 and r["unseen"].accuracy == 0.0


def test_categories_compare_nfc():
    train = [E("cafe\u0301", "x", "N")]
    assert categorize_2022([E("caf\u00e9", "y", "N")], train) == ["both"]


# --------------------------------------------------------------------------- averages


def test_micro_and_macro_average():
    a = InflectionScores.from_counts(n=10, n_correct=5, distance=10)
    b = InflectionScores.from_counts(n=30, n_correct=30, distance=0)
    empty = InflectionScores.from_counts(n=0, n_correct=0, distance=0)
    mic = micro_average([a, b, empty])
    assert (mic.n, mic.n_correct, mic.accuracy, mic.levenshtein) == (40, 35, 87.5, 0.25)
    mac = macro_average([a, b, empty])
    assert (mac.accuracy, mac.levenshtein, mac.n_sets) == (75.0, 0.5, 2)
    assert macro_average([a, b, empty], skip_empty=False).n_sets == 3
    assert macro_average([]).n_sets == 0


# --------------------------------------------------------------------------- table readers

OFFICIAL_LAYOUT = (
    "Lang\t\tall acc\tboth\tlemma\tfeats\tunseen\t\t#total\t#both\t#lemma\t#feats\t#unseen\n"
    "ang_large\t42.148\t76.395\t15.291\t65.833\t31.183\t\t866\t233\t327\t120\t186\n"
    "bra_small\t56.438\t0\t8.511\t0\t73.063\t\t365\t0\t94\t0\t271\n"
    "LARGE\t\t34.419\t68.042\t5.787\t67.059\t17.881\n"
    "TOTAL\t\t31.423\t63.918\t5.616\t61.578\t15.877\n"
)


def test_read_baseline_table_official_layout(tmp_path):
    f = tmp_path / "part1_nonneural_dev.txt"
    f.write_text(OFFICIAL_LAYOUT, encoding="utf-8")
    t = read_baseline_table(f)
    assert list(t) == ["ang_large", "bra_small", "LARGE", "TOTAL"]
    assert t["ang_large"]["all acc"] == 42.148 and t["ang_large"]["#total"] == 866
    assert t["bra_small"]["both"] == 0.0 and isinstance(t["bra_small"]["#both"], int)
    assert t["TOTAL"] == {"all acc": 31.423, "both": 63.918, "lemma": 5.616, "feats": 61.578, "unseen": 15.877}


def test_read_baseline_table_reports_every_bad_line(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text(
        OFFICIAL_LAYOUT.splitlines()[0] + "\nx_small\t1.0\t2.0\ny_small\t1.0\tabc\t3\t4\t5\t\t1\t1\t0\t0\t0\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFormatError) as err:
        read_baseline_table(f)
    assert [p.line for p in err.value.errors] == [2, 3]


def test_read_baseline_accuracy_tsv(tmp_path):
    f = tmp_path / "acc.tsv"
    f.write_text("lang\tn_test\tsys-a\tsys-b\nail\t263\t12.17\t11.79\nbad\t1\t2\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=":3:"):
        read_baseline_accuracy_tsv(f)
    f.write_text("lang\tn_test\tsys-a\tsys-b\nail\t263\t12.17\t11.79\n", encoding="utf-8")
    assert read_baseline_accuracy_tsv(f) == {"ail": {"n_test": 263, "sys-a": 12.17, "sys-b": 11.79}}


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_real_tables_read(shared_data):
    base = shared_data / "sigmorphon"
    t = read_baseline_table(base / "2022_part1" / "baseline_results" / "part1_nonneural_dev.txt")
    settings_ = [s for s, row in t.items() if "#total" in row]
    assert len(settings_) == 53 and {"LARGE", "SMALL", "TOTAL"} <= set(t)
    # the summary rows are micro averages: all predictions of a partition pooled
    pooled = sum(t[s]["all acc"] * t[s]["#total"] for s in settings_) / sum(t[s]["#total"] for s in settings_)
    assert round(pooled, 3) == t["TOTAL"]["all acc"]
    acc = read_baseline_accuracy_tsv(base / "2021_task0" / "baseline_accuracy_computed.tsv")
    assert len(acc) == 38 and acc["ail"]["n_test"] == 263


@pytest.mark.shared_data
def test_category_counts_match_the_official_table(shared_data):
    """The #both/#lemma/#feats/#unseen columns validate the category definition."""
    from lexiconlm.io.sigmorphon import read_sigmorphon

    folder = shared_data / "sigmorphon" / "2022_part1"
    table = read_baseline_table(folder / "baseline_results" / "part1_nonneural_dev.txt")
    dev_cache: dict[str, list] = {}
    mismatches = {}
    for setting, row in table.items():
        if "#total" not in row:
            continue
        lang = setting.split("_")[0]
        if lang not in dev_cache:
            dev_cache[lang] = list(read_sigmorphon(folder / f"{lang}.dev", errors="collect").entries)
        train = read_sigmorphon(folder / f"{setting}.train", errors="collect").entries
        cats = categorize_2022(dev_cache[lang], train)
        got = (len(cats), *(cats.count(c) for c in CATEGORIES_2022))
        want = (row["#total"], row["#both"], row["#lemma"], row["#feats"], row["#unseen"])
        if got != want:
            mismatches[setting] = (got, want)
    # 52 of 53 settings agree exactly; in mag_small one dev item whose lemma occurs in
    # mag_small.train is counted as unseen by the official table (data-version difference).
    assert mismatches == {"mag_small": ((215, 0, 80, 0, 135), (215, 0, 79, 0, 136))}
