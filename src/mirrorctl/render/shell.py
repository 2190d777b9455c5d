"""Printing for `mirrorctl env`: the shell lines (for eval), or JSON."""

from __future__ import annotations

from mirrorctl.render import print_json, warn, write
from mirrorctl.shellenv import EnvResult


def env_dict(result: EnvResult) -> dict:
    """The --json form. Values are the real ones (with any password): they are meant to be used."""
    return {"shell": result.shell, "mirror": result.mirror.name, "variables": dict(result.variables),
            "lines": list(result.lines)}


def render_env(result: EnvResult, as_json: bool) -> None:
    for warning in result.warnings:
        warn(warning)
    if as_json:
        print_json(env_dict(result))
        return
    for line in result.lines:
        write(line)
