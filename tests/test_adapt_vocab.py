"""Vocabulary extension: Unigram pieces with scores, WordPiece entries, BPE merges; old ids kept."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from lexiconlm.adapt.vocab import (
    UnsupportedTokenizerError,
    extend_tokenizer,
    extended_json,
    piece_surface,
    tokenizer_kind,
    train_new_pieces,
)

ENGLISH = [
    "all human beings are born free and equal in dignity and rights",
    "they are endowed with reason and conscience and should act towards one another",
    "everyone has the right to life liberty and security of person",
    "no one shall be held in slavery or servitude",
] * 5
TARGET = [
    "semua orang dilahirkan merdeka dan mempunyai martabat dan hak yang sama",
    "mereka dikaruniai akal dan hati nurani dan hendaknya bergaul satu sama lain",
    "setiap orang berhak atas penghidupan kebebasan dan keselamatan sebagai individu",
    "ሁሉም ሰዎች ሲወለዱ ነጻና በክብርና በመብትም እኩልነት ያላቸው ናቸው",
    "ሁሉም ሰው በሕይወት የመኖር የነጻነትና በሕይወቱ ዋስትና የማግኘት መብት አለው",
] * 4


def _wrap(tok: Tokenizer, **special) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(tokenizer_object=tok, **special)


def unigram_tok() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.train_from_iterator(
        ENGLISH,
        trainers.UnigramTrainer(
            vocab_size=80,
            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
            unk_token="<unk>",
            show_progress=False,
        ),
    )
    return _wrap(
        tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
    )


def wordpiece_tok() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        ENGLISH,
        trainers.WordPieceTrainer(
            vocab_size=120, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False
        ),
    )
    return _wrap(tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def bpe_tok() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        ENGLISH, trainers.BpeTrainer(vocab_size=90, special_tokens=["<unk>", "<pad>"], show_progress=False)
    )
    return _wrap(tok, unk_token="<unk>", pad_token="<pad>")


def _pieces_per_word(tok, texts) -> float:
    n_words = sum(len(t.split()) for t in texts)
    return sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts) / n_words


def _unk(tok, texts) -> int:
    return sum(tok(t, add_special_tokens=False)["input_ids"].count(tok.unk_token_id) for t in texts)


@pytest.mark.parametrize("build,kind", [(unigram_tok, "Unigram"), (wordpiece_tok, "WordPiece"), (bpe_tok, "BPE")])
def test_extension_keeps_old_ids_and_shortens_target_text(build, kind, tmp_path):
    base = build()
    assert tokenizer_kind(base) == kind
    pieces = train_new_pieces(base, TARGET, 300)
    assert 0 < len(pieces) <= 300
    assert all(p.piece not in base.get_vocab() for p in pieces)
    new = extend_tokenizer(base, pieces)
    old_vocab = base.get_vocab()
    new_vocab = new.get_vocab()
    # every old piece keeps its id; new ids follow the old ones without gaps or collisions
    assert all(new_vocab[p] == i for p, i in old_vocab.items())
    added = sorted(i for p, i in new_vocab.items() if p not in old_vocab)
    assert added == list(range(len(base), len(new)))
    assert len(new) == len(base) + len(pieces)
    # fewer pieces per word on the target words the base could spell without <unk> (a WordPiece
    # <unk> word was one piece before), and no more <unk>
    words = sorted({w for t in TARGET for w in t.split()})
    known = [w for w in words if base.unk_token_id not in base(w, add_special_tokens=False)["input_ids"]]
    assert len(known) > 5
    assert _pieces_per_word(new, known) < _pieces_per_word(base, known)
    assert _unk(new, TARGET) <= _unk(base, TARGET)
    # English still decodes to the same text (its segmentation may use a new piece where it fits better)
    for t in ENGLISH[:4]:
        ids = new(t, add_special_tokens=False)["input_ids"]
        old = base.decode(base(t, add_special_tokens=False)["input_ids"])
        assert new.decode(ids).replace(" ", "").replace("##", "") == old.replace(" ", "").replace("##", "")
    # save -> load round trip gives the same tokenizer
    new.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert len(again) == len(new)
    for t in TARGET[:5]:
        assert again(t)["input_ids"] == new(t)["input_ids"]


def test_unigram_appends_scored_pieces_and_new_script_stops_being_unk():
    base = unigram_tok()
    ethiopic = [t for t in TARGET if "ሰ" in t]
    assert _unk(base, ethiopic) > 0
    pieces = train_new_pieces(base, TARGET, 200)
    data, new_ids = extended_json(base, pieces)
    vocab = data["model"]["vocab"]
    # [piece, score] rows appended in order, scores are the trained log-probabilities (negative)
    for (i, piece), p in zip(new_ids, [p for p in pieces if p.piece not in base.get_vocab()]):
        assert vocab[i] == [piece, p.score]
        assert p.score < 0
    new = extend_tokenizer(base, pieces)
    assert _unk(new, ethiopic) == 0


def test_unigram_pieces_for_a_script_of_thousands_of_characters():
    """Han text has more distinct characters than the default trainer vocabulary (2 x 50 + 1000):
    the trainer gets room for all of them instead of failing ("vocabulary is not large enough")."""
    base = unigram_tok()
    han = ["".join(chr(0x4E00 + (i * 7 + j) % 1500) for j in range(12)) for i in range(400)]
    pieces = train_new_pieces(base, han, 50)
    assert 0 < len(pieces) <= 50


def test_wordpiece_adds_continuation_pieces():
    base = wordpiece_tok()
    pieces = train_new_pieces(base, TARGET, 80)
    assert any(p.piece.startswith("##") for p in pieces)
    assert piece_surface("##kan", "WordPiece") == ("kan", False)
    assert piece_surface("▁orang", "Unigram") == ("orang", True)


def test_bpe_adds_merges_after_the_old_ones():
    base = bpe_tok()
    n_merges = len(json.loads(base.backend_tokenizer.to_str())["model"]["merges"])
    pieces = train_new_pieces(base, TARGET, 40)
    data, _ = extended_json(base, pieces)
    merges = data["model"]["merges"]
    assert len(merges) == n_merges + sum(1 for p in pieces if p.merge is not None)
    assert merges[:n_merges] == json.loads(base.backend_tokenizer.to_str())["model"]["merges"]


def test_wordlevel_and_slow_tokenizers_are_refused():
    tok = Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]"))
    with pytest.raises(UnsupportedTokenizerError, match="WordLevel"):
        tokenizer_kind(_wrap(tok, unk_token="[UNK]"))

    class Slow:  # a tokenizer without a tokenizers backend
        pass

    with pytest.raises(UnsupportedTokenizerError, match="only fast tokenizers"):
        train_new_pieces(Slow(), TARGET, 10)


def test_zero_new_tokens_and_empty_text():
    base = unigram_tok()
    assert train_new_pieces(base, TARGET, 0) == []
    with pytest.raises(ValueError, match="no target-language text"):
        train_new_pieces(base, ["", "  "], 10)
