"""Bad input is a feature: one line naming the file or value, a hint, non-zero exit, not one byte changed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"


def assert_one_line_error(result, *fragments, code):
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mirrorctl: error: ")
    assert "hint:" in lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def snapshot(root: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("content, fragment", [
    (b"index-url = https://x/simple\n", "no [section] header"),
    (b"[global]\ntimeout = 1\n[global]\n", "section [global] appears twice"),
    (b"[global]\nindex-url = a\nindex-url = b\n", "'index-url' appears twice"),
    (b"[global\nindex-url = a\n", "line 1"),
    (b"[global]\nindex-url = \xff\xfe\n", "invalid utf-8 characters"),
])
def test_broken_pip_conf_is_refused_and_left_alone(run, sandbox, content, fragment):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_bytes(content)
    before = snapshot(sandbox.root)
    result = run("use", "tuna")
    assert_one_line_error(result, str(sandbox.user_pip_conf), fragment, code=4)
    assert snapshot(sandbox.root) == before
    # status says the same, and so does the real pip
    status = run("status")
    assert status.exit_code == 4
    assert fragment in status.stderr
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    assert proc.returncode != 0


def test_bom_is_repaired_and_said(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_bytes(b"\xef\xbb\xbf[global]\ntimeout = 5\n")
    status = run("status")
    assert status.exit_code == 4 and "byte-order mark" in status.stderr
    result = run("use", "tuna")
    assert result.exit_code == 0, result.stderr
    assert "removed the UTF-8 byte-order mark" in result.stdout
    assert sandbox.user_pip_conf.read_bytes() == f"[global]\ntimeout = 5\nindex-url = {TUNA}\n".encode()
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.read_bytes().startswith(b"\xef\xbb\xbf")


def test_unknown_mirror_suggests_close_names(run, sandbox):
    result = run("use", "tunaa")
    assert_one_line_error(result, "unknown mirror 'tunaa'", "did you mean tuna", code=2)
    assert not sandbox.user_pip_conf.exists()
    result = run("use", "xyzzy")
    assert_one_line_error(result, "unknown mirror 'xyzzy'", "mirrorctl list", code=2)


@pytest.mark.parametrize("url", [
    "https://evil.example/simple\n[global]\nindex-url = http://attacker",
    "ftp://mirror.example/simple",
    "https://",
    "https://bob:secret@mirror.example/sim ple",
])
def test_bad_urls_are_refused_and_passwords_not_printed(run, sandbox, url):
    result = run("use", url)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "secret" not in result.stderr
    assert not sandbox.user_pip_conf.exists()


def test_config_path_that_is_a_folder(run, sandbox):
    sandbox.user_pip_conf.mkdir(parents=True)
    result = run("use", "tuna")
    assert_one_line_error(result, str(sandbox.user_pip_conf), "is a folder", code=4)
    assert sandbox.user_pip_conf.is_dir() and not any(sandbox.user_pip_conf.iterdir())


def test_config_path_under_a_file(run, sandbox):
    sandbox.config.mkdir(parents=True)
    (sandbox.config / "pip").write_text("not a folder")
    before = snapshot(sandbox.root)
    result = run("use", "tuna")
    assert_one_line_error(result, "is a file", code=5)
    assert snapshot(sandbox.root) == before


def test_permission_denied_at_global_scope(sandbox):
    """Run mirrorctl as an unprivileged user against a root-owned folder: real permissions, no mock."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="mirrorctl-perm-"))
    try:
        os.chmod(base, 0o755)
        etc = base / "sysroot" / "etc"
        etc.mkdir(parents=True)
        (etc / "pip.conf").write_text("[global]\ntimeout = 5\n")
        home = base / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "XDG_STATE_HOME": str(home / ".state")}
        cmd = [sys.executable, "-m", "mirrorctl", "use", "tuna", "--scope", "global", "--root", str(base / "sysroot")]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("root without setpriv: cannot drop privileges here")
            os.chmod(home, 0o777)
            cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
            probe = subprocess.run([*cmd[:4], sys.executable, "-c", "import mirrorctl"], capture_output=True)
            if probe.returncode != 0:
                pytest.skip("the unprivileged user cannot import mirrorctl from this checkout")
        else:
            os.chmod(etc, 0o555)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        assert proc.returncode == 5, proc.stderr
        assert "permission denied" in proc.stderr and "sudo" in proc.stderr and "--scope user" in proc.stderr
        assert str(etc / "pip.conf") in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        assert (etc / "pip.conf").read_text() == "[global]\ntimeout = 5\n"
        assert sorted(p.name for p in etc.iterdir()) == ["pip.conf"]
    finally:
        os.chmod(base / "sysroot" / "etc", 0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_broken_user_catalogue_is_named(run, sandbox):
    catalogue = sandbox.config / "mirrorctl" / "mirrors.toml"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text("[[mirror]]\nname = 'corp'\nurl = \n")
    before = snapshot(sandbox.root)
    for args in (("list",), ("use", "tuna"), ("add", "x", "https://x.example/simple")):
        result = run(*args)
        assert_one_line_error(result, str(catalogue), "not valid TOML", code=4)
    assert snapshot(sandbox.root) == before


def test_user_catalogue_with_a_bad_url_is_named(run, sandbox):
    catalogue = sandbox.config / "mirrorctl" / "mirrors.toml"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_text("[[mirror]]\nname = 'corp'\nurl = 'gopher://x'\n")
    assert_one_line_error(run("list"), str(catalogue), "corp", "scheme", code=4)


def test_internal_errors_are_one_line_without_v(run, sandbox, monkeypatch):
    from mirrorctl import ops

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(ops, "status", boom)
    result = run("status")
    assert_one_line_error(result, "internal error", "kaboom", "-v", code=1)
