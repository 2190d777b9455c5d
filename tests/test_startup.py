"""Start-up (issue 11, point 8): a command imports and builds only its own command module.

`cli.COMMANDS` maps each command word to the module that registers it; these tests fail when
a command is added, renamed or moved without the table following, and check that the one-command
view parses, helps and fails exactly as the whole app does.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import pip_config_list


def _registered():
    """{command word: the cli module that registers it} from the whole app."""
    from typer.main import get_command_name

    from mirrorctl.cli import load_app

    app = load_app()
    found = {}
    for info in app.registered_commands:
        found[info.name or get_command_name(info.callback.__name__)] = info.callback.__module__
    for group in app.registered_groups:
        modules = {info.callback.__module__ for info in group.typer_instance.registered_commands}
        assert len(modules) == 1, (group.name, modules)
        found[group.name] = modules.pop()
    return found


def test_the_command_table_names_every_command_and_the_module_that_registers_it():
    from mirrorctl.cli import COMMAND_MODULES, COMMANDS

    registered = _registered()
    expected = {name: module.rsplit(".", 1)[1] for name, module in registered.items() if name != "__complete"}
    assert COMMANDS == expected
    assert "__complete" not in COMMANDS  # it walks the whole command tree: everything is loaded for it
    assert set(COMMANDS.values()) <= set(COMMAND_MODULES)


@pytest.mark.parametrize("word", ["use", "reset", "undo", "status", "list", "bench", "env", "exec", "cache",
                                  "completion"])
def test_the_view_of_one_command_holds_that_command_and_helps_as_the_whole_app_does(word):
    from typer.main import get_command
    from typer.testing import CliRunner

    from mirrorctl.cli import load_app

    view = load_app([word, "--help"])
    assert list(get_command(view).commands) == [word]
    whole = CliRunner().invoke(load_app(), [word, "--help"])
    one = CliRunner().invoke(view, [word, "--help"])
    assert whole.exit_code == one.exit_code == 0
    assert one.output == whole.output and f"mirrorctl {word}" in one.output


@pytest.mark.parametrize("argv, word", [
    (["use", "tuna"], "use"),
    (["-v", "undo"], "undo"),
    (["--verbose", "--catalogue", "team.toml", "reset", "--tool", "pip"], "reset"),
    (["--catalogue=team.toml", "list"], "list"),
    (["--version"], ""),
    (["-v", "--version"], ""),
    (["--help", "use"], None),  # the app's help: every command
    (["-h"], None),
    ([], None),
    (["-v"], None),
    (["--bogus", "use"], None),  # typer reports it
    (["--catalogue"], None),  # typer reports the missing value
    (["--", "use"], None),
    (["usee"], "usee"),  # not in the table: every command, and typer's "did you mean"
])
def test_the_command_word_is_found_past_the_app_options_or_left_to_typer(argv, word):
    from mirrorctl.cli import command_word

    assert command_word(argv) == word


def test_an_unknown_word_or_the_apps_help_loads_every_command():
    from typer.main import get_command

    from mirrorctl.cli import COMMANDS, load_app

    for argv in (["usee"], ["--help"], [], ["__complete", "bash", "1", "mirrorctl", "u"]):
        names = set(get_command(load_app(argv)).commands)
        assert names == set(COMMANDS) | {"__complete"}, argv


_PROBE = r"""
import json, sys
from mirrorctl.cli import _main
code = _main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "cli": sorted(m for m in sys.modules if m.startswith("mirrorctl.cli."))}))
"""


def _probe(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_use_imports_only_its_own_command_modules_and_still_writes_what_pip_reads(sandbox):
    url = "https://mirror.example.invalid/simple"
    found = _probe("use", url, "--tool", "pip", "--no-verify")
    assert found["code"] == 0
    # config.py takes bench's and catalog's options; shell, completion and cache stay out
    assert not {"mirrorctl.cli.shell", "mirrorctl.cli.completion", "mirrorctl.cli.cache"} & set(found["cli"])
    assert pip_config_list()["global.index-url"] == url
    undone = _probe("undo")
    assert undone["code"] == 0 and "mirrorctl.cli.shell" not in undone["cli"]
    assert "global.index-url" not in pip_config_list()


def test_version_alone_imports_no_command_module(sandbox):
    found = _probe("--version")
    assert found["code"] == 0
    assert [m for m in found["cli"] if m not in ("mirrorctl.cli.app", "mirrorctl.cli.fast", "mirrorctl.cli.guard")] == []


def test_a_stale_table_entry_falls_back_to_every_command(sandbox):
    """A command the table sends to the wrong module still runs: nothing registered it there, so
    every module is loaded (the table test above is what catches the stale entry)."""
    probe = ("import sys\nimport mirrorctl.cli as cli\ncli.COMMANDS['env'] = 'catalog'\n"
             "sys.exit(cli._main(['env', '--help']))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: mirrorctl env" in proc.stdout


_GC_PROBE = r"""
import atexit, gc, json, sys
import mirrorctl.ops as ops
seen = {}
real = ops.use_mirror
def spy(*args, **kwargs):
    seen["during"] = gc.isenabled()
    return real(*args, **kwargs)
ops.use_mirror = spy
atexit.register(lambda: sys.__stderr__.write("GC " + json.dumps(
    {"during": seen.get("during"), "at_exit": gc.isenabled(), "frozen": gc.get_freeze_count()}) + "\n"))
sys.argv = ["mirrorctl", *sys.argv[1:]]
from mirrorctl.cli import main
main()
"""


def _gc_probe(*args: str):
    proc = subprocess.run([sys.executable, "-c", _GC_PROBE, *args], capture_output=True, text=True, timeout=120)
    line = [x for x in proc.stderr.splitlines() if x.startswith("GC ")]
    assert line, proc.stderr
    return proc, json.loads(line[-1][3:])


def test_the_collector_is_off_for_start_up_only_and_the_command_is_whole(sandbox):
    """main() turns the cycle collector off while modules load, back on for the command itself
    (bench and cache run long), and freezes what is left before the interpreter's shutdown."""
    url = "https://mirror.example.invalid/simple"
    proc, gc_state = _gc_probe("use", url, "--tool", "pip", "--no-verify")
    assert proc.returncode == 0, proc.stderr
    assert gc_state["during"] is True and gc_state["at_exit"] is True and gc_state["frozen"] > 0
    assert pip_config_list()["global.index-url"] == url  # written, flushed, read back by pip
    for args in (["status"], ["usee"], ["--version"]):  # the fast path, an error, no command
        proc, gc_state = _gc_probe(*args)
        assert gc_state["at_exit"] is True, args
    assert _probe("undo")["code"] == 0  # the journal entry is whole
    assert "global.index-url" not in pip_config_list()
