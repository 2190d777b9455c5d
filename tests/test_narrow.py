"""A narrow terminal (60 columns), NO_COLOR and `--help`, for the commands other than bench:
nothing is cut to "..." or folded mid-word; no colour when NO_COLOR is set."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE", "MIRRORCTL_LANG")


@pytest.fixture(autouse=True)
def english(monkeypatch):
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MIRRORCTL_LANG", "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_help_shows_whole_descriptions_at_60_columns(run_cli, lang):
    result = run_cli("--help", env={"COLUMNS": "60", "MIRRORCTL_LANG": lang})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines[1:] if line.rstrip().endswith(("...", "…"))]
    words = " ".join(result.stdout.split())
    if lang == "en":
        assert "status Show the index each tool really uses now, and which file or variable decides it." in words
        assert "history List the changes mirrorctl made, newest first (undo takes the newest applied one)." in words
    else:  # Chinese breaks between characters, where joining with a space would put one
        joined = "".join(result.stdout.split())
        assert "显示每个工具当前实际使用的索引，以及由哪个文件或变量决定。" in joined


def _lines_fit(text: str, width: int, values: list) -> None:
    """Every line fits, but for a line that holds one whole value (a URL or path) longer than
    the width, which is never cut."""
    from mirrorctl.render import cell_width

    for line in text.splitlines():
        if cell_width(line) > width:
            assert any(v in line and cell_width(v) > width - 12 for v in values), line
    assert "…" not in text


def test_list_and_status_switch_to_a_list_at_60_columns(run_cli, sandbox, on_path):
    on_path("pip")
    wide = run_cli("list", env={"COLUMNS": "60"})  # a pipe: the table, whatever COLUMNS says
    assert wide.stdout.splitlines()[0].split() == ["name", "aliases", "url", "conda", "source"]
    narrow = _on_a_terminal(["list"], {"COLUMNS": "60"})
    assert "tuna\n  aliases: tsinghua, thu\n  url: https://pypi.tuna.tsinghua.edu.cn/simple\n" in narrow
    assert "* official\n" in narrow
    urls = [line.split("url: ", 1)[1] for line in narrow.splitlines() if "  url: " in line]
    assert len(urls) == len([line for line in wide.stdout.splitlines()[1:] if "://" in line])
    _lines_fit(narrow, 60, urls)

    assert run_cli("use", "tuna", "--tool", "pip").exit_code == 0
    status = _on_a_terminal(["status"], {"COLUMNS": "60"})
    conf = str(sandbox.config / "pip" / "pip.conf")
    assert f"pip\n  index: https://pypi.tuna.tsinghua.edu.cn/simple\n  mirror: tuna\n  decided by: {conf} [global]\n" \
        in status
    _lines_fit(status, 60, [conf + " [global]"])
    history = _on_a_terminal(["history"], {"COLUMNS": "60"})
    assert history.startswith("1\n  time: ")
    assert "  command: mirrorctl use tuna --tool pip\n" in history
    # a wide terminal keeps the table
    head = _on_a_terminal(["status"], {"COLUMNS": "200", "NO_COLOR": "1"}).splitlines()[0]
    assert [h.strip() for h in head.split("  ") if h.strip()] == ["tool", "index", "mirror", "decided by"]
    zh = _on_a_terminal(["status"], {"COLUMNS": "40", "MIRRORCTL_LANG": "zh"})
    assert "pip\n  索引：https://pypi.tuna.tsinghua.edu.cn/simple\n  镜像：tuna\n" in zh
    assert not [line for line in zh.splitlines() if line.lstrip().startswith(("）", "，", "：", "。"))]


def _on_a_terminal(args: list, env: dict) -> str:
    """Run mirrorctl with stdout on a pseudo-terminal; what it wrote there."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mirrorctl", *args], stdout=follower, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env={**os.environ, **env})
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_no_color_is_honoured_on_a_terminal(sandbox):
    env = {"COLUMNS": "200"}
    bold = _on_a_terminal(["status", "--all"], env)
    assert "\x1b[1m" in bold  # the table header, in bold on a terminal
    for variant in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        plain = _on_a_terminal(["status", "--all"], {**env, **variant})
        assert "\x1b[" not in plain and "tool" in plain
        assert "\x1b[" not in _on_a_terminal(["list"], {**env, **variant})
        assert "\x1b[" not in _on_a_terminal(["--help"], {**env, **variant})
