"""The Streamlit app (apps/lexiconlm_app.py): every page under streamlit's AppTest, and the
plain helpers behind it (the lexiconlm.app package) and ``lexiconlm app``.

Pages run on the demo config (configs/coverage/demo.yaml) unless a test says otherwise;
configs written by the tests keep their statistics cache in the test's tmp folder.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytest.importorskip("altair")
pd = pytest.importorskip("pandas")
yaml = pytest.importorskip("yaml")

from streamlit.testing.v1 import AppTest

from lexiconlm.app import context as app_context
from lexiconlm.app import coverage as app_coverage
from lexiconlm.app import files as app_files
from lexiconlm.app import ipa as app_ipa
from lexiconlm.app import runs as app_runs
from lexiconlm.app import tables as app_tables
from lexiconlm.languages import get_catalog

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "apps" / "lexiconlm_app.py"
DEMO = REPO / "configs" / "coverage" / "demo.yaml"
BENCHMARKS = REPO / "benchmarks" / "results"
PAGES = ("pages/coverage_overview.py", "pages/language_explorer.py", "pages/run_results.py", "pages/csv_downloads.py")
TIMEOUT = 90


# ---------------------------------------------------------------------- helpers


def demo_config(tmp_path: Path, name: str = "demo.yaml", **changes) -> Path:
    """The demo config with absolute paths, its cache in ``tmp_path`` and ``changes`` applied
    (no run folders unless ``runs`` is given, so that local runs do not change the pages)."""
    changes.setdefault("runs", [])
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    base = DEMO.parent

    def absolute(value):
        if isinstance(value, dict):
            return {k: absolute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [absolute(v) for v in value]
        if isinstance(value, str):
            return str((base / value).resolve())
        return value

    data = {k: absolute(v) for k, v in data.items()}
    data["cache"] = str(tmp_path / f"{name}.cache.json")
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def use_config(monkeypatch):
    """Point the app at a config (``None``: no variable, the app's default, demo.yaml)."""
    monkeypatch.delenv(app_context.TOKENIZER_ENV, raising=False)

    def use(path: Path | None) -> None:
        if path is None:
            monkeypatch.delenv(app_context.CONFIG_ENV, raising=False)
        else:
            monkeypatch.setenv(app_context.CONFIG_ENV, str(path))

    monkeypatch.delenv(app_context.CONFIG_ENV, raising=False)
    return use


def open_page(page: str = "pages/coverage_overview.py", query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    if page != "pages/coverage_overview.py" or query:
        at.switch_page(page)
        if query:
            at.query_params.update(query)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def text_of(at: AppTest) -> str:
    """Every piece of text on the page, for assertions."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label}: {m.value}" for m in at.metric)
    return "\n".join(parts)


def frames_of(at: AppTest) -> list:
    """The DataFrames shown on the page, in order."""
    return [f.value for f in at.dataframe]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def matches(at: AppTest) -> int:
    """The count in "**N languages match**" / "**N of M runs**"."""
    for m in at.markdown:
        v = str(m.value)
        if v.startswith("**") and (" languages match" in v or " runs**" in v):
            return int(v[2:].split()[0].replace(",", ""))
    raise AssertionError("no match count on the page:\n" + text_of(at))


# ---------------------------------------------------------------------- every page loads


@pytest.mark.parametrize("page", PAGES)
def test_every_page_loads_on_the_default_demo_config(page, use_config):
    use_config(None)  # the app's default: configs/coverage/demo.yaml
    at = open_page(page)
    assert not at.error, text_of(at)
    assert "demo.yaml" in " ".join(str(c.value) for c in at.sidebar.caption)


# ---------------------------------------------------------------------- overview


def test_overview_counts_charts_and_map(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page()
    assert metric(at, "Languages") == f"{len(get_catalog()):,}"
    assert metric(at, "lexicon") == "1"  # the demo lexicon is English -> Indonesian
    assert metric(at, "UniMorph") == "1"
    # two bar charts (family, script) and the map
    assert len(at.get("vega_lite_chart")) == 3
    assert "Coverage by family" in text_of(at)
    assert len(at.download_button) >= 1


def test_overview_filters_narrow_and_group(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page()
    total = int(metric(at, "Languages").replace(",", ""))
    at.selectbox(key="ov_area").select("Papunesia").run()
    area = int(metric(at, "Languages").replace(",", ""))
    assert 0 < area < total
    at.checkbox(key="ov_only").check().run()
    assert metric(at, "Languages") == "1"  # Indonesian
    at.radio(key="ov_by").set_value("script").run()
    assert "Coverage by script" in text_of(at)
    agg = at.dataframe[0].value
    assert list(agg["script"]) == ["Latn"] and list(agg["languages"]) == [1]


def test_overview_empty_state(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page()
    at.selectbox(key="ov_area").select("Australia").run()
    at.checkbox(key="ov_only").check().run()
    assert not at.exception
    assert "No language matches these filters" in text_of(at)


def test_coverage_is_built_once_not_on_every_page_load(tmp_path, use_config, monkeypatch):
    use_config(demo_config(tmp_path, name="once.yaml"))
    calls = []
    real = app_coverage.load_coverage

    def counting(ctx):
        calls.append(ctx.config_path)
        return real(ctx)

    monkeypatch.setattr(app_coverage, "load_coverage", counting)
    at = open_page()
    for page in PAGES[1:]:
        at.switch_page(page).run()
        assert not at.exception
    at.switch_page(PAGES[0]).run()
    assert len(calls) == 1
    # and the statistics behind it come from the cache file of the config
    assert (tmp_path / "once.yaml.cache.json").is_file()


# ---------------------------------------------------------------------- language explorer


def test_explorer_search_narrows_and_opens_the_language(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py")
    total = matches(at)
    at.text_input(key="ex_search").input("indonesian").run()
    assert 1 <= matches(at) < total
    at.selectbox(key="ex_lang").select("ind").run()
    page = text_of(at)
    assert "Indonesian (ind)" in page
    frames = frames_of(at)
    lexicon = next(f for f in frames if "target" in f.columns)
    assert len(lexicon) > 0 and set(lexicon["file"]) == {"lexicons/indonesian.txt"}
    assert any("features" in f.columns and len(f) for f in frames), "no paradigm shown"
    resources = next(f for f in frames if "resource" in f.columns)
    assert {"lexicon", "UniMorph", "NLU", "text"} <= set(resources["resource"])
    assert at.query_params.get("lang") in ("ind", ["ind"])


def test_explorer_ipa_of_sample_words(tmp_path, use_config):
    pytest.importorskip("epitran")
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py", query={"lang": "ind"})
    ipa = next((f for f in frames_of(at) if "IPA" in f.columns), None)
    assert ipa is not None and len(ipa) > 0, text_of(at)
    assert "epitran map `ind-Latn`" in text_of(at)
    assert all(isinstance(x, str) and x for x in ipa["IPA"])


def test_explorer_resource_and_family_filters(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py")
    at.pills(key="ex_has").set_value(["UniMorph"]).run()
    assert matches(at) == 1
    assert list(at.dataframe[0].value["iso639_3"]) == ["ind"]
    at.pills(key="ex_has").set_value([]).run()
    at.selectbox(key="ex_family").select("Austronesian").run()
    n_family = matches(at)
    fam = {lang.iso639_3 for lang in get_catalog() if lang.family == "Austronesian"}
    assert n_family == len(fam)


def test_explorer_empty_state(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py")
    at.text_input(key="ex_search").input("zzqqxx no such language").run()
    assert not at.exception
    assert matches(at) == 0
    assert "No language matches these filters" in text_of(at)


def test_explorer_language_without_resources_says_so(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py", query={"lang": "amh"})
    page = text_of(at)
    assert "Amharic (amh)" in page
    assert "No configured resource has data for Amharic" in page
    assert "No lexicon entries for Amharic" in page
    assert "No sample sentences for Amharic" in page


def test_explorer_unknown_language_in_url_suggests(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py", query={"lang": "swahilli"})
    warn = " ".join(str(w.value) for w in at.warning)
    assert "Unknown language 'swahilli'" in warn and "Did you mean" in warn and "swh" in warn


def test_explorer_language_without_epitran_map(tmp_path, use_config):
    pytest.importorskip("epitran")
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py", query={"lang": "eus"})  # Basque: no epitran map
    assert "epitran has no map for Basque (eus-Latn)" in text_of(at)


def _tiny_tokenizer(folder: Path) -> Path:
    """A word-level tokenizer trained in memory on a few English words (Indonesian is mostly UNK)."""
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    from tokenizers import models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]"])
    tok.train_from_iterator(["the cat sat on the mat", "every person has rights"] * 3, trainer=trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]")
    folder.mkdir(parents=True)
    fast.save_pretrained(folder)
    return folder


def test_explorer_tokenizer_segmentation(tmp_path, use_config):
    runs = tmp_path / "runs"
    adapt = runs / "adapt-demo"
    _tiny_tokenizer(adapt / "tokenizer")
    (adapt / "run.json").write_text(json.dumps({"kind": "adaptation", "languages": ["ind"]}), encoding="utf-8")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    at = open_page("pages/language_explorer.py", query={"lang": "ind"})
    seg = next((f for f in frames_of(at) if "tokens" in f.columns), None)
    assert seg is not None, text_of(at)
    assert len(seg) > 0 and (seg["unknown"] > 0).any()  # Indonesian words the English vocabulary lacks
    assert at.selectbox(key="ex_tok").value.endswith("tokenizer")


def test_explorer_without_tokenizer_explains(tmp_path, use_config):
    use_config(demo_config(tmp_path))
    at = open_page("pages/language_explorer.py", query={"lang": "ind"})
    assert "No tokenizer to show" in text_of(at)


# ---------------------------------------------------------------------- runs


def _write_runs(root: Path) -> Path:
    good = root / "sigmorphon" / "affix-2023"
    good.mkdir(parents=True)
    (good / "run.json").write_text(
        json.dumps(
            {
                "kind": "sigmorphon",
                "name": "affix 2023",
                "languages": ["amh", "deu", "jap"],
                "config": {"edition": "2023"},
                "signature": "affix|lexiconlm:0.1.0",
                "created": "2026-01-02T03:04:05Z",
            }
        ),
        encoding="utf-8",
    )
    (good / "metrics.json").write_text(json.dumps({"dev": {"accuracy": 61.538461538461536}, "n": 3}), encoding="utf-8")
    (good / "per_language.csv").write_text(
        "language,dev_accuracy,dev_levenshtein\namh,55.7,0.75\ndeu,70.1,0.5\njap,58.7,1.1\n(macro average),61.5,0.78\n",
        encoding="utf-8",
    )
    massive = root / "massive-ind"
    massive.mkdir()
    (massive / "run.json").write_text(
        json.dumps({"kind": "massive", "languages": ["ind"], "created": "2026-01-01"}), encoding="utf-8"
    )
    (massive / "metrics.json").write_text(
        json.dumps({"intent_accuracy": 0.8125, "dev": {"accuracy": 58.333333333333336}}), encoding="utf-8"
    )
    (massive / "per_locale.csv").write_text("locale,intent_accuracy,slot_f1\nid-ID,0.81,0.66\n", encoding="utf-8")
    bad = root / "broken"
    bad.mkdir()
    (bad / "run.json").write_text('{"kind": "sigmorphn", "languages": ["amh"]}', encoding="utf-8")
    (bad / "metrics.json").write_text("{not json", encoding="utf-8")
    return root


#: The base-vs-expanded rows of an expand run (tables/base_vs_expanded.csv).
BASE_VS_EXPANDED_ROWS = [
    {
        "metric": "retrieval_top1",
        "group": "udhr+bible",
        "base": 49.4,
        "expanded": 52.1,
        "difference": 2.7,
        "higher_is_better": True,
    },
    {
        "metric": "fertility",
        "group": "held-out text",
        "base": 2.31,
        "expanded": 1.85,
        "difference": -0.46,
        "higher_is_better": False,
    },
    {
        "metric": "intent_accuracy",
        "group": "id-ID",
        "base": 20.1,
        "expanded": 17.433333333,
        "difference": -2.666666667,
        "higher_is_better": True,
    },
]

#: A batch summary of `lexiconlm expand --langs ind,jav,amh,xyz`: Javanese is hurt on
#: retrieval, Amharic has no intent scores, xyz is not a catalog language.
BATCH_SUMMARY = (
    "language,name,family,genus,script,status,seconds,retrieval_top1_base,retrieval_top1_expanded,"
    "retrieval_top1_diff,fertility_base,fertility_expanded,fertility_diff,intent_accuracy_base,"
    "intent_accuracy_expanded,intent_accuracy_diff\n"
    "ind,Indonesian,Austronesian,Malayo-Sumbawan,Latn,ok,61.25,49.4,52.133333,2.733333,2.31,1.85,-0.46,20.1,27.4,7.3\n"
    "jav,Javanese,Austronesian,Javanese,Latn,ok,58.0,40.0,38.5,-1.5,2.5,2.0,-0.5,30.0,31.0,1.0\n"
    "amh,Amharic,Afro-Asiatic,Semitic,Ethi,ok,70.5,20.0,30.0,10.0,4.1,2.2,-1.9,,,\n"
    "xyz,,,,,failed,1.0,,,,,,,,,\n"
)


def _write_expand_runs(root: Path) -> Path:
    """A batch folder as `lexiconlm expand --langs ...` writes it: two expand runs (``ind`` with
    a base-vs-expanded table and an NLU model, ``amh`` an older run without either) and
    ``summary.csv`` / ``summary.md`` beside them."""
    batch = root / "batch"
    ind = batch / "ind"
    (ind / "tables").mkdir(parents=True)
    (ind / "steps").mkdir()
    (ind / "train" / "model").mkdir(parents=True)
    (ind / "train" / "model" / "nlu.json").write_text("{}", encoding="utf-8")
    (ind / "run.json").write_text(
        json.dumps({"kind": "expand", "name": "expand ind", "languages": ["ind"], "created": "2026-12-01"}),
        encoding="utf-8",
    )
    (ind / "metrics.json").write_text(
        json.dumps(
            {
                "language": "ind",
                "nlu": {"id-ID": {"intent_accuracy": 17.433333333}},
                "base_vs_expanded": BASE_VS_EXPANDED_ROWS,
            }
        ),
        encoding="utf-8",
    )
    columns = list(BASE_VS_EXPANDED_ROWS[0])
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in BASE_VS_EXPANDED_ROWS]
    (ind / "tables" / "base_vs_expanded.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    amh = batch / "amh"
    amh.mkdir()
    (amh / "run.json").write_text(
        json.dumps({"kind": "expand", "name": "expand amh", "languages": ["amh"], "created": "2026-11-01"}),
        encoding="utf-8",
    )
    (amh / "metrics.json").write_text(
        json.dumps({"language": "amh", "tokenizer": {"base": {"fertility": 4.1}}}), encoding="utf-8"
    )
    (batch / "summary.csv").write_text(BATCH_SUMMARY, encoding="utf-8")
    (batch / "summary.md").write_text("# lexiconlm expand: results per language\n", encoding="utf-8")
    return root


def test_runs_page_without_run_folders_explains_how_to_add_them(tmp_path, use_config):
    use_config(demo_config(tmp_path, runs=[]))
    at = open_page("pages/run_results.py")
    assert "No run folder is configured" in text_of(at)


def test_runs_page_lists_runs_apart_from_benchmark_tables(tmp_path, use_config):
    runs = _write_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs), str(BENCHMARKS)]))
    at = open_page("pages/run_results.py")
    n_bench = sum(r.is_table for r in app_runs.discover_runs([BENCHMARKS]))
    assert n_bench >= 5
    assert matches(at) == 3  # the runs; the benchmark tables are counted apart
    assert f"**{n_bench} of {n_bench} benchmark tables**" in [m.value for m in at.markdown]
    assert [s.value for s in at.subheader] == ["Runs", "Benchmark tables"]
    summary = frames_of(at)[0]
    tables = next(f for f in frames_of(at) if "table" in f.columns)
    assert set(summary["kind"]) == {"sigmorphon", "massive", "unknown"}
    assert "dev.accuracy" in summary.columns
    assert "sigmorphon_affix_2023_dev.csv" in set(tables["table"])
    assert "sigmorphon_affix_2023_dev.csv" not in set(summary["run"])
    assert {"table", "rows", "mean dev_accuracy"} <= set(tables.columns)
    assert "kind" not in tables.columns
    # the broken run is listed with its problems
    assert summary.loc[summary["run"] == "broken", "problems"].item() == 2
    # filtering by kind: the benchmark tables have their own pill
    at.pills(key="runs_kind").set_value(["sigmorphon"]).run()
    assert matches(at) == 1
    assert f"**0 of {n_bench} benchmark tables**" in [m.value for m in at.markdown]
    assert "Signature: `affix|lexiconlm:0.1.0`" in text_of(at)
    per_lang = next(t for t in frames_of(at) if "dev_levenshtein" in t.columns)
    assert list(per_lang["language"])[:3] == ["amh", "deu", "jap"]
    # a per-language chart plus the family and script comparisons
    assert len(at.get("vega_lite_chart")) >= 3
    assert "not matched to a catalog language ((macro average))" in text_of(at)
    at.pills(key="runs_kind").set_value(["benchmark"]).run()
    assert matches(at) == 0
    assert f"**{n_bench} of {n_bench} benchmark tables**" in [m.value for m in at.markdown]
    at.pills(key="runs_kind").set_value([]).run()
    at.text_input(key="runs_q").input("ind").run()
    run_names = set(frames_of(at)[0]["name"])
    table_names = set(next(f for f in frames_of(at) if "table" in f.columns)["name"])
    # by name, and by language (Indonesian is one of the 2021 affix-baseline languages)
    assert run_names == {"massive-ind"}
    assert "sigmorphon_affix_2021" in table_names and len(table_names) < n_bench


def test_runs_page_rounds_metrics_to_their_precision(tmp_path, use_config):
    runs = _write_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs), str(BENCHMARKS)]))
    at = open_page("pages/run_results.py", query={"run": "sigmorphon/affix-2023"})
    summary = frames_of(at)[0]
    tables = next(f for f in frames_of(at) if "table" in f.columns)
    assert sorted(summary["dev.accuracy"].dropna()) == [58.33, 61.54]
    assert summary["intent_accuracy"].dropna().tolist() == [0.81]
    assert all(round(v, 2) == v for v in tables["mean dev_accuracy"].dropna())
    shown = at.table[0].value
    assert dict(zip(shown["metric"], shown["value"])) == {"dev.accuracy": "61.54", "n": "3"}
    assert "#### affix 2023" in [m.value for m in at.markdown]
    everything = text_of(at) + " ".join(f.to_csv() for f in [*frames_of(at), shown])
    assert "61.538461538461536" not in everything and "58.333333" not in everything
    # the download keeps the full values
    full = app_runs.runs_summary(app_runs.discover_runs([runs]))
    assert b"61.538461" in app_tables.table_csv(full)


def _one_run(root: Path, name: str, metrics: dict) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"kind": "massive", "languages": ["ind"]}), encoding="utf-8")
    (run / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return run


def test_runs_page_compares_only_two_or_more_runs(tmp_path, use_config):
    runs = tmp_path / "runs"
    _one_run(runs, "only", {"intent_accuracy": 27.430555555555557})
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    at = open_page("pages/run_results.py")
    assert matches(at) == 1
    assert not at.get("vega_lite_chart"), "a comparison chart was drawn for a single run"
    assert not [s for s in at.selectbox if s.key == "runs_metric"]
    assert "A comparison chart is drawn when two or more runs report the same metric" in text_of(at)
    assert "Benchmark tables" not in [s.value for s in at.subheader]  # none in this folder
    assert frames_of(at)[0]["intent_accuracy"].tolist() == [27.43]

    _one_run(runs, "second", {"intent_accuracy": 30.0, "other": 1.5})
    at = open_page("pages/run_results.py")
    assert matches(at) == 2
    assert at.selectbox(key="runs_metric").options == ["intent_accuracy"]  # "other": one run only
    assert len(at.get("vega_lite_chart")) == 1


def test_runs_page_shows_problems_of_a_bad_run(tmp_path, use_config):
    runs = _write_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    at = open_page("pages/run_results.py", query={"run": "broken"})
    warnings = " ".join(str(w.value) for w in at.warning)
    assert "Did you mean: sigmorphon?" in warnings
    assert "metrics.json:1: not valid JSON" in warnings


def test_runs_page_opens_a_benchmark_table_from_the_url(tmp_path, use_config):
    use_config(demo_config(tmp_path, runs=[str(BENCHMARKS)]))
    at = open_page("pages/run_results.py", query={"run": "sigmorphon_affix_2022_dev.csv"})
    assert at.selectbox(key="runs_table").value == "sigmorphon_affix_2022_dev.csv"
    assert not [s for s in at.selectbox if s.key == "runs_pick"]  # no run in this folder
    table = next(f for f in frames_of(at) if "setting" in f.columns)
    assert "ang_large" in set(table["setting"])
    # settings such as ang_large are grouped under their language's family
    assert len(at.get("vega_lite_chart")) >= 3


@pytest.mark.parametrize("asked", ["../../etc/passwd", "../../etc", "/etc/passwd", "..", "sigmorphon/../../x"])
def test_runs_page_rejects_paths_outside_the_run_folders(tmp_path, use_config, asked):
    runs = _write_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    at = open_page("pages/run_results.py", query={"run": asked})
    errors = " ".join(str(e.value) for e in at.error)
    assert "cannot be opened" in errors
    assert ("not allowed" in errors) or ("outside the folders" in errors)
    assert "root:" not in text_of(at)


def test_runs_page_ignores_symlinks_that_lead_out(tmp_path, use_config):
    runs = _write_runs(tmp_path / "runs")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.csv").write_text("language,score\namh,1\n", encoding="utf-8")
    try:
        (runs / "leak.csv").symlink_to(outside / "secret.csv")
        (runs / "leakdir").symlink_to(outside, target_is_directory=True)
    except OSError:
        pytest.skip("symlinks are not available here")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    at = open_page("pages/run_results.py", query={"run": "leak.csv"})
    assert "cannot be opened" in " ".join(str(e.value) for e in at.error)
    assert not any("secret" in str(r) or "leak" in str(r) for r in at.dataframe[0].value["run"])


def _link(link: Path, target: Path) -> None:
    try:
        link.symlink_to(target)
    except OSError:
        pytest.skip("symlinks are not available here")


def _runs_with_links_out(tmp_path: Path) -> Path:
    """Two runs whose files are links to files outside the run folder (holding SECRET text):
    ``metrics-link`` (a real run.json; metrics.json, README.md and a table linked out) and
    ``runjson-link`` (run.json linked out)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "metrics.json").write_text(json.dumps({"SECRET_score": 99.5}), encoding="utf-8")
    (outside / "run.json").write_text(
        json.dumps({"kind": "massive", "name": "SECRET-NAME", "config": {"token": "SECRET-TOKEN"}}), encoding="utf-8"
    )
    (outside / "README.md").write_text("SECRET-NOTES\n", encoding="utf-8")
    (outside / "t.csv").write_text("language,SECRET_column\namh,1\n", encoding="utf-8")
    runs = tmp_path / "runs"
    one = runs / "metrics-link"
    one.mkdir(parents=True)
    (one / "run.json").write_text(json.dumps({"kind": "massive", "name": "metrics link"}), encoding="utf-8")
    _link(one / "metrics.json", outside / "metrics.json")
    _link(one / "README.md", outside / "README.md")
    _link(one / "t.csv", outside / "t.csv")
    two = runs / "runjson-link"
    two.mkdir()
    _link(two / "run.json", outside / "run.json")
    return runs


def test_discover_runs_refuses_run_files_linked_outside(tmp_path):
    runs = _runs_with_links_out(tmp_path)
    found = {r.run_id: r for r in app_runs.discover_runs([runs])}
    assert set(found) == {"metrics-link", "runjson-link"}
    one = found["metrics-link"]
    assert one.kind == "massive" and one.metrics == {} and one.notes == "" and one.tables == ()
    problems = "\n".join(one.problems)
    for name in ("metrics.json", "README.md", "t.csv"):
        assert f"{name}: not read: it is a link that leads outside the run folders" in problems
    two = found["runjson-link"]
    assert two.name == "runjson-link" and two.kind == "unknown" and dict(two.config) == {}
    assert len(two.problems) == 1 and two.problems[0].startswith(
        "run.json: not read: it is a link that leads outside the run folders"
    )
    assert "SECRET" not in repr(found)


@pytest.mark.parametrize("run", ["metrics-link", "runjson-link"])
def test_runs_page_refuses_run_files_linked_outside(tmp_path, use_config, run):
    runs = _runs_with_links_out(tmp_path)
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    at = open_page("pages/run_results.py", query={"run": run})
    assert at.selectbox(key="runs_pick").value == run
    warnings = " ".join(str(w.value) for w in at.warning)
    linked = "metrics.json" if run == "metrics-link" else "run.json"
    assert f"{linked}: not read: it is a link that leads outside the run folders" in warnings
    tables = [*frames_of(at), *(t.value for t in at.table)]
    shown = text_of(at) + " ".join(f.to_csv() for f in tables)
    shown += " ".join(str(j.value) for j in at.json)
    shown += " ".join(at.selectbox(key="runs_pick").options)
    assert "SECRET" not in shown


def test_read_helpers_refuse_links_that_lead_out(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.json").write_text('{"a": 1}', encoding="utf-8")
    (tmp_path / "secret.json").write_text('{"s": 1}', encoding="utf-8")
    (tmp_path / "secret.csv").write_text("a\n1\n", encoding="utf-8")
    _link(root / "metrics.json", tmp_path / "secret.json")
    _link(root / "t.csv", tmp_path / "secret.csv")
    assert app_files.read_json_inside(root / "ok.json", [root]) == {"a": 1}
    assert app_files.read_text_inside("ok.json", [root]) == '{"a": 1}'
    for read, name in (
        (app_files.read_json_inside, "metrics.json"),
        (app_files.read_text_inside, "metrics.json"),
        (app_files.read_result_table, "t.csv"),
        (app_files.open_inside, "metrics.json"),
    ):
        with pytest.raises(app_files.PathNotAllowedError, match="outside"):
            read(root / name, [root])
        with pytest.raises(app_files.PathNotAllowedError, match="not allowed"):
            read(f"../{root.name}/{name}", [root])
    with pytest.raises(app_files.PathNotAllowedError, match="not a file"):
        app_files.open_inside(root, [root])


def test_only_the_resolver_module_opens_files():
    """Every file the app opens goes through lexiconlm.app.files (resolve_inside): no other
    module of the app package, nor the pages, opens or reads a path itself."""
    import ast

    opening = {"open", "read_text", "read_bytes", "read_csv", "read_json", "read_table", "load", "fdopen"}
    found = []
    files = [*(REPO / "lexiconlm" / "app").glob("*.py"), *(REPO / "apps").rglob("*.py")]
    assert len(files) > 10
    for path in files:
        if path.name == "files.py" and path.parent.name == "app":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = getattr(f, "id", None) or getattr(f, "attr", "")
                if name in opening:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}()")
    assert not found, "files opened without lexiconlm.app.files:\n" + "\n".join(found)


def test_tokenizer_folder_with_a_file_linked_outside_is_refused(tmp_path):
    from lexiconlm.app.tokenizer import load_local_tokenizer

    folder = tmp_path / "runs" / "adapt" / "tokenizer"
    folder.mkdir(parents=True)
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    _link(folder / "tokenizer.json", tmp_path / "tokenizer.json")
    with pytest.raises(app_files.PathNotAllowedError, match="tokenizer.json .* leads outside"):
        load_local_tokenizer(folder, [tmp_path / "runs"])


def test_runs_page_empty_folder(tmp_path, use_config):
    empty = tmp_path / "runs"
    empty.mkdir()
    use_config(demo_config(tmp_path, runs=[str(empty)]))
    at = open_page("pages/run_results.py")
    assert "No runs were found" in text_of(at)


def test_runs_filter_empty_state(tmp_path, use_config):
    use_config(demo_config(tmp_path, runs=[str(BENCHMARKS)]))
    at = open_page("pages/run_results.py")
    at.text_input(key="runs_q").input("no-such-run").run()
    assert "No run, batch or benchmark table matches these filters" in text_of(at)


def test_discover_runs_separates_runs_batches_and_benchmark_tables(tmp_path):
    runs = _write_expand_runs(tmp_path / "runs")
    (runs / "loose.csv").write_text("language,accuracy\namh,50\nswh,70\n", encoding="utf-8")
    # a summary.csv without base/expanded pairs (a SIGMORPHON summary) stays a benchmark table
    (runs / "sig").mkdir()
    (runs / "sig" / "summary.csv").write_text("language,dev_accuracy\namh,50\n", encoding="utf-8")
    # an expand run whose run.json is missing: metrics.json beside steps/
    bare = runs / "bare"
    (bare / "steps").mkdir(parents=True)
    (bare / "metrics.json").write_text(
        json.dumps({"language": "swh", "mlm": {"base": {"loss": 7.1}}}), encoding="utf-8"
    )
    found = {r.run_id: r for r in app_runs.discover_runs([runs])}
    assert set(found) == {"batch/ind", "batch/amh", "batch/summary.csv", "bare", "loose.csv", "sig/summary.csv"}
    kinds = {i: r.kind for i, r in found.items()}
    assert kinds == {
        "batch/ind": "expand",
        "batch/amh": "expand",
        "bare": "expand",
        "batch/summary.csv": "batch",
        "loose.csv": "benchmark",
        "sig/summary.csv": "benchmark",
    }
    assert [i for i, r in found.items() if not r.is_table] == ["batch/ind", "batch/amh", "bare"]  # newest first
    assert [i for i, r in found.items() if r.is_batch] == ["batch/summary.csv"]
    assert list(found)[-2:] == ["loose.csv", "sig/summary.csv"]  # benchmark tables last
    batch = found["batch/summary.csv"]
    assert batch.name == "batch" and batch.languages == ("ind", "jav", "amh") and batch.metrics["rows"] == 4
    assert batch.notes.startswith("# lexiconlm expand")
    ind, amh = found["batch/ind"], found["batch/amh"]
    assert ind.nlu_model and not amh.nlu_model
    assert [r["metric"] for r in ind.comparison] == ["retrieval_top1", "fertility", "intent_accuracy"]
    assert amh.comparison == () and not amh.problems
    assert not any(k.startswith("base_vs_expanded") for k in ind.metrics)  # a table, not a metric
    assert "run.json: missing" in found["bare"].problems[0]


def test_base_vs_expanded_is_read_from_the_table_then_from_metrics_json(tmp_path):
    runs = _write_expand_runs(tmp_path / "runs")
    ind = runs / "batch" / "ind"
    [run] = [r for r in app_runs.discover_runs([runs]) if r.run_id == "batch/ind"]
    rows = {r["metric"]: r for r in run.comparison}
    assert rows["retrieval_top1"] == {
        "metric": "retrieval_top1",
        "group": "udhr+bible",
        "base": 49.4,
        "expanded": 52.1,
        "difference": 2.7,
        "higher_is_better": True,
    }
    assert rows["fertility"]["higher_is_better"] is False  # read as a bool from the CSV text "False"
    frame = app_runs.comparison_frame(run)
    assert list(frame.columns) == [*app_runs.COMPARISON_COLUMNS, "improved"]
    assert frame["improved"].tolist() == [True, True, False]  # fertility fell: lower is better
    assert frame.loc[2, ["expanded", "difference"]].tolist() == [17.43, -2.67]  # rounded per metric
    assert app_runs.comparison_frame(run, rounded=False).loc[2, "expanded"] == 17.433333333
    # the table at the top of the run folder is read too
    (ind / "tables" / "base_vs_expanded.csv").rename(ind / "base_vs_expanded.csv")
    (ind / "metrics.json").write_text(json.dumps({"language": "ind"}), encoding="utf-8")
    [top] = [r for r in app_runs.discover_runs([runs]) if r.run_id == "batch/ind"]
    assert top.comparison == run.comparison and not top.problems
    # without the CSV, the list in metrics.json; a row without a difference gets one
    (ind / "base_vs_expanded.csv").unlink()
    listed = [dict(r) for r in BASE_VS_EXPANDED_ROWS]
    del listed[0]["difference"], listed[0]["higher_is_better"]
    listed.append({"group": "no metric"})
    metrics = {"language": "ind", "base_vs_expanded": listed}
    (ind / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    [run] = [r for r in app_runs.discover_runs([runs]) if r.run_id == "batch/ind"]
    first = run.comparison[0]
    assert round(first["difference"], 6) == 2.7 and first["higher_is_better"] is True  # from the name
    assert len(run.comparison) == 3
    assert run.problems == ("metrics.json: base_vs_expanded: row 4: no metric name; left out",)
    # older runs: none, and an empty frame with the columns
    empty = app_runs.comparison_frame(app_runs.RunInfo("x", "x", "expand", tmp_path, tmp_path))
    assert empty.empty and "difference" in empty.columns


def test_improvement_follows_higher_is_better():
    assert app_runs.improved({"difference": 2.7, "higher_is_better": True}) is True
    assert app_runs.improved({"difference": -0.46, "higher_is_better": False}) is True
    assert app_runs.improved({"difference": -1.0, "higher_is_better": True}) is False
    assert app_runs.improved({"difference": 0.3, "higher_is_better": False}) is False
    assert app_runs.improved({"difference": 0.0, "higher_is_better": True}) is None
    assert app_runs.improved({"difference": None, "higher_is_better": True}) is None
    assert app_runs.improved({"difference": 1.0, "higher_is_better": None}) is None
    hib = app_runs.higher_is_better
    assert [hib(m) for m in ("retrieval_top1", "intent_accuracy", "slot_f1", "p@1", "exact_match")] == [True] * 5
    assert [hib(m) for m in ("fertility", "mlm_loss", "perplexity", "unk_rate", "dev_levenshtein")] == [False] * 5
    assert hib("rows") is None and hib("seconds") is False


def test_a_comparison_needs_two_things_to_compare():
    assert app_runs.MIN_COMPARED == 2
    one = pd.DataFrame({"name": ["only"], "intent_accuracy": [27.43]})
    assert app_runs.comparable_metrics(one, ["name"]) == []
    two = pd.DataFrame(
        {"name": ["a", "b"], "intent_accuracy": [27.43, 30.0], "other": [1.5, None], "ok": [True, False]}
    )
    assert app_runs.comparable_metrics(two, ["name"]) == ["intent_accuracy"]  # "other": one run only
    assert app_runs.comparable_metrics(two, ["name", "intent_accuracy"]) == []


def test_batch_summary_loading_and_where_expansion_hurt(tmp_path):
    cols = ["language", "retrieval_top1_base", "retrieval_top1_expanded", "retrieval_top1_diff", "x_base"]
    assert app_runs.batch_metrics(cols) == ["retrieval_top1"]
    assert app_runs.is_batch_summary("summary.csv", cols)
    assert not app_runs.is_batch_summary("results.csv", cols)
    assert not app_runs.is_batch_summary("summary.csv", ["language", "x_base"])
    assert not app_runs.is_batch_summary("summary.csv", ["iso", "a_base", "a_expanded"])
    path = tmp_path / "summary.csv"
    path.write_text(BATCH_SUMMARY, encoding="utf-8")
    df = app_runs.batch_frame(app_files.read_result_table(path, [tmp_path]))
    assert app_runs.batch_metrics(df.columns) == ["retrieval_top1", "fertility", "intent_accuracy"]
    assert df["name"].tolist() == ["Indonesian", "Javanese", "Amharic", "xyz"]
    assert df["family"].tolist()[-1] == "(unknown)" and df["script"].tolist()[-1] == "(unknown)"
    assert app_runs.filter_batch(df, scripts=["Latn"])["language"].tolist() == ["ind", "jav"]
    assert app_runs.filter_batch(df, families=["Afro-Asiatic"], scripts=["Latn"]).empty
    assert len(app_runs.filter_batch(df)) == 4
    means = app_runs.batch_means(df, "family").set_index("family")
    assert means.loc["Austronesian", "languages"] == 2
    assert means.loc["Austronesian", "retrieval_top1_base"] == pytest.approx(44.7)
    assert means.loc["Austronesian", "intent_accuracy_expanded"] == pytest.approx(29.2)
    scatter = app_runs.batch_scatter(df, "intent_accuracy")
    assert scatter["language"].tolist() == ["ind", "jav"]  # Amharic has no intent scores
    assert list(scatter.columns) == ["language", "name", "family", "script", "base", "expanded", "difference"]
    hurt = app_runs.hurt_languages(df)
    # Javanese lost retrieval; every fertility fell, which is not a score (lower is better)
    assert hurt[["language", "metric", "difference"]].values.tolist() == [["jav", "retrieval_top1", -1.5]]
    assert hurt["name"].tolist() == ["Javanese"]
    # a missing diff is computed from base and expanded
    no_diff = df.drop(columns=["retrieval_top1_diff"])
    assert app_runs.batch_frame(no_diff)["retrieval_top1_diff"].round(2).tolist()[:2] == [2.73, -1.5]
    assert app_runs.hurt_languages(df[df["language"] == "ind"]).empty


def test_parse_view_of_an_nlu_parse():
    parse = _FakeParse("set an alarm for seven", "alarm_set")
    view = app_runs.parse_view(parse)
    assert view["intent"] == "alarm_set" and view["intent_score"] == 0.875
    assert view["slots"] == [{"slot": "time", "text": "seven", "start": 17, "end": 22}]
    assert view["tokens"][-1] == {"token": "seven", "tag": "B-time"}


class _FakeSlot:
    def __init__(self, slot, text, start, end):
        self.slot, self.text, self.start, self.end = slot, text, start, end


class _FakeParse:
    """What lexiconlm.nlu.predict's Parse offers the page (intent, score, tokens, tags, slots)."""

    def __init__(self, text: str, intent: str):
        self.intent, self.intent_score = intent, 0.875
        self.tokens = text.split()
        self.tags = ["O"] * (len(self.tokens) - 1) + ["B-time"]
        start = text.rindex(self.tokens[-1])
        self.slots = [_FakeSlot("time", self.tokens[-1], start, start + len(self.tokens[-1]))]

    def as_dict(self):
        return {"intent": self.intent}


def _fake_predict_module(monkeypatch, *, base: bool):
    """Stand in for lexiconlm.nlu.predict: an expanded model, and a base one when ``base``."""
    import types

    from lexiconlm.errors import LexiconLMError

    class Predictor:
        def __init__(self, which):
            self.which = which

        def predict(self, texts):
            return [_FakeParse(t, f"{self.which}_intent") for t in texts]

    def load_nlu(run_dir, which="expanded", device="cpu"):
        assert device == "cpu" and Path(run_dir).is_dir()
        if which == "base" and not base:
            raise LexiconLMError(f"{run_dir} has no base model: rerun lexiconlm expand")
        return Predictor(which)

    module = types.ModuleType("lexiconlm.nlu.predict")
    module.load_nlu = load_nlu
    monkeypatch.setitem(sys.modules, "lexiconlm.nlu.predict", module)


def test_runs_page_opens_an_expand_run_on_base_vs_expanded(tmp_path, use_config):
    runs = _write_expand_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs), str(BENCHMARKS)]))
    at = open_page("pages/run_results.py", query={"run": "batch/ind"})
    assert [s.value for s in at.subheader] == ["Runs", "Batches", "Benchmark tables"]
    assert matches(at) == 2  # the batch summary is not a run
    assert at.selectbox(key="runs_pick").value == "batch/ind"
    markdown = [str(m.value) for m in at.markdown]
    # the base-vs-expanded table comes first, before the run's scores and tables
    assert markdown.index("##### Base vs expanded") < markdown.index("##### Try the model")
    comparison = frames_of(at)[1]
    assert comparison["metric"].tolist() == ["retrieval_top1", "fertility", "intent_accuracy"]
    assert "tables/base_vs_expanded.csv" not in " ".join(markdown)  # not repeated as a plain table
    styled = at.dataframe[1].proto.arrow_data.styler
    assert "#1a7f37" in styled.styles and "#cf222e" in styled.styles  # green and red differences
    assert "17.433333" not in text_of(at) and "-2.67" in styled.display_values.decode("latin-1")
    assert "green where it is an improvement" in text_of(at)
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("facet" in c and c["facet"]["row"]["field"] == "metric" for c in charts)
    # the older run has no comparison: a caption, no table
    at.selectbox(key="runs_pick").set_value("batch/amh").run()
    assert not at.exception
    assert "This run has no base-vs-expanded table" in text_of(at)
    assert "##### Try the model" not in [m.value for m in at.markdown]  # no NLU model in it
    assert at.query_params["run"] in ("batch/amh", ["batch/amh"])  # the choice goes into the link


def test_runs_page_batches(tmp_path, use_config):
    runs = _write_expand_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    at = open_page("pages/run_results.py")
    assert "**1 of 1 batches**" in [m.value for m in at.markdown]
    assert "**4 of 4 languages in this batch**" in [m.value for m in at.markdown]
    table = next(f for f in frames_of(at) if "retrieval_top1_base" in f.columns)
    assert table["retrieval_top1_expanded"].tolist()[0] == 52.13  # rounded
    assert table["seconds"].tolist()[0] == 61.2
    means = next(f for f in frames_of(at) if "languages" in f.columns and "family" in f.columns)
    assert set(means["family"]) == {"Austronesian", "Afro-Asiatic", "(unknown)"}
    hurt = next(f for f in frames_of(at) if "metric" in f.columns and "name" in f.columns)
    assert hurt["name"].tolist() == ["Javanese"]
    assert "**Expansion hurt 1 language**: a lower retrieval_top1 or intent_accuracy than the base model" in [
        m.value for m in at.markdown
    ]
    scatter = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart") if "layer" in json.loads(c.proto.spec)]
    assert len(scatter) == 1
    layers = scatter[0]["layer"]
    assert layers[0]["mark"]["type"] == "line"  # the y = x diagonal
    assert layers[1]["encoding"]["color"]["field"] == "script"
    assert {t["field"] for t in layers[1]["encoding"]["tooltip"]} >= {"name", "base", "expanded"}
    # filters by family and script
    at.multiselect(key="batch_script").set_value(["Ethi"]).run()
    assert "**1 of 4 languages in this batch**" in [m.value for m in at.markdown]
    assert "Expansion lowered no score (retrieval_top1, intent_accuracy) in these languages." in text_of(at)
    assert "plotted per language when two or more languages report both" in text_of(at)  # one point
    at.multiselect(key="batch_family").set_value(["Austronesian"]).run()
    assert "No language of this batch is in these families and scripts." in text_of(at)


def test_runs_page_try_the_model(tmp_path, use_config, monkeypatch):
    runs = _write_expand_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    _fake_predict_module(monkeypatch, base=False)
    at = open_page("pages/run_results.py", query={"run": "batch/ind"})
    assert "Type an utterance and press Parse" in text_of(at)
    at.text_input(key="nlu_text").input("set an alarm for seven")
    at.button(key="nlu_parse").click().run()
    assert not at.exception, [e.message for e in at.exception]
    shown = [str(m.value) for m in at.markdown]
    assert "**expanded**" in shown and "**base**" in shown
    assert "Intent: **expanded_intent** (0.875)" in shown
    assert "No base model to try" in text_of(at) and "has no base model" in text_of(at)
    assert any(f.columns.tolist() == ["slot", "text", "start", "end"] for f in frames_of(at))


def test_runs_page_try_the_model_with_both_models(tmp_path, use_config, monkeypatch):
    runs = _write_expand_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    _fake_predict_module(monkeypatch, base=True)
    at = open_page("pages/run_results.py", query={"run": "batch/ind"})
    at.text_input(key="nlu_text").input("set an alarm for seven")
    at.button(key="nlu_parse").click().run()
    shown = [str(m.value) for m in at.markdown]
    assert "Intent: **expanded_intent** (0.875)" in shown and "Intent: **base_intent** (0.875)" in shown


def test_runs_page_try_the_model_without_the_predict_module(tmp_path, use_config, monkeypatch):
    runs = _write_expand_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs)]))
    monkeypatch.setitem(sys.modules, "lexiconlm.nlu.predict", None)  # importing it raises ImportError
    at = open_page("pages/run_results.py", query={"run": "batch/ind"})
    at.text_input(key="nlu_text").input("set an alarm")
    at.button(key="nlu_parse").click().run()
    assert not at.exception
    assert "The models cannot be loaded in this app" in text_of(at)
    assert "##### Base vs expanded" in [m.value for m in at.markdown]  # the rest is still shown


# ---------------------------------------------------------------------- downloads


def test_downloads_page_offers_every_table(tmp_path, use_config):
    runs = _write_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs), str(BENCHMARKS)]))
    at = open_page("pages/csv_downloads.py")
    labels = [b.label for b in at.download_button]
    assert "Coverage table" in labels
    assert {f"Coverage by {by}" for by in ("family", "script", "macroarea", "genus", "tier")} <= set(labels)
    assert "Runs summary" in labels
    assert "sigmorphon_affix_2023_dev · sigmorphon_affix_2023_dev.csv" in labels
    assert "affix 2023 · per_language.csv" in labels


def test_downloads_page_without_runs(tmp_path, use_config):
    use_config(demo_config(tmp_path, runs=[]))
    at = open_page("pages/csv_downloads.py")
    assert "No runs were found" in text_of(at)
    assert "Coverage table" in [b.label for b in at.download_button]


def test_table_csv_round_trips_words_that_look_like_missing_values():
    df = pd.DataFrame({"form": ["NA", "null", ""], "n": [1, 2, 3]})
    text = app_tables.table_csv(df).decode("utf-8")
    assert text.splitlines() == ["form,n", "NA,1", "null,2", ",3"]


# ---------------------------------------------------------------------- broken configs


@pytest.mark.parametrize("page", PAGES)
def test_missing_data_folder_gives_a_helpful_message(tmp_path, use_config, page):
    gone = tmp_path / "no-such-data"
    cfg = demo_config(
        tmp_path,
        lexicons={"gatitos": str(gone / "gatitos")},
        unimorph=str(gone / "unimorph"),
        runs=[str(gone / "runs")],
    )
    use_config(cfg)
    at = open_page(page)
    warning = " ".join(str(w.value) for w in at.warning)
    assert "does not exist" in warning or "do not exist" in warning
    assert str(gone / "gatitos") in warning
    assert "lexiconlm app --config configs/coverage/demo.yaml" in warning
    assert not at.error, text_of(at)


@pytest.mark.parametrize("page", PAGES)
def test_missing_config_file_gives_a_helpful_message(tmp_path, use_config, page):
    use_config(tmp_path / "nowhere.yaml")
    at = open_page(page)
    error = " ".join(str(e.value) for e in at.error)
    assert "does not exist" in error and "configs/coverage/demo.yaml" in error


def test_invalid_config_lists_every_problem(tmp_path, use_config):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("lexicon:\n  x: .\nrun: []\n", encoding="utf-8")
    use_config(cfg)
    at = open_page()
    error = " ".join(str(e.value) for e in at.error)
    assert "is not valid" in error
    assert "Did you mean: lexicons" in error and "Did you mean: runs" in error


# ---------------------------------------------------------------------- lexiconlm.app


def test_resolve_inside_accepts_paths_inside(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "t.csv").write_text("x\n", encoding="utf-8")
    assert app_files.resolve_inside("a/t.csv", [tmp_path]) == (tmp_path / "a" / "t.csv").resolve()
    assert app_files.resolve_inside(str(tmp_path / "a" / "t.csv"), [tmp_path]).name == "t.csv"
    other = tmp_path / "b"
    other.mkdir()
    (other / "u.csv").write_text("x\n", encoding="utf-8")
    assert app_files.resolve_inside("u.csv", [tmp_path / "a", other]) == (other / "u.csv").resolve()


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "..\\x", "/etc/passwd", "", "a\x00b", "missing.csv"])
def test_resolve_inside_rejects(tmp_path, bad):
    (tmp_path / "a").mkdir()
    with pytest.raises(app_files.PathNotAllowedError):
        app_files.resolve_inside(bad, [tmp_path])


def test_resolve_inside_rejects_symlinks_leading_out(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("s", encoding="utf-8")
    try:
        (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    except OSError:
        pytest.skip("symlinks are not available here")
    with pytest.raises(app_files.PathNotAllowedError, match="outside"):
        app_files.resolve_inside("link.txt", [root])


def test_discover_runs_reads_run_folders_and_benchmark_tables(tmp_path):
    runs = _write_runs(tmp_path / "runs")
    (runs / "loose.csv").write_text("language,accuracy\namh,50\nswh,70\n(macro average),60\n", encoding="utf-8")
    (runs / "loose.md").write_text("# notes\n", encoding="utf-8")
    (runs / "coverage.csv").write_text("iso639_3,name\n", encoding="utf-8")
    (runs / "coverage.sources.json").write_text("{}", encoding="utf-8")
    found = {r.run_id: r for r in app_runs.discover_runs([runs, tmp_path / "missing"])}
    assert set(found) == {"sigmorphon/affix-2023", "massive-ind", "broken", "loose.csv"}
    sig = found["sigmorphon/affix-2023"]
    assert sig.kind == "sigmorphon" and sig.metrics == {"dev.accuracy": 61.538461538461536, "n": 3}
    assert sig.tables == ((runs / "sigmorphon" / "affix-2023" / "per_language.csv").resolve(),)
    assert app_runs.language_context(sig) == "sigmorphon2023"
    loose = found["loose.csv"]
    assert loose.kind == "benchmark" and loose.notes == "# notes\n"
    assert loose.languages == ("amh", "swh") and loose.metrics["mean accuracy"] == 60.0
    assert found["broken"].kind == "unknown" and len(found["broken"].problems) == 2


def test_benchmark_results_are_benchmark_runs():
    runs = app_runs.discover_runs([BENCHMARKS])
    ids = {r.run_id for r in runs}
    assert {
        p.relative_to(BENCHMARKS).as_posix()
        for p in BENCHMARKS.rglob("*.csv")
        if not p.with_name(p.stem + ".sources.json").exists()
    } == ids
    assert {r.kind for r in runs} == {"benchmark"}
    r2023 = next(r for r in runs if r.run_id == "sigmorphon_affix_2023_dev.csv")
    assert "jpn" in r2023.languages  # 'jap' is Japanese in SIGMORPHON 2023
    assert r2023.notes.startswith("#")


def test_language_groups_of_result_rows():
    df = pd.DataFrame({"setting": ["ang_large", "id-ID", "(macro)"], "acc": [1.0, 2.0, 3.0]})
    assert app_tables.language_column(df) == "setting"
    g = app_tables.add_language_groups(df, "setting")
    assert list(g["iso639_3"]) == ["ang", "ind", ""]
    assert g["family"].iloc[1] == "Austronesian" and g["script"].iloc[1] == "Latn"
    assert g["family"].iloc[2] == "(unknown)"


def test_filter_languages():
    df = pd.DataFrame(
        {
            "iso639_3": ["ind", "amh", "jav"],
            "name": ["Indonesian", "Amharic", "Javanese"],
            "family": ["Austronesian", "Afro-Asiatic", "Austronesian"],
            "macroarea": ["Papunesia", "Africa", "Papunesia"],
            "scripts": ["Latn", "Ethi", "Latn Java"],
            "tier_label": ["+text", "no lexicon", "no lexicon"],
            "lex_total_entries": [5, 0, 0],
            "unimorph_forms": [3, 0, 0],
            "sigmorphon_editions": ["", "2023", ""],
            "nlu_sets": ["", "", ""],
            "text_segments": [1, 0, 0],
            "epitran": ["ind-Latn", "amh-Ethi", "jav-Latn"],
        }
    )

    def iso(d):
        return list(d["iso639_3"])

    assert iso(app_coverage.filter_languages(df, search="AMH")) == ["amh"]
    assert iso(app_coverage.filter_languages(df, search="nesi")) == ["ind"]
    assert iso(app_coverage.filter_languages(df, script="Java")) == ["jav"]
    assert iso(app_coverage.filter_languages(df, family="Austronesian", has=["lexicon"])) == ["ind"]
    assert iso(app_coverage.filter_languages(df, has=["SIGMORPHON"])) == ["amh"]
    assert iso(app_coverage.filter_languages(df, tiers=["no lexicon"], macroarea="Papunesia")) == ["jav"]
    assert iso(app_coverage.filter_languages(df, search="zzz")) == []
    flags = pd.DataFrame(app_coverage.resource_masks(df, ["lexicon", "sigmorphon"]), index=df.index)
    assert iso(app_coverage.filter_languages(df, has=["SIGMORPHON"], flags=flags)) == ["amh"]
    assert iso(app_coverage.filter_languages(df[df["family"] == "Austronesian"], has=["lexicon"], flags=flags)) == [
        "ind"
    ]


def test_transcribe_explains_missing_maps():
    pytest.importorskip("epitran")
    cat = get_catalog()
    r = app_ipa.transcribe(cat.get("ind"), ["selamat", "pagi"])
    assert r.code == "ind-Latn" and [w for w, _ in r.rows] == ["selamat", "pagi"] and not r.message
    none = app_ipa.transcribe(cat.get("eus"), ["etxe"])
    assert none.rows == () and "epitran has no map for Basque (eus-Latn)" in none.message
    eng = app_ipa.transcribe(cat.get("eng"), ["hello"])
    assert eng.rows == () and "flite" in eng.message


def test_metric_precision():
    assert app_tables.format_metric("dev.accuracy", 27.430555555555557) == "27.43"
    assert app_tables.format_metric("mean dev_levenshtein", 0.78333) == "0.78"
    assert app_tables.format_metric("slot_f1", 0.6612) == "0.66"
    assert app_tables.format_metric("unk_rate", 0.01234) == "0.0123"
    assert app_tables.format_metric("unk_rate", 0.00012345) == "0.0001"
    assert app_tables.format_metric("unk_rate", 0.0000123) == "0.000012"  # not 0.0000
    assert app_tables.format_metric("mlm_loss", 2.0) == "2.000"
    assert app_tables.format_metric("mlm.base.perplexity", 1478.4531) == "1,478.453"
    assert app_tables.format_metric("fertility_diff", -0.45678) == "-0.457"
    assert app_tables.format_metric("retrieval_top1", 49.43333) == "49.43"
    assert app_tables.format_metric("eng2tgt_top10", 65.2) == "65.20"
    assert app_tables.format_metric("wall_s", 12.345) == "12.3"
    assert app_tables.format_metric("seconds", 61.25) == "61.2"
    assert app_tables.format_metric("rows", 5888) == "5,888"
    assert app_tables.format_metric("n_train", 1234.0) == "1,234"  # a count stored as a float
    assert app_tables.round_metric("data.lexicon_entries", 1978.0) == 1978
    assert isinstance(app_tables.round_metric("data.lexicon_entries", 1978.0), int)
    assert {
        name: app_tables.metric_decimals(name)
        for name in ("intent_accuracy", "slot_f1", "p@1", "fertility", "loss", "perplexity", "unk_rate", "seconds")
    } == {
        "intent_accuracy": 2,
        "slot_f1": 2,
        "p@1": 2,
        "fertility": 3,
        "loss": 3,
        "perplexity": 3,
        "unk_rate": 4,
        "seconds": 1,
    }
    assert app_tables.format_metric("dev.accuracy", None) == "-"
    assert app_tables.format_metric("note", "text") == "text"
    assert app_tables.round_metric("dev.accuracy", 27.430555555555557) == 27.43
    assert app_tables.round_metric("n", 3) == 3 and app_tables.round_metric("ok", True) is True
    df = pd.DataFrame({"accuracy": [27.430555555555557], "unk_rate": [0.012345], "language": ["amh"]})
    assert app_tables.rounded_frame(df).iloc[0].tolist() == [27.43, 0.0123, "amh"]
    counts = app_tables.rounded_frame(pd.DataFrame({"n_train": [12.0, float("nan")], "seconds": [3.14159, 2.0]}))
    assert str(counts["n_train"].dtype) == "Int64" and counts["n_train"].tolist()[0] == 12
    assert counts["seconds"].tolist() == [3.1, 2.0]


def test_resource_labels_use_the_coverage_resources():
    from lexiconlm.coverage.tiers import RESOURCES, has_resource

    assert set(app_coverage.RESOURCE_LABELS) <= set(RESOURCES)
    rows = [
        {
            "lex_total_entries": 5,
            "unimorph_forms": 0,
            "sigmorphon_editions": "2023",
            "nlu_sets": None,
            "text_segments": 0,
            "epitran": "",
            "resource_kinds": "lexicon+morphology",
        },
        {
            "lex_total_entries": None,
            "unimorph_forms": 3,
            "sigmorphon_editions": "",
            "nlu_sets": "massive:10",
            "text_segments": 2,
            "epitran": "ind-Latn",
            "resource_kinds": "morphology+nlu+text",
        },
    ]
    df = pd.DataFrame(rows)
    masks = app_coverage.resource_masks(df, [*app_coverage.RESOURCE_LABELS, "any"])
    for key, mask in masks.items():
        assert mask.tolist() == [has_resource(r, key) for r in rows], key
    assert app_coverage.resource_mask(df, "UniMorph").tolist() == [False, True]  # a page label
    with pytest.raises(KeyError, match="Did you mean"):
        app_coverage.resource_mask(df, "unimorf")


def test_app_config_path_precedence(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("{}", encoding="utf-8")
    b = tmp_path / "b.yaml"
    env = {app_context.CONFIG_ENV: str(b)}
    assert app_context.app_config_path(["--config", str(a)], env) == a.resolve()
    assert app_context.app_config_path([f"--config={a}"], env) == a.resolve()
    assert app_context.app_config_path([], env) == b.resolve()
    assert app_context.app_config_path([], {}) == DEMO.resolve()


# ---------------------------------------------------------------------- lexiconlm app


def test_cli_app_prints_the_streamlit_command(capsys):
    from lexiconlm.cli.main import main

    assert main(["app", "--print-command", "--headless", "--port", "8765"]) == 0
    out = capsys.readouterr().out.strip()
    assert "-m streamlit run" in out and str(APP) in out
    assert "--server.headless true" in out and "--server.port 8765" in out
    assert out.endswith(f"-- --config {DEMO.resolve()}")


def test_cli_app_command_sets_the_environment(tmp_path):
    from lexiconlm.cli.app import app_command

    cfg = demo_config(tmp_path)
    cmd, env = app_command(cfg, port=9000, headless=True)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert env[app_context.CONFIG_ENV] == str(cfg.resolve())
    assert env.get("HF_HUB_OFFLINE") not in (None, "", "0")


def test_cli_app_rejects_a_missing_config(capsys, tmp_path):
    from lexiconlm.cli.main import main

    assert main(["app", "--config", str(tmp_path / "none.yaml"), "--print-command"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_app_package_imports_no_streamlit_or_torch():
    import subprocess

    modules = sorted(p.stem for p in (REPO / "lexiconlm" / "app").glob("*.py") if p.stem != "__init__")
    assert {"files", "runs", "coverage", "ipa"} <= set(modules)
    code = (
        "import sys, lexiconlm.cli.app, " + ", ".join(f"lexiconlm.app.{m}" for m in modules) + "; "
        "print('streamlit' in sys.modules, 'torch' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.stdout.split() == ["False", "False", "False"]
