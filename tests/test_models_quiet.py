"""Quiet loading (lexiconlm.models.quiet_transformers): transformers' load report stays off the
terminal and goes to a log file when one is given; its errors still show."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from lexiconlm import models as M  # noqa: E402

TEXTS = ["habari ya asubuhi", "maji ni uhai", "saya makan nasi"] * 4


def _tiny_folder(path: Path, *, extra: bool = True) -> Path:
    """A tiny pooler-less BertModel saved with one more weight than it has (``extra.unused.weight``)."""
    import torch
    from safetensors.torch import load_file, save_file

    from lexiconlm.training import build_tiny_model, save_model_folder

    model, tok = build_tiny_model(TEXTS, {"hidden_size": 8, "intermediate_size": 16}, masked_lm=False)
    save_model_folder(model, tok, path)
    if extra:
        st = path / "model.safetensors"
        sd = load_file(str(st))
        sd["extra.unused.weight"] = torch.zeros(2, 2)
        save_file(sd, str(st), metadata={"format": "pt"})
    return path


@pytest.fixture()
def folder(tmp_path):
    return _tiny_folder(tmp_path / "tiny")


@pytest.fixture()
def terminal(capsys):
    """What reaches the terminal: transformers' handler writes to the stream it was made with, so it
    is pointed at this test's captured stderr (and put back afterwards)."""
    import sys

    from transformers.utils import logging as tr_logging

    root = tr_logging.get_logger("transformers")
    # its own StreamHandler; pytest's log handlers (subclasses) can sit beside it
    streams = [(h, h.setStream(sys.stderr)) for h in root.handlers if type(h) is logging.StreamHandler]
    assert streams, "transformers' default handler is missing"
    yield capsys
    for h, old in streams:
        h.setStream(old)


def test_the_report_would_be_printed_without_the_helper(folder, terminal):
    """The case the helper is for: transformers reports the extra weight on the terminal."""
    from transformers import BertModel

    BertModel.from_pretrained(folder, add_pooling_layer=False)
    out, err = terminal.readouterr()
    assert "UNEXPECTED" in out + err and "extra.unused.weight" in out + err


def test_quiet_load_prints_nothing_and_logs_the_report(folder, tmp_path, terminal):
    from transformers import BertModel
    from transformers.utils import logging as tr_logging

    root = tr_logging.get_logger("transformers")
    handlers, propagate = list(root.handlers), root.propagate
    log = tmp_path / "logs" / "load.log"
    with M.quiet_transformers(log):
        model = BertModel.from_pretrained(folder, add_pooling_layer=False)
    assert model.pooler is None
    assert terminal.readouterr() == ("", "")
    text = log.read_text(encoding="utf-8")
    assert "UNEXPECTED" in text and "extra.unused.weight" in text and "LOAD REPORT" in text
    assert "\x1b[" not in text  # colour codes removed
    # everything is as it was afterwards
    assert root.handlers == handlers and root.propagate == propagate
    with M.quiet_transformers():  # without a file: nothing printed, nothing written
        BertModel.from_pretrained(folder, add_pooling_layer=False)
    assert terminal.readouterr() == ("", "") and log.read_text(encoding="utf-8") == text


def test_without_a_file_the_report_is_a_debug_record(folder, caplog):
    from transformers import BertModel

    with caplog.at_level(logging.DEBUG, logger="lexiconlm.models"):
        with M.quiet_transformers():
            BertModel.from_pretrained(folder, add_pooling_layer=False)
    assert any("extra.unused.weight" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_nested_blocks_hand_their_lines_out_and_errors_still_show(tmp_path, terminal):
    import warnings

    from transformers.utils import logging as tr_logging

    log = tmp_path / "outer.log"
    inner_log = tmp_path / "inner.log"
    with M.quiet_transformers(log):
        tr_logging.get_logger("transformers.modeling_utils").warning("outer warning")
        with M.quiet_transformers(inner_log):
            tr_logging.get_logger("transformers.modeling_utils").warning("inner warning")
            warnings.warn("a python warning", UserWarning)
        tr_logging.get_logger("transformers.modeling_utils").error("a real error")
    out, err = terminal.readouterr()
    assert "a real error" in err and "warning" not in out + err
    inner = inner_log.read_text(encoding="utf-8")
    assert "inner warning" in inner and "UserWarning: a python warning" in inner and "outer" not in inner
    outer = log.read_text(encoding="utf-8").splitlines()
    assert [next(i for i, line in enumerate(outer) if w in line) for w in ("outer", "inner", "python", "real")] == [
        0,
        1,
        2,
        3,
    ]


def test_loaders_of_the_package_are_quiet(folder, tmp_path, terminal):
    from lexiconlm.adapt.mlm import load_mlm_model
    from lexiconlm.nlu.model import load_joint

    enc = M.load_encoder(folder, "cpu")  # no pooler weights in the checkpoint: none is built
    assert enc.pooler is None
    model, fresh = load_mlm_model(folder)  # a fresh MLM head: MISSING keys, "seem corrupted"
    assert fresh
    M.load_tokenizer(folder)
    assert terminal.readouterr() == ("", "")
    # an NLU model folder whose encoder has an extra weight
    from lexiconlm.nlu.model import JointModel, LabelMaps

    joint = JointModel(enc, LabelMaps(("a", "b"), ("time",)))
    tok = M.load_tokenizer(folder)
    out = joint.save(tmp_path / "nlu", tok, {"max_len": 16})
    _tiny_folder(tmp_path / "donor")  # a checkpoint with the extra weight, copied over the encoder's
    (out / "encoder" / "model.safetensors").write_bytes((tmp_path / "donor" / "model.safetensors").read_bytes())
    terminal.readouterr()
    load_joint(out)
    assert terminal.readouterr() == ("", "")
