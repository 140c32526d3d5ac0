"""Entry point of the ``lexiconlm`` command.

Each verb lives in its own module ``lexiconlm/cli/<verb>.py`` exposing
``register(app: typer.Typer) -> None``; add the module name to ``VERBS`` to
make it appear. Verb modules import heavy dependencies inside the command
function, so ``lexiconlm --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from lexiconlm import __version__
from lexiconlm.errors import ConfigError, DataFormatError, LexiconLMError, UnknownNameError

VERBS = ("inspect", "languages", "coverage", "app", "synth", "sigmorphon", "model", "adapt", "nlu", "expand", "lexicon")

app = typer.Typer(
    name="lexiconlm",
    help="Expand multilingual language models to low-resource languages with lexicons and morphology.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lexiconlm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """lexiconlm: lexicons and morphology tables in, training data, adapted models and reports out."""


for _verb in VERBS:
    importlib.import_module(f"lexiconlm.cli.{_verb}").register(app)


def _click_exception_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(ClickException classes, Abort classes) of the click that typer raises, and of plain click.

    typer 0.12-0.15 raises the exceptions of the ``click`` package; newer typer (0.16+) bundles
    its own copy in ``typer._click.exceptions``, whose classes are not click's. Catching
    only ``click.ClickException`` let every usage error of a new typer end in a traceback.
    """
    found: list[type] = []
    aborts: list[type] = [typer.Abort]
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        found.append(mod.ClickException)
        if hasattr(mod, "Abort"):  # click's own; typer's bundled copy uses typer.Abort
            aborts.append(mod.Abort)
    return tuple(found), tuple(dict.fromkeys(aborts))


def main(argv: list[str] | None = None) -> int:
    """Run the ``lexiconlm`` command and return its exit status.

    Exit status: ``0`` success; ``1`` a :class:`~lexiconlm.errors.LexiconLMError` (bad data,
    a refused output, a missing optional dependency ...) or an operating-system error (a
    file that cannot be written), printed as one ``error: ...`` message without a traceback
    (a :class:`~lexiconlm.errors.DataFormatError` as its ``path:line: error: ... (fix: ...)``
    lines); ``2`` a usage error: a missing or unknown option, a value out of range, an
    unknown verb (printed as the usage line, the help hint and one ``Error: ...`` line),
    or a name or configuration the command was given that is wrong
    (:class:`~lexiconlm.errors.UnknownNameError` with its did-you-mean,
    :class:`~lexiconlm.errors.ConfigError` listing every problem); ``130`` interrupted.
    A command may return another status itself (``inspect`` exits 1 when a file has errors).
    Any other exception is a bug in lexiconlm and keeps its traceback.

    Args:
        argv: the arguments after ``lexiconlm`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    click_errors, aborts = _click_exception_types()
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="lexiconlm")
    except DataFormatError as exc:  # already one `path:line: error: message (fix: ...)` per line
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        return 1
    except (UnknownNameError, ConfigError) as exc:  # what the command asked for is not there
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return 2
    except LexiconLMError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except aborts:
        typer.echo("Aborted.", err=True)
        return 1
    except click_errors as exc:  # usage errors: exit_code 2; other click errors: 1
        exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", 1))
    except OSError as exc:  # the file system said no: a folder given for a file, a full disk ...
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        typer.secho(f"error: {where}{exc.strerror or exc}", err=True, fg=typer.colors.RED)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    # with standalone_mode=False click returns the code of typer.Exit(code) instead of exiting
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
