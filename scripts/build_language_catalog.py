#!/usr/bin/env python
"""Build ``resources/languages.tsv`` and ``resources/language_aliases.tsv``.

Sources (see ``resources/PROVENANCE.md``, section "Language catalog"):

* the metadata folder (default ``../shared/data/metadata``): LinguaMeta
  (``linguameta.tsv``), Glottolog (``glottolog_languages_compact.tsv``), WALS
  (``wals_languages.csv``) and the index of the project's staged data
  (``languages_staged.tsv``);
* the offline packages ``iso639-lang`` (the ISO 639-3 code table, scopes,
  types, retired codes), ``langcodes`` (CLDR likely scripts, macrolanguage and
  locale aliases, IANA replacements) and ``language_data`` (CLDR English names
  and autonyms, Wiktionary's language list).

Usage::

    python scripts/build_language_catalog.py                 # ../shared/data/metadata -> resources/
    python scripts/build_language_catalog.py META_DIR --out resources
    python scripts/build_language_catalog.py --check         # exit 1 if the committed files differ

The output is deterministic (rows sorted, no timestamps) and written atomically.
Rows of ``language_aliases.tsv`` whose note starts with ``curated:`` are kept as
they are; every other alias row is regenerated.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lexiconlm.languages import (  # noqa: E402
    ALIAS_COLUMNS,
    ALIASES_FILE,
    LANGUAGE_COLUMNS,
    LANGUAGES_FILE,
    MACRO_CONTEXT,
    LanguageCatalog,
    name_key,
)

DEFAULT_METADATA = REPO.parent / "shared" / "data" / "metadata"
# The package versions that built the committed files; other versions may give other rows.
BUILT_WITH = {"iso639-lang": "2.6.3", "langcodes": "3.5.1", "language-data": "1.4.0"}
CURATED_PREFIX = "curated:"

# Glottolog's pseudo-family for spurious or retired codes says nothing about the language.
GLOTTOLOG_NON_FAMILIES = {"Bookkeeping"}
ISOLATE = "Isolate"
# Wiktionary's own script codes that stand for an ISO 15924 script.
WIKTIONARY_SCRIPTS = {"Latinx": "Latn", "polytonic": "Grek"}
# ISO 15924 codes for "no script", "undetermined", "inherited", symbols: not writing systems of a language.
NOT_SCRIPTS = {"Zxxx", "Zyyy", "Zzzz", "Zinh", "Zmth", "Zsym", "Zsye"}
SCOPE_LETTER = {"Individual": "I", "Macrolanguage": "M", "Special": "S"}
TYPE_LETTER = {"Living": "L", "Extinct": "E", "Ancient": "A", "Historical": "H", "Constructed": "C", "Special": "S"}
RETIRE_REASON = {
    "C": "changed",
    "CC": "changed",
    "D": "duplicate",
    "N": "non-existent",
    "S": "split",
    "M": "merged",
    "Dep": "deprecated",
}
SOURCE_ORDER = ("iso639", "linguameta", "glottolog", "wals", "cldr", "wiktionary", "staged")
STAGED_RESOURCES = (
    "sigmorphon2020",
    "sigmorphon2021",
    "sigmorphon2022",
    "sigmorphon2023",
    "unimorph",
    "gatitos",
    "massive",
    "masakhaner",
    "bible",
    "udhr",
    "flores200_dev",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages in :data:`BUILT_WITH` ('' when missing)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in BUILT_WITH:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = ""
    return out


# ---------------------------------------------------------------------------- readers
def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def clean(text: str) -> str:
    """One line of text without the characters that would break the TSV or the name list."""
    return " ".join(text.replace("|", " ").replace("\t", " ").split())


def fmt_coord(value: str) -> str:
    if not value:
        return ""
    x = round(float(value), 4)
    return f"{x:.4f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


class Sources:
    """Everything the builder reads, loaded once."""

    def __init__(self, metadata: Path):
        try:
            import iso639
            import language_data
            from iso639.datafile import load_file
            from langcodes import data_dicts
            from language_data.name_data import CODE_TO_NAMES
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise SystemExit(
                f"{exc}: rebuilding the catalog needs the catalog extras: pip install 'lexiconlm[catalog]'"
            ) from None
        for name in ("linguameta.tsv", "glottolog_languages_compact.tsv", "wals_languages.csv", "languages_staged.tsv"):
            if not (metadata / name).is_file():
                raise SystemExit(f"{metadata / name} not found: give the metadata folder as the first argument")

        # ISO 639 (iso639-lang)
        self.iso: dict[str, dict[str, str]] = {}
        self.iso_other: dict[str, list[str]] = {}
        self.collective_names: dict[str, str] = {}
        for lang in iso639.iter_langs():
            if lang.pt3:
                self.iso[lang.pt3] = {
                    "name": lang.name,
                    "pt1": lang.pt1,
                    "pt2b": lang.pt2b,
                    "pt2t": lang.pt2t,
                    "scope": SCOPE_LETTER.get(lang.scope() or "", ""),
                    "type": TYPE_LETTER.get(lang.type() or "", ""),
                    "macro": (lang.macro().pt3 if lang.macro() else ""),
                }
                self.iso_other[lang.pt3] = list(lang.other_names())
            elif lang.pt5 or lang.pt2b:
                self.collective_names[lang.pt5 or lang.pt2b] = lang.name
        self.deprecated: dict[str, dict[str, str]] = load_file("mapping_deprecated")["id"]
        self.pt1 = {v["pt1"]: k for k, v in self.iso.items() if v["pt1"]}

        # langcodes (CLDR + IANA)
        self.likely: dict[str, str] = data_dicts.LIKELY_SUBTAGS
        self.replacements: dict[str, str] = data_dicts.LANGUAGE_REPLACEMENTS
        self.cldr_macro: dict[str, str] = data_dicts.NORMALIZED_MACROLANGUAGES
        self.valid_scripts: set[str] = set(data_dicts.ALL_SCRIPTS)

        # language_data: CLDR names, Wiktionary language list, IANA Suppress-Script
        self.cldr_names = CODE_TO_NAMES
        ld = Path(language_data.__file__).parent / "data"
        self.wiktionary: dict[str, dict] = {}
        for line in open(ld / "wiktionary" / "codes-en.csv", encoding="utf-8"):
            p = line.rstrip("\n").split("\t")
            if len(p) < 5:
                continue
            self.wiktionary[p[0]] = {
                "name": p[1],
                "scripts": [s for s in p[3].split(", ") if s],
                "other": [s for s in p[4].split(", ") if s],
            }
        self.suppress_script: dict[str, str] = {}
        for block in (ld / "language-subtag-registry.txt").read_text(encoding="utf-8").split("%%"):
            fields = dict(
                line.split(": ", 1) for line in block.strip().split("\n") if ": " in line and not line.startswith(" ")
            )
            if fields.get("Type") == "language" and "Suppress-Script" in fields:
                self.suppress_script[fields["Subtag"]] = fields["Suppress-Script"]

        # metadata folder
        self.lm = {r["iso_639_3_code"]: r for r in read_tsv(metadata / "linguameta.tsv")}
        self.glotto = read_tsv(metadata / "glottolog_languages_compact.tsv")
        self.glotto_by_code = {r["glottocode"]: r for r in self.glotto}
        self.glotto_by_iso: dict[str, dict[str, str]] = {}
        for r in sorted(self.glotto, key=lambda r: (r["level"] != "language", r["glottocode"])):
            if r["iso639_3"]:
                self.glotto_by_iso.setdefault(r["iso639_3"], r)
        self.wals: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in read_csv(metadata / "wals_languages.csv"):
            if r["ISO639P3code"] and r["Family"]:
                self.wals[r["ISO639P3code"]].append(r)
        self.staged = read_tsv(metadata / "languages_staged.tsv")

    def code_of(self, tag: str) -> str:
        """ISO 639-3 code of a 2- or 3-letter language subtag ('' when unknown)."""
        tag = tag.lower()
        if tag in self.iso:
            return tag
        return self.pt1.get(tag, "")

    def short(self, code: str) -> str:
        return self.iso.get(code, {}).get("pt1") or code


# ---------------------------------------------------------------------------- languages.tsv
def wals_best(src: Sources, code: str, glottocode: str) -> dict[str, str] | None:
    rows = src.wals.get(code)
    if not rows:
        return None
    return sorted(
        rows,
        key=lambda r: (
            r["Glottocode"] != glottocode,
            r["Samples_200"] != "true",
            r["Samples_100"] != "true",
            r["ID"],
        ),
    )[0]


def glottolog_family(src: Sources, g: dict[str, str] | None) -> str:
    if g is None:
        return ""
    if g["is_isolate"] == "true":
        return ISOLATE
    fam = g["family_name"]
    if not fam and g["level"] == "dialect" and g["parent_language_glottocode"]:
        parent = src.glotto_by_code.get(g["parent_language_glottocode"])
        if parent is not None and parent["is_isolate"] == "true":
            return ISOLATE
        fam = parent["family_name"] if parent else ""
    return "" if fam in GLOTTOLOG_NON_FAMILIES else fam


def iso15924(src: Sources, token: str) -> str:
    token = WIKTIONARY_SCRIPTS.get(token, token)
    if "-" in token:
        token = token.rsplit("-", 1)[1]
    return token if token in src.valid_scripts else ""


def scripts_for(src: Sources, code: str, lm: dict[str, str] | None) -> list[str]:
    """ISO 15924 codes, most used first: CLDR likely script, IANA Suppress-Script,
    Wiktionary's order, then LinguaMeta's (alphabetical) list."""
    short = src.short(code)
    tags = [short]
    if code in src.cldr_macro or short in src.cldr_macro:  # CLDR treats arb as ar, swh as sw, ...
        tags.append(src.cldr_macro.get(code) or src.cldr_macro[short])
    likely = ""
    for t in tags:
        parts = src.likely.get(t, "").split("-")
        if len(parts) > 1 and parts[1] in src.valid_scripts:
            likely = parts[1]
            break
    suppress = src.suppress_script.get(short, "")
    wikt_entry = src.wiktionary.get(short) or src.wiktionary.get(code)
    wikt = [s for s in (iso15924(src, t) for t in (wikt_entry or {}).get("scripts", [])) if s]
    lm_scripts = [s for s in (lm or {}).get("writing_systems", "").split(", ") if s in src.valid_scripts]
    if lm_scripts:  # LinguaMeta says which scripts; CLDR and Wiktionary only order them
        pool = lm_scripts
        first = [likely, suppress]
    else:  # no LinguaMeta data: Wiktionary's scripts (what its entries use) before CLDR's guess
        pool = list(dict.fromkeys(wikt + [x for x in (likely, suppress) if x]))
        first = wikt[:1]
    pool = [s for s in pool if s not in NOT_SCRIPTS]

    def rank(s: str) -> tuple:
        return (
            first.index(s) if s in first else 9,
            wikt.index(s) if s in wikt else 99,
            lm_scripts.index(s) if s in lm_scripts else 99,
            s,
        )

    return sorted(pool, key=rank)


def alt_name_list(src: Sources, code: str, primary: str, lm, g, wals_rows, extra=()) -> list[str]:
    """Alternate names in priority order (first = most authoritative), without the primary name."""
    iso = src.iso.get(code, {})
    short = src.short(code)
    names: list[str] = []
    if iso:
        names.append(iso["name"])
    if lm:
        names.append(lm["english_name"])
    if g:
        names.append(g["name"])
    cldr = src.cldr_names.get(short, {}).get("en") or src.cldr_names.get(code, {}).get("en")
    if cldr:
        names.append(cldr)
    w = src.wiktionary.get(short) or src.wiktionary.get(code)
    if w:
        names.append(w["name"])
    names.extend(r["Name"] for r in sorted(wals_rows or (), key=lambda r: r["ID"]))
    names.extend(extra)
    # ISO "other names", dropping the inverted index forms ("Arapesh, Abu'") of names already listed
    others = src.iso_other.get(code, [])
    if w:
        others = others + w["other"]
    names.extend(others)
    # names with a parenthesised qualifier also count without it ("Bulu (Cameroon)" -> "Bulu")
    names.extend(re.sub(r"\s*\([^)]*\)", "", n) for n in list(names) if "(" in n)
    seen = {name_key(primary)}
    out = []
    for n in names:
        n = clean(n)
        if ", " in n:
            a, _, b = n.partition(", ")
            if name_key(f"{b} {a}") in seen or name_key(f"{b} {a}") in {name_key(x) for x in names}:
                continue
        k = name_key(n)
        if k and k not in seen:
            seen.add(k)
            out.append(n)
    return out


def build_rows(src: Sources) -> list[dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for code, iso in src.iso.items():
        lm = src.lm.get(code)
        used = {"iso639"}
        glottocode = (lm or {}).get("glottocode", "")
        g = src.glotto_by_code.get(glottocode) if glottocode else None
        if g is None or (g["iso639_3"] and g["iso639_3"] != code):
            g = src.glotto_by_iso.get(code) or g
        if g is not None:
            glottocode = glottocode or g["glottocode"]
            used.add("glottolog")
        w = wals_best(src, code, glottocode)
        if w is not None:
            used.add("wals")
        if lm is not None:
            used.add("linguameta")
        name = clean(lm["english_name"]) if lm and lm["english_name"] else iso["name"]
        if name.casefold() == iso["name"].casefold():  # LinguaMeta capitalises after apostrophes ("Ga'Anda")
            name = iso["name"]
        scripts = scripts_for(src, code, lm) if iso["scope"] != "S" else []
        short = src.short(code)
        if src.likely.get(short) or src.cldr_names.get(short, {}).get("en"):
            used.add("cldr")
        if short in src.wiktionary or code in src.wiktionary:
            used.add("wiktionary")
        lat = lon = ""
        if g is not None and g["latitude"]:
            lat, lon = g["latitude"], g["longitude"]
        elif w is not None and w["Latitude"]:
            lat, lon = w["Latitude"], w["Longitude"]
        speakers = (lm or {}).get("estimated_number_of_speakers", "")
        endonym = clean((lm or {}).get("endonym", "")) or clean(src.cldr_names.get(short, {}).get(short, ""))
        rows[code] = {
            "iso639_3": code,
            "name": name,
            "iso639_1": iso["pt1"],
            "family": glottolog_family(src, g),
            "genus": w["Genus"] if w else "",
            "scripts": " ".join(scripts),
            "speakers": str(int(float(speakers))) if speakers else "",
            "endangerment": (lm or {}).get("endangerment_status", ""),
            "macroarea": (g["macroarea"] if g and g["macroarea"] else (w["Macroarea"] if w else "")),
            "latitude": fmt_coord(lat),
            "longitude": fmt_coord(lon),
            "glottocode": glottocode,
            "macrolanguage": iso["macro"],
            "scope": iso["scope"],
            "type": iso["type"],
            "endonym": endonym,
            "alt_names": "|".join(alt_name_list(src, code, name, lm, g, src.wals.get(code))),
            "sources": ",".join(s for s in SOURCE_ORDER if s in used),
        }
    # macrolanguages: family / genus / macroarea / scripts from their members when these agree
    members: dict[str, list[str]] = defaultdict(list)
    for code, r in rows.items():
        if r["macrolanguage"]:
            members[r["macrolanguage"]].append(code)
    for macro, codes in members.items():
        if macro not in rows:
            continue
        for col in ("family", "genus", "macroarea"):
            values = {rows[c][col] for c in codes if rows[c][col]}
            if not rows[macro][col] and len(values) == 1:
                rows[macro][col] = values.pop()
        if rows[macro]["scripts"]:
            first = rows[macro]["scripts"].split()[0]
            for c in codes:  # a member with no script data is written like its macrolanguage
                if not rows[c]["scripts"]:
                    rows[c]["scripts"] = first
    # varieties the staged data keys without an ISO 639-3 code (e.g. Pomak, the Berber collective)
    for s in src.staged:
        code = s["iso639_3"]
        if code in rows:
            continue
        g = src.glotto_by_code.get(s["glottocode"]) if s["glottocode"] else None
        fam = glottolog_family(src, g) or (ISOLATE if s["family_glottolog"] == "isolate" else s["family_glottolog"])
        collective = code in src.collective_names
        name = src.collective_names.get(code) or s["name"]
        scripts = [x for x in (s["scripts_observed"].split(";") + s["linguameta_scripts"].split(";")) if x]
        rows[code] = {
            "iso639_3": code,
            "name": name,
            "iso639_1": "",
            "family": fam,
            "genus": "",
            "scripts": " ".join(dict.fromkeys(scripts)),
            "speakers": "",
            "endangerment": "",
            "macroarea": s["macroarea"] or (g["macroarea"] if g else ""),
            "latitude": fmt_coord(g["latitude"]) if g else "",
            "longitude": fmt_coord(g["longitude"]) if g else "",
            "glottocode": s["glottocode"],
            "macrolanguage": "",
            "scope": "C" if collective else "I",
            "type": "" if collective else "L",
            "endonym": "",
            "alt_names": "|".join(
                n for n in [clean(re.sub(r"\s*\(.*\)$", "", s["name"]))] if name_key(n) != name_key(name)
            ),
            "sources": ",".join(["iso639", "staged"] if collective else ["staged"]),
        }
    return [rows[c] for c in sorted(rows)]


def languages_text(rows: list[dict[str, str]]) -> str:
    lines = ["\t".join(LANGUAGE_COLUMNS)]
    for r in rows:
        lines.append("\t".join(r[c] for c in LANGUAGE_COLUMNS))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- aliases
class AliasTable:
    """Alias rows keyed by (context, alias); the first row for a key wins."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[str, str, str, str]] = {}

    def add(self, alias: str, target: str, context: str, note: str) -> None:
        key = (context, alias.lower())
        if key not in self.rows:
            self.rows[key] = (alias, target, context, clean(note))

    def text(self) -> str:
        lines = ["\t".join(ALIAS_COLUMNS)]
        for key in sorted(self.rows):
            lines.append("\t".join(self.rows[key]))
        return "\n".join(lines) + "\n"


def read_curated(path: Path) -> list[tuple[str, str, str, str]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").split("\n")[1:]:
        f = line.split("\t")
        if len(f) == 4 and f[3].startswith(CURATED_PREFIX):
            out.append((f[0], f[1], f[2], f[3]))
    return out


def locale_regions(src: Sources, code: str) -> tuple[set[str], set[str], set[str]]:
    """(regions where LinguaMeta lists the language, where it is official, where regionally official)."""
    lm = src.lm.get(code) or {}
    regions = {x for x in lm.get("locales", "").split(", ") if x}
    status = lm.get("cldr_official_status", "")
    official = set(re.findall(r"(?<!Regional )Official \[([A-Z0-9]+)\]", status))
    regional = set(re.findall(r"Regional official \[([A-Z0-9]+)\]", status))
    return regions, official, regional


def region_winner(src: Sources, members: list[str], default: str, region: str) -> str:
    """The member of a macrolanguage that a ``macro-REGION`` tag stands for ('' = the default).

    The default wins if LinguaMeta lists it there. Otherwise: the one member that
    is official there, else the one regionally official there, else the one
    member spoken there if that region is the only one LinguaMeta lists for it
    (``ar-MA`` -> Moroccan Arabic, but no row for ``ar-AE``, where only a
    minority variety is listed).
    """
    info = {m: locale_regions(src, m) for m in members}
    cands = [m for m in members if region in info[m][0]]
    if not cands or default in cands:
        return ""
    for level in (1, 2):
        officials = [m for m in cands if region in info[m][level]]
        if len(officials) == 1:
            return officials[0]
        if officials:
            return ""
    if len(cands) == 1 and info[cands[0]][0] == {region}:
        return cands[0]
    return ""


def build_global_aliases(src: Sources, rows: list[dict[str, str]], table: AliasTable) -> None:
    codes = {r["iso639_3"] for r in rows}
    pt1 = {r["iso639_1"] for r in rows if r["iso639_1"]}

    def free(alias: str) -> bool:  # an alias must never shadow a real code
        a = alias.lower()
        return a not in codes and a not in pt1

    def resolve(value: str, hops: int = 4) -> str:
        v = value
        for _ in range(hops):
            c = src.code_of(v) if re.fullmatch(r"[a-z]{2,3}", v) else ""
            if c and c in codes:
                return c
            if v in src.replacements and src.replacements[v] != v:
                v = src.replacements[v]
                continue
            return ""
        return ""

    # LinguaMeta BCP-47 codes and deprecated codes (sh -> hbs, iw -> heb, ...)
    for code, lm in sorted(src.lm.items()):
        if code not in codes:
            continue
        for alias, why in (
            (lm["bcp_47_code"], "LinguaMeta BCP-47 code"),
            (lm["deprecated_bcp_47_code"], "deprecated BCP-47 code (LinguaMeta)"),
        ):
            if alias and alias != code and free(alias) and "-" not in alias:
                table.add(alias, code, "", why)
    # ISO 639-2/B codes
    for code, iso in sorted(src.iso.items()):
        if iso["pt2b"] and iso["pt2b"] != code and free(iso["pt2b"]):
            table.add(iso["pt2b"], code, "", "ISO 639-2/B code (iso639-lang)")
    # retired ISO 639-3 codes
    for old, d in sorted(src.deprecated.items()):
        if not free(old):
            continue
        target = d.get("change_to", "")
        target = target if target in codes else ""
        why = RETIRE_REASON.get(d.get("reason", ""), d.get("reason", ""))
        remedy = d.get("ret_remedy", "") or (f"use [{target}]" if target else "no replacement")
        table.add(
            old,
            target,
            "",
            f"retired ISO 639-3 code {old} ({d.get('name', '')}), "
            f"{why} {d.get('effective', '')}: {remedy} (iso639-lang)",
        )
    # IANA / CLDR replacements (deprecated 2-letter codes, grandfathered tags)
    for old, new in sorted(src.replacements.items()):
        if not free(old) or old.startswith("und") or re.fullmatch(r"[a-z]{2,3}", old) and old in src.iso:
            continue
        target = resolve(new)
        if target:
            table.add(old, target, "", f"IANA/CLDR replacement {old} -> {new} (langcodes)")


def build_macro_aliases(src: Sources, rows: list[dict[str, str]], table: AliasTable) -> dict[str, str]:
    """Macrolanguage defaults and regional members (context ``macrolanguage``); returns macro -> default."""
    by_code = {r["iso639_3"]: r for r in rows}
    members: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["macrolanguage"]:
            members[r["macrolanguage"]].append(r["iso639_3"])
    defaults: dict[str, tuple[str, str]] = {}
    # 1. the project's normalisations in languages_staged.tsv (source code = macrolanguage)
    for s in src.staged:
        target = s["iso639_3"]
        for c in s["source_codes"].split(","):
            macro = src.code_of(c)
            if macro and macro != target and by_code.get(macro, {}).get("scope") == "M" and target in members[macro]:
                defaults.setdefault(
                    macro,
                    (
                        target,
                        f"default individual language: the staged data normalises {c} to {target} "
                        "(languages_staged.tsv)",
                    ),
                )
    # 2. CLDR macrolanguage aliases (arb = ar, swh = sw, cmn = zh, ...); where CLDR maps
    #    several members to one macrolanguage (fat, tw = ak), the most spoken one
    cldr: dict[str, list[str]] = defaultdict(list)
    for member_tag, macro_tag in sorted(src.cldr_macro.items()):
        member, macro = src.code_of(member_tag), src.code_of(macro_tag)
        if member in members.get(macro, ()):
            cldr[macro].append(member)
    for macro, ms in sorted(cldr.items()):
        if macro in defaults:
            if defaults[macro][0] not in ms:
                t, note = defaults[macro]
                defaults[macro] = (t, f"{note}; CLDR's default is {'/'.join(ms)}")
            continue
        best = sorted(ms, key=lambda m: (-int(by_code[m]["speakers"] or 0), m))[0]
        defaults[macro] = (
            best,
            "default individual language: CLDR macrolanguage alias (langcodes)"
            + (f"; CLDR also maps {'/'.join(m for m in ms if m != best)}, less spoken" if len(ms) > 1 else ""),
        )
    for macro, (target, note) in sorted(defaults.items()):
        table.add(macro, target, MACRO_CONTEXT, note)
        if src.short(macro) != macro:
            table.add(src.short(macro), target, MACRO_CONTEXT, note)
    default_of = {m: t for m, (t, _) in defaults.items()}

    # 3. locale-specific members: CLDR locale aliases (prs = fa-AF), then LinguaMeta locales
    for member, tag in sorted(src.replacements.items()):
        parts = tag.split("-")
        if len(parts) == 2 and re.fullmatch(r"[A-Z]{2}|[0-9]{3}", parts[1]):
            macro = src.code_of(parts[0])
            if member in members.get(macro, ()) and member != default_of.get(macro):
                table.add(
                    f"{src.short(macro)}-{parts[1]}",
                    member,
                    MACRO_CONTEXT,
                    f"CLDR locale alias {member} = {tag} (langcodes)",
                )
    region_of: dict[tuple[str, str], str] = {}
    for macro, ms in sorted(members.items()):
        if by_code.get(macro, {}).get("scope") != "M":
            continue
        regions = sorted(r for r in set().union(*(locale_regions(src, m)[0] for m in ms)) if r.isalpha())
        for region in regions:
            w = region_winner(src, sorted(ms), default_of.get(macro, ""), region)
            if w:
                region_of[(macro, region)] = w
                table.add(
                    f"{src.short(macro)}-{region}",
                    w,
                    MACRO_CONTEXT,
                    f"{by_code[w]['name']} is the member of {macro} that LinguaMeta lists for {region}",
                )
        # script subtags, through CLDR's likely region for macro-Script
        for key, full in sorted(src.likely.items()):
            parts = key.split("-")
            if len(parts) == 2 and parts[0] == src.short(macro) and len(parts[1]) == 4:
                region = full.split("-")[-1]
                hit = table.rows.get((MACRO_CONTEXT, f"{src.short(macro)}-{region}".lower()))
                if hit:
                    table.add(key, hit[1], MACRO_CONTEXT, f"CLDR likely subtags {key} -> {full}; {hit[3]}")
    return default_of


def build_context_aliases(src: Sources, catalog: LanguageCatalog, table: AliasTable) -> None:
    """Codes of particular resources that the global rules resolve differently."""
    # staged resources: every file code that does not already resolve to the staged language
    for s in src.staged:
        target = s["iso639_3"]
        if target not in catalog:
            continue
        for col in STAGED_RESOURCES:
            for c in s.get(col, "").split("|"):
                if not c:
                    continue
                hit = catalog.find(c, resolve_macro=False)
                if hit is not None and hit.iso639_3 == target:
                    continue
                note = f"{col} file code for {target} (languages_staged.tsv)"
                if s.get("note"):
                    note += f"; {s['note']}"
                table.add(c, target, col, note)
    # Wiktionary language names (file names of Wiktionary-derived dictionaries)
    for wcode, w in sorted(src.wiktionary.items()):
        base = wcode.split("-")[0]
        if not re.fullmatch(r"[a-z]{2,3}", base) or wcode.endswith("-pro"):
            continue  # family codes and reconstructed proto-languages have no ISO 639-3 code
        lang = catalog.find(base, resolve_macro=False, names=False)
        if lang is None or ("-" in wcode and lang.scope in ("M", "C")):
            continue  # retired without replacement, or a variety of something too vague
        target = lang.iso639_3
        hit = catalog.find(w["name"], resolve_macro=False)
        if hit is not None and hit.iso639_3 == target:
            continue
        if "-" in wcode:
            note = f"Wiktionary code {wcode}, a variety of {target} ({lang.name})"
        elif wcode != target and src.short(target) != wcode:
            note = f"Wiktionary code {wcode} (now {target})"
        else:
            note = f"Wiktionary code {wcode}"
        table.add(w["name"], target, "wiktionary", note + " (language_data)")


def build(metadata: Path, curated: list[tuple[str, str, str, str]] = ()) -> tuple[str, str, dict]:
    """Build both files' text from the metadata folder; returns (languages, aliases, summary)."""
    src = Sources(metadata)
    rows = build_rows(src)
    lang_text = languages_text(rows)

    table = AliasTable()
    for alias, target, context, note in curated:
        table.add(alias, target, context, note)
    build_global_aliases(src, rows, table)
    build_macro_aliases(src, rows, table)
    catalog = LanguageCatalog.from_text(lang_text, table.text(), source="build")
    build_context_aliases(src, catalog, table)
    alias_text = table.text()
    LanguageCatalog.from_text(lang_text, alias_text, source="build")  # validates every row

    n = len(rows)
    summary = {
        "rows": n,
        "iso639_3 codes": sum(1 for r in rows if r["iso639_3"] in src.iso),
        "with family": sum(1 for r in rows if r["family"]),
        "with genus": sum(1 for r in rows if r["genus"]),
        "with scripts": sum(1 for r in rows if r["scripts"]),
        "with coordinates": sum(1 for r in rows if r["latitude"]),
        "with speakers": sum(1 for r in rows if r["speakers"]),
        "with glottocode": sum(1 for r in rows if r["glottocode"]),
        "aliases": len(table.rows),
        "aliases by context": dict(sorted(Counter(k[0] or "(global)" for k in table.rows).items())),
    }
    return lang_text, alias_text, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "metadata",
        nargs="?",
        type=Path,
        default=DEFAULT_METADATA,
        help=f"the metadata folder (default: {DEFAULT_METADATA})",
    )
    ap.add_argument("--out", type=Path, default=REPO / "resources", help="output folder (default: resources/)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the files in --out differ")
    args = ap.parse_args(argv)

    from lexiconlm.files import atomic_write_text

    lang_path, alias_path = args.out / LANGUAGES_FILE, args.out / ALIASES_FILE
    versions = package_versions()
    if versions != BUILT_WITH:
        print(
            f"note: installed {versions} differ from {BUILT_WITH}, which built the committed files; "
            "the output may differ (update BUILT_WITH and resources/PROVENANCE.md when committing it)"
        )
    lang_text, alias_text, summary = build(args.metadata, read_curated(alias_path))
    for k, v in summary.items():
        if isinstance(v, int) and k != "rows" and k != "aliases":
            print(f"{k:>18}: {v:,} ({v / summary['rows']:.1%})")
        else:
            print(f"{k:>18}: {v:,}" if isinstance(v, int) else f"{k:>18}: {v}")
    if args.check:
        same = all(
            p.is_file() and p.read_text(encoding="utf-8") == t
            for p, t in ((lang_path, lang_text), (alias_path, alias_text))
        )
        print("up to date" if same else f"{lang_path} or {alias_path} differs from a fresh build")
        return 0 if same else 1
    for path, text in ((lang_path, lang_text), (alias_path, alias_text)):
        atomic_write_text(path, text)
        path.chmod(0o644)
    print(
        f"wrote {lang_path} ({len(lang_text.encode()):,} bytes) and {alias_path} ({len(alias_text.encode()):,} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
