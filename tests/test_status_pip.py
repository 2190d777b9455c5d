"""`mirrorctl status` for pip must agree with the real pip in every case."""

import os
from pathlib import Path

import pytest

from conftest import pip_default_index, make_venv, pip_effective, venv_python

A = "https://a.example/simple"
B = "https://b.example/simple"
C = "https://c.example/simple"
D = "https://d.example/simple"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def status_of(run, *args):
    result = run("status", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()["tools"][0]


def agree(run, env=None, python=None, *args):
    """status's index for pip install (and download) equals the real pip's."""
    st = status_of(run, *args)
    real = pip_effective("install", "download", python=python, env=env)
    assert st["index_url"] == (real["install"]["index_url"] or "https://pypi.org/simple")
    download = st["commands"].get("download", {}).get("value", st["index_url"])
    assert download == real["download"]["index_url"]
    return st


@pip_default_index
def test_nothing_configured_reports_the_official_default(run, sandbox):
    st = agree(run)
    assert st["index_url"] == "https://pypi.org/simple"
    assert st["mirror"] == "official"
    assert st["origin"]["kind"] == "default"
    assert st["shadowed"] == []


def test_user_file(run, sandbox):
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n")
    st = agree(run)
    assert st["origin"] == {"kind": "file", "path": str(sandbox.user_pip_conf), "section": "global", "variable": None}


def test_new_user_file_beats_legacy_and_legacy_is_reported_shadowed(run, sandbox):
    legacy = write(sandbox.home / ".pip" / "pip.conf", f"[global]\nindex-url = {A}\n")
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {B}\n")
    st = agree(run)
    assert st["index_url"] == B
    assert [s["origin"]["path"] for s in st["shadowed"]] == [str(legacy)]


def test_legacy_user_file_alone(run, sandbox):
    write(sandbox.home / ".pip" / "pip.conf", f"[global]\nindex-url = {A}\n")
    assert agree(run)["index_url"] == A


def test_install_section_beats_global_in_every_file(run, sandbox):
    xdg_global = write(sandbox.root / "xdg-dirs" / "pip" / "pip.conf", f"[install]\nindex-url = {A}\n")
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {B}\n")
    st = agree(run)
    assert st["index_url"] == A
    assert st["origin"]["path"] == str(xdg_global) and st["origin"]["section"] == "install"
    assert any(B in w for w in st["warnings"])


def test_download_section_is_reported_per_command(run, sandbox):
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n[download]\nindex-url = {B}\n")
    st = agree(run)
    assert st["index_url"] == A
    assert st["commands"]["download"]["value"] == B


def test_site_file_of_the_venv_beats_user(run, sandbox, monkeypatch):
    venv = make_venv(sandbox.root / "v")
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n")
    write(venv / "pip.conf", f"[global]\nindex-url = {B}\n")
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    st = agree(run, python=venv_python(venv))
    assert st["index_url"] == B and st["origin"]["path"] == str(venv / "pip.conf")


def test_pip_config_file_is_loaded_last_and_skips_user_files(run, sandbox, monkeypatch):
    write(sandbox.user_pip_conf, f"[install]\nindex-url = {A}\n")
    env_file = write(sandbox.root / "ci-pip.conf", f"[global]\nindex-url = {B}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(env_file))
    st = agree(run)
    assert st["index_url"] == B  # the user [install] is not read at all
    user_info = [f for f in st["files"] if f["path"] == str(sandbox.user_pip_conf)][0]
    assert "skips the user files" in user_info["skipped"]


def test_missing_pip_config_file_is_ignored(run, sandbox, monkeypatch):
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(sandbox.root / "missing.conf"))
    assert agree(run)["index_url"] == A


@pip_default_index
def test_pip_config_file_devnull_loads_no_file(run, sandbox, monkeypatch):
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    st = agree(run)
    assert st["index_url"] == "https://pypi.org/simple"


def test_environment_variable_beats_every_file_and_section(run, sandbox, monkeypatch):
    write(sandbox.user_pip_conf, f"[install]\nindex-url = {A}\n")
    monkeypatch.setenv("PIP_INDEX_URL", C)
    st = agree(run)
    assert st["index_url"] == C
    assert st["origin"] == {"kind": "env", "path": None, "section": None, "variable": "PIP_INDEX_URL"}
    assert st["shadowed"][0]["value"] == A
    assert any("PIP_INDEX_URL" in w for w in st["warnings"])


def test_empty_values_are_ignored_like_pip_does(run, sandbox, monkeypatch):
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n[install]\nindex-url =\n")
    monkeypatch.setenv("PIP_INDEX_URL", "")
    assert agree(run)["index_url"] == A


def test_key_spelling_variants(run, sandbox):
    write(sandbox.user_pip_conf, f"[global]\nIndex_URL = {A}\n")
    assert agree(run)["index_url"] == A


@pip_default_index
def test_section_names_are_case_sensitive(run, sandbox):
    write(sandbox.user_pip_conf, f"[Global]\nindex-url = {A}\n")
    assert agree(run)["index_url"] == "https://pypi.org/simple"


def test_default_section_applies_to_every_section(run, sandbox):
    write(sandbox.user_pip_conf, f"[DEFAULT]\nindex-url = {A}\n[global]\ntimeout = 5\n[install]\nuser = false\n")
    assert agree(run)["index_url"] == A


def test_a_folder_in_place_of_a_file_is_skipped(run, sandbox):
    sandbox.user_pip_conf.mkdir(parents=True)
    write(sandbox.home / ".pip" / "pip.conf", f"[global]\nindex-url = {A}\n")
    assert agree(run)["index_url"] == A


def test_global_file_under_root_and_xdg_config_dirs_order(run, sandbox, monkeypatch):
    write(sandbox.root / "xdg-dirs" / "pip" / "pip.conf", f"[global]\nindex-url = {A}\n")
    st = status_of(run)
    assert st["index_url"] == A  # read without --root: the XDG_CONFIG_DIRS global file
    write(sandbox.etc / "etc" / "pip.conf", f"[global]\nindex-url = {B}\n")
    st = status_of(run, "--root", str(sandbox.etc))
    assert st["index_url"] == B  # /etc/pip.conf comes after the XDG ones


def test_passwords_are_masked_in_status(run, sandbox):
    write(sandbox.user_pip_conf, "[global]\nindex-url = https://bob:hunter2@corp.example/simple\n")
    for args in (("--json",), (), ("--files",)):
        result = run("status", *args)
        assert "hunter2" not in result.stdout + result.stderr
        assert "bob:****@corp.example" in result.stdout


def test_status_names_the_catalogue_mirror(run, sandbox):
    write(sandbox.user_pip_conf, "[global]\nindex-url = https://pypi.tuna.tsinghua.edu.cn/simple/\n")
    assert status_of(run)["mirror"] == "tuna"


def test_status_human_output_says_who_decides(run, sandbox, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", C)
    result = run("status")
    assert result.exit_code == 0
    assert "environment variable PIP_INDEX_URL" in result.stdout


def test_list_marks_the_mirror_pip_uses(run, sandbox):
    write(sandbox.user_pip_conf, "[global]\nindex-url = https://mirrors.aliyun.com/pypi/simple/\n")
    data = run("list", "--json").json()
    assert [m["name"] for m in data if m["current"]] == ["aliyun"]


def test_tools_left_at_their_default_do_not_disagree_with_pip(run, sandbox):
    write(sandbox.user_pip_conf, "[global]\nindex-url = https://pypi.tuna.tsinghua.edu.cn/simple\n")
    result = run("status", "--json")
    assert not any("disagree" in w for w in result.json()["warnings"])


def test_status_hides_tools_neither_in_use_nor_configured(run, sandbox, on_path):
    data = run("status", "--json").json()
    assert [t["tool"] for t in data["tools"]] == ["pip"]
    assert "conda" in data["hidden"]
    on_path("conda")
    data = run("status", "--json").json()
    assert [t["tool"] for t in data["tools"]] == ["pip", "conda"]
    everything = run("status", "--all", "--json").json()
    assert everything["hidden"] == [] and len(everything["tools"]) > 2
    assert "not shown" in run("status").stdout


def test_install_section_with_the_same_index_is_no_warning(run, sandbox):
    """`use` writes index-url into [global] and into an [install] that had its own: both then hold
    the same value, and pip install uses it either way."""
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n[install]\nindex-url = {A}\n")
    st = agree(run)
    assert st["index_url"] == A and st["origin"]["section"] == "install"
    assert st["warnings"] == [] and st["shadowed"] == []


def test_install_section_with_another_index_or_credential_is_a_warning(run, sandbox):
    write(sandbox.user_pip_conf, f"[global]\nindex-url = {A}\n[install]\nindex-url = {B}\n")
    st = agree(run)
    assert [s["value"] for s in st["shadowed"]] == [A]
    assert sum("[global] sets index-url" in w for w in st["warnings"]) == 1
    # a rotated token is a different value: pip install sends the [install] one
    write(sandbox.user_pip_conf, "[global]\nindex-url = https://u:old@a.example/simple\n"
                                 "[install]\nindex-url = https://u:new@a.example/simple\n")
    st = status_of(run)
    assert len(st["shadowed"]) == 1
    shadow = [w for w in st["warnings"] if "[global] sets index-url" in w]
    assert len(shadow) == 1 and "old" not in shadow[0]


def test_pip_conf_linked_to_dev_null_is_reported_disabled(run, sandbox):
    """pip reads a pip.conf that links to /dev/null as empty: status says so, and agrees with pip."""
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.symlink_to(os.devnull)
    st = agree(run, None, None, "--files")
    info = next(f for f in st["files"] if f["path"] == str(sandbox.user_pip_conf))
    assert info["skipped"].startswith("disabled by a link to /dev/null")
    assert st["error"] is None
