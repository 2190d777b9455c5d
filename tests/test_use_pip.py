"""`mirrorctl use` / `reset` for pip, judged by the real pip."""

import os
import stat

import pytest

from conftest import pip_default_index, make_venv, pip_config_list, pip_effective, venv_python

TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"

COMMENTED = (
    "# pip settings for the lab machines\n"
    "[global]\n"
    "timeout = 60\n"
    "index-url = https://old.example/simple\n"
    "; the proxy is set by the lab image\n"
    "\n"
    "[install]\n"
    "index-url = https://old.example/simple\n"
    "no-warn-script-location = true\n"
)


def test_use_user_scope_real_pip_reads_it_back(run, sandbox):
    result = run("use", "tuna")
    assert result.exit_code == 0, result.stderr
    assert sandbox.user_pip_conf.read_text() == f"[global]\nindex-url = {TUNA}\n"
    assert pip_config_list()["global.index-url"] == TUNA
    assert pip_effective("install")["install"]["index_url"] == TUNA


def test_use_by_alias_and_by_url(run, sandbox):
    assert run("use", "tsinghua").exit_code == 0
    assert pip_effective()["install"]["index_url"] == TUNA
    assert run("use", "https://pypi.corp.example/simple/").exit_code == 0
    assert pip_effective()["install"]["index_url"] == "https://pypi.corp.example/simple/"


def test_use_venv_scope_real_pip_in_that_venv_reads_it(run, sandbox):
    venv = make_venv(sandbox.root / "proj-venv")
    result = run("use", "aliyun", "--scope", "venv", "--venv", str(venv))
    assert result.exit_code == 0, result.stderr
    assert (venv / "pip.conf").read_text() == f"[global]\nindex-url = {ALIYUN}\n"
    assert pip_effective(python=venv_python(venv))["install"]["index_url"] == ALIYUN
    assert not sandbox.user_pip_conf.exists()


def test_venv_scope_uses_virtual_env_variable(run, sandbox, monkeypatch):
    venv = make_venv(sandbox.root / "active")
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    assert run("use", "tuna", "--scope", "venv").exit_code == 0
    assert (venv / "pip.conf").exists()
    status = run("status", "--json").json()["tools"][0]
    assert status["origin"]["path"] == str(venv / "pip.conf")
    assert pip_effective(python=venv_python(venv))["install"]["index_url"] == TUNA


def test_venv_scope_without_a_venv_is_a_clear_error(run, sandbox):
    result = run("use", "tuna", "--scope", "venv")
    assert result.exit_code == 2
    assert "no virtualenv" in result.stderr and "--venv" in result.stderr
    not_a_venv = sandbox.root / "plain"
    not_a_venv.mkdir()
    result = run("use", "tuna", "--scope", "venv", "--venv", str(not_a_venv))
    assert result.exit_code == 2 and "pyvenv.cfg" in result.stderr
    assert list(not_a_venv.iterdir()) == []


def test_use_global_scope_under_root(run, sandbox):
    result = run("use", "ustc", "--scope", "global", "--root", str(sandbox.etc))
    assert result.exit_code == 0, result.stderr
    assert sandbox.global_pip_conf.read_text() == "[global]\nindex-url = https://mirrors.ustc.edu.cn/pypi/simple\n"
    status = run("status", "--root", str(sandbox.etc), "--json").json()["tools"][0]
    assert status["mirror"] == "ustc"
    assert status["origin"] == {"kind": "file", "path": str(sandbox.global_pip_conf), "section": "global",
                                "variable": None}


def test_commented_file_only_the_changed_lines_change(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(COMMENTED)
    assert run("use", "tuna").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == COMMENTED.replace("https://old.example/simple", TUNA)
    effective = pip_effective("install", "download")
    assert effective["install"]["index_url"] == TUNA  # [install] was switched too, so it takes effect
    assert effective["download"]["index_url"] == TUNA


def test_running_twice_leaves_the_same_bytes_and_no_second_journal_entry(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(COMMENTED)
    run("use", "tuna")
    first = sandbox.user_pip_conf.read_bytes()
    result = run("use", "tuna")
    assert result.exit_code == 0 and "already" in result.stdout
    assert sandbox.user_pip_conf.read_bytes() == first
    assert len(run("history", "--json").json()) == 1


def test_http_mirror_gets_trusted_host_and_loses_it_again_on_https(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntrusted-host = corp.example\n")
    assert run("use", "http://127.0.0.1:8080/simple").exit_code == 0
    text = sandbox.user_pip_conf.read_text()
    assert "trusted-host = corp.example 127.0.0.1:8080\n" in text
    assert pip_effective()["install"]["trusted_hosts"] == ["corp.example", "127.0.0.1:8080"]
    assert run("use", "tuna").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == f"[global]\ntrusted-host = corp.example\nindex-url = {TUNA}\n"
    assert pip_effective()["install"]["trusted_hosts"] == ["corp.example"]


def test_http_mirror_trusted_host_goes_into_an_install_section_that_sets_its_own(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[install]\ntrusted-host = other.example\n")
    assert run("use", "http://mirror.lan/simple").exit_code == 0
    effective = pip_effective()["install"]
    assert effective["index_url"] == "http://mirror.lan/simple"
    assert "mirror.lan" in effective["trusted_hosts"]


def test_dry_run_prints_a_diff_and_writes_nothing(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(COMMENTED)
    result = run("use", "tuna", "--dry-run")
    assert result.exit_code == 0
    assert "-index-url = https://old.example/simple" in result.stdout
    assert f"+index-url = {TUNA}" in result.stdout
    assert sandbox.user_pip_conf.read_text() == COMMENTED
    assert run("history", "--json").json() == []


def test_check_exit_codes(run, sandbox):
    result = run("use", "tuna", "--check")
    assert result.exit_code == 3
    assert not sandbox.user_pip_conf.exists()
    assert run("use", "tuna").exit_code == 0
    assert run("use", "tuna", "--check").exit_code == 0
    assert run("use", "aliyun", "--check").exit_code == 3
    assert run("reset", "--check").exit_code == 3


def test_json_output_of_use(run, sandbox):
    data = run("use", "tuna", "--json").json()
    assert data["action"] == "use" and data["changed"] is True
    assert data["mirror"] == {"name": "tuna", "url": TUNA}
    assert data["files"][0]["path"] == str(sandbox.user_pip_conf)
    assert data["files"][0]["action"] == "create"
    assert data["journal"]


@pip_default_index
def test_reset_removes_only_what_mirrorctl_manages(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    original = "# mine\n[global]\ntimeout = 60\n"
    sandbox.user_pip_conf.write_text(original)
    run("use", "http://mirror.lan/simple")
    assert "trusted-host" in sandbox.user_pip_conf.read_text()
    result = run("reset", "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert sandbox.user_pip_conf.read_text() == original
    assert pip_effective()["install"]["index_url"] == "https://pypi.org/simple"


def test_reset_of_a_file_mirrorctl_created_removes_it(run, sandbox):
    run("use", "tuna")
    run("reset")
    assert not sandbox.user_pip_conf.exists()
    assert run("reset").exit_code == 0  # nothing left to do is not an error


def test_symlinked_config_is_written_through(run, sandbox):
    dotfiles = sandbox.root / "dotfiles" / "pip.conf"
    dotfiles.parent.mkdir()
    dotfiles.write_text("[global]\ntimeout = 5\n")
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.symlink_to(dotfiles)
    assert run("use", "tuna").exit_code == 0
    assert sandbox.user_pip_conf.is_symlink()
    assert dotfiles.read_text() == f"[global]\ntimeout = 5\nindex-url = {TUNA}\n"
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.is_symlink() and dotfiles.read_text() == "[global]\ntimeout = 5\n"


def test_permission_bits_are_kept(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\n")
    os.chmod(sandbox.user_pip_conf, 0o640)
    run("use", "tuna")
    assert stat.S_IMODE(sandbox.user_pip_conf.stat().st_mode) == 0o640


def test_new_file_gets_umask_mode_and_missing_folders_are_created(run, sandbox):
    old = os.umask(0o022)
    try:
        run("use", "tuna")
    finally:
        os.umask(old)
    assert stat.S_IMODE(sandbox.user_pip_conf.stat().st_mode) == 0o644
    assert not list(sandbox.user_pip_conf.parent.glob(".*mirrorctl-tmp"))


def test_tool_option_accepts_comma_lists_and_repeats(run, sandbox):
    assert run("use", "tuna", "--tool", "pip,pip", "--tool", "pip").exit_code == 0
    result = run("use", "tuna", "--tool", "pipp")
    assert result.exit_code == 2 and "unknown tool 'pipp'" in result.stderr and "pip" in result.stderr


def test_warns_when_an_environment_variable_still_wins(run, sandbox, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/simple")
    result = run("use", "tuna")
    assert result.exit_code == 0
    assert "PIP_INDEX_URL" in result.stderr and "still use https://env.example/simple" in result.stderr


def test_windows_codepage_file_is_read_and_written_in_that_encoding(run, sandbox, monkeypatch):
    monkeypatch.setenv("MIRRORCTL_PIP_ENCODING", "gbk")
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    original = "# 清华镜像\n[global]\ntimeout = 60\n".encode("gbk")
    sandbox.user_pip_conf.write_bytes(original)
    assert run("use", "tuna").exit_code == 0
    assert sandbox.user_pip_conf.read_bytes() == original + f"index-url = {TUNA}\n".encode()


def test_never_prompts_without_a_terminal(run_cli, sandbox):
    result = run_cli("use", "tuna")  # stdin is /dev/null
    assert result.exit_code == 0, result.stderr
    assert sandbox.user_pip_conf.exists()


def test_dry_run_diff_masks_passwords(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\nindex-url = https://bob:oldsecret@corp.example/simple\n")
    for args in (("--dry-run",), ("--dry-run", "--json")):
        result = run("use", "https://bob:newsecret@corp.example/simple", *args)
        assert result.exit_code == 0
        assert "oldsecret" not in result.stdout and "newsecret" not in result.stdout
        assert "bob:****@corp.example" in result.stdout


def test_reset_json_and_dry_run(run, sandbox):
    run("use", "tuna")
    data = run("reset", "--dry-run", "--json").json()
    assert data["action"] == "reset" and data["changed"] and data["dry_run"]
    assert data["files"][0]["action"] == "delete"
    assert sandbox.user_pip_conf.exists()


def test_global_scope_keeps_other_global_settings(run, sandbox):
    conf = sandbox.global_pip_conf
    conf.parent.mkdir(parents=True)
    conf.write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    assert run("use", "tuna", "--scope", "global", "--root", str(sandbox.etc)).exit_code == 0
    assert conf.read_text() == ("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"
                                f"index-url = {TUNA}\n")
    assert run("reset", "--scope", "global", "--root", str(sandbox.etc)).exit_code == 0
    assert conf.read_text() == "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"


def test_warns_when_pip_config_file_makes_pip_skip_the_user_file(run, sandbox, monkeypatch):
    ci_conf = sandbox.root / "ci.conf"
    ci_conf.write_text("[global]\ntimeout = 5\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(ci_conf))
    result = run("use", "tuna")
    assert result.exit_code == 0
    assert "the file written is not read (PIP_CONFIG_FILE is set to an existing file" in result.stderr


def test_bogus_encoding_variable_is_a_clear_error(run, sandbox, monkeypatch):
    monkeypatch.setenv("MIRRORCTL_PIP_ENCODING", "bogus")
    result = run("use", "tuna")
    assert result.exit_code == 2 and "MIRRORCTL_PIP_ENCODING='bogus'" in result.stderr
    assert not sandbox.user_pip_conf.exists()


def test_venv_option_pointing_at_a_file(run, sandbox):
    f = sandbox.root / "not-a-venv"
    f.write_text("x")
    result = run("use", "tuna", "--scope", "venv", "--venv", str(f))
    assert result.exit_code == 2 and "is a file, not a virtualenv folder" in result.stderr


def test_parse_errors_do_not_print_passwords(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("index-url = https://bob:s3cret@corp.example/simple\n")
    for args in (("status",), ("status", "--json"), ("status", "--files"), ("use", "tuna")):
        result = run(*args)
        assert result.exit_code == 4
        assert "s3cret" not in result.stdout + result.stderr


CONTINUED = (
    "# the index, on a line of its own\n"
    "[global]\n"
    "index-url =\n"
    "    https://old.example/simple\n"
    "timeout = 60\n"
    "[install]\n"
    "index-url = https://old.example/simple\n"
    "# mirror of the mirror\n"
    "    https://older.example/simple\n"
    "no-warn-script-location = true\n"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_index_url_continued_on_the_next_line_is_replaced_whole(run, sandbox, newline):
    """A value on an indented next line is one value for pip: `use` replaces it whole (no empty
    index-url, no key made of the old URL), a second `use` does not glue URLs, `reset` leaves no trace."""
    original = CONTINUED.replace("\n", newline)
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_bytes(original.encode())
    before = pip_config_list()
    assert run("use", "tuna").exit_code == 0
    listed = pip_config_list()
    assert listed["global.index-url"] == TUNA and listed["install.index-url"] == TUNA
    assert {k: v for k, v in listed.items() if "index-url" not in k} == \
        {k: v for k, v in before.items() if "index-url" not in k}  # no stray key, nothing else changed
    assert pip_effective("install", "download")["install"]["index_url"] == TUNA
    assert "old.example" not in sandbox.user_pip_conf.read_text()
    assert "# mirror of the mirror" in sandbox.user_pip_conf.read_text()  # a comment line stays

    assert run("use", "aliyun").exit_code == 0
    listed = pip_config_list()
    assert listed["global.index-url"] == ALIYUN and listed["install.index-url"] == ALIYUN
    assert pip_effective("install")["install"]["index_url"] == ALIYUN

    assert run("reset").exit_code == 0
    listed = pip_config_list()
    assert not any("index-url" in key for key in listed)
    assert {k: v for k, v in listed.items()} == {k: v for k, v in before.items() if "index-url" not in k}
    text = sandbox.user_pip_conf.read_bytes().decode()
    assert "simple" not in text and "timeout = 60" in text
    assert (newline == "\r\n") == ("\r\n" in text)


def test_http_index_continued_on_the_next_line_loses_its_trusted_host(run, sandbox):
    """The stale trusted-host of an old http:// index given on a continuation line goes too."""
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntrusted-host = old.example\nindex-url =\n    http://old.example/simple\n")
    assert run("use", "tuna").exit_code == 0
    listed = pip_config_list()
    assert listed["global.index-url"] == TUNA and "global.trusted-host" not in listed


def test_large_pip_conf_is_edited_in_place(run, sandbox):
    """Many sections (the edit is linear in them): only the edited lines change, pip reads it back."""
    sections = "".join(f"[tool-{i}]\n# tool {i}\nkey = {i}\nmore =\n    continued {i}\n\n" for i in range(3000))
    original = "[global]\nindex-url = https://old.example/simple\n\n" + sections
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text(original)
    assert run("use", "tuna").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == original.replace("https://old.example/simple", TUNA)
    assert pip_effective("install")["install"]["index_url"] == TUNA


def test_use_without_fallback_leaves_no_extra_index_and_a_written_one_goes_with_the_next_use(run, sandbox):
    assert run("use", "tuna", "--fallback", "aliyun", "--tool", "pip").exit_code == 0
    assert pip_effective()["install"]["extra_index_urls"] == [ALIYUN]
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    assert pip_effective()["install"]["extra_index_urls"] == []
    assert sandbox.user_pip_conf.read_text() == f"[global]\nindex-url = {TUNA}\n"
