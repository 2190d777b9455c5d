"""easy_install (legacy): ``[easy_install] index_url`` in ``~/.pydistutils.cfg`` (user scope).

distutils/setuptools read the user file (``pydistutils.cfg`` without the dot on Windows), then
``setup.cfg`` in the current folder, which wins. Option names are case-insensitive and ``-``
equals ``_``; values go through ConfigParser interpolation, so a ``%`` is written ``%%``.
easy_install has no trusted-host setting: an http:// index is used as it is.

Legacy: ``use`` configures it only when asked with ``--tool easy_install``. The helpers at the
bottom (one INI value in one file) are shared with the buildout target.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Callable, Optional

from mirrorctl import urls
from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.changes import FileChange
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, UsageError
from mirrorctl.formats.ini import IniDocument, read_values
from mirrorctl.targets.base import FileInfo, Origin, Overlay, Setting, ToolStatus, read_with_overlay

NAME = "easy_install"
name = NAME
scopes = (Scope.USER,)
SECTION = "easy_install"
KEY = "index_url"
OFFICIAL = "https://pypi.org/simple/"  # setuptools' default index


def normalize_key(key: str) -> str:
    """distutils' option-name rule: case-insensitive, ``-`` is ``_``."""
    return key.strip().lower().replace("-", "_")


def user_file(ctx: Context) -> PurePath:
    return ctx.home / ("pydistutils.cfg" if ctx.windows else ".pydistutils.cfg")


def files_in_order(ctx: Context) -> list:
    return [("user", user_file(ctx)), ("project", ctx.project_dir() / "setup.cfg")]


def config_path(ctx: Context, scope: Scope) -> PurePath:
    if scope != Scope.USER:
        raise UsageError(f"easy_install has no {scope.value} scope", hint="use --scope user")
    return user_file(ctx)


def escape(url: str) -> str:
    return url.replace("%", "%%")


def unescape(value: str) -> str:
    return value.replace("%%", "%")


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list:
    return [plan_ini_value(config_path(ctx, scope), SECTION, KEY, escape(mirror.url), normalize_key,
                           tool=NAME, scope=scope.value)]


def plan_reset(ctx: Context, scope: Scope) -> list:
    return [plan_ini_value(config_path(ctx, scope), SECTION, KEY, None, normalize_key, tool=NAME, scope=scope.value)]


def in_use(ctx: Context, scope: Scope) -> bool:
    return False  # legacy: only --tool easy_install picks it


def environment(mirror: Mirror) -> dict:
    return {}  # easy_install reads no variable for its index


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    return ini_status(NAME, files_in_order(ctx), SECTION, KEY, normalize_key, catalog, overlay,
                      default=OFFICIAL, decode_value=unescape)


# -- one INI value in one file: shared with buildout ---------------------------------------

def _text(data: bytes, path: PurePath) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid UTF-8 (byte {exc.start})", hint="save it as UTF-8") from None


def plan_ini_value(path: PurePath, section: str, key: str, value: Optional[str],
                   normalize: Callable[[str], str], *, tool: str, scope: str) -> FileChange:
    """Set ``[section] key = value`` (None: remove it; a file left blank is removed)."""
    before = read_with_overlay(Path(path), None)
    if before is None and value is None:
        return FileChange(path, None, None, tool=tool, scope=scope)
    doc = IniDocument(_text(before, path) if before is not None else "", str(path))
    if value is None:
        doc.remove(section, key, normalize)
    else:
        doc.set(section, key, value, normalize)
    after = None if value is None and doc.is_blank() else doc.text().encode("utf-8")
    return FileChange(path, before, after, tool=tool, scope=scope)


def ini_status(tool: str, files: list, section: str, key: str, normalize: Callable[[str], str],
               catalog: Catalog, overlay: Optional[Overlay], *, default: str,
               decode_value: Callable[[str], str] = str) -> ToolStatus:
    """The value of ``[section] key`` from ``files`` ((kind, path), lowest precedence first), else
    the tool's built-in ``default``."""
    infos, definitions = [], []
    for kind, path in files:
        info = FileInfo(path=str(path), kind=kind, exists=False)
        infos.append(info)
        try:
            data = read_with_overlay(Path(path), overlay)
            if data is None:
                continue
            info.exists = True
            values = read_values(_text(data, path), str(path)).get(section, {})
        except ConfigFileError as exc:
            info.error = exc.message
            return ToolStatus(tool=tool, index_url=None, mirror=None, origin=Origin("default"), files=infos,
                              error=exc.message, warnings=[f"{tool} cannot run until this is fixed: {exc.message}"])
        for raw_key, raw in values.items():
            if normalize(raw_key) == normalize(key) and raw.strip():
                info.values[f"{section}.{raw_key}"] = raw
                definitions.append(Setting(decode_value(raw.strip()), Origin("file", str(path), section=section),
                                           scope=kind))
    winner = definitions[-1] if definitions else None
    index_url = winner.value if winner else default
    mirror = catalog.match_url(index_url)
    result = ToolStatus(tool=tool, index_url=index_url, mirror=mirror.name if mirror else None,
                        origin=winner.origin if winner else Origin("default"), files=infos)
    for setting in reversed(definitions[:-1]):
        result.shadowed.append(setting)
        result.warnings.append(f"{setting.origin.describe()} sets {key} {urls.mask_url(setting.value)}, "
                               f"but {tool} uses {winner.origin.describe()}")
    return result
