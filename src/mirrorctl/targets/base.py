"""What every tool module provides, and the result types they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Protocol, Sequence

from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.changes import FileChange, read_bytes
from mirrorctl.context import Context, Scope
from mirrorctl.urls import mask_url
from mirrorctl.i18n import _

# path -> bytes (None: absent) that a status should see instead of the disk,
# so `use --dry-run` can tell what the tool would use after the change.
Overlay = Mapping[str, Optional[bytes]]


@dataclass
class Origin:
    kind: str  # "file", "env" or "default"
    path: Optional[str] = None
    section: Optional[str] = None
    variable: Optional[str] = None

    def describe(self) -> str:
        if self.kind == "env":
            return _("environment variable {name}").format(name=self.variable)
        if self.kind == "default":
            return _("built-in default")
        where = str(self.path)
        if self.section:
            where += f" [{self.section}]"
        elif self.variable:
            where += f" ({self.variable})"
        return where


@dataclass
class Setting:
    value: str
    origin: Origin
    scope: Optional[str] = None  # the file's kind: global, user, site, env ...


@dataclass
class FileInfo:
    """One file the tool reads, for `status --verbose` (like `pip config debug`)."""

    path: str
    kind: str
    exists: bool
    values: dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None
    skipped: Optional[str] = None  # why the tool does not read it now


@dataclass
class ToolStatus:
    tool: str
    index_url: Optional[str]
    mirror: Optional[str]  # catalogue name the index matches
    origin: Origin
    shadowed: list[Setting] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)
    error: Optional[str] = None  # the tool cannot read its configuration at all
    commands: dict[str, Setting] = field(default_factory=dict)  # per-command overrides (pip download ...)
    extra_index_urls: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)  # the extra indexes mirrorctl wrote (`use --fallback`)
    details: dict = field(default_factory=dict)  # tool-specific facts (conda's channels, ...), JSON-able


def broken(tool: str, message: str, files: list) -> ToolStatus:
    """The status of a tool that cannot read its own configuration (it would fail the same way)."""
    return ToolStatus(tool=tool, index_url=None, mirror=None, origin=Origin("default"), files=files,
                      error=message, warnings=[_("{tool} cannot run until this is fixed: {error}").format(tool=tool,
                                                                                                       error=message)])


def last_wins(tool: str, key: str, definitions: list, default: str, catalog: Catalog, files: list,
              label=None) -> ToolStatus:
    """The status of a tool whose index is its last definition (lowest precedence first), else
    ``default``; every earlier definition is reported as shadowed, with a warning."""
    label = label or (lambda setting: setting.origin.describe())
    winner = definitions[-1] if definitions else None
    index_url = winner.value if winner else default
    mirror = catalog.match_url(index_url)
    result = ToolStatus(tool=tool, index_url=index_url, mirror=mirror.name if mirror else None,
                        origin=winner.origin if winner else Origin("default"), files=files)
    for setting in reversed(definitions[:-1]):
        result.shadowed.append(setting)
        result.warnings.append(_("{where} sets {key} {value}, but {tool} uses {winner}").format(
            where=label(setting), key=key, value=mask_url(setting.value), tool=tool, winner=label(winner)))
    return result


class Target(Protocol):
    """What a tool module (``mirrorctl/targets/<name>.py``) provides, as module-level names."""

    name: str
    scopes: Sequence[Scope]  # the scopes it can be configured at

    def plan_use(self, ctx: Context, mirror: Mirror, scope: Scope) -> list[FileChange]:
        """The file changes that point the tool at ``mirror`` (nothing is written here).
        Raise ``errors.UnsupportedError`` when the mirror cannot serve this tool (no conda mirror)."""

    def plan_reset(self, ctx: Context, scope: Scope) -> list[FileChange]:
        """The changes that remove what mirrorctl manages, leaving the rest as it was."""

    def status(self, ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
        """What the tool really uses now, and what decides it. ``overlay`` replaces file contents."""

    def in_use(self, ctx: Context, scope: Scope) -> bool:
        """Whether `use` without --tool should configure this tool at that scope
        (on PATH, or already configured there). Legacy tools answer False: only --tool picks them."""

    def environment(self, mirror: Mirror) -> dict[str, str]:
        """Environment variables that point the tool at ``mirror`` for one process (`env`, `exec`)."""


def on_path(ctx: Context, *names: str) -> bool:
    """Whether any of these executables is on the context's PATH (never this process's PATH)."""
    import os

    search = ctx.environ.get("PATH", "")
    if os.name != "posix":  # PATHEXT and friends: the standard library knows them
        import shutil

        return any(shutil.which(name, path=search) for name in names)
    # a plain scan: status calls this for every tool, and shutil's import is a visible share of it
    for folder in (entry or os.curdir for entry in search.split(os.pathsep)):  # "" is the current folder
        for name in names:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return True
    return False


def read_with_overlay(path: Path, overlay: Optional[Overlay]) -> Optional[bytes]:
    """The file as the tool would read it: planned bytes first; a file disabled by a link to the
    null device reads as empty, as it does for the tool (a write to it is refused by the writer)."""
    from mirrorctl.changes import DisabledFileError

    if overlay is not None and str(path) in overlay:
        return overlay[str(path)]
    try:
        return read_bytes(path)
    except DisabledFileError:
        return b""
