"""Which config the app shows, what it may read, and the command that starts it.

:func:`load_context` reads a coverage config into an :class:`AppContext`: the data and
run folders (the roots every file must lie in, see :mod:`lexiconlm.app.files`), the
statistics cache and an optional local tokenizer. :func:`streamlit_command` is the command
line ``lexiconlm app`` runs.

Example:
    >>> ctx = load_context("configs/coverage/demo.yaml")            # doctest: +SKIP
    >>> [kind for kind, _ in ctx.missing_folders()]                  # doctest: +SKIP
    []
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexiconlm.coverage.config import load_config
from lexiconlm.errors import LexiconLMError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "RESOURCE_KINDS",
    "TOKENIZER_ENV",
    "AppContext",
    "AppSetupError",
    "app_config_path",
    "app_tokenizer_path",
    "format_command",
    "load_context",
    "repo_root",
    "streamlit_command",
]

#: Environment variable naming the coverage config the app shows (``lexiconlm app`` sets it).
CONFIG_ENV = "LEXICONLM_APP_CONFIG"
#: Environment variable naming a local tokenizer for the segmentation view
#: (``lexiconlm app --tokenizer``).
TOKENIZER_ENV = "LEXICONLM_APP_TOKENIZER"
#: The config used when neither the environment nor ``-- --config`` names one.
DEFAULT_CONFIG = Path("configs") / "coverage" / "demo.yaml"
#: Resource folders of a coverage config, in the order the explorer shows them.
RESOURCE_KINDS: tuple[str, ...] = ("lexicons", "unimorph", "sigmorphon", "nlu", "text")


class AppSetupError(LexiconLMError):
    """The app cannot start on this config: the message says what is wrong and how to fix it."""


def repo_root() -> Path:
    """The source checkout holding ``apps/`` and ``configs/`` (the parent of the package)."""
    return Path(__file__).resolve().parents[2]


def _option_from_argv(argv: Sequence[str], option: str) -> str | None:
    """``--option VALUE`` or ``--option=VALUE`` among the script arguments
    (``streamlit run app.py -- --config X``)."""
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


def app_config_path(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The coverage config the app shows.

    Order: ``--config`` in the script arguments, ``$LEXICONLM_APP_CONFIG``, then
    ``configs/coverage/demo.yaml`` of the checkout. A relative path is taken from
    the current folder when it exists there, else from the checkout.

    Example:
        >>> app_config_path(["--config", "configs/coverage/shared.yaml"], {}).name
        'shared.yaml'
    """
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    given = _option_from_argv(argv, "--config") or environ.get(CONFIG_ENV) or str(DEFAULT_CONFIG)
    p = Path(given).expanduser()
    if not p.is_absolute() and not p.exists() and (repo_root() / p).exists():
        p = repo_root() / p
    return p.resolve()


def app_tokenizer_path(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The tokenizer given to the app (``-- --tokenizer PATH`` or ``$LEXICONLM_APP_TOKENIZER``),
    if any."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    given = _option_from_argv(argv, "--tokenizer") or environ.get(TOKENIZER_ENV)
    return Path(given).expanduser().resolve() if given else None


@dataclass(frozen=True)
class AppContext:
    """What the app may read, from one coverage config.

    Attributes:
        config_path: the YAML file.
        config: the :class:`~lexiconlm.coverage.config.CoverageConfig` it holds.
        folders: resource kind (``lexicons``, ``unimorph`` ...) -> its folders (or files),
            resolved; a kind with several sources (``lexicons: {gatitos: ..., wiktionary: ...}``)
            lists them all.
        run_folders: folders of runs and result tables (``runs/``, ``benchmarks/results``).
        cache_path: the coverage statistics cache file.
        tokenizer: a local tokenizer for the segmentation view (``None``: none given).
    """

    config_path: Path
    config: Any
    folders: Mapping[str, tuple[Path, ...]]
    run_folders: tuple[Path, ...]
    cache_path: Path | None = None
    tokenizer: str | None = None

    @property
    def data_folders(self) -> tuple[Path, ...]:
        """Every configured data folder (or file), all kinds together."""
        return tuple(p for paths in self.folders.values() for p in paths)

    @property
    def allowed_roots(self) -> tuple[Path, ...]:
        """Every folder the app may read from: data and run folders, and the tokenizer's folder."""
        roots = [*self.data_folders, *self.run_folders]
        if self.tokenizer:
            tok = Path(self.tokenizer)
            roots.append(tok if tok.is_dir() else tok.parent)
        return tuple(dict.fromkeys(roots))

    def missing_folders(self) -> list[tuple[str, Path]]:
        """``(kind, path)`` for each configured folder or file that does not exist."""
        out = [(kind, p) for kind, paths in self.folders.items() for p in paths if not p.exists()]
        out += [("runs", p) for p in self.run_folders if not p.exists()]
        return out

    def missing_message(self) -> str:
        """A message naming every missing folder and the fix ('' when none is missing)."""
        missing = self.missing_folders()
        if not missing:
            return ""
        lines = [f"- {kind}: `{p}`" for kind, p in missing]
        n = len(missing)
        return (
            f"{n} folder{'s' if n > 1 else ''} named in `{self.config_path}` "
            f"{'do' if n > 1 else 'does'} not exist, so the resources there count as zero:\n\n"
            + "\n".join(lines)
            + "\n\n"
            "Fix the paths in the config (they are relative to its folder), put the data there "
            "(the shared data set lives in `../shared/data`), or start the app on the bundled "
            "demo data: `lexiconlm app --config configs/coverage/demo.yaml`."
        )


def _resolved(paths: Iterable[str | os.PathLike], base: Path) -> tuple[Path, ...]:
    """Config paths made absolute against the config's folder, symlinks resolved, deduplicated."""
    out = []
    for p in paths:
        p = Path(p).expanduser()
        out.append((p if p.is_absolute() else base / p).resolve())
    return tuple(dict.fromkeys(out))


def load_context(config_path: str | os.PathLike, *, tokenizer: str | os.PathLike | None = None) -> AppContext:
    """Read a coverage config and list what the app may read.

    Args:
        config_path: a coverage YAML (``configs/coverage/demo.yaml``).
        tokenizer: a local tokenizer (``tokenizer.json`` or a model folder) for the
            segmentation view; its folder becomes readable too.

    Returns:
        The :class:`AppContext`; missing data folders are allowed (see
        :meth:`AppContext.missing_folders`), the pages show them as a message.

    Raises:
        AppSetupError: the file is missing.
        ConfigError: the config is invalid (every problem is listed).
    """
    path = Path(config_path)
    if not path.is_file():
        folder = repo_root() / "configs" / "coverage"
        shipped = sorted(p.relative_to(repo_root()).as_posix() for p in folder.glob("*.yaml"))
        raise AppSetupError(
            f"The config file {str(path)!r} does not exist. Start the app with one of the shipped "
            f"configs ({', '.join(shipped) or 'configs/coverage/demo.yaml'}), e.g. "
            "`lexiconlm app --config configs/coverage/demo.yaml`, or set "
            f"{CONFIG_ENV} to a coverage YAML."
        )
    config = load_config(path)
    folders: dict[str, list[Path]] = {kind: [] for kind in RESOURCE_KINDS}
    for spec in config.resources():
        folders.setdefault(spec.kind, []).extend(spec.paths)
    base = path.resolve().parent
    return AppContext(
        config_path=path.resolve(),
        config=config,
        folders={k: _resolved(v, base) for k, v in folders.items()},
        run_folders=_resolved(config.runs, base),
        cache_path=Path(config.cache_path),
        tokenizer=str(Path(tokenizer).expanduser().resolve()) if tokenizer else None,
    )


def streamlit_command(
    app_path: Path,
    config: Path,
    *,
    port: int | None = None,
    headless: bool = True,
    address: str | None = None,
) -> list[str]:
    """The ``python -m streamlit run`` command line that ``lexiconlm app`` executes."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
    ]
    if port is not None:
        cmd += ["--server.port", str(port)]
    if address:
        cmd += ["--server.address", address]
    cmd += ["--", "--config", str(config)]
    return cmd


def format_command(cmd: Sequence[str]) -> str:
    """A command line as a shell would show it."""
    return " ".join(shlex.quote(c) for c in cmd)
