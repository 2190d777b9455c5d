"""Command-line interface: thin commands that parse, call one core function, render.

``main`` tries the fast path for `status` first (see ``cli/fast.py``), then the typer app.
"""

from __future__ import annotations

import sys


def load_app():
    """The typer app with every command registered."""
    from mirrorctl.cli import catalog as _catalog  # noqa: F401  (registers commands)
    from mirrorctl.cli import config as _config  # noqa: F401
    from mirrorctl.cli.app import app

    try:
        from mirrorctl.cli import bench as _bench  # noqa: F401
    except ImportError:  # pragma: no cover - bench is optional while it is being built
        pass
    return app


def main() -> None:
    from mirrorctl.cli.fast import try_fast

    code = try_fast(sys.argv[1:])
    if code is not None:
        sys.stdout.flush()
        sys.exit(code)
    load_app()(prog_name="mirrorctl")


__all__ = ["load_app", "main"]
