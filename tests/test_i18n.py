"""Simplified Chinese: the catalogue covers every marked message, the language is chosen as the
locale says (or --lang / MIRRORCTL_LANG), and real runs under a real zh_CN.UTF-8 locale speak
Chinese while --json stays English with machine codes."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "mirrorctl"
PO = SRC / "locale" / "zh_CN" / "LC_MESSAGES" / "mirrorctl.po"
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE", "MIRRORCTL_LANG", "LOCPATH")


def _catalogues():
    spec = importlib.util.spec_from_file_location("mirrorctl_catalogues", REPO / "scripts" / "catalogues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """The .mo beside the .po, as a build (or `pip install -e .`) leaves it: the source tree runs."""
    _catalogues().compile_in_place()


@pytest.fixture(scope="module")
def zh_locale(tmp_path_factory) -> dict:
    """Environment for a real zh_CN.UTF-8 locale: the system's, or one built with localedef into a
    private LOCPATH. Checked by the C library itself (setlocale)."""
    env: dict = {"LANG": "zh_CN.UTF-8"}
    have = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split() if shutil.which("locale") else []
    if not any(name.lower().replace("-", "") in ("zh_cn.utf8",) for name in have):
        if not shutil.which("localedef"):
            pytest.skip("no zh_CN.UTF-8 locale and no localedef to build one")
        locpath = tmp_path_factory.mktemp("locales")
        proc = subprocess.run(["localedef", "-i", "zh_CN", "-f", "UTF-8", str(locpath / "zh_CN.UTF-8")],
                              capture_output=True, text=True, timeout=300)
        if not (locpath / "zh_CN.UTF-8").is_dir():
            pytest.skip(f"localedef could not build zh_CN.UTF-8: {proc.stderr.strip()[:200]}")
        env["LOCPATH"] = str(locpath)
    check = subprocess.run([sys.executable, "-c", "import locale; print(locale.setlocale(locale.LC_ALL, ''))"],
                           capture_output=True, text=True, env={**_clean_env(), **env}, timeout=60)
    assert check.returncode == 0 and check.stdout.strip() == "zh_CN.UTF-8", check.stderr
    return env


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in LOCALE_VARS}


@pytest.fixture
def zh_run(run_cli, monkeypatch, zh_locale):
    """run_cli under the real Chinese locale (extra variables on top)."""
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)

    def _run(*args: str, env: dict | None = None):
        return run_cli(*args, env={**zh_locale, **(env or {})})

    return _run


# -- the catalogue -----------------------------------------------------------------------

def _marked_messages() -> dict:
    """Every message marked with _(), ngettext() or N_() anywhere in src/ (Babel's extractor)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(SRC), method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS):
        found.setdefault(message, f"src/mirrorctl/{filename}:{lineno}")
    return found


def _po():
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        return read_po(f)


def test_every_marked_message_has_a_chinese_translation():
    catalog = _po()
    missing = []
    for message, where in sorted(_marked_messages().items(), key=lambda item: item[1]):
        key = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(key)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ())
        if entry is None or entry.fuzzy or not all(strings) or not strings:
            missing.append(f"{where}: {key!r}")
    assert not missing, ("messages without a zh_CN translation (pybabel extract -k N_ -o /tmp/m.pot src/mirrorctl; "
                         "pybabel update -i /tmp/m.pot -d src/mirrorctl/locale -D mirrorctl; translate):\n"
                         + "\n".join(missing))
    assert len(_marked_messages()) > 300  # the extractor really saw the sources


def test_the_frameworks_own_words_are_in_the_catalogue():
    """typer (and click 8.1) say their own words through gettext, which mirrorctl points at its
    catalogue: every one typer.core says (section titles, defaults, command errors) is there,
    as are the words mirrorctl says for typer's vendored click (cli/app.py, cli/framework.py)."""
    import inspect
    import io

    import typer.core
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_python

    from mirrorctl import i18n

    catalog = _po()
    said = [m[0] if isinstance(m, tuple) else m for _line, _func, m, _comments in extract_python(
        io.BytesIO(inspect.getsource(typer.core).encode()), list(DEFAULT_KEYWORDS), [], {})]
    assert len(said) >= 8
    words = set(said) | set(i18n.FRAMEWORK) | {"Usage:", "Show this message and exit.", "{heading}:",
                                               "Missing argument {name}.", "{value} is not a valid integer."}
    missing = sorted(w for w in words if catalog.get(w) is None or not catalog.get(w).string)
    assert not missing, missing


def test_the_catalogue_has_no_message_the_sources_lost():
    marked = {m[0] if isinstance(m, tuple) else m for m in _marked_messages()}
    stale = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in _po() if m.id
                   and (m.id if isinstance(m.id, str) else m.id[0]) not in marked)
    assert not stale, f"translations of messages no longer in src/: {stale}"


def test_the_po_and_the_compiled_catalogue_agree():
    import gettext
    import io

    data = _catalogues().compile_po(PO)
    assert (SRC / "locale" / "zh_CN" / "LC_MESSAGES" / "mirrorctl.mo").read_bytes() == data
    compiled = gettext.GNUTranslations(io.BytesIO(data))
    checked = 0
    for message in _po():
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n, form in ((1, 0), (2, 0), (5, 0)):
                assert compiled.ngettext(message.id[0], message.id[1], n) == message.string[form]
        else:
            assert compiled.gettext(message.id) == message.string, message.id
        checked += 1
    assert checked > 300
    # the placeholders of every translation are those of its English
    cat = _catalogues()
    for message in _po():
        if message.id and isinstance(message.id, str):
            assert cat.placeholders(message.string) == cat.placeholders(message.id), message.id


def test_a_translation_that_loses_a_placeholder_is_refused(tmp_path):
    po = tmp_path / "bad.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  'msgid "{path}: cannot be read ({reason})"\nmsgstr "{path}: 无法读取"\n', encoding="utf-8")
    cat = _catalogues()
    with pytest.raises(cat.CatalogueError, match="reason"):
        cat.compile_po(po)


# -- the language choice (unit) ------------------------------------------------------------

@pytest.mark.parametrize("env, expected", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_SG.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_TW.UTF-8"}, "en"),  # Traditional: not served, English
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh_CN"),
    ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LC_ALL": "zh_CN.GB18030", "LANG": "en_US.UTF-8"}, "zh_CN"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "fr:zh_CN:en"}, "zh_CN"),  # GNU: LANGUAGE first, skipping what we lack
    ({"LANG": "zh_CN.UTF-8", "LANGUAGE": "en"}, "en"),
    ({"LC_ALL": "C", "LANGUAGE": "zh_CN"}, "en"),  # GNU gettext ignores LANGUAGE in the C locale
    ({"LANG": "zh_CN.UTF-8", "MIRRORCTL_LANG": "en"}, "en"),
    ({"LANG": "en_US.UTF-8", "MIRRORCTL_LANG": "zh"}, "zh_CN"),
    ({"LANG": "en_US.UTF-8", "MIRRORCTL_LANG": "zh-Hans"}, "zh_CN"),
])
def test_the_language_follows_the_locale_variables(env, expected):
    from mirrorctl import i18n

    assert i18n.decide(environ=env, platform="linux") == expected


def test_lang_option_wins_over_everything():
    from mirrorctl import i18n

    assert i18n.decide("zh", environ={"LANG": "en_US.UTF-8", "MIRRORCTL_LANG": "en"}, platform="linux") == "zh_CN"
    assert i18n.decide("en", environ={"LANG": "zh_CN.UTF-8", "MIRRORCTL_LANG": "zh"}, platform="linux") == "en"


@pytest.mark.parametrize("langid, expected", [(0x0804, "zh_CN"), (0x1004, "zh_CN"), (0x0404, "en"), (0x0C04, "en"),
                                              (0x0409, "en"), (0x0411, "en")])
def test_windows_takes_the_user_interface_language(langid, expected):
    from mirrorctl import i18n

    asked = []

    def ui_language() -> int:
        asked.append(True)
        return langid

    assert i18n.decide(environ={}, platform="win32", ui_language=ui_language) == expected
    assert asked
    # a POSIX variable (Git Bash, MSYS2 set LANG) or the override still wins on Windows
    assert i18n.decide(environ={"LANG": "en_US.UTF-8"}, platform="win32", ui_language=lambda: 0x0804) == "en"
    assert i18n.decide(environ={"MIRRORCTL_LANG": "zh"}, platform="win32", ui_language=lambda: 0x0409) == "zh_CN"
    # no answer from Windows: English
    assert i18n.decide(environ={}, platform="win32", ui_language=lambda: 1 / 0) == "en"


def test_english_loads_no_catalogue(monkeypatch):
    from mirrorctl import i18n

    try:
        assert i18n.setup("en") == "en"
        assert i18n._catalogue is None
        assert i18n._("no changes recorded yet") == "no changes recorded yet"
        assert i18n.ngettext("{n} file", "{n} files", 2) == "{n} files"
        assert i18n.setup("zh") == "zh_CN"
        assert i18n._("no changes recorded yet") == "尚无更改记录"
        assert i18n.ngettext("{n} file", "{n} files", 2) == "{n} 个文件"
    finally:
        i18n.setup("en")


# -- real runs under a real zh_CN.UTF-8 locale ----------------------------------------------

def test_help_in_chinese_from_the_locale(zh_run):
    result = zh_run("--help")
    assert result.exit_code == 0, result.stderr
    assert "把 pip（以及 conda、pipenv、uv、Poetry、PDM）切换到合适的软件包索引镜像" in result.stdout
    assert "显示每个工具当前实际使用的索引" in result.stdout  # status, in the command list, whole
    assert "选项" in result.stdout  # the framework's own section title, through gettext
    assert "--lang" in result.stdout
    assert not [line for line in result.stdout.splitlines()[1:] if line.rstrip().endswith("...")]  # nothing cut
    sub = zh_run("use", "--help")
    assert sub.exit_code == 0, sub.stderr
    assert "把 pip（以及其他正在使用的工具）切换到某个镜像。" in sub.stdout
    assert "mirrorctl use tuna --check" in sub.stdout  # examples are commands: never translated
    assert "user、global、venv 或 project。" in sub.stdout


def test_use_status_undo_in_chinese(zh_run, sandbox, on_path):
    on_path("pip")
    used = zh_run("use", "tuna", "--tool", "pip")
    assert used.exit_code == 0, used.stderr
    conf = sandbox.config / "pip" / "pip.conf"
    assert "https://pypi.tuna.tsinghua.edu.cn/simple" in conf.read_text()
    assert f"pip: 已创建 {conf}" in used.stdout
    assert "作用域 user（可用 `mirrorctl undo` 撤销）" in used.stdout

    status = zh_run("status")  # the fast path (no typer)
    assert status.exit_code == 0, status.stderr
    header = status.stdout.splitlines()[0].split()
    assert header == ["工具", "索引", "镜像", "决定来源"]
    row = status.stdout.splitlines()[1]
    assert row.split()[:3] == ["pip", "https://pypi.tuna.tsinghua.edu.cn/simple", "tuna"]
    # CJK headers take two columns each: the values start under their header
    lines = status.stdout.splitlines()
    from mirrorctl.render import cell_width

    col = cell_width(lines[0][:lines[0].index("索引")])
    assert cell_width(row[:row.index("https://")]) == col

    undone = zh_run("undo")
    assert undone.exit_code == 0, undone.stderr
    assert f"已删除 {conf}" in undone.stdout and "已撤销：" in undone.stdout
    assert not conf.exists()


def test_an_error_and_its_hint_in_chinese(zh_run):
    result = zh_run("use", "tuna", "--scope", "everywhere")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("mirrorctl: 错误：未知的作用域 'everywhere'"
                                     "（提示：请使用 user、global、venv 或 project）")


def test_json_stays_english_and_carries_a_code(zh_run, run_cli, sandbox, on_path, monkeypatch):
    """A broken pip.conf (a byte-order mark pip cannot read): status --json is the same document
    under the Chinese locale as under C, its error English, with the machine code beside it."""
    on_path("pip")
    conf = sandbox.config / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes(b"\xef\xbb\xbf[global]\nindex-url = https://pypi.tuna.tsinghua.edu.cn/simple\n")
    chinese = zh_run("status", "--json", "--tool", "pip")
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)
    english = run_cli("status", "--json", "--tool", "pip", env={"LANG": "C.UTF-8"})
    assert chinese.exit_code == english.exit_code == 4
    assert chinese.stdout == english.stdout
    pip = json.loads(chinese.stdout)["tools"][0]
    assert pip["error_code"] == "bad_config"
    assert "starts with a UTF-8 byte-order mark, which pip cannot read" in pip["error"]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in chinese.stdout + chinese.stderr)
    # without --json, the same state is told in Chinese
    plain = zh_run("status", "--tool", "pip")
    assert plain.exit_code == 4
    assert "以 UTF-8 字节顺序标记（BOM）开头，pip 无法读取" in plain.stdout + plain.stderr


def test_bench_in_chinese_against_a_loopback_index(zh_run, index):
    """bench under the real Chinese locale: the table's headers, the winner line and the summary
    are Chinese; mirror names, URLs and the project path stay as they are; --json stays English."""
    result = zh_run("bench", index.url, "--package", "mirrorctl-demo", "--samples", "2", "--timeout", "20",
                    env={"COLUMNS": "100", "NO_PROXY": "127.0.0.1"})
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header[:3] == ["#", "镜像", "中位数"] and "备注" in header and "mirror" not in header
    assert "最快：" in result.stdout and f"127.0.0.1:{index.port}" in result.stdout
    assert "2 个样本的中位数" in result.stdout
    assert "用 /mirrorctl-demo/ 探测了 1 个镜像" in result.stdout
    as_json = zh_run("bench", index.url, "--package", "mirrorctl-demo", "--samples", "1", "--timeout", "20", "--json",
                     env={"NO_PROXY": "127.0.0.1"})
    assert as_json.exit_code == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["results"][0]["ok"] is True
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in as_json.stdout)


def test_mirrorctl_lang_en_wins_over_a_chinese_locale(zh_run):
    result = zh_run("--help", env={"MIRRORCTL_LANG": "en"})
    assert result.exit_code == 0
    assert "Point pip (and conda, pipenv, uv, Poetry, PDM) at the right package-index mirror" in " ".join(
        result.stdout.split())
    assert "镜像" not in result.stdout
    error = zh_run("use", "tuna", "--scope", "everywhere", env={"MIRRORCTL_LANG": "en"})
    assert "mirrorctl: error: unknown scope 'everywhere' (hint: use user, global, venv or project)" in error.stderr


def test_lang_zh_wins_over_an_english_locale(run_cli, monkeypatch):
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)
    english = {"LANG": "en_US.UTF-8", "MIRRORCTL_LANG": "en"}
    result = run_cli("--lang", "zh", "--help", env=english)
    assert result.exit_code == 0, result.stderr
    assert "切换到合适的软件包索引镜像" in result.stdout
    status = run_cli("--lang=zh", "status", "--all", env=english)
    assert status.exit_code == 0, status.stderr
    assert status.stdout.splitlines()[0].split() == ["工具", "索引", "镜像", "决定来源"]
    bad = run_cli("--lang", "fr", "status", env=english)
    assert bad.exit_code == 2
    assert "unknown language 'fr'" in bad.stderr and "--lang en or --lang zh" in bad.stderr


# -- every way of installing finds the catalogue -------------------------------------------

def test_the_wheel_carries_the_compiled_catalogue(tmp_path):
    pytest.importorskip("hatchling")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert zf.read("mirrorctl/locale/zh_CN/LC_MESSAGES/mirrorctl.mo") == _catalogues().compile_po(PO)
    assert not [n for n in names if n.endswith(".po")]


def test_the_editable_build_compiles_the_catalogue_in_place(tmp_path):
    """`pip install -e .` runs from src/: the build hook writes the .mo beside its .po there."""
    pytest.importorskip("hatchling")
    spec = importlib.util.spec_from_file_location("hatch_build_under_test", REPO / "hatch_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "catalogues.py", root / "scripts")
    shutil.copytree(SRC / "locale", root / "src" / "mirrorctl" / "locale",
                    ignore=shutil.ignore_patterns("*.mo"))
    hook = module.CatalogueBuildHook(str(root), {}, None, None, str(tmp_path / "dist"), "wheel")
    build_data: dict = {"force_include": {}}
    hook.initialize("editable", build_data)
    mo = root / "src" / "mirrorctl" / "locale" / "zh_CN" / "LC_MESSAGES" / "mirrorctl.mo"
    assert mo.read_bytes() == _catalogues().compile_po(PO)
    assert build_data["force_include"] == {}
    hook.initialize("standard", build_data)  # a wheel: added to the archive instead
    assert list(build_data["force_include"].values()) == ["mirrorctl/locale/zh_CN/LC_MESSAGES/mirrorctl.mo"]
    hook.finalize("standard", build_data, "")


def test_the_pyz_speaks_chinese_from_inside_the_zip(tmp_path, monkeypatch):
    """The catalogue is read from inside the zip (zipimport's get_data), with no site-packages."""
    spec = importlib.util.spec_from_file_location("build_pyz_under_test", REPO / "scripts" / "build_pyz.py")
    build_pyz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_pyz)
    pyz = tmp_path / "mirrorctl.pyz"
    build_pyz.build(pyz, from_env=True, unpinned=True)
    with zipfile.ZipFile(pyz) as zf:
        assert zf.read("mirrorctl/locale/zh_CN/LC_MESSAGES/mirrorctl.mo") == _catalogues().compile_po(PO)
        assert not [n for n in zf.namelist() if n.endswith(".po")]
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-I", "-S", str(pyz), "--help"], capture_output=True, text=True,
                          env={**env, "LANG": "zh_CN.UTF-8"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "切换到合适的软件包索引镜像" in proc.stdout
