"""One value in INI files, for the tools whose whole setting is one ``[section] key``
(easy_install, buildout): plan it in one file, resolve it across several. A tool module
describes itself with :class:`OneValueTool` and exports its methods as the Target protocol."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Callable, Optional

from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.changes import FileChange
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, UsageError
from mirrorctl.formats.ini import IniDocument, read_values
from mirrorctl.targets.base import (FileInfo, Origin, Overlay, Setting, ToolStatus, broken, last_wins,
                                    read_with_overlay)
from mirrorctl.i18n import _


def _text(data: bytes, path: PurePath) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(_("{path}: not valid UTF-8 (byte {start})")
                              .format(path=path, start=exc.start), hint=_("save it as UTF-8")) from None


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
            return broken(tool, exc.message, infos)
        for raw_key, raw in values.items():
            if normalize(raw_key) == normalize(key) and raw.strip():
                info.values[f"{section}.{raw_key}"] = raw
                definitions.append(Setting(decode_value(raw.strip()), Origin("file", str(path), section=section),
                                           scope=kind))
    return last_wins(tool, key, definitions, default, catalog, infos)


@dataclass(frozen=True)
class OneValueTool:
    """A legacy tool configured by one ``[section] key`` in a user file, which the project's own
    file overrides. Only ``--tool NAME`` picks it; it reads no environment variable."""

    name: str
    section: str
    key: str
    default: str  # the tool's built-in index
    normalize: Callable[[str], str]  # its rule for option names
    user_file: Callable[[Context], PurePath]
    project_file: str  # the project's file, in the project folder
    escape: Callable[[str], str]  # a URL as the tool's INI dialect must spell it
    unescape: Callable[[str], str]

    def files_in_order(self, ctx: Context) -> list:
        return [("user", self.user_file(ctx)), ("project", ctx.project_dir() / self.project_file)]

    def config_path(self, ctx: Context, scope: Scope) -> PurePath:
        if scope != Scope.USER:
            raise UsageError(_("{name} has no {value} scope")
                             .format(name=self.name, value=scope.value), hint=_("use --scope user"))
        return self.user_file(ctx)

    def _plan(self, ctx: Context, scope: Scope, value: Optional[str]) -> list:
        return [plan_ini_value(self.config_path(ctx, scope), self.section, self.key, value, self.normalize,
                               tool=self.name, scope=scope.value)]

    def plan_use(self, ctx: Context, mirror: Mirror, scope: Scope) -> list:
        return self._plan(ctx, scope, self.escape(mirror.url))

    def plan_reset(self, ctx: Context, scope: Scope) -> list:
        return self._plan(ctx, scope, None)

    def in_use(self, ctx: Context, scope: Scope) -> bool:
        return False  # legacy: only --tool picks it

    def environment(self, mirror: Mirror) -> dict:
        return {}

    def status(self, ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
        return ini_status(self.name, self.files_in_order(ctx), self.section, self.key, self.normalize, catalog,
                          overlay, default=self.default, decode_value=self.unescape)
