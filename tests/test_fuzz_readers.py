"""Property tests of every reader/writer pair in lexiconlm.io (cases in ``fuzz_cases.py``).

Round trip: any valid record set written and read back gives the same records, and a second
write gives the same bytes. Any bytes: a reader ends in records or a DataFormatError naming
the file and a line inside it, never another exception. ``benchmarks/fuzz_readers.py`` runs
the same cases with a few thousand examples each.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_cases import (
    ANY_BYTES,
    ANY_BYTES_DATA,
    ROUND_TRIPS,
    check_any_bytes,
    check_inspect,
    scratch_dir,
)
from hypothesis import HealthCheck, given, settings

_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_round_trip(name):
    case = ROUND_TRIPS[name]

    @_SETTINGS
    @given(case.records)
    def run(records):
        with scratch_dir() as d:
            case.check(records, Path(d))

    run()


@pytest.mark.parametrize("name", sorted(ANY_BYTES))
def test_any_bytes_end_in_records_or_a_located_data_error(name):
    file_name, reader = ANY_BYTES[name]

    @_SETTINGS
    @given(ANY_BYTES_DATA)
    def run(data):
        with scratch_dir() as d:
            check_any_bytes(reader, Path(d) / file_name, data)

    run()


@_SETTINGS
@given(ANY_BYTES_DATA)
def test_inspect_never_raises_for_bad_data(data):
    with scratch_dir() as d:
        check_inspect(Path(d) / "data.tsv", data)


#: Inputs the fuzzing found that broke a reader (each was another exception than
#: DataFormatError, or text that is not Unicode); kept so that they stay fixed.
FOUND = [
    ("sigmorphon-detected", b"\t\xef\xbb\xbf"),  # a blank line once U+FEFF is removed
    ("sigmorphon-predictions", b"a\tb\tV;PST\n\xef\xbb\xbf\n"),
    ("massive-jsonl", b"[" * 3000),  # RecursionError from json
    ("massive-jsonl", b"9" * 4301),  # ValueError: int longer than 4300 digits
    ("massive-jsonl", b'{"id": "1", "intent": "a_b", "annot_utt": "x \\ud800"}\n'),  # surrogate
    ("detected (read_any)", b'{"annot_utt": "x", "id": "1", "intent": "a_b", "z": ' + b"[" * 3000),
]


@pytest.mark.parametrize("name, data", FOUND)
def test_inputs_the_fuzzing_found(name, data):
    file_name, reader = ANY_BYTES[name]
    with scratch_dir() as d:
        check_any_bytes(reader, Path(d) / file_name, data)
