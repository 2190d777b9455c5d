"""`mirrorctl use MIRROR --fallback A,B`: pip's extra-index-url (the one tool that goes on with the
next index, docs/fallbacks.md), a note for every other tool, judged by the real pip."""

import subprocess
import sys

import pytest

from conftest import pip_config_list, pip_effective, real_pip
from fallback_servers import HangingIndex, RefusingIndex
from mirrorctl.errors import ExitCode

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"
USTC = "https://mirrors.ustc.edu.cn/pypi/simple"
MINE = "https://pypi.corp.example/simple"


def effective():
    return pip_effective("install")["install"]


def pip_status(run):
    result = run("status", "--tool", "pip", "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()["tools"][0]


def test_fallbacks_go_to_extra_index_url_and_the_real_pip_reads_them(run, sandbox):
    result = run("use", "tuna", "--tool", "pip", "--fallback", "aliyun,ustc")
    assert result.exit_code == 0, result.stderr
    assert effective()["index_url"] == TUNA
    assert effective()["extra_index_urls"] == [ALIYUN, USTC]
    assert "fall-backs aliyun, ustc" in result.stdout and "every package" in result.stdout
    assert pip_config_list()["global.mirrorctl-fallbacks"] == f"{ALIYUN} {USTC}"
    st = pip_status(run)
    assert st["fallbacks"] == [ALIYUN, USTC] and st["extra_index_urls"] == [ALIYUN, USTC]
    table = run("status", "--tool", "pip").stdout
    assert f"pip fall-back  {ALIYUN}" in table and f"pip fall-back  {USTC}" in table


def test_fallback_repeats_and_comma_lists_mix(run, sandbox):
    assert run("use", "tuna", "--tool", "pip", "--fallback", "aliyun", "--fallback", "ustc,aliyun").exit_code == 0
    assert effective()["extra_index_urls"] == [ALIYUN, USTC]


def test_switching_replaces_mirrorctl_s_fallbacks_and_none_given_removes_them(run, sandbox):
    assert run("use", "tuna", "--tool", "pip", "--fallback", "aliyun,ustc").exit_code == 0
    assert run("use", "aliyun", "--tool", "pip", "--fallback", "ustc").exit_code == 0
    assert effective()["index_url"] == ALIYUN and effective()["extra_index_urls"] == [USTC]
    assert run("use", "ustc", "--tool", "pip").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == f"[global]\nindex-url = {USTC}\n"
    assert effective()["extra_index_urls"] == []


def test_the_user_s_own_extra_index_is_kept_and_named_in_use_and_status(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(f"[global]\nextra-index-url = {MINE}\n")
    result = run("use", "tuna", "--tool", "pip", "--fallback", "aliyun")
    assert result.exit_code == 0, result.stderr
    assert effective()["extra_index_urls"] == [MINE, ALIYUN]
    assert MINE in result.stdout and "did not write" in result.stdout
    st = pip_status(run)
    assert st["fallbacks"] == [ALIYUN] and st["extra_index_urls"] == [MINE, ALIYUN]
    table = run("status", "--tool", "pip").stdout
    assert f"pip extra index  {MINE}" in table and "not written by mirrorctl" in table
    # switching without --fallback takes only mirrorctl's out, and still names the user's
    result = run("use", "ustc", "--tool", "pip")
    assert effective()["extra_index_urls"] == [MINE]
    assert MINE in result.stdout
    assert sandbox.user_pip_conf.read_text() == f"[global]\nextra-index-url = {MINE}\nindex-url = {USTC}\n"
    # reset leaves the user's entry too
    assert run("reset", "--tool", "pip").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == f"[global]\nextra-index-url = {MINE}\n"


def test_a_user_entry_that_is_also_a_fallback_stays_the_user_s(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(f"[global]\nextra-index-url = {ALIYUN}\n")
    assert run("use", "tuna", "--tool", "pip", "--fallback", "aliyun,ustc").exit_code == 0
    assert effective()["extra_index_urls"] == [ALIYUN, USTC]
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    assert effective()["extra_index_urls"] == [ALIYUN]  # mirrorctl did not write it: it stays


def test_an_install_section_with_its_own_extra_index_gets_the_fallbacks_too(run, sandbox):
    """[install] extra-index-url overrides [global]'s for pip install: the fall-backs go there as well."""
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(f"[install]\nextra-index-url = {MINE}\n")
    assert run("use", "tuna", "--tool", "pip", "--fallback", "aliyun").exit_code == 0
    assert effective()["extra_index_urls"] == [MINE, ALIYUN]
    assert pip_status(run)["fallbacks"] == [ALIYUN]
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    assert effective()["extra_index_urls"] == [MINE]


def test_plain_http_fallback_gets_trusted_host_and_loses_it_when_replaced(run, sandbox):
    assert run("use", "tuna", "--tool", "pip", "--fallback", "http://10.0.0.5:3141/root/pypi/+simple/").exit_code == 0
    assert effective()["trusted_hosts"] == ["10.0.0.5:3141"]
    assert run("use", "tuna", "--tool", "pip", "--fallback", "aliyun").exit_code == 0
    assert effective()["trusted_hosts"] == []
    assert "trusted-host" not in sandbox.user_pip_conf.read_text()


def test_undo_restores_the_file_byte_for_byte(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    original = f"# mine\n[global]\nindex-url = {USTC}\nextra-index-url = {MINE}\n"
    sandbox.user_pip_conf.write_text(original)
    assert run("use", "tuna", "--tool", "pip", "--fallback", "aliyun").exit_code == 0
    assert run("use", "aliyun", "--tool", "pip", "--fallback", "ustc").exit_code == 0
    assert run("undo").exit_code == 0
    assert effective()["extra_index_urls"] == [MINE, ALIYUN]
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == original


def test_dry_run_writes_nothing_and_shows_the_diff(run, sandbox):
    result = run("use", "tuna", "--tool", "pip", "--fallback", "aliyun", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert f"+extra-index-url = {ALIYUN}" in result.stdout
    assert not sandbox.user_pip_conf.exists()


def test_a_fallback_that_is_the_mirror_itself_is_refused(run, sandbox):
    result = run("use", "tuna", "--tool", "pip", "--fallback", "tsinghua")
    assert result.exit_code == ExitCode.USAGE
    assert "--fallback tsinghua" in result.stderr
    assert not sandbox.user_pip_conf.exists()


def test_an_unknown_fallback_is_refused_before_anything_is_written(run, sandbox):
    result = run("use", "tuna", "--tool", "pip", "--fallback", "nosuchmirror")
    assert result.exit_code != 0
    assert "nosuchmirror" in result.stderr
    assert not sandbox.user_pip_conf.exists()


def test_tools_that_do_not_fall_over_get_a_note_and_only_the_main_index(run, sandbox):
    project = sandbox.root / "proj"
    project.mkdir()
    result = run("use", "tuna", "--tool", "uv,pip", "--fallback", "aliyun")
    assert result.exit_code == 0, result.stderr
    assert "uv: no fall-back written" in result.stdout and "mirrorctl cache" in result.stdout
    uv_toml = (sandbox.config / "uv" / "uv.toml").read_text()
    assert TUNA in uv_toml and ALIYUN not in uv_toml
    assert effective()["extra_index_urls"] == [ALIYUN]


def test_json_output_carries_the_notes(run, sandbox):
    result = run("use", "tuna", "--tool", "pip,uv", "--fallback", "aliyun", "--json")
    assert result.exit_code == 0, result.stderr
    notes = " ".join(result.json()["notes"])
    assert "pip: fall-backs aliyun" in notes and "uv: no fall-back written" in notes


def test_the_real_pip_installs_from_the_fallback_when_the_mirror_refuses(run, sandbox, index):
    """The point of it: main mirror down (a closed port), the fall-back a real pypiserver."""
    with RefusingIndex() as down:
        assert run("use", down.url, "--tool", "pip", "--fallback", index.url, "--no-verify").exit_code == 0
        target = sandbox.root / "target"
        proc = real_pip("install", "--no-cache-dir", "--retries", "0", "--target", str(target), "mirrorctl-demo")
        assert (target / "mirrorctl_demo" / "__init__.py").exists(), proc.stderr
        assert "mirrorctl-demo" in index.requests()


def test_the_real_pip_installs_through_a_hanging_mirror_after_its_timeout(run, sandbox, index):
    # --no-verify: the check of the URL would be a request of its own to the hanging server
    with HangingIndex() as hang:
        assert run("use", hang.url, "--tool", "pip", "--fallback", index.url, "--no-verify").exit_code == 0
        target = sandbox.root / "target"
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-cache-dir", "--timeout", "1",
                               "--retries", "0", "--target", str(target), "mirrorctl-demo"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert hang.attempts == 1


@pytest.mark.parametrize("scope_args", [["--scope", "global"]])
def test_global_scope_under_root(run, sandbox, scope_args):
    result = run("use", "tuna", "--tool", "pip", *scope_args, "--root", str(sandbox.etc), "--fallback", "ustc")
    assert result.exit_code == 0, result.stderr
    text = sandbox.global_pip_conf.read_text()
    assert f"extra-index-url = {USTC}" in text and f"mirrorctl-fallbacks = {USTC}" in text


def test_a_fallback_given_as_a_catalogue_host_is_corrected_like_the_main_url(run, sandbox):
    result = run("use", "tuna", "--tool", "pip", "--fallback", "https://mirrors.aliyun.com")
    assert result.exit_code == 0, result.stderr
    assert "corrected to aliyun's index" in result.stdout + result.stderr
    assert "extra-index-url = https://mirrors.aliyun.com/pypi/simple" in sandbox.user_pip_conf.read_text()
