"""One error type with a message and a hint, and every exit code in one place."""

from __future__ import annotations

import enum


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
