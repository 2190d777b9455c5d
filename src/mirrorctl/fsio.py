"""File-system primitives of the transaction: the lock, held signals, durable writes, temp names.

Nothing here knows about journal entries; ``transaction`` puts these steps in order.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Optional, Sequence

from mirrorctl.changes import check_replaceable, first_file_ancestor
from mirrorctl.errors import ConfigFileError, MirrorctlError, NotWritableError
from mirrorctl.journal import make_private_dir
from mirrorctl.i18n import _

LOCK_TIMEOUT = 30.0
TEMP_SUFFIX = ".mirrorctl-tmp"


class Locked:
    """mirrorctl's one lock: the file ``lock`` in the state folder, held while files change.

    fasteners' inter-process lock (``lockf`` on POSIX, ``msvcrt.locking`` on Windows; the kernel
    lets go when the process ends, however it ends). Waits up to ``LOCK_TIMEOUT`` seconds.
    A ``lockf`` lock belongs to the process, not to the open file: a second ``Locked`` in the
    same process would get it at once, and its release (closing the file) would drop the
    first's. So each lock file also has a thread lock, taken first: threads take turns, and a
    nested ``Locked`` waits out its timeout as another process would."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self._lock = None
        self._in_process = None

    def __enter__(self):
        path = self.state_dir / "lock"
        in_process = _in_process_lock(path)
        if not in_process.acquire(timeout=LOCK_TIMEOUT):
            raise _held_too_long(path)
        try:
            self._lock = _take(path, self.state_dir)
        except BaseException:
            in_process.release()
            raise
        self._in_process = in_process
        return self

    def __exit__(self, *exc):
        try:
            self._lock.release()
        finally:
            self._in_process.release()
        return False


_IN_PROCESS: dict = {}


def _in_process_lock(path: Path):
    import threading

    return _IN_PROCESS.setdefault(os.path.abspath(path), threading.Lock())  # setdefault: atomic


def _take(path: Path, state_dir: Path):
    """fasteners' lock on ``path``, taken within ``LOCK_TIMEOUT``; one line when it cannot be."""
    from fasteners import InterProcessLock

    make_private_dir(state_dir)
    try:
        check_replaceable(path)  # a FIFO there would block the open for writing, a folder fail it
    except ConfigFileError as exc:
        exc.hint = _("remove it: mirrorctl makes its lock file itself")
        raise
    lock = InterProcessLock(str(path))
    try:
        acquired = lock.acquire(timeout=LOCK_TIMEOUT, delay=0.01, max_delay=0.1)
    except OSError as exc:  # the file cannot be opened (read-only, full)
        raise not_writable(path, exc, what="mirrorctl's lock") from None
    except RuntimeError as exc:  # fasteners' ThreadError: the system refused the lock itself
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):
            raise not_writable(path, cause, what="mirrorctl's lock") from None
        raise
    if not acquired:
        if lock.lockfile is not None:
            lock.lockfile.close()
        raise _held_too_long(path)
    return lock


def _held_too_long(path: Path) -> MirrorctlError:
    return MirrorctlError(
        _("another mirrorctl has held {value} for {lock_timeout:.0f} s").format(value=path, lock_timeout=LOCK_TIMEOUT),
        hint=_("wait for it to finish and run again (the lock is let go when that process ends)"))


def locked(state_dir: Path) -> Locked:
    return Locked(state_dir)


class HeldSignals:
    """Ctrl-C, SIGTERM and SIGHUP are noted instead of stopping the program mid-step;
    :meth:`check` raises KeyboardInterrupt at the next step boundary."""

    def __init__(self):
        self.caught: Optional[int] = None
        self._previous: dict = {}

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                try:
                    self._previous[number] = signal.signal(number, self._note)
                except (OSError, ValueError):
                    pass
        return self

    def _note(self, number, _frame) -> None:
        self.caught = number

    def check(self) -> None:
        if self.caught is not None:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        import signal

        for number, handler in self._previous.items():
            signal.signal(number, handler)
        return False


# -- file-system primitives ---------------------------------------------------------------

def not_writable(path: Path, exc: OSError, *, what: str = "") -> MirrorctlError:
    """A write that failed, as one line naming the file (the hint is the CLI's own, errors.hint_for)."""
    from mirrorctl.errors import hint_for

    reasons = {errno.EROFS: _("read-only file system"), errno.ENOSPC: _("no space left on the device"),
               errno.EDQUOT: _("disk quota exceeded"), errno.EACCES: _("permission denied"),
               errno.EPERM: _("permission denied")}
    reason = reasons.get(exc.errno, exc.strerror or str(exc))
    label = f"{what} " if what else ""
    if exc.errno == errno.EISDIR:
        return ConfigFileError(_("{path}: is a folder, not a file")
                               .format(path=path), hint=_("move the folder aside, or choose another scope"))
    return NotWritableError(_("{label}{path}: cannot write ({reason})")
                            .format(label=label, path=path, reason=reason), hint=hint_for(exc.errno))


def target_of(path: Path) -> Path:
    """Write through symlinks (dotfile managers link config files): the real file."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)


def temp_name(target: Path, seq: int, kind: str) -> Path:
    return target.with_name(f".{target.name}.{seq}-{kind}{TEMP_SUFFIX}")


def lstat_or_none(path: Path) -> Optional[os.stat_result]:
    try:
        return os.lstat(path)
    except OSError:
        return None


def unlink_quiet(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(str(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes, mode: int, owner: Optional[tuple] = None) -> None:
    """A new file, fsynced, owner-only while the bytes go in, then given its mode (never set-id bits)."""
    unlink_quiet(path)  # a leftover of an interrupted run
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(str(path), flags, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode & 0o777)
        if owner is not None and hasattr(os, "fchown") and tuple(owner) != (os.getuid(), os.getgid()):
            try:
                os.fchown(fd, owner[0], owner[1])
            except OSError:
                pass
    except BaseException:
        os.close(fd)
        unlink_quiet(path)
        raise
    os.close(fd)
    if not hasattr(os, "fchmod"):
        os.chmod(path, mode & 0o777)


def default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def missing_dirs(folder: Path) -> list[Path]:
    """Folders that must be created (outermost first); fails on a file in the way."""
    missing = []
    current = folder
    while True:
        try:
            st = current.stat()
        except FileNotFoundError:
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
            continue
        except NotADirectoryError:
            raise NotWritableError(_("{folder}: a part of this path is a file, not a folder").format(folder=folder),
                                   hint=_("look at {first_file_ancestor}")
                                        .format(first_file_ancestor=first_file_ancestor(folder))) from None
        if not stat.S_ISDIR(st.st_mode):
            raise NotWritableError(_("{current}: is a file, but mirrorctl needs a folder there")
                                   .format(current=current),
                                   hint=_("move the file aside, or choose another scope"))
        break
    return list(reversed(missing))


def remove_dirs(dirs: Sequence[str]) -> None:
    """Remove the folders that are empty, deepest first (several files may share them)."""
    for folder in sorted(set(dirs), key=lambda d: len(Path(d).parts), reverse=True):
        try:
            os.rmdir(folder)
        except OSError:
            pass


def sweep(target: Path) -> None:
    """Remove what interrupted runs left beside a file: ``.NAME.*.mirrorctl-tmp``."""
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    prefix = f".{target.name}."
    for name in names:
        if name.startswith(prefix) and name.endswith(TEMP_SUFFIX):
            leftover = target.parent / name
            st = lstat_or_none(leftover)
            if st is not None and (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                unlink_quiet(leftover)


def remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
