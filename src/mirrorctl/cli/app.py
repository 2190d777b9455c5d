"""The Typer app and what every command shares: error handling, common options."""

from __future__ import annotations

import functools
import shlex
import sys
from typing import Callable, List, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from mirrorctl import __version__
from mirrorctl.errors import ExitCode
from mirrorctl.i18n import _

# The CLI framework's own words (the help option, "Usage:", headings, usage errors) in the
# user's language, and help wrapped by display width, on click 8.1 (typer <= 0.23, gettext) and
# on typer's vendored click (0.24 on, English only) alike: the app is declared with the Group
# below, which gives every command typer builds under it these classes. The work itself is in
# cli/framework.py, loaded only for help and usage errors.
_FrameworkContext = TyperCommand.context_class  # click's Context, or typer._click's
_FRAMEWORK = _FrameworkContext.__module__.rpartition(".")[0]  # "click" or "typer._click"


class Formatter(_FrameworkContext.formatter_class):
    """The framework's help formatter: its words translated, text measured in columns."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from mirrorctl.cli.framework import install_wrapper

        install_wrapper()

    def write_usage(self, prog: str, args: str = "", prefix: Optional[str] = None) -> None:
        from mirrorctl.cli.framework import wrapper_class
        from mirrorctl.render import cell_width

        if prefix is None:
            prefix = _("Usage:") + " "
        usage_prefix = f"{prefix:>{self.current_indent}}{prog} "
        text_width = self.width - self.current_indent
        if text_width >= cell_width(usage_prefix) + 20:  # the arguments fit right of the prefix
            first = usage_prefix
            indent = " " * cell_width(usage_prefix)
        else:  # under it
            self.write(usage_prefix + "\n")
            first = indent = " " * (max(self.current_indent, cell_width(prefix)) + 4)
        self.write(wrapper_class()(text_width, initial_indent=first, subsequent_indent=indent,
                                   replace_whitespace=False).fill(args))
        self.write("\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}" + _("{heading}:").format(heading=heading) + "\n")


class Context(_FrameworkContext):
    formatter_class = Formatter


def _in_our_words(base):
    """``base`` (one of typer's command classes) with its help option and usage errors in the
    user's language. Methods only, no state, single inheritance: a command typer built is
    adopted by changing its class (see Group)."""

    class Words(base):
        __slots__ = ()
        context_class = Context

        def get_help_option(self, ctx):
            option = super().get_help_option(ctx)
            if option is not None:  # typer._click's says it in English only
                option.help = _("Show this message and exit.")
            return option

        def parse_args(self, ctx, args):
            try:
                return super().parse_args(ctx, args)
            except sys.modules[_FRAMEWORK + ".exceptions"].UsageError as exc:
                # the parser raises some (an option without its value) with no context: they
                # belong to the command being parsed, whose help the hint then names
                if getattr(exc, "ctx", None) is None:
                    exc.ctx = ctx
                    exc.cmd = ctx.command
                raise

    return Words


class Command(_in_our_words(TyperCommand)):
    __slots__ = ()


class Group(_in_our_words(TyperGroup)):
    """The app's class. typer builds each command with its own default class unless told
    otherwise (and `cache`'s are declared on a Typer of their own): the Group gives the commands
    built under it ours, which add methods only; one declared with a class of its own keeps it."""

    __slots__ = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _adopt(self)


def _adopt(group) -> None:
    for command in list(group.commands.values()):
        if type(command) is TyperCommand:
            command.__class__ = Command
        elif type(command) is TyperGroup:  # built before the group it is in: its commands too
            command.__class__ = Group
            _adopt(command)


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
    cls=Group,  # every command's help and usage errors in the user's language (see Group)
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
