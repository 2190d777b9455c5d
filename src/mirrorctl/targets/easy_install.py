"""easy_install (legacy): ``[easy_install] index_url`` in ``~/.pydistutils.cfg`` (user scope).

distutils/setuptools read the user file (``pydistutils.cfg`` without the dot on Windows), then
``setup.cfg`` in the current folder, which wins. Option names are case-insensitive and ``-``
equals ``_``; values go through ConfigParser interpolation, so a ``%`` is written ``%%``.
easy_install has no trusted-host setting: an http:// index is used as it is.

Legacy: ``use`` configures it only when asked with ``--tool easy_install``.
"""

from __future__ import annotations

from pathlib import PurePath

from mirrorctl.context import Context, Scope
from mirrorctl.targets.inifile import OneValueTool

NAME = "easy_install"


def user_file(ctx: Context) -> PurePath:
    return ctx.home / ("pydistutils.cfg" if ctx.windows else ".pydistutils.cfg")


_TOOL = OneValueTool(
    name=NAME,
    section="easy_install",
    key="index_url",
    default="https://pypi.org/simple/",  # setuptools' default index
    normalize=lambda key: key.strip().lower().replace("-", "_"),  # distutils: case-insensitive, - is _
    user_file=user_file,
    project_file="setup.cfg",
    escape=lambda url: url.replace("%", "%%"),  # values go through ConfigParser interpolation
    unescape=lambda value: value.replace("%%", "%"),
)

name = NAME
scopes = (Scope.USER,)
files_in_order = _TOOL.files_in_order
config_path = _TOOL.config_path
plan_use = _TOOL.plan_use
plan_reset = _TOOL.plan_reset
in_use = _TOOL.in_use
environment = _TOOL.environment
status = _TOOL.status
