"""MASSIVE: annotation parsing, TSV and JSON lines reading/writing, round trips, real data."""

from __future__ import annotations

import json
import re
import tempfile
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import assert_accounted, error_strings, write_file
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError
from lexiconlm.io.massive import (
    AnnotationError,
    locale_from_path,
    parse_annotation,
    partition_from_path,
    read_massive,
    render_annotation,
    utterance_from_annotation,
    write_massive_jsonl,
    write_massive_tsv,
)
from lexiconlm.types import SlotSpan

HEADER = "id\tintent\tannot_utt\n"
# The regex nlu/massive/PROVENANCE.md gives for recovering `utt` from `annot_utt`.
PROVENANCE_RE = re.compile(r"\[\s*([^\[\]:]+?)\s*:\s*([^\[\]]*?)\s*\]")


# --------------------------------------------------------------------------- annotations


def test_parse_annotation_offsets_tokens_and_bio():
    text, tokens, slots = parse_annotation("wake me up at [time : nine am] on [date : friday]")
    assert text == "wake me up at nine am on friday"
    assert tokens == ("wake", "me", "up", "at", "nine", "am", "on", "friday")
    assert slots == (
        SlotSpan("time", "nine am", 14, 21, 4, 6),
        SlotSpan("date", "friday", 25, 31, 7, 8),
    )
    u = utterance_from_annotation("wake me up at [time : nine am] on [date : friday]", id="1", intent="alarm_set")
    assert u.bio == ("O", "O", "O", "O", "B-time", "I-time", "O", "B-date")
    assert u.scenario == "alarm"


def test_parse_annotation_colons_spacing_and_glued_tokens():
    text, tokens, slots = parse_annotation("set it for [time:5:30 pm ] and [person : john]'s")
    assert text == "set it for 5:30 pm and john's"
    assert [(s.label, s.value, text[s.start : s.end]) for s in slots] == [
        ("time", "5:30 pm", "5:30 pm"),
        ("person", "john", "john"),
    ]
    assert slots[1].tok_start == 6 and slots[1].tok_end == 7 and tokens[6] == "john's"
    assert parse_annotation("no slots here") == ("no slots here", ("no", "slots", "here"), ())


@pytest.mark.parametrize(
    "annot, message, column",
    [
        ("wake me [time : nine", "unclosed '['", 9),
        ("wake me time : nine]", "unmatched ']'", 20),
        ("[date : [time : x]]", "'[' inside the slot opened at column 1", 9),
        ("wake me at [nine am]", "no ' : ' between slot label and value in '[nine am]'", 12),
        ("at [ : nine]", "empty slot label in '[ : nine]'", 4),
        ("at [time : ]", "empty slot value in '[time : ]'", 4),
        ("at [the time : nine]", "slot label 'the time' contains spaces", 4),
    ],
)
def test_malformed_annotations(annot, message, column):
    with pytest.raises(AnnotationError) as exc:
        parse_annotation(annot)
    assert message in str(exc.value) and exc.value.column == column and repr(annot) in str(exc.value)


def test_utt_with_different_spacing_moves_offsets():
    annot, utt = "[date : 這週] [time : 早上五點] 叫醒我", "這週早上五點叫醒我"
    text, tokens, slots = parse_annotation(annot, utt)
    assert text == utt and tokens == ("這週", "早上五點", "叫醒我")
    assert [(s.value, s.start, s.end, s.tok_start, s.tok_end) for s in slots] == [
        ("這週", 0, 2, 0, 1),
        ("早上五點", 2, 6, 1, 2),
    ]
    # a value with inner spaces takes the utt's spelling
    text, _, slots = parse_annotation("[device_type : iphone 11] を 充電", "iphone11を充電")
    assert slots[0].value == "iphone11" and text[slots[0].start : slots[0].end] == "iphone11"
    # a value the utt does not contain keeps its tokens, offsets -1
    text, tokens, slots = parse_annotation("[date : 明日] 天気", "あした天気です")
    assert (slots[0].start, slots[0].end, slots[0].value, slots[0].tok_start) == (-1, -1, "明日", 0)


def test_render_annotation_is_the_inverse_and_refuses_bad_slots():
    text = "wake me at nine am"
    annot = render_annotation(text, [SlotSpan("time", "nine am", 11, 18)])
    assert annot == "wake me at [time : nine am]"
    with pytest.raises(ValueError, match="not 'nine'"):
        render_annotation(text, [SlotSpan("time", "nine", 11, 18)])
    with pytest.raises(ValueError, match="overlaps"):
        render_annotation(text, [SlotSpan("a", "nine am", 11, 18), SlotSpan("b", "nine", 11, 15)])
    with pytest.raises(ValueError, match="outside slots"):
        render_annotation("a [b] c", [])


# --------------------------------------------------------------------------- TSV


def test_read_tsv_with_locale_partition_and_null_words(tmp_path):
    f = write_file(
        tmp_path / "en-US" / "train.tsv",
        HEADER
        + (
            "1\talarm_set\twake me at [time : nine am]\n"
            "2\tqa_factoid\tnull\n"
            '3\tgeneral_quirky\tsay "NA" [person : None]\n'
        ),
    )
    ds = read_massive(f)
    assert (ds.locale, ds.language.iso639_3, len(ds)) == ("en-US", "eng", 3)
    assert [u.text for u in ds] == ["wake me at nine am", "null", 'say "NA" None']
    assert all(u.locale == "en-US" and u.partition == "train" for u in ds)
    assert ds.utterances[2].slots[0].value == "None" and ds.problems == ()
    assert ds.provenance.format == "massive-tsv"


@pytest.mark.parametrize(
    "rel, locale, partition",
    [
        ("af-ZA.tsv", "af-ZA", ""),
        ("test/af-ZA.tsv", "af-ZA", "test"),
        ("en-US/train.tsv", "en-US", "train"),
        ("en-US_dev.jsonl", "en-US", "dev"),
        ("ttd/zh-TW_test.jsonl", "zh-TW", "test"),
        ("data.tsv", "", ""),
    ],
)
def test_locale_and_partition_from_path(rel, locale, partition):
    assert locale_from_path(rel) == locale and partition_from_path(rel) == partition


def test_tsv_utt_column_is_the_text(tmp_path):
    f = write_file(
        tmp_path / "zh-TW.tsv",
        "id\tintent\tannot_utt\tutt\n"
        "0\talarm_set\t[date : 這週] [time : 早上五點] 叫醒我\t這週早上五點叫醒我\n"
        "3\taudio_volume_mute\t安靜\t\n",
    )
    ds = read_massive(f)
    assert ds.utterances[0].text == "這週早上五點叫醒我" and ds.utterances[0].bio == (
        "B-date",
        "B-time",
        "O",
    )
    assert ds.utterances[1].text == "安靜"  # empty utt: derived from the annotation
    assert ds.language.iso639_3 == "cmn"


def test_unlocatable_value_is_a_warning_with_the_line(tmp_path):
    f = write_file(
        tmp_path / "ja-JP.tsv",
        "id\tintent\tannot_utt\tutt\n1\tweather_query\t[date : 明日] 天気\tあした天気です\n",
    )
    ds = read_massive(f)
    [w] = [str(p) for p in ds.problems]
    assert w.startswith(f"{f}:2: warning: slot [date : 明日] not found in utt")


def test_header_is_required(tmp_path):
    f = write_file(tmp_path / "sw-KE.tsv", "1\talarm_set\twake me [time : now]\n")
    with pytest.raises(DataFormatError) as exc:
        read_massive(f)
    msg = str(exc.value)
    assert msg.startswith(f"{f}:1: error: header lacks column(s) id, intent, annot_utt") and "add a header line" in msg


def test_columns_are_found_by_name_and_extras_kept(tmp_path):
    f = write_file(
        tmp_path / "sw-KE.tsv",
        "annot_utt\tworker_id\tid\tintent\tpartition\n[time : saa tatu]\t42\t7\talarm_set\tdev\n",
    )
    u = read_massive(f).utterances[0]
    assert (u.id, u.intent, u.text, u.partition, u.locale) == (
        "7",
        "alarm_set",
        "saa tatu",
        "dev",
        "sw-KE",
    )
    assert u.extra == (("worker_id", '"42"'),)


def test_bad_rows_name_file_and_line(tmp_path):
    f = write_file(
        tmp_path / "sw-KE.tsv",
        HEADER
        + "1\talarm_set\tniamshe [time : saa tatu]\n"
        + "2\talarm_set\n"
        + "3\talarm_set\tniamshe [time saa tatu]\n"
        + "4\t\tniamshe\n"
        + "5\talarm_set\tniamshe [time : saa tatu\n"
        + "\n"
        + "6\tweather_query\t[ : leo]\n",
    )
    with pytest.raises(DataFormatError) as exc:
        read_massive(f)
    msg = str(exc.value)
    assert f"{f}:3: error: expected 3 tab-separated fields (id, intent, annot_utt), got 2" in msg
    assert f"{f}:4: error: malformed annotation: no ' : ' between slot label and value in '[time saa tatu]'" in msg
    assert f"{f}:5: error: empty intent" in msg
    assert f"{f}:6: error: malformed annotation: unclosed '[' at column 9 of 'niamshe [time : saa tatu'" in msg
    assert f"{f}:8: error: malformed annotation: empty slot label in '[ : leo]'" in msg
    ds = read_massive(f, errors="collect")
    assert [u.id for u in ds] == ["1"] and ds.n_blank_lines == 1
    assert_accounted(ds, f, header_lines=1)
    assert any(str(p) == f"{f}:7: warning: 1 blank line(s) skipped" for p in ds.problems)


def test_nfd_annotation_gives_nfc_text_and_slots(tmp_path):
    body = HEADER + unicodedata.normalize("NFD", '1\tcooking_recipe\t"café [food_type : crème brûlée]\n')
    ds = read_massive(write_file(tmp_path / "fr-FR.tsv", body))
    u = ds.utterances[0]
    assert u.text == '"café crème brûlée' and u.slots[0].value == "crème brûlée"
    assert u.text[u.slots[0].start : u.slots[0].end] == "crème brûlée"
    assert unicodedata.is_normalized("NFC", u.text)


# --------------------------------------------------------------------------- JSON lines

OFFICIAL = {
    "id": "1",
    "locale": "sw-KE",
    "partition": "train",
    "scenario": "alarm",
    "intent": "alarm_set",
    "utt": "niamshe saa tatu",
    "annot_utt": "niamshe [time : saa tatu]",
    "worker_id": "8",
    "slot_method": [{"slot": "time", "method": "translation"}],
    "judgments": [{"worker_id": "2", "intent_score": 1}],
}


def test_read_official_jsonl_and_write_it_back_identically(tmp_path):
    second = dict(
        OFFICIAL,
        id="2",
        partition="dev",
        utt="hali ya hewa",
        annot_utt="hali ya hewa",
        scenario="weather",
        intent="weather_query",
    )
    text = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in (OFFICIAL, second))
    f = write_file(tmp_path / "in" / "sw-KE_train.jsonl", text)
    ds = read_massive(f)
    assert (ds.locale, ds.provenance.format) == ("sw-KE", "massive-jsonl")
    u = ds.utterances[0]
    assert (u.text, u.partition, u.bio) == ("niamshe saa tatu", "train", ("O", "B-time", "I-time"))
    assert [k for k, _ in u.extra] == ["worker_id", "slot_method", "judgments"]
    assert ds.utterances[1].partition == "dev" and ds.problems == ()
    out = write_massive_jsonl(ds, tmp_path / "out" / "sw-KE_train.jsonl")
    assert out.read_text(encoding="utf-8") == text
    assert read_massive(out).utterances == ds.utterances


def test_jsonl_bad_lines_are_reported_with_line_numbers(tmp_path):
    lines = [
        json.dumps(OFFICIAL),
        '{"id": "2", "intent": "alarm_set", "annot_utt": "x"',
        "[1, 2]",
        json.dumps({"id": "4", "annot_utt": "x"}),
        "",
        json.dumps(dict(OFFICIAL, id="6", annot_utt="[time saa]")),
        json.dumps(dict(OFFICIAL, id="7", scenario="weather")),
        json.dumps(dict(OFFICIAL, id=8, locale="de-DE")),
    ]
    f = write_file(tmp_path / "sw-KE.jsonl", "\n".join(lines) + "\n")
    ds = read_massive(f, errors="collect")
    errs = error_strings(ds)
    assert errs[0].startswith(f"{f}:2: error: invalid JSON:")
    assert errs[1].startswith(f"{f}:3: error: expected a JSON object, got list")
    assert errs[2].startswith(f"{f}:4: error: missing field(s) intent")
    assert errs[3].startswith(f"{f}:6: error: malformed annotation: no ' : '")
    assert [u.id for u in ds] == ["1", "7", "8"] and ds.n_blank_lines == 1
    assert_accounted(ds, f)
    ws = [str(p) for p in ds.problems if p.severity == "warning"]
    assert any(w.startswith(f"{f}:7: warning: 1 row(s) whose scenario is not the intent's prefix") for w in ws)
    assert any(w.startswith(f"{f}:8: warning: 1 row(s) have a locale other than 'sw-KE'") for w in ws)
    assert ds.utterances[2].locale == "de-DE"


def test_locale_from_rows_when_the_name_has_none(tmp_path):
    f = write_file(tmp_path / "data.jsonl", json.dumps(OFFICIAL) + "\n")
    ds = read_massive(f)
    assert ds.locale == "sw-KE" and ds.language.iso639_3 == "swh"
    assert read_massive(f, locale="de-DE").locale == "de-DE"


# --------------------------------------------------------------------------- writing


def test_write_tsv_adds_utt_partition_and_locale_only_when_needed(tmp_path):
    a = utterance_from_annotation(
        "[date : 這週] 叫醒我",
        id="0",
        intent="alarm_set",
        utt="這週叫醒我",
        locale="zh-TW",
        partition="test",
    )
    b = utterance_from_annotation("安靜", id="3", intent="audio_volume_mute", locale="zh-TW", partition="test")
    out = write_massive_tsv([a, b], tmp_path / "test" / "zh-TW.tsv")
    assert out.read_text(encoding="utf-8") == (
        "id\tintent\tannot_utt\tutt\n0\talarm_set\t[date : 這週] 叫醒我\t這週叫醒我\n3\taudio_volume_mute\t安靜\t安靜\n"
    )
    assert read_massive(out).utterances == (a, b)
    out2 = write_massive_tsv([a, b], tmp_path / "other.tsv")
    assert out2.read_text(encoding="utf-8").splitlines()[0] == "id\tintent\tannot_utt\tutt\tpartition\tlocale"
    assert read_massive(out2).utterances == (a, b)


def test_writers_refuse_inconsistent_or_unwritable_utterances(tmp_path):
    u = utterance_from_annotation("wake me at [time : nine]", id="1", intent="alarm_set")
    stale = replace(u, slots=(SlotSpan("date", "nine", 11, 15, 3, 4),))
    with pytest.raises(ValueError, match="disagrees with its slots"):
        write_massive_tsv([stale], tmp_path / "x.tsv")
    # without annot_utt the slots are rendered
    fresh = replace(stale, annot_utt="")
    out = write_massive_jsonl([fresh], tmp_path / "x.jsonl")
    assert json.loads(out.read_text(encoding="utf-8"))["annot_utt"] == "wake me at [date : nine]"
    with pytest.raises(ValueError, match="tab or line break"):
        write_massive_tsv([replace(u, intent="a\tb")], tmp_path / "y.tsv")
    assert not (tmp_path / "y.tsv").exists() and not (tmp_path / "x.tsv").exists()


# --------------------------------------------------------------------------- properties

_PLAIN = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r[]\ufeff\x00"),
    max_size=10,
)
_VALUE = _PLAIN.filter(lambda s: s != "" and s == s.strip())
_LABEL = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)


@st.composite
def utterances(draw, with_utt: bool):
    pieces = draw(st.lists(st.one_of(st.tuples(st.just(None), _PLAIN), st.tuples(_LABEL, _VALUE)), max_size=6))
    text, slots = "", []
    for label, s in pieces:
        if label is not None:
            slots.append(SlotSpan(label, s, len(text), len(text) + len(s)))
        text += s
    assume(text.strip() != "")
    annot = render_annotation(text, slots)
    assume(unicodedata.is_normalized("NFC", annot) and unicodedata.is_normalized("NFC", text))
    utt = re.sub(r"\s", "", text) if with_utt else None
    assume(utt is None or utt != "")
    return utterance_from_annotation(
        annot,
        id=str(draw(st.integers(0, 99999))),
        intent=draw(st.from_regex(r"[a-z]{1,6}_[a-z]{1,6}", fullmatch=True)),
        utt=utt,
        locale="sw-KE",
        partition=draw(st.sampled_from(["train", "dev", "test"])),
    )


@settings(max_examples=120, deadline=None)
@given(st.booleans().flatmap(lambda w: st.lists(utterances(w), min_size=1, max_size=8)))
def test_property_tsv_and_jsonl_round_trip(items):
    with tempfile.TemporaryDirectory() as d:
        for writer, name in (
            (write_massive_tsv, "sw-KE.tsv"),
            (write_massive_jsonl, "sw-KE.jsonl"),
        ):
            ds = read_massive(writer(items, Path(d) / name))
            assert list(ds.utterances) == items and not error_strings(ds)
    for u in items:
        text, tokens, slots = parse_annotation(u.annot_utt, u.text)
        assert (text, tokens, slots) == (u.text, u.tokens, u.slots)
        assert len(u.bio) == len(u.tokens)


@settings(max_examples=80, deadline=None)
@given(utterances(False))
def test_property_agrees_with_the_provenance_regex(u):
    assert u.text == PROVENANCE_RE.sub(r"\2", u.annot_utt)
    assert [(s.label, s.value) for s in u.slots] == PROVENANCE_RE.findall(u.annot_utt)
    assert all(u.text[s.start : s.end] == s.value for s in u.slots)


# --------------------------------------------------------------------------- real data


def _massive_style_bio(annot: str) -> tuple[list[str], list[str]]:
    """Tokens and BIO tags the way MASSIVE's own loaders split annotations: on single spaces,
    ``[label`` opens a slot, ``:`` is skipped, a word ending in ``]`` closes it."""
    tokens, tags = [], []
    label, inside = None, 0
    words = iter(annot.split(" "))
    for w in words:
        if w.startswith("["):
            label, inside = w[1:], 0
            next(words)  # the ':'
            continue
        if label is not None:
            closing = w.endswith("]")
            tokens.append(w[:-1] if closing else w)
            tags.append(("B-" if inside == 0 else "I-") + label)
            inside += 1
            if closing:
                label = None
        else:
            tokens.append(w)
            tags.append("O")
    return tokens, tags


def test_real_en_us_train_agrees_with_regex_and_bio(shared_data):
    ds = read_massive(shared_data / "nlu" / "massive" / "en-US" / "train.tsv")
    assert len(ds) == 11514 and ds.problems == ()
    for u in ds:
        assert u.text == PROVENANCE_RE.sub(r"\2", u.annot_utt), u.id
        assert [(s.label, s.value) for s in u.slots] == PROVENANCE_RE.findall(u.annot_utt), u.id
        assert all(u.text[s.start : s.end] == s.value for s in u.slots), u.id
        tokens, tags = _massive_style_bio(u.annot_utt)
        assert (list(u.tokens), list(u.bio)) == (tokens, tags), u.id


def test_real_every_massive_file(shared_data, tmp_path):
    root = shared_data / "nlu" / "massive"
    files = sorted(root.glob("*/*.tsv"))
    assert len(files) == 29
    for f in files:
        ds = read_massive(f)
        assert not error_strings(ds), f
        assert_accounted(ds, f, header_lines=1)
        assert ds.locale == (f.stem if f.parent.name == "test" else "en-US")
        assert ds.language.iso639_3, f
        assert all(u.partition == (f.parent.name if f.parent.name == "test" else f.stem) for u in ds)
        if f.stem in ("ja-JP", "zh-CN", "zh-TW"):
            assert all(s.start >= 0 for u in ds for s in u.slots), f
        # rewriting gives the same bytes (after the NFC normalisation the reader applies)
        out = write_massive_tsv(ds, tmp_path / f.relative_to(root))
        original = unicodedata.normalize("NFC", f.read_text(encoding="utf-8"))
        assert out.read_text(encoding="utf-8") == original, f
