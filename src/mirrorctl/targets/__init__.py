"""One module per tool. Each module provides the :class:`~mirrorctl.targets.base.Target` protocol.

Adding a tool is one new module plus one line in ``TOOLS``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mirrorctl.errors import UsageError

if TYPE_CHECKING:
    from mirrorctl.targets.base import Target

# tool name -> module; the order is the order of status and of `use` output
TOOLS: dict[str, str] = {
    "pip": "mirrorctl.targets.pip",
}


def get(name: str) -> "Target":
    key = name.strip().lower()
    if key not in TOOLS:
        import difflib

        close = difflib.get_close_matches(key, list(TOOLS), n=2)
        hint = f"did you mean {' or '.join(close)}?" if close else f"known tools: {', '.join(TOOLS)}"
        raise UsageError(f"unknown tool {name!r}", hint=hint)
    return importlib.import_module(TOOLS[key])  # type: ignore[return-value]


def parse_tools(values: "list[str] | None") -> list[str]:
    """``--tool pip,conda --tool uv`` -> ["pip", "conda", "uv"] (validated, de-duplicated)."""
    out: list[str] = []
    for value in values or []:
        for part in value.split(","):
            part = part.strip().lower()
            if not part:
                continue
            get(part)
            if part not in out:
                out.append(part)
    return out
