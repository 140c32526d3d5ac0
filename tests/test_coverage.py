"""Coverage: rows for every catalog language, counts, tiers, aggregation, cache, config, tokenizer, CLI."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lexiconlm.cli.main import main
from lexiconlm.coverage import (
    AGGREGATE_BY,
    COLUMNS,
    CoverageTable,
    aggregate,
    compute_coverage,
    load_config,
    tier_of,
)
from lexiconlm.coverage import cache as cache_mod
from lexiconlm.coverage.compute import file_statistics
from lexiconlm.coverage.config import config_from_dict
from lexiconlm.errors import ConfigError, LexiconLMError, UnknownLanguageError, UnknownNameError
from lexiconlm.languages import get_catalog
from lexiconlm.phonology import installed_maps

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """Small resource folders: lexicons, UniMorph, SIGMORPHON 2020/2023, MASSIVE, CoNLL NER, text."""
    d = tmp_path / "data"
    # Wiktionary-style lexicons (one duplicate line, removed by the reader) and one unknown language.
    _write(d / "lex/wikt/swahili.txt", "journey\tsafari\nhouse\tnyumba\nhouse\tnyumba\nwater\tmaji\n")
    _write(d / "lex/wikt/amharic.txt", "house\tቤት\npeace\tሰላም\n")
    _write(d / "lex/wikt/yoruba.txt", "water\tomi\n")
    _write(d / "lex/wikt/xyzzyish.txt", "water\tqq\n")
    _write(d / "lex/wikt/PROVENANCE.md", "# not a lexicon\n")
    # GATITOS file named by a BCP-47 code (sw -> swh).
    _write(d / "lex/gat/en_sw.tsv", "good morning\thabari ya asubuhi\nthanks\tasante\n")
    # UniMorph: two Amharic tables sharing one lemma.
    _write(d / "unimorph/amh.tsv", "ሰበረ\tሰበረ\tV;PST;3;SG;MASC\nሰበረ\tሰበርኩ\tV;PST;1;SG\nቤት\tቤቶች\tN;PL\n")
    _write(d / "unimorph/amh.extra.tsv", "ቤት\tቤቱ\tN;DEF;SG\n")
    _write(d / "unimorph/PROVENANCE.md", "# docs\n")
    # SIGMORPHON 2020 (lemma, form, features) and 2023 (lemma, features, form).
    _write(
        d / "sig/2020_task0/swa.trn",
        "soma\tnilisoma\tV;PST;1;SG\nsoma\tanasoma\tV;PRS;3;SG\nla\tnilikula\tV;PST;1;SG\n",
    )
    _write(d / "sig/2020_task0/swa.dev", "soma\ttulisoma\tV;PST;1;PL\n")
    _write(d / "sig/2020_task0/languages_from_readme.tsv", "code\tname\nswa\tSwahili\n")
    _write(d / "sig/2023_part1/amh.trn", "ሰበረ\tV;PST;NOM(1,SG)\tሰበርኩ\nሰበረ\tV;PST;NOM(3,SG,MASC)\tሰበረ\n")
    # MASSIVE test file and a CoNLL NER file.
    _write(
        d / "nlu/massive/test/sw-KE.tsv",
        "id\tintent\tannot_utt\n1\talarm_set\tniamshe saa [time : tatu]\n2\tweather_query\tmvua leo\n",
    )
    _write(d / "nlu/ner/test/amh.test.txt", "አበበ B-PER\nመጣ O\n\nሰላም O\n")
    # Text: FLORES-style lines; French has text and nothing else.
    _write(d / "text/corpus/swh_Latn.dev", "habari ya asubuhi\nmaji ni uhai\nasante sana rafiki\n")
    _write(d / "text/corpus/fra_Latn.dev", "bonjour tout le monde\n")
    return d


def _config(tmp_path: Path, data: Path, **extra) -> Path:
    text = f"""# lexiconlm coverage compute --config {tmp_path}/coverage.yaml
lexicons:
  wikt: data/lex/wikt
  gat: [data/lex/gat]
unimorph: data/unimorph
sigmorphon:
  "2020": data/sig/2020_task0
  "2023": data/sig/2023_part1
nlu:
  massive: data/nlu/massive
  ner: data/nlu/ner
text:
  corpus: data/text/corpus
cache: cache/coverage.json
"""
    for k, v in extra.items():
        text += f"{k}: {v}\n"
    return _write(tmp_path / "coverage.yaml", text)


@pytest.fixture()
def config(tmp_path: Path, data: Path) -> Path:
    return _config(tmp_path, data)


@pytest.fixture()
def table(config: Path) -> CoverageTable:
    return compute_coverage(config)


# --------------------------------------------------------------------------- rows and counts


def test_one_row_per_catalog_language_with_every_column(table: CoverageTable):
    cat = get_catalog()
    assert len(table.rows) == len(cat) > 7000
    assert [r["iso639_3"] for r in table.rows] == [lang.iso639_3 for lang in cat]
    assert set(COLUMNS) <= set(table.columns)
    assert table.columns.index("lex_wikt_entries") < table.columns.index("lex_total_entries")
    assert "lex_gat_entries" in table.columns and "text_corpus_segments" in table.columns
    for r in table.rows[:50]:
        assert tuple(r) == table.columns


def test_counts(table: CoverageTable):
    swh = table.row("swh")
    assert swh["lex_wikt_entries"] == 3  # the duplicate line is not an entry
    assert swh["lex_gat_entries"] == 2
    assert swh["lex_total_entries"] == 5
    assert swh["lex_sources"] == "wikt;gat"
    assert swh["sigmorphon_editions"] == "2020"
    assert swh["sigmorphon_max_train"] == 3
    assert swh["nlu_sets"] == "massive:test"
    assert swh["nlu_examples"] == 2
    assert swh["text_corpus_segments"] == swh["text_segments"] == 3
    assert swh["text_tokens"] == 3 + 3 + 3
    assert swh["name"] == "Swahili" and swh["family"]

    amh = table.row("amh")
    assert amh["lex_total_entries"] == 2
    assert amh["unimorph_forms"] == 4
    assert amh["unimorph_lemmas"] == 2  # ቤት is in both tables: counted once
    assert amh["unimorph_dimensions"].split(";") == sorted(
        ["Part of speech", "Tense", "Person", "Number", "Gender", "Definiteness"]
    )
    assert amh["unimorph_n_dimensions"] == 6
    assert amh["sigmorphon_editions"] == "2023"
    assert amh["nlu_sets"] == "ner:test" and amh["nlu_examples"] == 2
    assert amh["text_segments"] == 0

    assert table.row("fra")["text_segments"] == 1
    assert table.row("fra")["lex_total_entries"] == 0
    assert table.row("deu")["resource_kinds"] == ""


def test_epitran_codes_from_the_installed_maps(table: CoverageTable):
    folder, codes = installed_maps()
    if not codes:
        pytest.skip("epitran is not installed")
    assert "amh-Ethi" in table.row("amh")["epitran"].split(";")
    assert "swa-Latn" in table.row("swh")["epitran"].split(";")
    assert table.sources["epitran"]["files"] == len(codes)
    assert table.row("deu")["epitran"].startswith("deu-Latn")


def test_tiers(table: CoverageTable):
    assert (table.row("swh")["tier"], table.row("swh")["tier_label"]) == (4, "+text")
    assert table.row("amh")["tier"] == 3  # lexicon, morphology, labelled data, but no text
    assert table.row("yor")["tier"] == 1
    assert table.row("fra")["tier"] == 0 and table.row("fra")["resource_kinds"] == "text"
    assert table.row("swh")["resource_kinds"] == "lexicon+morphology+nlu+text"


def test_tiers_are_a_ladder():
    base = {"lex_total_entries": 0, "unimorph_forms": 0, "sigmorphon_editions": "", "nlu_sets": "", "text_segments": 0}
    assert tier_of(base) == (0, "no lexicon")
    assert tier_of({**base, "lex_total_entries": 1})[0] == 1
    # labelled data and text without morphology do not skip a rung
    assert tier_of({**base, "lex_total_entries": 1, "nlu_sets": "massive:test", "text_segments": 5})[0] == 1
    assert tier_of({**base, "lex_total_entries": 1, "sigmorphon_editions": "2022"})[0] == 2
    assert tier_of({**base, "lex_total_entries": 1, "unimorph_forms": 3, "nlu_sets": "x:test"})[0] == 3
    # text without a lexicon is tier 0
    assert tier_of({**base, "text_segments": 100})[0] == 0


def test_unresolved_languages_are_reported(table: CoverageTable):
    unresolved = table.sources["lexicons:wikt"]["unresolved"]
    assert [u["name"] for u in unresolved] == ["xyzzyish"]
    assert unresolved[0]["file"].endswith("xyzzyish.txt")
    assert table.sources["lexicons:wikt"]["files"] == 4
    assert table.sources["lexicons:wikt"]["languages"] == 3


def test_skipped_files_are_listed(table: CoverageTable):
    skipped = table.sources["sigmorphon:2020"]["skipped"]
    assert [Path(p).name for p, _ in skipped] == ["languages_from_readme.tsv"]
    assert table.sources["sigmorphon:2020"]["files"] == 2


def test_languages_with(table: CoverageTable):
    codes = lambda res: [r["iso639_3"] for r in table.languages_with(res)]  # noqa: E731
    assert codes("unimorph") == ["amh"]
    assert codes("morphology") == ["amh", "swh"]
    assert codes("lexicons:gat") == codes("gat") == ["swh"]
    assert codes("nlu:ner") == ["amh"]
    assert codes("sigmorphon:2020") == ["swh"]
    assert codes("text:corpus") == ["fra", "swh"]
    assert codes("lex_total_entries>=3") == ["swh"]
    with pytest.raises(UnknownNameError, match="Did you mean: lexicon"):
        table.languages_with("lexcon")


def test_row_lookup_accepts_tags_and_names(table: CoverageTable):
    assert table.row("sw-KE")["iso639_3"] == "swh"
    assert table.row("Amharic")["iso639_3"] == "amh"
    with pytest.raises(UnknownLanguageError):
        table.row("xqxqxq")


# --------------------------------------------------------------------------- aggregation


@pytest.mark.parametrize("by", AGGREGATE_BY)
def test_aggregation_sums(table: CoverageTable, by: str):
    groups = aggregate(table.rows, by)
    assert sum(g["languages"] for g in groups) == len(table.rows)
    assert sum(g["with_lexicon"] for g in groups) == 3  # swh, amh, yor
    assert sum(g["with_morphology"] for g in groups) == 2
    assert sum(g["with_nlu"] for g in groups) == 2
    assert sum(g["with_text"] for g in groups) == 2
    assert sum(g["total_entries"] for g in groups) == 5 + 2 + 1
    assert sum(g[f"tier_{t}"] for g in groups for t in range(5)) == len(table.rows)
    assert len({g[by] for g in groups}) == len(groups)


def test_aggregate_by_tier_lists_every_tier(table: CoverageTable):
    groups = aggregate(table.rows, "tier")
    assert [g["tier"] for g in groups] == [0, 1, 2, 3, 4]
    assert [g["languages"] for g in groups[1:]] == [1, 0, 1, 1]
    assert groups[4]["tier_label"] == "+text" and groups[4]["mean_tier"] == 4.0


def test_aggregate_unknown_grouping_suggests():
    with pytest.raises(UnknownNameError, match="Did you mean: family"):
        aggregate([], "famly")


def test_script_groups_use_the_first_catalog_script(table: CoverageTable):
    groups = {g["script"]: g for g in aggregate(table.rows, "script")}
    assert groups["Ethi"]["with_unimorph"] == 1
    assert groups["Latn"]["with_lexicon"] == 2  # swh, yor


# --------------------------------------------------------------------------- cache


def test_cache_hit_reads_no_file_and_touch_invalidates(config: Path, data: Path, monkeypatch):
    reads: list[str] = []
    real = cache_mod.read_files

    def counting(spec, todo):
        reads.extend(str(f) for f, _ in todo)
        return real(spec, todo)

    monkeypatch.setattr(cache_mod, "read_files", counting)
    first = compute_coverage(config)
    n_files = len(reads)
    assert n_files == sum(s["files_read"] for s in first.sources.values()) > 10
    assert (config.parent / "cache" / "coverage.json").is_file()

    reads.clear()
    second = compute_coverage(config)
    assert reads == []
    assert all(s["files_read"] == 0 for s in second.sources.values())
    assert sum(s["files_cached"] for s in second.sources.values()) == n_files
    assert second.rows == first.rows

    # A changed file (new content and mtime) is the only one read again.
    lex = data / "lex/wikt/yoruba.txt"
    lex.write_text("water\tomi\nhouse\tilé\n", encoding="utf-8")
    st = lex.stat()
    os.utime(lex, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    reads.clear()
    third = compute_coverage(config)
    assert reads == [str(lex.resolve())]
    assert third.sources["lexicons:wikt"]["files_read"] == 1
    assert third.row("yor")["lex_total_entries"] == 2

    # Touching without changing the content is also a change (mtime is part of the key).
    os.utime(data / "unimorph/amh.tsv")
    reads.clear()
    compute_coverage(config)
    assert [Path(p).name for p in reads] == ["amh.tsv"]


def test_use_cache_false_reads_everything_and_leaves_the_cache(config: Path):
    compute_coverage(config)
    cache = config.parent / "cache" / "coverage.json"
    before = cache.stat().st_mtime_ns
    t = compute_coverage(config, use_cache=False)
    assert all(s["files_cached"] == 0 for s in t.sources.values())
    assert cache.stat().st_mtime_ns == before


def test_deleted_file_disappears_from_the_counts(config: Path, data: Path):
    compute_coverage(config)
    (data / "lex/gat/en_sw.tsv").unlink()
    t = compute_coverage(config)
    assert t.row("swh")["lex_total_entries"] == 3
    assert t.row("swh")["lex_sources"] == "wikt"
    cached = json.loads((config.parent / "cache" / "coverage.json").read_text(encoding="utf-8"))["files"]
    assert not [k for k in cached if k.endswith("en_sw.tsv")]  # pruned from the cache


# --------------------------------------------------------------------------- configuration


def test_missing_folders_are_reported_not_fatal(tmp_path: Path, data: Path):
    cfg_path = _write(
        tmp_path / "c.yaml",
        "lexicons:\n  wikt: data/lex/wikt\n  gone: data/no/such/folder\ntext:\n  corpus: data/nope\n",
    )
    cfg = load_config(cfg_path)
    assert {k for k, _ in cfg.absent} == {"lexicons:gone", "text:corpus"}
    t = compute_coverage(cfg, use_cache=False)
    assert t.sources["lexicons:gone"]["absent"] == [str((tmp_path / "data/no/such/folder").resolve())]
    assert t.sources["lexicons:gone"]["files"] == 0
    assert all(r["lex_gone_entries"] == 0 for r in t.rows)
    assert t.row("swh")["lex_wikt_entries"] == 3
    with pytest.raises(ConfigError) as err:
        load_config(cfg_path, strict=True)
    assert len(err.value.problems) == 2
    assert "does not exist" in str(err.value)


def test_yaml_validation_lists_every_problem(tmp_path: Path):
    bad = _write(
        tmp_path / "bad.yaml",
        """lexicon:
  wikt: x
lexicons:
  Bad-Name: some/folder
  empty: []
unimorph: 5
text: [a, b]
cache: [one, two]
""",
    )
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    problems = err.value.problems
    text = str(err.value)
    assert len(problems) == 6, problems
    assert "lexicon -> unknown key. Did you mean: lexicons?" in text
    assert "lexicons.Bad-Name" in text and "'bad_name'" in text
    assert "lexicons.empty -> no path given" in text
    assert "unimorph -> expected a path" in text
    assert "text -> expected a mapping" in text
    assert "cache -> expected one path" in text


def test_yaml_syntax_error_and_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path / "x.yaml", "lexicons: [a\n"))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


def test_paths_are_relative_to_the_config_folder(tmp_path: Path):
    cfg = config_from_dict({"unimorph": ["u", "/abs/u2"], "text": {"bible": "t/b"}}, tmp_path)
    assert cfg.unimorph == (tmp_path.resolve() / "u", Path("/abs/u2"))
    assert cfg.text == {"bible": (tmp_path.resolve() / "t/b",)}


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "coverage").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path: Path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# lexiconlm ") and f"configs/coverage/{path.name}" in first  # the command that runs it
    load_config(path)
    if path.name == "demo.yaml":
        load_config(path, strict=True)  # the bundled data is always there


def test_demo_config_is_strict_clean_in_a_fresh_checkout(tmp_path: Path, monkeypatch):
    """A fresh clone has no runs/ (nor benchmarks/results): run folders are outputs, never required.

    Regression: ``load_config(demo.yaml, strict=True)`` and ``coverage compute --strict`` failed
    with ``runs -> .../runs does not exist`` when runs/ had not been created yet.
    """
    clone = tmp_path / "clone"
    (clone / "configs" / "coverage").mkdir(parents=True)
    (clone / "configs" / "coverage" / "demo.yaml").write_bytes((REPO / "configs/coverage/demo.yaml").read_bytes())
    (clone / "resources").symlink_to(REPO / "resources", target_is_directory=True)
    assert not (clone / "runs").exists()
    monkeypatch.chdir(tmp_path)
    cfg = load_config(clone / "configs" / "coverage" / "demo.yaml", strict=True)
    assert ("runs", str(clone / "runs")) in cfg.absent  # recorded, not a problem
    assert not [k for k, _ in cfg.absent if k != "runs"]
    out = tmp_path / "demo.csv"
    code = main(
        [
            "coverage",
            "compute",
            "--config",
            "clone/configs/coverage/demo.yaml",
            "--out",
            str(out),
            "--strict",
            "--quiet",
            "--no-cache",
        ]
    )
    assert code == 0 and out.is_file()
    # a missing resource folder is still a problem with --strict
    (clone / "configs" / "coverage" / "demo.yaml").write_text(
        "lexicons:\n  wiktionary: ../../resources/demo/no_such_folder\nruns: [../../runs]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_config(clone / "configs" / "coverage" / "demo.yaml", strict=True)
    assert err.value.problems == (
        f"lexicons.wiktionary -> {clone / 'resources/demo/no_such_folder'} does not exist "
        "(check the path; it is relative to the config's folder)",
    )


def test_demo_config(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LEXICONLM_CACHE_DIR", str(tmp_path))
    cfg = load_config(REPO / "configs" / "coverage" / "demo.yaml")
    from dataclasses import replace

    t = compute_coverage(replace(cfg, cache=None))
    ind = t.row("ind")
    assert ind["tier_label"] == "+text"
    assert ind["lex_wiktionary_entries"] > 5000 and ind["unimorph_forms"] > 3000
    assert ind["nlu_sets"] == "massive:test"
    assert list(tmp_path.rglob("*.json"))  # the default cache folder follows $LEXICONLM_CACHE_DIR


# --------------------------------------------------------------------------- files


def test_csv_round_trip(table: CoverageTable, tmp_path: Path):
    out = table.to_csv(tmp_path / "out" / "cov.csv")
    back = CoverageTable.from_csv(out)
    assert back.columns == table.columns
    assert back.rows == table.rows
    assert back.sources == json.loads(json.dumps(table.sources))
    assert back.signature == table.signature and table.signature.startswith("coverage.v1|tiers:")
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_from_csv_missing_gives_the_command(tmp_path: Path):
    from lexiconlm.errors import DataFormatError

    with pytest.raises(DataFormatError, match="lexiconlm coverage compute"):
        CoverageTable.from_csv(tmp_path / "none.csv")


def test_file_statistics_name_the_files_of_a_language(config: Path):
    compute_coverage(config)
    files = [f for f in file_statistics(config) if f.get("lang") == "amh"]
    assert sorted(Path(f["path"]).name for f in files) == [
        "amh.extra.tsv",
        "amh.test.txt",
        "amh.trn",
        "amh.tsv",
        "amharic.txt",
    ]


# --------------------------------------------------------------------------- tokenizer


def _tiny_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[UNK]", "[PAD]"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")


LATIN = ["habari ya asubuhi", "maji ni uhai", "asante sana rafiki", "nyumba yangu ni nzuri"] * 5


def test_tokenizer_coverage_unk_rate_rises_for_an_unseen_script():
    pytest.importorskip("transformers")
    from lexiconlm.coverage.tokenizer import tokenizer_coverage

    tok = _tiny_tokenizer(LATIN)
    seen = tokenizer_coverage(tok, ["habari ya asubuhi", "maji ni uhai"])
    assert seen["unk_rate"] == 0.0
    assert seen["script_coverage"] == 1.0
    assert seen["n_words"] == 6
    assert seen["fertility"] == pytest.approx(seen["n_tokens"] / 6) and seen["fertility"] >= 1.0

    unseen = tokenizer_coverage(tok, ["ሰላም ነው", "ቤት"])
    assert unseen["unk_rate"] == 1.0
    assert unseen["script_coverage"] == 0.0
    assert set(unseen["uncovered_chars"]) == set("ሰላምነውቤት")

    mixed = tokenizer_coverage(tok, ["habari ሰላም"])
    assert 0 < mixed["unk_rate"] < 1
    assert mixed["script_coverage"] == pytest.approx(6 / 9)
    assert tokenizer_coverage(tok, ["", "  "])["unk_rate"] is None


def test_coverage_with_tokenizer_adds_columns(table: CoverageTable, config: Path, tmp_path: Path):
    pytest.importorskip("transformers")
    from lexiconlm.coverage.tokenizer import coverage_with_tokenizer, load_tokenizer

    _tiny_tokenizer(LATIN).save_pretrained(tmp_path / "tok")
    tok = load_tokenizer(tmp_path / "tok")
    t = coverage_with_tokenizer(table, tok, config)
    assert t.columns[-5:] == ("tok_unk_rate", "tok_fertility", "tok_script_coverage", "tok_n_words", "tok_sample")
    swh, amh = t.row("swh"), t.row("amh")
    assert swh["tok_sample"] == "text:corpus" and swh["tok_unk_rate"] == 0.0 and swh["tok_n_words"] == 9
    assert amh["tok_sample"] == "lexicons:wikt"  # no text: lexicon target words
    assert amh["tok_unk_rate"] == 1.0 and amh["tok_script_coverage"] == 0.0
    assert t.row("deu")["tok_unk_rate"] is None and t.row("deu")["tok_sample"] == ""
    assert t.sources["tokenizer"]["languages"] == len(t.languages_with("tokenizer")) == 4  # amh fra swh yor
    back = CoverageTable.from_csv(t.to_csv(tmp_path / "tok.csv"))
    assert back.row("amh")["tok_unk_rate"] == 1.0 and back.row("deu")["tok_unk_rate"] is None


def test_load_tokenizer_offline_hub_name_gives_a_clear_error(monkeypatch):
    pytest.importorskip("transformers")
    from lexiconlm.coverage.tokenizer import load_tokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(LexiconLMError, match="offline") as err:
        load_tokenizer("lexiconlm-tests/no-such-tokenizer")
    assert "local folder" in str(err.value)


def test_importing_coverage_does_not_import_torch_or_transformers():
    code = (
        "import sys, lexiconlm.coverage, lexiconlm.coverage.tokenizer, lexiconlm.cli.coverage;"
        "bad = [m for m in ('torch', 'transformers', 'tokenizers', 'epitran') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


# --------------------------------------------------------------------------- CLI


def test_cli_compute_show_summary(config: Path, tmp_path: Path, capsys):
    out = tmp_path / "runs" / "cov.csv"
    assert main(["coverage", "compute", "--config", str(config), "--out", str(out), "--quiet"]) == 0
    assert out.is_file() and (tmp_path / "runs/cov.sources.json").is_file()
    summary = (tmp_path / "runs/cov.summary.md").read_text(encoding="utf-8")
    assert "## Languages per tier" in summary and "## Top families" in summary and "## Top scripts" in summary
    capsys.readouterr()

    assert main(["coverage", "show", "swahili", "--table", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["row"]["iso639_3"] == "swh" and shown["row"]["tier"] == 4

    assert main(["coverage", "show", "amh", "--config", str(config), "--json"]) == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert len(files) == 5

    assert main(["coverage", "summary", "--by", "tier", "--table", str(out), "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [int(r["languages"]) for r in rows][1:] == [1, 0, 1, 1]

    assert main(["coverage", "summary", "--by", "family", "--table", str(out), "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert sum(g["with_lexicon"] for g in groups) == 3  # swh, amh, yor

    assert main(["coverage", "show", "swahilli", "--table", str(out)]) == 2
    assert "Did you mean" in capsys.readouterr().err
    assert main(["coverage", "summary", "--by", "famly", "--table", str(out)]) == 2


def test_cli_without_a_table_says_how_to_make_one(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["coverage", "summary"]) == 1
    assert "lexiconlm coverage compute" in capsys.readouterr().err


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_real_data_subset_matches_the_staged_index(shared_data: Path, tmp_path: Path):
    """UniMorph, SIGMORPHON 2023, GATITOS, MasakhaNER and FLORES of ../shared/data against
    metadata/languages_staged.tsv (whose macrolanguage codes resolve as the readers resolve them)."""
    cfg = config_from_dict(
        {
            "lexicons": {"gatitos": str(shared_data / "lexicons/gatitos")},
            "unimorph": str(shared_data / "unimorph"),
            "sigmorphon": {"2023": str(shared_data / "sigmorphon/2023_part1")},
            "nlu": {"masakhaner": [str(shared_data / "nlu/masakhaner2"), str(shared_data / "nlu/masakhaner1_amh")]},
            "text": {"flores200_dev": str(shared_data / "text/flores200_dev")},
            "cache": str(tmp_path / "cache.json"),
        },
        tmp_path,
        strict=True,
    )
    t0 = time.perf_counter()
    table = compute_coverage(cfg)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = compute_coverage(cfg)
    warm = time.perf_counter() - t0
    assert all(s["files_read"] == 0 for s in again.sources.values())
    assert warm < 5.0 and warm < cold
    assert again.rows == table.rows
    cat = get_catalog()
    assert len(table.rows) == len(cat)

    index = shared_data / "metadata" / "languages_staged.tsv"
    with open(index, encoding="utf-8", newline="") as fh:
        staged = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    for column, resource in [
        ("gatitos", "lexicons:gatitos"),
        ("unimorph", "unimorph"),
        ("sigmorphon2023", "sigmorphon:2023"),
        ("masakhaner", "nlu:masakhaner"),
        ("flores200_dev", "text:flores200_dev"),
    ]:
        context = column if column in cat.contexts else None
        expected = {cat.lookup(r["iso639_3"], context=context).iso639_3 for r in staged if r[column]}
        got = {r["iso639_3"] for r in table.languages_with(resource)}
        assert got == expected, (column, sorted(expected ^ got))
    # figures stated in the PROVENANCE.md files of the data folders
    amh = table.row("amh")
    assert (amh["unimorph_forms"], amh["unimorph_lemmas"]) == (38754, 1995)
    assert amh["nlu_sets"] == "masakhaner:dev,test" and amh["nlu_examples"] == 250 + 500
    assert amh["text_flores200_dev_segments"] == 997
    assert table.row("bam")["nlu_examples"] == 1274
    assert table.sources["lexicons:gatitos"]["unresolved"] == []
