"""`mirrorctl env` and `mirrorctl exec`: the mirror for one shell, or for one command."""

from __future__ import annotations

from typing import List, Optional

import typer

from mirrorctl.cli.app import JSON_OPTION, app, handled, helptext, make_context
from mirrorctl.cli.guard import Exit
from mirrorctl.i18n import _


@app.command("env", help=helptext(
    _("Print the lines that point pip, pipenv and uv at a mirror in this shell (PIP_INDEX_URL, "
      "PIPENV_PYPI_MIRROR, UV_DEFAULT_INDEX, ...). Nothing is written."),
    'eval "$(mirrorctl env tuna)"',
    "mirrorctl env tuna --shell fish | source",
    "mirrorctl env tuna --shell powershell | Out-String | Invoke-Expression",
    "mirrorctl env aliyun --shell bash >> ci/env.sh",
    "mirrorctl env --json | jq -r '.variables.PIP_INDEX_URL'"))
@handled
def env(
    name: Optional[str] = typer.Argument(None, help=_("A catalogue name or alias, or a URL. Default: the mirror pip "
                                                      "uses now.")),
    shell: Optional[str] = typer.Option(None, "--shell", help=_("bash, zsh, sh, fish, powershell or cmd. Default: "
                                                                "$SHELL's (on Windows: PowerShell or cmd).")),
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl.render.shell import render_env
    from mirrorctl.shellenv import env_lines

    render_env(env_lines(make_context(), name, shell), as_json)


@app.command("exec", context_settings={"allow_interspersed_args": False}, help=helptext(
    _("Run one command with pip, pipenv and uv pointed at a mirror through the environment. "
      "Nothing is written; the exit status is the command's (127: command not found)."),
    "mirrorctl exec tuna -- pip install requests",
    "mirrorctl exec aliyun -- pipenv lock",
    "mirrorctl exec https://pypi.corp.example/simple -- uv sync"))
@handled
def exec_(
    name: str = typer.Argument(..., help=_("A catalogue name or alias, or a URL.")),
    command: List[str] = typer.Argument(..., help=_("The command and its arguments (after --).")),
) -> None:
    from mirrorctl.shellenv import run_with_mirror

    if command[:1] == ["--"]:  # options stop at NAME, so click hands the separator on
        command = command[1:]
    code = run_with_mirror(make_context(), name, command)
    if code:
        raise Exit(code)
