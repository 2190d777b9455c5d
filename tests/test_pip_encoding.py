"""The encoding of pip.conf: what the real pip on this platform reads, and MIRRORCTL_PIP_ENCODING
naming one it does not (gbk on Linux under a UTF-8 locale), or one no pip reads at all."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import pip_effective, real_pip

from mirrorctl.context import Context
from mirrorctl.targets import pip_encoding

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
GBK_FILE = "# 清华镜像, 公司网络\n[global]\ntimeout = 60\n".encode("gbk")

linux_utf8 = pytest.mark.skipif(not sys.platform.startswith("linux") or pip_encoding.pip_rule() != "utf-8",
                                reason="needs Linux with a UTF-8 locale (what pip reads here)")


@linux_utf8
def test_gbk_on_linux_is_written_with_a_warning_naming_the_platform_and_status_agrees_with_pip(
        run, sandbox, monkeypatch):
    conf = sandbox.user_pip_conf
    conf.parent.mkdir(parents=True)
    conf.write_bytes(GBK_FILE)
    # the real pip here cannot read it at all
    proc = real_pip("config", "list", check=False)
    assert proc.returncode != 0 and "invalid utf-8 characters" in proc.stderr.lower()
    monkeypatch.setenv("MIRRORCTL_PIP_ENCODING", "gbk")
    result = run("use", "tuna", "-t", "pip")
    assert result.exit_code == 0, result.stderr
    assert conf.read_bytes() == GBK_FILE + f"index-url = {TUNA}\n".encode()  # the file's own bytes kept
    warning = " ".join(result.stderr.split())
    for part in (str(conf), "pip on Linux reads it in the locale's encoding, utf-8",
                 "MIRRORCTL_PIP_ENCODING=gbk is what pip on Windows with code page 936 reads"):
        assert part in warning, warning
    # status says what the real pip does: it cannot run
    proc = real_pip("config", "list", check=False)
    assert proc.returncode != 0 and "invalid utf-8 characters" in proc.stderr.lower()
    result = run("status", "--json")
    assert result.exit_code == 4
    pip = result.json()["tools"][0]
    assert pip["index_url"] is None and "code page 936" in pip["error"] and str(conf) in pip["error"]
    # saved as UTF-8 (what `iconv -f gbk -t utf-8` does), pip reads it and so does status
    monkeypatch.delenv("MIRRORCTL_PIP_ENCODING")
    conf.write_bytes(conf.read_bytes().decode("gbk").encode("utf-8"))
    assert pip_effective()["install"]["index_url"] == TUNA
    assert run("status", "--json").json()["tools"][0]["index_url"] == TUNA


@linux_utf8
def test_an_ascii_file_reads_the_same_in_gbk_so_there_is_nothing_to_warn_about(run, sandbox, monkeypatch):
    monkeypatch.setenv("MIRRORCTL_PIP_ENCODING", "gbk")
    result = run("use", "tuna", "-t", "pip")
    assert result.exit_code == 0 and result.stderr == ""
    assert pip_effective()["install"]["index_url"] == TUNA
    assert run("status", "-t", "pip").exit_code == 0


@pytest.mark.parametrize("value", ["utf-16", "UTF-16LE", "utf-32", "utf-8-sig", "utf-7", "rot13"])
def test_an_encoding_no_pip_reads_is_refused_and_nothing_is_written(run, sandbox, monkeypatch, value):
    monkeypatch.setenv("MIRRORCTL_PIP_ENCODING", value)
    for args in (("use", "tuna", "-t", "pip"), ("status", "-t", "pip")):
        result = run(*args)
        assert result.exit_code == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"MIRRORCTL_PIP_ENCODING={value!r}" in lines[0] and "hint:" in lines[0]
    assert not sandbox.user_pip_conf.exists()


def _gbk_locale(folder: Path) -> dict:
    """A zh_CN.GBK locale built with localedef into ``folder`` (glibc finds it through LOCPATH)."""
    if shutil.which("localedef") is None or not Path("/usr/share/i18n/charmaps/GBK.gz").exists():
        pytest.skip("localedef or the GBK charmap is not installed")
    proc = subprocess.run(["localedef", "-i", "zh_CN", "-f", "GBK", str(folder / "zh_CN.GBK")],
                          capture_output=True, text=True, timeout=120)
    if not (folder / "zh_CN.GBK").is_dir():
        pytest.skip(f"localedef could not build zh_CN.GBK: {proc.stderr.strip()}")
    env = {"LOCPATH": str(folder), "LANG": "zh_CN.GBK", "LC_ALL": "zh_CN.GBK"}
    probe = subprocess.run([sys.executable, "-c", "import locale; print(locale.getencoding())"],
                           capture_output=True, text=True, env={**os.environ, **env, "PYTHONUTF8": "0"}, timeout=60)
    if probe.stdout.strip().lower() != "gbk":
        pytest.skip(f"the GBK locale is not in force here ({probe.stdout.strip()})")
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's localedef and LOCPATH")
def test_under_a_gbk_locale_the_real_pip_on_linux_reads_gbk_and_so_does_mirrorctl(run_cli, sandbox, monkeypatch):
    env = _gbk_locale(sandbox.root)
    monkeypatch.delenv("PYTHONUTF8", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    conf = sandbox.user_pip_conf
    conf.parent.mkdir(parents=True)
    conf.write_bytes(GBK_FILE)
    result = run_cli("use", "tuna", "-t", "pip")  # no MIRRORCTL_PIP_ENCODING: pip's rule gives gbk
    assert result.exit_code == 0 and "MIRRORCTL_PIP_ENCODING" not in result.stderr, result.stderr
    assert conf.read_bytes() == GBK_FILE + f"index-url = {TUNA}\n".encode()
    assert pip_effective()["install"]["index_url"] == TUNA  # the real pip, under the same locale
    result = run_cli("status", "-t", "pip", "--json", env={"MIRRORCTL_PIP_ENCODING": "gbk"})  # named: the same
    assert result.exit_code == 0 and result.json()["tools"][0]["index_url"] == TUNA, result.stderr


def test_on_windows_any_code_page_is_taken_as_the_one_pip_reads():
    win = Context(environ={"MIRRORCTL_PIP_ENCODING": "gbk"}, platform="win32")
    assert pip_encoding.status_encoding(win) == ("gbk", None)
    assert pip_encoding.reads_it("cp1252") == "pip on Windows with code page 1252"
    assert pip_encoding.reads_it(pip_encoding.canonical("cp936")) == "pip on Windows with code page 936"
