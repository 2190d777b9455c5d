"""The one escaping function: what reaches a terminal is shown, never obeyed.

Every value mirrorctl prints (a URL from a project's uv.toml, a path, a journal entry's
command, an error message) may hold characters a terminal acts on: ESC starts a control
sequence (clear the screen, retitle the window, hide text), CR moves back over what was
printed, a bidi control (U+202E) reverses the text after it. :func:`shown` replaces each
with a visible escape, the way Python's ``repr()`` does:

- ``\\t``, ``\\n``, ``\\r`` for tab, line feed and carriage return;
- ``\\xNN`` for any other C0 control, DEL and the C1 controls (U+0080-U+009F, the 8-bit CSI
  and OSC included), and for a byte that is not UTF-8 (an undecodable byte of a file
  name or argument, carried by Python as a lone surrogate U+DC80-U+DCFF);
- ``\\uNNNN`` / ``\\UNNNNNNNN`` for every other character ``str.isprintable()`` calls
  non-printable: the bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C),
  zero-width and other format characters (U+200B, U+FEFF, ...), the line and paragraph
  separators, spaces other than the ASCII space, private-use and unassigned code points.

A backslash is shown as itself (Windows paths stay readable): the escaped form is for
eyes; ``--json`` holds the exact value. No imports beyond the standard library: the fast
path of `status` uses this module.
"""

from __future__ import annotations

import re
from typing import Optional

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape_char(ch: str) -> str:
    short = _SHORT.get(ch)
    if short:
        return short
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the raw byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(text: Optional[object], keep: str = "") -> str:
    """``text`` with every character a terminal could act on replaced by a visible escape.

    ``keep`` names characters to pass through (a diff line keeps its tabs, a block of
    lines its line feeds); nothing else control-like is ever kept. ``None`` is shown as "".
    Idempotent: the result holds no character it would escape (other than ``keep``).
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape_char(ch) for ch in text)


# In a JSON document these only ever occur inside strings (its structure is ASCII), and
# json.dumps(ensure_ascii=False) leaves them raw: DEL, the C1 controls and every other
# non-printable character that is not a C0 control (which json.dumps already escapes).
_JSON_RAW = re.compile(r"[^\x00-\x7e]")


def _json_escape(match: "re.Match[str]") -> str:
    ch = match.group()
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_shown(document: str) -> str:
    """A JSON text from ``json.dumps(..., ensure_ascii=False)`` with every non-printable
    character written as a ``\\uNNNN`` escape: the same JSON value (it round-trips
    exactly), printable letters stay readable, and no raw control reaches a terminal."""
    if document.isascii() and "\x7f" not in document:
        return document
    return _JSON_RAW.sub(_json_escape, document)

