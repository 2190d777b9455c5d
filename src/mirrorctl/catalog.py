"""The mirror catalogue: the packaged mirrors.toml plus the user's own mirrors."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Optional

from mirrorctl import urls
from mirrorctl.context import Context, mirrorctl_config_dir
from mirrorctl.errors import ConfigFileError, UsageError
from mirrorctl.i18n import _

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on older Pythons only
    import tomli as tomllib

BUILTIN = "builtin"
USER = "user"
TEAM = "team"  # a team's catalogue (team.py)
TEAM_ENV = "MIRRORCTL_CATALOGUE"  # names it (the global --catalogue sets it)
ADHOC = "url"  # a URL given on the command line

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
RESERVED_NAMES = frozenset({"fastest", "custom", "cache"})  # cache: `mirrorctl cache start`
CONDA_LAYOUTS = ("full", "cloud")


@dataclass(frozen=True)
class CondaMirror:
    url: str
    layout: str = "full"  # "full": defaults + cloud channels; "cloud": community channels only


@dataclass(frozen=True)
class Mirror:
    name: str
    url: str
    title: str = ""
    aliases: tuple[str, ...] = ()
    homepage: str = ""
    notes: str = ""
    conda: Optional[CondaMirror] = None
    unreliable: bool = False
    source: str = BUILTIN
    uv_python: str = ""  # where it publishes the python-build-standalone releases (uv's python-install-mirror)

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class Catalog:
    mirrors: list[Mirror] = field(default_factory=list)  # user mirrors first, then the team's, then builtin ones
    user_file: Optional[Path] = None
    team_source: str = ""  # the team catalogue's path or URL (masked), when one is configured
    notes: list[str] = field(default_factory=list)  # about the team catalogue: left-out entries, a stale copy

    def get(self, name: str) -> Optional[Mirror]:
        key = name.strip().lower()
        visible = self.visible()
        for mirror in visible:  # a name beats an alias
            if mirror.name == key:
                return mirror
        for mirror in visible:
            if key in mirror.aliases:
                return mirror
        return None

    def resolve(self, spec: str) -> Mirror:
        """A mirror from a catalogue name, an alias, or a URL (validated)."""
        if urls.looks_like_url(spec):
            url = urls.validate_index_url(spec)
            known = self.match_url(url)
            if known is not None and known.url == url:
                return known
            name = known.name if known is not None else "custom"
            return Mirror(name=name, url=url, title="URL given on the command line", source=ADHOC,
                          conda=known.conda if known else None, uv_python=known.uv_python if known else "")
        mirror = self.get(spec)
        if mirror is None:
            error = unknown_mirror(spec, self.all_names())
            if self.notes:  # the team catalogue may have been meant to have it
                error.hint = f"{error.hint}; {self.notes[-1]}"
            raise error
        return mirror

    def match_url(self, url: Optional[str]) -> Optional[Mirror]:
        """The catalogue mirror of this index (compared as pip would: see ``urls.same_index``).
        A built-in mirror that one of yours replaces is not matched: its name is yours now."""
        if not url:
            return None
        for mirror in self.visible():
            if urls.same_index(mirror.url, url):
                return mirror
        return None

    def on_same_host(self, url: str) -> list[Mirror]:
        """The catalogue mirrors served from the host (and port) of ``url``, whatever their path."""
        key = urls.host_key(url)
        return [m for m in self.visible() if key and urls.host_key(m.url) == key]

    def correction(self, url: str) -> Optional[Mirror]:
        """The catalogue mirror ``url`` is a truncated form of: the same host, and a path that is
        a leading part of the mirror's (``https://pypi.tuna.tsinghua.edu.cn`` for TUNA's
        ``.../simple``). None when there is none, or when ``url`` is a catalogue index itself."""
        if self.match_url(url) is not None:
            return None
        path = urls.path_segments(url)
        for mirror in self.on_same_host(url):
            full = urls.path_segments(mirror.url)
            if len(path) < len(full) and full[:len(path)] == path:
                return mirror
        return None

    def all_names(self) -> list[str]:
        out: list[str] = []
        for mirror in self.visible():
            out.extend(mirror.names())
        return out

    def shadowed(self) -> list[tuple[Mirror, Mirror]]:
        """(your mirror, the built-in one it replaces) for each built-in name you reused."""
        user = {m.name: m for m in self.mirrors if m.source != BUILTIN}
        return [(user[m.name], m) for m in self.mirrors if m.source == BUILTIN and m.name in user]

    def visible(self) -> list[Mirror]:
        """Each name once. A user mirror with a built-in mirror's name replaces it, and takes over
        its aliases too (`add tuna URL`, then `use tsinghua`, is your tuna); a user mirror named
        like a built-in alias (allowed by older versions) takes that alias from it."""
        user = [m for m in self.mirrors if m.source != BUILTIN]
        builtin = [m for m in self.mirrors if m.source == BUILTIN]
        user_names = {m.name for m in user}
        by_name = {m.name: m for m in builtin}
        seen: set[str] = set()
        out = []
        for mirror in user:
            if mirror.name in seen:
                continue
            seen.add(mirror.name)
            replaced = by_name.get(mirror.name)
            if replaced is not None:
                taken = tuple(a for a in replaced.aliases if a not in mirror.aliases and a not in user_names)
                mirror = replace(mirror, aliases=mirror.aliases + taken)
            out.append(mirror)
        for mirror in builtin:
            if mirror.name in seen:
                continue
            seen.add(mirror.name)
            if any(a in user_names for a in mirror.aliases):
                mirror = replace(mirror, aliases=tuple(a for a in mirror.aliases if a not in user_names))
            out.append(mirror)
        return out

    def builtin_alias_owner(self, name: str) -> Optional[Mirror]:
        """The built-in mirror that has ``name`` as an alias (not as its name), if any."""
        key = name.strip().lower()
        return next((m for m in self.mirrors if m.source == BUILTIN and key in m.aliases), None)


def unknown_mirror(spec: str, names: Iterable[str]) -> UsageError:
    import difflib

    close = difflib.get_close_matches(spec.lower(), list(names), n=3, cutoff=0.6)
    hint = (_("did you mean {names}?").format(names=_(" or ").join(close)) if close
            else _("see `mirrorctl list`, or give a URL"))
    return UsageError(_("unknown mirror {spec!r}").format(spec=spec), hint=hint)


def builtin_catalog_text() -> str:
    # the wheel puts mirrors.toml beside this module; a source checkout has it at the top
    # (a plain path, not importlib.resources: this is on the start-up path of `status`)
    here = Path(__file__).resolve().parent
    for candidate in (here / "mirrors.toml", here.parents[1] / "mirrors.toml"):
        try:
            return candidate.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            continue
    # inside a zip (mirrorctl.pyz) the file is a member beside this module: ask the loader
    get_data = getattr(globals().get("__loader__"), "get_data", None)
    if get_data is not None:
        try:
            return get_data(str(Path(__file__).parent / "mirrors.toml")).decode("utf-8")
        except OSError:
            pass
    raise ConfigFileError(_("{path}: the packaged catalogue is missing").format(path=here / "mirrors.toml"),
                          hint=_("reinstall mirrorctl"))


def parse_catalog(text: str, *, source: str, origin: str) -> list[Mirror]:
    """Mirrors from catalogue TOML text; ``origin`` names the file in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(
            _("{path}: not valid TOML ({error})").format(path=origin, error=exc),
            hint=_("fix the file by hand, or move it aside and add your mirrors again"),
        ) from None
    except RecursionError:  # arrays or inline tables nested without end
        raise ConfigFileError(_("{path}: not valid TOML (values nested too deeply)").format(path=origin),
                              hint=_("fix the file by hand, or move it aside and add your mirrors again")) from None
    entries = data.get("mirror", [])
    if not isinstance(entries, list):
        raise ConfigFileError(_("{path}: 'mirror' must be an array of tables ([[mirror]])").format(path=origin),
                              hint=_("see docs/catalogue.md"))
    mirrors = []
    for index, entry in enumerate(entries, 1):
        mirrors.append(_mirror_from_entry(entry, source=source, where=_("{path}: mirror #{index}").format(path=origin, index=index)))
    return mirrors


def _mirror_from_entry(entry: object, *, source: str, where: str) -> Mirror:
    hint = _("each [[mirror]] needs name = \"...\" and url = \"https://...\"")
    if not isinstance(entry, dict):
        raise ConfigFileError(_("{where}: not a table").format(where=where), hint=hint)
    name, url = entry.get("name"), entry.get("url")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigFileError(_("{where}: bad or missing name {name!r}").format(where=where, name=name), hint=hint)
    if not isinstance(url, str):
        raise ConfigFileError(_("{where} ({name}): missing url").format(where=where, name=name), hint=hint)
    try:
        url = urls.validate_index_url(url)
    except UsageError as exc:
        raise ConfigFileError(f"{where} ({name}): {exc.message}", hint=exc.hint) from None
    conda = None
    raw_conda = entry.get("conda")
    if raw_conda is not None:
        if isinstance(raw_conda, str):
            raw_conda = {"url": raw_conda}
        if not isinstance(raw_conda, dict) or not isinstance(raw_conda.get("url"), str):
            raise ConfigFileError(_("{where} ({name}): conda must be a table with a url").format(where=where, name=name),
                                  hint=hint)
        layout = raw_conda.get("layout", "full")
        if layout not in CONDA_LAYOUTS:
            raise ConfigFileError(_("{where} ({name}): conda layout must be one of {layouts}").format(
                where=where, name=name, layouts=", ".join(CONDA_LAYOUTS)), hint=hint)
        try:
            conda_url = urls.validate_index_url(raw_conda["url"], what="conda URL").rstrip("/")
        except UsageError as exc:
            raise ConfigFileError(f"{where} ({name}): {exc.message}", hint=exc.hint) from None
        conda = CondaMirror(url=conda_url, layout=layout)
    uv_python = entry.get("uv_python", "")
    if not isinstance(uv_python, str):
        raise ConfigFileError(_("{where} ({name}): uv_python must be a URL string").format(where=where, name=name),
                              hint=hint)
    if uv_python:
        try:
            uv_python = urls.validate_index_url(uv_python, what="uv_python URL")
        except UsageError as exc:
            raise ConfigFileError(f"{where} ({name}): {exc.message}", hint=exc.hint) from None
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConfigFileError(_("{where} ({name}): aliases must be a list of names").format(where=where, name=name),
                              hint=hint)

    def text(key: str) -> str:
        value = entry.get(key, "")
        return value if isinstance(value, str) else str(value)

    return Mirror(
        name=name,
        url=url,
        title=text("title") or name,
        aliases=tuple(a.lower() for a in aliases),
        homepage=text("homepage"),
        notes=text("notes"),
        conda=conda,
        unreliable=bool(entry.get("unreliable", False)),
        source=source,
        uv_python=uv_python,
    )


def user_catalog_path(ctx: Context) -> Path:
    return mirrorctl_config_dir(ctx) / "mirrors.toml"


def read_user_catalog_text(path: Path) -> Optional[str]:
    """The user catalogue's text, or None when there is none. Only a regular file is read (a
    FIFO, a device or a folder there is a ConfigFileError naming it), and at most
    ``changes.MAX_CONFIG_BYTES`` of it."""
    from mirrorctl.changes import read_config_file

    data = read_config_file(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(_("{path}: not valid UTF-8 (byte {byte})").format(path=path, byte=exc.start),
                              hint=_("save it as UTF-8")) from None


def load_catalog(ctx: Context, *, network: bool = True) -> Catalog:
    """Built-in, then the team's (``MIRRORCTL_CATALOGUE``, see team.py), then the user's own.
    ``network=False`` (shell completion): a team catalogue URL is read from the kept copy only."""
    builtin = parse_catalog(builtin_catalog_text(), source=BUILTIN, origin="packaged mirrors.toml")
    path = user_catalog_path(ctx)
    text = read_user_catalog_text(path)
    user = parse_catalog(text, source=USER, origin=str(path)) if text is not None else []
    catalog = Catalog(mirrors=user + builtin, user_file=path)
    if (ctx.environ.get(TEAM_ENV) or "").strip():  # team.py imported only then
        from mirrorctl import team

        allows = text is not None and tomllib.loads(text).get("team_may_shadow") is True
        found = team.load(ctx, builtin=builtin, user=user, user_allows_shadow=allows, network=network)
        catalog.mirrors = user + found.mirrors + builtin
        catalog.team_source, catalog.notes = found.source, found.notes
    return catalog
