"""Command-line interface: thin commands that parse, call one core function, render.

``main`` tries the fast path for `status` first (see ``cli/fast.py``), then the typer app.
"""

from __future__ import annotations

import sys


# command modules, each registering its commands on the app; one module per area
COMMAND_MODULES = ("catalog", "config", "bench", "shell")


def load_app():
    """The typer app with every command registered."""
    import importlib

    from mirrorctl.cli.app import app

    for name in COMMAND_MODULES:
        importlib.import_module(f"mirrorctl.cli.{name}")
    return app


def main() -> None:
    from mirrorctl.cli.fast import try_fast

    code = try_fast(sys.argv[1:])
    if code is not None:
        sys.stdout.flush()
        sys.exit(code)
    try:
        code = load_app()(prog_name="mirrorctl", standalone_mode=False)
    except Exception as exc:  # the CLI framework's usage errors: one line too, like ours
        if type(exc).__name__ == "Abort":  # Ctrl-C or end of input while the framework was reading
            sys.stderr.write("mirrorctl: interrupted\n")
            code = 130
        elif hasattr(exc, "format_message"):
            code = _usage_error(exc)
        else:
            raise
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc) -> int:
    from mirrorctl import render
    from mirrorctl.errors import UsageError

    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "mirrorctl"
    render.error(UsageError(exc.format_message(), hint=f"see `{where} --help`"))
    return int(getattr(exc, "exit_code", 2) or 2)


__all__ = ["load_app", "main"]
