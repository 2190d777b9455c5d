"""The core of `mirrorctl env` and `mirrorctl exec`: the variables that point every tool at a
mirror for one process, as lines a shell can run, or set for one command.

Each tool module may provide ``environment(mirror)``; pip gives ``PIP_INDEX_URL`` (and
``PIP_TRUSTED_HOST`` for http), pipenv ``PIPENV_PYPI_MIRROR``, uv ``UV_DEFAULT_INDEX``.

Quoting: every value is written in the shell's literal (single-quoted) form, so ``$``, backticks,
``$(...)``, ``;`` and the like stay text. Line breaks and other control characters are refused:
no index URL has them, and a line break is where PowerShell's ``Invoke-Expression`` (fed line by
line) and fish's ``eval (...)`` would cut a line in two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from mirrorctl import targets, urls
from mirrorctl.catalog import Catalog, Mirror, load_catalog
from mirrorctl.context import Context
from mirrorctl.errors import ConfigFileError, ExitCode, MirrorctlError, UnsupportedError, UsageError

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


class CommandNotFound(MirrorctlError):
    """exec: no such program. 127, as a shell and env(1) answer, so scripts can tell it apart."""

    exit_code = ExitCode.COMMAND_NOT_FOUND


class CommandNotExecutable(MirrorctlError):
    """exec: the program is there but cannot be run. 126, as a shell answers."""

    exit_code = ExitCode.NOT_EXECUTABLE


# -- shells -------------------------------------------------------------------------

def normalize_shell(name: str, *, given_as: Optional[str] = None) -> str:
    """``/usr/bin/zsh``, ``pwsh.exe``, ``dash`` -> the line form: bash, zsh, sh, fish, powershell, cmd."""
    program = re.split(r"[\\/]", name.strip())[-1].lower()
    if program.endswith(".exe"):
        program = program[:-4]
    form = _PROGRAMS.get(program)
    if form is None:
        raise UsageError(f"cannot write lines for the shell {given_as or name!r}",
                         hint=f"pass --shell, one of: {', '.join(SHELLS)}")
    return form


def detect_shell(ctx: Context) -> str:
    """The user's shell: $SHELL's program; on Windows without it, PowerShell or cmd."""
    login = ctx.environ.get("SHELL", "")
    if login:
        return normalize_shell(login, given_as=f"SHELL={login}")
    if ctx.windows:
        return "powershell" if _in_powershell(ctx) else "cmd"
    return "sh"


def _in_powershell(ctx: Context) -> bool:
    """PowerShell puts the user's own Modules folder first in PSModulePath; cmd.exe has only the
    machine-wide entries (PSModulePath itself is set for every Windows process)."""
    home = str(ctx.home).rstrip("\\/").lower()
    entries = ctx.environ.get("PSModulePath", "").split(";")
    return any(entry.lower().startswith(home + "\\") for entry in entries if entry)


# -- quoting ------------------------------------------------------------------------

def _check(shell: str, name: str, value: str) -> None:
    if not _NAME.match(name):
        raise UsageError(f"{name!r} is not a valid environment variable name")
    bad = _CONTROL.search(value)
    if bad:
        raise UsageError(f"the value of {name} contains a line break or control character ({bad.group()!r})",
                         hint="it cannot be written as one safe shell line")
    unsafe = _CMD_UNSAFE.search(value) if shell == "cmd" else None
    if unsafe:
        raise UsageError(f"the value of {name} has a character cmd.exe would expand or stop at ({unsafe.group()!r})",
                         hint="use --shell powershell")


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
    name, _, value = words[1].partition("=")
    return (name, value) if _NAME.match(name) else None


# -- env ------------------------------------------------------------------------------

@dataclass
class EnvResult:
    shell: str
    mirror: Mirror
    variables: dict[str, str]
    lines: list[str]
    warnings: list[str] = field(default_factory=list)


def mirror_environment(mirror: Mirror) -> tuple[dict[str, str], list[str]]:
    """Every tool's variables for ``mirror`` (in tool order), and why a tool gave none."""
    variables: dict[str, str] = {}
    skipped: list[str] = []
    for name in targets.available():
        environment = getattr(targets.get(name), "environment", None)
        if environment is None:
            continue
        try:
            for key, value in environment(mirror).items():
                variables.setdefault(key, value)
        except UnsupportedError as exc:
            skipped.append(f"{name}: {exc.message}")
    return variables, skipped


def current_mirror(ctx: Context, catalog: Catalog) -> Mirror:
    """The mirror pip uses now (a catalogue entry, or its URL as an ad-hoc mirror)."""
    pip = targets.get("pip").status(ctx, catalog)
    if pip.error or not pip.index_url:
        raise ConfigFileError(f"cannot tell the mirror pip uses: {pip.error}",
                              hint="fix pip's configuration, or name a mirror: mirrorctl env tuna")
    return catalog.resolve(pip.index_url)


def env_lines(ctx: Context, name: Optional[str] = None, shell: Optional[str] = None) -> EnvResult:
    """The lines that set every tool's variables for mirror ``name`` (default: pip's current one)."""
    catalog = load_catalog(ctx)
    mirror = catalog.resolve(name) if name else current_mirror(ctx, catalog)
    form = normalize_shell(shell) if shell else detect_shell(ctx)
    variables, skipped = mirror_environment(mirror)
    lines = [assignment(form, key, value) for key, value in variables.items()]
    return EnvResult(shell=form, mirror=mirror, variables=variables, lines=lines,
                     warnings=[urls.mask_url(s) for s in skipped])


# -- exec -----------------------------------------------------------------------------

def run_with_mirror(ctx: Context, name: str, command: Sequence[str]) -> int:
    """Run ``command`` with every tool pointed at mirror ``name`` through its environment
    (nothing is written); its exit status, or 128+N when signal N ended it, as a shell reports."""
    if not command:
        raise UsageError("no command to run", hint="mirrorctl exec tuna -- pipenv lock")
    mirror = load_catalog(ctx).resolve(name)
    env = dict(ctx.environ)
    env.update(mirror_environment(mirror)[0])
    program = _find_program(command[0], env.get("PATH", ""))
    return _wait([program, *command[1:]], env)


def _find_program(name: str, search_path: str) -> str:
    import os
    import shutil

    found = shutil.which(name, path=search_path)
    if found:
        return found
    has_folder = os.sep in name or bool(os.altsep and os.altsep in name)
    if has_folder and os.path.exists(name):
        raise CommandNotExecutable(f"{name}: cannot be run (not an executable file)",
                                   hint="check its permissions (chmod +x)")
    raise CommandNotFound(f"{name}: command not found", hint="check the spelling and PATH, or give its full path")


def _wait(argv: list[str], env: dict[str, str]) -> int:
    import subprocess

    try:
        proc = subprocess.Popen(argv, env=env)
    except OSError as exc:  # permission denied, a script without interpreter line, ...
        raise CommandNotExecutable(f"{argv[0]}: cannot be run ({exc.strerror or exc})",
                                   hint="check that it is a program or a script with a #! line") from None
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:  # the command got the Ctrl-C too: its exit status tells
            continue
    return 128 - code if code < 0 else code
