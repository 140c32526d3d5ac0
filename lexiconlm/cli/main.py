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
from lexiconlm.errors import LexiconLMError

VERBS = ("inspect", "languages", "coverage", "app", "synth", "sigmorphon", "model", "adapt", "nlu", "expand")

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
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """lexiconlm: lexicons and morphology tables in, training data, adapted models and reports out."""


for _verb in VERBS:
    importlib.import_module(f"lexiconlm.cli.{_verb}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; lexiconlm's own errors are printed without a traceback (exit code 2)."""
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="lexiconlm")
    except LexiconLMError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except SystemExit as exc:  # click usage errors
        return int(exc.code or 0)
    except Exception as exc:  # click.ClickException and friends
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    # with standalone_mode=False click returns the code of typer.Exit(code) instead of exiting
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
