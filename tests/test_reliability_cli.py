"""Reliability: what a new user met on the first day, each as a regression test.

Usage errors print the usage and one ``Error:`` line (exit 2), never a traceback; lexiconlm's
own errors print one clean message (exit 1); options out of range, outputs that are folders,
empty results, scores of unrelated files, folders without data, unknown MASSIVE labels and
columns out of order are refused or warned about instead of passing in silence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lexiconlm.cli.main import main
from lexiconlm.errors import DataFormatError, OutputPathError
from lexiconlm.files import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
LEXICON = REPO / "resources" / "demo" / "lexicons" / "indonesian.txt"
SOURCE = REPO / "resources" / "demo" / "text" / "eng_udhr.tsv"


def _cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m lexiconlm ARGS`` in a fresh process (what a user's shell sees)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "lexiconlm", *args], capture_output=True, text=True, env=env, timeout=120, cwd=REPO
    )


# --------------------------------------------------------------------------- 1. usage errors


def test_usage_errors_exit_2_without_a_traceback_in_a_real_process():
    r = _cli("synth", "mono", "-l", "x")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "Usage: lexiconlm synth mono" in r.stderr
    assert [ln for ln in r.stderr.splitlines() if ln.startswith("Error:")] == [
        "Error: Missing option '--source' / '-s'."
    ]
    bare = _cli("synth")  # a group without its command: the help, as a usage error
    assert bare.returncode == 2 and "Traceback" not in bare.stderr
    assert "Usage: lexiconlm synth" in bare.stdout + bare.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        (["synth", "mono", "-l", "x", "-s", "y", "-o", "z", "--limit", "abc"], "'--limit'"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["inspect"], "Missing argument"),
        (["sigmorphon", "score", "-g", "a"], "Missing option '--pred'"),
        (["nlu", "eval", "--nonsense"], "No such option: --nonsense"),
        (["adapt", "plan", "--bogus", "1"], "No such option: --bogus"),
        (["coverage", "summary", "--top", "x"], "'--top'"),
    ],
)
def test_usage_errors_of_several_verbs(capsys, args, says):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_lexiconlm_errors_are_one_clean_message_exit_1(capsys, tmp_path):
    assert main(["inspect", str(tmp_path / "nothing-here")]) == 1
    err = capsys.readouterr().err.strip()
    missing = tmp_path / "nothing-here"
    assert err == f"{missing}: error: no such file or folder (fix: check the path)"


def test_unknown_names_stay_usage_errors(capsys):
    assert main(["languages", "swahilli"]) == 2
    assert "Did you mean" in capsys.readouterr().err


def test_os_errors_are_one_clean_message_exit_1(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code = main(["synth", "mono", "-l", str(LEXICON), "-s", str(SOURCE), "-o", str(blocker / "out.txt")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and err.startswith("error: ")


# --------------------------------------------------------------------------- 3. silent nothings


@pytest.mark.parametrize(
    "extra, says",
    [
        (["--min-ratio", "2.0"], "'--min-ratio'"),
        (["--min-ratio", "-0.5"], "'--min-ratio'"),
        (["--min-replaced", "-1"], "'--min-replaced'"),
        (["--limit", "0"], "'--limit'"),
        (["--limit", "-5"], "'--limit'"),
        (["--seed", "-1"], "'--seed'"),
    ],
)
def test_synth_options_out_of_range_are_usage_errors(capsys, tmp_path, extra, says):
    out = tmp_path / "out.txt"
    args = ["synth", "mono", "-l", str(LEXICON), "-s", str(SOURCE), "-o", str(out), *extra]
    assert main(args) == 2
    assert says in capsys.readouterr().err
    assert not out.exists()


def test_library_filters_are_range_checked(tmp_path):
    from lexiconlm.synth.batch import BatchConfig
    from lexiconlm.synth.pseudo_mono import check_filters, read_source

    with pytest.raises(ValueError, match="min_ratio must be between 0 and 1"):
        check_filters(0, 2.0)
    with pytest.raises(ValueError, match="min_replaced"):
        BatchConfig(min_replaced=-1)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        read_source(SOURCE, limit=0)
    assert len(read_source(SOURCE, limit=3)) == 3


def test_output_that_is_a_folder_is_refused_before_any_work(capsys, tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    assert main(["synth", "mono", "-l", str(LEXICON), "-s", str(SOURCE), "-o", str(folder)]) == 2
    assert "is a folder; give a file path" in capsys.readouterr().err
    with pytest.raises(OutputPathError, match="is a folder"):
        atomic_write_text(folder, "x")
    assert list(folder.iterdir()) == []  # no temporary file left behind


def test_empty_synthesis_result_is_an_error_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "out.txt"
    code = main(
        [
            "synth",
            "mono",
            "-l",
            str(LEXICON),
            "-s",
            str(SOURCE),
            "-o",
            str(out),
            "--min-ratio",
            "1.0",
            "--min-replaced",
            "1000",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "no sentence of" in err and "passed the filters" in err
    assert not out.exists()


def test_punctuation_only_source_is_warned_about(capsys, tmp_path):
    src = tmp_path / "punct.txt"
    src.write_text("!!!\n...\n?\n", encoding="utf-8")
    out = tmp_path / "o.txt"
    assert main(["synth", "mono", "-l", str(LEXICON), "-s", str(src), "-o", str(out)]) == 0
    assert "no words in the 3 source sentence(s)" in capsys.readouterr().err


def _sigmorphon_files(tmp_path: Path) -> tuple[Path, Path]:
    d = tmp_path / "2022_part1"
    d.mkdir()
    gold = d / "ang.dev"
    rows = [f"lemma{i}\tform{i}\tV;PST;{i % 3 + 1};SG\n" for i in range(6)]
    gold.write_text("".join(rows), encoding="utf-8")
    pred = d / "hun.dev"
    pred.write_text("".join(f"szó{i}\tszava{i}\tN;PL\n" for i in range(4)), encoding="utf-8")
    return gold, pred


def test_score_of_unrelated_files_warns_and_strict_fails(capsys, tmp_path):
    gold, pred = _sigmorphon_files(tmp_path)
    assert main(["sigmorphon", "score", "-g", str(gold), "-p", str(pred)]) == 0
    err = capsys.readouterr().err
    assert "no prediction matches a gold (lemma, features) pair" in err
    assert "(ang)" in err and "(hun)" in err
    assert main(["sigmorphon", "score", "-g", str(gold), "-p", str(pred), "--strict"]) == 1
    assert main(["sigmorphon", "score", "-g", str(gold), "-p", str(gold), "--strict"]) == 0


def test_match_warnings_are_empty_for_a_full_prediction():
    from lexiconlm.inflection.metrics import InflectionScores, match_warnings

    assert match_warnings(InflectionScores.from_counts(10, 7, 3)) == []
    assert "6 of 10" in match_warnings(InflectionScores.from_counts(10, 1, 30, n_missing=6))[0]
    assert match_warnings(InflectionScores.from_counts(0, 0, 0)) == []


def test_inspect_of_an_empty_folder_fails_and_says_why(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    assert main(["inspect", str(tmp_path / "empty")]) == 1
    out = capsys.readouterr()
    assert "no files to inspect in this folder" in out.out and "nothing was read" in out.err


def test_inspect_of_only_documentation_fails(capsys, tmp_path):
    (tmp_path / "README.md").write_text("hi\n", encoding="utf-8")
    assert main(["inspect", str(tmp_path)]) == 1
    assert "nothing was read: 1 non-data file(s) skipped" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_inspect_of_a_fifo_and_a_device_fails_without_blocking(capsys, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["inspect", str(fifo), "--json"]) == 1
    assert "a FIFO (named pipe); not read" in capsys.readouterr().out
    if Path("/dev/zero").exists():
        assert main(["inspect", "/dev/zero", "--json"]) == 1
        assert "character device" in capsys.readouterr().out
    folder = tmp_path / "mixed"
    folder.mkdir()
    os.mkfifo(folder / "pipe")
    (folder / "swh.txt").write_text("Habari\n", encoding="utf-8")
    assert main(["inspect", str(folder), "--json"]) == 1  # the FIFO is an error, the text is read
    out = capsys.readouterr().out
    assert "FIFO" in out and '"kind": "text"' in out


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_reading_a_device_is_refused_instead_of_reading_forever(tmp_path):
    # in a child process with a timeout: before the fix this read until memory ran out
    r = _cli("synth", "mono", "-l", "/dev/zero", "-s", str(SOURCE), "-o", str(tmp_path / "o.txt"))
    assert r.returncode == 1, r.stderr
    assert "/dev/zero: error: not a regular file (a device or socket)" in r.stderr


def test_detection_error_in_the_first_mib_has_a_fix(tmp_path):
    from lexiconlm.io.detect import detect_format

    big = tmp_path / "big.tsv"
    big.write_bytes(b"x" * ((1 << 20) + 10))
    with pytest.raises(DataFormatError) as exc:
        detect_format(big)
    p = exc.value.problems[0]
    assert "first MiB" in p.message and "--kind" in p.hint


def test_massive_unknown_slot_type_is_warned_at_read_time(tmp_path):
    from lexiconlm.io.massive import read_massive

    (tmp_path / "slots.tsv").write_text("slot\tcount\ntime\t3\ndate\t2\n", encoding="utf-8")
    (tmp_path / "intents.tsv").write_text("intent\tscenario\talarm_set\talarm\n", encoding="utf-8")
    (tmp_path / "test").mkdir()
    f = tmp_path / "test" / "sw-KE.tsv"
    f.write_text(
        "id\tintent\tannot_utt\n1\talarm_set\tniamshe [tme : saa tisa]\n2\talarm_set\tniamshe [time : saa kumi]\n",
        encoding="utf-8",
    )
    ds = read_massive(f)  # slots.tsv found one folder up
    warnings = [str(p) for p in ds.problems if p.severity == "warning"]
    assert any(":2: warning: unknown slot type 'tme'" in w and "did you mean: time" in w for w in warnings)
    assert len(ds) == 2
    explicit = read_massive(f, slots=["tme", "time"], intents=None)
    assert not [p for p in explicit.problems if "unknown" in p.message]
    assert not [p for p in read_massive(f, slots=None).problems if "slot type" in p.message]


# --------------------------------------------------------------------------- 2. column order


def test_unimorph_with_features_in_the_first_column_is_refused(tmp_path):
    from lexiconlm.io.unimorph import read_unimorph

    f = tmp_path / "eng.tsv"
    f.write_text(
        "V;PST;3;SG\twalk\twalked\nV;PRS;3;SG\twalk\twalks\nN;PL\tdog\tdogs\nN;SG\tdog\tdog\n", encoding="utf-8"
    )
    with pytest.raises(DataFormatError) as exc:
        read_unimorph(f)
    first = exc.value.problems[0]
    assert first.line == 1 and "features are in the first column" in first.message
    assert "print $2, $3, $1" in first.hint
    table = read_unimorph(f, errors="collect")
    assert len(table) == 0  # every line is an error, none read with its columns swapped
    assert {p.line for p in table.problems if p.severity == "error"} == {1, 2, 3, 4}


@pytest.mark.parametrize("edition", [None, "2022", "2023"])
def test_sigmorphon_in_features_form_lemma_order_is_refused(tmp_path, edition):
    from lexiconlm.io.sigmorphon import read_sigmorphon

    f = tmp_path / "hun.dev"
    f.write_text("V;PST\twalked\twalk\nV;PRS\twalks\twalk\nN;PL\tdogs\tdog\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="features are in the first column") as exc:
        read_sigmorphon(f, edition=edition)
    assert "hun.dev:1:" in str(exc.value) and "print $3, $2, $1" in str(exc.value)
    assert len(read_sigmorphon(f, edition=edition, errors="collect")) == 0


def test_negated_features_are_features():
    from lexiconlm.io.unimorph import clearly_not_features, looks_like_features

    assert looks_like_features("V;3;SG;non{PST}") and not clearly_not_features("non{NOM}")
    assert clearly_not_features("nonsense") and clearly_not_features("walked")
