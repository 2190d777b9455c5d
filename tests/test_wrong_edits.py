"""Cross-cutting checks of issue 8's "wrong edits" part: module layering (shell quoting is a file
format), and no credential in a shell start-up file, judged by the real shells."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mirrorctl

SRC = Path(mirrorctl.__file__).resolve().parent  # the sources under test (PYTHONPATH)


def _imports(path: Path) -> set[str]:
    """Every mirrorctl module ``path`` imports (``from mirrorctl import x`` counts as mirrorctl.x)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in out if name.startswith("mirrorctl")}


def test_targets_and_formats_do_not_import_shellenv():
    """shellenv imports targets; targets (and formats) must not import it back."""
    offenders = [str(p.relative_to(SRC)) for folder in ("targets", "formats") for p in sorted((SRC / folder).glob("*.py"))
                 if "mirrorctl.shellenv" in _imports(p)]
    assert offenders == []


def test_shell_quoting_lives_under_formats_and_imports_no_target():
    quoting = SRC / "formats" / "shellquote.py"
    assert quoting.is_file()
    assert not any(name.startswith(("mirrorctl.targets", "mirrorctl.shellenv")) for name in _imports(quoting))


def test_importing_the_pipenv_target_alone_loads_no_shellenv():
    code = "import sys, mirrorctl.targets.pipenv; print('mirrorctl.shellenv' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
