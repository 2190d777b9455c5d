"""What every tool module provides, and the result types they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Protocol, Sequence

from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.changes import FileChange, read_bytes

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
            return f"environment variable {self.variable}"
        if self.kind == "default":
            return "built-in default"
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


class Target(Protocol):
    name: str
    scopes: Sequence[Scope]

    def config_path(self, ctx: Context, scope: Scope) -> Path: ...

    def plan_use(self, ctx: Context, mirror: Mirror, scope: Scope) -> list[FileChange]: ...

    def plan_reset(self, ctx: Context, scope: Scope) -> list[FileChange]: ...

    def status(self, ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus: ...

    def in_use(self, ctx: Context, scope: Scope) -> bool: ...


def read_with_overlay(path: Path, overlay: Optional[Overlay]) -> Optional[bytes]:
    if overlay is not None and str(path) in overlay:
        return overlay[str(path)]
    return read_bytes(path)
