"""pipenv: the Pipfile's ``[[source]]`` (project scope) and ``PIPENV_PYPI_MIRROR`` (user scope).

How pipenv decides its index (pipenv's own code; checked against the real pipenv in the tests):

- The first ``[[source]]`` of the Pipfile is the index, the others are extra indexes. A Pipfile
  without one gets the official index.
- ``PIPENV_PYPI_MIRROR`` replaces, at run time, every source whose url is the official index
  (``https?://pypi.org/simple`` or ``pypi.python.org``, with or without the trailing slash). The
  Pipfile and Pipfile.lock keep the official url; any other source is left alone.
- pipenv has no configuration file for it: the variable comes from the environment, or from the
  project's ``.env`` (``PIPENV_DOTENV_LOCATION`` moves it; ``PIPENV_DONT_LOAD_ENV`` turns it
  off). A value already in the environment wins over the ``.env``'s.
- pip.conf and ``PIP_INDEX_URL`` do not apply to an existing Pipfile's sources.

So ``--scope project`` rewrites the first Pipfile source that points at the official index or a
catalogue mirror, or is named ``pypi`` (not always the first source: see :func:`_plan_pipfile`),
through the shared TOML editor (``formats/toml.py``: strict read, byte-exact round trip, only
that source changed); ``--scope user`` keeps the variable in one managed block of the user's
shell start-up files (``targets/pipenv_shell.py``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Optional

from mirrorctl import urls
from mirrorctl.catalog import Catalog, Mirror, load_catalog
from mirrorctl.changes import FileChange
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, UnsupportedError, UsageError
from mirrorctl.formats import toml
from mirrorctl.targets.base import FileInfo, Origin, Overlay, Setting, ToolStatus, on_path
from mirrorctl.targets.pipenv_shell import (VARIABLE, block_settings, has_block, plan_blocks, plan_remove_blocks,
                                            read_file, read_recorded, startup_files)
from mirrorctl.i18n import _

NAME = "pipenv"
name = NAME
scopes = (Scope.USER, Scope.PROJECT)
OFFICIAL = "https://pypi.org/simple"
_OFFICIAL_RE = re.compile(r"https?://pypi(?:\.python)?\.org/simple/?\Z")  # pipenv's is_pypi_url
_FALSE = ("", "0", "false", "no", "off")


def is_official(url: str) -> bool:
    """Whether ``PIPENV_PYPI_MIRROR`` replaces a source with this url (pipenv's own test)."""
    return bool(_OFFICIAL_RE.match(url))


def environment(mirror: Mirror) -> dict[str, str]:
    return {VARIABLE: mirror.url}


def in_use(ctx: Context, scope: Scope) -> bool:
    """Project: the folder has a Pipfile (pipenv on PATH alone says nothing about this project).
    User: pipenv is on PATH, or a start-up file already has the block (one that cannot be read
    has none, as far as anyone can tell)."""
    if scope == Scope.PROJECT:
        try:
            return Path(pipfile_path(ctx)).is_file()
        except OSError:  # cannot even be looked at: not a project mirrorctl can work on
            return False
    return on_path(ctx, NAME) or any(has_block(f) for f in startup_files(ctx))


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list[FileChange]:
    if scope == Scope.PROJECT:
        return [_plan_pipfile(ctx, mirror.url)]
    if scope == Scope.USER:
        return plan_blocks(ctx, mirror)
    raise UsageError(_("pipenv has no {value} scope").format(value=scope.value), hint=_("use --scope user or project"))


def plan_reset(ctx: Context, scope: Scope) -> list[FileChange]:
    if scope == Scope.PROJECT:
        return [_plan_pipfile(ctx, None)]
    if scope == Scope.USER:
        return plan_remove_blocks(ctx)
    raise UsageError(_("pipenv has no {value} scope").format(value=scope.value), hint=_("use --scope user or project"))


# -- the Pipfile (project scope) ---------------------------------------------------------

def pipfile_path(ctx: Context) -> PurePath:
    """The Pipfile of the project folder (``--project``, default: here). Unlike pipenv, mirrorctl
    does not look in parent folders: it edits the file of the folder it is pointed at."""
    return ctx.project_dir() / "Pipfile"


def _sources(data: dict, path: PurePath) -> list:
    """The ``[[source]]`` tables of the Pipfile's plain data, each checked to have a url."""
    sources = data.get("source", [])
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise ConfigFileError(_("{path}: 'source' must be a list of tables ([[source]])").format(path=path),
                              hint=_("pipenv cannot read it either; fix it by hand"))
    for number, source in enumerate(sources, 1):
        if not isinstance(source.get("url"), str):
            raise ConfigFileError(_("{path}: [[source]] #{number} has no url").format(path=path, number=number),
                                  hint=_("pipenv cannot read it either; fix it by hand"))
    return sources


def _editable_sources(doc: toml.TomlDocument) -> list:
    """The sources as tomlkit tables (``[[source]]``, or inline tables of ``source = [...]``), in
    the order of :func:`_sources` (the round-trip guard has made sure both read the same file)."""
    root = doc.root
    return list(root["source"]) if "source" in root else []


def _like(old, url: str):
    """``url`` as a TOML string in the quote style of ``old`` where it can be."""
    import tomlkit

    literal = hasattr(old, "as_string") and old.as_string().startswith("'") and "'" not in url
    return tomlkit.string(url, literal=literal)


# the keys of the one source the edit rewrites; everything else must come out as it went in
_OWNED_KEYS = ("url", "verify_ssl")


def _point(source, url: str) -> None:
    """Point one source (a tomlkit table) at ``url``, its verify_ssl to match. The url is left as
    it is when it names the same index already (a trailing slash, say)."""
    if not urls.same_index(source["url"], url):
        source["url"] = _like(source["url"], url)
    verify = url.lower().startswith("https:")
    if source.get("verify_ssl") is not verify:
        source["verify_ssl"] = verify


def _new_source(doc: toml.TomlDocument, url: str) -> None:
    """A ``[[source]]`` named ``pypi`` at the end of the file, one blank line before it; or, in
    an empty inline ``source = []``, one inline table."""
    values = {"name": "pypi", "url": url, "verify_ssl": url.lower().startswith("https:")}
    if "source" in doc.root:  # no source, yet the key is there: an empty inline array
        import tomlkit

        table = tomlkit.inline_table()
        table.update(values)
        doc.root["source"].append(table)
        return
    toml.add_array_table(doc.root, "source", values)


def _switchable(catalog: Catalog, url: str) -> bool:
    """The official index, or a catalogue mirror (also in the http:// form older guides give)."""
    return is_official(url) or catalog.match_url(re.sub(r"^http:", "https:", url, flags=re.IGNORECASE)) is not None


# the name pipenv gives the default source of every Pipfile it creates: the public-index slot
PUBLIC_SLOT = "pypi"


def _managed_source(catalog: Catalog, sources: list) -> Optional[int]:
    """The source ``use`` and ``reset`` rewrite: the first, in file order, that points at the
    official index or a catalogue mirror, or that is named ``pypi`` (pipenv's public-index slot,
    wherever it points: a mirror missing from the catalogue is still a mirror of the public
    index, and leaving it would let ``use`` report success, and ``--check`` "already", while
    pipenv keeps fetching from it). None when every source is private."""
    return next((i for i, s in enumerate(sources)
                 if _switchable(catalog, s["url"]) or s.get("name") == PUBLIC_SLOT), None)


def _plan_pipfile(ctx: Context, url: Optional[str]) -> FileChange:
    """``url`` None: put the official index back (reset).

    The source rewritten is the one :func:`_managed_source` picks, which need not be the first
    source (pipenv's index): a private first source is left alone, and ``use`` then warns that
    pipenv still uses it. The Pipfile is read and written by
    ``formats/toml.py``: tomllib first (a duplicate key, bad UTF-8: a ConfigFileError naming the
    file, nothing written), then tomlkit, refused unless it gives the file back byte for byte,
    and the result checked to differ only in that source's url and verify_ssl."""
    path = pipfile_path(ctx)
    before = read_file(path)
    if before is None:
        raise UsageError(_("no Pipfile in {project_dir}").format(project_dir=ctx.project_dir()),
                         hint=_("run in the project folder or pass --project DIR; `pipenv install` creates one"))
    doc = toml.TomlDocument(before, path)
    catalog = load_catalog(ctx)
    sources = _sources(doc.data_before, path)
    index = _managed_source(catalog, sources)
    if index is None and url is not None and sources:
        raise UnsupportedError(_("{path}: no [[source]] points at the official index or a known mirror, or is named "
                                 "{public_slot!r}, and private sources are left alone")
                               .format(path=path, public_slot=PUBLIC_SLOT),
                               hint=_("edit the Pipfile's source by hand"))
    notes = []
    if index is not None:
        old = sources[index]["url"]
        _point(_editable_sources(doc)[index], url or OFFICIAL)
        if not _switchable(catalog, old) and not urls.same_index(old, url or OFFICIAL):
            notes.append(_("{path}: source {public_slot!r} pointed at {old}, which is not in the catalogue; "
                           "`mirrorctl undo` puts it back, `mirrorctl add NAME URL` names it")
                         .format(path=path, public_slot=PUBLIC_SLOT, old=urls.mask_url(old)))
    elif url is not None:  # use on a Pipfile without sources (reset of one has nothing to put back)
        _new_source(doc, url)
    # the shared check covers everything outside the sources; _check_sources the sources themselves
    after = doc.after(owned=[("source",)], remove_if_blank=False)
    if after != before:
        _check_sources(path, sources, _sources(toml.loads(after, path), path), index)
    change = FileChange(path, before, after, tool=NAME, scope=Scope.PROJECT.value,  # type: ignore[arg-type]
                        notes=notes if after != before else [])
    lock = Path(path).with_name("Pipfile.lock")
    if change.changed and lock.exists():
        change.notes.append(_("{lock} still records the old source url: run `pipenv lock`").format(lock=lock))
    return change


def _check_sources(path: PurePath, old: list, new: list, index: Optional[int]) -> None:
    """The sources after the edit differ from ``old`` only in the url and verify_ssl of source
    ``index``, or (``index`` None, no source before) by the one source added."""
    def mine(sources: list) -> list:
        return [{k: v for k, v in s.items() if i != index or k not in _OWNED_KEYS} for i, s in enumerate(sources)]

    if index is None:
        ok = not old and len(new) == 1 and set(new[0]) == {"name", *_OWNED_KEYS} and new[0]["name"] == "pypi"
    else:
        ok = len(new) == len(old) and mine(new) == mine(old)
    if not ok:
        raise ConfigFileError(_("{path}: the edit would change settings mirrorctl does not manage; nothing was written")
                              .format(path=path),
                              hint=_("please report this file to mirrorctl"))


# -- status ------------------------------------------------------------------------------

def _dotenv_value(text: str) -> Optional[str]:
    """The last ``PIPENV_PYPI_MIRROR=`` of a .env file (python-dotenv's syntax, as pipenv loads it)."""
    value = None
    for line in text.splitlines():
        match = re.fullmatch(rf"\s*(?:export\s+)?{VARIABLE}\s*=\s*(.*)", line)
        if not match:
            continue
        raw = match.group(1).strip()
        if raw[:1] in ("'", '"'):
            end = raw.find(raw[0], 1)
            value = raw[1:end] if end > 0 else raw[1:]
        else:
            value = re.split(r"\s#", raw, maxsplit=1)[0].strip()
    return value or None


def _dotenv_setting(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> Optional[Setting]:
    location = ctx.environ.get("PIPENV_DOTENV_LOCATION", "")
    path = ctx.cwd / ctx.path(location) if location else ctx.project_dir() / ".env"
    info = FileInfo(path=str(path), kind="dotenv", exists=False)
    st.files.append(info)
    if ctx.environ.get("PIPENV_DONT_LOAD_ENV", "").strip().lower() not in _FALSE:
        info.skipped = _("PIPENV_DONT_LOAD_ENV is set: pipenv does not load it")
    data = read_recorded(path, overlay, info)
    value = _dotenv_value(data.decode("utf-8", "replace")) if data is not None else None
    if value is None:
        return None
    info.values[VARIABLE] = value
    if info.skipped:
        return None
    return Setting(value, Origin("file", str(path), variable=VARIABLE), scope="project")


def _mirror_settings(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> list[Setting]:
    """Every PIPENV_PYPI_MIRROR definition, the one pipenv uses first.

    The environment beats the project's .env (pipenv loads .env but keeps the mirror it started
    with). A value in the environment that a managed block put there is reported as that block,
    so a switch shows the block's new value (and says this shell still has the old one)."""
    env_value = ctx.environ.get(VARIABLE, "")
    dotenv = _dotenv_setting(ctx, overlay, st)
    blocks, on_disk = block_settings(ctx, overlay, st)
    from_block = env_value in on_disk
    out = []
    if env_value and not from_block:
        out.append(Setting(env_value, Origin("env", variable=VARIABLE), scope="env"))
    out.extend(blocks)
    if from_block and (not blocks or blocks[0].value != env_value):
        st.warnings.append(_("this shell still has {variable}={env_value}: open a new shell for the change to take "
                             "effect").format(variable=VARIABLE, env_value=urls.mask_url(env_value)))
    if dotenv is not None:
        out.append(dotenv)
    return out


def _where(setting: Setting) -> str:
    return "the environment" if setting.origin.kind == "env" else str(setting.origin.path)


def _source_origin(path: PurePath, source: dict) -> Origin:
    return Origin("file", str(path), section=f"source {source.get('name', '?')}")


def _pipfile_sources(ctx: Context, overlay: Optional[Overlay], st: ToolStatus) -> Optional[list[dict]]:
    """The Pipfile's sources; None without a Pipfile."""
    path = pipfile_path(ctx)
    info = FileInfo(path=str(path), kind="project", exists=False)
    st.files.insert(0, info)
    data = read_recorded(path, overlay, info)
    if info.error:
        raise ConfigFileError(info.error)
    if data is None:
        return None
    sources = _sources(toml.loads(data, path), path)
    for source in sources:
        info.values[f"source.{source.get('name', '?')}.url"] = source["url"]
    return sources


def _winner(st: ToolStatus, candidates: list[Setting]) -> Optional[Setting]:
    """The PIPENV_PYPI_MIRROR pipenv takes; the others are shadowed (a warning when they differ)."""
    if not candidates:
        return None
    winner = candidates[0]
    for other in candidates[1:]:
        st.shadowed.append(other)
        if other.value != winner.value:
            st.warnings.append(_("{value} sets {variable}={value2}, but pipenv uses the one from {value3}")
                               .format(value=_where(other), variable=VARIABLE, value2=urls.mask_url(other.value), value3=_where(winner)))
    return winner


def _project_index(st: ToolStatus, catalog: Catalog, path: PurePath, sources: list[dict],
                   mirror: Optional[Setting]) -> None:
    """The project's index: its first source, unless the variable replaces it (the official index)."""
    used = [mirror.value if mirror and is_official(s["url"]) else s["url"] for s in sources]
    st.extra_index_urls = used[1:]
    st.details["sources"] = [{"name": s.get("name"), "url": urls.mask_url(s["url"]),
                              "verify_ssl": s.get("verify_ssl"), "used_url": urls.mask_url(u)}
                             for s, u in zip(sources, used)]
    if not sources:  # pipenv's implicit source: the official index
        implicit = mirror or Setting(OFFICIAL, Origin("default"))
        _decide(st, catalog, implicit.value, implicit.origin)
        return
    first, origin = sources[0], _source_origin(path, sources[0])
    if mirror and is_official(first["url"]):
        _decide(st, catalog, mirror.value, mirror.origin)
        st.shadowed.append(Setting(first["url"], origin, scope="project"))
        return
    _decide(st, catalog, first["url"], origin)
    if mirror:
        st.shadowed.append(mirror)
    if mirror and not urls.same_index(mirror.value, first["url"]):
        st.warnings.append(_("{variable} (from {value}) has no effect here: the Pipfile's source {get!r} is {first}, "
                             "not the official index")
                           .format(variable=VARIABLE, value=_where(mirror), get=first.get('name', '?'), first=urls.mask_url(first['url'])))


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    st = ToolStatus(tool=NAME, index_url=None, mirror=None, origin=Origin("default"))
    mirror = _winner(st, _mirror_settings(ctx, overlay, st))
    try:
        sources = _pipfile_sources(ctx, overlay, st)
    except ConfigFileError as exc:
        st.error = exc.message
        st.warnings.append(_("pipenv cannot run until this is fixed: {message}").format(message=exc.message))
        return st
    path = pipfile_path(ctx)
    st.details = {"pipfile": str(path) if sources is not None else None, "sources": []}
    if sources is not None:
        _project_index(st, catalog, path, sources, mirror)
    elif mirror is not None:  # no project here: the variable is all there is
        _decide(st, catalog, mirror.value, mirror.origin)
    return st


def _decide(st: ToolStatus, catalog: Catalog, url: str, origin: Origin) -> None:
    st.index_url = url
    st.origin = origin
    match = catalog.match_url(url)
    st.mirror = match.name if match else None
