"""One error type with a message and a hint, and every exit code in one place."""

from __future__ import annotations

import enum
import errno

from mirrorctl.i18n import _


class ExitCode(enum.IntEnum):
    """Exit codes of the ``mirrorctl`` command (documented in docs/usage.md)."""

    OK = 0
    ERROR = 1  # anything not listed below
    USAGE = 2  # bad arguments: unknown mirror name, bad URL, bad option (click uses 2 too)
    CHANGES_PENDING = 3  # ``--check``: the configuration is not yet in the asked state
    BAD_CONFIG = 4  # a configuration file (pip.conf, catalogue, ...) cannot be read
    NOT_WRITABLE = 5  # a file or folder cannot be written (permission, a folder in the way)
    CONFLICT = 6  # undo: a file was edited after mirrorctl wrote it
    NO_HEALTHY_MIRROR = 7  # bench / use fastest: no mirror answered correctly
    NOTHING_TO_UNDO = 8  # undo with an empty journal
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT): a change under way was put back
    OUTPUT_CLOSED = 141  # stdout closed early (`mirrorctl list | head -1`): 128 + SIGPIPE, as a shell reports
    NOT_EXECUTABLE = 126  # exec: the command is there but cannot be run (as a shell answers)
    COMMAND_NOT_FOUND = 127  # exec: no such command (as a shell answers)


class MirrorctlError(Exception):
    """An error the user can act on: a one-line message, a hint, an exit code."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None, *, exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message

    _code: str | None = None

    @property
    def code(self) -> str:
        """A stable machine code for the error (never translated): its exit code's name in lower
        case (``bad_config``, ``usage``), or a finer one a raiser sets (``not_an_index``)."""
        return self._code or self.exit_code.name.lower()

    @code.setter
    def code(self, value: str) -> None:
        self._code = value


class UsageError(MirrorctlError):
    exit_code = ExitCode.USAGE


class ConfigFileError(MirrorctlError):
    """A file that the tool (or mirrorctl) cannot parse."""

    exit_code = ExitCode.BAD_CONFIG


class NotWritableError(MirrorctlError):
    exit_code = ExitCode.NOT_WRITABLE


class ConflictError(MirrorctlError):
    exit_code = ExitCode.CONFLICT


class UnsupportedError(MirrorctlError):
    """The mirror cannot serve this tool (a PyPI mirror without a conda mirror, say)."""

    exit_code = ExitCode.USAGE


class NoHealthyMirrorError(MirrorctlError):
    exit_code = ExitCode.NO_HEALTHY_MIRROR


# errno values that mean "this cannot be written here": exit NOT_WRITABLE
_NOT_WRITABLE = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.ETXTBSY, errno.EBUSY,
                 errno.EIO, getattr(errno, "EDQUOT", errno.ENOSPC)}


def hint_for(code: int | None) -> str:
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG):
        return _("the file system is full (or over quota): free some space there (df -h), then run the command again")
    if code == errno.EROFS:
        return _("that file system is mounted read-only: remount it read-write, or choose a --scope "
                 "(or --root) on a writable one")
    if code in (errno.EACCES, errno.EPERM):
        return _("check the owner and permissions of that path (ls -ld); a system-wide file needs sudo, or use "
                 "--scope user")
    if code == errno.EIO:
        return _("the disk or file system reported an I/O error: check the system log (dmesg) and the disk")
    if code in (errno.ETXTBSY, errno.EBUSY):
        return _("another program is using it: close that program, then run the command again")
    return _("check that path, then run the command again")


def from_os_error(exc: OSError) -> MirrorctlError:
    """An OSError that reached the command line (disk full, read-only file system, permission
    denied, I/O error, ...) as one line naming the file, with a hint and an exit code:
    NOT_WRITABLE for those that keep a file from being written, ERROR for the rest."""
    import os

    def name(value: object) -> str:
        if isinstance(value, bytes):
            return os.fsdecode(value)
        return str(value)

    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else "") or str(exc) or type(exc).__name__
    where = ""
    if exc.filename is not None:
        where = name(exc.filename)
        if getattr(exc, "filename2", None) is not None:
            where += f" -> {name(exc.filename2)}"
    reason = reason[:1].lower() + reason[1:]  # "No space left on device" -> "no space left on device"
    message = f"{where}: {reason}" if where else reason
    code = ExitCode.NOT_WRITABLE if exc.errno in _NOT_WRITABLE else ExitCode.ERROR
    return MirrorctlError(message, hint=hint_for(exc.errno), exit_code=code)
