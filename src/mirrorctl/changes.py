"""A planned change to one file, and how files are read: the light part of the transaction
(status needs it; the writing machinery in ``transaction`` is imported only to write)."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from mirrorctl.errors import ConfigFileError, NotWritableError

# While a command plans, the files earlier tools of the same command will write, as they will be
# (str(path) -> bytes, None: absent): two tools editing one file (uv and Poetry in one
# pyproject.toml) then build on each other's result instead of both starting from the disk.
_PLANNED: "contextvars.ContextVar[Optional[Dict[str, Optional[bytes]]]]" = contextvars.ContextVar(
    "mirrorctl_planned", default=None)


@contextlib.contextmanager
def planning() -> Iterator[Dict[str, Optional[bytes]]]:
    """Within this block, :func:`read_bytes` sees the planned contents put into the yielded dict."""
    planned: Dict[str, Optional[bytes]] = {}
    token = _PLANNED.set(planned)
    try:
        yield planned
    finally:
        _PLANNED.reset(token)


@dataclass
class FileChange:
    """One file a command wants to change. ``after is None`` removes the file."""

    path: Path
    before: Optional[bytes]
    after: Optional[bytes]
    tool: str = ""
    scope: str = ""
    notes: list[str] = field(default_factory=list)
    mode: Optional[int] = None  # permission bits for a file that is (re)created; None: the umask's
    owner: Optional[Tuple[int, int]] = None  # (uid, gid) for a file that is (re)created, when root
    # the new bytes hold a credential: the transaction writes the file owner-only (0600), whatever
    # its mode was, before the credential reaches the disk (undo puts the old mode back)
    private: bool = False

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
    """The file's bytes, or None when it does not exist. A folder in the way is an error.

    During :func:`planning`, a file another tool of the same command will write is seen as planned.
    """
    planned = _PLANNED.get()
    if planned is not None and str(path) in planned:
        return planned[str(path)]
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
    except OSError as exc:  # a symlink loop, an I/O error, a name too long ...
        reason = "a symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise ConfigFileError(f"{path}: cannot be read ({reason})", hint="look at that path") from None


def merge_same_path(changes: List[FileChange]) -> List[FileChange]:
    """One change per file: when several tools change one file (planned in order, each on the
    previous one's result), keep the first one's before and the last one's after."""
    merged: Dict[str, FileChange] = {}
    for change in changes:
        key = str(change.path)
        first = merged.get(key)
        if first is None:
            merged[key] = change
            continue
        tools = first.tool.split(", ") if first.tool else []
        if change.tool and change.tool not in tools:
            tools.append(change.tool)
        merged[key] = FileChange(first.path, first.before, change.after, tool=", ".join(tools), scope=first.scope,
                                 notes=first.notes + change.notes, mode=first.mode,
                                 private=first.private or change.private)
    return list(merged.values())


def first_file_ancestor(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            return parent
    return path


def keep_link(change: FileChange) -> FileChange:
    """Removing a symlinked file (a dotfile manager's) would delete the real file in its repo:
    empty the file it points to instead, and keep the link."""
    if change.after is not None or not os.path.islink(change.path):
        return change
    return FileChange(change.path, change.before, b"", tool=change.tool, scope=change.scope, private=change.private,
                      notes=change.notes + [f"{change.path} is a link: emptied the file it points to, kept the link"])
