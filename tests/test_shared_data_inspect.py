"""`lexiconlm inspect` over every staged file of ../shared/data: lexicons, UniMorph, SIGMORPHON, MASSIVE.

Every file is detected and read through the same path the CLI uses. Each record is accounted
for: records + duplicates removed + defective lines + blank lines + header == `wc -l`.
The only errors allowed are the source defects listed below, each checked by hand.
"""

from __future__ import annotations

import pytest
from helpers import file_lines

from lexiconlm.io.detect import inspect_path, iter_data_files

pytestmark = pytest.mark.shared_data

#: Lines that are genuinely defective in the source data (file relative to shared/data, line).
KNOWN_DEFECTS = {
    # a translation broken off onto a line of its own
    ("lexicons/gatitos/en_arn.tsv", 3235),
    # two entries glued together (missing line break)
    ("unimorph/ckb.arab.gold.tsv", 200),
    ("unimorph/ckb.arab.gold.tsv", 299),
    ("unimorph/ckb.latn.gold.tsv", 200),
    ("unimorph/ckb.latn.gold.tsv", 299),
    # features missing / feature bundle written twice
    ("unimorph/ckb.arab.gold.tsv", 950),
    ("unimorph/ckb.latn.gold.tsv", 950),
}

#: Files that are documentation, indexes or result tables, not records.
NOT_DATA = {
    "PROVENANCE.md",
    "languages.tsv",
    "intents.tsv",
    "slots.tsv",
    "languages_from_readme.tsv",
    "baseline_accuracy_computed.tsv",
    "submission_scores_BME.res.txt",
    "submission_scores_guclasp.res.txt",
    "part1_neural_dev.txt",
    "part1_neural_test.txt",
    "part1_nonneural_dev.txt",
    "part1_nonneural_test.txt",
    "part2_neural_dev.txt",
    "part2_neural_test.txt",
    "part2_nonneural_dev.txt",
    "part2_nonneural_test.txt",
    "preliminary_results_all_teams.txt",
}

FOLDERS = {
    "lexicons": "lexicon",
    "unimorph": "unimorph",
    "sigmorphon": "sigmorphon",
    "nlu/massive": "massive",
}


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_inspect_reads_every_staged_file(shared_data, folder):
    root = shared_data / folder
    files = iter_data_files(root)
    assert files, f"no files under {root}"
    seen_defects = set()
    n_records = 0
    for f in files:
        rel = f.relative_to(shared_data).as_posix()
        rep = inspect_path(f)
        if rep.kind == "not-data":
            assert f.name in NOT_DATA, f"{rel} was skipped as not data: {rep.stats}"
            continue
        assert f.name not in NOT_DATA, f"{rel} is a metadata/result file but was read as {rep.kind}"
        assert rep.kind == FOLDERS[folder], f"{rel} detected as {rep.kind}"
        errors = [p for p in rep.problems if p.severity == "error"]
        for p in errors:
            assert (rel, p.line) in KNOWN_DEFECTS, str(p)
            seen_defects.add((rel, p.line))
        blank, total = file_lines(f)
        assert rep.stats.get("blank lines", blank) == blank, f"{rel}: blank lines {rep.stats}"
        header = 1 if rep.kind == "massive" else 0
        dups = int(rep.stats.get("duplicates removed", 0))
        error_lines = len({p.line for p in errors})
        assert rep.n_records + dups + error_lines + blank + header == total, (
            f"{rel}: {rep.n_records} records + {dups} duplicates + {error_lines} bad lines "
            f"+ {blank} blank + {header} header != {total} lines"
        )
        n_records += rep.n_records
    assert seen_defects == {d for d in KNOWN_DEFECTS if d[0].startswith(folder)}
    assert n_records > 0


def test_massive_visible_test_locales(shared_data):
    """All 27 visible MASSIVE test files read completely: 2,974 utterances each."""
    files = sorted((shared_data / "nlu" / "massive" / "test").glob("*.tsv"))
    assert len(files) == 27
    for f in files:
        rep = inspect_path(f)
        assert rep.n_records == 2974 and rep.n_errors == 0, f
