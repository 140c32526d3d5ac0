"""Pseudo-monolingual synthesis (fast path), writing, batch mode (resume, kill safety) and the CLI."""

from __future__ import annotations

import json

import pytest

from lexiconlm.cli.main import main
from lexiconlm.errors import LexiconLMError
from lexiconlm.languages import get_catalog
from lexiconlm.synth.batch import BatchConfig, lexicon_files, output_paths, read_summary, run_batch
from lexiconlm.synth.pseudo_mono import encode_corpus, synthesize, synthesize_file, translate_corpus
from lexiconlm.synth.translate import LexiconTranslator
from lexiconlm.types import Lexicon, LexiconEntry, Provenance


def make_lexicon(pairs, tgt="ind", name="tiny/en-xx.tsv") -> Lexicon:
    cat = get_catalog()
    return Lexicon(cat.lookup("eng"), cat.lookup(tgt), tuple(LexiconEntry(*p) for p in pairs), Provenance(name, "tsv"))


PAIRS = [
    ("dog", "anjing"),
    ("dog", "asu"),
    ("the", "itu"),
    ("new york", "kota new york"),
    ("new", "baru"),
    ("big", "besar"),
    ("big", "gede"),
    ("eat", "makan"),
    ("city", "kota"),
    ("a", "se"),
    ("at", "di"),
]
SOURCE = [
    "The big dog eats in New York.",
    "A dog, a cat and THE BIG CITY!",
    "Nothing known here",
    "7 + 8 = 15",
    "new york new york",
    "Dogs at the big dog (at 9 am).",
]


def test_encode_corpus():
    c = encode_corpus(["Hello, world!", "Bye."])
    assert (c.n_sentences, c.n_tokens) == (2, 6)
    assert c.offsets.tolist() == [0, 4, 6]
    assert c.space.tolist() == [False, True, False, False, False, False]
    assert c.is_word.tolist() == [True, False, True, False, True, False]  # per type
    with pytest.raises(ValueError, match="blank"):
        encode_corpus(["ok", "  "])
    with pytest.raises(ValueError, match="line break"):
        encode_corpus(["a\nb"])
    assert encode_corpus([]).n_sentences == 0


@pytest.mark.parametrize("sense", ["random", "first", "prefer-consensus"])
@pytest.mark.parametrize("oov", ["keep", "drop"])
def test_corpus_translation_equals_sentence_by_sentence(sense, oov):
    lex = make_lexicon(PAIRS)
    bulk = translate_corpus(LexiconTranslator(lex, sense=sense, oov=oov, seed=3), encode_corpus(SOURCE))
    one = LexiconTranslator(lex, sense=sense, oov=oov, seed=3)
    expected = [one.translate(s) for s in SOURCE]
    assert bulk.lines == [t for t, _ in expected]
    assert bulk.ratios.tolist() == pytest.approx([tr.ratio for _, tr in expected])
    assert bulk.stats.n_replaced == sum(tr.n_replaced for _, tr in expected)
    assert bulk.stats.n_words == sum(tr.n_words for _, tr in expected)


def test_corpus_translation_joins_thai():
    lex = make_lexicon([("i", "ฉัน"), ("love", "รัก"), ("you", "คุณ"), ("very much", "มาก")], tgt="tha")
    src = ["I love you very much, Bob.", "you love I"]
    res = translate_corpus(LexiconTranslator(lex, sense="first"), encode_corpus(src))
    assert res.lines == ["ฉันรักคุณมาก, Bob.", "คุณรักฉัน"]
    assert res.lines == [LexiconTranslator(lex, sense="first").translate(s)[0] for s in src]


def test_min_replaced_and_min_ratio_filters():
    lex = make_lexicon(PAIRS)
    res = synthesize(LexiconTranslator(lex, sense="first"), SOURCE, min_replaced=3)
    ref = [LexiconTranslator(lex, sense="first").translate(s)[1] for s in SOURCE]
    kept = [i for i, t in enumerate(ref) if t.n_replaced >= 3]
    assert res.kept.tolist() == kept and res.stats.n_kept == len(kept)
    assert len(res.lines) == len(kept)
    res2 = synthesize(LexiconTranslator(lex, sense="first"), SOURCE, min_ratio=0.99)
    assert res2.kept.tolist() == [i for i, t in enumerate(ref) if t.n_words and t.ratio >= 0.99]
    assert res.stats.coverage == pytest.approx(sum(t.n_replaced for t in ref) / sum(t.n_words for t in ref))


def test_same_seed_same_corpus():
    lex = make_lexicon(PAIRS)
    a = synthesize(LexiconTranslator(lex, seed=1), SOURCE * 20).text
    b = synthesize(LexiconTranslator(lex, seed=1), SOURCE * 20).text
    c = synthesize(LexiconTranslator(lex, seed=2), SOURCE * 20).text
    assert a == b and a != c


def test_synthesize_file_writes_text_and_signature(tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("\n".join(SOURCE) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "ind.txt"
    tr = LexiconTranslator(make_lexicon(PAIRS), sense="first")
    res = synthesize_file(tr, src, out, min_replaced=1)
    assert out.read_text(encoding="utf-8") == res.text and res.text.endswith("\n")
    meta = json.loads(out.with_name("ind.txt.json").read_text(encoding="utf-8"))
    assert meta["signature"] == tr.signature and meta["kept"] == res.kept.tolist()
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(LexiconLMError):
        synthesize_file(tr, empty, tmp_path / "never.txt")
    assert not (tmp_path / "never.txt").exists()


# --------------------------------------------------------------------------- batch


def write_lexicons(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    names = ["indonesian", "javanese", "sundanese", "balinese"][:n]
    for i, name in enumerate(names):
        rows = [f"{s}\t{t}{i}" for s, t in PAIRS]
        (folder / f"{name}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return sorted(folder.glob("*.txt"))


def test_batch_runs_resumes_and_recomputes_only_what_is_missing(tmp_path):
    files = write_lexicons(tmp_path / "wiktionary")
    out = tmp_path / "out"
    res = run_batch(files, SOURCE, out, workers=2, progress=False)
    assert (res.n_done, res.n_skipped, res.n_failed) == (3, 0, 0)
    rows = read_summary(out / "summary.tsv")
    assert [r["language"] for r in rows] == ["ind", "jav", "sun"]
    assert all(r["status"] == "ok" and float(r["coverage"]) > 0.3 for r in rows)
    for f in files:
        txt, kept, js = output_paths(out, f)
        assert txt.is_file() and kept.is_file() and js.is_file()
    for name in ("run.json", "metrics.json", "per_language.csv", "summary.json"):
        assert (out / name).is_file()
    assert json.loads((out / "run.json").read_text())["kind"] == "synthesis"

    txt_j, _, _ = output_paths(out, files[1])
    mtimes = {f: output_paths(out, f)[0].stat().st_mtime_ns for f in files}
    again = run_batch(files, SOURCE, out, workers=2, progress=False)
    assert (again.n_done, again.n_skipped) == (0, 3)

    txt_j.unlink()
    third = run_batch(files, SOURCE, out, workers=2, progress=False)
    assert (third.n_done, third.n_skipped) == (1, 2)
    for f in (files[0], files[2]):
        assert output_paths(out, f)[0].stat().st_mtime_ns == mtimes[f]
    # other settings: everything again
    seeded = run_batch(files, SOURCE, out, workers=1, progress=False, config=BatchConfig(seed=99))
    assert seeded.n_done == 3


def test_batch_output_equals_single_language_synthesis(tmp_path):
    files = write_lexicons(tmp_path / "wiktionary", n=2)
    out = tmp_path / "out"
    run_batch(files, SOURCE, out, workers=1, progress=False, config=BatchConfig(sense="random", seed=5, min_replaced=2))
    from lexiconlm.io.lexicons import read_lexicon
    from lexiconlm.synth.hygiene import HygieneConfig

    tr = LexiconTranslator(read_lexicon(files[0]), seed=5, hygiene=HygieneConfig())
    ref = synthesize(tr, SOURCE, min_replaced=2)
    txt, kept, js = output_paths(out, files[0])
    assert txt.read_text(encoding="utf-8") == ref.text
    assert kept.read_text().split() == [str(i) for i in ref.kept]
    assert json.loads(js.read_text())["row"]["signature"] == tr.signature


def test_batch_kill_mid_write_leaves_no_half_output(tmp_path, monkeypatch):
    files = write_lexicons(tmp_path / "wiktionary")
    out = tmp_path / "out"
    import lexiconlm.synth.batch as batch

    real = batch.translate_corpus
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as if the run were killed while writing the second language
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "translate_corpus", dying)
    with pytest.raises(KeyboardInterrupt):
        run_batch(files, SOURCE, out, workers=1, progress=False)
    leftovers = [p.name for p in (out / "wiktionary").iterdir()]
    assert not any(name.endswith(".tmp") for name in leftovers)
    done = [f for f in files if output_paths(out, f)[2].exists()]
    assert len(done) == 1 and all(output_paths(out, f)[0].exists() for f in done)
    monkeypatch.setattr(batch, "translate_corpus", real)
    res = run_batch(files, SOURCE, out, workers=1, progress=False)
    assert (res.n_done, res.n_skipped) == (2, 1)


def test_batch_bad_lexicons_fail_alone_with_nothing_written(tmp_path):
    folder = tmp_path / "wiktionary"
    write_lexicons(folder, n=1)
    (folder / "javanese.txt").write_text("", encoding="utf-8")  # empty
    (folder / "sundanese.txt").write_text("dog anjing\ncat\n", encoding="utf-8")  # no good line
    # a romanised Russian dictionary: the catalog says Cyrillic, every entry is Latin
    (folder / "russian.txt").write_text("dog\tsobaka\ncat\tkoshka\n", encoding="utf-8")
    res = run_batch(lexicon_files([folder]), SOURCE, tmp_path / "out", workers=1, progress=False)
    status = {r["lexicon"].rsplit("/", 1)[-1]: r for r in res.rows}
    assert status["indonesian.txt"]["status"] == "ok"
    assert status["javanese.txt"]["status"].startswith("error:") and "empty" in status["javanese.txt"]["status"]
    assert "no entries (" in status["sundanese.txt"]["status"]  # with the reader's first problem
    assert status["russian.txt"]["status"] == "ok" and status["russian.txt"]["target_script"] == "Latn"
    assert res.n_failed == 2
    for name in ("javanese", "sundanese"):
        assert not (tmp_path / "out" / "wiktionary" / f"{name}.txt").exists()


def test_batch_language_selection_and_errors(tmp_path):
    folder = tmp_path / "wiktionary"
    write_lexicons(folder)
    assert [f.name for f in lexicon_files([folder], "jav,sundanese")] == ["javanese.txt", "sundanese.txt"]
    with pytest.raises(LexiconLMError, match="no lexicon for"):
        lexicon_files([folder], "fra")
    with pytest.raises(LexiconLMError, match="no text"):
        run_batch(lexicon_files([folder]), ["", " "], tmp_path / "o", progress=False)
    with pytest.raises(LexiconLMError, match="no lexicon files"):
        run_batch([], SOURCE, tmp_path / "o", progress=False)


# --------------------------------------------------------------------------- CLI


def test_cli_mono_batch_hygiene(tmp_path, capsys):
    folder = tmp_path / "wiktionary"
    files = write_lexicons(folder, n=2)
    src = tmp_path / "src.txt"
    src.write_text("\n".join(SOURCE) + "\n", encoding="utf-8")
    out = tmp_path / "ind.txt"
    assert main(["synth", "mono", "-l", str(files[0]), "-s", str(src), "-o", str(out), "--min-replaced", "1"]) == 0
    assert out.is_file() and "sentences kept" in capsys.readouterr().out
    assert (
        main(
            ["synth", "batch", "-d", str(folder), "-s", str(src), "-o", str(tmp_path / "b"), "--no-progress", "-w", "1"]
        )
        == 0
    )
    assert "2 synthesized" in capsys.readouterr().out
    assert main(["synth", "hygiene", str(files[0]), "--tsv"]) == 0
    assert capsys.readouterr().out.startswith("lexicon\tlanguage")
    assert main(["synth", "mono", "-l", str(files[0]), "-s", str(src), "-o", str(out), "--sense", "randon"]) == 2
    assert "random" in capsys.readouterr().err


def test_cli_warns_about_a_reversed_lexicon(tmp_path, capsys):
    words = (
        "water fire house dog cat big small red blue green tree river stone bird fish "
        "moon sun star rain wind snow road door hand foot eye"
    ).split()
    lexf = tmp_path / "en_id.tsv"
    lexf.write_text("".join(f"kata{i}\t{w}\n" for i, w in enumerate(words)), encoding="utf-8")  # target -> source
    src = tmp_path / "src.txt"
    src.write_text("\n".join(" ".join(words[i : i + 5]) for i in range(0, len(words), 5)) + "\n", encoding="utf-8")
    assert main(["synth", "mono", "-l", str(lexf), "-s", str(src), "-o", str(tmp_path / "o.txt")]) == 0
    assert "wrong direction" in capsys.readouterr().err


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_real_wiktionary_batch_slice(shared_data, tmp_path):
    from lexiconlm.synth.batch import english_source

    texts, desc = english_source(shared_data, 2000)
    assert len(texts) == 2000 and "FLORES" not in desc or "flores200_dev" in desc
    d = shared_data / "lexicons" / "wiktionary"
    files = [d / "indonesian.txt", d / "thai.txt", d / "georgian.txt"]
    res = run_batch(files, texts, tmp_path / "out", workers=2, progress=False, config=BatchConfig(min_replaced=3))
    rows = {r["language"]: r for r in res.rows}
    assert set(rows) == {"ind", "tha", "kat"}
    assert all(r["status"] == "ok" for r in rows.values())
    assert float(rows["ind"]["coverage"]) > 0.3
    thai = output_paths(tmp_path / "out", files[1])[0].read_text(encoding="utf-8").splitlines()
    assert thai and not any(
        " " in line and all("\u0e00" <= ch <= "\u0e7f" or ch == " " for ch in line) for line in thai[:50]
    )
