"""``lexiconlm app``: start the Streamlit coverage app on a coverage config."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Optional

import typer

from lexiconlm.errors import LexiconLMError, MissingDependencyError

APP_SCRIPT = Path("apps") / "lexiconlm_app.py"


def app_command(
    config: str | os.PathLike | None = None,
    *,
    port: int | None = None,
    headless: bool = False,
    tokenizer: str | os.PathLike | None = None,
    address: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start the app (checked, not run).

    The config is validated first, so a bad one fails here with every problem listed
    rather than in the browser.

    Args:
        config: a coverage YAML (default ``configs/coverage/demo.yaml``).
        port: the port to serve on (default: Streamlit's, 8501).
        headless: do not open a browser.
        tokenizer: a local tokenizer folder (or ``tokenizer.json``) for the segmentation view.
        address: the address to bind (default: Streamlit's).

    Returns:
        ``(argv, environment)`` for :func:`subprocess.call`.

    Raises:
        MissingDependencyError: streamlit, altair or pandas is not installed.
        LexiconLMError: the app's script is missing (an installed wheel without ``apps/``),
            the config does not exist, or (ConfigError) is invalid.

    Example:
        >>> cmd, env = app_command("configs/coverage/demo.yaml", port=8600, headless=True)  # doctest: +SKIP
        >>> cmd[1:4], env["LEXICONLM_APP_CONFIG"].endswith("demo.yaml")                     # doctest: +SKIP
        (['-m', 'streamlit', 'run'], True)
    """
    import importlib.util

    missing = [m for m in ("streamlit", "altair", "pandas") if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError("The app", "app", ", ".join(missing))
    from lexiconlm.app import context as app_context

    script = app_context.repo_root() / APP_SCRIPT
    if not script.is_file():
        raise LexiconLMError(
            f"the app's script {script} is missing: the app ships with the source checkout "
            "(apps/), so run `lexiconlm app` from a clone of the repository installed with "
            "pip install -e '.[app]'"
        )
    argv = ["--config", str(config)] if config is not None else []
    cfg = app_context.app_config_path(argv, environ={})
    tok = Path(tokenizer).expanduser().resolve() if tokenizer else None
    if tok is not None and not tok.exists():
        raise LexiconLMError(f"the tokenizer {str(tokenizer)!r} does not exist; give a local folder or tokenizer.json")
    app_context.load_context(cfg, tokenizer=tok)  # fails now, with every problem, if the config is bad
    cmd = app_context.streamlit_command(script, cfg, port=port, headless=headless, address=address)
    if tok is not None:
        cmd += ["--tokenizer", str(tok)]
    env = dict(os.environ)
    env[app_context.CONFIG_ENV] = str(cfg)
    if tok is not None:
        env[app_context.TOKENIZER_ENV] = str(tok)
    env.setdefault("HF_HUB_OFFLINE", "1")  # the app never downloads a model
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return cmd, env


def register(app: typer.Typer) -> None:
    @app.command("app")
    def app_cmd(
        config: Optional[Path] = typer.Option(
            None,
            "--config",
            "-c",
            help="Coverage YAML to show (default: configs/coverage/demo.yaml, the bundled demo data).",
        ),
        port: Optional[int] = typer.Option(
            None, "--port", "-p", min=1, max=65535, help="Port to serve on (default 8501)."
        ),
        headless: bool = typer.Option(False, "--headless", help="Do not open a browser (for servers and CI)."),
        tokenizer: Optional[Path] = typer.Option(
            None, "--tokenizer", help="A local tokenizer folder or tokenizer.json for the segmentation view."
        ),
        address: Optional[str] = typer.Option(None, "--address", help="Address to bind, e.g. 127.0.0.1."),
        print_command: bool = typer.Option(False, "--print-command", help="Print the streamlit command and exit."),
    ) -> None:
        """Start the Streamlit coverage app: overview, language explorer, runs, downloads.

        The app reads only the folders the coverage config names (data, runs). Stop it with Ctrl+C.

        Examples:

          lexiconlm app

          lexiconlm app --config configs/coverage/shared.yaml --port 8600 --headless
        """
        from lexiconlm.app.context import format_command

        cmd, env = app_command(config, port=port, headless=headless, tokenizer=tokenizer, address=address)
        if print_command:
            typer.echo(format_command(cmd))
            return
        typer.echo(f"starting: {format_command(cmd)}", err=True)
        code = run_app(cmd, env)
        if code:
            raise typer.Exit(code)


def run_app(cmd: list[str], env: dict[str, str]) -> int:
    """Run the streamlit server until it exits; Ctrl+C or SIGTERM stop it too (never leaving it orphaned)."""
    import signal

    proc = subprocess.Popen(cmd, env=env)

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
