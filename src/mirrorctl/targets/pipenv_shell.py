"""pipenv at user scope: ``PIPENV_PYPI_MIRROR`` in one managed block of the user's shell
start-up files (bash, zsh, fish, PowerShell), and how ``status`` reads it back.

pipenv has no configuration file for its mirror: the variable comes from the environment, so the
user scope keeps it where new shells set it. The block goes into every start-up file that has it,
of every shell set up, and of the user's login shell (see :func:`startup_files`): for bash both
``~/.bashrc`` (interactive shells) and the login file bash reads (``bash -l``, ssh, macOS
Terminal), for zsh ``.zshenv`` (every zsh, ``zsh -lc`` included), for fish a ``conf.d`` file.
``status`` marks a value the running environment does not have yet (:class:`StartupOrigin`),
with the command that sets it in this shell. A start-up file
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
from mirrorctl.i18n import _
from mirrorctl.targets.base import FileInfo, Origin, Overlay, Setting, ToolStatus, read_with_overlay

NAME = "pipenv"
VARIABLE = "PIPENV_PYPI_MIRROR"
BLOCK = shellrc.markers("mirrorctl pipenv")
# the private file a block sources when the URL holds a credential, by the syntax of its lines
PRIVATE_FILES = {"sh": "pipenv-mirror.sh", "fish": "pipenv-mirror.fish", "powershell": "pipenv-mirror.ps1"}


# -- reading ------------------------------------------------------------------------------

def _cannotread_recorded(path: PurePath, exc: OSError) -> ConfigFileError:
    """A bare OSError reading ``path`` (a symlink loop, an I/O error) as one line naming the file."""
    reason = _("a symlink loop") if exc.errno == errno.ELOOP else (exc.strerror or type(exc).__name__)
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
    shell: str  # whose lines: bash, zsh, fish, powershell
    path: PurePath
    # written, even when absent, when the user's login shell is one of these
    for_login: tuple[str, ...] = ()
    # written when any of these exists (the user has set the shell up); empty: the file is
    # only kept in step (and cleaned by reset) when it already has the block
    setup: tuple[PurePath, ...] = ()

    def present(self) -> bool:
        return any(exists(p) for p in self.setup)

    def wanted(self, login: Optional[str]) -> bool:
        """Whether ``use`` writes the block here (it is updated wherever it already is in any case)."""
        return login in self.for_login or self.present()


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


# the files a bash login shell reads, in bash's order: it reads the first that exists, and only that
BASH_LOGIN_FILES = (".bash_profile", ".bash_login", ".profile")


def bash_login_file(ctx: Context) -> PurePath:
    """The file a bash login shell reads (``bash -l``, macOS Terminal, ssh, Git Bash): the first
    of :data:`BASH_LOGIN_FILES` that exists. When none does, ``~/.profile``: bash reads it then,
    so do sh, dash and ksh login shells and the display managers that source it for a desktop
    session, and it shadows nothing (a new ``~/.bash_profile`` would hide a ``~/.profile`` the
    user or an installer writes later)."""
    home = ctx.home
    return next((home / n for n in BASH_LOGIN_FILES if exists(home / n)), home / ".profile")


def _bash_files(ctx: Context) -> list[StartupFile]:
    """``~/.bashrc`` (interactive shells that are not login shells) and the login file bash reads;
    the other login files only when they already have the block (kept in step, cleaned by reset).
    A login file that sources ``~/.bashrc`` runs both blocks: the same value twice, harmless."""
    home = ctx.home
    rc, login = home / ".bashrc", bash_login_file(ctx)
    files = [StartupFile("bash", rc, ("bash",), (rc,)),
             StartupFile("bash", login, ("bash", "sh") if login.name == ".profile" else ("bash",), (login,))]
    return files + [StartupFile("bash", home / n) for n in BASH_LOGIN_FILES if home / n != login]


def _zsh_files(ctx: Context) -> list[StartupFile]:
    """``.zshenv``, which every zsh reads (interactive, login, ``zsh -c``); ``.zshrc`` is read by
    interactive shells only (``zsh -lc`` skips it), so it is kept in step only when it already
    has the block. Both in ``$ZDOTDIR`` when it is set; ``~/.zshenv`` too when it exists then."""
    zdotdir = ctx.environ.get("ZDOTDIR", "")
    home = ctx.home
    folder = ctx.path(zdotdir) if zdotdir and ctx.path(zdotdir).is_absolute() else home
    env = folder / ".zshenv"
    files = [StartupFile("zsh", env, ("zsh",), (env, folder / ".zshrc", folder / ".zprofile")),
             StartupFile("zsh", folder / ".zshrc")]
    if folder != home:
        files.append(StartupFile("zsh", home / ".zshenv", (), (home / ".zshenv",)))
    return files


def _powershell_files(ctx: Context) -> list[StartupFile]:
    """The current user's all-hosts profile (profile.ps1) of each PowerShell."""
    if not ctx.windows:
        folder = ctx.xdg_config_home / "powershell"
        return [StartupFile("powershell", folder / "profile.ps1", (), (folder,))]
    documents = ctx.home / "Documents"
    core, desktop = documents / "PowerShell", documents / "WindowsPowerShell"  # 7+, and 5.1 (in Windows)
    return [StartupFile("powershell", core / "profile.ps1", (), (core,)),
            StartupFile("powershell", desktop / "profile.ps1", ("powershell",), (desktop,))]


def startup_files(ctx: Context) -> list[StartupFile]:
    """Every file the block may live in, those of the user's shell first. fish reads every
    ``conf.d`` file at each start, interactive, login or ``fish -c``."""
    fish = ctx.xdg_config_home / "fish"
    files = [
        *_bash_files(ctx),
        *_zsh_files(ctx),
        StartupFile("fish", fish / "conf.d" / "mirrorctl.fish", ("fish",), (fish,)),
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
    return _("{variable} is set for new shells; for this one run: {command}").format(variable=VARIABLE, command=command)


def plan_blocks(ctx: Context, mirror: Mirror) -> list[FileChange]:
    """The block in every start-up file that has it, of every shell set up, and of the user's shell."""
    login = _login_shell(ctx)
    secret = has_credential(mirror.url)
    needed: set[str] = set()
    changes = []
    for f in startup_files(ctx):
        wanted = f.wanted(login)
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


@dataclass
class StartupOrigin(Origin):
    """A value a shell start-up file (or the private file it sources) sets. ``for_new_shells``:
    the command that sets it in the running shell, whose environment does not have it yet (new
    shells get it); None when the running environment has it already."""

    for_new_shells: Optional[str] = None


def reload_command(ctx: Context, value: str, private: Optional[PurePath]) -> str:
    """What sets the variable in the running shell (the user's login shell's syntax):
    ``eval "$(mirrorctl env NAME)"``; a value with a credential: sourcing its private file,
    so the credential is never shown."""
    shell = _login_shell(ctx) or "sh"
    if shell == "cmd":
        shell = "powershell"
    if private is not None:
        return (f"source {shellquote.quote(shell, str(private))}" if shell == "fish"
                else f". {shellquote.quote(shell, str(private))}")
    arg = _catalogue_name(ctx, value) or shellquote.quote(shell, value)
    if shell == "fish":
        return f"mirrorctl env {arg} | source"
    if shell == "powershell":
        return f"mirrorctl env {arg} --shell powershell | Out-String | Invoke-Expression"
    return f'eval "$(mirrorctl env {arg})"'


def _catalogue_name(ctx: Context, url: str) -> Optional[str]:
    from mirrorctl.catalog import load_catalog

    try:
        match = load_catalog(ctx).match_url(url)
    except MirrorctlError:  # a broken user catalogue: the URL says it as well
        return None
    return match.name if match else None


def _unread_login_block(ctx: Context, with_block: list[PurePath]) -> Optional[str]:
    """A block in a bash login file that bash no longer reads (an earlier one was created since)."""
    login = bash_login_file(ctx)
    if login in with_block:
        return None
    stale = next((ctx.home / n for n in BASH_LOGIN_FILES if ctx.home / n in with_block), None)
    if stale is None:
        return None
    return _("{stale} sets {variable}, but bash login shells read {login} instead (it comes first): "
             "run `mirrorctl use` again to write it there").format(stale=stale, variable=VARIABLE, login=login)


def block_settings(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> tuple[list[Setting], set[str]]:
    """The blocks' settings (the user's shell first; a value already given by an earlier block
    is not repeated: the same value in ``~/.bashrc`` and ``~/.profile`` is one setting), and the
    values the blocks on disk hold now. A value kept in a private file has that file as its
    origin (listed after the start-up file)."""
    settings: list[Setting] = []
    on_disk: set[str] = set()
    with_block: list[PurePath] = []
    running = ctx.environ.get(VARIABLE)
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
            with_block.append(f.path)
            target = next(i for i in st.files if i.path == str(where))
            target.values[VARIABLE] = value
            if any(s.value == value for s in settings):
                continue
            hint = reload_command(ctx, value, private) if running != value else None
            settings.append(Setting(value, StartupOrigin("file", str(where), variable=VARIABLE, for_new_shells=hint),
                                    scope="user"))
    stale = _unread_login_block(ctx, with_block)
    if stale:
        st.warnings.append(stale)
    return settings, on_disk
