"""One module per tool. Each module provides the :class:`~mirrorctl.targets.base.Target` protocol."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

if TYPE_CHECKING:
    from mirrorctl.targets.base import Target

# every tool mirrorctl knows, in the order of status and of `use` output; the module of
# tool NAME is mirrorctl.targets.NAME: adding a tool is one module and one name here
TOOLS: tuple[str, ...] = ("pip", "conda", "pipenv", "uv", "poetry", "pdm", "easy_install", "buildout")


def available() -> list[str]:
    """The tools, in TOOLS order."""
    return list(TOOLS)


def get(name: str) -> "Target":
    key = name.strip().lower().replace("-", "_")
    if key not in TOOLS:
        import difflib

        close = difflib.get_close_matches(key, list(TOOLS), n=2)
        hint = (_("did you mean {names}?").format(names=" or ".join(close)) if close
                else _("known tools: {names}").format(names=", ".join(TOOLS)))
        raise UsageError(_("unknown tool {name!r}").format(name=name), hint=hint)
    return importlib.import_module(f"mirrorctl.targets.{key}")  # type: ignore[return-value]


def parse_tools(values: "list[str] | None") -> list[str]:
    """``--tool pip,conda --tool uv`` -> ["pip", "conda", "uv"] (validated, de-duplicated)."""
    out: list[str] = []
    for value in values or []:
        for part in value.split(","):
            part = part.strip().lower().replace("-", "_")
            if not part:
                continue
            get(part)
            if part not in out:
                out.append(part)
    return out
