"""The language catalog: resources/languages.tsv + language_aliases.tsv and their lookup."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lexiconlm.errors import DataFormatError, UnknownLanguageError
from lexiconlm.languages import (
    ALIAS_COLUMNS,
    LANGUAGE_COLUMNS,
    MACRO_CONTEXT,
    RESOURCES_ENV,
    LanguageCatalog,
    get_catalog,
    name_key,
)
from lexiconlm.types import Language

REPO = Path(__file__).resolve().parents[1]
RESOURCES = REPO / "resources"


@pytest.fixture(scope="module")
def cat() -> LanguageCatalog:
    return get_catalog()


def _mini(tmp_path: Path, rows: list[str], aliases: list[str] = ()) -> Path:
    """A tiny resources folder: rows are 'code|name|scope|macro' shorthands."""
    lines = ["\t".join(LANGUAGE_COLUMNS)]
    for r in rows:
        code, name, scope, macro = r.split("|")
        f = dict.fromkeys(LANGUAGE_COLUMNS, "")
        f.update(iso639_3=code, name=name, scope=scope, macrolanguage=macro, type="L")
        lines.append("\t".join(f[c] for c in LANGUAGE_COLUMNS))
    (tmp_path / "languages.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    alias_lines = ["\t".join(ALIAS_COLUMNS), *aliases]
    (tmp_path / "language_aliases.tsv").write_text("\n".join(alias_lines) + "\n", encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------- the files
def test_every_row_parses_and_codes_are_unique():
    text = (RESOURCES / "languages.tsv").read_text(encoding="utf-8")
    lines = text.rstrip("\n").split("\n")
    assert lines[0].split("\t") == list(LANGUAGE_COLUMNS)
    codes = set()
    for i, line in enumerate(lines[1:], start=2):
        f = line.split("\t")
        assert len(f) == len(LANGUAGE_COLUMNS), f"languages.tsv:{i}"
        row = dict(zip(LANGUAGE_COLUMNS, f))
        assert row["iso639_3"] and row["iso639_3"] not in codes, f"languages.tsv:{i}"
        codes.add(row["iso639_3"])
        assert row["name"], f"languages.tsv:{i}"
        assert row["scope"] in {"I", "M", "S", "C"}, f"languages.tsv:{i}"
        assert not row["speakers"] or row["speakers"].isdigit(), f"languages.tsv:{i}"
        for col in ("latitude", "longitude"):
            if row[col]:
                float(row[col])
        for s in row["scripts"].split():
            assert len(s) == 4 and s[0].isupper() and s[1:].islower(), f"languages.tsv:{i}: {s}"
        assert "|" not in row["name"] and "" not in row["alt_names"].split("|")[: bool(row["alt_names"])]
    assert len(codes) >= 7000
    assert codes == {lang.iso639_3 for lang in get_catalog()}


def test_aliases_file_parses_and_points_to_catalog_rows(cat):
    with open(RESOURCES / "language_aliases.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == list(ALIAS_COLUMNS)
    for alias, target, context, note in rows[1:]:
        assert alias and note
        assert not target or target in cat
        if context == "":  # a global alias never shadows a real code
            assert alias.lower() not in cat
    assert len(cat.aliases()) == len(rows) - 1


def test_catalog_size_and_coverage(cat):
    langs = cat.all()
    assert len(cat) == len(langs) >= 7000
    assert [lang.iso639_3 for lang in langs] == sorted(lang.iso639_3 for lang in langs)
    n = len(langs)
    assert sum(1 for x in langs if x.family) / n > 0.9
    assert sum(1 for x in langs if x.scripts) / n > 0.8
    assert sum(1 for x in langs if x.latitude is not None) / n > 0.9
    assert all(isinstance(x, Language) and isinstance(x.scripts, tuple) for x in langs)


def test_loading_is_fast():
    t = time.perf_counter()
    c = LanguageCatalog.from_dir(RESOURCES)
    c.lookup("swahili")  # builds the name index too
    assert time.perf_counter() - t < 1.0  # typically ~0.1 s


def test_import_does_not_pull_in_torch():
    code = "import lexiconlm.languages, sys; lexiconlm.languages.get_catalog(); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# --------------------------------------------------------------------------- lookup
@pytest.mark.parametrize(
    "query, code",
    [
        ("swh", "swh"),
        ("sw", "swh"),
        ("swa", "swh"),
        ("sw-KE", "swh"),
        ("SW_ke", "swh"),
        ("swahili", "swh"),
        ("Swahili", "swh"),
        ("Kiswahili", "swh"),
        ("zh", "cmn"),
        ("zho", "cmn"),
        ("chi", "cmn"),
        ("zh-Hant-TW", "cmn"),
        ("Chinese", "cmn"),
        ("ar", "arb"),
        ("ar-MA", "ary"),
        ("ar-SA", "arb"),
        ("fa-AF", "prs"),
        ("fa", "pes"),
        ("sr-Latn", "srp"),
        ("pt_BR", "por"),
        ("en-US", "eng"),
        ("zh-yue", "yue"),
        ("az-Arab", "azb"),
        ("ger", "deu"),
        ("fre", "fra"),
        ("mao", "mri"),
        ("iw", "heb"),
        ("sh", "hbs"),
        ("Ancient Greek", "grc"),
        ("ancient_greek", "grc"),
        ("ANCIENT-GREEK", "grc"),
        ("_are_are", "alu"),
        ("abu__arapesh", "aah"),
        ("lo_toga", "lht"),
        ("guebie", "gie"),
        ("amh_Ethi", "amh"),
        ("heb_unvoc", "heb"),
        ("msa", "zsm"),
        ("aze", "azj"),
        ("mon", "khk"),
        ("lav", "lvs"),
        ("sqi", "als"),
        ("est", "ekk"),
        ("kon", "kng"),
        ("mlg", "plt"),
        ("uzb", "uzn"),
        ("ori", "ory"),
        ("nep", "npi"),
        ("pus", "pbt"),
        ("kur", "kmr"),
        ("orm", "gaz"),
        ("que", "quy"),
        ("ful", "fuv"),
        ("aka", "twi"),
        ("grn", "gug"),
        ("yid", "ydd"),
        ("zza", "diq"),
        ("hbs", "hbs"),
        ("poma", "poma"),
    ],
)
def test_lookup(cat, query, code):
    assert cat.lookup(query).iso639_3 == code


def test_macrolanguages_kept_on_request(cat):
    swa = cat.lookup("swa", resolve_macro=False)
    assert swa.iso639_3 == "swa" and swa.scope == "M"
    assert cat.lookup("zh", resolve_macro=False).iso639_3 == "zho"
    assert cat.lookup("ar-MA", resolve_macro=False).iso639_3 == "ara"
    assert cat.lookup("swh").macrolanguage == "swa"
    assert cat.macro_default("swa").iso639_3 == "swh"
    assert {m.iso639_3 for m in cat.members("swa")} == {"swc", "swh"}
    assert cat.macro_default("hbs") is None
    assert ("swa", "swh") in {(a, t) for a, t, _, _ in cat.aliases(MACRO_CONTEXT)}


def test_jap_is_japanese_only_in_sigmorphon2023(cat):
    glob = cat.lookup("jap")
    assert glob.iso639_3 != "jpn"  # ISO's jap (Jaruára) was retired into jaa
    assert glob.iso639_3 == "jaa"
    assert cat.lookup("jap", context="sigmorphon2023").iso639_3 == "jpn"
    assert cat.lookup("heb_unvoc", context="sigmorphon2023").iso639_3 == "heb"
    assert cat.lookup("swa", context="sigmorphon2023").iso639_3 == "swh"


def test_gatitos_context(cat):
    for code, expected in [
        ("chm", "mhr"),
        ("rom", "rmn"),
        ("ak", "twi"),
        ("ff", "fuv"),
        ("ar-MA", "ary"),
        ("fa-AF", "prs"),
        ("cpf", "jam"),
        ("ber-Latn", "ber"),
    ]:
        assert cat.lookup(code, context="gatitos", resolve_macro=False).iso639_3 == expected, code
    assert cat.lookup("cpf", context="gatitos").name == "Jamaican Creole English"
    assert cat.lookup("cpf").scope == "C"  # globally the ISO 639-2 collective (French-based creoles)


def test_wiktionary_names_that_look_like_codes(cat):
    assert cat.lookup("mon").iso639_3 == "khk"
    assert cat.lookup("mon", context="wiktionary").iso639_3 == "mnw"
    assert cat.lookup("ga").iso639_3 == "gle"
    assert cat.lookup("ga", context="wiktionary").iso639_3 == "gaa"


def test_context_family_and_unknown_context(tmp_path):
    d = _mini(tmp_path, ["aaa|Alpha|I|", "bbb|Beta|I|"], ["zz\tbbb\tsigmorphon\tcurated: test"])
    c = LanguageCatalog.from_dir(d)
    assert c.lookup("zz", context="sigmorphon2022").iso639_3 == "bbb"  # sigmorphon2022 -> sigmorphon
    with pytest.raises(UnknownLanguageError) as e:
        c.lookup("zz", context="massive")
    assert "known contexts: sigmorphon" in str(e.value)


def test_unknown_language_suggests_close_matches(cat):
    with pytest.raises(UnknownLanguageError) as e:
        cat.lookup("amhx")
    msg = str(e.value)
    assert msg.startswith("Unknown language 'amhx'. Did you mean: amh (Amharic)")
    with pytest.raises(UnknownLanguageError) as e:
        cat.lookup("swahilli")
    assert "Did you mean:" in str(e.value) and "swh (Swahili)" in str(e.value)
    assert e.value.query == "swahilli" and e.value.suggestions
    assert isinstance(e.value, KeyError)  # UnknownNameError is a KeyError too
    assert cat.find("swahilli") is None
    with pytest.raises(UnknownLanguageError):
        cat.lookup("   ")


def test_retired_code_without_replacement_names_the_new_codes(cat):
    with pytest.raises(UnknownLanguageError) as e:
        cat.lookup("agp")  # split into apf and prf in 2010
    assert "apf (Pahanan Agta)" in e.value.suggestions[0] or "apf" in str(e.value)
    assert "prf" in str(e.value) and "retired" in str(e.value)


def test_get_is_exact(cat):
    assert cat.get("swa").scope == "M"
    with pytest.raises(UnknownLanguageError):
        cat.get("sw")
    assert "swh" in cat and "sw" not in cat


def test_names_only_when_asked(cat):
    assert cat.find("swahili", names=False) is None
    assert cat.find("sw-KE", names=False).iso639_3 == "swh"


@pytest.mark.parametrize(
    "code, script, family",
    [
        ("amh", "Ethi", "Afro-Asiatic"),
        ("khm", "Khmr", "Austroasiatic"),
        ("kat", "Geor", "Kartvelian"),
        ("eng", "Latn", "Indo-European"),
        ("grc", "Grek", "Indo-European"),
        ("hye", "Armn", "Indo-European"),
        ("jpn", "Jpan", "Japonic"),
        ("eus", "Latn", "Isolate"),
        ("tha", "Thai", "Tai-Kadai"),
    ],
)
def test_scripts_and_family(cat, code, script, family):
    lang = cat.get(code)
    assert lang.scripts[0] == script
    assert lang.family == family
    assert lang.tag() == f"{code}-{script}"


def test_record_fields(cat):
    amh = cat.get("amh")
    assert amh.iso639_1 == "am" and amh.genus == "Semitic" and amh.macroarea == "Africa"
    assert isinstance(amh.speakers, int) and amh.speakers > 1_000_000
    assert isinstance(amh.latitude, float) and amh.glottocode == "amha1245"
    info = cat.info("amh")
    assert info["type"] == "L" and "linguameta" in info["sources"]
    assert "Amharic" in cat.names("amh")


def test_search(cat):
    assert cat.search("swahili", limit=5)[0].iso639_3 == "swh"
    greek = [x.iso639_3 for x in cat.search("greek")]
    assert "ell" in greek and "grc" in greek
    assert cat.search("", limit=5) == []
    kart = {x.iso639_3 for x in cat.filter(family="kartvelian")}
    assert {"kat", "xmf", "lzz", "sva"} <= kart
    assert all("Ethi" in x.scripts for x in cat.filter(script="ethi"))


def test_name_key():
    assert name_key("Abu' Arapesh") == name_key("abu__arapesh") == "abu arapesh"
    assert name_key("K\u02bciche\u02bc") == name_key("K'iche'")


# --------------------------------------------------------------------------- loading problems
def test_resources_env_var(tmp_path, monkeypatch):
    d = _mini(tmp_path, ["aaa|Alpha|I|", "mmm|Macro|M|", "bbb|Beta|I|mmm"], ["mmm\tbbb\tmacrolanguage\tcurated: test"])
    monkeypatch.setenv(RESOURCES_ENV, str(d))
    get_catalog.cache_clear()
    try:
        c = get_catalog()
        assert len(c) == 3
        assert c.lookup("mmm").iso639_3 == "bbb"
        assert c.lookup("alpha").iso639_3 == "aaa"
    finally:
        monkeypatch.delenv(RESOURCES_ENV)
        get_catalog.cache_clear()
    assert len(get_catalog()) >= 7000


def test_malformed_files_list_every_problem(tmp_path):
    d = _mini(tmp_path, ["aaa|Alpha|I|", "aaa|Again|I|", "ccc|Gamma|X|"], ["zz\tnope\t\tcurated: test"])
    with (d / "languages.tsv").open("a", encoding="utf-8") as fh:
        fh.write("ddd\ttoo few fields\n")
    with pytest.raises(DataFormatError) as e:
        LanguageCatalog.from_dir(d)
    msg = str(e.value)
    assert "languages.tsv:3" in msg and "duplicate code 'aaa'" in msg
    assert "languages.tsv:4" in msg and "scope 'X'" in msg
    assert "languages.tsv:5" in msg and "expected 18 tab-separated fields, got 2" in msg
    assert "language_aliases.tsv:2" in msg and "'nope'" in msg
    with pytest.raises(DataFormatError, match="language catalog not found"):
        LanguageCatalog.from_dir(tmp_path / "missing")


# --------------------------------------------------------------------------- against the real data
def _load_builder():
    spec = importlib.util.spec_from_file_location(
        "build_language_catalog", REPO / "scripts" / "build_language_catalog.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rebuild_gives_the_committed_files(shared_data):
    pytest.importorskip("iso639")
    pytest.importorskip("langcodes")
    pytest.importorskip("language_data")
    builder = _load_builder()
    if builder.package_versions() != builder.BUILT_WITH:
        pytest.skip(f"committed catalog was built with {builder.BUILT_WITH}, installed: {builder.package_versions()}")
    curated = builder.read_curated(RESOURCES / "language_aliases.tsv")
    lang_text, alias_text, summary = builder.build(shared_data / "metadata", curated)
    assert summary["rows"] >= 7000
    assert lang_text == (RESOURCES / "languages.tsv").read_text(encoding="utf-8")
    assert alias_text == (RESOURCES / "language_aliases.tsv").read_text(encoding="utf-8")


def test_wiktionary_dictionary_names_resolve(cat, shared_data):
    folder = shared_data / "lexicons" / "wiktionary"
    if not folder.is_dir():
        pytest.skip("no Wiktionary dictionaries staged")
    names = [p.stem for p in folder.glob("*.txt")]
    assert len(names) > 3000
    resolved = [n for n in names if cat.find(n, context="wiktionary") is not None]
    assert len(resolved) / len(names) > 0.99


def test_staged_codes_resolve_to_the_staged_keys(cat, shared_data):
    path = shared_data / "metadata" / "languages_staged.tsv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    resources = list(rows[0])[9:20]
    misses = []
    for r in rows:
        for res in resources:
            for code in filter(None, r[res].split("|")):
                got = cat.lookup(code, context=res, resolve_macro=False).iso639_3
                if got != r["iso639_3"]:
                    misses.append((res, code, r["iso639_3"], got))
    assert misses == [("gatitos", "cpf", "cpf", "jam")]  # the one curated correction


# --------------------------------------------------------------------------- CLI
def test_cli_lookup(capsys):
    from lexiconlm.cli.main import main

    assert main(["languages", "swahili", "zh-Hant-TW"]) == 0
    out = capsys.readouterr().out
    assert "swh" in out and "cmn" in out and "Bantu" in out


def test_cli_unknown_language(capsys):
    from lexiconlm.cli.main import main

    assert main(["languages", "swahilli"]) == 2
    err = capsys.readouterr().err
    assert "Unknown language 'swahilli'. Did you mean:" in err


def test_cli_summary_and_filters(capsys):
    from lexiconlm.cli.main import main

    assert main(["languages"]) == 0
    out = capsys.readouterr().out
    assert "languages" in out and "Atlantic-Congo" in out
    assert main(["languages", "--family", "Kartvelian", "--tsv"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert lines[0].split("\t") == list(LANGUAGE_COLUMNS)
    assert lines[1].startswith("kat\tGeorgian\t")  # most spoken first
    assert main(["languages", "jap", "--context", "sigmorphon2023", "--tsv"]) == 0
    assert capsys.readouterr().out.split("\n")[1].startswith("jpn\t")
    assert main(["languages", "swa", "--keep-macro", "--detail"]) == 0
    out = capsys.readouterr().out
    assert "swh" in out and "default member" in out
    assert main(["languages", "--search", "greek", "--limit", "3", "--tsv"]) == 0
    assert len(capsys.readouterr().out.strip().split("\n")) == 4
