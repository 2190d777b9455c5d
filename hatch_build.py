"""Hatch build hook: compile the translation catalogues (.po -> .mo) into the wheel.

The .mo files are build products (not in git). A wheel gets them as force-included files; an
editable install (``pip install -e .``) runs from src/, so there they are written beside their
.po files (git ignores them). The compiling itself is scripts/catalogues.py (Babel).
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _catalogues(root: Path):
    spec = importlib.util.spec_from_file_location("mirrorctl_catalogues", root / "scripts" / "catalogues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CatalogueBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return  # the sdist ships the .po files; its wheel compiles them
        root = Path(self.root)
        catalogues = _catalogues(root)
        locale = root / "src" / "mirrorctl" / "locale"
        if version == "editable":
            catalogues.compile_in_place(locale)
            return
        self._tmp = tempfile.TemporaryDirectory()
        for rel, data in catalogues.compiled(locale).items():
            path = Path(self._tmp.name) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            build_data["force_include"][str(path)] = f"mirrorctl/{rel}"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
