"""pip's file layout on Linux, macOS and Windows, computed from an injected environment."""

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from mirrorctl.context import Context, Scope
from mirrorctl.errors import UsageError
from mirrorctl.targets import pip

WIN_ENV = {
    "USERPROFILE": "C:\\Users\\li",
    "APPDATA": "C:\\Users\\li\\AppData\\Roaming",
    "PROGRAMDATA": "C:\\ProgramData",
}


def win(**extra) -> Context:
    return Context(environ={**WIN_ENV, **extra}, platform="win32", cwd=PureWindowsPath("C:\\work"))


def mac(home="/Users/li", **extra) -> Context:
    return Context(environ={"HOME": home, **extra}, platform="darwin", cwd=PurePosixPath("/"))


def linux(**env) -> Context:
    return Context(environ={"HOME": "/home/li", **env}, platform="linux", cwd=PurePosixPath("/"))


def test_windows_files():
    ctx = win()
    assert [str(p) for p in pip.global_files(ctx)] == ["C:\\ProgramData\\pip\\pip.ini"]
    assert [str(p) for p in pip.user_files(ctx)] == ["C:\\Users\\li\\pip\\pip.ini",
                                                     "C:\\Users\\li\\AppData\\Roaming\\pip\\pip.ini"]
    assert str(pip.config_path(ctx, Scope.USER)) == "C:\\Users\\li\\AppData\\Roaming\\pip\\pip.ini"
    assert str(pip.config_path(ctx, Scope.GLOBAL)) == "C:\\ProgramData\\pip\\pip.ini"


def test_windows_venv_and_root():
    ctx = win(VIRTUAL_ENV="C:\\work\\.venv")
    assert str(pip.site_file(ctx)) == "C:\\work\\.venv\\pip.ini"
    rooted = Context(environ=WIN_ENV, platform="win32", root=PureWindowsPath("D:\\image"))
    assert str(pip.global_files(rooted)[0]) == "D:\\image\\ProgramData\\pip\\pip.ini"


def test_macos_user_file_depends_on_application_support(tmp_path):
    ctx = mac(home=str(tmp_path))
    assert pip.user_files(ctx)[-1] == tmp_path / ".config" / "pip" / "pip.conf"
    (tmp_path / "Library" / "Application Support" / "pip").mkdir(parents=True)
    assert pip.user_files(ctx)[-1] == tmp_path / "Library" / "Application Support" / "pip" / "pip.conf"
    assert pip.user_files(ctx)[0] == tmp_path / ".pip" / "pip.conf"


def test_macos_ignores_xdg_config_home_and_has_one_global_file():
    ctx = mac(XDG_CONFIG_HOME="/elsewhere")
    assert str(pip.user_files(ctx)[-1]) == "/Users/li/.config/pip/pip.conf"
    assert [str(p) for p in pip.global_files(ctx)] == ["/Library/Application Support/pip/pip.conf"]


def test_linux_files_follow_xdg():
    ctx = linux(XDG_CONFIG_HOME="/cfg", XDG_CONFIG_DIRS="/a:/b")
    assert [str(p) for p in pip.global_files(ctx)] == ["/a/pip/pip.conf", "/b/pip/pip.conf", "/etc/pip.conf"]
    assert [str(p) for p in pip.user_files(ctx)] == ["/home/li/.pip/pip.conf", "/cfg/pip/pip.conf"]
    default = linux()
    assert [str(p) for p in pip.global_files(default)] == ["/etc/xdg/pip/pip.conf", "/etc/pip.conf"]
    assert str(pip.user_files(default)[-1]) == "/home/li/.config/pip/pip.conf"


def test_relative_xdg_values_are_ignored():
    ctx = linux(XDG_CONFIG_HOME="relative/dir")
    assert str(pip.user_files(ctx)[-1]) == "/home/li/.config/pip/pip.conf"


def test_root_moves_global_files_only():
    ctx = Context(environ={"HOME": "/home/li"}, platform="linux", root=PurePosixPath("/img"))
    assert str(pip.config_path(ctx, Scope.GLOBAL)) == "/img/etc/pip.conf"
    assert str(pip.config_path(ctx, Scope.USER)) == "/home/li/.config/pip/pip.conf"


def test_pip_config_file_order_and_devnull():
    ctx = win(PIP_CONFIG_FILE="nul")
    assert all(reason for _, reason in pip.files_in_order(ctx))
    ctx = linux(PIP_CONFIG_FILE="/ci/pip.conf")
    kinds = [f.kind for f, _ in pip.files_in_order(ctx)]
    assert kinds[-1] == "env"


def test_no_home_is_a_clear_error():
    with pytest.raises(UsageError):
        pip.config_path(Context(environ={}, platform="linux"), Scope.USER)


def test_project_scope_is_not_pip_s():
    with pytest.raises(UsageError) as err:
        pip.config_path(linux(), Scope.PROJECT)
    assert "--scope user, global or venv" in err.value.hint


def test_on_path_treats_an_empty_path_entry_as_the_current_folder(tmp_path, monkeypatch):
    from mirrorctl.targets.base import on_path

    tool = tmp_path / "uv"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    assert on_path(linux(PATH=":/nonexistent"), "uv")
    assert not on_path(linux(PATH="/nonexistent"), "uv")
