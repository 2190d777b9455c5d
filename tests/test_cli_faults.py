"""No "internal error" for anything the world can do at the command line's edge: a closed output
pipe, bytes that are not UTF-8 in an argument, an empty --root, an OSError (disk full, read-only
file system, permission denied, I/O error) that reaches the command line, closed standard streams."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from mirrorctl.errors import ExitCode

PYTHON = sys.executable


def mirrorctl(*args, stdout=subprocess.PIPE, timeout: float = 120):
    """A real `python -m mirrorctl` process; ``args`` may be bytes (argv that is not UTF-8)."""
    return subprocess.run([PYTHON.encode(), b"-m", b"mirrorctl", *(a if isinstance(a, bytes) else a.encode() for a in args)],
                          stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)


def one_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8").strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("mirrorctl: error: ") and "internal error" not in lines[0]
    return lines[0]


# -- a closed output pipe -----------------------------------------------------------

def write_pip_conf(sandbox, url="https://pypi.tuna.tsinghua.edu.cn/simple"):
    sandbox.user_pip_conf.parent.mkdir(parents=True, exist_ok=True)
    sandbox.user_pip_conf.write_text(f"[global]\nindex-url = {url}\n")


@pytest.mark.parametrize("args", [
    ("list",), ("list", "--json"), ("status",), ("status", "--json"), ("status", "--files"), ("history",),
    ("use", "aliyun", "-t", "pip", "--dry-run"), ("--help",), ("use", "--help"), ("--version",),
])
def test_a_reader_that_is_gone_ends_quietly_with_141(sandbox, args):
    """The read end is closed before mirrorctl starts: every write meets EPIPE (no race)."""
    write_pip_conf(sandbox)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = mirrorctl(*args, stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.stderr == b""  # no traceback, no "Exception ignored ... BrokenPipeError"
    assert proc.returncode == ExitCode.OUTPUT_CLOSED == 141


def test_use_whose_reader_is_gone_still_makes_its_change(sandbox):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = mirrorctl("use", "aliyun", "-t", "pip", stdout=write_end)
    finally:
        os.close(write_end)
    assert proc.stderr == b"" and proc.returncode == 141
    assert "mirrors.aliyun.com" in sandbox.user_pip_conf.read_text()
    assert mirrorctl("undo").returncode == 0  # and the journal has it


def test_list_piped_into_head(sandbox):
    """The shell case: `mirrorctl list | head -1`; whether head leaves before or after mirrorctl
    wrote, nothing reaches stderr and the exit is 0 or 141."""
    script = f'"{PYTHON}" -m mirrorctl list | head -1; echo "status=${{PIPESTATUS[0]}}" >&2'
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.stdout.splitlines()[0].split() == ["name", "aliases", "url", "conda", "source"]
    assert proc.stderr.strip() in ("status=0", "status=141"), proc.stderr


def test_closed_standard_streams(sandbox):
    """stdout or stderr closed before the start: the command runs, nothing fails, and no file
    mirrorctl opens can take descriptor 1 or 2."""
    proc = subprocess.run(["bash", "-c", f'"{PYTHON}" -m mirrorctl use aliyun -t pip >&-'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "mirrors.aliyun.com" in sandbox.user_pip_conf.read_text()
    proc = subprocess.run(["bash", "-c", f'"{PYTHON}" -m mirrorctl use nosuchmirror 2>&-'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2


# -- arguments that are not UTF-8 ---------------------------------------------------

@pytest.mark.parametrize("args, number", [
    ((b"use", b"\xff"), 2),
    ((b"use", b"tuna", b"--project", b"/tmp/caf\xe9"), 4),
    ((b"status", b"--root=/x\xfe\xff"), 2),  # the fast path too
    ((b"add", b"corp", b"https://x.example/\xff/simple"), 3),
])
def test_arguments_that_are_not_utf8_are_a_usage_error(sandbox, args, number):
    proc = mirrorctl(*args)
    assert proc.returncode == ExitCode.USAGE
    line = one_line(proc.stderr)
    assert f"argument {number} " in line and "not valid UTF-8" in line
    shown = "\\xff" if b"\xff" in args[-1] else "\\xe9"
    assert shown in line
    assert proc.stdout == b""
    assert not sandbox.user_pip_conf.exists() and not (sandbox.config / "mirrorctl").exists()


def test_exec_passes_its_commands_bytes_on(sandbox):
    proc = mirrorctl("exec", "tuna", "--", "printf", "%s|%s", b"\xff", b"caf\xe9")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"\xff|caf\xe9"
    proc = mirrorctl("exec", b"tu\xffna", "--", "true")  # the mirror name is mirrorctl's own
    assert proc.returncode == ExitCode.USAGE and "\\xff" in one_line(proc.stderr)


# -- empty path options -------------------------------------------------------------

@pytest.mark.parametrize("value", ["", " ", "\t"])
@pytest.mark.parametrize("option", ["--root", "--venv", "--project"])
def test_empty_path_options_are_refused(run, run_cli, sandbox, option, value):
    # --dry-run and --check: were the refusal missing, an empty --root would mean the real /
    for runner in (run, run_cli):
        result = runner("use", "tuna", "--scope", "global", option, value, "--dry-run")
        assert result.exit_code == ExitCode.USAGE, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{option} " in lines[0] and "empty path" in lines[0], lines
        assert result.stdout == ""
    result = run_cli("status", f"{option}={value}")  # the fast path
    assert result.exit_code == ExitCode.USAGE and "empty path" in result.stderr
    assert run("reset", option, value, "--check").exit_code == ExitCode.USAGE


# -- an OSError that reaches the command line ---------------------------------------

@pytest.mark.parametrize("code, words, exit_code", [
    (errno.ENOSPC, ("no space left on device", "free some space"), ExitCode.NOT_WRITABLE),
    (errno.EROFS, ("read-only file system", "remount"), ExitCode.NOT_WRITABLE),
    (errno.EACCES, ("permission denied", "sudo"), ExitCode.NOT_WRITABLE),
    (errno.EPERM, ("operation not permitted", "permissions"), ExitCode.NOT_WRITABLE),
    (errno.EIO, ("input/output error", "dmesg"), ExitCode.NOT_WRITABLE),
    (errno.EDQUOT, ("quota", "free some space"), ExitCode.NOT_WRITABLE),
    (errno.ELOOP, ("too many levels of symbolic links",), ExitCode.ERROR),
])
def test_an_oserror_from_the_core_is_one_line_naming_the_file(run, sandbox, monkeypatch, code, words, exit_code):
    from mirrorctl import ops

    path = str(sandbox.state / "mirrorctl" / "journal" / "0001.json")

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), path)

    monkeypatch.setattr(ops, "use_mirror", fail)
    result = run("use", "tuna")
    assert result.exit_code == exit_code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mirrorctl: error: "), lines
    assert "internal error" not in lines[0] and path in lines[0]
    for word in words:
        assert word in lines[0].lower()
    assert "(hint: " in lines[0]


def test_an_oserror_on_a_rename_names_both_files(run, sandbox, monkeypatch):
    from mirrorctl import ops

    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/x/pip.conf.mirrorctl-tmp", None, "/x/pip.conf")

    monkeypatch.setattr(ops, "reset", fail)
    result = run("reset")
    assert result.exit_code == ExitCode.NOT_WRITABLE
    assert "/x/pip.conf.mirrorctl-tmp -> /x/pip.conf: no space left on device" in result.stderr


def test_an_oserror_on_the_fast_path_and_with_v(sandbox, monkeypatch, capsys):
    from mirrorctl import ops
    from mirrorctl.cli.fast import try_fast

    def fail(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", "/etc/pip.conf")

    monkeypatch.setattr(ops, "status", fail)
    assert try_fast(["status"]) == ExitCode.NOT_WRITABLE
    err = capsys.readouterr().err
    assert err.startswith("mirrorctl: error: /etc/pip.conf: permission denied (hint: ") and err.count("\n") == 1
    assert try_fast(["-v", "status"]) == ExitCode.NOT_WRITABLE
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().endswith(")")  # the traceback, then the one line


def test_a_broken_pipe_with_a_file_name_is_a_file_error(run, monkeypatch):
    """EPIPE on a file mirrorctl writes (a FIFO whose reader left) is not our own stdout."""
    from mirrorctl import ops

    def fail(*args, **kwargs):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe", "/home/u/.config/pip/pip.conf")

    monkeypatch.setattr(ops, "use_mirror", fail)
    result = run("use", "tuna")
    assert result.exit_code == ExitCode.ERROR
    assert "/home/u/.config/pip/pip.conf: broken pipe" in result.stderr
