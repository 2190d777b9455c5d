"""`status` has a fast path that skips typer; it must behave exactly like the full CLI."""

import pytest

from mirrorctl.cli.fast import try_fast


def write_conf(sandbox, text):
    sandbox.user_pip_conf.parent.mkdir(parents=True, exist_ok=True)
    sandbox.user_pip_conf.write_text(text)


@pytest.mark.parametrize("args", [
    ("status",),
    ("status", "--json"),
    ("status", "--files"),
    ("status", "--all", "--json"),
    ("status", "--tool", "pip", "--json"),
    ("status", "-t", "pip"),
    ("status", "--tool=pip"),
    ("-v", "status"),
])
def test_fast_path_output_equals_the_full_cli(run, capsys, sandbox, monkeypatch, args):
    write_conf(sandbox, "[global]\nindex-url = https://pypi.tuna.tsinghua.edu.cn/simple\n")
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/simple")  # adds a warning on stderr
    code = try_fast(list(args))
    fast = capsys.readouterr()
    full = run(*args)
    assert code == full.exit_code == 0
    assert fast.out == full.stdout
    assert fast.err == full.stderr


def test_fast_path_error_exit_equals_the_full_cli(run, capsys, sandbox):
    write_conf(sandbox, "no header\n")
    code = try_fast(["status"])
    fast = capsys.readouterr()
    full = run("status")
    assert code == full.exit_code == 4
    assert fast.err == full.stderr


@pytest.mark.parametrize("args", [
    ("status", "--help"),
    ("status", "--bogus"),
    ("status", "--tool"),  # missing value: typer says so
    ("list",),
    ("use", "tuna"),
    (),
])
def test_anything_else_falls_through_to_typer(args):
    assert try_fast(list(args)) is None


def test_real_process_fast_path_and_fallback(run_cli):
    assert run_cli("status", "--json").exit_code == 0
    result = run_cli("status", "--bogus")
    assert result.exit_code == 2 and "--bogus" in result.stderr
    result = run_cli("status", "--help")
    assert result.exit_code == 0 and "mirrorctl status" in result.stdout
