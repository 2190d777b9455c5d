"""Hostile things at a configuration path: a FIFO, a link to a device, a huge file, a YAML bomb,
a merge key, values nested without end. Each command finishes with one line naming the path and
a documented exit code, and leaves the thing where it was.

FIFOs are made with os.mkfifo inside the sandbox; device files are only ever *pointed to* by
symlinks inside the sandbox (nothing under /dev is created or changed). A command that would
block is run as a subprocess: its timeout tells a hang from a finish.
"""

import os
import stat
import threading
from pathlib import Path

import pytest

from conftest import pip_config_list, pip_effective
from mirrorctl.changes import (MAX_CONFIG_BYTES, DisabledFileError, NotRegularFileError, check_replaceable,
                               read_config_file)
from mirrorctl.errors import ConfigFileError, ExitCode
from mirrorctl.formats import toml as toml_format
from mirrorctl.formats import yaml as yaml_format

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev links are POSIX")

BAD_CONFIG = int(ExitCode.BAD_CONFIG)


def condarc(sandbox) -> Path:
    return sandbox.home / ".condarc"


def catalogue(sandbox) -> Path:
    return sandbox.config / "mirrorctl" / "mirrors.toml"


def fifo_at(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def link_at(path: Path, target: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def one_line_error(result, path: Path, *words: str) -> str:
    """The single `mirrorctl: error:` line, which names the path (and the words); no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("mirrorctl: error:")]
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and all(word in lines[0] for word in words), lines[0]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return lines[0]


def finishes(func, timeout=60):
    """Run ``func`` in a thread: it must finish (a blocking open of a FIFO would not)."""
    outcome = {}

    def target():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "blocked"
    return outcome


# -- FIFOs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [("use", "tuna", "--tool", "pip"), ("reset", "--tool", "pip")])
def test_fifo_as_pip_conf_use_and_reset_fail_in_one_line(run_cli, sandbox, command):
    fifo = fifo_at(sandbox.user_pip_conf)
    result = run_cli(*command)
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, fifo, "FIFO", "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_fifo_as_pip_conf_status_says_so_and_list_finishes(run_cli, sandbox):
    fifo = fifo_at(sandbox.user_pip_conf)
    result = run_cli("status", "--tool", "pip")
    assert result.exit_code == BAD_CONFIG  # pip itself would hang reading it
    assert f"{fifo}: is a FIFO" in result.stdout and f"{fifo}: is a FIFO" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_cli("list").exit_code == 0  # the catalogue is fine; pip's index is just unknown
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_fifo_as_condarc(run_cli, sandbox):
    fifo = fifo_at(condarc(sandbox))
    for command in (("use", "tuna", "--tool", "conda"), ("reset", "--tool", "conda")):
        result = run_cli(*command)
        assert result.exit_code == BAD_CONFIG
        one_line_error(result, fifo, "FIFO")
    # conda skips what is neither a file nor a folder on its search path, and so does status
    result = run_cli("status", "--tool", "conda")
    assert result.exit_code == 0 and "Traceback" not in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("command", [("list",), ("status",), ("use", "tuna", "--tool", "pip"),
                                     ("add", "corp", "https://pypi.corp.example/simple")])
def test_fifo_as_user_catalogue(run_cli, sandbox, command):
    fifo = fifo_at(catalogue(sandbox))
    result = run_cli(*command)
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, fifo, "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not sandbox.user_pip_conf.exists()


def test_reading_a_fifo_never_blocks_and_check_replaceable_refuses_it(sandbox):
    fifo = fifo_at(sandbox.root / "pipe")
    for func in (lambda: read_config_file(fifo), lambda: check_replaceable(fifo)):
        outcome = finishes(func)
        assert isinstance(outcome.get("error"), NotRegularFileError), outcome
        assert str(fifo) in outcome["error"].message and "FIFO" in outcome["error"].message


# -- links to devices, size cap ----------------------------------------------------------------

def test_pip_conf_linked_to_dev_null_is_disabled_and_left_alone(run_cli, sandbox):
    link = link_at(sandbox.user_pip_conf, os.devnull)
    result = run_cli("use", "tuna", "--tool", "pip")
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, link, "disabled by a link to /dev/null")
    assert os.path.islink(link) and os.readlink(link) == os.devnull
    # status: pip reads it as empty, and so does status (the file is reported disabled)
    result = run_cli("status", "--tool", "pip", "--files", "--json")
    assert result.exit_code == 0, result.stderr
    pip = result.json()["tools"][0]
    assert pip["index_url"] == (pip_effective("install")["install"]["index_url"] or "https://pypi.org/simple")
    info = next(f for f in pip["files"] if f["path"] == str(link))
    assert info["skipped"].startswith("disabled by a link to /dev/null")
    assert "global.index-url" not in pip_config_list()
    assert os.readlink(link) == os.devnull


def test_pip_conf_linked_to_dev_zero_is_refused_without_reading(run_cli, sandbox):
    link = link_at(sandbox.user_pip_conf, "/dev/zero")
    for command in (("use", "tuna", "--tool", "pip"), ("status", "--tool", "pip")):
        result = run_cli(*command)
        assert result.exit_code == BAD_CONFIG
        assert f"{link}: links to /dev/zero, which is a character device" in result.stderr
    assert os.readlink(link) == "/dev/zero"


def test_check_replaceable_contract(sandbox):
    regular = sandbox.root / "regular.conf"
    regular.write_text("[global]\n")
    assert check_replaceable(regular) is None
    assert check_replaceable(link_at(sandbox.root / "to-regular", str(regular))) is None
    assert check_replaceable(sandbox.root / "absent.conf") is None
    assert check_replaceable(link_at(sandbox.root / "dangling", str(sandbox.root / "nowhere"))) is None
    with pytest.raises(DisabledFileError):
        check_replaceable(link_at(sandbox.root / "to-null", os.devnull))
    with pytest.raises(NotRegularFileError, match="character device"):
        check_replaceable(link_at(sandbox.root / "to-zero", "/dev/zero"))
    (sandbox.root / "folder.conf").mkdir()
    with pytest.raises(ConfigFileError, match="is a folder"):
        check_replaceable(sandbox.root / "folder.conf")
    import socket

    path = sandbox.root / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(NotRegularFileError, match="is a socket, not a regular file"):
            check_replaceable(path)
        with pytest.raises(NotRegularFileError, match="is a socket"):
            read_config_file(path)


def test_a_file_over_the_size_cap_is_refused(run_cli, sandbox):
    conf = sandbox.user_pip_conf
    conf.parent.mkdir(parents=True)
    with open(conf, "wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(NotRegularFileError, match="larger than 4 MiB; is this the right file"):
        read_config_file(conf)
    result = run_cli("use", "tuna", "--tool", "pip")
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, conf, "larger than 4 MiB")
    assert conf.stat().st_size == MAX_CONFIG_BYTES + 1
    with open(conf, "wb") as handle:
        handle.truncate(MAX_CONFIG_BYTES)
    assert len(read_config_file(conf)) == MAX_CONFIG_BYTES  # the cap itself is allowed


# -- YAML ----------------------------------------------------------------------------------------

def laughs(levels: int, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]")
    return "\n".join(lines) + "\nchannels:\n  - defaults\n"


def expanded_size(levels: int, width: int = 9) -> int:
    """Values of laughs(levels) with every alias expanded (as yaml.MAX_NODES counts them)."""
    size, total = width + 1, 0
    for _ in range(levels):
        total += 1 + size  # the key and its value
        size = 1 + width * size
    return 1 + total + 1 + 2  # the top mapping, and channels: [defaults]


def test_yaml_alias_expansion_is_bounded_by_a_count():
    small = 4
    assert expanded_size(small) < yaml_format.MAX_NODES < expanded_size(small + 2)
    assert yaml_format.load(laughs(small), "c")["channels"] == ["defaults"]  # aliases are fine
    with pytest.raises(ConfigFileError, match=f"more than {yaml_format.MAX_NODES} values"):
        yaml_format.load(laughs(small + 2), "c")


def test_billion_laughs_condarc_is_refused(run_cli, sandbox):
    bomb = condarc(sandbox)
    bomb.write_text(laughs(10))  # 9**10 values
    for command in (("status", "--tool", "conda"), ("use", "tuna", "--tool", "conda")):
        result = run_cli(*command)
        assert result.exit_code == BAD_CONFIG
        assert f"more than {yaml_format.MAX_NODES} values" in result.stderr and str(bomb) in result.stderr
    assert bomb.read_text() == laughs(10)


def test_yaml_alias_inside_its_own_anchor_is_refused():
    with pytest.raises(ConfigFileError, match="alias inside its own anchor"):
        yaml_format.load("a: &a [1, *a]\n", "c")


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "a: " + "[" * (yaml_format.MAX_DEPTH + 1) + "]" * (yaml_format.MAX_DEPTH + 1) + "\n",
                                  "".join(" " * n + f"k{n}:\n" for n in range(200)) + " " * 200 + "k: v\n"])
def test_deeply_nested_yaml_is_one_line_error(text, run_cli, sandbox):
    with pytest.raises(ConfigFileError, match=f"nested more than {yaml_format.MAX_DEPTH} levels"):
        yaml_format.load(text, "c")
    condarc(sandbox).write_text(text)
    result = run_cli("use", "tuna", "--tool", "conda")
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, condarc(sandbox), "nested more than")


def test_yaml_merge_key_is_read_and_an_edit_refused_in_one_line(run_cli, run, sandbox):
    text = ("common: &common\n  channels:\n    - defaults\n  show_channel_urls: true\n"
            "<<: *common\nssl_verify: true\n")
    condarc(sandbox).write_text(text)
    result = run("status", "--tool", "conda", "--json")
    assert result.exit_code == 0, result.stderr
    result = run_cli("use", "tuna", "--tool", "conda")
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, condarc(sandbox), "merge key")
    assert condarc(sandbox).read_text() == text
    # a merge key elsewhere, in a value mirrorctl does not edit, is no obstacle
    other = "base: &b\n  x: 1\nother:\n  <<: *b\n  y: 2\nchannels:\n  - defaults\n"
    condarc(sandbox).write_text(other)
    assert run_cli("use", "tuna", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text().startswith(other.split("channels")[0])


# -- TOML ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000 + "\n",
                                  "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n",
                                  "[" + ".".join(["t"] * 3000) + "]\nx = 1\n"])
def test_deeply_nested_toml_is_one_line_error(text, run_cli, sandbox):
    with pytest.raises(ConfigFileError, match=f"nested more than {toml_format.MAX_DEPTH} levels"):
        toml_format.parse_text(text, "t")
    uv_toml = sandbox.config / "uv" / "uv.toml"
    uv_toml.parent.mkdir(parents=True)
    uv_toml.write_text(text)
    for command in (("use", "tuna", "--tool", "uv"), ("status", "--tool", "uv")):
        result = run_cli(*command)
        assert result.exit_code == BAD_CONFIG
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert f"{uv_toml}: values nested more than" in result.stderr
    assert uv_toml.read_text() == text


def test_deeply_nested_user_catalogue_is_one_line_error(run_cli, sandbox):
    path = catalogue(sandbox)
    path.parent.mkdir(parents=True)
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    result = run_cli("list")
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, path, "nested too deeply")


@pytest.mark.parametrize("text", ["a: !!int x\n", "a: !!float x\n", "a: !!bool maybe\n"])
def test_yaml_tagged_value_that_cannot_be_built_is_one_line_error(text, run_cli, sandbox):
    with pytest.raises(ConfigFileError, match="a value that cannot be read"):
        yaml_format.load(text, "c")
    condarc(sandbox).write_text(text)
    result = run_cli("use", "tuna", "--tool", "conda")
    assert result.exit_code == BAD_CONFIG
    one_line_error(result, condarc(sandbox), "cannot be read")


def test_a_uv_toml_disabled_by_a_link_to_dev_null_reads_as_empty_and_is_never_replaced(run, sandbox, on_path):
    on_path("uv")
    uv_toml = sandbox.config / "uv" / "uv.toml"
    uv_toml.parent.mkdir(parents=True)
    uv_toml.symlink_to(os.devnull)
    status = run("status", "--tool", "uv", "--json")
    assert status.exit_code == 0, status.stderr
    assert status.json()["tools"][0]["index_url"] == "https://pypi.org/simple"  # as uv reads it: empty
    result = run("use", "tuna", "--tool", "uv")
    assert result.exit_code == 4 and "/dev/null" in result.stderr, result.stderr
    assert uv_toml.is_symlink() and os.readlink(uv_toml) == os.devnull
