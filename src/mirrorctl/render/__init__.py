"""The only place that prints: result dataclasses -> rich text or JSON.

Plumbing shared by every renderer lives here; the renderers themselves are in
``render.results`` (catalogue, use, status, undo) and ``render.bench``.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from mirrorctl.errors import MirrorctlError

_consoles: dict[bool, Any] = {}


def console(stderr: bool = False):
    """A rich Console on stdout or stderr (created once, on first use)."""
    if stderr not in _consoles:
        import os

        from rich.console import Console

        stream = sys.stderr if stderr else sys.stdout
        width = None
        if not (hasattr(stream, "isatty") and stream.isatty()) and not os.environ.get("COLUMNS"):
            width = 200  # a pipe or a file: do not fold paths and URLs at 80 columns
        _consoles[stderr] = Console(stderr=stderr, highlight=False, width=width)
    return _consoles[stderr]


def reset_consoles() -> None:
    """Forget cached consoles (tests swap sys.stdout per run)."""
    _consoles.clear()


def write(text: str = "") -> None:
    """One line (or block) of plain output on stdout."""
    sys.stdout.write(text + "\n")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Plain aligned columns (no wrapping: paths and URLs stay whole and greppable).

    Kept free of rich on purpose: `status` is on the fast path, and rich's import
    alone costs about half of its time budget.
    """
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    head = line(headers)
    if sys.stdout.isatty() and not _no_color():
        head = f"\033[1m{head}\033[0m"
    return "\n".join([head] + [line(r) for r in rows])


def _no_color() -> bool:
    import os

    return bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def error(exc: MirrorctlError) -> None:
    """One line on stderr: the message and the hint (passwords in URLs masked)."""
    from mirrorctl.urls import mask_url

    line = f"mirrorctl: error: {exc.message}"
    if exc.hint:
        line += f" (hint: {exc.hint})"
    _plain_stderr(mask_url(line))


def warn(text: str) -> None:
    from mirrorctl.urls import mask_url

    _plain_stderr(mask_url(f"mirrorctl: warning: {text}"))


def _plain_stderr(line: str) -> None:
    # no rich markup here: messages carry paths and URLs with brackets
    sys.stderr.write(line.replace("\n", " ") + "\n")
    sys.stderr.flush()


def escape(text: Optional[str]) -> str:
    from rich.markup import escape as _escape

    return _escape(text or "")
