"""Label projection of MASSIVE-style utterances through a lexicon (lexiconlm.synth.pseudo_label)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lexiconlm.errors import DataFormatError
from lexiconlm.io.locate import find_lexicons, lexicon_source
from lexiconlm.io.massive import (
    parse_annotation,
    read_massive,
    utterance_from_annotation,
    write_massive_jsonl,
    write_massive_tsv,
)
from lexiconlm.synth.pseudo_label import (
    PROJECTION,
    ProjectionStats,
    check_projection,
    detect_labelled_format,
    label_file,
    project_massive_file,
    project_utterance,
    project_utterances,
)
from lexiconlm.synth.translate import LexiconTranslator
from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance, Utterance

ENG = Language("eng", "English", scripts=("Latn",))
IND = Language("ind", "Indonesian", scripts=("Latn",))
JPN = Language("jpn", "Japanese", scripts=("Jpan",))
THA = Language("tha", "Thai", scripts=("Thai",))


def lexicon(pairs, tgt=IND, name="demo/en-x.tsv") -> Lexicon:
    return Lexicon(ENG, tgt, tuple(LexiconEntry(s, t) for s, t in pairs), Provenance(name, "tsv"))


def translator(pairs, tgt=IND, **kw) -> LexiconTranslator:
    kw.setdefault("sense", "first")
    return LexiconTranslator(lexicon(pairs, tgt), **kw)


def utt(annot: str, id: str = "1", intent: str = "alarm_set", partition: str = "train") -> Utterance:
    return utterance_from_annotation(annot, id=id, intent=intent, locale="en-US", partition=partition)


def assert_exact(src: Utterance, out: Utterance) -> None:
    """Every projected value is text[start:end], labels match the source in order, and the annotation parses back."""
    assert check_projection(src, out) == []
    text, _, slots = parse_annotation(out.annot_utt, out.text)
    assert text == out.text
    assert [s.label for s in slots] == [s.label for s in src.slots]
    for s in out.slots:
        assert s.value and out.text[s.start : s.end] == s.value


BASIC = [
    ("wake", "bangun"),
    ("me", "saya"),
    ("up", "atas"),
    ("at", "pada"),
    ("nine", "sembilan"),
    ("am", "pagi"),
    ("play", "putar"),
    ("song", "lagu baru"),
    ("new york", "nyc"),
    ("weather", "cuaca"),
    ("the", "itu"),
    ("in", "di"),
    ("friday", "jumat"),
]


def test_slot_value_translated_and_offsets_exact():
    src = utt("wake me up at [time : nine am] on [date : friday]")
    p = project_utterance(src, translator(BASIC), locale="id-ID")
    out = p.utterance
    assert out.annot_utt == "bangun saya atas pada [time : sembilan pagi] on [date : jumat]"
    assert_exact(src, out)
    assert (out.id, out.intent, out.partition, out.locale) == ("1", "alarm_set", "train", "id-ID")
    assert p.stats == ProjectionStats(n_words=8, n_replaced=7, n_slots=2, n_slots_translated=2, n_slots_partial=2)
    assert dict(out.extra) == {"lex_words": '"7/8"', "lex_slots": '"2/2"'}


def test_one_to_many_inside_a_slot():
    src = utt("play [song_name : song] please", intent="play_music")
    out = project_utterance(src, translator(BASIC)).utterance
    assert out.annot_utt == "putar [song_name : lagu baru] please"
    assert out.slots[0].value == "lagu baru"
    assert out.bio == ("O", "B-song_name", "I-song_name", "O")
    assert_exact(src, out)


def test_many_to_one_inside_a_slot():
    src = utt("weather in [place_name : new york]", intent="weather_query")
    p = project_utterance(src, translator(BASIC))
    assert p.utterance.annot_utt == "cuaca di [place_name : nyc]"
    assert p.utterance.bio == ("O", "O", "B-place_name")
    assert p.stats.n_replaced == 4 and p.stats.n_slots_translated == 1
    assert_exact(src, p.utterance)


def test_multiword_entry_never_crosses_a_slot_boundary():
    tr = translator([("at nine", "JAM9"), ("nine", "sembilan"), ("at", "pada")])
    src = utt("wake me at [time : nine] now")
    out = project_utterance(src, tr).utterance
    assert "JAM9" not in out.text
    assert out.annot_utt == "wake me pada [time : sembilan] now"
    # the same words outside a slot do match the multi-word entry
    assert project_utterance(utt("wake me at nine"), tr).utterance.text == "wake me JAM9"


def test_dropped_words_and_slot_that_loses_every_word_keeps_its_source_words():
    tr = translator(BASIC, oov="drop")
    src = utt("olly wake me at [time : quarter past] on [date : friday]")
    p = project_utterance(src, tr)
    out = p.utterance
    assert out.annot_utt == "bangun saya pada [time : quarter past] [date : jumat]"
    assert [s.label for s in out.slots] == ["time", "date"]
    assert p.stats.n_slots_restored == 1
    assert p.stats.n_slots_translated == 1
    assert_exact(src, out)


def test_dropped_word_before_punctuation_leaves_no_space():
    tr = translator(BASIC, oov="drop")
    out = project_utterance(utt("wake me olly?"), tr).utterance
    assert out.text == "bangun saya?"


@pytest.mark.parametrize(
    "annot",
    [
        "[date : friday] wake me",
        "wake me [date : friday]",
        "[date : friday]",
        "wake me at [time : nine am] [date : friday]",
        "wake me at [time : nine am][date : friday]",
        "[time : nine am] [date : friday] [place_name : new york]",
        "[date : friday]'s weather",
        "wake me, at [time : nine am].",
    ],
)
def test_slot_positions(annot):
    src = utt(annot)
    out = project_utterance(src, translator(BASIC)).utterance
    assert_exact(src, out)
    assert len(out.slots) == len(src.slots)


def test_glued_and_spaced_adjacent_slots_keep_their_spacing():
    tr = translator(BASIC)
    assert project_utterance(utt("[time : nine am][date : friday]"), tr).utterance.text == "sembilan pagijumat"
    assert project_utterance(utt("[time : nine am] [date : friday]"), tr).utterance.text == "sembilan pagi jumat"


def test_casing_is_looked_up_lowercased_and_restored():
    src = utt("Play [song_name : Song] at [time : NINE]", intent="play_music")
    out = project_utterance(src, translator(BASIC)).utterance
    assert out.annot_utt == "Putar [song_name : Lagu baru] pada [time : SEMBILAN]"
    assert_exact(src, out)
    exact = translator(BASIC, lowercase_lookup=False)
    assert project_utterance(src, exact).utterance.annot_utt == "Play [song_name : Song] pada [time : NINE]"


@pytest.mark.parametrize(
    "tgt,pairs,text",
    [
        (
            JPN,
            [("wake", "起こす"), ("me", "私を"), ("nine", "九"), ("am", "時"), ("friday", "金曜日")],
            "私を起こす九時金曜日",
        ),
        (
            Language("cmn", "Mandarin", scripts=("Hans",)),
            [("wake", "叫醒"), ("me", "我"), ("nine", "九"), ("am", "点"), ("friday", "周五")],
            "我叫醒九点周五",
        ),
        (THA, [("wake", "ปลุก"), ("me", "ฉัน"), ("nine", "เก้า"), ("am", "โมง"), ("friday", "ศุกร์")], "ฉันปลุกเก้าโมงศุกร์"),
    ],
)
def test_scripts_without_spaces_offsets_stay_exact(tgt, pairs, text, tmp_path):
    tr = translator(pairs, tgt=tgt, oov="drop")
    src = utt("me wake at [time : nine am] on [date : friday]")
    out = project_utterance(src, tr).utterance
    assert out.text == text
    assert_exact(src, out)
    # MASSIVE ja-JP/zh-CN style: spaces around the brackets in the annotation only
    assert " [time : " in out.annot_utt and "] [date : " in out.annot_utt
    assert out.bio[-2:] == ("B-time", "B-date")
    path = write_massive_tsv([out], tmp_path / "x.tsv")
    back = read_massive(path).utterances[0]
    assert (back.text, back.slots, back.annot_utt) == (out.text, out.slots, out.annot_utt)
    # joining with spaces instead (as MASSIVE th-TH does)
    spaced = project_utterance(src, tr, script="").utterance
    assert " " in spaced.text and spaced.text.replace(" ", "") == text
    assert_exact(src, spaced)


def test_mixed_script_output_keeps_spaces_next_to_latin_words():
    tr = translator([("wake", "ปลุก"), ("me", "ฉัน")], tgt=THA)
    out = project_utterance(utt("wake me olly at [time : seven]"), tr).utterance
    assert out.text == "ปลุกฉัน olly at seven"
    assert out.annot_utt == "ปลุกฉัน olly at [time : seven]"


def test_round_trip_through_tsv_and_jsonl(tmp_path):
    tr = translator(BASIC)
    srcs = [
        utt("wake me up at [time : nine am] on [date : friday]", id="1"),
        utt("play [song_name : song]", id="2", intent="play_music"),
        utt("weather in [place_name : new york]?", id="3", intent="weather_query", partition="dev"),
        utt("olly quiet", id="4", intent="audio_volume_mute"),
    ]
    res = project_utterances(srcs, tr, locale="id-ID")
    outs = [p.utterance for p in res.items]
    for name, writer in (("id-ID.tsv", write_massive_tsv), ("id-ID.jsonl", write_massive_jsonl)):
        back = read_massive(writer(outs, tmp_path / name)).utterances
        assert [(u.id, u.intent, u.text, u.slots, u.partition, u.locale) for u in back] == [
            (u.id, u.intent, u.text, u.slots, u.partition, u.locale) for u in outs
        ]
        assert [dict(u.extra)["lex_words"].strip('"') for u in back] == ["7/8", "2/2", "4/4", "0/2"]
    assert res.stats.n_utterances == 4
    assert res.signature.startswith("lex:demo/en-x.tsv|sense:first.v1|oov:keep|seed:13|hyg:none|")
    assert f"proj:{PROJECTION}" in res.signature


def test_output_of_an_utterance_does_not_depend_on_order():
    pairs = [("wake", "bangun"), ("wake", "jaga"), ("wake", "tangi"), ("me", "saya"), ("me", "aku")]
    tr = translator(pairs, sense="random", seed=5)
    a, b = utt("wake me", id="a"), utt("wake me now", id="b")
    first = {p.utterance.id: p.utterance.text for p in project_utterances([a, b], tr).items}
    second = {p.utterance.id: p.utterance.text for p in project_utterances([b, a], tr).items}
    assert first == second


def test_morphology_hook_is_used_for_words_the_lexicon_lacks():
    def hook(tokens, i):
        return {"called": "menelepon"}.get(tokens[i].lower())

    src = utt("she Called [person : me]", intent="calendar_query")
    p = project_utterance(src, translator(BASIC), inflect=hook)
    assert p.utterance.annot_utt == "she Menelepon [person : saya]"
    assert p.stats.n_morph == 1 and p.stats.n_replaced == 2


def test_file_projection_writes_output_and_signature(tmp_path):
    src = tmp_path / "en-US" / "train.tsv"
    src.parent.mkdir()
    src.write_text(
        "id\tintent\tannot_utt\n1\talarm_set\twake me at [time : nine am]\n2\tplay_music\tplay [song_name : song]\n",
        encoding="utf-8",
    )
    assert detect_labelled_format(src) == "massive"
    res = project_massive_file(src, tmp_path / "id-ID.train.tsv", translator(BASIC), locale="id-ID")
    assert (
        res.output.read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("1\talarm_set\tbangun saya pada [time : sembilan pagi]")
    )
    assert (tmp_path / "id-ID.train.tsv.signature").read_text().strip() == res.signature
    back = read_massive(res.output)
    assert [u.locale for u in back] == ["id-ID", "id-ID"] and [u.partition for u in back] == ["train", "train"]


BAD_MASSIVE = (
    "id\tintent\tannot_utt\n"
    "1\talarm_set\twake me at [time : nine am]\n"
    "2\talarm_set\twake me at [time : nine am\n"
    "3\tplay_music\tplay song : x]\n"
    "4\tplay_music\tplay [song_name : a [b] c]\n"
)


def test_mismatched_brackets_name_every_line_and_write_nothing(tmp_path):
    src = tmp_path / "bad.tsv"
    src.write_text(BAD_MASSIVE, encoding="utf-8")
    out = tmp_path / "out.tsv"
    lex = tmp_path / "en_id.tsv"
    lex.write_text("wake\tbangun\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        label_file(src, out, lexicon=lex, locale="id-ID")
    msg = str(err.value)
    for line in (3, 4, 5):
        assert f"bad.tsv:{line}: error" in msg
    assert "unclosed '['" in msg and "unmatched ']'" in msg
    assert not out.exists() and not (tmp_path / "out.tsv.signature").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tsv", "en_id.tsv"]


def _cli():
    import typer

    from lexiconlm.cli.synth_label import register

    app = typer.Typer()
    sub = typer.Typer()
    register(sub)
    app.add_typer(sub, name="synth")
    return app


def test_cli_label_massive_and_bad_input(tmp_path):
    from typer.testing import CliRunner

    src = tmp_path / "train.tsv"
    src.write_text("id\tintent\tannot_utt\n1\talarm_set\twake me at [time : nine am]\n", encoding="utf-8")
    lex = tmp_path / "en_id.tsv"
    lex.write_text("wake\tbangun\nnine\tsembilan\n", encoding="utf-8")
    out = tmp_path / "out" / "id-ID.tsv"
    r = CliRunner().invoke(
        _cli(), ["synth", "label", str(src), "-l", str(lex), "--locale", "id-ID", "-o", str(out), "--sense", "first"]
    )
    assert r.exit_code == 0, r.output
    assert "1 items: 2/5 words translated" in r.output
    assert read_massive(out).utterances[0].annot_utt == "bangun me at [time : sembilan am]"
    bad = tmp_path / "bad.tsv"
    bad.write_text(BAD_MASSIVE, encoding="utf-8")
    r = CliRunner().invoke(
        _cli(), ["synth", "label", str(bad), "-l", str(lex), "--locale", "id-ID", "-o", str(tmp_path / "b.tsv")]
    )
    assert r.exit_code != 0 and isinstance(r.exception, DataFormatError)
    assert not (tmp_path / "b.tsv").exists()


def test_find_lexicons_through_the_catalog(tmp_path):
    wik, gat = tmp_path / "wiktionary", tmp_path / "gatitos"
    wik.mkdir()
    gat.mkdir()
    for name in (
        "javanese.txt",
        "swahili.txt",
        "malay.txt",
        "norwegian.txt",
        "norwegian_bokmål.txt",
        "mon.txt",
        "README.txt",
    ):
        (wik / name).write_text("water\tx\n", encoding="utf-8")
    for name in ("en_sw.tsv", "en_ms-Arab.tsv", "en_jv.tsv", "languages.tsv"):
        (gat / name).write_text("water\tx\n", encoding="utf-8")

    def names(q, **kw):
        return [p.name for p in find_lexicons(q, [wik, gat], **kw)]

    assert names("jv-ID") == ["javanese.txt", "en_jv.tsv"]
    assert names("sw-KE") == ["swahili.txt", "en_sw.tsv"]
    assert names("ms-MY") == ["malay.txt"]  # not the Jawi (Arabic-script) GATITOS file
    assert names("ms-MY", script="Arab") == ["malay.txt", "en_ms-Arab.tsv"]
    assert names("nb-NO") == ["norwegian.txt", "norwegian_bokmål.txt"]
    assert names("mn-MN") == []  # mon.txt is Mon in Wiktionary, not Mongolian
    assert names("ind") == []  # Indonesian is a member of Malay, but malay.txt is Standard Malay
    assert lexicon_source("en_sw.tsv") == "gatitos" and lexicon_source("javanese.txt") == "wiktionary"
    with pytest.raises(DataFormatError):
        find_lexicons("jv-ID", [tmp_path / "missing"])


def test_synthesis_modules_do_not_import_torch_or_pandas():
    code = (
        "import sys\n"
        "import lexiconlm.synth.pseudo_label, lexiconlm.synth.morph_augment, lexiconlm.io.conll\n"
        "import lexiconlm.leakage, lexiconlm.io.locate, lexiconlm.cli.synth_label\n"
        "bad = [m for m in ('torch', 'pandas') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
@pytest.mark.parametrize("locale", ["jv-ID", "th-TH", "zh-TW"])
def test_real_massive_projection_is_exact(shared_data, tmp_path, locale):
    from lexiconlm.synth.pseudo_label import make_translator

    lex = find_lexicons(locale, [shared_data / "lexicons" / "wiktionary"])[0]
    tr = make_translator(lex, seed=13)
    src = read_massive(shared_data / "nlu" / "massive" / "en-US" / "train.tsv").utterances[:300]
    res = project_utterances(src, tr, locale=locale)
    total = ProjectionStats.zero()
    for s, p in zip(src, res.items):
        assert_exact(s, p.utterance)
        assert p.utterance.intent == s.intent and p.utterance.id == s.id
        total = total + p.stats
    assert total == res.stats and res.stats.n_utterances == 300
    assert sum(len(s.slots) for s in src) == sum(len(p.utterance.slots) for p in res.items)
    assert 0.05 < res.stats.token_ratio < 0.95
    back = read_massive(write_massive_tsv([p.utterance for p in res.items], tmp_path / f"{locale}.tsv"))
    assert [(u.text, u.slots) for u in back] == [(p.utterance.text, p.utterance.slots) for p in res.items]
