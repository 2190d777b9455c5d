"""Apply a set of file changes: locked, atomic, all-or-nothing, journaled for undo.

Every command that writes goes through :func:`apply`. The journal (in the user
state dir, readable by the user only) keeps, for each file, its previous bytes
(or the fact that it did not exist) and a hash of what was written, so
:func:`undo` can restore the files exactly and refuse when one was edited since.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence

from mirrorctl.changes import FileChange, first_file_ancestor as _first_file_ancestor, keep_link, read_bytes
from mirrorctl.errors import ConfigFileError, ConflictError, ExitCode, MirrorctlError, NotWritableError

__all__ = ["FileChange", "read_bytes", "apply", "undo", "history", "write_all"]

LOCK_TIMEOUT = 30.0


@dataclass
class JournalFile:
    path: str
    existed: bool
    backup: Optional[str]  # file name of the saved previous bytes, inside the entry folder
    written_sha256: Optional[str]  # None when the change removed the file
    tool: str = ""
    created_dirs: list[str] = field(default_factory=list)
    mode: Optional[int] = None  # the file's permission bits before the change (it existed)
    uid: Optional[int] = None
    gid: Optional[int] = None


@dataclass
class JournalEntry:
    id: str
    time: str
    command: str
    files: list[JournalFile]
    undone: Optional[str] = None  # when it was undone

    @classmethod
    def from_dict(cls, data: dict) -> "JournalEntry":
        files = [JournalFile(**f) for f in data.get("files", [])]
        return cls(id=data["id"], time=data["time"], command=data.get("command", ""), files=files,
                   undone=data.get("undone"))


@dataclass
class UndoResult:
    entry: JournalEntry
    restored: list[FileChange]
    forced: list[str] = field(default_factory=list)


def sha256(data: Optional[bytes]) -> Optional[str]:
    import hashlib

    return None if data is None else hashlib.sha256(data).hexdigest()


# -- the lock -------------------------------------------------------------------

class _Locked:
    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self._lock = None

    def __enter__(self):
        from filelock import FileLock, Timeout

        _make_private_dir(self.state_dir)
        self._lock = FileLock(str(self.state_dir / "lock"), timeout=LOCK_TIMEOUT)
        try:
            self._lock.acquire()
        except Timeout:
            raise MirrorctlError(
                f"another mirrorctl has held {self.state_dir / 'lock'} for {LOCK_TIMEOUT:.0f} s",
                hint="wait for it to finish; if none is running, delete that lock file",
            ) from None
        return self

    def __exit__(self, *exc):
        self._lock.release()
        return False


def locked(state_dir: Path) -> _Locked:
    return _Locked(state_dir)


def _make_private_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise NotWritableError(f"{path}: cannot create mirrorctl's state folder ({exc.strerror})",
                               hint="set MIRRORCTL_STATE_DIR to a folder you can write") from None


# -- writing ----------------------------------------------------------------------

def _missing_dirs(folder: Path) -> list[Path]:
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
            raise NotWritableError(f"{folder}: a part of this path is a file, not a folder",
                                   hint=f"look at {_first_file_ancestor(folder)}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise NotWritableError(f"{current}: is a file, but mirrorctl needs a folder there",
                                   hint="move the file aside, or choose another scope")
        break
    return list(reversed(missing))


def _permission_error(path: Path, exc: OSError) -> MirrorctlError:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "read-only file system" if exc.errno == errno.EROFS else "permission denied"
        return NotWritableError(f"{path}: cannot write ({reason})",
                                hint="run with sudo for the global scope, or choose --scope user")
    if exc.errno == errno.EISDIR:
        return ConfigFileError(f"{path}: is a folder, not a file", hint="move the folder aside, or choose another scope")
    return NotWritableError(f"{path}: cannot write ({exc.strerror or exc})", hint="check the path and free disk space")


def _target_of(path: Path) -> Path:
    """Write through symlinks (dotfile managers link config files): the real file."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


@dataclass
class _Staged:
    change: FileChange
    target: Path
    temp: Optional[str]
    created_dirs: list[Path]
    original: Optional[os.stat_result] = None  # the file as it was, to put it back on rollback


def _stage(change: FileChange) -> _Staged:
    """Write the new bytes to a temp file beside the target (nothing visible changes yet)."""
    target = _target_of(change.path)
    created = _missing_dirs(target.parent)
    original = _stat_or_none(target)
    if change.after is None:
        return _Staged(change, target, None, [], original)
    for folder in created:
        try:
            folder.mkdir()
        except OSError as exc:
            _remove_dirs(created)
            raise _permission_error(folder, exc) from None
    try:
        import tempfile

        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".mirrorctl-tmp", dir=str(target.parent))
    except OSError as exc:
        _remove_dirs(created)
        raise _permission_error(target, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(change.after)
            handle.flush()
            os.fsync(handle.fileno())
        if original is not None:
            _copy_mode(temp, stat.S_IMODE(original.st_mode), (original.st_uid, original.st_gid))
        else:
            _copy_mode(temp, change.mode if change.mode is not None else _default_mode(), change.owner)
    except OSError as exc:
        _silent_unlink(temp)
        _remove_dirs(created)
        raise _permission_error(target, exc) from None
    return _Staged(change, target, temp, created, original)


def _stat_or_none(path: Path) -> Optional[os.stat_result]:
    try:
        return os.stat(path)
    except OSError:
        return None


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _copy_mode(path: str, mode: int, owner: Optional[tuple]) -> None:
    """Give a file these permission bits and, when we may (root), this owner."""
    os.chmod(path, mode)
    if owner is not None and hasattr(os, "chown") and owner != (os.getuid(), os.getgid()):
        try:
            os.chown(path, owner[0], owner[1])
        except OSError:
            pass


def _silent_unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _remove_dirs(dirs: Sequence[Path]) -> None:
    """Remove the folders that are empty, deepest first (several files may share them)."""
    for folder in sorted(set(dirs), key=lambda d: len(Path(d).parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass


def _fsync_dir(folder: Path) -> None:
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


def _commit(staged: _Staged) -> None:
    if staged.temp is None:
        try:
            os.unlink(staged.target)
        except FileNotFoundError:
            pass
    else:
        os.replace(staged.temp, staged.target)
    _fsync_dir(staged.target.parent)


def _restore(staged: _Staged) -> None:
    """Put back what a committed change replaced (used when a later file fails)."""
    before = staged.change.before
    if before is None:
        _silent_unlink(str(staged.target))
        return
    import tempfile

    target = staged.target
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".mirrorctl-tmp", dir=str(target.parent))
    with os.fdopen(fd, "wb") as handle:
        handle.write(before)
        handle.flush()
        os.fsync(handle.fileno())
    original = staged.original
    if original is not None:
        _copy_mode(temp, stat.S_IMODE(original.st_mode), (original.st_uid, original.st_gid))
    os.replace(temp, target)


def write_all(changes: Sequence[FileChange]) -> list[_Staged]:
    """All-or-nothing: stage every file first, then swap them in; undo the swaps on failure."""
    staged: list[_Staged] = []
    try:
        for change in changes:
            staged.append(_stage(change))
    except BaseException:
        for item in staged:
            if item.temp:
                _silent_unlink(item.temp)
        _remove_dirs([d for item in staged for d in item.created_dirs])
        raise
    committed: list[_Staged] = []
    try:
        for item in staged:
            try:
                _commit(item)
            except OSError as exc:
                raise _permission_error(item.target, exc) from None
            committed.append(item)
    except BaseException:
        for item in reversed(committed):
            try:
                _restore(item)
            except OSError:
                pass
        for item in staged:
            if item not in committed and item.temp:
                _silent_unlink(item.temp)
        _remove_dirs([d for item in staged for d in item.created_dirs])
        raise
    return staged


# -- the journal ------------------------------------------------------------------

def journal_dir(state_dir: Path) -> Path:
    return state_dir / "journal"


def _new_entry_id(root: Path) -> str:
    import datetime as _dt

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    n = 1
    while (root / f"{stamp}-{n:03d}").exists():
        n += 1
    return f"{stamp}-{n:03d}"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def iter_entries(state_dir: Path) -> Iterator[JournalEntry]:
    """Journal entries, newest first; unreadable ones are skipped."""
    import json

    root = journal_dir(state_dir)
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir(), reverse=True):
        manifest = folder / "entry.json"
        try:
            yield JournalEntry.from_dict(json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            continue


def _save_entry(state_dir: Path, entry: JournalEntry) -> None:
    import json

    folder = journal_dir(state_dir) / entry.id
    _write_private(folder / "entry.json.tmp", json.dumps(asdict(entry), indent=2).encode("utf-8"))
    os.replace(folder / "entry.json.tmp", folder / "entry.json")


def apply(changes: Sequence[FileChange], *, state_dir: Path, command: str) -> Optional[JournalEntry]:
    """Write the changes under the lock, journaled; returns the journal entry (None if nothing changed)."""
    todo = [keep_link(c) for c in changes if c.changed]
    if not todo:
        return None
    if len({str(c.path) for c in todo}) != len(todo):
        raise ValueError("one file, several changes: merge them first (changes.merge_same_path)")
    with locked(state_dir):
        for change in todo:  # someone else wrote in between: plan again rather than clobber
            if read_bytes(change.path) != change.before:
                raise ConflictError(f"{change.path}: changed while mirrorctl was working on it",
                                    hint="run the command again")
        root = journal_dir(state_dir)
        _make_private_dir(root)
        entry = JournalEntry(id=_new_entry_id(root), time=_now(), command=command, files=[])
        folder = root / entry.id
        _make_private_dir(folder)
        for n, change in enumerate(todo):
            backup = None
            if change.before is not None:
                backup = f"{n:03d}.bak"
                _write_private(folder / backup, change.before)
            record = JournalFile(path=str(change.path), existed=change.before is not None,
                                 backup=backup, written_sha256=sha256(change.after), tool=change.tool)
            original = _stat_or_none(_target_of(change.path))
            if original is not None:
                record.mode, record.uid, record.gid = stat.S_IMODE(original.st_mode), original.st_uid, original.st_gid
            entry.files.append(record)
        try:
            staged = write_all(todo)
        except BaseException:
            _remove_tree(folder)
            raise
        for item, record in zip(staged, entry.files):
            record.created_dirs = [str(d) for d in item.created_dirs]
        _save_entry(state_dir, entry)
        return entry


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _now() -> str:
    import datetime as _dt

    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def undo(state_dir: Path, *, force: bool = False, dry_run: bool = False) -> UndoResult:
    """Restore the files of the newest entry not yet undone, exactly."""
    with locked(state_dir):
        entry = next((e for e in iter_entries(state_dir) if not e.undone), None)
        if entry is None:
            raise MirrorctlError("nothing to undo: the journal has no change left",
                                 hint="`mirrorctl history` lists what was done", exit_code=ExitCode.NOTHING_TO_UNDO)
        folder = journal_dir(state_dir) / entry.id
        changes, edited = [], []
        for record in entry.files:
            path = Path(record.path)
            current = read_bytes(path)
            if sha256(current) != record.written_sha256:
                edited.append(record.path)
            previous = None
            if record.existed:
                try:
                    previous = (folder / str(record.backup)).read_bytes()
                except OSError as exc:
                    raise MirrorctlError(f"{folder / str(record.backup)}: the backup cannot be read ({exc.strerror})",
                                         hint="the journal is damaged; restore the file by hand") from None
            owner = (record.uid, record.gid) if record.uid is not None and record.gid is not None else None
            changes.append(FileChange(path=path, before=current, after=previous, tool=record.tool, mode=record.mode,
                                      owner=owner))
        if edited and not force:
            names = ", ".join(edited)
            raise ConflictError(f"not undone: edited after mirrorctl wrote it: {names}",
                                hint="look at the file; `mirrorctl undo --force` restores it anyway, losing those edits")
        # a file the user has since replaced by a link (stow, a dotfiles "adopt") is emptied, not deleted
        result = UndoResult(entry=entry, restored=[keep_link(c) for c in changes if c.changed], forced=edited)
        if dry_run:
            return result
        write_all(result.restored)
        _remove_dirs([Path(d) for record in entry.files if not record.existed for d in record.created_dirs])
        entry.undone = _now()
        _save_entry(state_dir, entry)
        return result


def history(state_dir: Path, limit: Optional[int] = None) -> list[JournalEntry]:
    entries = list(iter_entries(state_dir))
    return entries[:limit] if limit else entries
