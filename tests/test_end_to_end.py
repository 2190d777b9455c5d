"""The proof: after `mirrorctl use`, the real pip installs a wheel from a real index on 127.0.0.1."""

import os

import pytest

from conftest import pip_default_index, make_venv, real_pip, venv_python


def test_pip_installs_from_the_local_index_after_use(run, sandbox, index):
    result = run("use", index.url)
    assert result.exit_code == 0, result.stderr
    text = sandbox.user_pip_conf.read_text()
    assert f"index-url = {index.url}" in text and f"trusted-host = 127.0.0.1:{index.port}" in text
    target = sandbox.root / "target"
    proc = real_pip("install", "--no-cache-dir", "--target", str(target), "mirrorctl-demo")
    assert (target / "mirrorctl_demo" / "__init__.py").exists(), proc.stdout
    assert "/simple/mirrorctl-demo/" in index.requests()
    assert "mirrorctl_demo-1.0-py3-none-any.whl" in index.requests()


@pip_default_index
def test_venv_scope_install_then_undo_goes_back(run, sandbox, index):
    venv = make_venv(sandbox.root / "v")
    assert run("use", index.url, "--scope", "venv", "--venv", str(venv)).exit_code == 0
    target = sandbox.root / "t1"
    real_pip("install", "--no-cache-dir", "--target", str(target), "mirrorctl-demo", python=venv_python(venv))
    assert (target / "mirrorctl_demo").is_dir()
    assert run("undo").exit_code == 0
    assert not (venv / "pip.conf").exists()
    st = run("status", "--venv", str(venv), "--json").json()["tools"][0]
    assert st["index_url"] == "https://pypi.org/simple"


def test_added_user_mirror_by_name(run, sandbox, index):
    assert run("add", "lab", index.url).exit_code == 0
    assert run("use", "lab").exit_code == 0
    st = run("status", "--json").json()["tools"][0]
    assert st["mirror"] == "lab"
    real_pip("download", "--no-cache-dir", "--no-deps", "-d", str(sandbox.root / "dl"), "mirrorctl-demo")
    assert list((sandbox.root / "dl").glob("*.whl"))
