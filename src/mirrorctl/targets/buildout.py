"""zc.buildout (legacy): ``[buildout] index`` in ``~/.buildout/default.cfg`` (user scope).

buildout reads the user defaults (``$BUILDOUT_HOME/default.cfg``, else ``~/.buildout/default.cfg``)
first and the project's ``buildout.cfg`` over them (``extends`` chains are not followed here).
Option names are case-sensitive; ``$`` starts a ``${section:option}`` substitution, so a literal
``$`` is written ``$$``. buildout has no trusted-host setting (``allow-hosts`` is a whitelist,
left alone).

Legacy: ``use`` configures it only when asked with ``--tool buildout``.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Optional

from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.errors import UsageError
from mirrorctl.targets.base import Overlay, ToolStatus
from mirrorctl.targets.inifile import ini_status, plan_ini_value

NAME = "buildout"
name = NAME
scopes = (Scope.USER,)
SECTION = "buildout"
KEY = "index"
OFFICIAL = "https://pypi.org/simple"  # zc.buildout's default index


def normalize_key(key: str) -> str:
    return key.strip()  # buildout keeps the case of option names


def user_file(ctx: Context) -> PurePath:
    home = ctx.environ.get("BUILDOUT_HOME")
    return (ctx.path(home) if home else ctx.home / ".buildout") / "default.cfg"


def files_in_order(ctx: Context) -> list:
    return [("user", user_file(ctx)), ("project", ctx.project_dir() / "buildout.cfg")]


def config_path(ctx: Context, scope: Scope) -> PurePath:
    if scope != Scope.USER:
        raise UsageError(f"buildout has no {scope.value} scope", hint="use --scope user")
    return user_file(ctx)


def escape(url: str) -> str:
    return url.replace("$", "$$")


def unescape(value: str) -> str:
    return value.replace("$$", "$")


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list:
    return [plan_ini_value(config_path(ctx, scope), SECTION, KEY, escape(mirror.url), normalize_key,
                           tool=NAME, scope=scope.value)]


def plan_reset(ctx: Context, scope: Scope) -> list:
    return [plan_ini_value(config_path(ctx, scope), SECTION, KEY, None, normalize_key, tool=NAME, scope=scope.value)]


def in_use(ctx: Context, scope: Scope) -> bool:
    return False  # legacy: only --tool buildout picks it


def environment(mirror: Mirror) -> dict:
    return {}  # buildout reads no variable for its index


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    return ini_status(NAME, files_in_order(ctx), SECTION, KEY, normalize_key, catalog, overlay,
                      default=OFFICIAL, decode_value=unescape)
