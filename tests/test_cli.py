"""The command line itself: version, help, python -m, exit codes."""

import re

from mirrorctl import __version__
from mirrorctl.errors import ExitCode


def test_version(run_cli):
    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"mirrorctl {__version__}"


def test_help_has_examples_for_every_command(run):
    for command in ("list", "add", "remove", "use", "reset", "status", "undo", "history"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "mirrorctl " + command in result.stdout, command


def test_no_arguments_prints_help(run):
    result = run()
    assert "Usage" in result.stdout + result.stderr


def test_unknown_scope_and_option(run):
    result = run("use", "tuna", "--scope", "galaxy")
    assert result.exit_code == 2 and "unknown scope 'galaxy'" in result.stderr
    assert run("use", "tuna", "--frobnicate").exit_code == 2


def test_exit_codes_are_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "usage.md").read_text()
    for code in ExitCode:
        assert re.search(rf"\|\s*{int(code)}\s*\|", doc), f"exit code {int(code)} ({code.name}) is not in docs/usage.md"


def test_status_with_nothing_configured_exits_0(run_cli):
    result = run_cli("status")
    assert result.exit_code == 0, result.stderr
    assert "https://pypi.org/simple" in result.stdout and "built-in default" in result.stdout
