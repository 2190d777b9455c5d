"""pip: pip.conf / pip.ini at global, user and virtualenv scope.

The file layout and the override order follow pip's own configuration loader
(see docs/files.md): global files, then the user files (legacy before new),
then the site file of the virtualenv, then PIP_CONFIG_FILE, then PIP_*
variables. Within that, a command's section (``[install]``) beats ``[global]``
in every file, for that command only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Optional, Sequence

from mirrorctl import urls
from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, UsageError
from mirrorctl.i18n import _
from mirrorctl.formats.ini import IniDocument, read_values
from mirrorctl.targets.base import FileInfo, Origin, Overlay, Setting, ToolStatus, broken
from mirrorctl.changes import DisabledFileError, FileChange, NotRegularFileError, read_bytes

NAME = "pip"
name = NAME
scopes = (Scope.USER, Scope.GLOBAL, Scope.VENV)
OFFICIAL = "https://pypi.org/simple"
BOM = b"\xef\xbb\xbf"
INDEX_KEY = "index-url"
TRUSTED_KEY = "trusted-host"
EXTRA_KEY = "extra-index-url"
# the fall-backs mirrorctl wrote into extra-index-url, beside it in the same section: pip ignores a
# key it has no option for, so this records what is ours without changing what pip does
MARK_KEY = "mirrorctl-fallbacks"
# pip goes on with the next index when one refuses, hangs or answers 5xx (docs/fallbacks.md):
# `use --fallback` writes extra-index-url for it
falls_back = True
COMMANDS = ("install", "download", "wheel", "index", "lock")
_READ_SECTIONS = frozenset(("global", *COMMANDS))


def normalize_key(name: str) -> str:
    """pip's option-name rule: case-insensitive, ``_`` is ``-``, a leading ``--`` is dropped."""
    name = name.strip().lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name


# -- where pip looks ------------------------------------------------------------

@dataclass(frozen=True)
class PipFile:
    kind: str  # global, user, site, env
    path: PurePath


def _basename(ctx: Context) -> str:
    return "pip.ini" if ctx.windows else "pip.conf"


def global_files(ctx: Context) -> list[PurePath]:
    base = _basename(ctx)
    if ctx.platform == "darwin":
        dirs = [ctx.path("/Library/Application Support/pip")]
    elif ctx.windows:
        dirs = [ctx.programdata / "pip"]
    else:
        dirs = [d / "pip" for d in ctx.xdg_config_dirs] + [ctx.path("/etc")]
    return [ctx.system(d / base) for d in dirs]


def user_files(ctx: Context) -> list[PurePath]:
    """[legacy, new]: the new one is where ``pip config set --user`` writes."""
    base = _basename(ctx)
    home = ctx.home
    if ctx.windows:
        return [home / "pip" / base, ctx.appdata / "pip" / base]
    legacy = home / ".pip" / base
    if ctx.platform == "darwin":
        app_support = home / "Library" / "Application Support" / "pip"
        new_dir = app_support if Path(app_support).is_dir() else home / ".config" / "pip"
        return [legacy, new_dir / base]
    return [legacy, ctx.xdg_config_home / "pip" / base]


def site_file(ctx: Context) -> Optional[PurePath]:
    venv = ctx.active_venv()
    return venv / _basename(ctx) if venv is not None else None


def env_config_file(ctx: Context) -> Optional[str]:
    return ctx.environ.get("PIP_CONFIG_FILE")


def _devnull(ctx: Context) -> str:
    return "nul" if ctx.windows else "/dev/null"


def files_in_order(ctx: Context) -> list[tuple[PipFile, Optional[str]]]:
    """Every file pip considers, lowest precedence first, with the reason it is skipped (or None)."""
    env_file = env_config_file(ctx)
    out: list[tuple[PipFile, Optional[str]]] = []
    if env_file is not None and env_file.lower() == _devnull(ctx):
        skip = _("PIP_CONFIG_FILE is the null device: pip loads no file")
    else:
        skip = None
    for path in global_files(ctx):
        out.append((PipFile("global", path), skip))
    user_skip = skip
    if skip is None and env_file and Path(env_file).exists():
        user_skip = _("PIP_CONFIG_FILE is set to an existing file: pip skips the user files")
    for path in user_files(ctx):
        out.append((PipFile("user", path), user_skip))
    site = site_file(ctx)
    if site is not None:
        out.append((PipFile("site", site), skip))
    if env_file and skip is None:
        out.append((PipFile("env", ctx.path(env_file)), None))
    return out


def config_path(ctx: Context, scope: Scope) -> Path:
    """The file ``use`` writes for a scope (the one pip's own ``pip config set`` would write)."""
    if scope == Scope.USER:
        return user_files(ctx)[-1]  # type: ignore[return-value]
    if scope == Scope.GLOBAL:
        return global_files(ctx)[-1]  # type: ignore[return-value]
    if scope == Scope.VENV:
        venv = ctx.active_venv()
        if venv is None:
            raise UsageError(_("no virtualenv to configure: none is active and --venv was not given"),
                             hint=_("activate it first, or pass --venv PATH"))
        if Path(venv).exists() and not Path(venv).is_dir():
            raise UsageError(_("{venv}: is a file, not a virtualenv folder")
                             .format(venv=venv), hint=_("check --venv or $VIRTUAL_ENV"))
        if not Path(venv).is_dir():
            raise UsageError(_("{venv}: no such virtualenv folder")
                             .format(venv=venv), hint=_("check --venv or $VIRTUAL_ENV"))
        if not (Path(venv) / "pyvenv.cfg").is_file() and not (Path(venv) / "conda-meta").is_dir():
            raise UsageError(_("{venv}: not a virtualenv (it has no pyvenv.cfg)").format(venv=venv),
                             hint=_("pass the folder that `python -m venv` created"))
        return venv / _basename(ctx)  # type: ignore[return-value]
    raise UsageError(_("pip has no {value} scope")
                     .format(value=scope.value), hint=_("use --scope user, global or venv"))


# -- decoding -------------------------------------------------------------------

def encoding(ctx: Context) -> str:
    """The encoding mirrorctl reads and writes pip's files in: pip's own (the locale's; see
    ``targets/pip_encoding.py``), or MIRRORCTL_PIP_ENCODING's."""
    from mirrorctl.targets import pip_encoding

    return pip_encoding.encoding(ctx)


def decode(data: bytes, path: PurePath, enc: str, *, allow_bom: bool, why: Optional[str] = None) -> str:
    """``why``: the reason pip here reads the file in ``enc``, said when it cannot be decoded."""
    if data.startswith(BOM):
        if not allow_bom:
            raise ConfigFileError(_("{path}: starts with a UTF-8 byte-order mark, which pip cannot read")
                                  .format(path=path),
                                  hint=_("`mirrorctl use` removes it when it writes the file; or save it without BOM"))
        data = data[len(BOM):]
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        if why:
            raise ConfigFileError(_("{path}: invalid {enc} characters at byte {at}; pip cannot read it ({why})").format(
                path=path, enc=enc, at=exc.start, why=why),
                hint=_("save the file as {enc}, or unset MIRRORCTL_PIP_ENCODING").format(enc=enc)) from None
        raise ConfigFileError(_("{path}: invalid {enc} characters at byte {start}; pip cannot read it")
                              .format(path=path, enc=enc, start=exc.start),
                              hint=_("save the file as {enc}").format(enc=enc)) from None
    except LookupError:
        raise ConfigFileError(_("{path}: unknown encoding {enc!r}")
                              .format(path=path, enc=enc), hint=_("check MIRRORCTL_PIP_ENCODING")) from None


# -- planning -------------------------------------------------------------------

def _hosts(value: Optional[str]) -> list[str]:
    return value.split() if value else []


def _edit(doc: IniDocument, url: Optional[str], fallbacks: Sequence[str] = ()) -> list[str]:
    """Point every section that names an index at ``url`` (None: remove it), replace the fall-backs
    mirrorctl wrote with ``fallbacks``, with trusted-host to match. Returns the extra-index-url
    entries mirrorctl did not write (kept as they are)."""
    with_index = [s for s in doc.section_names() if doc.has_option(s, INDEX_KEY, normalize_key)]
    old_urls = [doc.get_full(s, INDEX_KEY, normalize_key) for s in with_index]  # a value may start on the next line
    index_sections = ["global"] + [s for s in with_index if s != "global"]
    for section in index_sections:
        if url is None:
            doc.remove(section, INDEX_KEY, normalize_key)
        else:
            doc.set(section, INDEX_KEY, url, normalize_key)

    fallbacks = fallbacks if url is not None else ()
    foreign, old_fallbacks = _edit_fallbacks(doc, fallbacks)
    stale_hosts = {urls.trusted_host_for(u) for u in old_urls + old_fallbacks if u} - {None}
    new_hosts = [h for h in map(urls.trusted_host_for, ([url] if url else []) + list(fallbacks)) if h]
    stale_hosts -= set(new_hosts) | {urls.trusted_host_for(u) for u in foreign}

    trust_sections = {"global"} | {s for s in doc.section_names() if doc.has_option(s, TRUSTED_KEY, normalize_key)}
    for section in [s for s in doc.section_names() if s in trust_sections] or ["global"]:
        current = _hosts(doc.get_full(section, TRUSTED_KEY, normalize_key))
        hosts = [h for h in current if h not in stale_hosts]
        if section == "global" or current:
            hosts += [h for h in dict.fromkeys(new_hosts) if h not in hosts]
        if hosts == current:
            continue
        if hosts:
            doc.set(section, TRUSTED_KEY, " ".join(hosts), normalize_key)
        else:
            doc.remove(section, TRUSTED_KEY, normalize_key)
    return foreign


def _edit_fallbacks(doc: IniDocument, fallbacks: Sequence[str]) -> tuple[list[str], list[str]]:
    """extra-index-url in [global] (and in a section pip reads that has its own, which overrides
    [global] there): mirrorctl's earlier fall-backs out, ``fallbacks`` in, the user's entries kept.
    Returns (the user's entries, mirrorctl's earlier fall-backs)."""
    sections = ["global"] + [s for s in doc.section_names() if s != "global" and s in _READ_SECTIONS and
                             (doc.has_option(s, EXTRA_KEY, normalize_key) or doc.has_option(s, MARK_KEY, normalize_key))]
    foreign: list[str] = []
    old: list[str] = []
    for section in sections:
        current = _hosts(doc.get_full(section, EXTRA_KEY, normalize_key))
        ours = _hosts(doc.get_full(section, MARK_KEY, normalize_key))
        kept = [u for u in current if u not in ours]
        added = [u for u in dict.fromkeys(fallbacks) if u not in kept]
        wanted = kept + added
        if wanted != current:
            if wanted:
                doc.set(section, EXTRA_KEY, " ".join(wanted), normalize_key)
            else:
                doc.remove(section, EXTRA_KEY, normalize_key)
        if added and ours != added:
            doc.set(section, MARK_KEY, " ".join(added), normalize_key)
        elif not added and ours:
            doc.remove(section, MARK_KEY, normalize_key)
        foreign += [u for u in kept if u not in foreign]
        old += ours
    return foreign, old


def _plan(ctx: Context, scope: Scope, url: Optional[str], fallbacks: Sequence[str] = ()) -> list[FileChange]:
    path = config_path(ctx, scope)
    before = read_bytes(path)
    if before is None and url is None:
        return [FileChange(path, None, None, tool=NAME, scope=scope.value)]
    enc = encoding(ctx)
    notes = []
    text = decode(before, path, enc, allow_bom=True) if before is not None else ""
    if before is not None and before.startswith(BOM):
        notes.append(_("removed the UTF-8 byte-order mark that kept pip from reading {path}").format(path=path))
    doc = IniDocument(text, str(path))
    foreign = _edit(doc, url, fallbacks)
    if foreign:
        notes.append(_("{path}: extra-index-url also names {urls}, which mirrorctl did not write: kept "
                       "(pip asks it for every package too)").format(
            path=path, urls=", ".join(urls.mask_url(u) for u in foreign)))
    if url is None and doc.is_blank():
        after = None
    else:
        try:
            after = doc.text().encode(enc)
        except UnicodeEncodeError:  # pragma: no cover - only ASCII is ever added
            raise ConfigFileError(_("{path}: cannot be written back in {enc}")
                                  .format(path=path, enc=enc), hint=_("save it as UTF-8")) from None
    return [FileChange(path, before, after, tool=NAME, scope=scope.value, notes=notes)]


def plan_use(ctx: Context, mirror: Mirror, scope: Scope, fallbacks: Sequence[str] = ()) -> list[FileChange]:
    """``fallbacks``: index URLs for extra-index-url; the ones mirrorctl wrote before are replaced
    (none given: removed), the user's own entries stay."""
    return _plan(ctx, scope, mirror.url, fallbacks)


def plan_reset(ctx: Context, scope: Scope) -> list[FileChange]:
    return _plan(ctx, scope, None)


def in_use(ctx: Context, scope: Scope) -> bool:
    if scope == Scope.VENV:  # a conda env may be active without a virtualenv
        return ctx.active_venv() is not None
    return True  # pip is everywhere Python is


def environment(mirror: Mirror) -> dict[str, str]:
    env = {"PIP_INDEX_URL": mirror.url}
    host = urls.trusted_host_for(mirror.url)
    if host:
        env["PIP_TRUSTED_HOST"] = host
    return env


# -- status -----------------------------------------------------------------------

def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    from mirrorctl.targets import pip_encoding

    enc, why = pip_encoding.status_encoding(ctx)  # as pip here reads them
    infos: list[FileInfo] = []
    # "section.key" -> Setting; later files override earlier ones, as in pip
    merged: dict[tuple[str, str], Setting] = {}
    definitions: list[Setting] = []  # every index-url definition, in load order
    marks: dict[tuple[str, str], list[str]] = {}  # (file, section) -> the fall-backs mirrorctl wrote there
    errors: list[str] = []
    for pipfile, skipped in files_in_order(ctx):
        path = Path(pipfile.path)
        info = FileInfo(path=str(pipfile.path), kind=pipfile.kind, exists=False, skipped=skipped)
        infos.append(info)
        try:  # not read_with_overlay: a disabled file is shown as such in the file list
            data = overlay[str(path)] if overlay is not None and str(path) in overlay else read_bytes(path)
        except DisabledFileError:
            info.exists = True
            info.skipped = info.skipped or _("disabled by a link to {devnull}: pip reads it as empty").format(
                devnull=_devnull(ctx))
            continue
        except NotRegularFileError as exc:  # a FIFO, a device: pip would hang or read without end
            info.error = exc.message
            errors.append(exc.message)
            continue
        except ConfigFileError as exc:  # a folder, a symlink loop: pip skips such a file silently
            reason = exc.message.split(": ", 1)[-1]
            info.skipped = info.skipped or _("{reason}: pip skips it").format(reason=reason)
            continue
        except Exception as exc:  # unreadable: pip fails the same way
            info.error = getattr(exc, "message", str(exc))
            continue
        if data is None:
            continue
        info.exists = True
        if skipped:
            continue
        try:
            text = decode(data, pipfile.path, enc, allow_bom=False, why=why)
            values = read_values(text, str(pipfile.path))
        except ConfigFileError as exc:
            info.error = exc.message
            errors.append(exc.message)
            continue
        for section, items in values.items():
            for raw_key, value in items.items():
                key = normalize_key(raw_key)
                info.values[f"{section}.{key}"] = value
                if section not in _READ_SECTIONS:
                    continue  # pip reads [global] and its command's own section, nothing else
                setting = Setting(value=value, origin=Origin("file", str(pipfile.path), section=section),
                                  scope=pipfile.kind)
                merged[(section, key)] = setting
                if key == MARK_KEY:
                    marks[(str(pipfile.path), section)] = value.split()
                if key == INDEX_KEY and value:
                    definitions.append(setting)
    for var, value in sorted(ctx.environ.items()):
        if var.upper().startswith("PIP_"):
            key = normalize_key(var[4:])
            if key in ("version", "help"):
                continue
            setting = Setting(value=value, origin=Origin("env", variable=var), scope="env")
            merged[(":env:", key)] = setting
            if key == INDEX_KEY and value:
                definitions.append(setting)

    def effective(command: str, key: str) -> Optional[Setting]:
        winner = None
        for section in ("global", command, ":env:"):
            setting = merged.get((section, key))
            if setting is not None and setting.value:  # pip ignores empty values
                winner = setting
        return winner

    if errors:
        return broken(NAME, errors[0], infos)

    install = effective("install", INDEX_KEY)
    index_url = install.value.strip() if install else OFFICIAL
    origin = install.origin if install else Origin("default")
    result = ToolStatus(tool=NAME, index_url=index_url, mirror=_mirror_name(catalog, index_url), origin=origin,
                        files=infos)
    for setting in definitions:
        if setting is install:
            continue
        section = setting.origin.section
        if section not in (None, "global", "install"):
            continue  # a section for another command: reported under "commands"
        if install is not None and _same_value(setting.value, install.value):
            continue  # overridden by the same index: nothing is lost, nothing to warn about
        result.shadowed.append(setting)
        result.warnings.append(
            _("{value} sets index-url {value2}, but pip install uses {value3}")
            .format(value=_label(setting), value2=urls.mask_url(setting.value), value3=_label(install) if install else _('the default'))
        )
    for command in COMMANDS[1:]:
        other = effective(command, INDEX_KEY)
        other_url = other.value.strip() if other else OFFICIAL
        if not urls.same_index(other_url, index_url):
            result.commands[command] = other or Setting(OFFICIAL, Origin("default"))
            result.warnings.append(_("pip {command} uses {other_url} ({value}), not the index of pip install")
                                   .format(command=command, other_url=urls.mask_url(other_url), value=_label(other) if other else _('default')))
    extra = effective("install", EXTRA_KEY)
    if extra:
        result.extra_index_urls = extra.value.split()
        ours = marks.get((str(extra.origin.path), str(extra.origin.section)), []) if extra.origin.kind == "file" else []
        result.fallbacks = [u for u in result.extra_index_urls if u in ours]
    no_index = effective("install", "no-index")
    if no_index and no_index.value.strip().lower() in ("1", "true", "yes", "on"):
        result.warnings.append(_("{value} sets no-index: pip install ignores every index")
                               .format(value=_label(no_index)))
    return result


def _same_value(a: str, b: str) -> bool:
    """The same index, credentials included (a rotated token is a difference)."""
    from urllib.parse import urlsplit

    def userinfo(url: str) -> str:
        try:
            return urlsplit(url.strip()).netloc.rpartition("@")[0]
        except ValueError:
            return url
    return urls.same_index(a, b) and userinfo(a) == userinfo(b)


def _label(setting: Setting) -> str:
    origin = setting.origin
    if origin.kind == "env":
        return str(origin.variable)
    return f"{origin.path} [{origin.section}]"


def _mirror_name(catalog: Catalog, url: str) -> Optional[str]:
    mirror = catalog.match_url(url)
    return mirror.name if mirror else None
