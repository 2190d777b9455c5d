"""PDM: ``[pypi] url`` in the user ``config.toml`` and in the project's ``pdm.toml``.

How PDM decides ``pypi.url`` (pdm ``project/config.py`` and ``project/core.py``), highest first:

- a ``[[tool.pdm.source]]`` named ``pypi`` in the project's pyproject.toml (the config only
  fills in what that source leaves out);
- ``PDM_PYPI_URL``;
- the project's ``.pdm.toml`` (legacy, read over ``pdm.toml``), then ``pdm.toml``; the project
  is the nearest folder with a pyproject.toml, walking up from the project folder (else that
  folder itself);
- the user ``config.toml`` (``PDM_CONFIG_FILE`` moves it) in platformdirs' user config folder;
- the site ``config.toml`` in platformdirs' site config folder;
- the built-in https://pypi.org/simple.

PDM (through unearth) skips an http:// index unless the source has ``verify_ssl = false``:
``use`` writes that for an http mirror, and takes it away again on https (docs/tools/pdm.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Optional

from mirrorctl import urls
from mirrorctl.catalog import Catalog, Mirror
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, MirrorctlError, UsageError
from mirrorctl.formats import toml
from mirrorctl.targets.base import (FileInfo, Origin, Overlay, Setting, ToolStatus, broken, last_wins, on_path,
                                    read_with_overlay)
from mirrorctl.i18n import _

NAME = "pdm"
name = NAME
scopes = (Scope.USER, Scope.PROJECT)
OFFICIAL = "https://pypi.org/simple"
ENV_URL = "PDM_PYPI_URL"
ENV_VERIFY = "PDM_PYPI_VERIFY_SSL"


@dataclass(frozen=True)
class PdmFile:
    kind: str  # "site", "user", "project", "project-legacy"
    path: PurePath


# -- where PDM looks (platformdirs' rules, computed from the Context) -------------------

def user_config_dir(ctx: Context) -> PurePath:
    """platformdirs' ``user_config_path("pdm")``: an absolute ``XDG_CONFIG_HOME`` wins on Linux
    and macOS alike (``ctx.xdg_config_home``); macOS's default is ~/Library/Application Support."""
    if ctx.windows:
        local = ctx.environ.get("LOCALAPPDATA")
        base = ctx.path(local) if local else ctx.home / "AppData" / "Local"
        return base / "pdm" / "pdm"  # platformdirs: appauthor defaults to the app name
    value = ctx.environ.get("XDG_CONFIG_HOME", "")
    if ctx.platform == "darwin" and not (value and ctx.path(value).is_absolute()):
        return ctx.home / "Library" / "Application Support" / "pdm"
    return ctx.xdg_config_home / "pdm"


def user_file(ctx: Context) -> PurePath:
    override = ctx.environ.get("PDM_CONFIG_FILE")
    return ctx.path(override) if override else user_config_dir(ctx) / "config.toml"


def site_file(ctx: Context) -> PurePath:
    """platformdirs' ``site_config_path("pdm")``: the first absolute ``XDG_CONFIG_DIRS`` entry,
    else /etc/xdg (``ctx.xdg_config_dirs`` gives both), or /Library/Application Support on macOS
    when the variable is unset or empty (it is the Linux default that ctx adds then)."""
    if ctx.windows:
        folder = ctx.programdata / "pdm" / "pdm"
    else:
        dirs = ctx.xdg_config_dirs
        if ctx.platform == "darwin" and not ctx.environ.get("XDG_CONFIG_DIRS"):
            dirs = []  # not the /etc/xdg that ctx adds: macOS has its own default
        if dirs:
            folder = dirs[0] / "pdm"
        elif ctx.platform == "darwin":
            folder = ctx.path("/Library/Application Support/pdm")
        else:
            folder = ctx.path("/etc/xdg/pdm")
    return ctx.system(folder / "config.toml")


def project_root(ctx: Context, overlay: Optional[Overlay] = None) -> PurePath:
    """The nearest folder with a pyproject.toml from the project folder up, else the project folder."""
    start = ctx.project_dir()
    for folder in [start, *start.parents]:
        if read_with_overlay(Path(folder / "pyproject.toml"), overlay) is not None:
            return folder
    return start


def files_in_order(ctx: Context, overlay: Optional[Overlay] = None) -> list:
    """Every file PDM reads, lowest precedence first."""
    root = project_root(ctx, overlay)
    return [PdmFile("site", site_file(ctx)), PdmFile("user", user_file(ctx)),
            PdmFile("project", root / "pdm.toml"), PdmFile("project-legacy", root / ".pdm.toml")]


def config_path(ctx: Context, scope: Scope) -> PurePath:
    if scope == Scope.USER:
        return user_file(ctx)
    if scope == Scope.PROJECT:
        return project_root(ctx) / "pdm.toml"
    raise UsageError(_("pdm has no {value} scope").format(value=scope.value), hint=_("use --scope user or project"))


# -- the types PDM can use ---------------------------------------------------------------

def check_types(data: dict, path: PurePath) -> None:
    """``pypi`` must be a table (PDM crashes on anything else) and ``pypi.url`` a string (PDM
    would take ``3`` for a URL): else a ConfigFileError naming the file and the key."""
    toml.expect(data, "pypi", "table", path=path, tool=NAME)
    toml.expect(data.get("pypi", {}), "url", "string", path=path, tool=NAME, name="pypi.url")
    toml.expect(data, "pypi.url", "string", path=path, tool=NAME)  # the quoted top-level form


# -- planning -------------------------------------------------------------------------

def _is_http(url) -> bool:
    return isinstance(url, str) and urls.trusted_host_for(url) is not None


def _edit(url: Optional[str]):
    def edit(doc: toml.TomlDocument) -> None:
        check_types(doc.data_before, doc.path)
        quoted = toml.remove_value(doc.root, "pypi.url")  # a top-level "pypi.url" key means the same
        pypi = doc.table(("pypi",), create=url is not None)
        if pypi is None:
            return
        old = pypi.get("url")
        old = old.unwrap() if hasattr(old, "unwrap") else (old or quoted)
        http_trust = _is_http(old) and pypi.get("verify_ssl") is False  # what an http mirror needed
        if url is None:
            toml.remove_value(pypi, "url")
        else:
            toml.set_value(pypi, "url", url, keep_comment=False)
        if url is not None and _is_http(url):
            toml.set_value(pypi, "verify_ssl", False)
        elif http_trust:
            toml.remove_value(pypi, "verify_ssl")
        toml.remove_if_empty(doc.root, ["pypi"])
    return edit


def _plan(ctx: Context, scope: Scope, url: Optional[str]) -> list:
    path = config_path(ctx, scope)
    before = read_with_overlay(Path(path), None)
    owned = [("pypi", "url"), ("pypi", "verify_ssl"), ("pypi.url",)]
    return [toml.plan(path, before, _edit(url), tool=NAME, scope=scope.value, owned=owned)]


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list:
    return _plan(ctx, scope, mirror.url)


def plan_reset(ctx: Context, scope: Scope) -> list:
    return _plan(ctx, scope, None)


def in_use(ctx: Context, scope: Scope) -> bool:
    """Project: the project already uses PDM (pdm.lock, pdm.toml or [tool.pdm]); PDM on PATH
    says nothing about this project. User: pdm on PATH, or its config file exists."""
    try:
        if scope == Scope.PROJECT:
            root = project_root(ctx)
            if Path(root / "pdm.lock").exists() or Path(root / "pdm.toml").exists():
                return True
            data = toml.loads(read_with_overlay(Path(root / "pyproject.toml"), None), root / "pyproject.toml")
            return isinstance(toml.value_at(data, ("tool", "pdm")), dict)
        return on_path(ctx, "pdm") or Path(config_path(ctx, scope)).exists()
    except MirrorctlError:
        return False


def environment(mirror: Mirror) -> dict:
    env = {ENV_URL: mirror.url}
    if _is_http(mirror.url):
        env[ENV_VERIFY] = "false"  # unearth skips an http index it is not told to trust
    return env


# -- status ---------------------------------------------------------------------------

def _flat(data: dict) -> dict:
    """PDM's view of a config file: ``[pypi] url`` and a top-level ``"pypi.url"`` are one key."""
    out = {k: v for k, v in data.items() if not isinstance(v, dict)}
    pypi = data.get("pypi")
    if isinstance(pypi, dict):
        out.update({f"pypi.{k}": v for k, v in pypi.items()})
    return out


def _pyproject_source(root: PurePath, overlay: Optional[Overlay]) -> Optional[Setting]:
    path = root / "pyproject.toml"
    data = toml.loads(read_with_overlay(Path(path), overlay), path)
    for number, source in enumerate(toml.tables_in(data, ["tool", "pdm", "source"])):
        if source.get("name") != "pypi":
            continue
        toml.expect(source, "url", "string", path=path, tool=NAME, name=f"tool.pdm.source[{number}].url")
        if "url" in source:
            return Setting(source["url"], Origin("file", str(path), section="tool.pdm.source pypi"), scope="project")
    return None


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    infos, definitions = [], []  # definitions of pypi.url, lowest precedence first
    try:
        for pdmfile in files_in_order(ctx, overlay):
            info = FileInfo(path=str(pdmfile.path), kind=pdmfile.kind, exists=False)
            infos.append(info)
            data = read_with_overlay(Path(pdmfile.path), overlay)
            if data is None:
                continue
            info.exists = True
            parsed = toml.loads(data, pdmfile.path)
            check_types(parsed, pdmfile.path)
            values = _flat(parsed)
            for key in ("pypi.url", "pypi.verify_ssl"):
                if key in values:
                    info.values[key] = str(values[key])
            if isinstance(values.get("pypi.url"), str):
                definitions.append(Setting(values["pypi.url"], Origin("file", str(pdmfile.path), section="pypi"),
                                           scope=pdmfile.kind))
        if ctx.environ.get(ENV_URL):
            definitions.append(Setting(ctx.environ[ENV_URL], Origin("env", variable=ENV_URL), scope="env"))
        source = _pyproject_source(project_root(ctx, overlay), overlay)
    except ConfigFileError as exc:
        return broken(NAME, exc.message, infos)
    if source is not None:
        definitions.append(source)
    return last_wins(NAME, "pypi.url", definitions, OFFICIAL, catalog, infos, label=_label)


def _label(setting: Setting) -> str:
    return str(setting.origin.variable) if setting.origin.kind == "env" else setting.origin.describe()
