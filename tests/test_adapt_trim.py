"""Vocabulary trimming (lexiconlm.adapt.trim) on tiny models and tokenizers built in the test."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from lexiconlm.adapt.trim import TrimError, load_texts, trim_model, trim_tokenizer_json  # noqa: E402
from lexiconlm.models import e5_import as E  # noqa: E402

CORPUS = [
    "the cat sat on the mat",
    "a dog runs in the park",
    "the cats and the dogs play together",
    "kucing duduk di atas tikar",
    "anjing berlari di taman kota",
    "saya makan nasi goreng pedas",
    "mbwa anakimbia bustanini",
    "paka ameketi mkekani",
    "ninakula wali na maharagwe leo",
    "le chat est assis sur le tapis",
    "el perro corre en el parque",
    "der Hund läuft im Park",
]
TRIM_TEXTS = ["paka ameketi mkekani", "the cat sat", "mbwa na paka", "qq unknown zz!"]


def _unigram_folder(tmp_path, mlm: bool = True):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertConfig, BertForMaskedLM, BertModel

    t = Tokenizer(models.Unigram())
    t.pre_tokenizer = pre_tokenizers.Metaspace()
    t.train_from_iterator(
        CORPUS * 3,
        trainers.UnigramTrainer(vocab_size=150, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>"),
    )
    vocab = [tuple(v) for v in json.loads(t.to_str())["model"]["vocab"]] + [("<mask>", 0.0)]
    tok = E.build_tokenizer([p for p, _ in vocab], [s for _, s in vocab], {0xFF21: (0x41,), 0x09: (0x20,)})
    folder = tmp_path / "base"
    E.save_hf_tokenizer(tok, folder, model_max_length=64)
    cfg = BertConfig(
        vocab_size=len(vocab) + 2,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        pad_token_id=1,
    )
    torch.manual_seed(0)
    model = (BertForMaskedLM if mlm else BertModel)(cfg)
    if mlm:  # make the output bias distinguishable per row
        model.cls.predictions.bias.data = torch.randn_like(model.cls.predictions.bias)
    model.save_pretrained(folder)
    return folder, vocab


def _tokens(folder, texts):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    return [tok.convert_ids_to_tokens(ids) for ids in tok(texts)["input_ids"]], tok


def test_trim_unigram_mlm(tmp_path):
    from transformers import AutoModelForMaskedLM

    base, vocab = _unigram_folder(tmp_path)
    out = tmp_path / "trimmed"
    rep = trim_model(str(base), out, texts=TRIM_TEXTS, progress=False)
    before, tok0 = _tokens(base, TRIM_TEXTS)
    after, tok1 = _tokens(out, TRIM_TEXTS)
    assert before == after  # same pieces on the trimming texts
    assert any("<unk>" in t for t in after)  # unknowns stay unknown, not re-segmented
    kept = json.loads((out / "kept_ids.json").read_text())
    assert rep["kept_pieces"] == len(kept) < len(vocab)
    assert len(tok1) == len(kept)
    assert [tok1.convert_ids_to_tokens(i) for i in range(4)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert tok1.mask_token_id == len(kept) - 1 and tok1.convert_ids_to_tokens(tok1.mask_token_id) == "<mask>"
    assert [tok1.convert_ids_to_tokens(i) for i in range(len(kept))] == [vocab[i][0] for i in kept]
    m0 = AutoModelForMaskedLM.from_pretrained(str(base))
    m1 = AutoModelForMaskedLM.from_pretrained(str(out))
    idx = torch.tensor(kept)
    w0 = m0.get_input_embeddings().weight
    assert torch.equal(m1.get_input_embeddings().weight, w0[idx])  # bit-identical old rows
    assert torch.equal(m1.cls.predictions.bias, m0.cls.predictions.bias[idx])
    assert torch.equal(m1.get_output_embeddings().weight, m0.get_output_embeddings().weight[idx])
    assert m1.config.vocab_size == len(kept) and m1.config.pad_token_id == 1
    # the trimmed model computes the same thing on the trimming texts (ids remapped)
    remap = {old: new for new, old in enumerate(kept)}
    ids0 = tok0(TRIM_TEXTS[0], return_tensors="pt")["input_ids"]
    ids1 = torch.tensor([[remap[int(i)] for i in ids0[0]]])
    assert torch.equal(ids1, tok1(TRIM_TEXTS[0], return_tensors="pt")["input_ids"])
    with torch.no_grad():
        l0 = m0(input_ids=ids0).logits[0][:, idx]
        l1 = m1(input_ids=ids1).logits[0]
    assert torch.allclose(l0, l1, atol=1e-5)
    assert rep["parameters_after"] < rep["parameters_before"]
    assert json.loads((out / "trim.json").read_text())["signature"].startswith("base:base|trim:trim.v1")


def test_trim_keeps_top_k_and_min_score_piece(tmp_path):
    base, vocab = _unigram_folder(tmp_path, mlm=False)
    tj = json.loads((base / "tokenizer.json").read_text())
    _, kept0, st0 = trim_tokenizer_json(tj, ["paka"])
    _, kept5, st5 = trim_tokenizer_json(tj, ["paka"], top_k=5)
    scores = [s for _, s in vocab]
    assert min(range(len(scores)), key=scores.__getitem__) in kept0  # keeps the unknown penalty
    top = sorted((i for i in range(4, len(vocab) - 1)), key=lambda i: -scores[i])[:5]
    assert set(top) <= set(kept5) and len(kept5) > len(kept0)
    assert st0["used_pieces"] >= 1 and st0["old_pieces"] == len(vocab)


def test_trim_refuses_existing_and_empty(tmp_path):
    base, _ = _unigram_folder(tmp_path, mlm=False)
    with pytest.raises(TrimError, match="no texts"):
        trim_model(str(base), tmp_path / "o", texts=[], progress=False)
    (tmp_path / "o").mkdir()
    with pytest.raises(TrimError, match="--overwrite"):
        trim_model(str(base), tmp_path / "o", texts=["paka"], progress=False)


def test_trim_wordpiece(tmp_path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import AutoModel, BertConfig, BertModel, PreTrainedTokenizerFast

    t = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    t.normalizer = normalizers.BertNormalizer()
    t.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    t.train_from_iterator(
        CORPUS * 2,
        trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]),
    )
    t.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))]
    )
    base = tmp_path / "wp"
    PreTrainedTokenizerFast(
        tokenizer_object=t,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    ).save_pretrained(base)
    BertModel(
        BertConfig(
            vocab_size=t.get_vocab_size(),
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        )
    ).save_pretrained(base)
    out = tmp_path / "wp-trim"
    rep = trim_model(str(base), out, texts=TRIM_TEXTS, progress=False)
    assert rep["tokenizer_type"] == "WordPiece" and rep["kept_pieces"] < t.get_vocab_size()
    assert _tokens(base, TRIM_TEXTS)[0] == _tokens(out, TRIM_TEXTS)[0]
    kept = json.loads((out / "kept_ids.json").read_text())
    w0 = AutoModel.from_pretrained(str(base)).get_input_embeddings().weight
    w1 = AutoModel.from_pretrained(str(out)).get_input_embeddings().weight
    assert torch.equal(w1, w0[torch.tensor(kept)])


def test_trim_refuses_bpe():
    from tokenizers import Tokenizer, models, trainers

    t = Tokenizer(models.BPE(unk_token="<unk>"))
    t.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=80, special_tokens=["<unk>"]))
    with pytest.raises(TrimError, match="BPE") as ei:
        trim_tokenizer_json(json.loads(t.to_str()), ["the cat"])
    assert "Unigram" in str(ei.value)


def test_load_texts_massive_and_langs(repo_root):
    demo = repo_root / "resources" / "demo" / "massive"
    texts = load_texts([demo])
    assert texts and all(isinstance(t, str) and t for t in texts)
    assert load_texts([demo], langs=["id-ID"]) == load_texts([demo], langs=["ind"])
    assert load_texts([demo], langs=["sw-KE"]) == []


def test_cli_trim(tmp_path):
    from lexiconlm.cli.main import main

    base, _ = _unigram_folder(tmp_path, mlm=False)
    txt = tmp_path / "sw.txt"
    txt.write_text("\n".join(TRIM_TEXTS) + "\n", encoding="utf-8")
    assert main(["model", "trim", str(base), str(tmp_path / "cli"), "--texts", str(txt)]) == 0
    assert (tmp_path / "cli" / "trim.json").is_file()
