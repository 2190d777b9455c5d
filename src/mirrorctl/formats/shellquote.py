"""Shell lines as a file format: the line that sets one environment variable in each shell's
syntax, and the way back from such a line to (name, value).

Used by ``mirrorctl env`` (lines a shell runs) and by the managed blocks pipenv keeps in shell
start-up files (lines a shell reads at start, which ``status`` reads back).

Quoting: every value is written in the shell's literal (single-quoted) form, so ``$``, backticks,
``$(...)``, ``;`` and the like stay text. Line breaks and other control characters are refused:
no index URL has them, and a line break is where PowerShell's ``Invoke-Expression`` (fed line by
line) and fish's ``eval (...)`` would cut a line in two.

This module imports nothing of mirrorctl's but its errors, so ``targets/`` can use it.
"""

from __future__ import annotations

import re
from typing import Optional

from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

SHELLS = ("bash", "zsh", "sh", "fish", "powershell", "cmd")
# what a shell's program is called -> the form of its lines
_PROGRAMS = {
    "bash": "bash", "zsh": "zsh", "fish": "fish", "cmd": "cmd",
    "sh": "sh", "dash": "sh", "ash": "sh", "ksh": "sh", "ksh93": "sh", "mksh": "sh", "yash": "sh", "busybox": "sh",
    "powershell": "powershell", "pwsh": "powershell",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"  # PowerShell closes a '...' string on any of these
_CMD_UNSAFE = re.compile(r'["%!]')  # a quote ends the string; %...% and !...! expand even inside it


def normalize_shell(name: str, *, given_as: Optional[str] = None) -> str:
    """``/usr/bin/zsh``, ``pwsh.exe``, ``dash`` -> the line form: bash, zsh, sh, fish, powershell, cmd."""
    program = re.split(r"[\\/]", name.strip())[-1].lower()
    if program.endswith(".exe"):
        program = program[:-4]
    form = _PROGRAMS.get(program)
    if form is None:
        raise UsageError(_("cannot write lines for the shell {shell!r}").format(shell=given_as or name),
                         hint=_("pass --shell, one of: {shells}").format(shells=", ".join(SHELLS)))
    return form


def _check(shell: str, name: str, value: str) -> None:
    if not _NAME.match(name):
        raise UsageError(_("{name!r} is not a valid environment variable name").format(name=name))
    bad = _CONTROL.search(value)
    if bad:
        raise UsageError(_("the value of {name} contains a line break or control character ({char!r})").format(
            name=name, char=bad.group()), hint=_("it cannot be written as one safe shell line"))
    unsafe = _CMD_UNSAFE.search(value) if shell == "cmd" else None
    if unsafe:
        raise UsageError(_("the value of {name} has a character cmd.exe would expand or stop at ({char!r})").format(
            name=name, char=unsafe.group()), hint=_("use --shell powershell"))


def quote(shell: str, value: str) -> str:
    """``value`` as one literal word of ``shell`` (a validated value: see :func:`assignment`)."""
    if shell in ("bash", "zsh", "sh"):
        return "'" + value.replace("'", "'\\''") + "'"
    if shell == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if shell == "powershell":
        return "'" + re.sub(f"([{_PS_QUOTES}])", r"\1\1", value) + "'"
    raise ValueError(f"no quoting for {shell}")


def assignment(shell: str, name: str, value: str) -> str:
    """The line that sets (and exports) variable ``name`` to ``value`` in ``shell``."""
    _check(shell, name, value)
    if shell == "fish":
        return f"set -gx {name} {quote(shell, value)}"
    if shell == "powershell":
        return f"$env:{name} = {quote(shell, value)}"
    if shell == "cmd":
        return f'set "{name}={value}"'
    return f"export {name}={quote(shell, value)}"


_FISH_LINE = re.compile(r"set -gx ([A-Za-z_][A-Za-z0-9_]*) '((?:[^'\\]|\\.)*)'\Z")
_PS_LINE = re.compile(rf"\$env:([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'((?:[^{_PS_QUOTES}]|[{_PS_QUOTES}]{{2}})*)'\Z")


def parse_assignment(shell: str, line: str) -> Optional[tuple[str, str]]:
    """(name, value) from a line :func:`assignment` writes, or None when it is not one."""
    line = line.strip()
    if shell == "fish":
        match = _FISH_LINE.match(line)
        return (match.group(1), re.sub(r"\\([\\'])", r"\1", match.group(2))) if match else None
    if shell == "powershell":
        match = _PS_LINE.match(line)
        return (match.group(1), re.sub(f"([{_PS_QUOTES}])[{_PS_QUOTES}]", r"\1", match.group(2))) if match else None
    import shlex

    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if len(words) != 2 or words[0] != "export" or "=" not in words[1]:
        return None
    name, _sep, value = words[1].partition("=")
    return (name, value) if _NAME.match(name) else None


# -- sourcing another file ---------------------------------------------------------------

def source_line(shell: str, path: str) -> str:
    """The line that runs the file ``path`` in the current ``shell`` when it is readable, and
    does nothing (successfully) when it is not: bash, zsh, sh, fish and PowerShell."""
    bad = _CONTROL.search(path)
    if bad:
        raise UsageError(_("the path {path!r} contains a line break or control character ({char!r})").format(
            path=path, char=bad.group()), hint=_("it cannot be written as one safe shell line"))
    word = quote(shell, path)
    if shell == "fish":
        return f"if test -r {word}; source {word}; end"
    if shell == "powershell":
        return f"if (Test-Path -LiteralPath {word}) {{ . {word} }}"
    return f"if [ -r {word} ]; then . {word}; fi"


_SH_WORD = r"'((?:[^']|'\\'')*)'"
_FISH_WORD = r"'((?:[^'\\]|\\.)*)'"
_PS_WORD = rf"'((?:[^{_PS_QUOTES}]|[{_PS_QUOTES}]{{2}})*)'"
_SOURCE_LINES = {
    "sh": (re.compile(rf"if \[ -r {_SH_WORD} \]; then \. {_SH_WORD}; fi\Z"), lambda w: w.replace("'\\''", "'")),
    "fish": (re.compile(rf"if test -r {_FISH_WORD}; source {_FISH_WORD}; end\Z"),
             lambda w: re.sub(r"\\([\\'])", r"\1", w)),
    "powershell": (re.compile(rf"if \(Test-Path -LiteralPath {_PS_WORD}\) \{{ \. {_PS_WORD} \}}\Z"),
                   lambda w: re.sub(f"([{_PS_QUOTES}])[{_PS_QUOTES}]", r"\1", w)),
}


def parse_source_line(shell: str, line: str) -> Optional[str]:
    """The path of a line :func:`source_line` writes, or None when it is not one."""
    pattern, unquote = _SOURCE_LINES["sh" if shell in ("bash", "zsh", "sh") else shell]
    match = pattern.match(line.strip())
    if not match or match.group(1) != match.group(2):
        return None
    return unquote(match.group(1))
