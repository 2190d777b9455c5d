"""uv: ``uv.toml`` at user and system level, and the project's ``uv.toml`` or ``pyproject.toml [tool.uv]``.

How uv picks its default index (checked against the real uv, see tests/test_uv.py):

- ``UV_DEFAULT_INDEX``, then the deprecated ``UV_INDEX_URL``, beat every file.
- ``UV_CONFIG_FILE`` replaces every discovered file (even under ``UV_NO_CONFIG``); otherwise a
  true ``UV_NO_CONFIG`` disables them; otherwise uv merges the nearest project file (walking up
  from the project folder: ``uv.toml``, else a ``pyproject.toml`` that has ``[tool.uv]``; a
  ``uv.toml`` wins in one folder), the user file, and the first system file that exists.
- The default index is the first of: the variables; the ``[[index]]`` tables with
  ``default = true`` of every file, nearest file first; then one legacy ``index-url`` (the
  nearest file's; for ``uv pip`` a ``[pip] index-url`` in any file beats every top-level one).

``use`` writes one ``[[index]]`` named ``mirrorctl`` with ``default = true`` and removes the legacy
keys of that file that would contradict it (see docs/tools/uv.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Optional

from mirrorctl import urls
from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, MirrorctlError, UsageError
from mirrorctl.formats import toml
from mirrorctl.targets import uv_python
from mirrorctl.targets.base import (FileInfo, Origin, Overlay, Setting, ToolStatus, broken, on_path,
                                    read_with_overlay)
from mirrorctl.i18n import _

NAME = "uv"
name = NAME
scopes = (Scope.USER, Scope.GLOBAL, Scope.PROJECT)
OFFICIAL = "https://pypi.org/simple"
INDEX_NAME = "mirrorctl"  # the [[index]] mirrorctl owns
INSECURE_KEY = "allow-insecure-host"
PYPROJECT_TABLE = ("tool", "uv")
TRUE_WORDS = ("1", "true", "yes", "on", "y", "t")  # uv's boolean variables (clap's "boolish")
FALSE_WORDS = ("0", "false", "no", "off", "n", "f")
ENV_INDEX = ("UV_DEFAULT_INDEX", "UV_INDEX_URL")  # highest precedence first
PROJECT_COMMANDS = "sync"  # key in ToolStatus.commands for uv's project commands (lock, sync, add, run)


@dataclass(frozen=True)
class UvFile:
    kind: str  # "project", "user", "system" or "env" (UV_CONFIG_FILE)
    path: PurePath
    table: tuple = ()  # where uv's settings sit: () in uv.toml, ("tool", "uv") in pyproject.toml


# -- where uv looks ---------------------------------------------------------------------

def user_file(ctx: Context) -> PurePath:
    if ctx.windows:
        return ctx.appdata / "uv" / "uv.toml"
    return ctx.xdg_config_home / "uv" / "uv.toml"  # macOS too: uv follows XDG there


def system_files(ctx: Context) -> list:
    """Every system file uv may read, in its order; it reads only the first that exists.

    uv's ``system_config_file`` (checked by strace in tests/test_uv.py): on Linux and macOS,
    ``uv/uv.toml`` in each ``XDG_CONFIG_DIRS`` entry (``/etc/xdg`` when the variable is unset or
    empty; empty entries are skipped), then ``/etc/uv/uv.toml``. On Windows only
    ``%SYSTEMDRIVE%\\ProgramData\\uv\\uv.toml`` (none without SYSTEMDRIVE). uv also reads a relative
    entry, from the folder it runs in; ``ctx.xdg_config_dirs`` leaves those out, as the XDG spec
    says (``status`` names such a file when uv would read it: see :func:`_relative_system_file`)."""
    if ctx.windows:
        drive = ctx.environ.get("SYSTEMDRIVE")
        return [ctx.system(ctx.path(drive + "\\") / "ProgramData" / "uv" / "uv.toml")] if drive else []
    folders = [*ctx.xdg_config_dirs, ctx.path("/etc")]
    return [ctx.system(folder / "uv" / "uv.toml") for folder in folders]


def system_file(ctx: Context, overlay: Optional[Overlay] = None) -> Optional[PurePath]:
    """The system file uv reads (the first that exists), else the one ``use`` creates (None: uv
    reads none, on Windows without SYSTEMDRIVE)."""
    files = system_files(ctx)
    return next((p for p in files if _read(p, overlay) is not None), files[-1] if files else None)


def _relative_system_file(ctx: Context, overlay: Optional[Overlay]) -> Optional[tuple]:
    """(entry, file) when a relative ``XDG_CONFIG_DIRS`` entry gives uv, run in ``ctx.cwd``, the
    system file it reads: no entry before it has a uv.toml. mirrorctl does not follow it."""
    if ctx.windows:
        return None
    for entry in filter(None, ctx.environ.get("XDG_CONFIG_DIRS", "").split(":")):
        folder = ctx.path(entry)
        if folder.is_absolute():
            if _read(ctx.system(folder / "uv" / "uv.toml"), overlay) is not None:
                return None
        elif Path(ctx.cwd / folder / "uv" / "uv.toml").is_file():
            return entry, ctx.cwd / folder / "uv" / "uv.toml"
    return None


def project_file(ctx: Context, folder: Optional[PurePath] = None, overlay: Optional[Overlay] = None,
                 skipped: Optional[list] = None) -> Optional[UvFile]:
    """The file uv reads in one folder: uv.toml, else a pyproject.toml with [tool.uv], else None.

    A pyproject.toml uv cannot use (not TOML, or a [tool.uv] value of the wrong type) is a
    ConfigFileError; with ``skipped`` given, it is appended there as (path, message) instead and
    passed over, as uv does (with a warning). One that is not UTF-8 stops uv, and raises."""
    folder = folder if folder is not None else ctx.project_dir()
    uv_toml = folder / "uv.toml"
    if _read(uv_toml, overlay) is not None:
        return UvFile("project", uv_toml)
    pyproject = folder / "pyproject.toml"
    data = _read(pyproject, overlay)
    if data is None:
        return None
    text = toml.decode(data, pyproject)
    try:
        parsed = toml.parse_text(text, pyproject)
        if not _has_uv_table(parsed):
            return None
        check_types(parsed["tool"]["uv"], pyproject, PYPROJECT_TABLE)
    except ConfigFileError as exc:
        if skipped is None:
            raise
        skipped.append((pyproject, exc.message))
        return None
    return UvFile("project", pyproject, PYPROJECT_TABLE)


def discover_project(ctx: Context, overlay: Optional[Overlay] = None,
                     skipped: Optional[list] = None) -> Optional[UvFile]:
    """The nearest project file, walking up from the project folder, as uv does (see
    :func:`project_file` for ``skipped``)."""
    start = ctx.project_dir()
    for folder in [start, *start.parents]:
        found = project_file(ctx, folder, overlay, skipped)
        if found is not None:
            return found
    return None


def config_file(ctx: Context, scope: Scope) -> UvFile:
    """The file ``use`` writes for a scope."""
    if scope == Scope.USER:
        return UvFile("user", user_file(ctx))
    if scope == Scope.GLOBAL:
        system = system_file(ctx)
        if system is None:
            raise UsageError(_("SYSTEMDRIVE is not set: uv reads no system file"),
                             hint=_("set SYSTEMDRIVE (e.g. C:), or use --scope user"))
        return UvFile("system", system)
    if scope == Scope.PROJECT:
        folder = ctx.project_dir()
        if not Path(folder).is_dir():
            raise UsageError(_("{folder}: no such project folder").format(folder=folder), hint=_("check --project"))
        return project_file(ctx, folder) or UvFile("project", folder / "uv.toml")
    raise UsageError(_("uv has no {value} scope")
                     .format(value=scope.value), hint=_("use --scope user, global or project"))


def _has_uv_table(data: dict) -> bool:
    return isinstance(toml.value_at(data, PYPROJECT_TABLE), dict)


def _read(path: PurePath, overlay: Optional[Overlay]) -> Optional[bytes]:
    return read_with_overlay(Path(path), overlay)


def _boolish(ctx: Context, var: str) -> bool:
    """A boolean variable as uv reads it; a value uv rejects is an error, as in uv."""
    value = ctx.environ.get(var)
    if value is None or value.lower() in FALSE_WORDS:
        return False
    if value.lower() in TRUE_WORDS:
        return True
    raise UsageError(_("{var}={value!r} is not a boolean: uv refuses to run")
                     .format(var=var, value=value), hint=_("set {var} to 1 or 0").format(var=var))


# -- the types uv accepts ---------------------------------------------------------------

def check_types(settings: dict, path: PurePath, table: tuple = ()) -> None:
    """The keys mirrorctl reads or writes must have the types uv accepts, or uv refuses the whole
    file: a ConfigFileError naming the file and the key (``settings``: plain data)."""
    prefix = "".join(f"{part}." for part in table)

    def need(data: dict, key: str, kind: str, name: str = "", required: bool = False) -> None:
        toml.expect(data, key, kind, path=path, tool=NAME, name=prefix + (name or key), required=required)

    need(settings, "index-url", "string")
    need(settings, "extra-index-url", "array of strings")
    need(settings, "no-index", "boolean")
    need(settings, INSECURE_KEY, "array of strings")
    need(settings, "pip", "table")
    need(settings, uv_python.KEY, "string")
    pip = settings.get("pip", {})
    need(pip, "index-url", "string", "pip.index-url")
    need(pip, "extra-index-url", "array of strings", "pip.extra-index-url")
    need(pip, "no-index", "boolean", "pip.no-index")
    need(settings, "index", "array of tables")
    for number, index in enumerate(settings.get("index", [])):
        where = f"index[{number}]"
        need(index, "url", "string", f"{where}.url", required=True)
        need(index, "name", "string", f"{where}.name")
        need(index, "default", "boolean", f"{where}.default")
        need(index, "explicit", "boolean", f"{where}.explicit")


# -- planning -------------------------------------------------------------------------

def _is_ours(table) -> bool:
    return table.get("name") == INDEX_NAME


def _is_unnamed_default(table) -> bool:
    return "name" not in table and table.get("default") is True


def _point_at(settings, url: str, path) -> list:
    """Make mirrorctl's [[index]] the first default index of ``settings``; returns the URLs it replaced.

    Its own [[index]] is updated in place; without one, the file's unnamed default index (the
    form mirror guides give) is taken over in place, comments and all. A named default index of
    the user's stays, but mirrorctl's goes before it, so uv uses the mirror."""
    entries = toml.array_tables(settings, "index", path=path)
    keep = next((t for t in entries if _is_ours(t)), None) or next((t for t in entries if _is_unnamed_default(t)), None)

    def superseded(table) -> bool:  # a second one of ours, or another unnamed default index
        return table is not keep and (_is_ours(table) or _is_unnamed_default(table))

    replaced = [t.get("url") for t in toml.remove_array_tables(settings, "index", superseded, path=path)]
    if keep is not None:
        replaced.append(keep.get("url"))
        toml.set_value(keep, "url", url, keep_comment=False)
        toml.set_value(keep, "default", True)
        if "name" not in keep:
            keep["name"] = INDEX_NAME
    entries = toml.array_tables(settings, "index", path=path)
    first_default = next((t for t in entries if t.get("default") is True), None)
    if keep is not None and first_default is keep:
        return replaced
    values = {"name": INDEX_NAME, "url": url, "default": True}
    if keep is not None:
        values = {**values, **keep.unwrap()}
        toml.remove_array_tables(settings, "index", lambda t: t is keep, path=path)
    toml.add_array_table(settings, "index", values, before=first_default, path=path)
    return replaced


def _remove_legacy(settings) -> list:
    """Remove ``index-url`` and ``[pip] index-url``, which would contradict the [[index]]."""
    replaced = [toml.remove_value(settings, "index-url")]
    if settings.get("pip") is not None:  # a table: check_types saw to it
        replaced.append(toml.remove_value(settings["pip"], "index-url"))
        toml.remove_if_empty(settings, ["pip"])
    return replaced


def _set_insecure_hosts(settings, replaced: list, url: Optional[str]) -> None:
    """``allow-insecure-host`` gets the host of an http mirror, and loses those of the URLs replaced."""
    new_host = urls.trusted_host_for(url) if url else None
    stale = {urls.trusted_host_for(u) for u in replaced if isinstance(u, str)} - {None, new_host}
    raw = settings.get(INSECURE_KEY)
    current = list(raw.unwrap()) if raw is not None else []  # an array of strings: check_types saw to it
    hosts = [h for h in current if h not in stale]
    if new_host and new_host not in hosts:
        hosts.append(new_host)
    if hosts == current:
        return
    if hosts:
        settings[INSECURE_KEY] = hosts
    else:
        toml.remove_value(settings, INSECURE_KEY)


def _edit(target: UvFile, url: Optional[str], python: Optional[str], known: list, notes: list):
    """``python``: the mirror's python-install-mirror (None: take mirrorctl's away); ``known``: the
    values mirrorctl may have written (see targets/uv_python.py)."""
    def edit(doc: toml.TomlDocument) -> None:
        settings = doc.table(target.table) if target.table else doc.root
        if settings is None:  # pyproject.toml without [tool.uv]: nothing to reset
            return
        check_types(toml.value_at(doc.data_before, target.table, {}), target.path, target.table)
        uv_python.edit(settings, python, known, target.path, notes)
        if url is None:
            removed = toml.remove_array_tables(settings, "index", _is_ours, path=target.path)
            _set_insecure_hosts(settings, [t.get("url") for t in removed], None)
            return
        replaced = _point_at(settings, url, target.path)
        replaced += _remove_legacy(settings)
        _set_insecure_hosts(settings, replaced, url)

    def edit_and_tidy(doc: toml.TomlDocument) -> None:
        edit(doc)
        if not target.table:
            _no_blank_start(doc)
    return edit_and_tidy


def _no_blank_start(doc: toml.TomlDocument) -> None:
    """A top-level key removed from the head of a uv.toml leaves the blank line that parted it from
    the first table: that line goes too, unless the file began with a blank line."""
    from tomlkit.items import Null, Whitespace

    if doc.text[:1] in ("\n", "\r"):
        return
    body = doc.root.body
    for number, (key, item) in enumerate(body):
        if isinstance(item, Null):
            continue
        if key is None and isinstance(item, Whitespace) and not item.as_string().strip():
            body[number] = (None, Null())  # in place, as tomlkit removes: its index stays right
        return


def _owned(target: UvFile) -> list:
    keys = [("index",), ("index-url",), ("pip", "index-url"), (INSECURE_KEY,), (uv_python.KEY,)]
    return [tuple(target.table) + k for k in keys]


def _lock_note(ctx: Context, scope: Scope) -> str:
    if scope == Scope.PROJECT:
        lock = ctx.project_dir() / "uv.lock"
        if Path(lock).exists():
            return _("{lock} records the index URLs: run `uv lock` there to re-lock against the new index").format(
                lock=lock)
    return _("uv.lock files record index URLs: run `uv lock` in your uv projects to re-lock against the new index")


def _plan(ctx: Context, scope: Scope, url: Optional[str], python: Optional[str] = None) -> list:
    target = config_file(ctx, scope)
    before = _read(target.path, None)
    notes = [_lock_note(ctx, scope)]  # the edit may add one (a python-install-mirror of the user's)
    edit = _edit(target, url, python, uv_python.known_values(ctx), notes)
    change = toml.plan(target.path, before, edit, tool=NAME, scope=scope.value,
                       owned=_owned(target), remove_if_blank=not target.table, notes=notes)
    return [change]


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list:
    return _plan(ctx, scope, mirror.url, mirror.uv_python or None)


def plan_reset(ctx: Context, scope: Scope) -> list:
    return _plan(ctx, scope, None)


def in_use(ctx: Context, scope: Scope) -> bool:
    """Project: the project already has uv settings or a uv.lock (uv on PATH says nothing about
    this project). User and global: uv is on PATH, or that file exists."""
    try:
        if scope == Scope.PROJECT:
            folder = ctx.project_dir()
            return project_file(ctx, folder) is not None or Path(folder / "uv.lock").exists()
        return on_path(ctx, "uv") or _read(config_file(ctx, scope).path, None) is not None
    except MirrorctlError:  # unreadable: `use` will say so when asked with --tool
        return False


def environment(mirror: Mirror) -> dict:
    env = {"UV_DEFAULT_INDEX": mirror.url}
    host = urls.trusted_host_for(mirror.url)
    if host:
        env["UV_INSECURE_HOST"] = host
    env.update(uv_python.environment(mirror.uv_python))
    return env


# -- status ---------------------------------------------------------------------------

@dataclass
class _Loaded:
    file: UvFile
    settings: dict


def _files(ctx: Context, overlay: Optional[Overlay], infos: list, warnings: list) -> list:
    """The files uv reads, highest precedence first, each with its settings; ``infos`` gets a
    FileInfo for every file considered (lowest precedence first, like pip's), ``warnings`` what
    uv itself warns about (a pyproject.toml it skips)."""
    env_file = ctx.environ.get("UV_CONFIG_FILE")
    no_config = _boolish(ctx, "UV_NO_CONFIG")
    if env_file is not None:
        skip = _("UV_CONFIG_FILE replaces every discovered file")
    elif no_config:
        skip = _("UV_NO_CONFIG is set: uv reads no configuration file")
    else:
        skip = None
    system = system_file(ctx, overlay)
    considered = [UvFile("system", p) for p in system_files(ctx)] + [UvFile("user", user_file(ctx))]
    passed_over: list = []
    project = discover_project(ctx, overlay, passed_over) if skip is None else None
    considered.append(project or UvFile("project", ctx.project_dir() / "uv.toml"))
    loaded = []
    for uvfile in considered:
        reason = skip
        if reason is None and uvfile.kind == "system" and uvfile.path != system:
            reason = _("uv reads only the first system file that exists")
        loaded += _load(uvfile, reason, overlay, infos)
    for path, message in passed_over:  # nearest first
        infos.append(FileInfo(path=str(path), kind="project", exists=True,
                              skipped=_("uv cannot use it: it warns and looks further up")))
        warnings.append(_("{message}: uv warns and looks further up").format(message=message))
    if env_file:
        loaded += _load(UvFile("env", ctx.path(env_file)), None, overlay, infos, required=True)
    return list(reversed(loaded))


def _load(uvfile: UvFile, skipped: Optional[str], overlay: Optional[Overlay], infos: list,
          required: bool = False) -> list:
    info = FileInfo(path=str(uvfile.path), kind=uvfile.kind, exists=False, skipped=skipped)
    infos.append(info)
    data = _read(uvfile.path, overlay)
    if data is None:
        if required:
            info.error = _("{path}: UV_CONFIG_FILE names a file that does not exist; uv fails").format(path=uvfile.path)
        return []
    info.exists = True
    if skipped:
        return []
    try:
        parsed = toml.loads(data, uvfile.path)
    except ConfigFileError as exc:
        info.error = exc.message
        return []
    settings = toml.value_at(parsed, uvfile.table, {}) if uvfile.table else parsed
    settings = settings if isinstance(settings, dict) else {}
    try:
        check_types(settings, uvfile.path, uvfile.table)
    except ConfigFileError as exc:
        info.error = exc.message
        return []
    for key in ("index-url", "extra-index-url", "no-index", INSECURE_KEY, uv_python.KEY):
        if key in settings:
            info.values[key] = _text(settings[key])
    for i, index in enumerate(toml.tables_in(settings, ["index"]), 1):
        info.values[f"index.{i}"] = _text(index.get("url", "")) + (" (default)" if index.get("default") is True else "")
    if isinstance(settings.get("pip"), dict) and "index-url" in settings["pip"]:
        info.values["pip.index-url"] = _text(settings["pip"]["index-url"])
    return [_Loaded(uvfile, settings)]


def _text(value) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _section(loaded: _Loaded, *parts: str) -> Optional[str]:
    return ".".join([*loaded.file.table, *parts]) or None


def _setting(loaded: _Loaded, url: str, *parts: str, variable: Optional[str] = None) -> Setting:
    origin = Origin("file", str(loaded.file.path), section=_section(loaded, *parts), variable=variable)
    return Setting(url, origin, scope=loaded.file.kind)


def _index_defaults(loaded: _Loaded) -> list:
    return [_setting(loaded, index["url"], "index") for index in toml.tables_in(loaded.settings, ["index"])
            if index.get("default") is True and isinstance(index.get("url"), str)]


def _legacy(loaded: _Loaded, pip_section: bool) -> list:
    if pip_section:
        url = toml.value_at(loaded.settings, ["pip", "index-url"])
        return [_setting(loaded, url, "pip")] if isinstance(url, str) else []
    url = loaded.settings.get("index-url")
    return [_setting(loaded, url, variable="index-url")] if isinstance(url, str) else []


def _candidates(env: list, loaded: list, pip_command: bool) -> list:
    """Every default-index setting, the one uv uses first. uv lists the variables, then the
    ``[[index]]`` defaults of every file (nearest file first), then ONE legacy ``index-url``: a
    scalar, so the nearest file's wins, and for ``uv pip`` any ``[pip] index-url`` beats every
    top-level one. The legacy values that lose that merge come last (uv never sees them)."""
    legacy = [s for item in loaded for s in _legacy(item, pip_section=True)] if pip_command else []
    legacy += [s for item in loaded for s in _legacy(item, pip_section=False)]
    return env + [s for item in loaded for s in _index_defaults(item)] + legacy


def _env_defaults(ctx: Context) -> list:
    return [Setting(ctx.environ[var], Origin("env", variable=var), scope="env")
            for var in ENV_INDEX if ctx.environ.get(var)]


def _extras(ctx: Context, loaded: list) -> list:
    out = ctx.environ.get("UV_INDEX", "").split() + ctx.environ.get("UV_EXTRA_INDEX_URL", "").split()
    for item in loaded:
        for index in toml.tables_in(item.settings, ["index"]):
            if index.get("default") is not True and not index.get("explicit") and isinstance(index.get("url"), str):
                out.append(index["url"])
        extra = item.settings.get("extra-index-url")
        out += extra if isinstance(extra, list) else []
    return [u for i, u in enumerate(out) if u not in out[:i]]


def _label(setting: Setting) -> str:
    return setting.origin.describe() if setting.origin.kind != "env" else str(setting.origin.variable)


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    infos: list = []
    uv_warnings: list = []
    try:
        loaded = _files(ctx, overlay, infos, uv_warnings)
    except MirrorctlError as exc:  # a project folder uv cannot read either
        return _broken(infos, exc.message)
    errors = [i.error for i in infos if i.error]
    if errors:
        return _broken(infos, errors[0])
    env = _env_defaults(ctx)
    pip_view = _candidates(env, loaded, pip_command=True)
    winner = pip_view[0] if pip_view else None
    index_url = winner.value if winner else OFFICIAL
    mirror = catalog.match_url(index_url)
    result = ToolStatus(tool=NAME, index_url=index_url, mirror=mirror.name if mirror else None,
                        origin=winner.origin if winner else Origin("default"), files=infos,
                        extra_index_urls=_extras(ctx, loaded))
    for setting in pip_view[1:]:
        result.shadowed.append(setting)
        result.warnings.append(_("{value} sets the default index {value2}, but uv uses {value3}")
                               .format(value=_label(setting), value2=urls.mask_url(setting.value), value3=_label(winner)))
    project_view = _candidates(env, loaded, pip_command=False)
    other = project_view[0] if project_view else Setting(OFFICIAL, Origin("default"))
    if not urls.same_index(other.value, index_url):
        result.commands[PROJECT_COMMANDS] = other
        result.warnings.append(_("uv's project commands (lock, sync, add) use {value} ({value2}), not the index of `uv "
                                 "pip`").format(value=urls.mask_url(other.value), value2=_label(other)))
    if ctx.environ.get("UV_INDEX_URL"):
        result.warnings.append(_("UV_INDEX_URL is deprecated; uv prefers UV_DEFAULT_INDEX"))
    result.warnings.extend(uv_warnings)
    if _no_index(ctx, loaded):
        result.warnings.append(_("no-index is set: uv ignores every index"))
    uv_python.status(ctx, catalog, loaded, result)
    files_read = ctx.environ.get("UV_CONFIG_FILE") is None and not _boolish(ctx, "UV_NO_CONFIG")
    relative = _relative_system_file(ctx, overlay) if files_read else None
    if relative is not None:
        entry, path = relative
        result.warnings.append(_("XDG_CONFIG_DIRS has the relative entry {entry!r}: uv run in {cwd} reads {path} as its "
                                 "system file, which this report leaves out (mirrorctl ignores relative entries, as the "
                                 "XDG spec says)").format(entry=entry, cwd=ctx.cwd, path=path))
    return result


def _no_index(ctx: Context, loaded: list) -> bool:
    if ctx.environ.get("UV_NO_INDEX", "").lower() in TRUE_WORDS:
        return True
    return any(item.settings.get("no-index") is True or toml.value_at(item.settings, ["pip", "no-index"]) is True
               for item in loaded)


def _broken(infos: list, message: str) -> ToolStatus:
    return broken(NAME, message, infos)
