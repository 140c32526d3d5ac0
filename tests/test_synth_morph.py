"""Morphological augmentation and the leakage guard (lexiconlm.synth.morph_*, lexiconlm.leakage)."""

from __future__ import annotations

import json

import pytest

from lexiconlm.io.lexicons import read_lexicon
from lexiconlm.io.massive import read_massive, utterance_from_annotation
from lexiconlm.leakage import LeakageError, LeakageGuard, normalise_features
from lexiconlm.synth.english_morph import EnglishAnalyser, english_plural
from lexiconlm.synth.morph_augment import MorphAugmenter, guard_table, morph_file
from lexiconlm.synth.morph_expand import expand_paradigms, write_expansion
from lexiconlm.synth.morph_tags import open_tags
from lexiconlm.synth.pseudo_label import project_utterance
from lexiconlm.synth.target_morph import TargetMorphology
from lexiconlm.synth.translate import LexiconTranslator
from lexiconlm.types import InflectionEntry as E
from lexiconlm.types import InflectionTable, Language, Lexicon, LexiconEntry, Provenance

ENGLISH = [
    E(lemma, form, feats)
    for lemma, forms in {
        "call": ("call", "calls", "called", "calling", "called"),
        "walk": ("walk", "walks", "walked", "walking", "walked"),
        "list": ("list", "lists", "listed", "listing", "listed"),
        "set": ("set", "sets", "set", "setting", "set"),
        "find": ("find", "finds", "found", "finding", "found"),
        "found": ("found", "founds", "founded", "founding", "founded"),
        "play": ("play", "plays", "played", "playing", "played"),
    }.items()
    for feats, form in zip(("V;NFIN", "V;PRS;NOM(3,SG)", "V;PST", "V;V.PTCP;PRS", "V;V.PTCP;PST"), forms)
]

# A toy target: tense + person/number/gender, no participles; lemmas end in -ar.
TARGET_ROWS = [
    ("llamar", "llamar", "V;NFIN"),
    ("llamar", "llamo", "V;1;SG;PRS"),
    ("llamar", "llama", "V;3;SG;PRS"),
    ("llamar", "llamamos", "V;1;PL;PRS"),
    ("llamar", "llamé", "V;1;SG;PST"),
    ("llamar", "llamó", "V;3;SG;PST;MASC"),
    ("llamar", "llamóa", "V;3;SG;PST;FEM"),
    ("llamar", "llamaron", "V;3;PL;PST"),
    ("llamar", "llamaba", "V;3;SG;PST;IPFV"),
    ("andar", "andar", "V;NFIN"),
    ("andar", "anda", "V;3;SG;PRS"),
    ("andar", "andó", "V;3;SG;PST;MASC"),
    ("andar", "andamos", "V;1;PL;PRS"),
    ("cantar", "canta", "V;3;SG;PRS"),
    ("cantar", "cantó", "V;3;SG;PST;MASC"),
    ("lista", "listas", "N;PL"),
    ("lista", "lista", "N;SG"),
    ("casa", "casas", "N;PL"),
]


def table(rows=TARGET_ROWS, code="xyz") -> InflectionTable:
    return InflectionTable(Language(code, "Toy"), tuple(E(*r) for r in rows), Provenance(f"{code}.tsv", "unimorph"))


def lexicon(pairs, code="xyz") -> Lexicon:
    return Lexicon(
        Language("eng", "English", scripts=("Latn",)),
        Language(code, "Toy", scripts=("Latn",)),
        tuple(LexiconEntry(s, t) for s, t in pairs),
        Provenance(f"demo/en_{code}.tsv", "tsv"),
    )


LEX = [
    ("call", "llamar"),
    ("walk", "andar"),
    ("list", "lista"),
    ("play", "jugar"),
    ("me", "yo"),
    ("they", "ellos"),
    ("mom", "mamá"),
]


def test_open_tags_and_normalised_features():
    assert open_tags("V;PRS;NOM(3,SG)") == ("V", "PRS", "3", "SG")
    assert normalise_features("V;PRS;NOM(3,SG)") == normalise_features("V;3;SG;PRS")


def test_english_analyser_choices_are_deterministic():
    a = EnglishAnalyser(ENGLISH)
    assert a.analyse(["they", "called"], 1).features == "V;PST"
    assert a.analyse(["was", "called"], 1).features == "V;V.PTCP;PST"
    assert a.analyse(["she", "calls"], 1).features == "V;PRS;NOM(3,SG)"
    assert a.analyse(["my", "calls"], 1) is None  # after a possessive: a noun
    assert a.analyse(["show", "lists"], 1) is None  # -s without a subject pronoun: a plural noun
    assert a.analyse(["it", "lists"], 1).lemma == "list"
    assert a.analyse(["they", "set"], 1) is None  # also a citation form
    assert a.analyse(["they", "found"], 1) is None  # found (find PST) is also the lemma "found"
    assert a.analyse(["keep", "playing"], 1).features == "V;V.PTCP;PRS"
    assert a.analyse(["the", "playing"], 1) is None
    assert a.analyse(["hello"], 0) is None


def test_feature_mapping_kept_substituted_and_dropped():
    t = TargetMorphology(table())
    m = t.map_features("V;V.PTCP;PST")
    assert m.kept == ("PST",) and m.dropped == ("V.PTCP",)
    assert "dropped: V.PTCP" in m.describe()
    aspect = TargetMorphology(
        table([("kain", "kumain", "V;PFV"), ("kain", "kumakain", "V;IPFV"), ("kain", "kain", "V;NFIN")])
    )
    m2 = aspect.map_features("V;PST")
    assert m2.substituted == (("PST", "PFV"),) and m2.kept == ()
    assert aspect.select("kain", "V;PST").form == "kumain"
    assert aspect.select("kain", "V;V.PTCP;PRS").form == "kumakain"
    none = TargetMorphology(table([("makan", "memakan", "V;ACT"), ("makan", "dimakan", "V;PASS")]))
    assert none.map_features("V;PST").wanted == () and none.select("makan", "V;PST") is None


def test_select_prefers_defaults_and_avoids_conflicts():
    t = TargetMorphology(table())
    c = t.select("llamar", "V;PST")
    assert (c.form, c.features, c.origin) == ("llamó", "V;3;SG;PST;MASC", "table")
    assert t.select("llamar", "V;PRS;NOM(3,SG)").form == "llama"
    # the participle's V.PTCP is dropped (the target has none) and PST kept; of the PST entries
    # the one with the most unmarked defaults (3, SG, MASC) wins
    assert t.select("llamar", "V;V.PTCP;PST").form == "llamó"
    assert t.select("lista", "V;PST") is None  # a noun paradigm is never conjugated


def test_inflector_for_lemmas_missing_from_the_table():
    t = TargetMorphology(table())
    c = t.inflect("hablar", "V;PST")
    assert c is not None and c.origin == "inflector" and c.features == "V;3;SG;PST;MASC" and c.form == "habló"
    assert t.inflect("perro", "V;PST") is None  # does not end like the table's verbs
    assert TargetMorphology(table(), use_inflector=False).inflect("hablar", "V;PST") is None


def test_augmenter_in_label_projection():
    lex = lexicon(LEX)
    tr = LexiconTranslator(lex, sense="first")
    aug = MorphAugmenter(EnglishAnalyser(ENGLISH), lex, TargetMorphology(table()))
    u = utterance_from_annotation("they called [person : mom]", id="1", intent="calendar_query")
    p = project_utterance(u, tr, inflect=aug)
    assert p.utterance.annot_utt == "ellos llamó [person : mamá]"
    assert p.stats.n_morph == 1 and aug.stats.n_table == 1 and aug.stats.n_inflected == 1
    assert aug.stats.examples[0][:6] == ("called", "call", "V;PST", "llamar", "llamó", "V;3;SG;PST;MASC")
    # play -> jugar has no paradigm: the affix model inflects it
    p2 = project_utterance(utterance_from_annotation("they played", id="2", intent="x_y"), tr, inflect=aug)
    assert p2.utterance.text == "ellos jugó" and aug.stats.n_inflector == 1
    # a word the lexicon has as it is is left to the translator
    before = aug.stats.n_in_lexicon
    assert aug(["call"], 0) is None and aug.stats.n_in_lexicon == before + 1


def test_lemma_fallback_when_the_target_does_not_mark_the_features():
    lex = lexicon([("call", "panggil")])
    ind = TargetMorphology(table([("panggil", "memanggil", "V;ACT"), ("panggil", "dipanggil", "V;PASS")]))
    aug = MorphAugmenter(EnglishAnalyser(ENGLISH), lex, ind)
    assert aug(["they", "called"], 1) == "panggil" and aug.stats.n_no_form == 1 and aug.stats.n_inflected == 0
    strict = MorphAugmenter(EnglishAnalyser(ENGLISH), lex, ind, lemma_fallback=False)
    assert strict(["they", "called"], 1) is None


def test_generated_english_forms_for_verbs_the_tables_lack():
    lex = lexicon([("cook", "cantar"), ("dog", "casa")])
    a = EnglishAnalyser(ENGLISH)
    aug = MorphAugmenter(a, lex, TargetMorphology(table()), generate_english=True)
    assert aug.n_generated >= 3  # cook's translation is a verb of the table; dog's is a noun
    assert a.analyse(["they", "cooked"], 1).lemma == "cook"
    assert a.analyse(["they", "dogged"], 1) is None
    assert aug(["they", "cooked"], 1) == "cantó"


def test_paradigm_expansion_round_trip(tmp_path):
    exp = expand_paradigms(lexicon(LEX), EnglishAnalyser(ENGLISH), TargetMorphology(table()))
    pairs = {(x.source, x.target, x.target_features) for x in exp}
    assert ("called", "llamó", "V;3;SG;PST;MASC") in pairs
    assert ("calls", "llama", "V;3;SG;PRS") in pairs
    assert ("walked", "andó", "V;3;SG;PST;MASC") in pairs
    assert not any(x.source_lemma == "list" for x in exp)  # lista is a noun in the table
    path, leaks = write_expansion(exp, tmp_path / "exp.tsv", guard=None)
    back = read_lexicon(path, src="eng", tgt="spa")
    assert [(e.source, e.target, e.pos) for e in back] == [(x.source, x.target, "V") for x in exp]
    assert leaks == []


def _eval_file(tmp_path, rows, name="xyz.tst"):
    p = tmp_path / "2023_part1" / name
    p.parent.mkdir(exist_ok=True)
    p.write_text("".join(f"{lemma}\t{feats}\t{form}\n" for lemma, feats, form in rows), encoding="utf-8")
    return p


def test_leakage_guard_refuses_paradigm_expansion_overlapping_evaluation(tmp_path):
    ev = _eval_file(tmp_path, [("llamar", "V;PST;NOM(3,SG);MASC", "llamó"), ("cantar", "V;PRS;NOM(3,SG)", "canta")])
    guard = LeakageGuard().add_sigmorphon([ev])
    exp = expand_paradigms(lexicon(LEX + [("sing", "cantar")]), EnglishAnalyser(ENGLISH), TargetMorphology(table()))
    with pytest.raises(LeakageError) as err:
        write_expansion(exp, tmp_path / "exp.tsv", guard=guard)
    assert "('llamar', 'V;3;SG;PST;MASC')" in str(err.value) and "xyz.tst" in str(err.value)
    assert not (tmp_path / "exp.tsv").exists()
    path, leaks = write_expansion(exp, tmp_path / "exp.tsv", guard=guard, on_leak="drop")
    assert leaks and all(x.item.startswith("inflection ('llamar'") for x in leaks)
    assert "llamó" not in path.read_text(encoding="utf-8")
    # the table itself holds the evaluation items: refused, or filtered before use
    with pytest.raises(LeakageError, match="UniMorph table xyz.tsv"):
        guard_table(table(), guard)
    clean, dropped = guard_table(table(), guard, on_leak="drop")
    assert len(dropped) == 2 and len(clean.entries) == len(TARGET_ROWS) - 2


def test_leakage_guard_on_utterances_texts_and_forms():
    from lexiconlm.types import Utterance

    g = LeakageGuard().add_utterances([Utterance("42", "Wake me  up", "alarm_set")], source="test/xx.tsv")
    g.add_inflections([E("walk", "walked", "V;PST")], source="eng.dev")
    assert g.find([Utterance("42", "anything", "x")])[0].reason == "is an evaluation id in"
    assert g.find(["wake me up"])[0].source == "test/xx.tsv"
    assert g.find([E("walk", "walked", "V;V.PTCP;PST")])[0].reason.startswith("gives the answer")
    assert g.find([E("walk", "walks", "V;PRS;NOM(3,SG)"), "hello"]) == []
    assert LeakageGuard().find(["wake me up"]) == []
    with pytest.raises(TypeError):
        g.find([3])


def test_morph_file_refuses_leaks_and_writes_nothing(tmp_path):
    src = tmp_path / "train.tsv"
    src.write_text("id\tintent\tannot_utt\n1\tcalendar_query\tthey called [person : mom]\n", encoding="utf-8")
    eng = tmp_path / "eng.trn"
    eng.write_text("".join(f"{e.lemma}\t{e.features}\t{e.form}\n" for e in ENGLISH), encoding="utf-8")
    um = tmp_path / "xyz.tsv"
    um.write_text("".join("\t".join(r) + "\n" for r in TARGET_ROWS), encoding="utf-8")
    lex = tmp_path / "en_xyz.tsv"
    lex.write_text("".join(f"{s}\t{t}\n" for s, t in LEX), encoding="utf-8")
    ev = _eval_file(tmp_path, [("llamar", "V;PST;NOM(3,SG);MASC", "llamó")])
    guard = LeakageGuard().add_sigmorphon([ev])
    out = tmp_path / "out" / "xx.tsv"
    kw = dict(
        lexicon=lex,
        unimorph=um,
        english=[eng],
        locale="es-ES",
        expansion=tmp_path / "out" / "exp.tsv",
        sense="first",
        hygiene=None,
    )
    with pytest.raises(LeakageError):
        morph_file(src, out, guard=guard, **kw)
    assert not (tmp_path / "out").exists()
    res = morph_file(src, out, guard=guard, on_leak="drop", **kw)
    assert len(res.table_leaks) == 1
    u = read_massive(out).utterances[0]
    assert u.annot_utt == "ellos llamóa [person : mamá]"  # llamó was an evaluation answer: the next best form
    assert res.report.exists() and res.expansion.exists() and (tmp_path / "out" / "xx.tsv.signature").exists()
    assert "morph:morph.v1" in (tmp_path / "out" / "xx.tsv.signature").read_text()


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_real_hindi_morphology_on_massive(shared_data):
    from lexiconlm.io.unimorph import read_unimorph
    from lexiconlm.synth.pseudo_label import make_translator, project_utterances

    s23 = shared_data / "sigmorphon" / "2023_part1"
    eng = EnglishAnalyser.from_files([s23 / "eng.trn", s23 / "eng.dev"])
    tr = make_translator(shared_data / "lexicons" / "wiktionary" / "hindi.txt")
    target = TargetMorphology(read_unimorph(shared_data / "unimorph" / "hin.tsv", errors="collect"))
    aug = MorphAugmenter(eng, tr.lexicon, target, generate_english=True)
    src = read_massive(shared_data / "nlu" / "massive" / "en-US" / "train.tsv").utterances[:1500]
    res = project_utterances(src, tr, locale="hi-IN", inflect=aug)
    assert aug.stats.n_inflected >= 20
    assert res.stats.n_morph == aug.stats.n_inflected + aug.stats.n_no_form + aug.stats.n_same_form
    forms = {ex[4] for ex in aug.stats.examples}
    assert any(f.endswith(("ता", "ता है", "ता था", "ा")) for f in forms)
    assert sum(len(p.utterance.slots) for p in res.items) == sum(len(u.slots) for u in src)


@pytest.mark.shared_data
def test_real_amharic_table_overlaps_sigmorphon_evaluation_and_is_refused(shared_data):
    from lexiconlm.io.unimorph import read_unimorph

    s23 = shared_data / "sigmorphon" / "2023_part1"
    guard = LeakageGuard().add_sigmorphon([s23 / "amh.dev", s23 / "amh.tst"])
    amh = read_unimorph(shared_data / "unimorph" / "amh.tsv", errors="collect")
    with pytest.raises(LeakageError) as err:
        guard_table(amh, guard)
    assert len(err.value.leaks) > 500 and "amh.tst" in str(err.value)
    clean, dropped = guard_table(amh, guard, on_leak="drop")
    assert len(clean.entries) + len(dropped) == len(amh.entries)
    assert guard.find(clean.entries) == []


def test_cli_morph_needs_a_guard_decision_and_refuses_leaks(tmp_path):
    import typer
    from typer.testing import CliRunner

    from lexiconlm.cli.synth_label import register
    from lexiconlm.errors import LexiconLMError

    app, sub = typer.Typer(), typer.Typer()
    register(sub)
    app.add_typer(sub, name="synth")
    src = tmp_path / "train.tsv"
    src.write_text("id\tintent\tannot_utt\n1\tcalendar_query\tthey called [person : mom]\n", encoding="utf-8")
    eng = tmp_path / "eng.trn"
    eng.write_text("".join(f"{e.lemma}\t{e.features}\t{e.form}\n" for e in ENGLISH), encoding="utf-8")
    um = tmp_path / "spa.tsv"
    um.write_text("".join("\t".join(r) + "\n" for r in TARGET_ROWS), encoding="utf-8")
    lex = tmp_path / "en_es.tsv"
    lex.write_text("".join(f"{s}\t{t}\n" for s, t in LEX), encoding="utf-8")
    _eval_file(tmp_path, [("llamar", "V;PST;NOM(3,SG);MASC", "llamó")], name="spa.tst")
    out = tmp_path / "out" / "es-ES.tsv"
    base = [
        "synth",
        "morph",
        str(src),
        "-l",
        str(lex),
        "-u",
        str(um),
        "-e",
        str(eng),
        "--locale",
        "es-ES",
        "-o",
        str(out),
        "-x",
        str(tmp_path / "out" / "exp.tsv"),
        "--sense",
        "first",
        "--hygiene",
        "none",
    ]
    r = CliRunner().invoke(app, base)
    assert isinstance(r.exception, LexiconLMError) and "--no-guard" in str(r.exception)
    r = CliRunner().invoke(app, base + ["--guard-sigmorphon", str(tmp_path / "2023_part1")])
    assert isinstance(r.exception, LeakageError) and "spa.tst" in str(r.exception)
    assert not (tmp_path / "out").exists()
    r = CliRunner().invoke(app, base + ["--guard-sigmorphon", str(tmp_path / "2023_part1"), "--on-leak", "drop"])
    assert r.exit_code == 0, r.output
    assert "1 got an inflected form (1 from the table" in r.output
    assert "dropped 1 evaluation item(s)" in r.output
    assert read_massive(out).utterances[0].annot_utt == "ellos llamóa [person : mamá]"
    r = CliRunner().invoke(app, base + ["--no-guard"])
    assert r.exit_code == 0 and read_massive(out).utterances[0].annot_utt == "ellos llamó [person : mamá]"
    src.write_text("id\tintent\tannot_utt\n1\tlists_query\tshow my lists\n", encoding="utf-8")
    r = CliRunner().invoke(app, base + ["--no-guard", "--plural-nouns"])
    assert r.exit_code == 0, r.output
    assert read_massive(out).utterances[0].text == "show my listas"  # "my" is not in the toy lexicon
    assert (
        json.loads(out.with_name(out.name + ".morph.json").read_text(encoding="utf-8"))["english_plural_readings"] == 1
    )
    with open(um, "a", encoding="utf-8") as fh:
        fh.write("a line without tabs\n")
    r = CliRunner().invoke(app, base + ["--no-guard", "--plural-nouns"])
    assert (
        r.exit_code == 0
        and "skipped 1 bad line(s) of the table" in r.output
        and f"spa.tsv:{len(TARGET_ROWS) + 1}" in r.output
    )


def test_english_plural_readings_for_nouns():
    assert [english_plural(w) for w in ("alarm", "city", "day", "box", "match")] == [
        "alarms",
        "cities",
        "days",
        "boxes",
        "matches",
    ]
    a = EnglishAnalyser(ENGLISH)
    assert a.add_plurals(["list", "city", "alarm", "x1"]) == 3  # not alphabetic: skipped
    assert a.analyse(["show", "lists"], 1).features == "N;PL"  # no subject pronoun: the plural noun
    assert a.analyse(["it", "lists"], 1).features == "V;PRS;NOM(3,SG)"  # after a subject: the verb
    assert a.analyse(["my", "lists"], 1).features == "N;PL"  # after a possessive only the plural remains
    assert a.analyse(["my", "calls"], 1) is None  # no plural reading for call: as before
    r = a.analyse(["5", "cities"], 1)
    assert (r.lemma, r.features) == ("city", "N;PL")
    assert a.add_plurals(["list"]) == 0  # already there


def test_plural_nouns_get_the_plain_plural_not_a_possessed_form():
    rows = TARGET_ROWS + [("casa", "casasu", "N;PL;PSSD;PSS3S;MASC"), ("casa", "casa", "N;SG")]
    lex = lexicon(LEX + [("house", "casa"), ("dog", "perro")])
    a = EnglishAnalyser(ENGLISH)
    aug = MorphAugmenter(a, lex, TargetMorphology(table(rows)), plural_nouns=True)
    assert aug.n_plurals == 2  # list, house: translations with a noun paradigm (dog's has none)
    assert aug(["show", "my", "houses"], 2) == "casas"
    assert aug(["show", "lists"], 1) == "listas"
    assert aug(["show", "dogs"], 1) is None
    assert ("eng-pl", "on") in aug.signature_pairs
    plain = MorphAugmenter(EnglishAnalyser(ENGLISH), lex, TargetMorphology(table(rows)))
    assert plain(["show", "my", "houses"], 2) is None and ("eng-pl", "on") not in plain.signature_pairs


def test_without_a_table_inflected_english_words_get_the_translated_lemma():
    lex = lexicon([("alarm", "alarmu"), ("cook", "masak"), ("play", "dolan"), ("me", "aku")])
    a = EnglishAnalyser(ENGLISH)
    aug = MorphAugmenter(a, lex, TargetMorphology(()), generate_english=True, plural_nouns=True)
    assert aug.lemma_only and ("um", "none") in aug.signature_pairs
    assert aug.n_plurals >= 3 and aug.n_generated >= 1  # every lexicon word: no table says verb or noun
    assert aug(["set", "my", "alarms"], 2) == "alarmu"  # a plural the lexicon lacks
    assert aug(["they", "cooked"], 1) == "masak"  # a generated verb form
    assert aug(["they", "played"], 1) == "dolan"  # a form of the English tables
    assert aug(["play"], 0) is None  # the lexicon has it as it is: left to the translator
    assert aug.stats.n_inflected == 0 and aug.stats.n_no_form == 3
    tr = LexiconTranslator(lex, sense="first")
    u = utterance_from_annotation("wake me with [device_type : alarms]", id="1", intent="alarm_set")
    p = project_utterance(u, tr, inflect=aug)
    assert p.utterance.annot_utt == "wake aku with [device_type : alarmu]" and p.stats.n_morph == 1
