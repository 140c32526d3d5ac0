"""Vocabulary extension is reproducible: the same base, text and settings give a byte-identical
tokenizer.json in two processes with different PYTHONHASHSEED values.

The ``tokenizers`` trainers iterate hash maps seeded per process (huggingface/tokenizers#1794):
before the fix the WordPiece branch gave pieces in a different order (and different pieces) and
the Unigram branch different scores from one process to the next.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

ENGLISH = [
    "all human beings are born free and equal in dignity and rights",
    "they are endowed with reason and conscience and should act towards one another",
    "everyone has the right to life liberty and security of person",
    "no one shall be held in slavery or servitude",
] * 5

#: Alphabets of a pseudo-language: syllables shared between words make the Unigram trainer
#: learn pieces that cover characters, drop those characters, then add them back with scores
#: spread in hash order; many merges of equal count are what the WordPiece trainer broke in
#: hash order.
_ALPHABETS = (
    "ሀሁሂሃሄህሆለሉሊላሌልሎመሙሚማሜምሞሰሱሲሳሴስሶረሩሪራሬርሮበቡቢባቤብቦ",
    "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
    "abcdefghijklmnopqrstuvwxyz",
)


def _target_text(n_lines: int = 600) -> list[str]:
    """Zipf-distributed pseudo-words built from syllables in three scripts, plus rare
    characters inside a few words (seeded: the same text in every run)."""
    rng = random.Random(7)
    words = []
    for alphabet in _ALPHABETS:
        syllables = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3))) for _ in range(60)]
        for _ in range(400):
            words.append("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))))
    for i in range(120):
        w = rng.choice(words)
        words.append(w[:1] + chr(0x0C05 + i % 50) + chr(0x0F40 + i % 40) + w[1:])
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(words))]
    return [" ".join(rng.choices(words, weights, k=rng.randint(5, 15))) for _ in range(n_lines)]


def _bases(folder: Path) -> dict[str, str]:
    """A tiny base tokenizer of each kind, saved once (the base itself is not under test)."""
    out = {}
    for kind in ("WordPiece", "Unigram", "BPE"):
        if kind == "WordPiece":
            tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
            tok.normalizer = normalizers.BertNormalizer(lowercase=True)
            tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
            trainer = trainers.WordPieceTrainer(
                vocab_size=120, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False
            )
            unk = "[UNK]"
        elif kind == "Unigram":
            tok = Tokenizer(models.Unigram())
            tok.normalizer = normalizers.NFKC()
            tok.pre_tokenizer = pre_tokenizers.Metaspace()
            trainer = trainers.UnigramTrainer(
                vocab_size=80, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False
            )
            unk = "<unk>"
        else:
            tok = Tokenizer(models.BPE(unk_token="<unk>"))
            tok.pre_tokenizer = pre_tokenizers.Whitespace()
            trainer = trainers.BpeTrainer(vocab_size=90, special_tokens=["<unk>", "<pad>"], show_progress=False)
            unk = "<unk>"
        tok.train_from_iterator(ENGLISH, trainer)
        path = folder / f"{kind}.json"
        tok.save(str(path))
        out[kind] = unk
    return out


_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from transformers import PreTrainedTokenizerFast
    from lexiconlm.adapt.vocab import extend_tokenizer, train_new_pieces

    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    n_new, size = int(sys.argv[3]), int(sys.argv[4])
    texts = (folder / "target.txt").read_text(encoding="utf-8").splitlines()
    for arg in sys.argv[5:]:
        kind, unk = arg.split("=", 1)
        base = PreTrainedTokenizerFast(tokenizer_file=str(folder / f"{kind}.json"), unk_token=unk)
        pieces = train_new_pieces(base, texts, n_new, trainer_vocab_size=size)
        extend_tokenizer(base, pieces).backend_tokenizer.save(str(out / f"{kind}.json"))
    """
)


def _run(folder: Path, out: Path, seed: str, kinds: dict[str, str], n_new: int, size: int) -> None:
    out.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": seed, "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    args = [str(folder), str(out), str(n_new), str(size), *(f"{k}={u}" for k, u in kinds.items())]
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _assert_identical(folder: Path, kinds: dict[str, str], n_new: int, size: int) -> None:
    _run(folder, folder / "a", "1", kinds, n_new, size)
    _run(folder, folder / "b", "2024", kinds, n_new, size)
    for kind in kinds:
        a = (folder / "a" / f"{kind}.json").read_bytes()
        b = (folder / "b" / f"{kind}.json").read_bytes()
        assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), (
            f"{kind}: the extended tokenizer.json differs between two identical runs"
        )
        base = (folder / f"{kind}.json").read_bytes()
        assert len(a) > len(base), f"{kind}: nothing was added"


def test_extension_is_byte_identical_across_processes_and_hash_seeds(tmp_path):
    kinds = _bases(tmp_path)
    (tmp_path / "target.txt").write_text("\n".join(_target_text()) + "\n", encoding="utf-8")
    _assert_identical(tmp_path, kinds, 300, 1000)


@pytest.mark.shared_data
def test_extension_of_real_text_in_four_scripts_is_byte_identical(shared_data, tmp_path):
    """250 lines of FLORES-200 dev in each of Ethiopic, Georgian, Telugu and Tibetan: before the
    fix three runs of the Unigram branch gave three different files (the scores of characters
    the trainer adds back were spread in hash order, then rounded across a boundary)."""
    flores = shared_data / "text" / "flores200_dev"
    names = ("amh_Ethi.dev", "kat_Geor.dev", "tel_Telu.dev", "bod_Tibt.dev")
    if not all((flores / n).is_file() for n in names):
        pytest.skip("FLORES-200 dev files are not staged")
    lines = [x for n in names for x in (flores / n).read_text(encoding="utf-8").splitlines()[:250]]
    (tmp_path / "target.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    kinds = {k: u for k, u in _bases(tmp_path).items() if k != "BPE"}
    _assert_identical(tmp_path, kinds, 1500, 2500)
