"""conda: .condarc (YAML) at user, global (system) and environment scope.

Where conda looks, and how it merges what it finds, follow conda's own configuration loader
(``conda/base/constants.py`` SEARCH_PATH, ``conda/common/configuration.py``; see
docs/tools/conda.md): system files, the installation's, the user's, the active environment's,
then ``$CONDARC``, then ``CONDA_*`` variables. Scalars: the last one wins; lists: merged, the
later file's items first; mappings: merged key by key, the later file winning. A key marked
``#!final`` stops the files after it.

mirrorctl manages three keys: ``default_channels`` (the entries on a catalogue mirror or on the
official repo.anaconda.com), ``custom_channels`` (the entries whose base is a catalogue mirror's
``/cloud`` or the official conda.anaconda.org) and ``show_channel_urls``, but only the line it
wrote itself, which carries a marker comment (:data:`SHOW_LINE`): the file is all ``reset`` has
to go by (the journal is ``undo``'s), and a user's own ``show_channel_urls: true`` must survive
``use`` then ``reset``. Anything else, such as the user's ``channels`` list and private channels,
is left as it is.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Optional, Sequence

from mirrorctl import urls
from mirrorctl.catalog import Catalog, CondaMirror, Mirror, load_catalog
from mirrorctl.changes import FileChange, read_bytes
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, MirrorctlError, UnsupportedError, UsageError
from mirrorctl.targets.base import FileInfo, Origin, Overlay, Setting, ToolStatus, on_path, read_with_overlay
from mirrorctl.i18n import N_, _

if TYPE_CHECKING:
    from mirrorctl.formats.yaml import YamlDocument

NAME = "conda"
name = NAME
scopes = (Scope.USER, Scope.GLOBAL, Scope.VENV)

DEFAULT_CHANNELS = "default_channels"
CUSTOM_CHANNELS = "custom_channels"
SHOW_CHANNEL_URLS = "show_channel_urls"
SHOW_MARK = "# added by mirrorctl"
# the line `use` writes when it adds the setting, and the only one `reset` removes: the marker
# comment is how reset tells it from a user's own `show_channel_urls: true`
SHOW_LINE = f"show_channel_urls: true  {SHOW_MARK}"
_SHOW_BARE = "show_channel_urls: true"  # how formats/yaml.py writes the value, before the marker
CHANNEL_ALIAS = "channel_alias"
CHANNELS = "channels"

OFFICIAL_ALIAS = "https://conda.anaconda.org"  # where community channels live
OFFICIAL_REPO = "https://repo.anaconda.com"  # where `defaults` lives
OFFICIAL_REPOS = (OFFICIAL_REPO, "https://repo.continuum.io")  # (the second: its old name)
OFFICIAL_BASES = (*OFFICIAL_REPOS, OFFICIAL_ALIAS)
DEFAULT_PARTS = ("pkgs/main", "pkgs/r", "pkgs/msys2")
# the community channels each layout's mirrors document (TUNA, BFSU, Aliyun; USTC)
COMMUNITY = {
    "full": ("conda-forge", "msys2", "bioconda", "menpo", "pytorch", "simpleitk"),
    "cloud": ("conda-forge", "bioconda"),
}
EXECUTABLES = ("conda", "mamba", "micromamba")
CLEAN_NOTE = N_("conda: run `conda clean -i` so conda forgets the channel index it cached from the old mirror")
_FILENAMES = (".condarc", "condarc")
_YAML_SUFFIXES = (".yml", ".yaml")
_TOKEN = re.compile(r"/t/[^/]+")


# -- where conda looks ------------------------------------------------------------

@dataclass(frozen=True)
class CondaFile:
    kind: str  # global, root, user, venv, CONDARC
    path: PurePath


def system_dirs(ctx: Context) -> list[PurePath]:
    """conda's system-wide folders (fixed paths in conda, not %PROGRAMDATA%), under --root."""
    if ctx.windows:
        return [ctx.system(ctx.path("C:\\ProgramData\\conda"))]
    return [ctx.system(ctx.path("/etc/conda")), ctx.system(ctx.path("/var/lib/conda"))]


def conda_root(ctx: Context) -> Optional[PurePath]:
    """The conda installation ($CONDA_ROOT; conda sets it to its own prefix, the shell hook
    exports CONDA_EXE, which lives in its bin/, Scripts\\ or condabin/ folder)."""
    if ctx.environ.get("CONDA_ROOT"):
        return ctx.path(ctx.environ["CONDA_ROOT"])
    if ctx.environ.get("CONDA_EXE"):
        return ctx.path(ctx.environ["CONDA_EXE"]).parent.parent
    return None


def env_prefix(ctx: Context) -> Optional[PurePath]:
    """The conda environment of the env scope: --venv, else the active one ($CONDA_PREFIX)."""
    if ctx.venv is not None:
        return ctx.venv
    value = ctx.environ.get("CONDA_PREFIX")
    return ctx.path(value) if value else None


def search_path(ctx: Context) -> list[CondaFile]:
    """Every place conda reads, lowest precedence first: each folder's .condarc, condarc and
    condarc.d/ (a folder entry: its *.yml and *.yaml files, by name); duplicates dropped."""
    locations: list[tuple[str, PurePath]] = [("global", d) for d in system_dirs(ctx)]
    root = conda_root(ctx)
    if root is not None:
        locations.append(("root", root))
    home = ctx.home
    if ctx.environ.get("XDG_CONFIG_HOME"):
        locations.append(("user", ctx.path(ctx.environ["XDG_CONFIG_HOME"]) / "conda"))
    locations += [("user", home / ".config" / "conda"), ("user", home / ".conda")]
    entries = [CondaFile(kind, folder / n) for kind, folder in locations for n in (*_FILENAMES, "condarc.d")]
    entries.append(CondaFile("user", home / ".condarc"))
    prefix = env_prefix(ctx)
    if prefix is not None:
        entries += [CondaFile("venv", prefix / n) for n in (*_FILENAMES, "condarc.d")]
    if ctx.environ.get("CONDARC"):
        entries.append(CondaFile("CONDARC", ctx.path(ctx.environ["CONDARC"])))
    unique: dict[str, CondaFile] = {}
    for entry in entries:  # conda reads a file once, at its first place
        unique.setdefault(str(entry.path), entry)
    return list(unique.values())


def config_path(ctx: Context, scope: Scope) -> Path:
    """The file ``use`` writes: ~/.condarc (where `conda config` writes), the first system file
    (read by every conda on the machine, wherever it is installed), or the environment's."""
    if scope == Scope.USER:
        return ctx.home / ".condarc"  # type: ignore[return-value]
    if scope == Scope.GLOBAL:
        return system_dirs(ctx)[0] / ".condarc"  # type: ignore[return-value]
    if scope == Scope.VENV:
        prefix = env_prefix(ctx)
        if prefix is None:
            raise UsageError(_("no conda environment to configure: CONDA_PREFIX is not set and --venv was not given"),
                             hint=_("activate it first (`conda activate NAME`), or pass --venv PATH"))
        if not Path(prefix).is_dir():
            raise UsageError(_("{prefix}: no such conda environment folder")
                             .format(prefix=prefix), hint=_("check --venv or $CONDA_PREFIX"))
        if not (Path(prefix) / "conda-meta").is_dir():
            raise UsageError(_("{prefix}: not a conda environment (it has no conda-meta folder)").format(prefix=prefix),
                             hint=_("pass the folder of an environment `conda create` made"))
        return prefix / ".condarc"  # type: ignore[return-value]
    raise UsageError(_("conda has no {value} scope")
                     .format(value=scope.value), hint=_("use --scope user, global or venv"))


def in_use(ctx: Context, scope: Scope) -> bool:
    """conda (or mamba, micromamba) on PATH, or a .condarc already there. At env scope: the
    environment is a conda one (so `--scope venv --venv .venv` on a plain virtualenv is pip's alone)."""
    if scope == Scope.VENV:
        prefix = env_prefix(ctx)
        return prefix is not None and ((Path(prefix) / "conda-meta").is_dir() or (Path(prefix) / ".condarc").is_file())
    if scope not in scopes:
        return False
    return on_path(ctx, *EXECUTABLES) or Path(config_path(ctx, scope)).is_file()


def environment(mirror: Mirror) -> dict[str, str]:
    """CONDA_DEFAULT_CHANNELS for a full mirror (conda reads any setting from CONDA_<NAME>, a list
    comma-separated). custom_channels is a mapping, which conda cannot take from the environment,
    so a cloud-only mirror has nothing to set."""
    if mirror.conda is None or mirror.conda.layout != "full":
        return {}
    return {"CONDA_DEFAULT_CHANNELS": ",".join(_defaults_of(mirror.conda))}


# -- reading a file ---------------------------------------------------------------

def read_document(data: bytes, path: PurePath) -> "YamlDocument":
    """The parsed file, its types checked as conda checks them; ConfigFileError if conda cannot use it."""
    from mirrorctl.formats.yaml import YamlDocument, decode

    doc = YamlDocument(decode(data, str(path)), str(path))
    values = doc.values()
    for key in (DEFAULT_CHANNELS, CHANNELS):
        if key in values and not _is_list_of_str(values[key]):
            raise ConfigFileError(_("{path}: {key} must be a list of channels").format(path=path, key=key),
                                  hint=_("fix the file by hand, then run again"))
    if CUSTOM_CHANNELS in values and not _is_map_of_str(values[CUSTOM_CHANNELS]):
        raise ConfigFileError(_("{path}: {custom_channels} must map channel names to URLs")
                              .format(path=path, custom_channels=CUSTOM_CHANNELS),
                              hint=_("fix the file by hand, then run again"))
    if CHANNEL_ALIAS in values and not isinstance(values[CHANNEL_ALIAS], str):
        raise ConfigFileError(_("{path}: {channel_alias} must be a URL")
                              .format(path=path, channel_alias=CHANNEL_ALIAS), hint=_("fix the file by hand, then run again"))
    return doc


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_map_of_str(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


# -- planning -----------------------------------------------------------------------

def _defaults_of(conda: CondaMirror) -> list[str]:
    return [f"{conda.url}/{part}" for part in DEFAULT_PARTS]


def _cloud_of(conda: CondaMirror) -> str:
    return f"{conda.url}/cloud"


def _key(url: str) -> str:
    """A comparison key that ignores the scheme (old guides wrote http://)."""
    return urls.canonical(url).split("://", 1)[-1]


def _under(url: str, base: str) -> bool:
    key, root = _key(url), _key(base)
    return key == root or key.startswith(root + "/")


@dataclass
class _Managed:
    """Recognises what mirrorctl manages: entries on a catalogue mirror's conda base or the official hosts."""

    bases: list[str]

    @classmethod
    def of(cls, ctx: Context, extra: Optional[CondaMirror] = None) -> "_Managed":
        catalog = load_catalog(ctx)
        bases = [m.conda.url for m in catalog.mirrors if m.conda] + ([extra.url] if extra else [])
        return cls(bases)

    def default_entry(self, url: str) -> bool:
        return any(_under(url, f"{b}/pkgs") for b in (*self.bases, *OFFICIAL_REPOS))

    def custom_entry(self, url: str) -> bool:
        return any(_key(url) == _key(f"{b}/cloud") for b in self.bases) or _key(url) == _key(OFFICIAL_ALIAS)


def _edit(doc: "YamlDocument", managed: _Managed, conda: Optional[CondaMirror]) -> "YamlDocument":
    """The document pointed at ``conda``; None removes what mirrorctl manages (and its own
    ``show_channel_urls`` line, the one with the marker comment, whatever else the file holds)."""
    values = doc.values()
    defaults = values.get(DEFAULT_CHANNELS, [])
    custom = values.get(CUSTOM_CHANNELS, {})
    new_defaults = _new_defaults(defaults, managed, conda)
    new_custom = _new_custom(custom, managed, conda)
    if conda is not None:
        if not _conda_true(values.get(SHOW_CHANNEL_URLS)):  # absent, false, null: a true value stays as written
            doc.set(SHOW_CHANNEL_URLS, True)
            doc = _mark_show_line(doc)
    elif is_mirrorctl_show_line(doc.key_line(SHOW_CHANNEL_URLS)):
        doc.remove(SHOW_CHANNEL_URLS)
    _set_or_remove(doc, DEFAULT_CHANNELS, new_defaults)
    _set_or_remove(doc, CUSTOM_CHANNELS, new_custom)
    return doc


def is_mirrorctl_show_line(line: Optional[str]) -> bool:
    """Whether the line of ``show_channel_urls`` is the one ``use`` wrote (trailing blanks aside)."""
    return line is not None and line.rstrip() == SHOW_LINE


def _mark_show_line(doc: "YamlDocument") -> "YamlDocument":
    """Put the marker comment on the ``show_channel_urls: true`` line ``use`` has just written
    (added, or a false value turned true in place); the document unchanged when the line is not
    that bare line (a flow mapping, a comment the user had on it: then it is not mirrorctl's).
    The marked text must read back as the same values with the marked line, or it is not used."""
    from mirrorctl.formats.yaml import YamlDocument

    if doc.key_line(SHOW_CHANNEL_URLS) != _SHOW_BARE:
        return doc
    lines = doc.text().split("\n")
    for number, line in enumerate(lines):
        if line.rstrip("\r") != _SHOW_BARE:
            continue
        marked = lines[:number] + [SHOW_LINE + line[len(_SHOW_BARE):]] + lines[number + 1:]
        try:
            new = YamlDocument("\n".join(marked), doc.path)
        except ConfigFileError:
            continue
        if new.values() == doc.values() and new.key_line(SHOW_CHANNEL_URLS) == SHOW_LINE:
            return new
    return doc


def _conda_true(value: Any) -> bool:
    """Whether conda reads a ``show_channel_urls`` value as true: conda types it with its own
    ``boolify`` (conda/auxlib/type_coercion.py), so besides YAML's true (true, True, TRUE), the
    strings yes, on, y, "true" (any case) and a non-zero number are true too. (conda loads
    .condarc as YAML 1.2, where ``yes`` and ``on`` are strings.) Null, false spellings and values
    conda rejects are not."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if not isinstance(value, str):
        return False
    text = value.strip().lower().replace(".", "", 1)
    if text.isnumeric():
        return float(text) != 0
    if text in ("true", "yes", "on", "y"):
        return True
    if text in ("none", "~", "null", "false", "off", "n", "no", "non", ""):
        return False
    try:
        return bool(complex(text))
    except ValueError:
        return False  # conda stops on it: `use` writes true over it


def _same_url(written: str, wanted: str) -> bool:
    """Whether an entry already in the file names the URL ``use`` would write, spelled otherwise:
    a trailing slash, the host's case, an explicit default port. (http:// is not https://.)"""
    return urls.canonical(written) == urls.canonical(wanted) and _userinfo(written) == _userinfo(wanted)


def _userinfo(url: str) -> str:
    netloc = url.split("://", 1)[-1].split("/", 1)[0]
    return netloc.rpartition("@")[0]


def _as_written(wanted: str, current: Sequence[str]) -> str:
    """``wanted`` as the file already spells it, if it does."""
    return next((u for u in current if _same_url(u, wanted)), wanted)


def _new_defaults(current: list[str], managed: _Managed, conda: Optional[CondaMirror]) -> list[str]:
    """A full mirror's three entries first (kept as the file spells them), then the user's own; a
    cloud mirror has none of its own."""
    ours = _defaults_of(conda) if conda is not None and conda.layout == "full" else []
    ours = [_as_written(u, current) for u in ours]
    return ours + [u for u in current if not managed.default_entry(u)]


def _new_custom(current: dict[str, str], managed: _Managed, conda: Optional[CondaMirror]) -> dict[str, str]:
    """The layout's community channels on the mirror (in place when listed, else added at the end);
    other managed entries dropped; the user's own kept. A value that already names the mirror's
    base, spelled otherwise, stays as written."""
    community = {c: _cloud_of(conda) for c in COMMUNITY[conda.layout]} if conda is not None else {}
    community = {k: _as_written(v, [current[k]] if k in current else []) for k, v in community.items()}
    out = {k: community.get(k, v) for k, v in current.items() if k in community or not managed.custom_entry(v)}
    out.update({k: v for k, v in community.items() if k not in out})
    return out


def _set_or_remove(doc: "YamlDocument", key: str, value: Any) -> None:
    if value:
        doc.set(key, value)
    else:
        doc.remove(key)


def _plan(ctx: Context, scope: Scope, conda: Optional[CondaMirror]) -> list[FileChange]:
    path = config_path(ctx, scope)
    before = read_bytes(path)
    if before is None and conda is None:
        return [FileChange(path, None, None, tool=NAME, scope=scope.value)]
    doc = read_document(before if before is not None else b"", path)
    doc = _edit(doc, _Managed.of(ctx, conda), conda)
    after: Optional[bytes] = doc.text().encode("utf-8")
    if conda is None and doc.is_blank() and after != before:
        after = None  # reset emptied it: conda reads no file the same as an empty one
    change = FileChange(path, before, after, tool=NAME, scope=scope.value)
    if change.changed:
        change.notes.append(_(CLEAN_NOTE))
    return [change]


def plan_use(ctx: Context, mirror: Mirror, scope: Scope) -> list[FileChange]:
    if mirror.conda is None:
        raise UnsupportedError(_("{name} has no conda mirror").format(name=mirror.name),
                               hint=_("`mirrorctl list` shows the mirrors with conda; leave conda out with --tool pip"))
    return _plan(ctx, scope, mirror.conda)


def plan_reset(ctx: Context, scope: Scope) -> list[FileChange]:
    return _plan(ctx, scope, None)


# -- status -----------------------------------------------------------------------

@dataclass
class _Source:
    """One file (or the environment) conda reads, with the channel settings it holds."""

    origin: Origin
    kind: str
    values: dict
    final: frozenset = frozenset()  # keys marked #!final


@dataclass
class _Entry:
    value: str
    origin: Origin


@dataclass
class _View:
    """conda's merged channel settings, each value with the source that set it."""

    defaults: list[_Entry]
    custom: dict[str, _Entry]
    alias: _Entry
    channels: list[_Entry]
    default_sources: list[_Source] = field(default_factory=list)


def _expand(path: PurePath, overlay: Optional[Overlay]) -> list[PurePath]:
    """The files a search-path entry stands for: itself if it is a condarc or YAML file, a folder's
    *.yml and *.yaml files by name; nothing if absent (as conda, which stats each entry)."""
    if overlay is not None and str(path) in overlay:
        return [path] if overlay[str(path)] is not None else []
    real = Path(path)
    try:
        if real.is_file():
            return [path] if real.name in _FILENAMES or real.suffix in _YAML_SUFFIXES else []
        if real.is_dir():
            found = [p for p in real.iterdir() if p.suffix in _YAML_SUFFIXES and p.is_file()]
            return sorted(found, key=lambda p: p.name)
    except OSError:
        pass
    return []


_STATUS_KEYS = (DEFAULT_CHANNELS, CUSTOM_CHANNELS, CHANNEL_ALIAS, CHANNELS, SHOW_CHANNEL_URLS)


def _read_sources(ctx: Context, overlay: Optional[Overlay]) -> tuple[list[_Source], list[FileInfo], list[str]]:
    sources: list[_Source] = []
    infos: list[FileInfo] = []
    errors: list[str] = []
    for entry in search_path(ctx):
        files = _expand(entry.path, overlay)
        if not files and entry.path.name == ".condarc":
            infos.append(FileInfo(path=str(entry.path), kind=entry.kind, exists=False))
        for path in files:
            info = FileInfo(path=str(path), kind=entry.kind, exists=True)
            infos.append(info)
            try:
                data = read_with_overlay(Path(path), overlay)
                doc = read_document(data or b"", path)
            except MirrorctlError as exc:
                info.error = exc.message
                errors.append(exc.message)
                continue
            values = {k: v for k, v in doc.values().items() if k in _STATUS_KEYS}
            final = frozenset(k for k in values if (doc.key_comment(k) or "").strip("!#") == "final")
            info.values = _flat(values)
            sources.append(_Source(Origin("file", str(path)), entry.kind, values, final))
    return sources + _env_sources(ctx), infos, errors


def _env_sources(ctx: Context) -> list[_Source]:
    """CONDA_DEFAULT_CHANNELS, CONDA_CHANNELS (comma lists) and CONDA_CHANNEL_ALIAS, which beat every
    file (``!important`` in the value stands for #!final)."""
    out = []
    for key in (DEFAULT_CHANNELS, CHANNELS, CHANNEL_ALIAS):
        variable = f"CONDA_{key.upper()}"
        raw = ctx.environ.get(variable)
        if raw is None:
            continue
        text, important, _rest = raw.partition("!important")
        value = text.strip() if key == CHANNEL_ALIAS else [v.strip() for v in text.split(",") if v.strip()]
        final = frozenset({key}) if important else frozenset()
        out.append(_Source(Origin("env", variable=variable), "env", {key: value}, final))
    return out


def _flat(values: dict) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": _shown(str(v)) for k, v in value.items()})
        elif isinstance(value, list):
            out[key] = " ".join(_shown(str(v)) for v in value)
        else:
            out[key] = _shown(str(value).lower() if isinstance(value, bool) else str(value))
    return out


def _relevant(sources: Sequence[_Source], key: str) -> list[_Source]:
    """The sources that set ``key``, up to and including the first that marks it #!final."""
    out = []
    for source in sources:
        if key in source.values:
            out.append(source)
            if key in source.final:
                break
    return out


def _merged_list(sources: Sequence[_Source], key: str) -> list[_Entry]:
    """conda's list merge: the later source's items first, each item once."""
    out: list[_Entry] = []
    seen: set[str] = set()
    for source in reversed(_relevant(sources, key)):
        for item in source.values[key]:
            if item not in seen:
                seen.add(item)
                out.append(_Entry(item, source.origin))
    return out


def _view(ctx: Context, sources: Sequence[_Source]) -> _View:
    defaults = _merged_list(sources, DEFAULT_CHANNELS)
    if not defaults:
        parts = DEFAULT_PARTS if ctx.windows else DEFAULT_PARTS[:2]
        defaults = [_Entry(f"{OFFICIAL_REPO}/{p}", Origin("default")) for p in parts]
    custom: dict[str, _Entry] = {}
    for source in _relevant(sources, CUSTOM_CHANNELS):
        custom.update({k: _Entry(v, source.origin) for k, v in source.values[CUSTOM_CHANNELS].items()})
    alias_sources = _relevant(sources, CHANNEL_ALIAS)
    alias = (_Entry(alias_sources[-1].values[CHANNEL_ALIAS], alias_sources[-1].origin) if alias_sources
             else _Entry(OFFICIAL_ALIAS, Origin("default")))
    channels = _merged_list(sources, CHANNELS) or [_Entry("defaults", Origin("default"))]
    return _View(defaults, custom, alias, channels, _relevant(sources, DEFAULT_CHANNELS))


def _resolve(view: _View, channel: _Entry) -> _Entry:
    """The URL conda uses for a ``channels`` entry, with the source that decides it ("" for local)."""
    name = channel.value
    if "://" in name:
        return channel
    if name == "defaults":
        return _Entry(_url_of(view, view.defaults[0].value), view.defaults[0].origin)
    if name == "local":  # conda-build's output folder
        return _Entry("", channel.origin)
    matches = [n for n in view.custom if name == n or name.startswith(n + "/")]
    if matches:
        best = view.custom[max(matches, key=len)]
        return _Entry(f"{best.value.rstrip('/')}/{name}", best.origin)
    return _Entry(f"{view.alias.value.rstrip('/')}/{name}", view.alias.origin)


def _url_of(view: _View, entry: str) -> str:
    """A default_channels entry: a URL, or a name that goes through channel_alias."""
    return entry if "://" in entry else f"{view.alias.value.rstrip('/')}/{entry}"


def _is_official(url: str) -> bool:
    return any(_under(url, base) for base in OFFICIAL_BASES)


def _match(catalog: Catalog, url: str) -> Optional[str]:
    """The catalogue mirror whose conda base holds ``url`` (official hosts: the catalogue's official entry)."""
    for mirror in catalog.mirrors:
        if mirror.conda is not None and _under(url, mirror.conda.url):
            return mirror.name
    if _is_official(url):
        official = catalog.get("official")
        return official.name if official else None
    return None


def _which_mirror(catalog: Catalog, view: _View, index_url: str, origin: Origin) -> tuple[Optional[str], Origin]:
    """The mirror `defaults` uses; when that is the official repo, the mirror the community
    channels use (a cloud-only mirror such as USTC), through custom_channels or channel_alias."""
    if not _is_official(index_url):
        return _match(catalog, index_url), origin
    for channel in COMMUNITY["full"]:
        entry = view.custom.get(channel)
        if entry is not None and not _is_official(entry.value):
            return _match(catalog, entry.value), entry.origin
    if not _is_official(view.alias.value):
        return _match(catalog, view.alias.value), view.alias.origin
    return _match(catalog, index_url), origin


def _shown(url: str) -> str:
    """A URL fit to show: password and conda token (``/t/<token>/``) masked."""
    return _TOKEN.sub("/t/****", urls.mask_url(url))


def _origin_dict(origin: Origin) -> dict:
    return asdict(origin)


def _details(view: _View) -> dict:
    channels = []
    for entry in view.channels:
        resolved = _resolve(view, entry)
        channels.append({"name": _shown(entry.value), "url": _shown(resolved.value) or None,
                         "origin": _origin_dict(resolved.origin)})
    return {
        "channels": channels,
        "default_channels": [{"url": _shown(_url_of(view, e.value)), "origin": _origin_dict(e.origin)}
                             for e in view.defaults],
        "custom_channels": {k: {"url": _shown(e.value), "origin": _origin_dict(e.origin)}
                            for k, e in view.custom.items()},
        "channel_alias": {"url": _shown(view.alias.value), "origin": _origin_dict(view.alias.origin)},
    }


def _warnings(catalog: Catalog, view: _View, mirror: Optional[str]) -> list[str]:
    out = []
    if not _is_official(view.alias.value):
        out.append(_("channel_alias is {value} ({describe}): every channel without a custom_channels entry "
                     "goes through it").format(value=_shown(view.alias.value), describe=view.alias.origin.describe()))
    if len(view.default_sources) > 1:
        places = " and ".join(s.origin.describe() for s in reversed(view.default_sources))
        out.append(_("default_channels is set in {places}: conda merges them, in that order").format(places=places))
    for entry in view.channels:
        other = _match(catalog, entry.value) if "://" in entry.value else None
        if other is not None and other != mirror:
            out.append(_("channels lists {value} ({describe}) directly: it stays on {other}, whatever the mirror")
                       .format(value=_shown(entry.value), describe=entry.origin.describe(), other=other))
    return out


def status(ctx: Context, catalog: Catalog, overlay: Optional[Overlay] = None) -> ToolStatus:
    sources, infos, errors = _read_sources(ctx, overlay)
    if errors:
        return ToolStatus(tool=NAME, index_url=None, mirror=None, origin=Origin("default"), files=infos,
                          error=errors[0],
                          warnings=[_("conda cannot use its configuration until this is fixed: {error}")
                                    .format(error=errors[0])])
    view = _view(ctx, sources)
    first = view.defaults[0]
    index_url = _url_of(view, first.value)
    mirror, origin = _which_mirror(catalog, view, index_url, first.origin)
    shadowed = [Setting(_shown(s.values[DEFAULT_CHANNELS][0]), s.origin, s.kind)
                for s in view.default_sources if s.origin != first.origin and s.values[DEFAULT_CHANNELS]]
    return ToolStatus(tool=NAME, index_url=_shown(index_url), mirror=mirror, origin=origin, shadowed=shadowed,
                      warnings=_warnings(catalog, view, mirror), files=infos, details=_details(view))
