"""Poetry: a ``[[tool.poetry.source]]`` in the project's ``pyproject.toml`` (project scope only).

How Poetry picks its sources (poetry ``Factory.create_pool``): the sources of the nearest
``pyproject.toml`` (walking up from the project folder), each ``primary`` unless it says
``supplemental`` or ``explicit``; primary sources are searched first, in file order; PyPI is
added as a primary source only when no primary source is configured (or when a source is named
``pypi``, which takes no URL). No environment variable or user file changes the sources.

``use`` adds one source named ``mirrorctl`` with ``priority = "primary"`` (or updates it); every
other source and the rest of the file stay as they were (see docs/tools/poetry.md).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Optional

from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, MirrorctlError, UsageError
from mirrorctl.formats import toml
from mirrorctl.targets.base import FileInfo, Origin, Overlay, ToolStatus, read_with_overlay

NAME = "poetry"
name = NAME
scopes = (Scope.PROJECT,)
OFFICIAL = "https://pypi.org/simple"
SOURCE_NAME = "mirrorctl"  # the source mirrorctl owns
TABLE = ("tool", "poetry")
SECTION = "tool.poetry.source"


def find_pyproject(ctx: Context, overlay: Optional[Overlay] = None) -> Optional[PurePath]:
    """The nearest pyproject.toml, walking up from the project folder, as Poetry finds it."""
    start = ctx.project_dir()
    for folder in [start, *start.parents]:
        if read_with_overlay(Path(folder / "pyproject.toml"), overlay) is not None:
            return folder / "pyproject.toml"
    return None


def config_path(ctx: Context, scope: Scope) -> PurePath:
    if scope != Scope.PROJECT:
        raise UsageError(f"poetry has no {scope.value} scope", hint="Poetry keeps its sources in the project: --scope project")
    path = find_pyproject(ctx)
    if path is None:
        raise UsageError(f"no pyproject.toml in {ctx.project_dir()} or above it: no Poetry project here",
                         hint="run in the project folder, or pass --project PATH")
    return path


# -- planning -------------------------------------------------------------------------

def _is_ours(table) -> bool:
    return table.get("name") == SOURCE_NAME


def _edit(url: Optional[str]):
    def edit(doc: toml.TomlDocument) -> None:
        poetry = doc.table(TABLE, create=url is not None, header=False)
        if poetry is None:
            return
        if url is None:
            toml.remove_array_tables(poetry, "source", _is_ours)
            toml.remove_if_empty(doc.root, TABLE)
            return
        ours = next((t for t in toml.array_tables(poetry, "source", path=doc.path) if _is_ours(t)), None)
        toml.remove_array_tables(poetry, "source", lambda t: _is_ours(t) and t is not ours)
        if ours is None:
            toml.add_array_table(poetry, "source", {"name": SOURCE_NAME, "url": url, "priority": "primary"})
            return
        toml.set_value(ours, "url", url, keep_comment=False)
        toml.set_value(ours, "priority", "primary")
    return edit


def _notes(path: PurePath) -> list:
    lock = path.parent / "poetry.lock"
    if Path(lock).exists():
        return [f"{lock} records the sources packages came from: run `poetry lock` to re-lock against the mirror"]
    return []


def _plan(ctx: Context, scope: Scope, url: Optional[str]) -> list:
    path = config_path(ctx, scope)
    before = read_with_overlay(Path(path), None)
    return [toml.plan(path, before, _edit(url), tool=NAME, scope=scope.value, owned=[(*TABLE, "source")],
                      remove_if_blank=False, notes=_notes(path))]


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list:
    return _plan(ctx, scope, mirror.url)


def plan_reset(ctx: Context, scope: Scope) -> list:
    return _plan(ctx, scope, None)


def in_use(ctx: Context, scope: Scope) -> bool:
    """A Poetry project: a pyproject.toml with [tool.poetry], or a poetry.lock beside it
    (poetry on PATH alone says nothing about this project)."""
    if scope != Scope.PROJECT:
        return False
    try:
        path = find_pyproject(ctx)
        if path is None:
            return False
        if Path(path).with_name("poetry.lock").exists():
            return True
        data = toml.loads(read_with_overlay(Path(path), None), path)
        return isinstance(toml.value_at(data, TABLE), dict)
    except MirrorctlError:
        return False


def environment(mirror: Mirror) -> dict:
    return {}  # Poetry has no variable for its package sources


# -- status ---------------------------------------------------------------------------

def _sources(data: dict) -> list:
    """(name, url, priority) of each source, in file order (PyPI's URL for the one named pypi)."""
    out = []
    for source in toml.tables_in(data, [*TABLE, "source"]):
        name = str(source.get("name", ""))
        url = OFFICIAL if name.lower() == "pypi" else source.get("url")
        if isinstance(url, str):
            out.append((name, url, str(source.get("priority", "primary")).lower()))
    return out


def _is_poetry_project(data: dict, path: Optional[PurePath]) -> bool:
    backend = str(toml.value_at(data, ("build-system", "build-backend"), ""))
    return (isinstance(toml.value_at(data, TABLE), dict) or backend.startswith("poetry.")
            or (path is not None and Path(path.parent / "poetry.lock").exists()))


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    """Outside a Poetry project (no pyproject.toml, or one that is not Poetry's and has no
    source), Poetry has nothing to report: ``index_url`` is None."""
    path = find_pyproject(ctx, overlay)
    shown = path or ctx.project_dir() / "pyproject.toml"
    info = FileInfo(path=str(shown), kind="project", exists=path is not None)
    data = {}
    if path is not None:
        try:
            data = toml.loads(read_with_overlay(Path(path), overlay), path)
        except ConfigFileError as exc:
            info.error = exc.message
            return ToolStatus(tool=NAME, index_url=None, mirror=None, origin=Origin("default"), files=[info],
                              error=exc.message, warnings=[f"poetry cannot run until this is fixed: {exc.message}"])
    sources = _sources(data)
    for name_, url, priority in sources:
        info.values[f"source.{name_}"] = f"{url} ({priority})"
    primary = [(n, u) for n, u, p in sources if p == "primary"]
    if primary:
        index_url = primary[0][1]
        origin = Origin("file", str(path), section=f"{SECTION} {primary[0][0]}")
    else:
        index_url = OFFICIAL if sources or _is_poetry_project(data, path) else None
        origin = Origin("default")
    mirror = catalog.match_url(index_url)
    # later primary sources serve what the first lacks; supplemental ones come after them
    extras = [u for _, u in primary[1:]] + [u for _, u, p in sources if p == "supplemental"]
    return ToolStatus(tool=NAME, index_url=index_url, mirror=mirror.name if mirror else None, origin=origin,
                      files=[info], extra_index_urls=extras)
