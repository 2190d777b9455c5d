"""The Typer app and what every command shares: error handling, common options."""

from __future__ import annotations

import functools
import shlex
import sys
from typing import Callable, List, Optional

import typer

from mirrorctl import __version__
from mirrorctl.errors import ExitCode
from mirrorctl.i18n import _

app = typer.Typer(
    name="mirrorctl",
    help=(
        _("Point pip (and conda, pipenv, uv, Poetry, PDM) at the right package-index mirror, "
          "and prove the choice was right.") + "\n\n"
        + _("Examples:") + "\n\n"
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
    verbose: bool = typer.Option(False, "--verbose", "-v", help=_("Show a traceback on errors.")),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help=_("Print the version.")),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="en|zh",
                                       help=_("Language of help and messages: en or zh (default: MIRRORCTL_LANG, "
                                              "else the locale).")),
    catalogue: Optional[str] = typer.Option(
        None, "--catalogue", metavar="PATH|URL",
        help=_("A team's mirrors.toml (a file, or an https URL kept for offline use) added to the built-in "
               "catalogue; the same as MIRRORCTL_CATALOGUE.")),
) -> None:
    state["verbose"] = verbose
    if lang is not None:  # in-process runs (tests); `main` has taken it out of the arguments already
        from mirrorctl import i18n
        from mirrorctl.errors import UsageError

        if not i18n.normalize(lang):
            raise UsageError(_("unknown language {value!r}").format(value=lang), hint=_("use --lang en or --lang zh"))
        i18n.setup(lang)
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


def helptext(description: str, *examples: str) -> str:
    """A command's help: its (translated) description, then its examples (commands: never translated)."""
    if not examples:
        return description
    if len(examples) == 1:
        return description + "\n\n" + _("Example:") + " " + examples[0]
    return description + "\n\n" + _("Examples:") + "\n\n" + "\n\n".join("  " + e for e in examples)


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
        raise UsageError(_("unknown scope {value!r}").format(value=value),
                         hint=_("use user, global, venv or project")) from None


# options shared by the commands that write
TOOL_OPTION = typer.Option(None, "--tool", "-t", help=_("Tool(s) to configure: pip, conda, pipenv, uv, poetry, pdm, "
                           "easy_install, buildout (comma list, may repeat). Default: every tool in use at that scope."))
SCOPE_OPTION = typer.Option("user", "--scope", "-s", help=_("user, global, venv or project."))
VENV_OPTION = typer.Option(None, "--venv", help=_("The virtualenv for --scope venv (default: $VIRTUAL_ENV)."))
ROOT_OPTION = typer.Option(None, "--root", help=_("Put every system-wide path under this folder (image builds, chroots)."))
PROJECT_OPTION = typer.Option(None, "--project", help=_("The project folder for --scope project (default: here)."))
DRY_RUN_OPTION = typer.Option(False, "--dry-run", "-n", help=_("Print a diff of each file and write nothing."))
CHECK_OPTION = typer.Option(False, "--check", help=_("Write nothing; exit 0 if already so, {code} if a change is needed.")
                            .format(code=int(ExitCode.CHANGES_PENDING)))
JSON_OPTION = typer.Option(False, "--json", help=_("Print the result as JSON (always in English)."))

ToolList = Optional[List[str]]
