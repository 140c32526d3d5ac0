"""The results of an ``expand`` run: metrics.json, run.json, tables, plots, report.md and report.html.

Written into the run folder (layout: docs/run-folders.md), so the app's Runs page shows
the run (kind ``expand``). ``metrics.json`` holds only figures that a rerun of the same
configuration reproduces (no times); the times of the steps are in ``steps.csv`` and the
reports.

Plots are self-contained SVG bar charts (no plotting library needed), embedded in the
HTML and linked from the Markdown.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import platform
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from lexiconlm.files import atomic_write_text
from lexiconlm.models import model_id
from lexiconlm.signature import Signature, lexicon_id

__all__ = ["html_table", "machine_description", "markdown_table", "svg_bars", "write_report"]


def machine_description() -> str:
    """``"2-core Intel(R) Xeon(R) Processor, 24 GiB, no GPU; load average 3.1 ..."``: what the run ran on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            kb = int(next(x for x in fh if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(x for x in fh if x.startswith("model name")).split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    load = ""
    try:
        load = f"; load average {os.getloadavg()[0]:.1f} when the report was written"
    except OSError:
        pass
    return f"{cores}-core {cpu}{mem}, {gpu}{load}"


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1 else f"{v:.2f}"
    return str(v)


def markdown_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """A GitHub Markdown table of ``rows`` (dicts)."""
    if not rows:
        return ""
    cols = list(columns or rows[0].keys())
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(out)


def html_table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return ""
    cols = list(columns or rows[0].keys())
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def svg_bars(
    title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *, unit: str = "", width: int = 560
) -> str:
    """A grouped horizontal bar chart as an SVG document (one group per label, one bar per series)."""
    colors = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2"]
    names = list(series)
    values = [v for s in series.values() for v in s if v is not None]
    vmax = max(values) if values else 1.0
    vmax = vmax if vmax > 0 else 1.0
    bar_h, gap, left, top = 14, 10, 170, 30
    group_h = bar_h * len(names) + gap
    height = top + group_h * len(labels) + 20 + 16 * len(names)
    plot_w = width - left - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">{html.escape(title)}</text>',
    ]
    for gi, label in enumerate(labels):
        y0 = top + gi * group_h
        parts.append(f'<text x="{left - 6}" y="{y0 + group_h / 2}" text-anchor="end">{html.escape(label)}</text>')
        for si, name in enumerate(names):
            v = series[name][gi]
            y = y0 + si * bar_h
            if v is None:
                parts.append(f'<text x="{left + 4}" y="{y + 11}" fill="#888">n/a</text>')
                continue
            w = max(1.0, plot_w * v / vmax)
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{colors[si % 6]}"/>')
            parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 11}">{_fmt(v)}{html.escape(unit)}</text>')
    ly = top + group_h * len(labels) + 8
    for si, name in enumerate(names):
        parts.append(f'<rect x="{left}" y="{ly + si * 16}" width="10" height="10" fill="{colors[si % 6]}"/>')
        parts.append(f'<text x="{left + 14}" y="{ly + si * 16 + 9}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _write_csv(path: Path, rows: Sequence[dict]) -> None:
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
    atomic_write_text(path, buf.getvalue())


def _signature(ctx) -> str:
    cfg = ctx.cfg
    return str(
        Signature.from_pairs(
            [
                ("expand", cfg.name),
                ("lang", ctx.inputs.language.iso639_3),
                ("lex", "+".join(lexicon_id(p) for p in ctx.inputs.lexicons)),
                ("sense", cfg.get("synth.sense")),
                ("oov", cfg.get("synth.oov")),
                ("model", model_id(str(cfg.get("model.base")))),
                ("adapt", "on" if cfg.get("adapt.enabled") else "off"),
                ("train", "+".join(cfg.get("nlu.train"))),
                ("seed", cfg.get("seed")),
            ]
        )
    )


#: (section of metrics.json, key, label, higher is better, decimals) of every before/after figure.
_COMPARED = (
    ("retrieval", "top1", "retrieval top-1 (%)", True, 2),
    ("retrieval", "top10", "retrieval top-10 (%)", True, 2),
    ("tokenizer", "fertility", "fertility (pieces/word)", False, 3),
    ("tokenizer", "unk_rate", "UNK rate", False, 4),
    ("mlm", "loss", "MLM loss", False, 3),
)
_NLU = (("intent_accuracy", True), ("slot_f1", True), ("exact_match", True))


def base_vs_expanded(metrics: dict) -> list[dict]:
    """The before/after rows of a run's metrics: ``metric, group, base, expanded, difference,
    higher_is_better`` for every figure measured with both the base and the expanded model
    (retrieval, tokenizer and MLM: base vs adapted model; NLU: the base model fine-tuned on the
    source only vs the expanded model, same seed and steps)."""
    rows = []
    for section, key, _label, higher, nd in _COMPARED:
        sec = metrics.get(section) or {}
        b, e = (sec.get("base") or {}).get(key), (sec.get("adapted") or {}).get(key)
        if b is None or e is None:
            continue
        group = ""
        if section == "retrieval":
            group = f"{sec['base'].get('corpora', '')}, pool {sec['base'].get('pool')}"
        elif section in ("tokenizer", "mlm"):
            group = "held-out text"
        rows.append(_row(f"{section}_{key}" if section != "tokenizer" else key, group, b, e, higher, nd))
    base_nlu = metrics.get("nlu_base") or {}
    for loc, scores in (metrics.get("nlu") or {}).items():
        for key, higher in _NLU:
            b = (base_nlu.get(loc) or {}).get(key)
            e = scores.get(key)
            if b is not None and e is not None:
                rows.append(_row(key, loc, b, e, higher, 2))
    return rows


def _row(metric: str, group: str, b: float, e: float, higher: bool, nd: int) -> dict:
    return {
        "metric": metric,
        "group": group,
        "base": round(float(b), nd),
        "expanded": round(float(e), nd),
        "difference": round(float(e) - float(b), nd),
        "higher_is_better": higher,
    }


def _plots(ev: dict) -> dict[str, str]:
    """SVG documents by file name, for the figures the run has."""
    tables = ev["tables"]
    out = {}
    cmp = [
        r for r in base_vs_expanded(ev["metrics"]) if r["metric"].startswith(("retrieval", "intent", "slot", "exact"))
    ]
    if cmp:
        out["base_vs_expanded.svg"] = svg_bars(
            "Base vs expanded",
            [f"{r['metric']} ({r['group']})" if r["group"] else r["metric"] for r in cmp],
            {"base": [r["base"] for r in cmp], "expanded": [r["expanded"] for r in cmp]},
        )
    if tables.get("nlu"):
        rows = tables["nlu"]
        out["nlu.svg"] = svg_bars(
            "NLU on the test set (%)",
            [f"{r['locale']} ({r['model']})" if r.get("model") else r["locale"] for r in rows],
            {k: [r.get(k) for r in rows] for k in ("intent_accuracy", "slot_f1", "exact_match")},
        )
    if tables.get("tokenizer"):
        rows = tables["tokenizer"]
        out["tokenizer.svg"] = svg_bars(
            "Tokenizer on held-out text",
            [r["model"] for r in rows],
            {
                "fertility (pieces/word)": [r["fertility"] for r in rows],
                "UNK rate x 100": [None if r["unk_rate"] is None else 100 * r["unk_rate"] for r in rows],
            },
        )
    if tables.get("sigmorphon"):
        rows = tables["sigmorphon"]
        out["inflection.svg"] = svg_bars(
            "Inflection accuracy, UniMorph dev split (%)",
            [r["system"] for r in rows],
            {"accuracy": [r["dev_accuracy"] for r in rows]},
        )
    return out


def _sections(ctx, ev: dict) -> list[tuple[str, str, list[dict], str | None]]:
    """(title, text, rows, plot) for each part of the report."""
    ing, syn = ctx.out("ingest"), ctx.out("synth")
    tables = ev["tables"]
    data_rows = [
        {
            "what": "lexicon entries (merged)",
            "value": ing["n_lexicon_entries"],
            "detail": ", ".join(f"{k}: {v}" for k, v in ing["n_lexicon_entries_per_file"].items()),
        },
        {
            "what": "UniMorph entries",
            "value": ing["n_unimorph_entries"],
            "detail": f"{ing['n_unimorph_lemmas']} lemmas",
        },
        {
            "what": "real text segments",
            "value": ing["n_real_segments"],
            "detail": f"{ing['n_real_train']} for training, {ing['n_real_heldout']} held out",
        },
    ]
    if ing.get("n_parallel_heldout") or ing.get("n_parallel_train"):
        data_rows.append(
            {
                "what": "parallel units with English",
                "value": ing["n_parallel_heldout"] + ing["n_parallel_train"],
                "detail": f"{', '.join(ing.get('parallel_corpora', []))}; {ing['n_parallel_train']} for "
                f"training, {ing['n_parallel_heldout']} held out for retrieval",
            }
        )
    if syn.get("mono"):
        m = syn["mono"]
        data_rows.append(
            {
                "what": "pseudo-monolingual sentences",
                "value": m["n_kept"],
                "detail": f"of {m['n_sentences']}; {100 * m['coverage']:.1f}% of source words "
                f"translated; {syn.get('mono_leaks_dropped', 0)} held-out/test texts dropped",
            }
        )
    if syn.get("pseudo_train"):
        pr = syn["projection"]
        data_rows.append(
            {
                "what": "pseudo-labelled utterances",
                "value": syn["n_pseudo_utterances"],
                "detail": f"{100 * pr['token_ratio']:.1f}% of words and {100 * pr['slot_ratio']:.1f}% of "
                f"slots translated; {syn.get('label_leaks_dropped', 0)} test items dropped",
            }
        )
    out = [("Data", "What the run read and synthesised.", data_rows, None)]
    adapt_out = ctx.out("adapt")
    if not adapt_out.get("skipped", True):
        am = adapt_out.get("metrics", {})
        rows = [
            {"what": k, "value": am[k]}
            for k in (
                "init_method",
                "new_tokens",
                "base_vocab_size",
                "new_vocab_size",
                "mlm_loss_init",
                "mlm_loss_final",
            )
            if k in am
        ]
        out.append(
            (
                "Adaptation",
                "Tokenizer extension and continued MLM (lexiconlm.adapt); the MLM losses are "
                "those adapt() measures on its own held-out slice of the training text.",
                rows,
                None,
            )
        )
    if tables.get("nlu"):
        out.append(
            (
                "NLU (MASSIVE test)",
                "Intent accuracy, slot F1 (seqeval-style BIO spans) and exact match, "
                "in percent, of the fine-tuned model on the language's real test set. With translate-test "
                "(evaluate.translate_test), 'expanded' is the model reading each utterance as written and "
                "in English through the lexicon (both readings averaged; read_ratio: percent of the words "
                "the lexicon read), 'expanded, as written' the same model on the text alone; 'base' is "
                "the model fine-tuned on English only.",
                tables["nlu"],
                "nlu.svg",
            )
        )
    if tables.get("retrieval"):
        out.append(
            (
                "Parallel-sentence retrieval (held-out units)",
                "Each English unit ranked against every held-out target unit of the language by cosine "
                "similarity of the encoder's mean-pooled embeddings (eng2tgt), and the other way round "
                "(tgt2eng); top-1 and top-10 accuracy in percent (top1/top10: mean of both directions); "
                "`pool`: the number of candidates (chance top-1 = 1/pool). The units are never trained on.",
                [{k: v for k, v in r.items() if k != "units_hash"} for r in tables["retrieval"]],
                None,
            )
        )
    if tables.get("tokenizer"):
        out.append(
            (
                "Tokenizer on held-out real text",
                "Pieces per whitespace word (fertility) and share of "
                "unknown pieces, on real text never used for training.",
                tables["tokenizer"],
                "tokenizer.svg",
            )
        )
    if tables.get("mlm"):
        out.append(
            (
                "Masked-LM loss on held-out real text",
                "Cross-entropy on 15% of the pieces masked with a fixed seed.",
                tables["mlm"],
                None,
            )
        )
    if tables.get("sigmorphon"):
        out.append(
            (
                "Inflection (UniMorph split)",
                "Lemma-disjoint train/dev split of the language's UniMorph "
                "table; exact-match accuracy and mean Levenshtein distance (official SIGMORPHON definitions).",
                tables["sigmorphon"],
                "inflection.svg",
            )
        )
    return out


def _comparison_section(ctx, rows: list[dict]) -> tuple[str, str, list[dict], str | None]:
    """The report's first section: every figure measured for both the base and the expanded model."""
    adapted = not ctx.out("adapt").get("skipped", True)
    text = (
        "Every figure measured with both models, and the difference (expanded - base; an improvement "
        "is a positive difference where higher is better, a negative one for fertility, UNK rate and "
        "MLM loss). Retrieval: English->target and target->English parallel-sentence retrieval "
        "(mean of both directions) over the language's held-out parallel units, never trained on; "
        "NLU: the base model fine-tuned on the English source only vs the expanded model, same "
        "seed and number of steps."
    )
    if not adapted:
        text += " The tokenizer and encoder are not adapted in this configuration (adapt.enabled: false)."
    if not rows:
        text += " Nothing was measured for both models in this run."
    shown = [{**r, "better": _better(r)} for r in rows]
    return ("Base vs expanded", text, shown, "base_vs_expanded.svg")


def improved(row: Mapping[str, Any]) -> bool | None:
    """Whether the expanded model is better than the base on a base-vs-expanded row: the
    difference has the sign ``higher_is_better`` asks for. ``None`` when the difference is
    0 or missing, or the direction is unknown."""
    diff, hib = row.get("difference"), row.get("higher_is_better")
    if diff is None or hib is None or (isinstance(diff, float) and math.isnan(diff)) or diff == 0:
        return None
    return (diff > 0) == bool(hib)


def _better(r: dict) -> str:
    return {True: "yes", False: "no", None: "same"}[improved(r)]


def write_report(ctx) -> dict:
    """Write every result file of the run folder; returns the file names written."""

    run_dir: Path = ctx.run_dir
    ev = ctx.out("evaluate")
    cfg = ctx.cfg
    inp = ctx.inputs
    iso = inp.language.iso639_3
    syn, ing = ctx.out("synth"), ctx.out("ingest")
    signature = _signature(ctx)

    def strip_times(d: Any) -> Any:
        if isinstance(d, dict):
            return {k: strip_times(v) for k, v in d.items() if k != "seconds"}
        return d

    metrics = {
        "language": iso,
        **strip_times(ev["metrics"]),
        "data": {
            "lexicon_entries": ing["n_lexicon_entries"],
            "unimorph_entries": ing["n_unimorph_entries"],
            "real_segments": ing["n_real_segments"],
            "real_heldout": ing["n_real_heldout"],
        },
        "synthesis": {
            **(
                {"mono_sentences": syn["mono"]["n_kept"], "mono_coverage": syn["mono"]["coverage"]}
                if syn.get("mono")
                else {}
            ),
            **(
                {"pseudo_utterances": syn["n_pseudo_utterances"], **syn["projection"]}
                if syn.get("pseudo_train")
                else {}
            ),
        },
        "not_evaluable": ev["not_evaluable"],
    }
    comparison = base_vs_expanded(ev["metrics"])
    metrics["base_vs_expanded"] = comparison
    adapt_out = ctx.out("adapt")
    if not adapt_out.get("skipped", True):
        am = adapt_out.get("metrics", {})
        metrics["adaptation"] = {
            k: am[k] for k in ("new_tokens", "new_vocab_size", "mlm_loss_init", "mlm_loss_final") if k in am
        }
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=1, ensure_ascii=False) + "\n")
    resolved = {**cfg.to_json(), "inputs": inp.as_dict()}
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True))
    atomic_write_text(run_dir / "signature.txt", signature + "\n")
    run_json = {
        "kind": "expand",
        "name": f"expand {cfg.name}: {inp.language.name}",
        "languages": [iso],
        "config": resolved,
        "signature": signature,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    atomic_write_text(run_dir / "run.json", json.dumps(run_json, indent=1, ensure_ascii=False) + "\n")

    # tables
    written = ["metrics.json", "run.json", "config.yaml", "signature.txt"]
    for name, rows in ev["tables"].items():
        rows = [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
        ev["tables"][name] = rows
        _write_csv(run_dir / f"{name}.csv", rows)
        written.append(f"{name}.csv")
    _write_csv(run_dir / "base_vs_expanded.csv", comparison)
    written.append("base_vs_expanded.csv")
    step_rows = []
    for name, rec in ctx.records.items():
        step_rows.append({"step": name, "seconds": round(rec.seconds, 1)})
    total = sum(r["seconds"] for r in step_rows)
    step_rows.append({"step": "total", "seconds": round(total, 1)})
    _write_csv(run_dir / "steps.csv", step_rows)
    written.append("steps.csv")
    plots = _plots(ev)
    (run_dir / "plots").mkdir(exist_ok=True)
    for fname, svg in plots.items():
        atomic_write_text(run_dir / "plots" / fname, svg)
        written.append(f"plots/{fname}")

    # markdown + html
    sections = _sections(ctx, ev)
    sections.insert(0, _comparison_section(ctx, comparison))
    times = ", ".join(f"{r['step']} {r['seconds']:.0f} s" for r in step_rows[:-1])
    model_line = f"`{cfg.get('model.base')}`" + (" adapted with continued MLM" if cfg.get("adapt.enabled") else "")
    n_train = ctx.out("train").get("n_train") or {}
    nlu_line = (
        f"; NLU trained on {' + '.join(cfg.get('nlu.train'))}"
        f" ({', '.join(f'{k}: {v}' for k, v in n_train.items())} utterances)"
        if n_train
        else "; no NLU model (no MASSIVE test set for the language)"
    )
    head = [
        f"# lexiconlm expand: {inp.language.name} ({iso})",
        "",
        f"Config `{cfg.name}`"
        + (f" (`{_display_path(cfg.source)}`)" if cfg.source else "")
        + f"; base model {model_line}{nlu_line}.",
        "",
        f"Command: `lexiconlm expand --lang {iso} --config {_display_path(cfg.source) if cfg.source else '<config>'}`",
        "",
        f"Signature: `{signature}`",
        "",
        f"Machine: {machine_description()}. Time: {total:.0f} s in all ({times}).",
        "",
    ]
    md = list(head)
    html_parts = [f"<h1>{html.escape(head[0][2:])}</h1>"] + [f"<p>{_inline_html(x)}</p>" for x in head[2:] if x]
    for title, text, rows, plot in sections:
        md += [f"## {title}", "", text, "", markdown_table(rows), ""]
        html_parts += [f"<h2>{html.escape(title)}</h2>", f"<p>{html.escape(text)}</p>", html_table(rows)]
        if plot and plot in plots:
            md += [f"![{title}](plots/{plot})", ""]
            html_parts.append(f'<div class="plot">{plots[plot]}</div>')
    missing = ev["not_evaluable"]
    md += ["## Not evaluable", ""]
    html_parts.append("<h2>Not evaluable</h2>")
    if missing:
        md += [f"- {m}" for m in missing] + [""]
        html_parts.append("<ul>" + "".join(f"<li>{html.escape(m)}</li>" for m in missing) + "</ul>")
    else:
        md += ["Everything the configuration asked for was evaluated.", ""]
        html_parts.append("<p>Everything the configuration asked for was evaluated.</p>")
    md += [
        "## Steps",
        "",
        markdown_table(step_rows),
        "",
        "Files: `metrics.json` (scores), `run.json`, `config.yaml` (resolved configuration), "
        "`data/` (lexicon, pseudo-monolingual and pseudo-labelled data, real-text split), "
        + (
            f"`{ctx.out('train')['model_dir']}/` (the fine-tuned model, Hugging Face format; "
            f'`lexiconlm nlu predict {_display_path(run_dir)} "..."` parses an utterance), '
            if ctx.out("train").get("model_dir")
            else ""
        )
        + "`*.csv` (tables; `base_vs_expanded.csv` first), `plots/`.",
        "",
    ]
    html_parts += ["<h2>Steps</h2>", html_table(step_rows)]
    md_text = "\n".join(md)
    atomic_write_text(run_dir / "report.md", md_text)
    atomic_write_text(run_dir / "README.md", md_text)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(head[0][2:])}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(html_parts)
        + "\n</body></html>\n"
    )
    atomic_write_text(run_dir / "report.html", page)
    written += ["report.md", "README.md", "report.html"]
    return {"files": written, "signature": signature}


def _display_path(p) -> str:
    """A config path relative to the working folder when it is below it."""
    if p is None:
        return ""
    try:
        return str(Path(p).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _inline_html(text: str) -> str:
    """Backticks of the Markdown header lines as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{x}</code>" if i % 2 else x for i, x in enumerate(parts))


_CSS = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;"
    "text-align:left}th{background:#f3f3f3}code{background:#f5f5f5;padding:0 .2em}.plot{margin:1em 0}"
)


#: What :func:`export_run` copies: the reports and small tables, never models or data.
EXPORTED = ("report.md", "report.html", "metrics.json", "run.json", "signature.txt", "config.yaml")


def export_run(run_dir: str | Path, dest: str | Path) -> Path:
    """Copy a run's reports, metrics, tables and plots (not its models or data) into ``dest``.

    Returns ``dest``. The ``run.json`` is kept, so the exported folder is a run the app shows.
    """
    src, dest = Path(run_dir), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    names = [n for n in EXPORTED if (src / n).is_file()] + sorted(p.name for p in src.glob("*.csv"))
    for n in names:
        shutil.copyfile(src / n, dest / n)
    if (src / "plots").is_dir():
        (dest / "plots").mkdir(exist_ok=True)
        for p in sorted((src / "plots").glob("*.svg")):
            shutil.copyfile(p, dest / "plots" / p.name)
    return dest


def summary_rows(run_dirs: Sequence[str | Path]) -> list[dict]:
    """One row per run: language, NLU figures, tokenizer fertility, inflection accuracy, time."""
    rows = []
    for d in map(Path, run_dirs):
        m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
        steps = {}
        if (d / "steps.csv").is_file():
            with open(d / "steps.csv", encoding="utf-8") as fh:
                steps = {r["step"]: float(r["seconds"]) for r in csv.DictReader(fh)}
        nlu = next(iter(m.get("nlu", {}).items()), (None, {}))
        tok = m.get("tokenizer", {}).get("base", {})
        inf = m.get("inflection", {}).get("best") or m.get("inflection", {}).get("affix", {})
        run = json.loads((d / "run.json").read_text(encoding="utf-8")) if (d / "run.json").is_file() else {}
        rows.append(
            {
                "language": m["language"],
                "config": run.get("config", {}).get("name", ""),
                "locale": nlu[0] or "",
                "intent_accuracy": _round(nlu[1].get("intent_accuracy")),
                "slot_f1": _round(nlu[1].get("slot_f1")),
                "exact_match": _round(nlu[1].get("exact_match")),
                "fertility": _round(tok.get("fertility"), 3),
                "unk_rate": _round(tok.get("unk_rate"), 4),
                "inflection_accuracy": _round(inf.get("accuracy")),
                "inflector": inf.get("system", "affix" if inf else None),
                "pseudo_utterances": m.get("synthesis", {}).get("pseudo_utterances"),
                "minutes": _round(steps.get("total", 0) / 60, 1) if steps else None,
            }
        )
    return rows


def _round(v, nd: int = 2):
    return None if v is None else round(float(v), nd)


def export_runs(run_dirs: Sequence[str | Path], dest: str | Path) -> Path:
    """:func:`export_run` for each run into ``dest/<language>/``, plus ``dest/summary.csv`` and ``summary.md``.

    Returns the path of ``summary.md``.
    """
    dest = Path(dest)
    for d in map(Path, run_dirs):
        lang = json.loads((d / "metrics.json").read_text(encoding="utf-8"))["language"]
        export_run(d, dest / lang)
    # the summary covers every language exported to dest so far, not only this call's
    rows = summary_rows(sorted(p.parent for p in dest.glob("*/metrics.json")))
    _write_csv(dest / "summary.csv", rows)
    lines = [
        "# lexiconlm expand: results per language",
        "",
        "One row per exported run; each language's folder has its report.md, report.html, "
        "metrics.json and tables. Empty cells: not evaluable (the report says why).",
        "",
        markdown_table(rows),
        "",
    ]
    return atomic_write_text(dest / "summary.md", "\n".join(lines))
