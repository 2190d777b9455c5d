"""A planned change to one file, and how files are read: the light part of the transaction
(status needs it; the writing machinery in ``transaction`` is imported only to write)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from mirrorctl.errors import ConfigFileError, NotWritableError


@dataclass
class FileChange:
    """One file a command wants to change. ``after is None`` removes the file."""

    path: Path
    before: Optional[bytes]
    after: Optional[bytes]
    tool: str = ""
    scope: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def action(self) -> str:
        if not self.changed:
            return "unchanged"
        if self.before is None:
            return "create"
        if self.after is None:
            return "delete"
        return "modify"


def read_bytes(path: Path) -> Optional[bytes]:
    """The file's bytes, or None when it does not exist. A folder in the way is an error."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigFileError(f"{path}: is a folder, not a file", hint="move the folder aside, or choose another scope") from None
    except NotADirectoryError:
        raise NotWritableError(f"{path}: a part of this path is a file, not a folder",
                               hint=f"look at {first_file_ancestor(Path(path))}") from None
    except PermissionError:
        raise NotWritableError(f"{path}: permission denied while reading it",
                               hint="run with sudo, or choose --scope user") from None


def first_file_ancestor(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            return parent
    return path
