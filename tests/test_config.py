"""The one configuration toolkit (lexiconlm.config) and the loaders built on it."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from lexiconlm.config import (
    apply_overrides,
    check_bool,
    check_choice,
    check_int,
    check_number,
    did_you_mean,
    get_dotted,
    load,
    merge,
    read_config,
    read_yaml,
    resolve_existing,
    resolve_path,
    resolve_paths,
    set_dotted,
    unknown_key,
)
from lexiconlm.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {
    "name": None,
    "seed": 13,
    "mlm": {"steps": 100, "lr": 0.1, "precision": "auto"},
    "init": {"method": "mean.v1", "options": {"k": 1}},
    "files": [],
}
FREE = ("init.options",)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- merge


def test_merge_fills_defaults_and_keeps_given_values():
    problems: list[str] = []
    given = {"seed": 7, "mlm": {"lr": 0.5}, "name": None}
    out = merge(DEFAULTS, given, problems=problems, free=FREE)
    assert problems == []
    assert out == {
        "name": None,
        "seed": 7,
        "mlm": {"steps": 100, "lr": 0.5, "precision": "auto"},
        "init": {"method": "mean.v1", "options": {"k": 1}},
        "files": [],
    }
    out["mlm"]["steps"] = 1
    assert DEFAULTS["mlm"]["steps"] == 100  # the defaults are copied, never shared


def test_merge_sections_null_keeps_defaults_and_a_scalar_is_a_problem():
    problems: list[str] = []
    out = merge(DEFAULTS, {"mlm": None, "init": 3}, problems=problems, free=FREE)
    assert out["mlm"] == DEFAULTS["mlm"] and out["init"] == DEFAULTS["init"]
    assert problems == ["init -> expected a mapping, got int"]
    problems.clear()
    merge(DEFAULTS, ["not", "a", "mapping"], problems=problems)
    assert problems == ["top level -> expected a mapping, got list"]


def test_merge_free_mappings_are_laid_over_the_default_unchecked():
    problems: list[str] = []
    out = merge(DEFAULTS, {"init": {"options": {"anything": True}}}, problems=problems, free=FREE)
    assert problems == []
    assert out["init"]["options"] == {"k": 1, "anything": True}
    merge(DEFAULTS, {"init": {"options": [1]}}, problems=problems, free=FREE)
    assert problems == ["init.options -> expected a mapping, got list"]


def test_unknown_keys_suggest_close_names_or_list_the_known_ones():
    problems: list[str] = []
    given = {"sed": 1, "mlm": {"precison": "bf16", "zzzzzz": 1}}
    merge(DEFAULTS, given, problems=problems, loc="run")
    assert problems == [
        "run.sed -> unknown key. Did you mean: seed?",
        "run.mlm.precison -> unknown key. Did you mean: precision?",
        "run.mlm.zzzzzz -> unknown key. Known keys: steps, lr, precision.",
    ]
    assert did_you_mean("precison", ["precision", "steps"]) == ["precision"]
    assert unknown_key("x", "x", []) == "x -> unknown key (this section takes no keys)"


# --------------------------------------------------------------------------- overrides


def test_overrides_parse_yaml_values_on_dotted_keys():
    raw = {"mlm": {"steps": 3}}
    items = [
        "mlm.steps=200",
        "mlm.lr=5e-4",
        "files=[a.txt, b.txt]",
        "name='013'",
        "seed=",
        "init.options.k=3",
        "mlm.precision = bf16",
    ]
    out = apply_overrides(raw, items, defaults=DEFAULTS, free=FREE)
    assert raw == {"mlm": {"steps": 3}}  # not changed
    assert out["mlm"] == {"steps": 200, "lr": 5e-4, "precision": "bf16"}
    assert out["files"] == ["a.txt", "b.txt"] and out["name"] == "013" and out["seed"] is None
    assert out["init"] == {"options": {"k": 3}}
    # inside a free mapping any key goes
    assert apply_overrides({}, ["init.options.new.deep=1"], defaults=DEFAULTS, free=FREE) == {
        "init": {"options": {"new": {"deep": 1}}}
    }


def test_override_problems_are_all_listed_and_nothing_wrong_is_set():
    problems: list[str] = []
    items = ["mlm.stpes=3", "mlm.lr=[1", "no-equals-sign", "seed.x=1", "=3", "mlm..lr=1"]
    out = apply_overrides({}, items, defaults=DEFAULTS, problems=problems, example="mlm.steps=200")
    assert out == {}
    assert problems[0] == "--set mlm.stpes -> unknown key. Did you mean: steps?"
    assert problems[1].startswith("--set mlm.lr -> '[1' is not a YAML value (")
    assert problems[1].endswith("quote it: mlm.lr='[1'")
    assert problems[2] == ("--set 'no-equals-sign' -> expected key=value with a dotted key, e.g. mlm.steps=200")
    assert problems[3] == "--set seed.x -> seed is a setting, not a section"
    assert problems[4].startswith("--set '=3' -> expected key=value")
    assert problems[5].startswith("--set 'mlm..lr=1' -> expected key=value")
    assert len(problems) == 6


def test_overrides_without_problem_list_raise_and_without_defaults_set_anything():
    with pytest.raises(ConfigError) as err:
        apply_overrides({}, ["oops"])
    assert err.value.source == "--set" and len(err.value.problems) == 1
    assert apply_overrides({}, ["a.b.c=1"]) == {"a": {"b": {"c": 1}}}
    with pytest.raises(ConfigError, match=r"--set a.b -> a is 'x', not a section"):
        apply_overrides({"a": "x"}, ["a.b=1"])


# --------------------------------------------------------------------------- reading


def test_read_yaml_problems_name_the_file_and_the_fix(tmp_path: Path):
    with pytest.raises(ConfigError) as err:
        read_yaml(tmp_path / "nope.yaml", hint="configs live in configs/x/")
    missing = tmp_path / "nope.yaml"
    assert err.value.problems == (f"{missing} -> no such file (configs live in configs/x/)",)
    assert err.value.source == str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a folder"):
        read_yaml(tmp_path)
    bad = _write(tmp_path / "bad.yaml", "a: 1\nb: [1, 2\n")
    with pytest.raises(ConfigError) as err:
        read_yaml(bad)
    [problem] = err.value.problems
    assert problem.startswith(f"{bad}:") and "not valid YAML" in problem
    with pytest.raises(ConfigError, match="a mapping of settings at the top level, got list"):
        read_yaml(_write(tmp_path / "list.yaml", "- a\n- b\n"))
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_yaml(latin)
    assert read_yaml(_write(tmp_path / "empty.yaml", "# only a comment\n")) == {}
    # numbers as YAML 1.2 reads them (PyYAML alone reads 5e-4 as a string); quoted stays text
    text = "lr: 5e-4\nbig: 1E+3\nx: 1.5\ns: '5e-4'\nv: e5-small\n"
    got = read_yaml(_write(tmp_path / "n.yaml", text))
    assert got == {"lr": 5e-4, "big": 1000.0, "x": 1.5, "s": "5e-4", "v": "e5-small"}


def test_read_config_base_folder_and_section(tmp_path: Path, monkeypatch):
    f = _write(tmp_path / "sub" / "c.yaml", "train:\n  epochs: 2\nother: 1\n")
    raw = read_config(f, section="train")
    assert raw.values == {"epochs": 2} and raw.base == f.parent.resolve() and raw.source == str(f)
    given = {"a": {"b": 1}}
    monkeypatch.chdir(tmp_path)
    raw = read_config(given)
    raw.values["a"]["b"] = 2
    assert given == {"a": {"b": 1}} and raw.base == tmp_path.resolve() and raw.source == ""
    assert read_config(given, base=f.parent).base == f.parent.resolve()
    assert read_config(None).values == {}
    with pytest.raises(ConfigError, match="train -> expected a mapping, got int"):
        read_config({"train": 3}, section="train")


# --------------------------------------------------------------------------- paths


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path, monkeypatch):
    cfg_dir = tmp_path / "configs" / "x"
    _write(cfg_dir / "data" / "a.txt", "a\n")
    _write(tmp_path / "shared" / "b.txt", "b\n")
    f = _write(
        cfg_dir / "c.yaml",
        "files: [data/a.txt, ../../shared/b.txt, missing.txt, 5]\none: ${DATA}/b.txt\nnothing: null\n",
    )
    monkeypatch.chdir(REPO)  # the working folder plays no part
    raw = read_config(f)
    resolve_paths(
        raw.values,
        {"files": "list", "one": "one", "nothing": "one", "absent": "list"},
        raw.base,
        raw.problems,
        variables={"DATA": str(tmp_path / "shared")},
    )
    assert raw.values["files"] == [cfg_dir / "data" / "a.txt", tmp_path / "shared" / "b.txt", cfg_dir / "missing.txt"]
    assert raw.values["one"] == tmp_path / "shared" / "b.txt"
    assert raw.values["nothing"] is None and "absent" not in raw.values
    missing = cfg_dir / "missing.txt"
    assert raw.problems == [
        f"files[2] -> missing.txt does not exist (resolved to {missing}; " + f"paths are relative to {cfg_dir})",
        "files[3] -> expected a path, got 5",
    ]


def test_resolve_paths_types_and_optional_folders(tmp_path: Path, monkeypatch):
    problems: list[str] = []
    cfg = {"a": {"one": ["x", "y"], "many": 3, "runs": "no/such/runs"}}
    resolve_paths(cfg, {"a.one": "one", "a.many": "list", "a.runs": "list"}, tmp_path, problems, must_exist=False)
    assert problems == ["a.one -> expected one path, got list", "a.many -> expected a path or a list of paths, got int"]
    assert cfg == {"a": {"one": None, "many": [], "runs": [tmp_path / "no" / "such" / "runs"]}}
    monkeypatch.setenv("LEXICONLM_TEST_DIR", str(tmp_path / "env"))
    assert resolve_path("$LEXICONLM_TEST_DIR/f", "/base") == tmp_path / "env" / "f"
    assert resolve_path("~/f", "/base") == Path(os.path.expanduser("~")) / "f"
    assert resolve_path("../b/./f", "/base/sub") == Path("/base/b/f")


def test_resolve_existing_keeps_names_that_are_not_files(tmp_path: Path):
    (tmp_path / "model").mkdir()
    cfg = {"model": "model", "name": "e5-small", "labels": "missing.tsv", "n": 3}
    resolve_existing(cfg, ["model", "name", "labels", "n", "absent"], tmp_path)
    assert cfg == {"model": str(tmp_path / "model"), "name": "e5-small", "labels": "missing.tsv", "n": 3}


def test_dotted_get_and_set():
    cfg: dict = {"a": {"b": 1}}
    assert get_dotted(cfg, "a.b") == 1 and get_dotted(cfg, "a.c", None) is None
    with pytest.raises(KeyError):
        get_dotted(cfg, "a.b.c")
    set_dotted(cfg, "a.c.d", 2)
    assert cfg == {"a": {"b": 1, "c": {"d": 2}}}


# --------------------------------------------------------------------------- checks


def test_type_checks_report_what_was_expected():
    problems: list[str] = []
    assert check_int(3, "n", problems, minimum=1) and check_int(None, "n", problems, optional=True)
    assert not check_int(True, "a", problems)
    assert not check_int(0, "b", problems, minimum=1)
    assert not check_int("x", "c", problems, minimum=1, optional=True)
    assert check_number(0.5, "p", problems, low=0, high=1, high_open=True)
    assert not check_number(1, "d", problems, low=0, high=1, high_open=True)
    assert not check_number(0, "e", problems, low=0, low_open=True)
    assert not check_number(False, "f", problems)
    assert check_bool(False, "g", problems) and not check_bool("yes", "h", problems)
    assert check_choice("bf16", "i", ("auto", "bf16"), problems)
    assert not check_choice("bf61", "j", ("auto", "bf16"), problems)
    assert problems == [
        "a -> expected an integer, got True",
        "b -> expected an integer >= 1, got 0",
        "c -> expected null or an integer >= 1, got 'x'",
        "d -> expected a number in [0, 1), got 1",
        "e -> expected a number > 0, got 0",
        "f -> expected a number, got False",
        "h -> expected true or false, got 'yes'",
        "j -> expected one of auto, bf16, got 'bf61'. Did you mean: bf16?",
    ]


def test_load_lists_every_problem_at_once(tmp_path: Path):
    f = _write(tmp_path / "c.yaml", "sed: 1\nmlm:\n  stesp: 3\n  lr: -1\n")
    raw = load(f, DEFAULTS, overrides=["mlm.precison=bf16", "mlm.lr=[", "files=a"], free=FREE)
    check_number(raw.values["mlm"]["lr"], "mlm.lr", raw.problems, low=0, low_open=True)
    with pytest.raises(ConfigError) as err:
        raw.raise_problems()
    text = str(err.value)
    assert text.splitlines()[0] == f"invalid configuration {f}:"
    assert err.value.problems == (
        "--set mlm.precison -> unknown key. Did you mean: precision?",
        err.value.problems[1],
        "sed -> unknown key. Did you mean: seed?",
        "mlm.stesp -> unknown key. Did you mean: steps?",
        "mlm.lr -> expected a number > 0, got -1",
    )
    assert err.value.problems[1].startswith("--set mlm.lr -> '[' is not a YAML value")
    assert raw.values["files"] == "a"  # the good override was applied


# --------------------------------------------------------------------------- the loaders


LOADER_CASES = {
    "adapt": ("base_model: builtin:tiny\nlanguge: ind\n", "languge -> unknown key. Did you mean: language"),
    "coverage": ("lexicon: {}\n", "lexicon -> unknown key. Did you mean: lexicons?"),
    "expand": ("nmae: x\n", "nmae -> unknown key. Did you mean: name?"),
    "nlu-train": ("train:\n  epoch: 2\n", "epoch -> unknown key. Did you mean: epochs?"),
    "nlu-experiments": ("sytems: [baseline]\n", "sytems -> unknown key. Did you mean: systems?"),
    "sigmorphon": ("neural:\n  batch_sise: 3\n", "batch_sise -> unknown key. Did you mean: batch_size?"),
}


def _loader(kind: str):
    if kind == "adapt":
        from lexiconlm.adapt.config import load_config
    elif kind == "coverage":
        from lexiconlm.coverage.config import load_config
    elif kind == "expand":
        from lexiconlm.expand.config import load_config
    elif kind == "nlu-train":
        from lexiconlm.nlu.train import load_train_config as load_config
    elif kind == "nlu-experiments":
        from lexiconlm.nlu.experiments import load_experiment_config as load_config
    else:
        from lexiconlm.inflection.neural import load_config
    return load_config


@pytest.mark.parametrize("kind", sorted(LOADER_CASES))
def test_every_loader_speaks_the_same_language(kind: str, tmp_path: Path):
    text, expected = LOADER_CASES[kind]
    load_config = _loader(kind)
    f = _write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_config(f)
    assert any(p.startswith(expected) for p in err.value.problems), err.value.problems
    assert err.value.source == str(f)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "missing.yaml")
    assert err.value.problems[0].startswith(f"{tmp_path / 'missing.yaml'} -> no such file")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path / "bad.yaml", "a: [1\n"))


def test_adapt_and_expand_overrides_report_unknown_keys_with_the_rest(tmp_path: Path):
    from lexiconlm.adapt.config import load_config as adapt_config
    from lexiconlm.expand.config import load_config as expand_config

    with pytest.raises(ConfigError) as err:
        adapt_config(REPO / "configs" / "adapt" / "tiny.yaml", ["mlm.stpes=3", "mlm.steps=-1"])
    assert err.value.problems == (
        "--set mlm.stpes -> unknown key. Did you mean: steps?",
        "mlm.steps -> expected an integer >= 0, got -1",
    )
    cfg = adapt_config(REPO / "configs" / "adapt" / "tiny.yaml", ["init=mean", "init.options.k=2"])
    assert cfg["init"] == {"method": "mean.v1", "options": {"k": 2}}
    with pytest.raises(ConfigError) as err:
        expand_config(REPO / "configs" / "expand" / "tiny.yaml", overrides=["synth.sens=first", "seed=x"])
    assert err.value.problems == (
        "--set synth.sens -> unknown key. Did you mean: sense?",
        "seed -> expected an integer >= 0, got 'x'",
    )


# --------------------------------------------------------------------------- one of each


def test_the_toolkit_sits_at_the_bottom():
    tree = ast.parse((REPO / "lexiconlm" / "config.py").read_text(encoding="utf-8"))
    nodes = list(ast.walk(tree))
    imported = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.module}
    assert {m for m in imported if m.startswith("lexiconlm")} == {"lexiconlm.errors"}
    allowed = {
        "__future__",
        "copy",
        "difflib",
        "os",
        "re",
        "collections",
        "dataclasses",
        "pathlib",
        "typing",
        "yaml",
        "lexiconlm",
    }
    assert {m.split(".")[0] for m in imported} <= allowed


def test_config_helpers_exist_once():
    """No loader brings its own YAML reading, merging or override parsing back."""
    toolkit = REPO / "lexiconlm" / "config.py"
    own_configs = {REPO / "lexiconlm" / p / "config.py" for p in ("adapt", "coverage", "expand")}
    found = []
    for path in sorted((REPO / "lexiconlm").rglob("*.py")):
        if path == toolkit:
            continue
        text = path.read_text(encoding="utf-8")
        needles = ["yaml.safe_load(", "def _merge(", "def apply_overrides(", "def _set("]
        if path in own_configs:
            needles.append("get_close_matches(")  # did-you-mean comes from lexiconlm.config
        found += [f"{path.relative_to(REPO)}: {n}" for n in needles if n in text]
    assert found == []
