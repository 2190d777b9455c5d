"""The journal on disk: one folder per change, read as data that is checked, never as orders.

Layout (in mirrorctl's state folder, private to the user)::

    journal/00000012/entry.json    what the change does, its state, one record per file
    journal/00000012/000.bak       the previous bytes of the first file (when it existed)

Entries are ordered by their sequence number (the folder name), never by the clock. An entry is
written *before* the first file is touched (state ``pending``), and marked ``committed`` once every
file is in place; ``undone`` after an undo, ``rolled-back`` after an interrupted change was put back.

Nothing read here is trusted: the state folder and every entry must belong to the user running
mirrorctl and not be writable by others (as OpenSSH's StrictModes and git's safe.directory
refuse such state), every field is checked, a backup must be a plain file inside its own entry,
and a damaged entry is reported as damaged without hiding the others.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from mirrorctl.errors import MirrorctlError, NotWritableError
from mirrorctl.i18n import N_, _

FORMAT = 2
PENDING, COMMITTED, UNDONE, ROLLED_BACK = "pending", "committed", "undone", "rolled-back"
STATES = (PENDING, COMMITTED, UNDONE, ROLLED_BACK)
_SEQ_DIR = re.compile(r"^[0-9]{8}$")
_LEGACY_DIR = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9]{3}$")  # entries of mirrorctl 0.1 (by clock time)
_BACKUP = re.compile(r"^[0-9]{3,6}\.bak$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
MAX_ENTRY_BYTES = 4 * 1024 * 1024


def sha256(data: Optional[bytes]) -> Optional[str]:
    import hashlib

    return None if data is None else hashlib.sha256(data).hexdigest()


class JournalTrustError(NotWritableError):
    """A state folder or entry that another user owns or can write: never read nor obeyed."""


@dataclass
class JournalFile:
    path: str  # absolute
    existed: bool
    backup: Optional[str]  # file name of the saved previous bytes, inside the entry folder
    written_sha256: Optional[str]  # None when the change removes the file
    before_sha256: Optional[str] = None  # None when the file did not exist
    tool: str = ""
    created_dirs: list[str] = field(default_factory=list)  # folders this change creates, outermost first
    mode: Optional[int] = None  # the file's permission bits before the change (it existed)
    uid: Optional[int] = None
    gid: Optional[int] = None


@dataclass
class JournalEntry:
    id: str  # the sequence number, as shown
    time: str  # UTC, ISO 8601: for people only, never for ordering
    command: str
    files: list[JournalFile]
    undone: Optional[str] = None  # when it was undone or rolled back
    seq: int = 0
    state: str = COMMITTED
    interrupted: bool = False  # rolled back after an interruption, not undone on request
    damaged: Optional[str] = None  # why this entry cannot be read (then only id is meaningful)
    folder: Optional[str] = None  # where it lies (not saved)
    notes: list[str] = field(default_factory=list)  # what the command should tell (not saved)

    @property
    def in_effect(self) -> bool:
        """Its files may hold what it wrote: the next undo is about this entry."""
        return self.state in (PENDING, COMMITTED)

    def to_json(self) -> bytes:
        import json

        data = {"format": FORMAT, "seq": self.seq, "id": self.id, "time": self.time, "command": self.command,
                "state": self.state, "undone": self.undone, "interrupted": self.interrupted,
                "files": [vars(f) for f in self.files]}
        return json.dumps(data, indent=2).encode("utf-8")


class _Bad(Exception):
    pass


def _want(value, kinds, what: str):
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise _Bad(_("field {field} has the wrong type").format(field=what))
    return value


def _opt(data: dict, key: str, kinds, default=None):
    value = data.get(key, default)
    return value if value is None else _want(value, kinds, key)


def _abs_path(value, what: str) -> str:
    _want(value, str, what)
    if "\x00" in value or not os.path.isabs(value) or ".." in Path(value).parts:
        raise _Bad(_("field {field} is not a clean absolute path").format(field=what))
    return value


def _file_from_dict(data, n: int) -> JournalFile:
    if not isinstance(data, dict):
        raise _Bad(_("file {n} is not a record").format(n=n))
    path = _abs_path(data.get("path"), "path")
    existed = _want(data.get("existed"), bool, "existed")
    backup = _opt(data, "backup", str)
    if existed != (backup is not None):
        raise _Bad(_("file {n}: a backup must be there exactly when the file existed").format(n=n))
    if backup is not None and not _BACKUP.match(backup):
        raise _Bad(_("file {n}: the backup name {backup!r} is not one mirrorctl writes").format(n=n, backup=backup))
    for key in ("written_sha256", "before_sha256"):
        value = _opt(data, key, str)
        if value is not None and not _SHA.match(value):
            raise _Bad(_("file {n}: {field} is not a SHA-256").format(n=n, field=key))
    dirs = data.get("created_dirs") or []
    if not isinstance(dirs, list):
        raise _Bad(_("file {n}: created_dirs is not a list").format(n=n))
    for folder in dirs:
        _abs_path(folder, "created_dirs")
    ints = {}
    for key in ("mode", "uid", "gid"):
        value = _opt(data, key, int)
        if value is not None and (value < 0 or (key.endswith("mode") and value > 0o7777)):
            raise _Bad(_("file {n}: {field} is out of range").format(n=n, field=key))
        ints[key] = value
    return JournalFile(path=path, existed=existed, backup=backup, written_sha256=data.get("written_sha256"),
                       before_sha256=data.get("before_sha256"), tool=_opt(data, "tool", str, "") or "",
                       created_dirs=list(dirs), mode=ints["mode"], uid=ints["uid"], gid=ints["gid"])


def entry_from_dict(data, folder_name: str) -> JournalEntry:
    """Check every field; raise _Bad with the reason."""
    if not isinstance(data, dict):
        raise _Bad(_("not a JSON object"))
    legacy = _LEGACY_DIR.match(folder_name) is not None
    files = data.get("files")
    if not isinstance(files, list):
        raise _Bad(_("files is not a list"))
    records = [_file_from_dict(f, n) for n, f in enumerate(files)]
    if len({r.path for r in records}) != len(records):
        raise _Bad(_("one file is listed twice"))
    state = _opt(data, "state", str, COMMITTED)
    if state not in STATES:
        raise _Bad(_("unknown state {state!r}").format(state=state))
    seq = 0 if legacy else _want(data.get("seq"), int, "seq")
    if not legacy and f"{seq:08d}" != folder_name:
        raise _Bad(_("its sequence number is not its folder's"))
    undone = _opt(data, "undone", str)
    if legacy and undone:
        state = UNDONE
    return JournalEntry(id=folder_name if legacy else str(seq), time=_opt(data, "time", str, "") or "",
                        command=_opt(data, "command", str, "") or "", files=records, undone=undone, seq=seq,
                        state=state, interrupted=bool(_opt(data, "interrupted", bool, False)))


# -- trust ----------------------------------------------------------------------------

#: the ``what`` words of check_owned and make_private_dir (callers pass the English key; the
#: messages say it in the user's language)
OWNED_WHAT = (N_("state folder"), N_("journal folder"), N_("journal entry"), N_("backup"), N_("cache folder"))

def check_owned(path: Path, what: str, *, folder: bool, follow: bool = False) -> os.stat_result:
    """The path (not followed if a link, unless ``follow``) must be ours, of the right kind, not
    writable by others."""
    st = os.stat(path) if follow else os.lstat(path)
    kind_ok = stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)
    if not kind_ok:
        template = _("{path}: mirrorctl's {what} is not a plain folder") if folder else \
            _("{path}: mirrorctl's {what} is not a plain file")
        raise JournalTrustError(template.format(path=path, what=_(what)),
                                hint=_("move it aside; mirrorctl will not read it"))
    if hasattr(os, "geteuid"):
        me = os.geteuid()
        if st.st_uid != me:
            raise JournalTrustError(
                _("{path}: mirrorctl's {what} belongs to user id {st_uid}, not to you ({me}); not read, "
                  "not used").format(path=path, what=_(what), st_uid=st.st_uid, me=me),
                hint=_("run mirrorctl as that user, or set MIRRORCTL_STATE_DIR to a folder of your own"))
        if st.st_mode & 0o022:
            raise JournalTrustError(_("{path}: mirrorctl's {what} can be written by other users; not read, not used")
                                    .format(path=path, what=_(what)),
                                    hint=_("chmod go-w {path}, then run again").format(path=path))
    return st


def make_private_dir(path: Path, what: str = "state folder") -> None:
    """Create (0700) or check a folder of mirrorctl's own."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise NotWritableError(_("{path}: cannot create mirrorctl's {what} ({strerror})")
                               .format(path=path, what=_(what), strerror=exc.strerror),
                               hint=_("free some space, or set MIRRORCTL_STATE_DIR to a folder you can write")) from None
    check_owned(path, what, folder=True, follow=what == "state folder")  # a dotfiles link to it is fine


# -- reading --------------------------------------------------------------------------

def journal_dir(state_dir: Path) -> Path:
    return state_dir / "journal"


def _entry_dirs(root: Path) -> list[tuple[tuple, str]]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise MirrorctlError(_("{root}: cannot read mirrorctl's journal ({strerror})")
                             .format(root=root, strerror=exc.strerror),
                             hint=_("check that folder's permissions")) from None
    keyed = []
    for name in names:
        if _SEQ_DIR.match(name):
            keyed.append(((1, int(name)), name))
        elif _LEGACY_DIR.match(name):
            keyed.append(((0, name), name))
    return sorted(keyed, reverse=True)


def read_entry(root: Path, name: str) -> Optional[JournalEntry]:
    """One entry; a damaged one comes back with ``damaged`` set. None: a folder left by an
    interruption before its entry was complete (no file was touched then)."""
    folder = root / name
    shown = JournalEntry(id=name.lstrip("0") or "0", time="", command="", files=[], folder=str(folder),
                         seq=int(name) if _SEQ_DIR.match(name) else 0)
    try:
        check_owned(folder, "journal entry", folder=True)
        manifest = folder / "entry.json"
        try:
            check_owned(manifest, "journal entry", folder=False)
        except FileNotFoundError:
            return None
        import json

        with open(manifest, "rb") as handle:
            raw = handle.read(MAX_ENTRY_BYTES + 1)
        if len(raw) > MAX_ENTRY_BYTES:
            raise _Bad(_("entry.json is too large"))
        entry = entry_from_dict(json.loads(raw.decode("utf-8")), name)
    except JournalTrustError as exc:
        shown.damaged = exc.message
        return shown
    except (_Bad, ValueError, RecursionError, OSError) as exc:
        shown.damaged = f"{exc}" if isinstance(exc, _Bad) else _("entry.json cannot be read ({reason})").format(
            reason=type(exc).__name__)
        return shown
    entry.folder = str(folder)
    return entry


def iter_entries(state_dir: Path) -> Iterator[JournalEntry]:
    """Entries, newest (highest sequence number) first; damaged ones included, marked."""
    root = journal_dir(state_dir)
    if not root.exists():
        return
    check_owned(state_dir, "state folder", folder=True, follow=True)
    check_owned(root, "journal folder", folder=True)
    for _key, name in _entry_dirs(root):
        entry = read_entry(root, name)
        if entry is not None:
            yield entry


def incomplete_dirs(state_dir: Path) -> list[Path]:
    """Entry folders without an entry.json: a command stopped while it wrote its entry."""
    root = journal_dir(state_dir)
    return [root / name for _, name in _entry_dirs(root) if not (root / name / "entry.json").exists()]


def next_seq(state_dir: Path) -> int:
    numbered = [key[1] for key, _ in _entry_dirs(journal_dir(state_dir)) if key[0] == 1]
    return (max(numbered) if numbered else 0) + 1


def read_backup(entry: JournalEntry, record: JournalFile) -> bytes:
    """The saved previous bytes: a plain file of ours inside the entry's own folder."""
    assert entry.folder is not None and record.backup is not None
    path = Path(entry.folder) / record.backup
    try:
        check_owned(path, "backup", folder=False)
        with open(path, "rb") as handle:
            data = handle.read()
    except JournalTrustError:
        raise
    except OSError as exc:
        raise MirrorctlError(_("{path}: the backup of {path2} cannot be read ({strerror})")
                             .format(path=path, path2=record.path, strerror=exc.strerror),
                             hint=_("the journal is damaged; restore that file by hand")) from None
    if record.before_sha256 is not None and sha256(data) != record.before_sha256:
        raise MirrorctlError(_("{path}: the backup of {path2} does not match what was saved")
                             .format(path=path, path2=record.path),
                             hint=_("the journal is damaged; restore that file by hand"))
    return data


def pending(state_dir: Path) -> Optional[JournalEntry]:
    """A change left half-done, if the newest entry is one (no lock, and light: status asks it)."""
    try:
        newest = next(iter(iter_entries(state_dir)), None)
    except MirrorctlError:
        return None
    return newest if newest is not None and newest.state == PENDING else None
