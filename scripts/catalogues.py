#!/usr/bin/env python3
"""Compile the translation catalogues: src/mirrorctl/locale/LANG/LC_MESSAGES/mirrorctl.po -> .mo.

    python3 scripts/catalogues.py            # compile each .po beside itself (a source checkout)

The wheel and the editable install compile them in hatch_build.py, the pyz in
scripts/build_pyz.py; all three call :func:`compile_po`. With Babel (in [build-system] requires
and the test extra); without it, GNU gettext's ``msgfmt --check``. A catalogue with an error
(a ``{name}`` placeholder the translation lost or invented, a broken entry) is refused.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "src" / "mirrorctl" / "locale"
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}")


class CatalogueError(Exception):
    pass


def sources(locale_dir: Path = LOCALE) -> list[Path]:
    """Every .po file, sorted."""
    return sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))


def placeholders(text: str) -> set[str]:
    return {m.group().split("!")[0].split(":")[0] + "}" for m in _PLACEHOLDER.finditer(text)}


def compile_po(po: Path) -> bytes:
    """The .mo bytes of ``po``; refuses fuzzy-free errors: a translation whose ``{placeholders}``
    differ from its English."""
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
    except ImportError:
        return _msgfmt(po)
    import io

    with po.open("rb") as f:
        catalog = read_po(f, abort_invalid=True)
    problems = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        wanted = set().union(*(placeholders(i) for i in ids))
        for s in strings:
            if s and placeholders(s) != wanted:
                problems.append(f"{po}:{message.lineno}: {ids[0]!r}: placeholders {sorted(placeholders(s))}"
                                f" in the translation, {sorted(wanted)} in the English")
    if problems:
        raise CatalogueError("\n".join(problems))
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _msgfmt(po: Path) -> bytes:
    tool = shutil.which("msgfmt")
    if tool is None:
        raise CatalogueError(f"{po}: compiling a catalogue needs Babel (pip install babel) or GNU gettext's msgfmt")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mo"
        proc = subprocess.run([tool, "--check-format", "--check-header", "-o", str(out), str(po)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise CatalogueError(f"{po}: msgfmt: {proc.stderr.strip()}")
        return out.read_bytes()


def compiled(locale_dir: Path = LOCALE) -> dict[str, bytes]:
    """{path relative to the package (locale/LANG/LC_MESSAGES/mirrorctl.mo): .mo bytes}."""
    result = {}
    for po in sources(locale_dir):
        rel = po.relative_to(locale_dir.parent).with_suffix(".mo")
        result[rel.as_posix()] = compile_po(po)
    return result


def compile_in_place(locale_dir: Path = LOCALE) -> list[Path]:
    """Write each .mo beside its .po (only when its bytes change); returns the files written."""
    written = []
    for rel, data in compiled(locale_dir).items():
        path = locale_dir.parent / rel
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(path)
    return written


if __name__ == "__main__":
    try:
        for path in compile_in_place():
            sys.stderr.write(f"catalogues: wrote {path}\n")
    except (CatalogueError, OSError) as exc:
        sys.stderr.write(f"catalogues: {exc}\n")
        sys.exit(1)
