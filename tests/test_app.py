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
    assert [s.value for s in at.subheader][:3] == ["Runs", "Benchmark tables", "Details"]
    summary, tables = frames_of(at)[:2]
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
    table_names = set(frames_of(at)[1]["name"])
    # by name, and by language (Indonesian is one of the 2021 affix-baseline languages)
    assert run_names == {"massive-ind"}
    assert "sigmorphon_affix_2021" in table_names and len(table_names) < n_bench


def test_runs_page_rounds_metrics_to_their_precision(tmp_path, use_config):
    runs = _write_runs(tmp_path / "runs")
    use_config(demo_config(tmp_path, runs=[str(runs), str(BENCHMARKS)]))
    at = open_page("pages/run_results.py", query={"run": "sigmorphon/affix-2023"})
    summary, tables = frames_of(at)[:2]
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
    assert at.selectbox(key="runs_pick").value == "sigmorphon_affix_2022_dev.csv"
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
    assert "No run or benchmark table matches these filters" in text_of(at)


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
    assert app_tables.format_metric("unk_rate", 0.01234) == "0.012"
    assert app_tables.format_metric("unk_rate", 0.00012345) == "0.00012"  # not 0.000
    assert app_tables.format_metric("mlm_loss", 2.0) == "2.000"
    assert app_tables.format_metric("wall_s", 12.345) == "12.3"
    assert app_tables.format_metric("rows", 5888) == "5,888"
    assert app_tables.format_metric("dev.accuracy", None) == "-"
    assert app_tables.format_metric("note", "text") == "text"
    assert app_tables.round_metric("dev.accuracy", 27.430555555555557) == 27.43
    assert app_tables.round_metric("n", 3) == 3 and app_tables.round_metric("ok", True) is True
    df = pd.DataFrame({"accuracy": [27.430555555555557], "unk_rate": [0.012345], "language": ["amh"]})
    assert app_tables.rounded_frame(df).iloc[0].tolist() == [27.43, 0.012, "amh"]


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
