"""pipenv: the Pipfile's ``[[source]]`` (project scope) and ``PIPENV_PYPI_MIRROR`` (user scope).

How pipenv decides its index (pipenv's own code; checked against the real pipenv in the tests):

- The first ``[[source]]`` of the Pipfile is the index, the others are extra indexes. A Pipfile
  without one gets the official index.
- ``PIPENV_PYPI_MIRROR`` replaces, at run time, every source whose url is the official index
  (``https?://pypi.org/simple`` or ``pypi.python.org``, with or without the trailing slash). The
  Pipfile and Pipfile.lock keep the official url; any other source is left alone.
- pipenv has no configuration file for it: the variable comes from the environment, or from the
  project's ``.env`` (``PIPENV_DOTENV_LOCATION`` moves it; ``PIPENV_DONT_LOAD_ENV`` turns it
  off). A value already in the environment wins over the ``.env``'s.
- pip.conf and ``PIP_INDEX_URL`` do not apply to an existing Pipfile's sources.

So ``--scope project`` rewrites the first Pipfile source that points at the official index or a
catalogue mirror, or is named ``pypi`` (not always the first source: see :func:`_plan_pipfile`),
through the shared TOML editor (``formats/toml.py``: strict read, byte-exact round trip, only
that source changed); ``--scope user`` keeps the variable in one managed block of the user's shell start-up files (see
:func:`startup_files`). A start-up file that cannot be read has no block as far as ``in_use``,
``status`` and ``reset`` can tell; only a ``use`` that must write it fails, naming it.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Optional

from mirrorctl import urls
from mirrorctl.catalog import Catalog, Mirror, load_catalog
from mirrorctl.changes import FileChange, read_bytes
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, MirrorctlError, UnsupportedError, UsageError
from mirrorctl.formats import shellquote, shellrc, toml
from mirrorctl.targets.base import FileInfo, Origin, Overlay, Setting, ToolStatus, on_path, read_with_overlay

NAME = "pipenv"
name = NAME
scopes = (Scope.USER, Scope.PROJECT)
VARIABLE = "PIPENV_PYPI_MIRROR"
OFFICIAL = "https://pypi.org/simple"
BLOCK = shellrc.markers("mirrorctl pipenv")
_OFFICIAL_RE = re.compile(r"https?://pypi(?:\.python)?\.org/simple/?\Z")  # pipenv's is_pypi_url
_FALSE = ("", "0", "false", "no", "off")


def is_official(url: str) -> bool:
    """Whether ``PIPENV_PYPI_MIRROR`` replaces a source with this url (pipenv's own test)."""
    return bool(_OFFICIAL_RE.match(url))


def environment(mirror: Mirror) -> dict[str, str]:
    return {VARIABLE: mirror.url}


def in_use(ctx: Context, scope: Scope) -> bool:
    """Project: the folder has a Pipfile (pipenv on PATH alone says nothing about this project).
    User: pipenv is on PATH, or a start-up file already has the block (one that cannot be read
    has none, as far as anyone can tell)."""
    if scope == Scope.PROJECT:
        try:
            return Path(pipfile_path(ctx)).is_file()
        except OSError:  # cannot even be looked at: not a project mirrorctl can work on
            return False
    return on_path(ctx, NAME) or any(_has_block(f) for f in startup_files(ctx))


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list[FileChange]:
    if scope == Scope.PROJECT:
        return [_plan_pipfile(ctx, mirror.url)]
    if scope == Scope.USER:
        return _plan_startup_files(ctx, mirror)
    raise UsageError(f"pipenv has no {scope.value} scope", hint="use --scope user or project")


def plan_reset(ctx: Context, scope: Scope) -> list[FileChange]:
    if scope == Scope.PROJECT:
        return [_plan_pipfile(ctx, None)]
    if scope == Scope.USER:
        return _plan_remove_blocks(ctx)
    raise UsageError(f"pipenv has no {scope.value} scope", hint="use --scope user or project")


# -- the Pipfile (project scope) ---------------------------------------------------------

def pipfile_path(ctx: Context) -> PurePath:
    """The Pipfile of the project folder (``--project``, default: here). Unlike pipenv, mirrorctl
    does not look in parent folders: it edits the file of the folder it is pointed at."""
    return ctx.project_dir() / "Pipfile"


def _cannot_read(path: PurePath, exc: OSError) -> ConfigFileError:
    """A bare OSError reading ``path`` (a symlink loop, an I/O error) as one line naming the file."""
    reason = "a symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or type(exc).__name__)
    return ConfigFileError(f"{path}: cannot be read ({reason})", hint="look at that file (ls -l)")


def _read_file(path: PurePath, overlay: Optional[Overlay] = None) -> Optional[bytes]:
    """The file's bytes (None: absent; through ``overlay`` when given). Every failure to read it
    is a MirrorctlError naming it: read_bytes' own, or a bare OSError turned into one."""
    try:
        return read_with_overlay(Path(path), overlay) if overlay is not None else read_bytes(Path(path))
    except MirrorctlError:
        raise
    except OSError as exc:
        raise _cannot_read(path, exc) from None


def _sources(data: dict, path: PurePath) -> list:
    """The ``[[source]]`` tables of the Pipfile's plain data, each checked to have a url."""
    sources = data.get("source", [])
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise ConfigFileError(f"{path}: 'source' must be a list of tables ([[source]])",
                              hint="pipenv cannot read it either; fix it by hand")
    for number, source in enumerate(sources, 1):
        if not isinstance(source.get("url"), str):
            raise ConfigFileError(f"{path}: [[source]] #{number} has no url",
                                  hint="pipenv cannot read it either; fix it by hand")
    return sources


def _editable_sources(doc: toml.TomlDocument) -> list:
    """The sources as tomlkit tables (``[[source]]``, or inline tables of ``source = [...]``), in
    the order of :func:`_sources` (the round-trip guard has made sure both read the same file)."""
    root = doc.root
    return list(root["source"]) if "source" in root else []


def _like(old, url: str):
    """``url`` as a TOML string in the quote style of ``old`` where it can be."""
    import tomlkit

    literal = hasattr(old, "as_string") and old.as_string().startswith("'") and "'" not in url
    return tomlkit.string(url, literal=literal)


# the keys of the one source the edit rewrites; everything else must come out as it went in
_OWNED_KEYS = ("url", "verify_ssl")


def _point(source, url: str) -> None:
    """Point one source (a tomlkit table) at ``url``, its verify_ssl to match. The url is left as
    it is when it names the same index already (a trailing slash, say)."""
    if not urls.same_index(source["url"], url):
        source["url"] = _like(source["url"], url)
    verify = url.lower().startswith("https:")
    if source.get("verify_ssl") is not verify:
        source["verify_ssl"] = verify


def _new_source(doc: toml.TomlDocument, url: str) -> None:
    """A ``[[source]]`` named ``pypi`` at the end of the file, one blank line before it; or, in
    an empty inline ``source = []``, one inline table."""
    values = {"name": "pypi", "url": url, "verify_ssl": url.lower().startswith("https:")}
    if "source" in doc.root:  # no source, yet the key is there: an empty inline array
        import tomlkit

        table = tomlkit.inline_table()
        table.update(values)
        doc.root["source"].append(table)
        return
    toml.add_array_table(doc.root, "source", values)


def _switchable(catalog: Catalog, url: str) -> bool:
    """The official index, or a catalogue mirror (also in the http:// form older guides give)."""
    return is_official(url) or catalog.match_url(re.sub(r"^http:", "https:", url, flags=re.IGNORECASE)) is not None


# the name pipenv gives the default source of every Pipfile it creates: the public-index slot
PUBLIC_SLOT = "pypi"


def _managed_source(catalog: Catalog, sources: list) -> Optional[int]:
    """The source ``use`` and ``reset`` rewrite: the first, in file order, that points at the
    official index or a catalogue mirror, or that is named ``pypi`` (pipenv's public-index slot,
    wherever it points: a mirror missing from the catalogue is still a mirror of the public
    index, and leaving it would let ``use`` report success, and ``--check`` "already", while
    pipenv keeps fetching from it). None when every source is private."""
    return next((i for i, s in enumerate(sources)
                 if _switchable(catalog, s["url"]) or s.get("name") == PUBLIC_SLOT), None)


def _plan_pipfile(ctx: Context, url: Optional[str]) -> FileChange:
    """``url`` None: put the official index back (reset).

    The source rewritten is the one :func:`_managed_source` picks, which need not be the first
    source (pipenv's index): a private first source is left alone, and ``use`` then warns that
    pipenv still uses it. The Pipfile is read and written by
    ``formats/toml.py``: tomllib first (a duplicate key, bad UTF-8: a ConfigFileError naming the
    file, nothing written), then tomlkit, refused unless it gives the file back byte for byte,
    and the result checked to differ only in that source's url and verify_ssl."""
    path = pipfile_path(ctx)
    before = _read_file(path)
    if before is None:
        raise UsageError(f"no Pipfile in {ctx.project_dir()}",
                         hint="run in the project folder or pass --project DIR; `pipenv install` creates one")
    doc = toml.TomlDocument(before, path)
    catalog = load_catalog(ctx)
    sources = _sources(doc.data_before, path)
    index = _managed_source(catalog, sources)
    if index is None and url is not None and sources:
        raise UnsupportedError(f"{path}: no [[source]] points at the official index or a known mirror, or is "
                               f"named {PUBLIC_SLOT!r}, and private sources are left alone",
                               hint="edit the Pipfile's source by hand")
    notes = []
    if index is not None:
        old = sources[index]["url"]
        _point(_editable_sources(doc)[index], url or OFFICIAL)
        if not _switchable(catalog, old) and not urls.same_index(old, url or OFFICIAL):
            notes.append(f"{path}: source {PUBLIC_SLOT!r} pointed at {urls.mask_url(old)}, which is not in the "
                         f"catalogue; `mirrorctl undo` puts it back, `mirrorctl add NAME URL` names it")
    elif url is not None:  # use on a Pipfile without sources (reset of one has nothing to put back)
        _new_source(doc, url)
    # the shared check covers everything outside the sources; _check_sources the sources themselves
    after = doc.after(owned=[("source",)], remove_if_blank=False)
    if after != before:
        _check_sources(path, sources, _sources(toml.loads(after, path), path), index)
    change = FileChange(path, before, after, tool=NAME, scope=Scope.PROJECT.value,  # type: ignore[arg-type]
                        notes=notes if after != before else [])
    lock = Path(path).with_name("Pipfile.lock")
    if change.changed and lock.exists():
        change.notes.append(f"{lock} still records the old source url: run `pipenv lock`")
    return change


def _check_sources(path: PurePath, old: list, new: list, index: Optional[int]) -> None:
    """The sources after the edit differ from ``old`` only in the url and verify_ssl of source
    ``index``, or (``index`` None, no source before) by the one source added."""
    def mine(sources: list) -> list:
        return [{k: v for k, v in s.items() if i != index or k not in _OWNED_KEYS} for i, s in enumerate(sources)]

    if index is None:
        ok = not old and len(new) == 1 and set(new[0]) == {"name", *_OWNED_KEYS} and new[0]["name"] == "pypi"
    else:
        ok = len(new) == len(old) and mine(new) == mine(old)
    if not ok:
        raise ConfigFileError(f"{path}: the edit would change settings mirrorctl does not manage; nothing was written",
                              hint="please report this file to mirrorctl")


# -- the shell start-up files (user scope) ------------------------------------------------

@dataclass(frozen=True)
class StartupFile:
    shell: str  # bash, zsh, fish, powershell
    path: PurePath
    default: bool  # written when this shell is the user's, even if absent
    setup: PurePath  # exists when the user has set this shell up (the file, or its folder)

    def present(self) -> bool:
        return _exists(self.setup)


def _exists(path: PurePath) -> bool:
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
    login = next((home / n for n in (".bash_profile", ".bash_login", ".profile") if _exists(home / n)),
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


def _has_block(f: StartupFile) -> bool:
    try:
        data = _read_file(f.path)
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
                            hint=f"{VARIABLE} is kept in your {f.shell} start-up file: fix that file's owner, "
                                 f"permissions or link, or use `mirrorctl env` / `mirrorctl exec`")


def _block_lines(shell: str, url: str) -> list[str]:
    return [f"# {VARIABLE} for pipenv, set by mirrorctl; `mirrorctl reset --tool pipenv` removes this block",
            shellquote.assignment(shell, VARIABLE, url)]


def _reload_hint(f: StartupFile) -> str:
    command = f". '{f.path}'" if f.shell == "powershell" else f"source {f.path}"
    return f"{VARIABLE} is set for new shells; for this one run: {command}"


def _plan_startup_files(ctx: Context, mirror: Mirror) -> list[FileChange]:
    """The block in every start-up file that has it, of every shell set up, and of the user's shell."""
    login = _login_shell(ctx)
    changes = []
    for f in startup_files(ctx):
        wanted = f.present() or (f.default and f.shell == login)
        try:
            before = _read_file(f.path)
        except MirrorctlError as exc:
            if not wanted:  # no block there that anyone can see; status names the file
                continue
            raise _unreadable(f, exc) from None
        if not wanted and shellrc.read_block(before, f.path, BLOCK) is None:
            continue
        newline = "\r\n" if ctx.windows and f.shell == "powershell" else "\n"
        after = shellrc.set_block(before, _block_lines(f.shell, mirror.url), f.path, BLOCK, newline=newline)
        changes.append(FileChange(f.path, before, after, tool=NAME, scope=Scope.USER.value))  # type: ignore[arg-type]
    if not changes:
        raise UnsupportedError(f"no shell start-up file to keep {VARIABLE} in: SHELL is "
                               f"{ctx.environ.get('SHELL') or 'not set'}, and no bash, zsh, fish or PowerShell "
                               f"start-up file exists", hint="set SHELL, or use `mirrorctl env` / `mirrorctl exec`")
    first_changed = next((c for c in changes if c.changed), None)
    if first_changed is not None:
        f = next(f for f in startup_files(ctx) if f.path == first_changed.path)
        first_changed.notes.append(_reload_hint(f))
    return changes


def _plan_remove_blocks(ctx: Context) -> list[FileChange]:
    changes = []
    for f in startup_files(ctx):
        try:
            before = _read_file(f.path)
        except MirrorctlError:  # no block there that anyone can see (status names the file)
            continue
        after = shellrc.remove_block(before, f.path, BLOCK)
        if after != before:
            changes.append(FileChange(f.path, before, after, tool=NAME, scope=Scope.USER.value))  # type: ignore[arg-type]
    return changes


# -- status ------------------------------------------------------------------------------

def _read(path: PurePath, overlay: Optional[Overlay], info: FileInfo) -> Optional[bytes]:
    """The file's bytes (through the overlay), recording in ``info`` whether it exists or fails."""
    try:
        data = _read_file(path, overlay)
    except MirrorctlError as exc:
        info.error = exc.message
        info.exists = _exists(path)
        return None
    info.exists = data is not None
    return data


def _block_value(f: StartupFile, data: Optional[bytes]) -> Optional[str]:
    for line in shellrc.read_block(data, f.path, BLOCK) or []:
        parsed = shellquote.parse_assignment(f.shell, line)
        if parsed and parsed[0] == VARIABLE and parsed[1]:
            return parsed[1]
    return None


def _block_settings(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> tuple[list[Setting], set[str]]:
    """The blocks' settings (the user's shell first), and the values the blocks on disk hold now."""
    settings, on_disk = [], set()
    for f in startup_files(ctx):
        info = FileInfo(path=str(f.path), kind=f"user ({f.shell})", exists=False)
        st.files.append(info)
        data = _read(f.path, overlay, info)
        if info.error:
            st.warnings.append(f"{info.error}; mirrorctl cannot tell whether it sets {VARIABLE}")
            continue
        try:
            value = _block_value(f, data)
            disk = _block_value(f, _read_file(f.path)) if overlay else value
        except MirrorctlError as exc:
            info.error = exc.message
            st.warnings.append(exc.message)
            continue
        if disk:
            on_disk.add(disk)
        if value:
            info.values[VARIABLE] = value
            settings.append(Setting(value, Origin("file", str(f.path), variable=VARIABLE), scope="user"))
    return settings, on_disk


def _dotenv_value(text: str) -> Optional[str]:
    """The last ``PIPENV_PYPI_MIRROR=`` of a .env file (python-dotenv's syntax, as pipenv loads it)."""
    value = None
    for line in text.splitlines():
        match = re.fullmatch(rf"\s*(?:export\s+)?{VARIABLE}\s*=\s*(.*)", line)
        if not match:
            continue
        raw = match.group(1).strip()
        if raw[:1] in ("'", '"'):
            end = raw.find(raw[0], 1)
            value = raw[1:end] if end > 0 else raw[1:]
        else:
            value = re.split(r"\s#", raw, maxsplit=1)[0].strip()
    return value or None


def _dotenv_setting(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> Optional[Setting]:
    location = ctx.environ.get("PIPENV_DOTENV_LOCATION", "")
    path = ctx.cwd / ctx.path(location) if location else ctx.project_dir() / ".env"
    info = FileInfo(path=str(path), kind="dotenv", exists=False)
    st.files.append(info)
    if ctx.environ.get("PIPENV_DONT_LOAD_ENV", "").strip().lower() not in _FALSE:
        info.skipped = "PIPENV_DONT_LOAD_ENV is set: pipenv does not load it"
    data = _read(path, overlay, info)
    value = _dotenv_value(data.decode("utf-8", "replace")) if data is not None else None
    if value is None:
        return None
    info.values[VARIABLE] = value
    if info.skipped:
        return None
    return Setting(value, Origin("file", str(path), variable=VARIABLE), scope="project")


def _mirror_settings(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> list[Setting]:
    """Every PIPENV_PYPI_MIRROR definition, the one pipenv uses first.

    The environment beats the project's .env (pipenv loads .env but keeps the mirror it started
    with). A value in the environment that a managed block put there is reported as that block,
    so a switch shows the block's new value (and says this shell still has the old one)."""
    env_value = ctx.environ.get(VARIABLE, "")
    dotenv = _dotenv_setting(ctx, overlay, st)
    blocks, on_disk = _block_settings(ctx, overlay, st)
    from_block = env_value in on_disk
    out = []
    if env_value and not from_block:
        out.append(Setting(env_value, Origin("env", variable=VARIABLE), scope="env"))
    out.extend(blocks)
    if from_block and (not blocks or blocks[0].value != env_value):
        st.warnings.append(f"this shell still has {VARIABLE}={urls.mask_url(env_value)}: "
                           f"open a new shell for the change to take effect")
    if dotenv is not None:
        out.append(dotenv)
    return out


def _where(setting: Setting) -> str:
    return "the environment" if setting.origin.kind == "env" else str(setting.origin.path)


def _source_origin(path: PurePath, source: dict) -> Origin:
    return Origin("file", str(path), section=f"source {source.get('name', '?')}")


def _pipfile_sources(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> Optional[list[dict]]:
    """The Pipfile's sources; None without a Pipfile."""
    path = pipfile_path(ctx)
    info = FileInfo(path=str(path), kind="project", exists=False)
    st.files.insert(0, info)
    data = _read(path, overlay, info)
    if info.error:
        raise ConfigFileError(info.error)
    if data is None:
        return None
    sources = _sources(toml.loads(data, path), path)
    for source in sources:
        info.values[f"source.{source.get('name', '?')}.url"] = source["url"]
    return sources


def _winner(st: ToolStatus, candidates: list[Setting]) -> Optional[Setting]:
    """The PIPENV_PYPI_MIRROR pipenv takes; the others are shadowed (a warning when they differ)."""
    if not candidates:
        return None
    winner = candidates[0]
    for other in candidates[1:]:
        st.shadowed.append(other)
        if other.value != winner.value:
            st.warnings.append(f"{_where(other)} sets {VARIABLE}={urls.mask_url(other.value)}, "
                               f"but pipenv uses the one from {_where(winner)}")
    return winner


def _project_index(st: ToolStatus, catalog: Catalog, path: PurePath, sources: list[dict],
                   mirror: Optional[Setting]) -> None:
    """The project's index: its first source, unless the variable replaces it (the official index)."""
    used = [mirror.value if mirror and is_official(s["url"]) else s["url"] for s in sources]
    st.extra_index_urls = used[1:]
    st.details["sources"] = [{"name": s.get("name"), "url": urls.mask_url(s["url"]),
                              "verify_ssl": s.get("verify_ssl"), "used_url": urls.mask_url(u)}
                             for s, u in zip(sources, used)]
    if not sources:  # pipenv's implicit source: the official index
        implicit = mirror or Setting(OFFICIAL, Origin("default"))
        _decide(st, catalog, implicit.value, implicit.origin)
        return
    first, origin = sources[0], _source_origin(path, sources[0])
    if mirror and is_official(first["url"]):
        _decide(st, catalog, mirror.value, mirror.origin)
        st.shadowed.append(Setting(first["url"], origin, scope="project"))
        return
    _decide(st, catalog, first["url"], origin)
    if mirror:
        st.shadowed.append(mirror)
    if mirror and not urls.same_index(mirror.value, first["url"]):
        st.warnings.append(f"{VARIABLE} (from {_where(mirror)}) has no effect here: the Pipfile's source "
                           f"{first.get('name', '?')!r} is {urls.mask_url(first['url'])}, not the official index")


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    st = ToolStatus(tool=NAME, index_url=None, mirror=None, origin=Origin("default"))
    mirror = _winner(st, _mirror_settings(ctx, overlay, st))
    try:
        sources = _pipfile_sources(ctx, overlay, st)
    except ConfigFileError as exc:
        st.error = exc.message
        st.warnings.append(f"pipenv cannot run until this is fixed: {exc.message}")
        return st
    path = pipfile_path(ctx)
    st.details = {"pipfile": str(path) if sources is not None else None, "sources": []}
    if sources is not None:
        _project_index(st, catalog, path, sources, mirror)
    elif mirror is not None:  # no project here: the variable is all there is
        _decide(st, catalog, mirror.value, mirror.origin)
    return st


def _decide(st: ToolStatus, catalog: Catalog, url: str, origin: Origin) -> None:
    st.index_url = url
    st.origin = origin
    match = catalog.match_url(url)
    st.mirror = match.name if match else None
