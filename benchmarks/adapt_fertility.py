"""Fertility (subwords per word) and UNK rate of a base tokenizer vs its extension, on held-out real
text, for languages whose scripts the base vocabulary covers poorly.

For each language the segments of one file (FLORES-200 dev, a Bible, a UDHR translation) are split
into a training part (the first 80%) and a disjoint held-out tail (the last 20%); new pieces are
trained on the first part only (lexiconlm.adapt.vocab) and both tokenizers are measured on the tail
(lexiconlm.adapt.fertility.compare_fertility).

    python benchmarks/adapt_fertility.py --model e5-small

Writes benchmarks/results/adapt_fertility.{csv,md}.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _common import RESULTS, command_line, find_data_dir, machine, md_table, to_csv

# (label, script, path under text/) -- scripts XLM-R/e5 covers poorly or not at all
LANGUAGES = [
    ("amh", "Ethi", "flores200_dev/amh_Ethi.dev"),
    ("bod", "Tibt", "flores200_dev/bod_Tibt.dev"),
    ("tel", "Telu", "flores200_dev/tel_Telu.dev"),
    ("kat", "Geor", "flores200_dev/kat_Geor.dev"),
    ("hye", "Armn", "flores200_dev/hye_Armn.dev"),
    ("uig", "Arab", "flores200_dev/uig_Arab.dev"),
    ("ckb", "Arab", "flores200_dev/ckb_Arab.dev"),
    ("khk", "Cyrl", "flores200_dev/khk_Cyrl.dev"),
    ("chr", "Cher", "bible/chr_Cherokee-NT.MAR.tsv"),
    ("cop", "Copt", "bible/cop_Coptic-NT.MAR.tsv"),
    ("syr", "Syrc", "bible/syr_Syriac-NT.MAR.tsv"),
    ("guj", "Gujr", "bible/guj_Gujarati-NT.MAR.tsv"),
    ("div", "Thaa", "udhr/div.tsv"),
    ("ccp", "Cakm", "udhr/ccp.tsv"),
    ("shn", "Mymr", "udhr/shn.tsv"),
    ("fuf", "Adlm", "udhr/fuf_adlm.tsv"),
    ("vai", "Vaii", "udhr/vai.tsv"),
    ("iii", "Yiii", "udhr/iii.tsv"),
    ("tir", "Ethi", "udhr/tir.tsv"),
]


def safe_tokenizer(tok, texts):
    """The tokenizer, with its normaliser replaced by NFKC when the original crashes on these texts."""
    from tokenizers import normalizers

    from lexiconlm.adapt.vocab import normalizer_crashes

    bad = normalizer_crashes(tok, texts)
    if not bad:
        return tok, "original"
    tok.backend_tokenizer.normalizer = normalizers.NFKC()
    return tok, f"NFKC (original crashes on {''.join(bad[:5])!r})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="e5-small", help="base model name or folder (its tokenizer is used)")
    ap.add_argument("--data", default=None, help="the shared data folder (default ../shared/data)")
    ap.add_argument("--new-tokens", type=int, default=4000)
    ap.add_argument("--heldout-fraction", type=float, default=0.2)
    ap.add_argument("--out", default=str(RESULTS / "adapt_fertility"))
    args = ap.parse_args(argv)
    from transformers import AutoTokenizer

    from lexiconlm.adapt.fertility import compare_fertility, split_segments
    from lexiconlm.adapt.run import read_texts
    from lexiconlm.models import resolve_model

    data = find_data_dir(args.data)
    if data is None:
        print("no shared data folder; pass --data", file=sys.stderr)
        return 1
    rows = []
    for lang, script, rel in LANGUAGES:
        path = data / "text" / rel
        if not path.is_file():
            print(f"skip {lang}: {path} absent", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        texts = read_texts([str(path)])
        train, heldout = split_segments(texts, args.heldout_fraction)
        if not heldout or not train:
            print(f"skip {lang}: {len(texts)} segment(s), too few to hold some out", file=sys.stderr)
            continue
        tok = AutoTokenizer.from_pretrained(resolve_model(args.model))
        tok, norm = safe_tokenizer(tok, texts)
        row = compare_fertility(tok, train, heldout, n_new=args.new_tokens)
        row.update(
            language=lang,
            script=script,
            source=rel.split("/")[0],
            normaliser=norm,
            seconds=round(time.perf_counter() - t0, 1),
        )
        rows.append(row)
        print(
            f"{lang}-{script}: "
            + ", ".join(
                f"{k}={row[k]}"
                for k in (
                    "fertility_base",
                    "fertility_extended",
                    "reduction",
                    "unk_rate_base",
                    "unk_rate_extended",
                    "fertility_known_base",
                    "fertility_known_extended",
                )
            ),
            file=sys.stderr,
            flush=True,
        )
    cols = [
        "language",
        "script",
        "source",
        "train_segments",
        "heldout_segments",
        "words",
        "n_new",
        "fertility_base",
        "fertility_extended",
        "reduction",
        "unk_rate_base",
        "unk_rate_extended",
        "known_words",
        "fertility_known_base",
        "fertility_known_extended",
        "overlap_segments",
        "normaliser",
        "seconds",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".csv").write_text(to_csv(rows, cols), encoding="utf-8")
    n_goal = sum(
        1
        for r in rows
        if r["reduction"] is not None and r["reduction"] >= 0.30 and r["unk_rate_extended"] <= r["unk_rate_base"]
    )
    md = [
        f"Command: `{command_line(__file__, argv)}`",
        f"Machine: {machine()}",
        "",
        md_table(rows, [(c, c) for c in cols]),
        "",
        f"{n_goal} of {len(rows)} languages reach >= 30% fewer pieces per word without a higher UNK rate.",
    ]
    out.with_suffix(".md").write_text("\n".join(md) + "\n", encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
