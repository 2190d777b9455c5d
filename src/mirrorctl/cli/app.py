"""The Typer app and what every command shares: error handling, common options."""

from __future__ import annotations

import functools
import shlex
import sys
from typing import Callable, List, Optional

import typer

from mirrorctl import __version__
from mirrorctl.errors import ExitCode

app = typer.Typer(
    name="mirrorctl",
    help=(
        "Point pip (and conda, pipenv, uv, Poetry, PDM) at the right package-index mirror, "
        "and prove the choice was right.\n\n"
        "Examples:\n\n"
        "  mirrorctl list\n\n"
        "  mirrorctl use tuna\n\n"
        "  mirrorctl status\n\n"
        "  mirrorctl undo"
    ),
    invoke_without_command=True,  # no command: the help, exit 0 (see _root)
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

state = {"verbose": False}


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"mirrorctl {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show a traceback on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    catalogue: Optional[str] = typer.Option(
        None, "--catalogue", metavar="PATH|URL",
        help="A team's mirrors.toml (a file, or an https URL kept for offline use) added to the built-in "
             "catalogue; the same as MIRRORCTL_CATALOGUE."),
) -> None:
    state["verbose"] = verbose
    if catalogue is not None:
        import os

        from mirrorctl.team import ENV

        os.environ[ENV] = catalogue  # every Context is made from the environment after this
    if ctx.invoked_subcommand is None:
        sys.stdout.write(ctx.get_help() + "\n")
        raise typer.Exit()


def handled(func: Callable) -> Callable:
    """Turn a MirrorctlError into one line on stderr and its exit code; never a traceback unless -v."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from mirrorctl.cli.guard import guarded

        code = guarded(lambda: func(*args, **kwargs), verbose=state["verbose"])
        if code:
            raise typer.Exit(code)

    return wrapper


def command_line() -> str:
    """The command as typed, with passwords in URLs masked (it goes into the journal): an argument
    that is a URL is masked whole, even with characters a URL may not hold in its password."""
    from mirrorctl.urls import mask_one, mask_url

    return "mirrorctl " + " ".join(shlex.quote(mask_one(a) if "://" in a.split("@", 1)[0] else mask_url(a))
                                   for a in sys.argv[1:])


def make_context(root: Optional[str] = None, venv: Optional[str] = None, project: Optional[str] = None):
    """The Context for the path options; an empty or blank one is a usage error (see cli/guard.py)."""
    from mirrorctl.cli.guard import make_context as _make_context

    return _make_context(root=root, venv=venv, project=project)


def parse_scope(value: str):
    from mirrorctl.context import Scope
    from mirrorctl.errors import UsageError

    try:
        return Scope(value.strip().lower())
    except ValueError:
        raise UsageError(f"unknown scope {value!r}", hint="use user, global, venv or project") from None


# options shared by the commands that write
TOOL_OPTION = typer.Option(None, "--tool", "-t", help="Tool(s) to configure: pip, conda, pipenv, uv, poetry, pdm, "
                           "easy_install, buildout (comma list, may repeat). Default: every tool in use at that scope.")
SCOPE_OPTION = typer.Option("user", "--scope", "-s", help="user, global, venv or project.")
VENV_OPTION = typer.Option(None, "--venv", help="The virtualenv for --scope venv (default: $VIRTUAL_ENV).")
ROOT_OPTION = typer.Option(None, "--root", help="Put every system-wide path under this folder (image builds, chroots).")
PROJECT_OPTION = typer.Option(None, "--project", help="The project folder for --scope project (default: here).")
DRY_RUN_OPTION = typer.Option(False, "--dry-run", "-n", help="Print a diff of each file and write nothing.")
CHECK_OPTION = typer.Option(False, "--check", help=f"Write nothing; exit 0 if already so, {int(ExitCode.CHANGES_PENDING)} if a change is needed.")
JSON_OPTION = typer.Option(False, "--json", help="Print the result as JSON.")

ToolList = Optional[List[str]]
