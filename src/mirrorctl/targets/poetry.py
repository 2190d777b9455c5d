"""Poetry: a ``[[tool.poetry.source]]`` in the project's ``pyproject.toml`` (project scope only).

How Poetry picks its sources (poetry ``Factory.create_pool``): the sources of the nearest
``pyproject.toml`` (walking up from the project folder), each ``primary`` unless it says
``supplemental`` or ``explicit``; primary sources are searched first, in file order (a package
version found in several comes from the first); PyPI is added as a primary source only when no
primary source is configured (or when a source is named ``pypi``, which takes no URL). No
environment variable or user file changes the sources. Poetry refuses the whole file when a
source breaks its schema (see :func:`check_sources`).

``use`` keeps one source named ``mirrorctl`` (any case: Poetry's names are) with
``priority = "primary"`` before every other primary source, so Poetry searches the mirror first;
every other source and the rest of the file stay as they were (see docs/tools/poetry.md).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Optional

from mirrorctl import urls
from mirrorctl.catalog import Catalog, Mirror, load_catalog
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, MirrorctlError, UsageError
from mirrorctl.formats import toml
from mirrorctl.targets.base import FileInfo, Origin, Overlay, ToolStatus, broken, read_with_overlay
from mirrorctl.i18n import _

NAME = "poetry"
name = NAME
scopes = (Scope.PROJECT,)
OFFICIAL = "https://pypi.org/simple"
SOURCE_NAME = "mirrorctl"  # the source mirrorctl owns
TABLE = ("tool", "poetry")
SECTION = "tool.poetry.source"
PRIORITIES = ("primary", "supplemental", "explicit")  # Poetry 2's schema: these, in lower case


def find_pyproject(ctx: Context, overlay: Optional[Overlay] = None) -> Optional[PurePath]:
    """The nearest pyproject.toml, walking up from the project folder, as Poetry finds it."""
    start = ctx.project_dir()
    for folder in [start, *start.parents]:
        if read_with_overlay(Path(folder / "pyproject.toml"), overlay) is not None:
            return folder / "pyproject.toml"
    return None


def config_path(ctx: Context, scope: Scope) -> PurePath:
    if scope != Scope.PROJECT:
        raise UsageError(_("poetry has no {value} scope")
                         .format(value=scope.value), hint=_("Poetry keeps its sources in the project: --scope project"))
    path = find_pyproject(ctx)
    if path is None:
        raise UsageError(_("no pyproject.toml in {project_dir} or above it: no Poetry project here")
                         .format(project_dir=ctx.project_dir()),
                         hint=_("run in the project folder, or pass --project PATH"))
    return path


# -- the sources Poetry accepts ----------------------------------------------------------

def check_sources(data: dict, path: PurePath) -> None:
    """Poetry's schema for ``[[tool.poetry.source]]`` (it refuses the whole file otherwise): an
    array of tables, each with a string ``name``, unique in any case; a string ``url``, except
    for the source named ``pypi``, which takes none; ``priority`` one of PRIORITIES. Else a
    ConfigFileError naming the file and the key."""
    poetry = toml.value_at(data, TABLE)
    if not isinstance(poetry, dict):
        return
    toml.expect(poetry, "source", "array of tables", path=path, tool=NAME, name=SECTION)
    seen: dict = {}
    for number, source in enumerate(poetry.get("source", [])):
        where = f"{SECTION}[{number}]"
        toml.expect(source, "name", "string", path=path, tool=NAME, name=f"{where}.name", required=True)
        name_ = source["name"].lower()
        if name_ in seen:
            raise ConfigFileError(_("{path}: {where}.name {source!r} is the name of {section}[{seen}] too (Poetry ignores "
                                    "case); poetry cannot use this file")
                                  .format(path=path, where=where, source=source['name'], section=SECTION, seen=seen[name_]),
                                  hint=_("fix the file by hand, then run again"))
        seen[name_] = number
        if name_ == "pypi":
            if "url" in source:
                raise ConfigFileError(_("{path}: {where}.url is not allowed: the source named {source!r} is PyPI itself; poetry "
                                        "cannot use this file").format(path=path, where=where, source=source['name']),
                                      hint=_("remove that url, or name the source otherwise"))
        else:
            toml.expect(source, "url", "string", path=path, tool=NAME, name=f"{where}.url", required=True)
        priority = source.get("priority", "primary")
        if priority not in PRIORITIES:
            raise ConfigFileError(_("{path}: {where}.priority must be one of {paths}, not {priority!r}; poetry cannot use "
                                    "this file")
                                  .format(path=path, where=where, paths=', '.join(PRIORITIES), priority=priority), hint=_("fix the file by hand, then run again"))


# -- planning -------------------------------------------------------------------------

def _is_ours(table) -> bool:
    return str(table.get("name", "")).lower() == SOURCE_NAME


def _is_primary(table) -> bool:
    return table.get("priority", "primary") == "primary"


def _edit(url: Optional[str]):
    def edit(doc: toml.TomlDocument) -> None:
        check_sources(doc.data_before, doc.path)
        poetry = doc.table(TABLE, create=url is not None, header=False)
        if poetry is None:
            return
        if url is None:
            toml.remove_array_tables(poetry, "source", _is_ours, path=doc.path)
            toml.remove_if_empty(doc.root, TABLE)
            return
        sources = toml.array_tables(poetry, "source", path=doc.path)
        ours = next((t for t in sources if _is_ours(t)), None)  # one at most: check_sources saw to it
        others = [t for t in sources if t is not ours]
        first = next((t for t in others if _is_primary(t)), None)  # Poetry searches it first, unless ours comes before
        if ours is not None:
            toml.set_value(ours, "url", url, keep_comment=False)
            toml.set_value(ours, "priority", "primary")
            position = {id(t): i for i, t in enumerate(sources)}
            if first is None or position[id(ours)] < position[id(first)]:
                return
            values = ours.unwrap()  # behind another primary source: it moves before it
            toml.remove_array_tables(poetry, "source", lambda t: t is ours, path=doc.path)
        else:
            values = {"name": SOURCE_NAME, "url": url, "priority": "primary"}
        toml.add_array_table(poetry, "source", values, before=first, path=doc.path)
    return edit


def _also_searched(ctx: Context, change, url: str) -> list:
    """Notes on the primary sources after ours that serve PyPI's packages too (the official
    index, a catalogue mirror): Poetry still searches them, after the mirror."""
    if not change.changed:
        return []
    catalog = load_catalog(ctx)
    notes = []
    for name_, other, priority in _sources(toml.loads(change.after, change.path)):
        if name_.lower() == SOURCE_NAME or priority != "primary" or urls.same_index(other, url):
            continue
        if catalog.match_url(other) is not None:
            notes.append(_("{section} {name_!r} ({other}) is a primary source too: Poetry searches it after the "
                           "mirror, for every package; remove it from {path} if you want the mirror only")
                         .format(section=SECTION, name_=name_, other=other, path=change.path))
    return notes


def _notes(path: PurePath) -> list:
    lock = path.parent / "poetry.lock"
    if Path(lock).exists():
        return [_("{lock} records the sources packages came from: run `poetry lock` to re-lock against the mirror")
                .format(lock=lock)]
    return []


def _plan(ctx: Context, scope: Scope, url: Optional[str]) -> list:
    path = config_path(ctx, scope)
    before = read_with_overlay(Path(path), None)
    change = toml.plan(path, before, _edit(url), tool=NAME, scope=scope.value, owned=[(*TABLE, "source")],
                       remove_if_blank=False, notes=_notes(path))
    if url is not None:
        change.notes.extend(_also_searched(ctx, change, url))
    return [change]


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
    """(name, url, priority) of each source, in file order (PyPI's URL for the one named pypi);
    ``data`` passed :func:`check_sources`."""
    out = []
    for source in toml.tables_in(data, [*TABLE, "source"]):
        name = source["name"]
        out.append((name, OFFICIAL if name.lower() == "pypi" else source["url"], source.get("priority", "primary")))
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
            check_sources(data, path)
        except ConfigFileError as exc:
            info.error = exc.message
            return broken(NAME, exc.message, [info])
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
