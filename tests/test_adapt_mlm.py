"""Continued MLM: masking, exact resume after a kill, refusal of a changed config, bf16 on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from safetensors.torch import load_file

from lexiconlm.adapt.mlm import flops_per_token, make_blocks, mask_tokens
from lexiconlm.adapt.run import adapt
from lexiconlm.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "adapt" / "tiny.yaml"
FAST = [
    "mlm.steps=4",
    "mlm.save_every=2",
    "mlm.grad_accum=2",
    "mlm.batch_size=2",
    "tokenizer.new_tokens=60",
    "init.method=mean",
]


def _weights(run: Path) -> dict:
    return load_file(str(run / "model" / "model.safetensors"))


def test_resume_after_a_kill_gives_the_same_model(tmp_path):
    run = tmp_path / "run"
    a = adapt(TINY, out_dir=run, device="cpu", progress=False, overrides=FAST)
    assert a["steps_run"] == 4 and a["resumed_from"] is None
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert ckpts == ["step-0000002", "step-0000004"]
    wa = _weights(run)

    # simulate a kill after step 2: the last checkpoint and the outputs never got written
    import shutil

    shutil.rmtree(run / "checkpoints" / "step-0000004")
    shutil.rmtree(run / "model")
    (run / "metrics.json").unlink()
    b = adapt(TINY, out_dir=run, device="cpu", progress=False, overrides=FAST)
    assert b["resumed_from"] == 2 and b["steps_run"] == 2
    wb = _weights(run)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert b["mlm_loss_final"] == a["mlm_loss_final"]
    assert b["mlm_loss_init"] == a["mlm_loss_init"]
    b_dir = run

    # the same folder with another learning rate is refused, naming the change
    with pytest.raises(ConfigError) as info:
        adapt(TINY, out_dir=b_dir, device="cpu", progress=False, overrides=[*FAST, "mlm.lr=0.01"])
    assert "mlm.lr: 0.001 -> 0.01" in str(info.value)
    # ... unless asked to start over
    c = adapt(
        TINY, out_dir=b_dir, device="cpu", progress=False, resume=False, overrides=[*FAST, "mlm.lr=0.01", "mlm.steps=1"]
    )
    assert c["resumed_from"] is None and c["steps_run"] == 1


def test_bf16_autocast_path_runs_on_cpu(tmp_path):
    m = adapt(
        TINY,
        out_dir=tmp_path,
        device="cpu",
        progress=False,
        overrides=[*FAST, "mlm.steps=2", "mlm.precision=bf16", "mlm.freeze_body=true"],
    )
    assert m["precision"] == "bf16" and m["device"] == "cpu" and m["fused_adamw"] is False
    assert m["mlm_loss_final"] > 0 and m["tokens_per_s"] > 0
    assert m["mfu"] is None  # no known peak for a CPU
    assert m["frozen_body"] is True


def test_masking_follows_bert():
    import tempfile

    from transformers import AutoTokenizer

    from lexiconlm.adapt.mlm import build_tiny_base

    with tempfile.TemporaryDirectory() as d:
        folder = build_tiny_base(d, ["the cat sat on the mat"] * 20, vocab_size=40, hidden=8)
        tok = AutoTokenizer.from_pretrained(folder)
    blocks = make_blocks(tok, ["the cat sat on the mat and the cat sat"] * 200, 16)
    assert blocks.shape[1] == 16 and (blocks[:, 0] == tok.cls_token_id).all()
    special = sorted(set(tok.all_special_ids))
    gen = torch.Generator().manual_seed(0)
    inputs, labels = mask_tokens(blocks, tok, 0.15, gen, special)
    chosen = labels != -100
    is_special = torch.isin(blocks, torch.tensor(special))
    assert not (chosen & is_special).any()
    rate = chosen.sum().item() / (~is_special).sum().item()
    assert 0.12 < rate < 0.20
    masked = (inputs == tok.mask_token_id) & chosen
    assert 0.7 < masked.sum().item() / chosen.sum().item() < 0.9
    # same generator seed, same masks
    again = mask_tokens(blocks, tok, 0.15, torch.Generator().manual_seed(0), special)
    assert torch.equal(again[0], inputs) and torch.equal(again[1], labels)


def test_flops_per_token_counts_frozen_body_as_four_n():
    from transformers import BertConfig, BertForMaskedLM

    model = BertForMaskedLM(
        BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    )
    full = flops_per_token(model, 32, frozen_body=False)
    frozen = flops_per_token(model, 32, frozen_body=True)
    assert full / frozen == pytest.approx(1.5)


@pytest.mark.gpu
def test_cuda_run_uses_bf16_and_fused_adamw(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    m = adapt(TINY, out_dir=tmp_path, device="cuda", progress=False, overrides=FAST)
    assert m["precision"] == "bf16" and m["fused_adamw"] is True and m["device"].startswith("cuda")


def test_masked_only_head_gives_the_full_forward_loss():
    from transformers import BertConfig, BertForMaskedLM

    from lexiconlm.adapt.mlm import masked_positions_loss

    torch.manual_seed(0)
    model = BertForMaskedLM(
        BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    ).eval()
    ids = torch.randint(5, 100, (3, 12))
    labels = torch.full_like(ids, -100)
    labels[:, 3] = ids[:, 3]
    labels[0, 5] = 7
    attn = torch.ones_like(ids)
    with torch.no_grad():
        ours = masked_positions_loss(model, ids, attn, labels)
        full = model(input_ids=ids, attention_mask=attn, labels=labels).loss
    assert torch.allclose(ours, full, atol=1e-6)
