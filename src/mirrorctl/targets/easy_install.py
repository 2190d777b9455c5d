"""easy_install (legacy): ``[easy_install] index_url`` in ``~/.pydistutils.cfg`` (user scope).

distutils/setuptools read the user file (``pydistutils.cfg`` without the dot on Windows), then
``setup.cfg`` in the current folder, which wins. Option names are case-insensitive and ``-``
equals ``_``; values go through ConfigParser interpolation, so a ``%`` is written ``%%``.
easy_install has no trusted-host setting: an http:// index is used as it is.

Legacy: ``use`` configures it only when asked with ``--tool easy_install``.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Optional

from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.errors import UsageError
from mirrorctl.targets.base import Overlay, ToolStatus
from mirrorctl.targets.inifile import ini_status, plan_ini_value

NAME = "easy_install"
name = NAME
scopes = (Scope.USER,)
SECTION = "easy_install"
KEY = "index_url"
OFFICIAL = "https://pypi.org/simple/"  # setuptools' default index


def normalize_key(key: str) -> str:
    """distutils' option-name rule: case-insensitive, ``-`` is ``_``."""
    return key.strip().lower().replace("-", "_")


def user_file(ctx: Context) -> PurePath:
    return ctx.home / ("pydistutils.cfg" if ctx.windows else ".pydistutils.cfg")


def files_in_order(ctx: Context) -> list:
    return [("user", user_file(ctx)), ("project", ctx.project_dir() / "setup.cfg")]


def config_path(ctx: Context, scope: Scope) -> PurePath:
    if scope != Scope.USER:
        raise UsageError(f"easy_install has no {scope.value} scope", hint="use --scope user")
    return user_file(ctx)


def escape(url: str) -> str:
    return url.replace("%", "%%")


def unescape(value: str) -> str:
    return value.replace("%%", "%")


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list:
    return [plan_ini_value(config_path(ctx, scope), SECTION, KEY, escape(mirror.url), normalize_key,
                           tool=NAME, scope=scope.value)]


def plan_reset(ctx: Context, scope: Scope) -> list:
    return [plan_ini_value(config_path(ctx, scope), SECTION, KEY, None, normalize_key, tool=NAME, scope=scope.value)]


def in_use(ctx: Context, scope: Scope) -> bool:
    return False  # legacy: only --tool easy_install picks it


def environment(mirror: Mirror) -> dict:
    return {}  # easy_install reads no variable for its index


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    return ini_status(NAME, files_in_order(ctx), SECTION, KEY, normalize_key, catalog, overlay,
                      default=OFFICIAL, decode_value=unescape)
