"""Command-line interface: thin commands that parse, call one core function, render.

``main`` decides the language first (``--lang``, see ``i18n``): typer evaluates the help texts
when the command modules are imported. Then it tries the fast path for `status` (see
``cli/fast.py``), then the typer app.
"""

from __future__ import annotations

import sys

# the command word -> the module that registers it, so that a command imports and builds only
# its own module and command (typer turns every registered command into a click command, its
# annotations evaluated, on each run). tests/test_startup.py fails when this table and what the
# modules register part ways; a word not in it loads everything. `__complete` walks the whole
# command tree, so it is not here.
COMMANDS = {
    "list": "catalog", "add": "catalog", "remove": "catalog",
    "use": "config", "reset": "config", "status": "config", "undo": "config", "history": "config",
    "bench": "bench",
    "env": "shell", "exec": "shell",
    "completion": "completion",
    "cache": "cache",
}
# the command modules, each registering its commands on the app (one module per area), in the
# order `--help` lists them: the table's, so the two cannot part ways
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))

# the options before the command word (see _root in cli/app.py; --lang is taken out by main)
_ROOT_FLAGS = ("-v", "--verbose", "--version")
_ROOT_VALUE_OPTIONS = ("--catalogue",)


def load_app(argv=None):
    """The typer app. Given the arguments, and their command word is in ``COMMANDS``: a view of
    the app that holds only that command, with only its module imported (the options are
    still parsed, and every error reported, by typer). Otherwise (no arguments, ``--help``, an
    unknown word, ``__complete``): the app with every command registered."""
    import importlib

    from mirrorctl.cli.app import app

    command = command_word(argv) if argv is not None else None
    if command is None or (command and command not in COMMANDS):
        for name in COMMAND_MODULES:
            importlib.import_module(f"mirrorctl.cli.{name}")
        _whole_short_help(app)
        return app
    if command:
        importlib.import_module(f"mirrorctl.cli.{COMMANDS[command]}")
    view = only(app, command)
    if view is None:  # not registered where the table says: never expected (see the test); all
        return load_app()
    _whole_short_help(view)
    return view


def command_word(argv):
    """The command word of ``argv``; "" for `--version` without one; None when it cannot be told
    before typer parses (``--help``, an option of the app's that is not known here)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _ROOT_FLAGS:
            i += 1
        elif arg in _ROOT_VALUE_OPTIONS:
            i += 2
        elif arg.startswith(tuple(o + "=" for o in _ROOT_VALUE_OPTIONS)):
            i += 1
        elif arg.startswith("-"):
            return None
        else:
            return arg
    return "" if i == len(argv) and "--version" in argv else None


def only(app, command: str):
    """A shallow copy of the typer app that registers only ``command`` ("" for none), or None if
    the app has no such command. The app itself keeps every command (completion walks it)."""
    import copy

    from typer.main import get_command_name

    commands = [info for info in app.registered_commands
                if (info.name or get_command_name(info.callback.__name__)) == command]
    groups = [info for info in app.registered_groups if info.name == command]
    if command and not commands and not groups:
        return None
    view = copy.copy(app)
    view.registered_commands = commands
    view.registered_groups = groups
    return view


def _whole_short_help(app) -> None:
    """The command list of `--help` shows each command's whole first sentence (wrapped), not the
    framework's cut at 45 columns with "..."."""
    import inspect

    for info in app.registered_commands:
        if info.short_help or info.hidden:
            continue
        info.short_help = first_sentence(info.help or inspect.getdoc(info.callback) or "")
    for group in app.registered_groups:  # `cache`: a group of commands, its help on its own Typer
        if group.short_help or group.hidden:
            continue
        text = group.help or group.typer_instance.info.help
        text = getattr(text, "value", text)  # typer's DefaultPlaceholder
        if isinstance(text, str) and text:
            group.short_help = first_sentence(text)


def first_sentence(text: str) -> str:
    """The first sentence of the first paragraph (English ". " or Chinese "。"), on one line."""
    import re

    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    found = re.search(r"(?<=\.)\s|(?<=。)", paragraph)
    return paragraph[:found.start()].strip() if found else paragraph


def main() -> None:
    import gc

    # Start-up makes long-lived objects only (modules, classes, functions, the typer app): the
    # cycle collector would walk them again and again and free nothing. It is off until the
    # command's own module is loaded (``_main`` turns it back on), and on for the command.
    gc.disable()
    try:
        _standard_streams()
        code = _main(sys.argv[1:])
        closed = _flush_output()
    finally:
        gc.enable()
    # Every file is written, fsynced and closed, the lock let go, the output flushed. The garbage
    # the command left is collected (finalizers run) here, over the command's objects only; then
    # what is still alive is frozen, which spares the interpreter's shutdown its collections over
    # every object of every module (about a tenth of a `use`). atexit handlers still run.
    gc.collect()
    gc.freeze()
    sys.exit(closed if closed is not None else code)


def _main(argv: list) -> int:
    from mirrorctl import render
    from mirrorctl.cli.fast import try_fast
    from mirrorctl.cli.guard import guarded, non_utf8_argument

    bad = non_utf8_argument(argv)
    if bad is not None:
        render.error(bad)
        return int(bad.exit_code)
    lang, argv = split_lang(argv)
    bad = set_language(lang, argv)
    if bad is not None:
        render.error(bad)
        return int(bad.exit_code)
    code = try_fast(argv)
    if code is not None:
        return code
    result: list = [0]

    def run() -> None:
        try:
            app = load_app(argv)
            _start_up_done()
            result[0] = app(args=argv, prog_name="mirrorctl", standalone_mode=False)
        except Exception as exc:  # the CLI framework's usage errors: one line too, like ours
            if type(exc).__name__ == "Abort":  # Ctrl-C or end of input while the framework was reading
                from mirrorctl.i18n import _

                sys.stderr.write("mirrorctl: " + _("interrupted") + "\n")
                result[0] = 130
            elif hasattr(exc, "format_message"):
                result[0] = _usage_error(exc)
            else:
                raise
        except SystemExit:
            # click meets a closed pipe in its own output (--help) by exiting 1 after
            # wrapping the streams; say it the way every other command does
            if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # click's, or typer's copy of click
                from mirrorctl.cli.guard import output_closed

                result[0] = output_closed()
            else:
                raise

    # a closed pipe or an OSError while the framework itself writes (--help, --version) is handled too
    leading = argv[:next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))]
    code = guarded(run, verbose="-v" in leading or "--verbose" in leading) or result[0]
    return code if isinstance(code, int) else 0


def _start_up_done() -> None:
    """The app is loaded: what start-up made stays for good (frozen: no collection walks it
    again), and the cycle collector is back on for the command, if ``main`` turned it off."""
    import gc

    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def split_lang(argv: list):
    """(the value of a global ``--lang``, the arguments without it). Only the options before
    the command word are global: ``exec``'s command keeps its own ``--lang``. A ``--lang``
    without a value stays in place, for the CLI framework to report."""
    rest = list(argv)
    lang = None
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(rest):
            lang = rest[i + 1]
            del rest[i:i + 2]
            continue
        if arg.startswith("--lang="):
            lang = arg[len("--lang="):]
            del rest[i]
            continue
        if not arg.startswith("-") or arg == "-":
            break  # the command
        i += 1
    return lang, rest


def set_language(lang, argv: list):
    """Decide the language before any help text is made; a UsageError for a ``--lang`` we do
    not serve. ``--json`` output is for programs: its messages stay English, whatever the locale."""
    from mirrorctl import i18n

    if lang is not None and not i18n.normalize(lang):
        i18n.setup()
        from mirrorctl.errors import UsageError
        from mirrorctl.i18n import _

        return UsageError(_("unknown language {value!r}").format(value=lang), hint=_("use --lang en or --lang zh"))
    words = argv[:argv.index("--")] if "--" in argv else argv
    if "--json" in words:
        lang = i18n.ENGLISH
    i18n.setup(lang)
    i18n.translate_framework()
    return None


def _flush_output():
    from mirrorctl.cli.guard import flush_output

    return flush_output()


def _standard_streams() -> None:
    """Make the standard streams safe to use whatever state the caller left them in.

    A closed descriptor 0, 1 or 2 gets the null device, so that no file mirrorctl opens
    takes its number (and a child of `exec` cannot write into a config file). stdout and
    stderr show a character the locale's encoding cannot hold as an escape instead of
    failing.
    """
    import os

    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
            except OSError:
                continue
            if fd == 1 and sys.stdout is None:
                sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
            if fd == 2 and sys.stderr is None:
                sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def _usage_error(exc) -> int:
    from mirrorctl import render
    from mirrorctl.cli.framework import is_help_request, usage_message
    from mirrorctl.errors import UsageError
    from mirrorctl.i18n import _

    ctx = getattr(exc, "ctx", None)
    if is_help_request(exc):  # a group given no command (`mirrorctl cache`): its help, as a usage error
        sys.stderr.write(exc.format_message().rstrip("\n") + "\n")
        return int(getattr(exc, "exit_code", 2) or 2)
    where = ctx.command_path if ctx is not None else "mirrorctl"
    render.error(UsageError(usage_message(exc), hint=_("see `{command} --help`").format(command=where)))
    return int(getattr(exc, "exit_code", 2) or 2)


__all__ = ["COMMANDS", "load_app", "main"]
