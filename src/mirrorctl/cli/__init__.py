"""Command-line interface: thin commands that parse, call one core function, render."""

from __future__ import annotations

from mirrorctl.cli import catalog as _catalog  # noqa: F401  (registers commands)
from mirrorctl.cli import config as _config  # noqa: F401
from mirrorctl.cli.app import app


def main() -> None:
    app(prog_name="mirrorctl")


__all__ = ["app", "main"]
