"""Embedding initialisation registry: recipes, old rows bit-identical, new rows as the recipe says."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

from lexiconlm.adapt.init import (
    EMBEDDING_INITS,
    InitContext,
    apply_recipe,
    resolve_init,
)
from lexiconlm.adapt.mlm import build_tiny_base, load_mlm_model, resize_and_init
from lexiconlm.adapt.vocab import extend_tokenizer, train_new_pieces
from lexiconlm.errors import LexiconLMError, UnknownNameError
from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance

ENGLISH = [
    "all human beings are born free and equal in dignity and rights",
    "they are endowed with reason and conscience and should act towards one another in a spirit of brotherhood",
    "everyone has the right to life liberty and security of person",
    "no one shall be held in slavery or servitude the dog and the house",
] * 10
AMHARIC = [
    "ሁሉም ሰዎች ሲወለዱ ነጻና በክብርና በመብትም እኩልነት ያላቸው ናቸው",
    "ሁሉም ሰው በሕይወት የመኖር የነጻነትና በሕይወቱ ዋስትና የማግኘት መብት አለው",
    "ማንም ሰው በባርነት ወይም በግዴታ አገልጋይነት አይያዝም",
    "ውሻ ቤት ሰላም ሰላም ውሻ",
] * 6
LEXICON = Lexicon(
    Language("eng", "English", scripts=("Latn",)),
    Language("amh", "Amharic", scripts=("Ethi",)),
    (
        LexiconEntry("dog", "ውሻ"),
        LexiconEntry("house", "ቤት"),
        LexiconEntry("peace", "ሰላም"),
        LexiconEntry("person", "ሰው"),
        LexiconEntry("all", "ሁሉም"),
    ),
    Provenance("test/en-am.tsv", "tsv"),
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = build_tiny_base(tmp_path_factory.mktemp("base"), ENGLISH, vocab_size=120, hidden=16)
    old = AutoTokenizer.from_pretrained(folder)
    pieces = train_new_pieces(old, AMHARIC, 60)
    new = extend_tokenizer(old, pieces)
    new_tokens = sorted((i, p) for p, i in new.get_vocab().items() if i >= len(old))
    ctx = InitContext(
        old, new, new_tokens, texts=AMHARIC, lexicon=LEXICON, language="amh", script="Ethi", options={"dim": 8}
    )
    return folder, old, new, new_tokens, ctx


@pytest.mark.parametrize("name", sorted(EMBEDDING_INITS))
def test_every_init_keeps_old_rows_and_sets_new_rows_to_its_recipe(setup, name):
    folder, old, new, new_tokens, ctx = setup
    full, fn = resolve_init(name)
    recipe = fn(ctx)
    assert len(recipe.rows) == len(new_tokens)
    for row in recipe.rows:
        if row is not None:
            assert all(0 <= k < len(old) for k in row)
            assert abs(sum(row.values()) - 1) < 1e-6
    model, fresh = load_mlm_model(folder)
    assert fresh  # the tiny base, like e5, has no MLM head
    before = model.get_input_embeddings().weight.detach().clone()[: len(old)]
    info = resize_and_init(model, len(old), recipe, seed=5)
    after = model.get_input_embeddings().weight.detach()
    assert after.shape[0] == len(new)
    assert torch.equal(after[: len(old)], before)  # bit-identical
    expected = apply_recipe(recipe, before, seed=5)
    assert torch.equal(after[len(old) :], expected)
    assert info["tied"] is True
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight


def test_mean_row_is_the_mean_of_the_old_pieces(setup):
    _, old, new, new_tokens, ctx = setup
    recipe = resolve_init("mean")[1](ctx)
    emb = torch.randn(len(old), 4)
    rows = apply_recipe(recipe, emb)
    # an independent computation for a Latin-script piece (the old tokenizer can spell it)
    target = next((k, p) for k, (i, p) in enumerate(new_tokens) if recipe.rows[k] is not None)
    k, piece = target
    ids = [i for i in old(piece.lstrip("▁"), add_special_tokens=False)["input_ids"] if i != old.unk_token_id]
    bare = old.convert_tokens_to_ids("▁")
    if len(ids) > 1:
        ids = [i for i in ids if i != bare] or ids
    assert torch.allclose(rows[k], emb[ids].mean(dim=0), atol=1e-6)


def test_lexicon_init_takes_the_translations_pieces(setup):
    _, old, new, new_tokens, ctx = setup
    recipe = resolve_init("lexicon.v1")[1](ctx)
    assert recipe.summary["by_source"].get("lexicon", 0) > 0
    dog_ids = set(old("dog", add_special_tokens=False)["input_ids"]) - {old.unk_token_id}
    ids_of = {p: k for k, (i, p) in enumerate(new_tokens)}
    # every new piece of ውሻ (only in the entry dog -> ውሻ) draws on the pieces of "dog"
    pieces = [p for p in new.tokenize("ውሻ") if p in ids_of]
    assert pieces
    for p in pieces:
        k = ids_of[p]
        if recipe.sources[k] == "lexicon" and p.strip("▁") == "ውሻ":
            assert set(recipe.rows[k]) <= dog_ids


def test_lexicon_init_needs_a_lexicon(setup):
    *_, ctx = setup
    bare = InitContext(ctx.old_tokenizer, ctx.new_tokenizer, ctx.new_tokens)
    with pytest.raises(LexiconLMError, match="lexicon"):
        resolve_init("lexicon")[1](bare)


def test_phonology_init_bridges_scripts(setup):
    pytest.importorskip("epitran")
    pytest.importorskip("panphon")
    _, old, new, new_tokens, ctx = setup
    recipe = resolve_init("phonology")[1](ctx)
    phon = [k for k, s in enumerate(recipe.sources) if s == "phonology"]
    assert phon, recipe.summary
    latin = {i for p, i in old.get_vocab().items() if p.strip("▁").isascii() and p.strip("▁").isalpha()}
    for k in phon:
        assert set(recipe.rows[k]) <= latin  # Ethiopic tokens take rows of Latin pieces
    bad = InitContext(old, new, new_tokens, language="xxx", script="Zzzz")
    with pytest.raises(LexiconLMError, match="epitran"):
        resolve_init("phonology")[1](bad)


def test_untied_output_rows_and_bias_also_follow_the_recipe(setup):
    _, old, new, new_tokens, ctx = setup
    config = BertConfig(
        vocab_size=len(old),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        tie_word_embeddings=False,
    )
    model = BertForMaskedLM(config)
    assert model.get_output_embeddings().weight is not model.get_input_embeddings().weight
    with torch.no_grad():
        model.get_output_embeddings().bias.normal_()
    old_out = model.get_output_embeddings().weight.detach().clone()
    old_bias = model.get_output_embeddings().bias.detach().clone()
    recipe = resolve_init("mean")[1](ctx)
    info = resize_and_init(model, len(old), recipe, seed=3)
    assert info["tied"] is False
    out = model.get_output_embeddings()
    assert torch.equal(out.weight[: len(old)], old_out)
    assert torch.equal(out.weight[len(old) :], apply_recipe(recipe, old_out, seed=4))
    assert torch.equal(out.bias[: len(old)], old_bias)
    assert torch.equal(out.bias[len(old) :], apply_recipe(recipe, old_bias, seed=5))


def test_random_init_is_seeded_and_matches_old_statistics():
    emb = torch.randn(500, 8) * 3 + 1
    from lexiconlm.adapt.init import InitRecipe

    recipe = InitRecipe("random.v1", [None] * 400, ["random"] * 400)
    a, b = apply_recipe(recipe, emb, seed=1), apply_recipe(recipe, emb, seed=1)
    assert torch.equal(a, b)
    assert not torch.equal(a, apply_recipe(recipe, emb, seed=2))
    assert torch.allclose(a.mean(0), emb.mean(0), atol=0.6)


def test_registry_names():
    assert resolve_init("mean")[0] == "mean.v1"
    with pytest.raises(UnknownNameError, match="Did you mean: phonology"):
        resolve_init("phonolgy")


def test_model_without_input_embeddings_is_refused():
    class NoEmbeddings(torch.nn.Module):
        def get_input_embeddings(self):
            return None

    from lexiconlm.adapt.init import InitRecipe

    with pytest.raises(LexiconLMError, match="no input embeddings"):
        resize_and_init(NoEmbeddings(), 10, InitRecipe("random.v1", [None], ["random"]))
