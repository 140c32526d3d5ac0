"""``lexiconlm adapt``: extend a model's tokenizer for a target language, initialise the new
embeddings and continue MLM pretraining (``run``); write the plan only (``plan``); compare
tokenizer fertility before and after extension (``fertility``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

adapt_app = typer.Typer(
    help="Tokenizer extension, embedding initialisation and continued MLM pretraining.",
    no_args_is_help=True,
)


def _default_out(config: Path) -> Path:
    return Path("runs") / "adapt" / config.stem


def register(app: typer.Typer) -> None:
    @adapt_app.command("run")
    def run_cmd(
        config: Path = typer.Option(
            ..., "--config", "-c", help="Adaptation config (YAML), e.g. configs/adapt/tiny.yaml."
        ),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default runs/adapt/<config name>)."),
        device: str = typer.Option("auto", "--device", help="auto (CUDA when available), cpu or cuda."),
        set_: List[str] = typer.Option(
            [], "--set", help="Override a setting: key=value (dotted keys, YAML values); repeatable."
        ),
        resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from the newest checkpoint of --out."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    ) -> None:
        """Extend the tokenizer, initialise the new rows, continue MLM; writes plan.json, model/, metrics.json."""
        from lexiconlm.adapt.mlm import select_device
        from lexiconlm.adapt.run import adapt

        out_dir = out or _default_out(config)
        typer.echo(f"device: {select_device(device)}", err=True)
        metrics = adapt(config, out_dir=out_dir, device=device, resume=resume, progress=not quiet, overrides=set_)
        keys = (
            "init_method",
            "new_tokens",
            "mlm_loss_init",
            "mlm_loss_final",
            "tokens_per_s",
            "mfu",
            "device",
            "model_dir",
        )
        typer.echo(json.dumps({k: metrics.get(k) for k in keys}, indent=1))

    @adapt_app.command("plan")
    def plan_cmd(
        config: Path = typer.Option(..., "--config", "-c", help="Adaptation config (YAML)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default runs/adapt/<config name>)."),
        set_: List[str] = typer.Option([], "--set", help="Override a setting: key=value; repeatable."),
    ) -> None:
        """Compute the adaptation plan on CPU (new tokens, init, frozen modules) and write plan.json; no training."""
        from lexiconlm.adapt.plan import read_plan
        from lexiconlm.adapt.run import plan_only

        path = plan_only(config, out_dir=out or _default_out(config), overrides=set_)
        plan = read_plan(path)
        typer.echo(
            json.dumps(
                {
                    "plan": str(path),
                    "base_model": plan.base_model,
                    "tokenizer_kind": plan.tokenizer_kind,
                    "base_vocab_size": plan.base_vocab_size,
                    "new_vocab_size": plan.new_vocab_size,
                    "new_tokens_first": [t[1] for t in plan.new_tokens[:20]],
                    "init": plan.init_summary,
                    "frozen_modules": list(plan.frozen_modules),
                    "fresh_head": plan.fresh_head,
                },
                indent=1,
                ensure_ascii=False,
            )
        )

    @adapt_app.command("fertility")
    def fertility_cmd(
        model: str = typer.Option(..., "--model", "-m", help="Base model name or folder (e5-small, a local folder)."),
        text: List[Path] = typer.Option(..., "--text", "-t", help="Target-language text file(s) (read_text formats)."),
        heldout: List[Path] = typer.Option([], "--heldout", help="Held-out file(s); default: the tail of --text."),
        heldout_fraction: float = typer.Option(
            0.2, "--heldout-fraction", min=0.0, max=1.0, help="Share of segments held out."
        ),
        new_tokens: int = typer.Option(4000, "--new-tokens", "-n", min=1, help="Pieces to add."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Fertility (pieces per word) and UNK rate of the base tokenizer vs the extended one on held-out text."""
        from transformers import AutoTokenizer

        from lexiconlm.adapt.fertility import compare_fertility, split_segments
        from lexiconlm.adapt.run import read_texts
        from lexiconlm.models import resolve_model

        texts = read_texts([str(t) for t in text])
        if heldout:
            held = read_texts([str(h) for h in heldout])
            held_set = set(held)
            train = [t for t in texts if t not in held_set]
        else:
            train, held = split_segments(texts, heldout_fraction)
        tok = AutoTokenizer.from_pretrained(resolve_model(model))
        row = compare_fertility(tok, train, held, n_new=new_tokens)
        if as_json:
            typer.echo(json.dumps(row, indent=1))
            return
        typer.echo(
            f"held-out: {row['heldout_segments']} segments, {row['words']} words; {row['n_new']} new pieces "
            f"trained on {row['train_segments']} segments\n"
            f"fertility  {row['fertility_base']:.3f} -> {row['fertility_extended']:.3f} "
            f"({row['reduction']:.1%} fewer pieces per word)\n"
            f"UNK rate   {row['unk_rate_base']:.4f} -> {row['unk_rate_extended']:.4f}"
        )

    app.add_typer(adapt_app, name="adapt")
