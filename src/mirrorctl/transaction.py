"""Apply a set of file changes: locked, write-ahead journaled, atomic, all-or-nothing, undoable.

The order of every write (the shape of SQLite's rollback journal):

1. under one lock, put back any change an earlier run left half-done (see :func:`recover`);
2. the journal entry -- the previous bytes, mode and owner of every file, the hash of what will be
   written, a sequence number -- is written, fsynced and its folder fsynced (state ``pending``);
3. the new bytes go to temp files beside their targets (``.NAME.SEQ-new.mirrorctl-tmp``), fsynced;
4. each target gets a second name (a hard link ``.NAME.SEQ-old.mirrorctl-tmp``), then the temp file
   is renamed over it; the folder is fsynced;
5. the entry is marked ``committed`` (the commit mark), then the second names are removed.

A failure anywhere in 3-5 puts every file back; a kill leaves a pending entry that the next command
(or ``undo``) puts back. Putting back never needs free space where the old file still has its
second name: it is renamed back. Ctrl-C, SIGTERM and SIGHUP are held while the files change: they
stop the change at the next step, and what was done is put back. Every step is idempotent: a file
already back as it was is left alone, so a put-back that is itself interrupted is finished next time.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from mirrorctl import fsio, journal as jr
from mirrorctl.changes import FileChange, check_replaceable, keep_link, read_bytes
from mirrorctl.errors import ConfigFileError, ConflictError, ExitCode, MirrorctlError, NotWritableError
from mirrorctl.journal import JournalEntry, JournalFile, sha256
from mirrorctl.i18n import _, ngettext

__all__ = ["FileChange", "JournalEntry", "JournalFile", "UndoResult", "apply", "undo", "recover", "history",
           "read_bytes"]


@dataclass
class UndoResult:
    entry: JournalEntry
    restored: list[FileChange]
    forced: list[str] = field(default_factory=list)
    interrupted: bool = False  # the entry was a change left half-done, now rolled back
    already: bool = False  # its files were already as before it: only the record was made


def _now() -> str:
    import datetime as _dt

    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# -- one file of a change -----------------------------------------------------------------

@dataclass
class _Item:
    change: FileChange
    record: JournalFile
    target: Path
    original: Optional[os.stat_result]
    new_temp: Optional[Path] = None
    old_link: Optional[Path] = None


def _plan_item(change: FileChange) -> _Item:
    check_replaceable(change.path)
    target = fsio.target_of(change.path)
    original = None
    if change.before is not None:
        try:
            original = os.stat(target)
        except OSError:
            original = None
    missing = fsio.missing_dirs(target.parent) if change.after is not None else []
    record = JournalFile(path=os.path.abspath(change.path), existed=change.before is not None, backup=None,
                         written_sha256=sha256(change.after), before_sha256=sha256(change.before), tool=change.tool,
                         created_dirs=[str(d) for d in missing])
    if original is not None:
        record.mode, record.uid, record.gid = stat.S_IMODE(original.st_mode), original.st_uid, original.st_gid
    return _Item(change, record, target, original)


def _new_mode(item: _Item) -> tuple[int, Optional[tuple]]:
    change = item.change
    if item.original is not None:
        mode, owner = stat.S_IMODE(item.original.st_mode), (item.original.st_uid, item.original.st_gid)
    else:
        mode, owner = (change.mode if change.mode is not None else fsio.default_mode()), change.owner
    if change.private:
        mode = 0o600
    return mode & 0o777, owner


def _stage(item: _Item, seq: int) -> None:
    for folder in item.record.created_dirs:
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
    if item.change.after is None:
        return
    item.new_temp = fsio.temp_name(item.target, seq, "new")
    mode, owner = _new_mode(item)
    fsio.write_file(item.new_temp, item.change.after, mode, owner)


def _swap(item: _Item, seq: int) -> None:
    check_replaceable(item.target)  # again, right before: a FIFO or a link put there since is never replaced
    if item.original is not None:
        old = fsio.temp_name(item.target, seq, "old")
        fsio.unlink_quiet(old)
        try:
            os.link(item.target, old)
            item.old_link = old
        except OSError:  # no hard links here (some file systems): the journal's copy will do
            item.old_link = None
    if item.new_temp is None:
        try:
            os.unlink(item.target)
        except FileNotFoundError:
            pass
    else:
        os.replace(item.new_temp, item.target)
    fsio.fsync_dir(item.target.parent)


# -- writing the entry --------------------------------------------------------------------

def _save_entry(entry: JournalEntry) -> None:
    """Durably (re)write entry.json: temp, fsync, rename, fsync the folder."""
    folder = Path(str(entry.folder))
    temp = folder / "entry.json.tmp"
    fsio.write_file(temp, entry.to_json(), 0o600)
    os.replace(temp, folder / "entry.json")
    fsio.fsync_dir(folder)


def _write_ahead(state_dir: Path, entry: JournalEntry, items: Sequence[_Item]) -> None:
    """The entry and every backup, on disk before any file is touched."""
    root = jr.journal_dir(state_dir)
    jr.make_private_dir(root, "journal folder")
    folder = root / f"{entry.seq:08d}"
    entry.folder = str(folder)
    try:
        os.mkdir(folder, 0o700)
        for n, item in enumerate(items):
            if item.change.before is not None:
                item.record.backup = f"{n:03d}.bak"
                fsio.write_file(folder / item.record.backup, item.change.before, 0o600)
        _save_entry(entry)
        fsio.fsync_dir(root)
    except OSError as exc:
        fsio.remove_tree(folder)
        raise fsio.not_writable(state_dir, exc, what="mirrorctl's journal in") from None


# -- apply --------------------------------------------------------------------------------

def apply(changes: Sequence[FileChange], *, state_dir: Path, command: str) -> Optional[JournalEntry]:
    """Write the changes under the lock, journaled ahead; returns the entry (None if nothing changed).

    ``entry.notes`` says what else was done first (an interrupted change rolled back)."""
    todo = [keep_link(c) for c in changes if c.changed]
    if not todo:
        return None
    if len({os.path.abspath(c.path) for c in todo}) != len(todo):
        raise ValueError("one file, several changes: merge them first (changes.merge_same_path)")
    with fsio.locked(state_dir), fsio.HeldSignals() as held:
        notes = _recover_locked(state_dir)
        for change in todo:  # someone else wrote in between: plan again rather than clobber
            if read_bytes(change.path) != change.before:
                raise ConflictError(_("{path}: changed while mirrorctl was working on it").format(path=change.path),
                                    hint=_("run the command again"))
        items = [_plan_item(c) for c in todo]
        seq = jr.next_seq(state_dir)
        entry = JournalEntry(id=str(seq), seq=seq, time=_now(), command=command, files=[i.record for i in items],
                             state=jr.PENDING)
        held.check()
        _write_ahead(state_dir, entry, items)
        where = Path(entry.files[0].path)  # the file a failure is about
        try:
            held.check()
            for item in items:
                where = item.target
                _stage(item, seq)
                held.check()
            for item in items:
                where = item.target
                _swap(item, seq)
                held.check()
            where = state_dir
            entry.state = jr.COMMITTED
            _save_entry(entry)  # the commit mark
        except BaseException as exc:
            _roll_back_after(entry, exc, where)
            raise  # not reached: _roll_back_after raises
        for item in items:
            if item.old_link is not None:
                fsio.unlink_quiet(item.old_link)
                fsio.fsync_dir(item.target.parent)
        entry.notes = notes
        return entry


def _roll_back_after(entry: JournalEntry, exc: BaseException, where: Path) -> None:
    """Put every file of a failed change back, then re-raise ``exc`` as the user's error."""
    try:
        _put_back(entry, force=False, final=jr.ROLLED_BACK, interrupted=True, leave_others=True)
    except (MirrorctlError, OSError) as second:
        detail = second.message if isinstance(second, MirrorctlError) else \
            fsio.not_writable(where, second).message.split(": cannot write ", 1)[-1]
        left = ", ".join(_still_changed(entry)) or "none"
        raise NotWritableError(
            _("{value}, and putting the files back failed too ({detail}); still changed: {left}")
            .format(value=_describe(exc, where), detail=detail, left=left),
            hint=_("nothing is lost: the previous files are kept in {folder}; `mirrorctl undo` puts them "
                   "back").format(folder=entry.folder)) from None
    if not _leftovers(entry):  # the change never happened: no entry (a partial removal is swept)
        fsio.remove_tree(Path(str(entry.folder)))  # else it stays, rolled back, for the next run to tidy
    if isinstance(exc, KeyboardInterrupt):
        raise MirrorctlError(_("interrupted: every file was put back as it was"), exit_code=ExitCode.INTERRUPTED) from None
    if isinstance(exc, OSError):
        raise fsio.not_writable(where, exc, what="mirrorctl's journal in" if where == _state_dir_of(entry) else "") from None
    raise exc


def _still_changed(entry: JournalEntry) -> list[str]:
    out = []
    for record in entry.files:
        try:
            if sha256(read_bytes(Path(record.path))) != record.before_sha256:
                out.append(record.path)
        except MirrorctlError:
            out.append(record.path)
    return out


def _state_dir_of(entry: JournalEntry) -> Path:
    """The state folder an entry lies in."""
    return Path(str(entry.folder)).parent.parent


def _describe(exc: BaseException, where: Path) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, MirrorctlError):
        return exc.message
    if isinstance(exc, OSError):
        return fsio.not_writable(where, exc).message
    return f"{type(exc).__name__}: {exc}"


# -- putting files back (rollback, recovery, undo) ----------------------------------------

@dataclass
class _Back:
    record: JournalFile
    path: Path
    target: Path
    current: Optional[bytes]
    previous: Optional[bytes] = None
    source: Optional[Path] = None  # a file to rename over the target (second name, or a staged temp)


def _plan_back(entry: JournalEntry, force: bool) -> tuple[list[_Back], list[str]]:
    """What must be restored (the rest is already as it was), and which files were edited since."""
    todo, edited = [], []
    for record in entry.files:
        path = Path(record.path)
        try:
            current = read_bytes(path)
        except ConfigFileError:  # a FIFO, a device, a folder: nothing mirrorctl wrote, never replaced
            edited.append(record.path)
            continue
        digest = sha256(current)
        if digest == record.before_sha256 and (current is None) == (not record.existed):
            continue  # as it was: never written, or already put back
        if digest != record.written_sha256:
            edited.append(record.path)
            if not force:
                continue
        todo.append(_Back(record, path, fsio.target_of(path), current))
    return todo, edited


def _put_back(entry: JournalEntry, *, force: bool, final: str, interrupted: bool,
              dry_run: bool = False, leave_others: bool = False) -> UndoResult:
    """Restore what the entry wrote. A file changed by someone else since is a conflict (or, with
    ``leave_others``, for a rollback right after a failed write: left as the other writer left it)."""
    todo, edited = _plan_back(entry, force)
    if edited and not force and not leave_others:
        raise ConflictError(_("not undone: edited after mirrorctl wrote it: {paths}").format(paths=', '.join(edited)),
                            hint=_("look at the file; `mirrorctl undo --force` restores it anyway, losing those edits"))
    for back in todo:
        if back.record.existed:
            back.previous = jr.read_backup(entry, back.record)
    restored = [FileChange(b.path, b.current, b.previous if b.record.existed or not os.path.islink(b.path) else b"",
                           tool=b.record.tool) for b in todo]
    result = UndoResult(entry=entry, restored=restored, forced=edited if force else [], interrupted=interrupted)
    if dry_run:
        return result
    seq = entry.seq
    staged: list[_Back] = []
    try:
        for back in todo:
            _stage_back(back, seq)
            staged.append(back)
    except OSError as exc:
        for back in staged:
            if back.source is not None and back.source.name.endswith(f"{seq}-undo{fsio.TEMP_SUFFIX}"):
                fsio.unlink_quiet(back.source)
        raise fsio.not_writable(back.target, exc) from None
    for back in todo:
        if back.source is not None:
            os.replace(back.source, back.target)
        else:
            try:
                os.unlink(back.target)
            except FileNotFoundError:
                pass
        fsio.fsync_dir(back.target.parent)
    for record in entry.files:
        fsio.sweep(fsio.target_of(Path(record.path)))
    fsio.remove_dirs([d for r in entry.files if not r.existed for d in r.created_dirs])
    entry.state, entry.undone, entry.interrupted = final, _now(), interrupted
    try:
        _save_entry(entry)
    except OSError as exc:  # the files are back; the next undo (or run) records it and takes back no more
        state = _state_dir_of(entry)
        raise NotWritableError(
            _("the files are back as before, but mirrorctl's journal in {state} could not record it "
              "({split})")
            .format(state=state, split=fsio.not_writable(state, exc).message.split(': cannot write ', 1)[-1]),
            hint=_("free some space there, then run `mirrorctl undo` again: it records this and takes back "
                   "nothing more")) from None
    return result


def _stage_back(back: _Back, seq: int) -> None:
    record = back.record
    if not record.existed and not os.path.islink(back.path):
        return  # removed
    if record.existed:
        old = fsio.temp_name(back.target, seq, "old")
        st = fsio.lstat_or_none(old)
        if st is not None and stat.S_ISREG(st.st_mode):
            try:
                with open(old, "rb") as handle:
                    if sha256(handle.read()) == record.before_sha256:
                        back.source = old  # the very file, renamed back: no space needed
                        return
            except OSError:
                pass
    data = back.previous if record.existed else b""  # a file the user has since linked in is emptied
    mode = record.mode if record.mode is not None else fsio.default_mode()
    owner = None
    if record.uid is not None and record.gid is not None:
        st = fsio.lstat_or_none(back.target)
        # the journal's owner only where it is the file's own or ours: never give a file away
        if (st is not None and st.st_uid == record.uid) or (hasattr(os, "geteuid") and os.geteuid() == record.uid):
            owner = (record.uid, record.gid)
    if not record.existed:
        st = fsio.lstat_or_none(back.target)
        mode = stat.S_IMODE(st.st_mode) if st is not None else mode
    back.source = fsio.temp_name(back.target, seq, "undo")
    fsio.write_file(back.source, data or b"", mode, owner)


# -- recovery, undo, history ------------------------------------------------------------

def _tidy(entry: JournalEntry) -> None:
    """Remove what an interrupted run left of this entry: temp files beside its files and, once it is
    no longer in effect, the empty folders it had created."""
    for record in entry.files:
        fsio.sweep(fsio.target_of(Path(record.path)))
    if not entry.in_effect:
        fsio.remove_dirs([d for r in entry.files if not r.existed for d in r.created_dirs])


def _leftovers(entry: JournalEntry) -> list[Path]:
    """Temp files, and empty folders the change created, still there after a tidy that failed."""
    out = []
    for record in entry.files:
        target = fsio.target_of(Path(record.path))
        prefix = f".{target.name}."
        try:
            names = os.listdir(target.parent)
        except OSError:
            names = []
        out += [target.parent / n for n in names if n.startswith(prefix) and n.endswith(fsio.TEMP_SUFFIX)]
        if not record.existed:
            for folder in record.created_dirs:
                try:
                    if not os.listdir(folder):
                        out.append(Path(folder))
                except OSError:
                    pass
    return out


def _recover_locked(state_dir: Path) -> list[str]:
    """Put back a change an earlier run left half-done; sweep what it left. Returns notes."""
    for folder in jr.incomplete_dirs(state_dir):
        fsio.remove_tree(folder)  # stopped while writing its entry: no file was touched yet
    newest = next(iter(jr.iter_entries(state_dir)), None)
    if newest is None or newest.damaged:
        return []
    if newest.state != jr.PENDING:
        _tidy(newest)
        return []
    try:
        result = _put_back(newest, force=False, final=jr.ROLLED_BACK, interrupted=True)
    except ConflictError as exc:
        raise ConflictError(_("an interrupted change (entry {id}, `{command}`) cannot be rolled back: {split}")
                            .format(id=newest.id, command=newest.command, split=exc.message.split(': ', 1)[-1]),
                            hint=_("`mirrorctl undo` rolls it back (`undo --force` even over those edits)")) from None
    files = len(result.restored)
    return [ngettext("rolled back an interrupted change first: `{command}` (entry {entry}; {n} file put back)",
                     "rolled back an interrupted change first: `{command}` (entry {entry}; {n} files put back)",
                     files).format(command=newest.command, entry=newest.id, n=files)]


def recover(state_dir: Path) -> list[str]:
    """Deal with a change an earlier run left half-done (killed, power lost): put its files back.

    Returns what was done, for the command to say. Cheap when there is nothing to do."""
    if not jr.journal_dir(state_dir).exists():
        return []
    with fsio.locked(state_dir), fsio.HeldSignals():
        return _recover_locked(state_dir)


def undo(state_dir: Path, *, force: bool = False, dry_run: bool = False) -> UndoResult:
    """Restore the files of the newest change still in effect, exactly.

    A change left half-done by an interruption is that change: it is rolled back, and the change
    before it stays."""
    with fsio.locked(state_dir), fsio.HeldSignals():
        for folder in jr.incomplete_dirs(state_dir):
            fsio.remove_tree(folder)
        entries = jr.iter_entries(state_dir)
        newest = next(entries, None)
        if newest is not None and not newest.damaged and not newest.in_effect:
            _tidy(newest)  # what an interrupted rollback or undo left
        entry = newest if newest is not None and newest.in_effect else next((e for e in entries if e.in_effect), None)
        if entry is None:
            raise MirrorctlError(_("nothing to undo: the journal has no change left"),
                                 hint=_("`mirrorctl history` lists what was done"), exit_code=ExitCode.NOTHING_TO_UNDO)
        if entry.damaged:
            raise ConfigFileError(_("the newest change (entry {id}) cannot be undone: {damaged}")
                                  .format(id=entry.id, damaged=entry.damaged),
                                  hint=_("look at {folder}; move it aside to undo the changes before it")
                                       .format(folder=entry.folder))
        interrupted = entry.state == jr.PENDING
        result = _put_back(entry, force=force, final=jr.ROLLED_BACK if interrupted else jr.UNDONE,
                           interrupted=interrupted, dry_run=dry_run)
        # files already as before it (an undo whose record could not be written, a hand restore):
        # recorded now, and nothing more is taken back
        result.already = not result.restored and not result.forced
        return result


def history(state_dir: Path, limit: Optional[int] = None) -> list[JournalEntry]:
    entries = list(jr.iter_entries(state_dir))
    return entries[:limit] if limit else entries
