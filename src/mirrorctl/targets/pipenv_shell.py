"""pipenv at user scope: ``PIPENV_PYPI_MIRROR`` in one managed block of the user's shell
start-up files (bash, zsh, fish, PowerShell), and how ``status`` reads it back.

pipenv has no configuration file for its mirror: the variable comes from the environment, so the
user scope keeps it where new shells set it. The block goes into every start-up file that has it,
of every shell set up, and of the user's login shell (see :func:`startup_files`). A start-up file
that cannot be read has no block as far as ``in_use``, ``status`` and ``reset`` can tell; only a
``use`` that must write it fails, naming it.

A URL with a credential (``https://user:token@host/simple``) never goes into a start-up file:
dotfiles are often published. The assignment then lives in a private file of mirrorctl's config
folder (``pipenv-mirror.sh`` for bash and zsh, ``.fish``, ``.ps1``; written owner-only, as a
FileChange with ``private=True``) that the block sources; ``status`` follows the block to it, and
``reset`` / ``undo`` remove both.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Optional

from mirrorctl import urls
from mirrorctl.catalog import Mirror
from mirrorctl.changes import FileChange, read_bytes
from mirrorctl.context import Context, Scope, mirrorctl_config_dir
from mirrorctl.errors import ConfigFileError, MirrorctlError, UnsupportedError, UsageError
from mirrorctl.formats import shellquote, shellrc
from mirrorctl.targets.base import FileInfo, Origin, Overlay, Setting, ToolStatus, read_with_overlay
from mirrorctl.i18n import _

NAME = "pipenv"
VARIABLE = "PIPENV_PYPI_MIRROR"
BLOCK = shellrc.markers("mirrorctl pipenv")
# the private file a block sources when the URL holds a credential, by the syntax of its lines
PRIVATE_FILES = {"sh": "pipenv-mirror.sh", "fish": "pipenv-mirror.fish", "powershell": "pipenv-mirror.ps1"}


# -- reading ------------------------------------------------------------------------------

def _cannotread_recorded(path: PurePath, exc: OSError) -> ConfigFileError:
    """A bare OSError reading ``path`` (a symlink loop, an I/O error) as one line naming the file."""
    reason = "a symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or type(exc).__name__)
    return ConfigFileError(_("{path}: cannot be read ({reason})")
                           .format(path=path, reason=reason), hint=_("look at that file (ls -l)"))


def read_file(path: PurePath, overlay: Optional[Overlay] = None) -> Optional[bytes]:
    """The file's bytes (None: absent; through ``overlay`` when given). Every failure to read it
    is a MirrorctlError naming it: read_bytes' own, or a bare OSError turned into one."""
    try:
        return read_with_overlay(Path(path), overlay) if overlay is not None else read_bytes(Path(path))
    except MirrorctlError:
        raise
    except OSError as exc:
        raise _cannotread_recorded(path, exc) from None


def read_recorded(path: PurePath, overlay: Optional[Overlay], info: FileInfo) -> Optional[bytes]:
    """The file's bytes (through the overlay), recording in ``info`` whether it exists or fails."""
    try:
        data = read_file(path, overlay)
    except MirrorctlError as exc:
        info.error = exc.message
        info.exists = exists(path)
        return None
    info.exists = data is not None
    return data


# -- the shell start-up files ------------------------------------------------------------

@dataclass(frozen=True)
class StartupFile:
    shell: str  # bash, zsh, fish, powershell
    path: PurePath
    default: bool  # written when this shell is the user's, even if absent
    setup: PurePath  # exists when the user has set this shell up (the file, or its folder)

    def present(self) -> bool:
        return exists(self.setup)


def exists(path: PurePath) -> bool:
    """Whether ``path`` exists; one that cannot even be looked at counts as there (so a ``use``
    that must write it names it, rather than skipping a shell the user has set up)."""
    try:
        return Path(path).exists()
    except OSError:
        return True


def _login_shell(ctx: Context) -> Optional[str]:
    login = ctx.environ.get("SHELL", "")
    if not login:
        return "powershell" if ctx.windows else None
    try:
        return shellquote.normalize_shell(login)
    except UsageError:
        return None


def _bash_files(ctx: Context) -> list[StartupFile]:
    home = ctx.home
    rc = home / ".bashrc"
    if ctx.platform != "darwin":
        return [StartupFile("bash", rc, True, rc)]
    # Terminal.app starts login shells: bash reads the first of these that exists, not .bashrc
    login = next((home / n for n in (".bash_profile", ".bash_login", ".profile") if exists(home / n)),
                 home / ".bash_profile")
    return [StartupFile("bash", login, True, login), StartupFile("bash", rc, False, rc)]


def _powershell_files(ctx: Context) -> list[StartupFile]:
    """The current user's all-hosts profile (profile.ps1) of each PowerShell."""
    if not ctx.windows:
        folder = ctx.xdg_config_home / "powershell"
        return [StartupFile("powershell", folder / "profile.ps1", False, folder)]
    documents = ctx.home / "Documents"
    core, desktop = documents / "PowerShell", documents / "WindowsPowerShell"  # 7+, and 5.1 (in Windows)
    return [StartupFile("powershell", core / "profile.ps1", False, core),
            StartupFile("powershell", desktop / "profile.ps1", True, desktop)]


def startup_files(ctx: Context) -> list[StartupFile]:
    """Every file the block may live in, those of the user's shell first."""
    zdotdir = ctx.environ.get("ZDOTDIR", "")
    zsh_home = ctx.path(zdotdir) if zdotdir and ctx.path(zdotdir).is_absolute() else ctx.home
    fish = ctx.xdg_config_home / "fish"
    files = [
        *_bash_files(ctx),
        StartupFile("zsh", zsh_home / ".zshrc", True, zsh_home / ".zshrc"),
        StartupFile("fish", fish / "conf.d" / "mirrorctl.fish", True, fish),
        *_powershell_files(ctx),
    ]
    login = _login_shell(ctx)
    return sorted(files, key=lambda f: f.shell != login)


def has_block(f: StartupFile) -> bool:
    try:
        data = read_file(f.path)
    except MirrorctlError:  # cannot be read: no block there as far as anyone can tell (status names it)
        return False
    try:
        return shellrc.read_block(data, f.path, BLOCK) is not None
    except ConfigFileError:  # a broken block is still ours: `use` names the problem
        return True


def _unreadable(f: StartupFile, exc: MirrorctlError) -> UnsupportedError:
    """A start-up file ``use`` must write but cannot read. An UnsupportedError, so that a plain
    ``mirrorctl use`` leaves pipenv as it is (with a warning) and switches the other tools; with
    ``--tool pipenv`` it fails, with the exit code of the reading error."""
    return UnsupportedError(exc.message, exit_code=exc.exit_code,
                            hint=_("{variable} is kept in your {shell} start-up file: fix that file's owner, permissions or "
                                   "link, or use `mirrorctl env` / `mirrorctl exec`")
                                 .format(variable=VARIABLE, shell=f.shell))


def _block_lines(shell: str, url: str) -> list[str]:
    return [f"# {VARIABLE} for pipenv, set by mirrorctl; `mirrorctl reset --tool pipenv` removes this block",
            shellquote.assignment(shell, VARIABLE, url)]


# -- a URL with a credential: kept in a private file the block sources -------------------------

def has_credential(url: str) -> bool:
    """Whether ``url`` carries a user name, token or password (what ``mask_url`` hides)."""
    return urls.mask_url(url) != url


def _syntax(shell: str) -> str:
    """The syntax of a shell's lines: bash and zsh share the POSIX one (and one private file)."""
    return "sh" if shell in ("bash", "zsh", "sh") else shell


def private_path(ctx: Context, shell: str) -> Path:
    """The private file that holds the assignment for ``shell``'s syntax, in mirrorctl's config folder."""
    return mirrorctl_config_dir(ctx) / PRIVATE_FILES[_syntax(shell)]


def _source_block_lines(shell: str, private: PurePath) -> list[str]:
    return [f"# {VARIABLE} for pipenv, set by mirrorctl; `mirrorctl reset --tool pipenv` removes this block",
            f"# the URL holds a credential: it is kept in {private} (owner-only), not in this file",
            shellquote.source_line(shell, str(private))]


def _private_text(syntax: str, url: str, newline: str) -> bytes:
    shell = "bash" if syntax == "sh" else syntax
    lines = [f"# {VARIABLE} for pipenv, written by mirrorctl. The URL holds a credential, so it is kept",
             "# here, readable by you only, and your shell start-up file sources this file.",
             "# `mirrorctl reset --tool pipenv` removes it; do not publish it.",
             shellquote.assignment(shell, VARIABLE, url)]
    return "".join(line + newline for line in lines).encode("utf-8")


def _plan_private(ctx: Context, url: Optional[str], needed: set[str]) -> list[FileChange]:
    """The private files: written for the syntaxes in ``needed`` (``url`` holds the credential),
    removed where they are not needed any more (a switch to a URL without one, reset)."""
    changes = []
    for syntax in PRIVATE_FILES:
        path = private_path(ctx, syntax)
        try:
            before = read_file(path)
        except MirrorctlError:
            if syntax in needed:
                raise
            continue  # not ours to judge: it stays, and nothing sources it
        if syntax in needed and url is not None:
            newline = "\r\n" if ctx.windows and syntax == "powershell" else "\n"
            # private: the transaction makes it owner-only before the credential reaches the disk;
            # mode: a new one is created owner-only in any case
            changes.append(FileChange(path, before, _private_text(syntax, url, newline), tool=NAME,
                                      scope=Scope.USER.value, mode=0o600, private=True))
        elif before is not None:
            changes.append(FileChange(path, before, None, tool=NAME, scope=Scope.USER.value))
    return changes


def _reload_hint(f: StartupFile) -> str:
    command = f". '{f.path}'" if f.shell == "powershell" else f"source {f.path}"
    return _("{variable} is set for new shells; for this one run: {command}").format(variable=VARIABLE,
                                                                                     command=command)


def plan_blocks(ctx: Context, mirror: Mirror) -> list[FileChange]:
    """The block in every start-up file that has it, of every shell set up, and of the user's shell."""
    login = _login_shell(ctx)
    secret = has_credential(mirror.url)
    needed: set[str] = set()
    changes = []
    for f in startup_files(ctx):
        wanted = f.present() or (f.default and f.shell == login)
        try:
            before = read_file(f.path)
        except MirrorctlError as exc:
            if not wanted:  # no block there that anyone can see; status names the file
                continue
            raise _unreadable(f, exc) from None
        if not wanted and shellrc.read_block(before, f.path, BLOCK) is None:
            continue
        newline = "\r\n" if ctx.windows and f.shell == "powershell" else "\n"
        if secret:
            needed.add(_syntax(f.shell))
            body = _source_block_lines(f.shell, private_path(ctx, f.shell))
        else:
            body = _block_lines(f.shell, mirror.url)
        after = shellrc.set_block(before, body, f.path, BLOCK, newline=newline)
        changes.append(FileChange(f.path, before, after, tool=NAME, scope=Scope.USER.value))  # type: ignore[arg-type]
    if not changes:
        raise UnsupportedError(_("no shell start-up file to keep {variable} in: SHELL is {value}, and no bash, zsh, fish "
                                 "or PowerShell start-up file exists")
                               .format(variable=VARIABLE, value=ctx.environ.get('SHELL') or _('not set')), hint=_("set SHELL, or use `mirrorctl env` / `mirrorctl exec`"))
    first_changed = next((c for c in changes if c.changed), None)
    if first_changed is not None:
        f = next(f for f in startup_files(ctx) if f.path == first_changed.path)
        first_changed.notes.append(_reload_hint(f))
    private = _plan_private(ctx, mirror.url if secret else None, needed)
    written = next((c for c in private if c.changed and c.after is not None), None)
    if written is not None:
        written.notes.append(_("the URL holds a credential: {variable} is kept in {path} (owner-only), which your shell "
                               "start-up files source, not in the start-up files themselves")
                             .format(variable=VARIABLE, path=written.path))
    return private + changes


def plan_remove_blocks(ctx: Context) -> list[FileChange]:
    changes = []
    for f in startup_files(ctx):
        try:
            before = read_file(f.path)
        except MirrorctlError:  # no block there that anyone can see (status names the file)
            continue
        after = shellrc.remove_block(before, f.path, BLOCK)
        if after != before:
            changes.append(FileChange(f.path, before, after, tool=NAME, scope=Scope.USER.value))  # type: ignore[arg-type]
    return _plan_private(ctx, None, set()) + changes


# -- status -------------------------------------------------------------------------------

def _private_value(path: PurePath, shell: str, overlay: Optional[Overlay]) -> Optional[str]:
    """The last value a private file assigns to the variable (None: absent, or none there)."""
    data = read_file(path, overlay)
    value = None
    for line in (data or b"").decode("utf-8", "surrogateescape").splitlines():
        parsed = shellquote.parse_assignment(shell, line)
        if parsed and parsed[0] == VARIABLE:
            value = parsed[1] or None
    return value


def _block_value(ctx: Context, f: StartupFile, data: Optional[bytes],
                 overlay: Optional[Overlay] = None) -> tuple[Optional[str], Optional[PurePath]]:
    """The value the block sets, and the private file it comes from (None: the block's own line)."""
    for line in shellrc.read_block(data, f.path, BLOCK) or []:
        parsed = shellquote.parse_assignment(f.shell, line)
        if parsed and parsed[0] == VARIABLE and parsed[1]:
            return parsed[1], None
        sourced = shellquote.parse_source_line(f.shell, line)
        if sourced is not None:
            path = ctx.path(sourced)
            return _private_value(path, f.shell, overlay), path
    return None, None


def block_settings(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> tuple[list[Setting], set[str]]:
    """The blocks' settings (the user's shell first), and the values the blocks on disk hold now.
    A value kept in a private file has that file as its origin (listed after the start-up file)."""
    settings, on_disk = [], set()
    for f in startup_files(ctx):
        info = FileInfo(path=str(f.path), kind=f"user ({f.shell})", exists=False)
        st.files.append(info)
        data = read_recorded(f.path, overlay, info)
        if info.error:
            st.warnings.append(_("{error}; mirrorctl cannot tell whether it sets {variable}")
                               .format(error=info.error, variable=VARIABLE))
            continue
        try:
            value, private = _block_value(ctx, f, data, overlay)
            disk = _block_value(ctx, f, read_file(f.path))[0] if overlay else value
        except MirrorctlError as exc:
            info.error = exc.message
            st.warnings.append(exc.message)
            continue
        if disk:
            on_disk.add(disk)
        where = f.path
        if private is not None:
            if not any(other.path == str(private) for other in st.files):
                st.files.append(FileInfo(path=str(private), kind=_("user (private, sourced by {path})").format(path=f.path),
                                         exists=value is not None or exists(private)))
            if value is None:
                st.warnings.append(_("{path} sources {private}, which does not set {variable}")
                                   .format(path=f.path, private=private, variable=VARIABLE))
            where = private
        if value:
            target = next(i for i in st.files if i.path == str(where))
            target.values[VARIABLE] = value
            settings.append(Setting(value, Origin("file", str(where), variable=VARIABLE), scope="user"))
    return settings, on_disk
