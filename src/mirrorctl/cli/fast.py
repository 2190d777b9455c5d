"""A fast path for `mirrorctl status`, which shell prompts and scripts call often.

Importing the CLI framework (typer, and the pydantic it now needs) costs more than the
whole of `status` (about 60-110 ms against 40 ms), so `main()` first offers the arguments
to :func:`try_fast`. It understands exactly the options that `status` declares in
``cli/config.py``; anything else (``--help``, an unknown or misspelt option, another
command) returns None and the full typer CLI handles it, with its usual messages.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

_VALUE_OPTIONS = {"--tool": "tool", "-t": "tool", "--venv": "venv", "--root": "root", "--project": "project"}
_FLAGS = {"--json": "as_json", "--files": "files", "--all": "show_all"}


def _parse_status(args: Sequence[str]) -> Optional[dict]:
    opts: dict = {"tool": [], "venv": None, "root": None, "project": None, "as_json": False, "files": False,
                  "show_all": False}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if arg in _FLAGS:
            opts[_FLAGS[arg]] = True
        elif name in _VALUE_OPTIONS and (eq or i + 1 < len(args)):
            if not eq:
                i += 1
                value = args[i]
            key = _VALUE_OPTIONS[name]
            if key == "tool":
                opts["tool"].append(value)
            else:
                opts[key] = value
        else:
            return None
        i += 1
    return opts


def try_fast(argv: Sequence[str]) -> Optional[int]:
    """The exit code when the fast path handled ``argv``, else None."""
    args = list(argv)
    verbose = False
    while args and args[0] in ("-v", "--verbose"):
        verbose = True
        args.pop(0)
    if not args or args[0] != "status":
        return None
    opts = _parse_status(args[1:])
    if opts is None:
        return None

    def run() -> None:
        from mirrorctl import ops
        from mirrorctl.cli.guard import Exit, make_context
        from mirrorctl.errors import ExitCode
        from mirrorctl.render.results import render_status

        ctx = make_context(root=opts["root"], venv=opts["venv"], project=opts["project"])
        report = ops.status(ctx, tools=opts["tool"] or None, show_all=opts["show_all"])
        render_status(report, opts["as_json"], verbose=opts["files"])
        if report.has_errors:
            raise Exit(ExitCode.BAD_CONFIG)

    from mirrorctl.cli.guard import guarded

    return guarded(run, verbose=verbose)


if __name__ == "__main__":  # pragma: no cover
    code = try_fast(sys.argv[1:])
    sys.exit(0 if code is None else code)
