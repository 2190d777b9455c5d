"""One managed block of lines in a text file (shell start-up files, PowerShell profiles).

The block sits between two marker lines::

    # >>> mirrorctl pipenv >>>
    ...lines mirrorctl writes...
    # <<< mirrorctl pipenv <<<

A new block goes at the end of the file; the next change replaces it in place; removing it
takes exactly its lines away. Every byte outside the block is kept: the encoding (UTF-8, or
UTF-16 with its byte-order mark, as Windows PowerShell writes profiles), a UTF-8 BOM, and the
line endings (the block is written with the file's own). A file with two blocks, or with a
block that is not closed, is refused rather than guessed at.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import PurePath
from typing import Optional

from mirrorctl.errors import ConfigFileError
from mirrorctl.i18n import _

# longest first: a UTF-16 BOM is a prefix of nothing else we accept
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass(frozen=True)
class Markers:
    begin: str
    end: str


def markers(name: str) -> Markers:
    """The marker lines of the block called ``name`` (``# >>> name >>>`` / ``# <<< name <<<``)."""
    return Markers(begin=f"# >>> {name} >>>", end=f"# <<< {name} <<<")


@dataclass
class _Text:
    bom: bytes
    codec: str
    lines: list[str]  # each with its line ending, the last one maybe without

    def newline(self, default: str) -> str:
        for line in self.lines:
            if line.endswith("\n"):
                return "\r\n" if line.endswith("\r\n") else "\n"
        return default

    def encode(self) -> bytes:
        errors = "surrogateescape" if self.codec == "utf-8" else "strict"
        return self.bom + "".join(self.lines).encode(self.codec, errors)


def _decode(data: bytes, path: PurePath) -> _Text:
    bom, codec = b"", "utf-8"
    for candidate, name in _BOMS:
        if data.startswith(candidate):
            bom, codec = candidate, name
            break
    body = data[len(bom):]
    try:
        # any byte sequence survives utf-8 + surrogateescape, so a file in another 8-bit
        # encoding is still written back byte for byte; UTF-16 must be valid
        text = body.decode(codec, "surrogateescape" if codec == "utf-8" else "strict")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(_("{path}: invalid {codec} text at byte {byte}").format(
            path=path, codec=codec, byte=exc.start + len(bom)), hint=_("save the file as UTF-8, then run again")) from None
    return _Text(bom, codec, _split_lines(text))


def _split_lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _is(line: str, marker: str) -> bool:
    return line.strip() == marker


def _find(lines: list[str], path: PurePath, mark: Markers) -> Optional[tuple[int, int]]:
    """(begin, end) line indexes of the block, None when there is none; refuses a broken one."""
    begins = [i for i, line in enumerate(lines) if _is(line, mark.begin)]
    ends = [i for i, line in enumerate(lines) if _is(line, mark.end)]
    hint = _("keep one block between `{begin}` and `{end}` (or none), then run again").format(
        begin=mark.begin, end=mark.end)
    if len(begins) > 1:
        raise ConfigFileError(_("{path}: two mirrorctl blocks (lines {first} and {second})").format(
            path=path, first=begins[0] + 1, second=begins[1] + 1), hint=hint)
    if len(ends) > 1:
        raise ConfigFileError(_("{path}: two end markers `{end}` (lines {first} and {second})").format(
            path=path, end=mark.end, first=ends[0] + 1, second=ends[1] + 1), hint=hint)
    if begins and not ends:
        raise ConfigFileError(_("{path}: the mirrorctl block at line {line} is not closed by `{end}`").format(
            path=path, line=begins[0] + 1, end=mark.end), hint=hint)
    if ends and (not begins or ends[0] < begins[0]):
        raise ConfigFileError(_("{path}: `{end}` at line {line} closes no block").format(
            path=path, end=mark.end, line=ends[0] + 1), hint=hint)
    return (begins[0], ends[0]) if begins else None


def read_block(data: Optional[bytes], path: PurePath, mark: Markers) -> Optional[list[str]]:
    """The lines inside the block (without line endings), or None when the file has no block."""
    if data is None:
        return None
    text = _decode(data, path)
    span = _find(text.lines, path, mark)
    if span is None:
        return None
    return [line.rstrip("\r\n") for line in text.lines[span[0] + 1:span[1]]]


def set_block(data: Optional[bytes], body: list[str], path: PurePath, mark: Markers, *,
              newline: str = "\n") -> bytes:
    """The file with the block holding ``body``: replaced in place, or appended at the end.

    ``newline`` is used for a new or one-line file; otherwise the file's own line ending is.
    """
    if any("\n" in line or "\r" in line for line in body):
        raise ValueError("a line of the block contains a line break")
    text = _decode(data, path) if data is not None else _Text(b"", "utf-8", [])
    eol = text.newline(newline)
    block = [line + eol for line in (mark.begin, *body, mark.end)]
    span = _find(text.lines, path, mark)
    if span is None:
        if text.lines and not text.lines[-1].endswith("\n"):
            text.lines[-1] += eol
        text.lines.extend(block)
    else:
        text.lines[span[0]:span[1] + 1] = block
    return text.encode()


def remove_block(data: Optional[bytes], path: PurePath, mark: Markers) -> Optional[bytes]:
    """The file without the block (unchanged when it has none); None when nothing is left."""
    if data is None:
        return None
    text = _decode(data, path)
    span = _find(text.lines, path, mark)
    if span is None:
        return data
    del text.lines[span[0]:span[1] + 1]
    return text.encode() if text.lines else None
