"""Errors to exit codes, in one place, without the CLI framework (the fast path uses it too).

Nothing the world can do ends in "internal error": a MirrorctlError, an OSError that
escaped the core (disk full, read-only file system, permission denied, I/O error), a
closed output pipe, an argument that is not UTF-8 and an empty path option each end in
one line (or, for the closed pipe, in silence) and a documented exit code.
"""

from __future__ import annotations

import sys
from typing import Callable, Optional, Sequence

from mirrorctl.errors import ExitCode, MirrorctlError, UsageError, from_os_error
from mirrorctl.i18n import _


class Exit(Exception):
    """Leave with an exit code after the output is written (``--check``, status errors)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = int(code)


def guarded(func: Callable[[], object], *, verbose: bool) -> int:
    """Run ``func``; a MirrorctlError becomes one line on stderr and its exit code.

    Never a traceback unless ``verbose``: an unexpected exception is reported as an internal error.
    """
    from mirrorctl import render

    render.json_errors(wants_json(sys.argv[1:]))
    try:
        func()
        return 0
    except Exit as exc:
        return exc.code
    except MirrorctlError as exc:
        if verbose:
            import traceback

            traceback.print_exc()
        render.error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _say("mirrorctl: " + _("interrupted") + "\n")
        render.json_error("interrupted", "interrupted", 130)
        return 130
    except BrokenPipeError as exc:
        if exc.filename is None:  # our own output: the reader went away (`mirrorctl list | head -1`)
            return output_closed()
        return _os_error(exc, verbose)
    except OSError as exc:
        return _os_error(exc, verbose)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("click", "typer"):
            raise  # the CLI framework's own exits and usage errors
        if verbose:
            raise
        render.error(MirrorctlError(_("internal error: {error}").format(error=f"{type(exc).__name__}: {exc}"),
                                    hint=_("run again with -v for the traceback, and please report it")))
        return int(ExitCode.ERROR)


def _os_error(exc: OSError, verbose: bool) -> int:
    from mirrorctl import render

    if verbose:
        import traceback

        traceback.print_exc()
    error = from_os_error(exc)
    render.error(error)
    return int(error.exit_code)


def _say(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed too: nothing to tell
        pass


def output_closed() -> int:
    """Standard output's reader has gone: stop quietly, as other command-line tools do.

    What is still buffered goes to the null device, so the interpreter's flush at exit
    neither fails nor prints "Exception ignored". The exit code is 141 (128 + SIGPIPE),
    what a shell reports for a tool that SIGPIPE ended.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (in-process tests): nothing to flush there
        pass
    return int(ExitCode.OUTPUT_CLOSED)


def flush_output() -> Optional[int]:
    """Flush stdout at the end; 141 (see :func:`output_closed`) when its reader has gone."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        return output_closed()
    except OSError as exc:  # disk full, I/O error: after the command's work was done
        from mirrorctl import render

        render.error(render.output_failed(exc))
        output_closed()  # nothing left to flush at exit
        return int(ExitCode.ERROR)
    except ValueError:
        return int(ExitCode.ERROR)
    return None


def wants_json(argv: Sequence[str]) -> bool:
    """Whether the command line asks for JSON (``--json``), not counting the words of the
    command `exec` runs, nor anything after ``--``."""
    positional = 0
    command = None
    for arg in argv:
        if arg == "--" or (command == "exec" and positional >= 2):
            break
        if arg == "--json":
            return True
        if not arg.startswith("-") or arg == "-":
            positional += 1
            if command is None:
                command = arg
    return False


def non_utf8_argument(argv: Sequence[str]) -> Optional[UsageError]:
    """The usage error for the first argument that holds bytes that are not UTF-8 (Python
    carries them as lone surrogates), or None. The arguments of the command `exec` runs
    are that command's business and are passed on as they are."""
    from mirrorctl import render

    render.json_errors(wants_json(argv))  # main's first step: its errors too are JSON under --json
    positional = 0
    command = None
    for number, arg in enumerate(argv, 1):
        if command == "exec" and positional >= 2:
            break  # exec NAME CMD ...: from CMD on, the words belong to CMD
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            # the raw value: render.error shows each byte that is not UTF-8 as \xNN
            return UsageError(_("argument {number} ({value}) is not valid UTF-8 text").format(number=number, value=arg),
                              hint=_("mirrorctl takes names, URLs and paths as UTF-8 text; give that value without "
                                     "those bytes (rename the folder, or use a link to it with a UTF-8 name)"))
        if not arg.startswith("-") or arg == "-":
            positional += 1
            if command is None:
                command = arg
    return None


def make_context(root: Optional[str] = None, venv: Optional[str] = None, project: Optional[str] = None):
    """The Context for these options; an empty or blank --root, --venv or --project is refused
    (an empty --root would otherwise mean the real /)."""
    from mirrorctl.context import Context

    for option, value in (("--root", root), ("--venv", venv), ("--project", project)):
        if value is not None and not value.strip():
            raise UsageError(_("{option} {value!r}: an empty path").format(option=option, value=value),
                             hint=_("give a folder (for the whole machine, leave {option} out)").format(option=option)
                             if option == "--root" else _("give a folder, or leave the option out"))
    if root is not None:
        _existing_root(root)
    return Context.from_os(root=root, venv=venv, project=project)


def _existing_root(root: str) -> None:
    """--root must name a folder that exists: a typo must not grow a whole tree of folders
    (etc/, usr/, ...) under the mistyped path."""
    import os

    if os.path.isdir(root):
        return
    if os.path.lexists(root):
        raise UsageError(_("--root {path}: not a folder").format(path=root),
                         hint=_("give the folder that stands for / (the image or chroot being built)"))
    raise UsageError(_("--root {path}: no such folder").format(path=root),
                     hint=_("check the spelling; mirrorctl creates nothing under a --root that does not exist "
                            "(create it first if it is new: mkdir -p {path})").format(path=root))
