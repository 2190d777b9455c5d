"""A planned change to one file, and how files are read: the light part of the transaction
(status needs it; the writing machinery in ``transaction`` is imported only to write)."""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from mirrorctl.errors import ConfigFileError, MirrorctlError, NotWritableError
from mirrorctl.i18n import N_, _

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


# The most mirrorctl reads of one configuration file. The largest real ones are a few kilobytes;
# the cap keeps a link to /dev/zero, or a log file given by mistake, from filling the memory.
MAX_CONFIG_BYTES = 4 * 1024 * 1024

_MOVE_HINT = N_("mirrorctl reads and writes only regular files: move it aside, or choose another scope")


class DisabledFileError(ConfigFileError):
    """The path is (or links to) the null device: the user disabled that file on purpose.
    Tools read it as empty; mirrorctl never replaces it."""


class NotRegularFileError(ConfigFileError):
    """A FIFO, a device or a socket where a configuration file should be (a tool reading it would
    hang or read forever), or a file larger than :data:`MAX_CONFIG_BYTES`."""


def read_bytes(path: Path) -> Optional[bytes]:
    """The file's bytes, or None when it does not exist (see :func:`read_config_file`).

    During :func:`planning`, a file another tool of the same command will write is seen as planned.
    """
    planned = _PLANNED.get()
    if planned is not None and str(path) in planned:
        return planned[str(path)]
    return read_config_file(path)


def read_config_file(path: Path, *, limit: int = MAX_CONFIG_BYTES) -> Optional[bytes]:
    """The bytes of a regular file (a symlink is followed), or None when nothing is there.

    Anything else at the path is a :class:`ConfigFileError` naming the path and what is there,
    and is never opened for a blocking read: a FIFO, a device, a socket, a folder. The null
    device (a link to /dev/null) is a :class:`DisabledFileError`. A file larger than ``limit``
    bytes is refused without reading it whole.
    """
    if _stat_regular(path) is None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _read_error(path, exc) from None
    try:
        st = os.fstat(fd)  # what was opened, in case the path changed since the check
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st)
        if st.st_size > limit:
            raise _too_large(path, limit)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # grew while being read
                raise _too_large(path, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise _read_error(path, exc) from None
    finally:
        os.close(fd)


def check_replaceable(path: Path) -> None:
    """Raise unless ``path`` may be replaced or removed by a write: call it right before the write.

    Contract: returns None when nothing is at ``path`` (a dangling symlink included: its target
    is absent) or when it is a regular file, directly or through symlinks. Raises
    :class:`DisabledFileError` (a ``ConfigFileError``, exit 4) when it is or links to the null
    device, and ``ConfigFileError`` when it is anything else that is not a regular file (a FIFO,
    a device, a socket, a folder) or cannot be looked at (a symlink loop, an I/O error).
    ``NotWritableError`` (exit 5) for a permission denied or a file where a folder should be.
    It never opens the file, never blocks, and changes nothing.
    """
    _stat_regular(path)


def _stat_regular(path: Path) -> Optional[os.stat_result]:
    """The stat of the regular file at ``path`` (links followed), None when absent; else raise."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise _read_error(path, exc) from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st)
    return st


def _is_null(st: os.stat_result) -> bool:
    if not stat.S_ISCHR(st.st_mode):
        return False
    try:
        null = os.stat(os.devnull)
    except OSError:  # pragma: no cover - a system without a null device
        return False
    return st.st_rdev == null.st_rdev


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return _("a FIFO (named pipe)")
    if stat.S_ISCHR(mode):
        return _("a character device")
    if stat.S_ISBLK(mode):
        return _("a block device")
    if stat.S_ISSOCK(mode):
        return _("a socket")
    return _("not a regular file")


def _not_regular(path: Path, st: os.stat_result) -> ConfigFileError:
    if _is_null(st):
        return DisabledFileError(_("{path}: disabled by a link to {devnull}; mirrorctl leaves it alone")
                                 .format(path=path, devnull=os.devnull),
                                 hint=_("the tools read it as empty; remove the link (rm {path}) to let mirrorctl write this "
                                        "file, or choose another scope").format(path=path))
    what = _kind(st.st_mode)
    if what == "a folder":
        return ConfigFileError(_("{path}: is a folder, not a file")
                               .format(path=path), hint=_("move the folder aside, or choose another scope"))
    if os.path.islink(path):
        message = _("{path}: links to {target}, which is {what}, not a regular file").format(
            path=path, target=os.path.realpath(path), what=what)
    else:
        message = _("{path}: is {what}, not a regular file").format(path=path, what=what)
    return NotRegularFileError(message, hint=_(_MOVE_HINT))


def _too_large(path: Path, limit: int) -> ConfigFileError:
    return NotRegularFileError(_("{path}: larger than {value} MiB; is this the right file?")
                               .format(path=path, value=limit // (1024 * 1024)),
                           hint=_("a configuration file is a few kilobytes: look at that path"))


def _read_error(path: Path, exc: BaseException) -> MirrorctlError:
    if isinstance(exc, NotADirectoryError):
        return NotWritableError(_("{path}: a part of this path is a file, not a folder").format(path=path),
                                hint=_("look at {first_file_ancestor}")
                                     .format(first_file_ancestor=first_file_ancestor(Path(path))))
    if isinstance(exc, IsADirectoryError):
        return ConfigFileError(_("{path}: is a folder, not a file")
                               .format(path=path), hint=_("move the folder aside, or choose another scope"))
    if isinstance(exc, PermissionError):
        return NotWritableError(_("{path}: permission denied while reading it").format(path=path),
                                hint=_("run with sudo, or choose --scope user"))
    if isinstance(exc, ValueError):  # a NUL byte in the path
        return ConfigFileError(_("{path!r}: not a usable path ({exc})")
                               .format(path=str(path), exc=exc), hint=_("look at that path"))
    code = getattr(exc, "errno", None)
    reason = _("a symlink loop") if code == errno.ELOOP else (getattr(exc, "strerror", None) or str(exc))
    return ConfigFileError(_("{path}: cannot be read ({reason})")
                           .format(path=path, reason=reason), hint=_("look at that path"))


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
                      notes=change.notes + [_("{path} is a link: emptied the file it points to, kept the link")
                                           .format(path=change.path)])
