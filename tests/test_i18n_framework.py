"""The CLI framework's own words (usage errors, "Usage:", the help option) in Chinese, and
Chinese help wrapped by display width, on both frameworks mirrorctl runs on: typer's vendored
click (this environment's typer, 0.24 on: English only, mirrorctl translates) and click 8.1
(the pyz bundles typer 0.23 + click 8.1.8: gettext). English output stays the framework's own.

The pyz runs need the pinned wheels (``MIRRORCTL_PYZ_WHEELS``, else build/pyz-wheels:
``scripts/build_pyz.py --wheels build/pyz-wheels --fetch``); without them they are skipped.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mirrorctl.render import cell_width

REPO = Path(__file__).resolve().parents[1]
WHEELS = Path(os.environ.get("MIRRORCTL_PYZ_WHEELS") or REPO / "build" / "pyz-wheels")
TIMEOUT = 120


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """The .mo beside the .po, as a build leaves it."""
    subprocess.run([sys.executable, str(REPO / "scripts" / "catalogues.py")], check=True, capture_output=True,
                   timeout=TIMEOUT)


@pytest.fixture(scope="module")
def pinned_pyz(tmp_path_factory):
    """mirrorctl.pyz from the pinned wheels: typer 0.23 on click 8.1."""
    pins = (REPO / "scripts" / "pyz-requirements.txt").read_text()
    wanted = re.findall(r"^(typer|click)==(\S+)", pins, re.M)
    have = {w.name.split("-")[0].lower() + "==" + w.name.split("-")[1] for w in WHEELS.glob("*.whl")}
    if not WHEELS.is_dir() or not all(f"{n}=={v}" in have for n, v in wanted):
        pytest.skip(f"no pinned wheels in {WHEELS} (scripts/build_pyz.py --wheels DIR --fetch)")
    out = tmp_path_factory.mktemp("pyz") / "mirrorctl.pyz"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "build_pyz.py"), "-o", str(out),
                           "--wheels", str(WHEELS)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(params=["installed", "pyz"])
def mirrorctl(request, sandbox):
    """mirrorctl(*args, columns=...) -> CompletedProcess, with ``--lang`` given by the test: the
    installed package (typer's vendored click), or the pinned pyz (click 8.1) under -I -S."""
    if request.param == "installed":
        command = [sys.executable, "-m", "mirrorctl"]
    else:
        command = [sys.executable, "-I", "-S", str(request.getfixturevalue("pinned_pyz"))]

    def _run(*args: str, columns: int = 100) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
        env.pop("MIRRORCTL_LANG", None)  # the test says --lang
        env["COLUMNS"] = str(columns)
        return subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=TIMEOUT)

    _run.framework = request.param
    return _run


# -- help -----------------------------------------------------------------------------------

HELPS = [[], ["use"], ["reset"], ["bench"], ["status"], ["env"], ["cache"], ["cache", "start"]]


def _too_wide(text: str, columns: int) -> list:
    return [line for line in text.splitlines() if cell_width(line) > columns]


def _latin_words(text: str) -> list:
    return sorted(re.findall(r"[^\s\u2e80-\u9fff\uff00-\uffef]+", text))


def test_chinese_help_fits_the_terminal_and_keeps_words_whole(mirrorctl):
    for words in HELPS:
        outs = {}
        for columns in (60, 100):
            result = mirrorctl("--lang", "zh", *words, "--help", columns=columns)
            assert result.returncode == 0, result.stderr
            out = outs[columns] = result.stdout
            assert out.startswith("用法： mirrorctl"), out[:80]
            assert "显示此帮助并退出。" in out and "选项：" in out
            assert not re.search(r"Usage|Show this message|Options", out), out
            assert _too_wide(out, columns) == [], (words, columns, _too_wide(out, columns))
        # a Latin word or an option name cut in two would be two other words at another width
        assert _latin_words(outs[60]) == _latin_words(outs[100]), words
    for columns in (60, 100):
        use = mirrorctl("--lang", "zh", "use", "--help", columns=columns).stdout
        for word in ("--no-verify", "buildout", "easy_install", "$VIRTUAL_ENV", "MIRRORCTL_NO_VERIFY",
                     "extra-index-url", "--package", "--dry-run"):
            assert word in use, (word, columns)
        reset = mirrorctl("--lang", "zh", "reset", "--help", columns=columns).stdout
        assert "buildout" in reset, columns


def test_chinese_help_breaks_between_chinese_characters_not_before_their_punctuation(mirrorctl):
    out = mirrorctl("--lang", "zh", "use", "--help", columns=60).stdout
    for line in out.splitlines():
        body = line.strip()
        assert not body or body[0] not in "，。；：、）」』！？", line  # closing punctuation stays with its text
        assert not body.endswith(("（", "「", "[")), line  # and opening punctuation with what it opens


def test_the_usage_line_of_a_long_command_wraps_under_its_chinese_prefix(mirrorctl):
    out = mirrorctl("--lang", "zh", "cache", "start", "--help", columns=60).stdout
    assert out.splitlines()[0].startswith("用法： mirrorctl cache start [OPTIONS]")
    assert _too_wide(out, 60) == []


# -- usage errors ---------------------------------------------------------------------------

ERRORS = [
    (["use"], "缺少参数 '{mirror}'。", "use"),
    (["use", "tuna", "--samples", "x"], "'--samples' 的值无效：'x' 不是有效的整数。", "use"),
    (["use", "tuna", "--timeout", "soon"], "'--timeout' 的值无效：'soon' 不是有效的数字。", "use"),
    (["use", "tuna", "--tool"], "选项 '--tool' 需要 1 个值。", "use"),
    (["history", "--limit", "0"], "'--limit' 的值无效：0 不在范围 x>=1 内。", "history"),
    (["use", "tuna", "--dry-ru"], "没有此选项：--dry-ru（可能的选项：--dry-run）", "use"),
    (["use", "tuna", "--bogus"], "没有此选项：--bogus", "use"),
    (["use", "tuna", "-x"], "没有此选项：-x", "use"),
    (["bogus"], "没有命令 'bogus'。", None),
    (["cach"], "没有命令 'cach'。你是不是想用 'cache'？", None),  # typer's suggestion, said in English
    (["--catalogue"], "选项 '--catalogue' 需要 1 个值。", None),
    (["reset", "extra"], "多余的参数（extra）", "reset"),
    (["cache", "start", "--port", "x"], "'--port' 的值无效：'x' 不是有效的整数。", "cache start"),
]


@pytest.mark.parametrize("args, message, command", ERRORS, ids=[" ".join(e[0]) for e in ERRORS])
def test_a_usage_error_in_chinese_names_the_command_typed(mirrorctl, args, message, command):
    result = mirrorctl("--lang", "zh", *args)
    assert result.returncode == 2, result
    # the argument's name as each framework spells it: typer._click 'mirror', click 8.1 'MIRROR'
    message = message.replace("{mirror}", "mirror" if mirrorctl.framework == "installed" else "MIRROR")
    where = f"mirrorctl {command}" if command else "mirrorctl"
    assert result.stderr == f"mirrorctl: 错误：{message}（提示：参见 `{where} --help`）\n"
    assert result.stdout == ""


ENGLISH_ERRORS = [
    (["use", "tuna", "--samples", "x"], "Invalid value for '--samples': 'x' is not a valid {int}.", "use"),
    (["use", "tuna", "--tool"], "Option '--tool' requires an argument.", "use"),
    (["use", "tuna", "--dry-ru"], None, "use"),
    (["bogus"], "No such command 'bogus'.", None),
    (["reset", "extra"], None, "reset"),
]


@pytest.mark.parametrize("args, message, command", ENGLISH_ERRORS, ids=[" ".join(e[0]) for e in ENGLISH_ERRORS])
def test_a_usage_error_in_english_is_the_frameworks_own_words(mirrorctl, args, message, command):
    result = mirrorctl("--lang", "en", *args)
    assert result.returncode == 2
    where = f"mirrorctl {command}" if command else "mirrorctl"
    assert result.stderr.startswith("mirrorctl: error: ") and result.stderr.endswith(
        f" (hint: see `{where} --help`)\n"), result.stderr
    assert not re.search(r"[\u4e00-\u9fff]", result.stderr)
    if message:
        spelled = message.replace("{int}", "int" if mirrorctl.framework == "installed" else "integer")
        assert f"mirrorctl: error: {spelled} (hint" in result.stderr


def test_a_group_given_no_command_shows_its_help_whole(mirrorctl):
    result = mirrorctl("--lang", "zh", "cache")
    out = result.stdout + result.stderr  # typer._click: stderr, exit 2; click 8.1: stdout, exit 0
    assert result.returncode in (0, 2)
    assert out.startswith("用法： mirrorctl cache [OPTIONS] COMMAND [ARGS]...\n")
    assert "\\n" not in out and "错误" not in out
    assert "软件包索引的本地缓存" in out


# -- English help: the framework's own, byte for byte ---------------------------------------

_ENGLISH_PROBE = r"""
import json, sys
from mirrorctl import i18n
i18n.setup("en")
from typer.main import get_command
from mirrorctl.cli import load_app

app = load_app()

def helps(command, path=("mirrorctl",), parent=None):
    ctx = command.make_context(path[-1], [], parent=parent, resilient_parsing=True)
    out = {" ".join(path): command.get_help(ctx)}
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        out.update(helps(sub, path + (name,), ctx))
    return out

cls = app.info.cls
app.info.cls = None  # first the framework's own classes, formatter and wrapper, untouched by mirrorctl
plain = helps(get_command(app))
app.info.cls = cls
ours = helps(get_command(app))
kinds = sorted({type(c).__name__ for c in get_command(app).commands.values()})
print(json.dumps({"plain": plain, "ours": ours, "kinds": kinds}))
"""


@pytest.mark.parametrize("columns", [50, 60, 100, 200])
def test_english_help_is_what_the_framework_writes(sandbox, columns):
    env = {**os.environ, "COLUMNS": str(columns)}
    proc = subprocess.run([sys.executable, "-c", _ENGLISH_PROBE], capture_output=True, text=True, env=env,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["kinds"] == ["Command", "Group"]  # every command is ours (cache's too)
    assert set(found["ours"]) == set(found["plain"]) and len(found["ours"]) > 15
    for name, text in found["plain"].items():
        assert found["ours"][name] == text, name
    assert "-h, --help" in found["ours"]["mirrorctl use"] and "Show this message and" in found["ours"]["mirrorctl use"]


# -- the wrapping itself --------------------------------------------------------------------

def test_wrap_wide_keeps_every_latin_word_whole_within_the_width():
    from mirrorctl.cli.framework import wrap_wide

    rng = random.Random(7)
    latin = ["pip", "--no-verify", "buildout", "easy_install", "$VIRTUAL_ENV", "https://x.example/simple",
             "user", "--scope", "a", "MIRRORCTL_NO_VERIFY"]
    chinese = "镜像目录中的名称或别名默认整个作用域下所有正在使用的工具"
    for _ in range(300):
        parts = []
        for _ in range(rng.randint(1, 30)):
            if rng.random() < 0.4:
                parts.append(rng.choice(latin) + rng.choice(["", " ", "，", "、", "）"]))
            else:
                parts.append("".join(rng.choice(chinese) for _ in range(rng.randint(1, 6))) + rng.choice(["", " ", "。"]))
        text = "".join(parts).strip()
        width = rng.randint(26, 80)
        lines = wrap_wide(text, width, "  ", "    ")
        assert all(cell_width(line) <= width for line in lines), (width, lines)
        assert lines[0].startswith("  ") and all(line.startswith("    ") for line in lines[1:])
        # nothing lost, nothing added but the breaks (where a space may be dropped)
        assert "".join(line.strip() for line in lines) == text.replace(" ", "").replace("\n", "") or \
            "".join("".join(line.split()) for line in lines) == "".join(text.split())
        words = [w for line in lines for w in re.findall(r"[A-Za-z0-9_$:/.-]+", line)]
        for word in re.findall(r"[A-Za-z0-9_$:/.-]+", text):
            if cell_width(word) + 5 <= width:  # with its punctuation, it fits on a line: never cut
                assert word in words, (word, lines)


def test_wrap_wide_cuts_only_a_word_wider_than_a_line():
    from mirrorctl.cli.framework import wrap_wide

    lines = wrap_wide("见 https://pypi.tuna.tsinghua.edu.cn/simple/some/long/path 了", 20)
    assert all(cell_width(line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == "见https://pypi.tuna.tsinghua.edu.cn/simple/some/long/path了"
    assert wrap_wide("", 20, "  ") == wrap_wide("   ", 20) == []  # as textwrap
    assert wrap_wide("中文", 20, "用法: ") == ["用法: 中文"]
    # a first line its indent takes (a long usage prefix): the word goes on the next, whole
    assert wrap_wide("[OPTIONS] 中", 20, "用法: mirrorctl x ", "  ") == ["用法: mirrorctl x", "  [OPTIONS] 中"]
