"""Errors to exit codes, in one place, without the CLI framework (the fast path uses it too)."""

from __future__ import annotations

import sys
from typing import Callable

from mirrorctl.errors import ExitCode, MirrorctlError


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
        sys.stderr.write("mirrorctl: interrupted\n")
        return 130
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("click", "typer"):
            raise  # the CLI framework's own exits and usage errors
        if verbose:
            raise
        render.error(MirrorctlError(f"internal error: {type(exc).__name__}: {exc}",
                                    hint="run again with -v for the traceback, and please report it"))
        return int(ExitCode.ERROR)
