"""The only place that prints: result dataclasses -> plain text, rich tables or JSON.

Plumbing shared by every renderer lives here; the renderers themselves are in
``render.results`` (catalogue, use, status, undo), ``render.bench`` and ``render.shell``.

Nothing raw reaches the terminal, in two layers (see ``render.text``):

- a renderer formats each value through :func:`shown` (so a line feed in a value is
  shown as ``\\n``, never a new line) and each table cell is escaped by :func:`print_table`;
- every sink here (:func:`write`, :func:`out`, :func:`error`, :func:`warn`,
  :func:`print_json`) escapes what it is given once more, keeping only the line feeds
  and tabs of the text's own layout, so a renderer that forgets a value still cannot
  send ESC, CR or a bidi control. The rich console is made with ``markup=False``:
  a ``[bold]`` in a value is printed as is.
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from mirrorctl.errors import MirrorctlError
from mirrorctl.i18n import _
from mirrorctl.render.text import json_shown, shown

__all__ = ["console", "error", "out", "print_json", "print_table", "say", "shown", "table", "warn", "write"]

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
        # markup=False: a string is never read as rich markup ("[bold]" in a URL stays text)
        _consoles[stderr] = Console(stderr=stderr, highlight=False, markup=False, emoji=False, width=width)
    return _consoles[stderr]


def reset_consoles() -> None:
    """Forget cached consoles (tests swap sys.stdout per run)."""
    _consoles.clear()


def _stdout(text: str) -> None:
    """Every write to stdout: a failure there (disk full, I/O error) comes after the command's
    work is done, and says so; a closed pipe stays a BrokenPipeError (see cli/guard.py)."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise output_failed(exc) from None


def output_failed(exc: OSError) -> MirrorctlError:
    reason = exc.strerror or str(exc)
    return MirrorctlError(_("cannot write the output ({reason}); the command itself was carried out")
                          .format(reason=reason),
                          hint=_("`mirrorctl history` and `mirrorctl status` show what is in force; do not "
                                 "simply run an undo again"))


def write(text: str = "") -> None:
    """One line (or a block of lines) on stdout; control characters other than the block's
    own line feeds and tabs are shown escaped."""
    _stdout(shown(text, keep="\n\t") + "\n")


def say(text: str) -> None:
    """A sentence on stdout, folded at the terminal's width between words, or
    between Chinese characters; a path or URL is never broken. Not for lines meant to be used
    as they are (shell lines, diffs): :func:`write` keeps those whole."""
    width = output_width()
    text = shown(text)
    if width is None or cell_width(text) <= width:
        _stdout(text + "\n")
        return
    _stdout("\n".join(fold(text, width)) + "\n")


_NO_BREAK_BEFORE = set("，。；：、）」』！？")  # Chinese closing punctuation stays with what it closes
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"


def fold(text: str, width: int, indent: str = "  ") -> list:
    """``text`` as lines of at most ``width`` columns where it can break: at spaces, and before
    or after a Chinese character; the lines after the first are indented."""
    import re

    tokens = re.findall(rf"[{_CJK}]|[^\s{_CJK}]+|\s+", text)
    lines: list = []
    line = ""
    for token in tokens:
        if token.isspace():
            line += token
            continue
        if line.strip() and cell_width(line.rstrip() + token) > width and token not in _NO_BREAK_BEFORE:
            lines.append(line.rstrip())
            line = indent
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def out(text: str) -> None:
    """Like :func:`write`, without adding a line feed (a diff carries its own)."""
    _stdout(shown(text, keep="\n\t"))


def table_lines(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Plain aligned columns (no wrapping: paths and URLs stay whole and greppable), every
    cell escaped (a cell is one value: a line feed in it is shown as ``\\n``).

    Kept free of rich on purpose: `status` is on the fast path, and rich's import
    alone costs about half of its time budget.
    """
    headers = [shown(h) for h in headers]
    rows = [[shown(c) for c in row] for row in rows]
    widths = [cell_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_width(cell))

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - cell_width(c)) for c, w in zip(cells, widths)).rstrip()

    return [line(headers)] + [line(r) for r in rows]


def cell_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: a wide (CJK) character takes two."""
    if text.isascii():
        return len(text)
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """:func:`table_lines` as one block, for :func:`write` (no bold header)."""
    return "\n".join(table_lines(headers, rows))


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """The table on stdout, its header in bold on a terminal (unless NO_COLOR). When it is wider
    than the terminal, a list instead: the terminal would fold each line
    mid-word, and paths and URLs are never cut."""
    lines = table_lines(headers, rows)
    width = output_width()
    if width is not None and max(cell_width(line) for line in lines) > width:
        lines = list_lines(headers, rows)
        _stdout("\n".join(lines) + ("\n" if lines else ""))
        return
    head = lines[0]
    if sys.stdout.isatty() and not _no_color():
        head = f"\033[1m{head}\033[0m"  # the only raw escape sequence mirrorctl prints itself
    _stdout("\n".join([head] + lines[1:]) + "\n")


def output_width() -> Optional[int]:
    """The columns of the terminal stdout is (``COLUMNS`` when set); None for a pipe or a file,
    whose readers (grep, head, a script) get the same table whatever the window (a shell may
    export COLUMNS to its children)."""
    import os

    try:
        if not sys.stdout.isatty():
            return None
    except (ValueError, AttributeError):
        return None
    try:
        columns = int(os.environ.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns or None
    except (OSError, ValueError):
        return None


def list_lines(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A table for a narrow terminal: each row a block, its first cells on the first line, then
    one ``header: value`` line per other cell (empty and "-" cells left out)."""
    headers = [shown(h) for h in headers]
    lead = 1 if headers and headers[0] else 2  # `list` has an unnamed mark column before the name
    out: list[str] = []
    for row in rows:
        cells = [shown(c) for c in row]
        out.append(" ".join(c for c in cells[:lead] if c).rstrip())
        for header, cell in zip(headers[lead:], cells[lead:]):
            if cell and cell != "-":
                out.append("  " + _("{header}: {value}").format(header=header, value=cell))
    return out


def _no_color() -> bool:
    import os

    return bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout: exact values (they round-trip), and every non-printable
    character, C1 and bidi controls included, as a ``\\uNNNN`` escape (``render.text.json_shown``)."""
    import json

    _json_state["printed"] = True
    _stdout(json_shown(json.dumps(data, indent=2, ensure_ascii=False, default=str)) + "\n")
    sys.stdout.flush()


def error(exc: MirrorctlError) -> None:
    """One line on stderr: the message and the hint (passwords in URLs masked, controls shown).
    With ``--json`` (see :func:`json_errors`), also a JSON object on stdout, unless the command
    already printed its JSON there: scripts never parse an empty string."""
    from mirrorctl.urls import mask_url

    line = _("mirrorctl: error: {message}").format(message=shown(mask_url(exc.message)))
    if exc.hint:
        line += _(" (hint: {hint})").format(hint=shown(mask_url(exc.hint)))
    _plain_stderr(line)
    code = int(exc.exit_code)
    json_error(getattr(exc, "code", None) or _code_name(code), exc.message, code, exc.hint)


# --json errors: whether the command line asked for JSON, and whether JSON was printed already
_json_state = {"errors": False, "printed": False}


def json_errors(on: bool) -> None:
    """Say whether errors also go to stdout as JSON (the command line has ``--json``)."""
    _json_state["errors"] = on
    _json_state["printed"] = False


def json_error(code: str, message: str, exit_code: int, hint: Optional[str] = None) -> None:
    """``{"error": {"code", "message", "hint", "exit_code"}}`` on stdout, under ``--json`` only,
    and only when nothing else was printed as JSON (a document is one object)."""
    if not _json_state["errors"] or _json_state["printed"]:
        return
    from mirrorctl.urls import mask_url

    try:
        print_json({"error": {"code": code, "message": mask_url(message),
                              "hint": mask_url(hint) if hint else None, "exit_code": exit_code}})
    except (OSError, ValueError, MirrorctlError):  # stdout is gone too: the line on stderr said it
        pass


def _code_name(exit_code: int) -> str:
    """The stable machine code of an exit code: ``usage``, ``bad_config``, ``not_writable``, ..."""
    from mirrorctl.errors import ExitCode

    try:
        return ExitCode(exit_code).name.lower()
    except ValueError:
        return "error"


def warn(text: str) -> None:
    from mirrorctl.urls import mask_url

    _plain_stderr(_("mirrorctl: warning: {message}").format(message=shown(mask_url(text))))


def _plain_stderr(line: str) -> None:
    # no rich markup here: messages carry paths and URLs with brackets; one line always
    sys.stderr.write(shown(line) + "\n")
    sys.stderr.flush()


def escape(text: Optional[str]) -> str:
    """``text`` shown (controls escaped) and safe inside rich markup."""
    from rich.markup import escape as _escape

    return _escape(shown(text))
