"""Held-out MLM loss right after initialisation and after the same continued pretraining, for each
embedding initialisation method (random, mean, lexicon, overlap, phonology).

Every method runs the same adaptation (configs/adapt/e5-small.yaml unless --config: same new
tokens, same text, same steps, same seed) with only init.method changed; the MLM loss is measured
on the same held-out blocks with the same masks.

    python benchmarks/adapt_init_mlm.py --config configs/adapt/e5-small.yaml --out-root runs/adapt_init

Writes benchmarks/results/adapt_init_mlm.{csv,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import REPO, RESULTS, command_line, machine, md_table, to_csv

METHODS = ["random.v1", "mean.v1", "lexicon.v1", "overlap.v1", "phonology.v1"]


def patched_base(model: str, texts: list[str], cache: Path) -> tuple[str, str]:
    """The model folder, or a copy whose tokenizer normaliser is NFKC when the original crashes
    on these texts (a tokenizers panic in a Precompiled charsmap); returns (folder, note)."""
    from tokenizers import Tokenizer, normalizers

    from lexiconlm.adapt.vocab import normalizer_crashes
    from lexiconlm.models import resolve_model

    folder = Path(resolve_model(model))
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    bad = normalizer_crashes(tok, texts)
    if not bad:
        return str(folder), "original"
    out = cache / (folder.name + "-nfkc")
    out.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if f.name != "tokenizer.json" and not (out / f.name).exists():
            os.symlink(f, out / f.name)
    tok.normalizer = normalizers.NFKC()
    tok.save(str(out / "tokenizer.json"))
    return str(out), f"NFKC normaliser (the original crashes on {''.join(bad)!r})"


def _r(x):
    return None if x is None else round(x, 4)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(REPO / "configs" / "adapt" / "e5-small.yaml"))
    ap.add_argument("--out-root", default=str(Path.home() / ".cache" / "lexiconlm" / "adapt_init"))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--set", action="append", default=[], help="extra key=value overrides for every run")
    ap.add_argument("--out", default=str(RESULTS / "adapt_init_mlm"))
    args = ap.parse_args(argv)
    import torch

    from lexiconlm.adapt.config import load_config
    from lexiconlm.adapt.run import adapt, read_texts

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    root = Path(args.out_root)
    cfg = load_config(args.config, args.set)
    base, note = patched_base(cfg["base_model"], read_texts(cfg["text"]["train"]), root)
    rows = []
    for method in args.methods.split(","):
        out = root / method
        t0 = time.perf_counter()
        m = adapt(
            args.config,
            out_dir=out,
            device="cpu",
            progress=False,
            overrides=[*args.set, f"init.method={method}", f"base_model={base}"],
        )
        plan = json.loads((out / "plan.json").read_text())
        rows.append(
            {
                "init": method,
                "rows_by_source": json.dumps(plan["init_summary"].get("by_source"), sort_keys=True),
                "loss_init": round(m["mlm_loss_init"], 4),
                "loss_final": round(m["mlm_loss_final"], 4),
                "new_loss_init": _r(m["mlm_loss_init_new_tokens"]),
                "new_loss_final": _r(m["mlm_loss_final_new_tokens"]),
                "old_loss_final": _r(m["mlm_loss_final_old_tokens"]),
                "predicted_new": m["heldout_predicted_new"],
                "predicted": m["heldout_predicted"],
                "steps": m["steps"],
                "new_tokens": m["new_tokens"],
                "tokens_per_s": m["tokens_per_s"],
                "achieved_tflops": m["achieved_tflops"],
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)  # 1 GB each for e5
    cols = [
        "init",
        "loss_init",
        "loss_final",
        "new_loss_init",
        "new_loss_final",
        "old_loss_final",
        "predicted",
        "predicted_new",
        "steps",
        "new_tokens",
        "rows_by_source",
        "tokens_per_s",
        "achieved_tflops",
        "seconds",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".csv").write_text(to_csv(rows, cols), encoding="utf-8")
    settings = {k: cfg["mlm"][k] for k in ("steps", "batch_size", "grad_accum", "lr", "seq_len", "freeze_body")}
    md = [
        f"Command: `{command_line(__file__, argv)}`",
        f"Machine: {machine('no GPU')}",
        f"Config: {os.path.relpath(args.config, REPO)} ({cfg['language']}-{cfg['script']}), mlm {settings}; "
        f"tokenizer: {note}",
        "",
        md_table(rows, [(c, c) for c in cols]),
    ]
    out.with_suffix(".md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
