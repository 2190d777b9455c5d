#!/usr/bin/env python3
"""Build mirrorctl.pyz: one file that runs mirrorctl on any Python >= 3.9 with nothing installed.

    python3 scripts/build_pyz.py --wheels build/pyz-wheels --fetch   # the release build (downloads)
    python3 scripts/build_pyz.py --wheels build/pyz-wheels           # the same, offline
    python3 scripts/build_pyz.py --from-env                          # offline, from this environment
    python3 mirrorctl.pyz use tuna

The zip holds src/mirrorctl (with mirrors.toml beside catalog.py, where the wheel puts it, and the
translation catalogues compiled from their .po files by scripts/catalogues.py) and the
pure-Python dependencies pinned in scripts/pyz-requirements.txt, with their dist-info (licences
included). The dependencies come from one of:

- ``--wheels DIR``: a folder of wheels, exactly the pinned versions (``--fetch`` downloads them
  into DIR first with pip: the only step that needs the network);
- ``--from-env``: the distributions installed in the Python running this script (importlib.metadata:
  each one's list of files). With ``--unpinned`` the installed versions are taken as they are, and
  the pyz then asks for the Python that built it or newer (a newer release may have dropped 3.9).

Every file is checked to be pure Python (no .so / .pyd): the pyz is imported by zipimport, which
cannot load an extension module. Standard library only, but for compiling the catalogues: Babel,
or GNU gettext's msgfmt.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import time
import zipfile
import zipapp
from importlib import metadata
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]
PINS_FILE = REPO / "scripts" / "pyz-requirements.txt"
COMPILED = (".so", ".pyd", ".dylib", ".dll")
# installer's bookkeeping, not the project's: left out of the zip
SKIPPED_META = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "uv_build.json"}
PIN_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s#;]+)")
REQ_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# compiled, and optional for the one that asks for it (ruamel.yaml runs without it)
OPTIONAL_COMPILED = {"ruamel-yaml-clib"}
FLOOR_RE = re.compile(r"^#\s*python\s*>=\s*(\d+)\.(\d+)\s*$")
# a fixed time for every member: the same inputs give the same bytes
ZIP_TIME = (2020, 1, 1, 0, 0, 0)

MAIN = '''\
# mirrorctl.pyz: built by scripts/build_pyz.py; nothing here needs site-packages.
import sys

FLOOR = {floor!r}
if sys.version_info[:2] < FLOOR:
    sys.stderr.write("mirrorctl: this mirrorctl.pyz needs Python %d.%d or newer (this is %d.%d.%d){why}\\n"
                     % (FLOOR + tuple(sys.version_info[:3])))
    sys.stderr.write("  hint: run it with a newer python3, or install mirrorctl with pip\\n")
    sys.exit(1)

from mirrorctl.cli import main  # noqa: E402

main()
'''


class BuildError(Exception):
    pass


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = PINS_FILE) -> tuple[dict[str, str], tuple[int, int]]:
    """{canonical name: version} and the oldest Python the pins serve, from the pin file."""
    pins: dict[str, str] = {}
    floor = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = FLOOR_RE.match(line)
        if found:
            floor = (int(found.group(1)), int(found.group(2)))
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pin = PIN_RE.match(line)
        if pin is None:
            raise BuildError(f"{path}:{number}: not a `name==version` pin: {line.strip()!r}")
        pins[canonical(pin.group(1))] = pin.group(2)
    if floor is None:
        raise BuildError(f"{path}: no `# python>=X.Y` line saying which Python the pins serve")
    return pins, floor


class Bundle:
    """The members of the zip, by archive name."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.versions: dict[str, str] = {}

    def add(self, name: str, data: bytes, origin: str) -> None:
        name = str(PurePosixPath(name))
        if name.lower().endswith(COMPILED):
            raise BuildError(f"{origin}: {name} is a compiled extension; a zip cannot import it")
        if name in self.files and self.files[name] != data:
            raise BuildError(f"{origin}: {name} is also in another distribution")
        self.files[name] = data


def wanted(member: str) -> bool:
    parts = PurePosixPath(member).parts
    if not parts or parts[0] == ".." or "__pycache__" in parts or member.endswith((".pyc", ".pyo")):
        return False
    if parts[0].endswith(".dist-info") and parts[-1] in SKIPPED_META:
        return False
    return True


def add_from_wheels(bundle: Bundle, wheels: Path, pins: dict[str, str]) -> None:
    found: dict[str, Path] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        fields = wheel.name[:-4].split("-")
        if len(fields) < 5:
            continue
        name, version = canonical(fields[0]), fields[1]
        if pins.get(name) == version:
            found[name] = wheel
    missing = sorted(set(pins) - set(found))
    if missing:
        raise BuildError(f"{wheels}: no wheel for {', '.join(f'{n}=={pins[n]}' for n in missing)}"
                         " (fetch them with --fetch)")
    for name, wheel in sorted(found.items()):
        tags = wheel.name[:-4].split("-")[-3:]
        if tags[1] != "none" or tags[2] != "any":
            raise BuildError(f"{wheel.name}: not a pure-Python wheel ({'-'.join(tags)})")
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                member = info.filename
                parts = PurePosixPath(member).parts
                if parts[0].endswith(".data"):  # scripts and headers have no place in a zipapp
                    if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
                        member = str(PurePosixPath(*parts[2:]))
                    else:
                        continue
                if wanted(member):
                    bundle.add(member, archive.read(info), wheel.name)
        bundle.versions[name] = pins[name]


def add_from_env(bundle: Bundle, pins: dict[str, str], unpinned: bool) -> list[str]:
    """The pinned distributions as installed here; with ``unpinned``, at whatever version, plus
    whatever installed distribution they require (outside extras). Returns what was left out."""
    left_out = []
    queue = sorted(pins)
    seen: set[str] = set()
    while queue:
        name = queue.pop(0)
        if name in seen or name in OPTIONAL_COMPILED:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if not unpinned:
                raise BuildError(f"{name} is not installed in {sys.executable}; use --wheels DIR") from None
            left_out.append(name)  # a newer release of what needed it may not need it any more
            continue
        if not unpinned and dist.version != pins[name]:
            raise BuildError(f"{name} {dist.version} is installed, the pin is {pins[name]}"
                             " (use --wheels DIR, or --unpinned for a pyz for this Python and newer)")
        if unpinned:
            for requirement in dist.requires or []:
                head, _, marker = requirement.partition(";")
                if not re.search(r"\bextra\s*==", marker):
                    queue.append(canonical(REQ_NAME_RE.match(head).group(1)))
        files = dist.files
        if not files:
            raise BuildError(f"{name}: its installer recorded no file list (RECORD)")
        for entry in files:
            member = entry.as_posix() if hasattr(entry, "as_posix") else str(entry)
            if not wanted(member):
                continue
            path = Path(dist.locate_file(entry))
            if not path.is_file():
                raise BuildError(f"{name}: {path} is listed in its RECORD but missing")
            bundle.add(member, path.read_bytes(), f"{name} {dist.version}")
        bundle.versions[name] = dist.version
    return left_out


def _catalogues():
    """scripts/catalogues.py (beside this script), imported by path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mirrorctl_catalogues", REPO / "scripts" / "catalogues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_mirrorctl(bundle: Bundle) -> str:
    source = REPO / "src" / "mirrorctl"
    for path in sorted(source.rglob("*")):
        member = "mirrorctl/" + path.relative_to(source).as_posix()
        if member.startswith("mirrorctl/locale/") and not member.endswith(".py"):
            continue  # the sources of the catalogues, and a .mo that may be stale: compiled below
        if path.is_file() and wanted(member):
            bundle.add(member, path.read_bytes(), "src/mirrorctl")
    catalogues = _catalogues()
    try:
        compiled = catalogues.compiled(source / "locale")
    except catalogues.CatalogueError as exc:
        raise BuildError(str(exc)) from None
    for rel, data in compiled.items():
        bundle.add("mirrorctl/" + rel, data, "scripts/catalogues.py")
    # where the wheel puts it (pyproject: force-include), and where catalog.py looks
    bundle.add("mirrorctl/mirrors.toml", (REPO / "mirrors.toml").read_bytes(), "mirrors.toml")
    version = re.search(r'__version__\s*=\s*"([^"]+)"', (source / "__init__.py").read_text("utf-8"))
    return version.group(1) if version else "unknown"


def fetch(wheels: Path, floor: tuple[int, int]) -> None:
    """Download the pinned wheels (pure Python, for the oldest Python served) into ``wheels``."""
    wheels.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", "%d.%d" % floor, "--dest", str(wheels), "-r", str(PINS_FILE)]
    if subprocess.run(command).returncode != 0:
        raise BuildError("pip could not download the pinned wheels: " + " ".join(command))


def write_pyz(bundle: Bundle, output: Path, floor: tuple[int, int], why: str, info: dict) -> None:
    bundle.add("__main__.py", MAIN.format(floor=floor, why=why).encode("utf-8"), "build_pyz")
    bundle.add("mirrorctl_pyz.json", (json.dumps(info, indent=1, sort_keys=True) + "\n").encode(), "build_pyz")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        # an entry for every folder too: zipimport finds a namespace package (ruamel) only by its entry
        folders = {str(parent) + "/" for name in bundle.files for parent in PurePosixPath(name).parents
                   if str(parent) != "."}
        for name in sorted(folders):
            member = zipfile.ZipInfo(name, ZIP_TIME)
            member.external_attr = (0o40755 << 16) | 0x10
            archive.writestr(member, b"")
        for name in sorted(bundle.files):
            member = zipfile.ZipInfo(name, ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            archive.writestr(member, bundle.files[name])
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    partial.write_bytes(buffer.getvalue())
    # zipapp adds the shebang line (python3 from PATH) and the executable bit
    zipapp.create_archive(partial, output, interpreter="/usr/bin/env python3")
    partial.unlink()
    output.chmod(output.stat().st_mode | 0o111)


def build(output: Path, *, wheels: Path | None = None, from_env: bool = False, unpinned: bool = False,
          do_fetch: bool = False) -> dict:
    pins, floor = read_pins()
    bundle = Bundle()
    version = add_mirrorctl(bundle)
    why = ""
    if wheels is not None:
        if do_fetch:
            fetch(wheels, floor)
        add_from_wheels(bundle, wheels, pins)
        source = f"wheels in {wheels}"
    elif from_env:
        left_out = add_from_env(bundle, pins, unpinned)
        source = f"the environment of {sys.executable}"
        if left_out:
            sys.stderr.write(f"build_pyz: not installed here, left out: {', '.join(left_out)}\n")
        if left_out or any(bundle.versions.get(n) != pins[n] for n in bundle.versions):
            floor = max(floor, tuple(sys.version_info[:2]))
            why = "; it was built from unpinned packages on Python %d.%d" % floor
    else:
        raise BuildError("say where the dependencies come from: --wheels DIR or --from-env")
    info = {"mirrorctl": version, "python": ">=%d.%d" % floor, "source": source,
            "built_with": "%d.%d.%d" % tuple(sys.version_info[:3]),
            "bundled": dict(sorted(bundle.versions.items()))}
    write_pyz(bundle, output, floor, why, info)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=REPO / "mirrorctl.pyz",
                        help="where to write the pyz (default: mirrorctl.pyz at the top of the repo)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--wheels", type=Path, metavar="DIR", help="take the pinned dependencies from wheels in DIR")
    where.add_argument("--from-env", action="store_true", help="take them from the Python running this script")
    parser.add_argument("--fetch", action="store_true",
                        help="with --wheels: first download the pinned wheels into DIR (needs the network)")
    parser.add_argument("--unpinned", action="store_true",
                        help="with --from-env: accept installed versions that differ from the pins")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        info = build(args.output, wheels=args.wheels, from_env=args.from_env, unpinned=args.unpinned,
                     do_fetch=args.fetch)
    except (BuildError, OSError) as exc:
        sys.stderr.write(f"build_pyz: {exc}\n")
        return 1
    size = args.output.stat().st_size
    sys.stderr.write(f"build_pyz: wrote {args.output} ({size / 1024:.0f} KiB, Python {info['python']}, "
                     f"{len(info['bundled'])} dependencies from {info['source']}) "
                     f"in {time.monotonic() - started:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
