"""The core of `mirrorctl env` and `mirrorctl exec`: the variables that point every tool at a
mirror for one process, as lines a shell can run, or set for one command.

Each tool module may provide ``environment(mirror)``; pip gives ``PIP_INDEX_URL`` (and
``PIP_TRUSTED_HOST`` for http), pipenv ``PIPENV_PYPI_MIRROR``, uv ``UV_DEFAULT_INDEX`` (and
``UV_PYTHON_INSTALL_MIRROR`` for a mirror with a ``uv_python``: targets/uv_python.py).

How a value is written as a shell line (quoting, refused characters): ``formats/shellquote.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from mirrorctl import targets, urls
from mirrorctl.catalog import Catalog, Mirror, load_catalog
from mirrorctl.context import Context
from mirrorctl.errors import ConfigFileError, ExitCode, MirrorctlError, UnsupportedError, UsageError
from mirrorctl.formats.shellquote import assignment, normalize_shell
from mirrorctl.i18n import _


class CommandNotFound(MirrorctlError):
    """exec: no such program. 127, as a shell and env(1) answer, so scripts can tell it apart."""

    exit_code = ExitCode.COMMAND_NOT_FOUND


class CommandNotExecutable(MirrorctlError):
    """exec: the program is there but cannot be run. 126, as a shell answers."""

    exit_code = ExitCode.NOT_EXECUTABLE


# -- shells -------------------------------------------------------------------------

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
        raise ConfigFileError(_("cannot tell the mirror pip uses: {error}").format(
            error=pip.error or _("no index is set (pip uses PyPI)")),
                              hint=_("fix pip's configuration, or name a mirror: mirrorctl env tuna"))
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
        raise UsageError(_("no command to run"), hint=_("mirrorctl exec tuna -- pipenv lock"))
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
        raise CommandNotExecutable(_("{path}: cannot be run (not an executable file)").format(path=name),
                                   hint=_("check its permissions (chmod +x)"))
    raise CommandNotFound(_("{path}: command not found").format(path=name),
                          hint=_("check the spelling and PATH, or give its full path"))


def _wait(argv: list[str], env: dict[str, str]) -> int:
    import subprocess

    try:
        proc = subprocess.Popen(argv, env=env)
    except OSError as exc:  # permission denied, a script without interpreter line, ...
        raise CommandNotExecutable(_("{path}: cannot be run ({error})").format(path=argv[0], error=exc.strerror or exc),
                                   hint=_("check that it is a program or a script with a #! line")) from None
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:  # the command got the Ctrl-C too: its exit status tells
            continue
    return 128 - code if code < 0 else code
