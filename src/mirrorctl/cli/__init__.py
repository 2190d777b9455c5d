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
        try:
            importlib.import_module(f"mirrorctl.cli.{name}")
        except ModuleNotFoundError as exc:  # an area not built yet
            if exc.name != f"mirrorctl.cli.{name}":
                raise
    return app


def main() -> None:
    from mirrorctl.cli.fast import try_fast

    code = try_fast(sys.argv[1:])
    if code is not None:
        sys.stdout.flush()
        sys.exit(code)
    load_app()(prog_name="mirrorctl")


__all__ = ["load_app", "main"]
