"""Rules of the source that a test can check: mistakes that pass every other test until one path runs."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "mirrorctl"


def test_no_function_imports_the_translation_function_again():
    """``from mirrorctl.i18n import _`` inside a function makes ``_`` local to the whole function:
    a message translated above that line then fails with UnboundLocalError (it did, for the BOM
    note of `use`). A module that has it at the top never imports it again; a lazy import in a
    function comes before its first use."""
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        at_top = any(isinstance(node, ast.ImportFrom) and node.module == "mirrorctl.i18n"
                     and any(alias.name == "_" for alias in node.names) for node in tree.body)
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            imports = [node.lineno for node in ast.walk(func) if isinstance(node, ast.ImportFrom)
                       and node.module == "mirrorctl.i18n"
                       and any(alias.name == "_" and alias.asname is None for alias in node.names)]
            if not imports:
                continue
            used_before = [node.lineno for node in ast.walk(func) if isinstance(node, ast.Name)
                           and node.id == "_" and node.lineno < min(imports)]
            if at_top or used_before:  # a lazy import (cli/__init__: before the language is set) is fine
                offenders.append(f"{path.relative_to(SRC)}:{min(imports)} in {func.name}()")
    assert not offenders, "import _ at the top of the module instead: " + ", ".join(offenders)
