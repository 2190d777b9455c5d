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

from mirrorctl.context import Context, Scope
from mirrorctl.targets.inifile import OneValueTool

NAME = "buildout"


def user_file(ctx: Context) -> PurePath:
    home = ctx.environ.get("BUILDOUT_HOME")
    return (ctx.path(home) if home else ctx.home / ".buildout") / "default.cfg"


_TOOL = OneValueTool(
    name=NAME,
    section="buildout",
    key="index",
    default="https://pypi.org/simple",  # zc.buildout's default index
    normalize=lambda key: key.strip(),  # buildout keeps the case of option names
    user_file=user_file,
    project_file="buildout.cfg",
    escape=lambda url: url.replace("$", "$$"),  # "$" starts a ${section:option} substitution
    unescape=lambda value: value.replace("$$", "$"),
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
