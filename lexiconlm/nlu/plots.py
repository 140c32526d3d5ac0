"""Per-locale bar charts of MASSIVE results (altair; PNG/SVG through vl-convert when installed).

Reads the ``results.csv`` written by :func:`lexiconlm.nlu.experiments.run_experiments`
(columns ``locale, system, intent_accuracy, slot_f1, exact_match, n, ...``) and writes, for
one metric, a grouped bar chart (one group per locale, one bar per system) as
``<stem>.html`` and ``<stem>.vl.json`` always, and ``<stem>.svg`` / ``<stem>.png`` when
``vl-convert-python`` is importable (without it the function says so in its return value,
never silently).

Example:
    >>> plot_results("docs/results/massive/results.csv", "docs/results/massive/intent_accuracy")  # doctest: +SKIP
    {'html': ..., 'json': ..., 'svg': ..., 'png': ..., 'missing': []}
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from lexiconlm.errors import MissingDependencyError
from lexiconlm.files import atomic_write_text

__all__ = ["plot_results", "read_results"]


def read_results(path: str | os.PathLike) -> list[dict]:
    """Rows of a results CSV; metric columns as floats (empty -> NaN)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k in ("intent_accuracy", "slot_f1", "exact_match"):
            r[k] = float(r[k]) if r.get(k) not in (None, "") else float("nan")
    return rows


def plot_results(
    results_csv: str | os.PathLike,
    out_stem: str | os.PathLike,
    *,
    metric: str = "intent_accuracy",
    systems: Sequence[str] | None = None,
    title: str | None = None,
) -> dict:
    """Write the grouped bar chart of ``metric`` per locale and system.

    Args:
        results_csv: a results CSV.
        out_stem: output path without suffix (``.html``, ``.vl.json``, ``.svg``, ``.png`` are added).
        metric: ``intent_accuracy``, ``slot_f1`` or ``exact_match``.
        systems: the systems to show, in this order (default: all, in file order).
        title: chart title.

    Returns:
        ``{"html", "json", "svg", "png": paths or None, "missing": [what could not be written and why]}``.

    Raises:
        MissingDependencyError: altair is not installed (``pip install 'lexiconlm[app]'``).
    """
    try:
        import altair as alt
    except ImportError:
        raise MissingDependencyError("plots", "app", "altair") from None

    rows = [r for r in read_results(results_csv) if r[metric] == r[metric]]
    order = list(dict.fromkeys(r["system"] for r in rows))
    if systems:
        order = [s for s in systems if s in order]
        rows = [r for r in rows if r["system"] in order]
    data = [{"locale": r["locale"], "system": r["system"], metric: r[metric]} for r in rows]
    chart = (
        alt.Chart(alt.Data(values=data), title=title or f"MASSIVE {metric.replace('_', ' ')} per locale")
        .mark_bar()
        .encode(
            x=alt.X("locale:N", title="locale", axis=alt.Axis(labelAngle=-60)),
            xOffset=alt.XOffset("system:N", sort=order),
            y=alt.Y(f"{metric}:Q", title=metric.replace("_", " ") + " (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("system:N", sort=order, legend=alt.Legend(orient="top")),
            tooltip=["locale:N", "system:N", alt.Tooltip(f"{metric}:Q", format=".1f")],
        )
        .properties(width=900, height=300)
    )
    stem = Path(out_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out: dict = {"html": None, "json": None, "svg": None, "png": None, "missing": []}
    spec = chart.to_json(indent=1)
    out["json"] = atomic_write_text(stem.with_name(stem.name + ".vl.json"), spec + "\n")
    out["html"] = atomic_write_text(stem.with_name(stem.name + ".html"), chart.to_html())
    try:
        import vl_convert as vlc
    except ImportError:
        out["missing"].append("svg/png: vl-convert-python is not installed (pip install vl-convert-python)")
        return out
    out["svg"] = atomic_write_text(stem.with_name(stem.name + ".svg"), vlc.vegalite_to_svg(spec))
    png = stem.with_name(stem.name + ".png")
    tmp = png.with_suffix(".png.tmp")
    tmp.write_bytes(vlc.vegalite_to_png(spec, scale=2))
    tmp.replace(png)
    out["png"] = png
    return out
