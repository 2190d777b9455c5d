"""A team's catalogue: a shared mirrors.toml between the built-in catalogue and the user's own.

``MIRRORCTL_CATALOGUE`` (or the global ``--catalogue`` option, which sets it) names it:

* a path: a file in the company repository, read on every run;
* an ``https://`` URL: fetched with TLS verified, no redirects followed, a short timeout
  and a size cap, then kept in mirrorctl's state folder so that a machine off the network
  (or a mirror switch in a Dockerfile with no route yet) still has it. A copy younger than
  :data:`FRESH_SECONDS` is used without asking the network; an older one is refreshed, and
  used as it is when the refresh fails (with a note saying so). Shell completion never
  waits on the network: it reads the kept copy only.

A team catalogue *adds* mirrors. It may not take over a built-in name or alias (one
compromised URL would otherwise redirect ``use tuna`` on every machine), unless the
user's own mirrors.toml says ``team_may_shadow = true``; entries refused for that reason
are named in a note. The user's own entries beat the team's.

A team catalogue that cannot be had (missing file, fetch failed with no kept copy,
invalid TOML) never stops a command: its entries are left out and a note says why.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from mirrorctl.catalog import TEAM, TEAM_ENV
from mirrorctl.i18n import _

ENV = TEAM_ENV
FRESH_SECONDS = 3600.0  # a team list changes rarely; an hour keeps every command off the network
TIMEOUT_SECONDS = 5.0
MAX_BYTES = 1 << 20  # a catalogue of a few hundred mirrors is ~100 KB

class FetchError(Exception):
    """The team catalogue could not be fetched (only ever turned into a note). The message
    starts with the URL; the note around it says it is the team catalogue."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


_memo: Dict[Tuple[str, str, bool], "TeamCatalogue"] = {}


@dataclass
class TeamCatalogue:
    source: str = ""  # the path or URL (credentials masked when shown)
    mirrors: list = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    failed: bool = False  # its entries could not be had at all


def configured(environ) -> Optional[str]:
    value = (environ.get(ENV) or "").strip()
    return value or None


def load(ctx, *, builtin: list, user: list, user_allows_shadow: bool, network: bool = True) -> TeamCatalogue:
    """The team catalogue named by the context's environment, vetted against ``builtin``."""
    source = configured(ctx.environ)
    if source is None:
        return TeamCatalogue()
    if _is_url(source):  # fetched at most once a run (the catalogue is loaded several times)
        key = (source, str(_cache_path(ctx, source)), network)
        if key not in _memo:
            _memo[key] = _load(ctx, source, network=network)
        team = _memo[key]
    else:
        team = _load(ctx, source, network=network)
    out = TeamCatalogue(source=masked(source), notes=list(team.notes), failed=team.failed)
    from mirrorctl import urls
    from mirrorctl.catalog import RESERVED_NAMES

    taken = {n for m in builtin for n in m.names()}
    mine = {n for m in user for n in m.names()}
    refused = []
    for mirror in team.mirrors:
        reserved = [n for n in mirror.names() if n in RESERVED_NAMES]
        if reserved:  # `use fastest`, `use cache`, the label of a URL given: never a team's entry
            refused.append(_("{name} ({names}: reserved)").format(name=mirror.name, names=", ".join(reserved)))
            continue
        clash = [n for n in mirror.names() if n in taken]
        # a built-in's URL under another name would take it over too: `use URL`, status, list match by URL
        # first, and the team's conda channels or uv_python would come with it
        same = next((b.name for b in builtin if urls.same_index(b.url, mirror.url)), None)
        if (clash or same) and not user_allows_shadow:
            refused.append(f"{mirror.name} ({', '.join(clash)})" if clash else
                           _("{name} (the URL of {builtin})").format(name=mirror.name, builtin=same))
            continue
        if mirror.name in mine:
            continue  # the user's own entry of that name wins
        out.mirrors.append(mirror)
    if refused:
        out.notes.append(_("team catalogue {source}: left out {entries}: a team entry may not take over a "
                           "built-in name unless your mirrors.toml says team_may_shadow = true")
                         .format(source=out.source, entries="; ".join(refused)))
    return out


def masked(source: str) -> str:
    """The catalogue's path or URL as shown: a password masked, and every query value too (raw-file
    URLs of GitLab and GitHub carry their token there: ``?private_token=...``)."""
    from mirrorctl.urls import mask_url

    base, sep, query = source.partition("?")
    if not sep:
        return mask_url(source)
    names = [part.split("=", 1)[0] for part in query.split("&") if part]
    return mask_url(base) + "?" + "&".join(f"{name}=****" for name in names)


def _is_url(source: str) -> bool:
    return "://" in source


def _load(ctx, source: str, *, network: bool) -> TeamCatalogue:
    from mirrorctl.catalog import parse_catalog
    from mirrorctl.errors import MirrorctlError

    shown = masked(source)
    team = TeamCatalogue(source=shown)
    try:
        if _is_url(source):
            text, note = _from_url(ctx, source, network=network)
            if note:
                team.notes.append(note)
            if text is None:
                team.failed = True
                return team
            origin = shown  # the note says "team catalogue left out: URL: ..."
        else:
            text = _from_path(ctx, source)
            origin = source
        team.mirrors = parse_catalog(text, source=TEAM, origin=origin)
    except MirrorctlError as exc:
        team.failed = True
        team.notes.append(_("team catalogue left out: {message}").format(message=exc.message))
    return team


def _from_path(ctx, source: str) -> str:
    from mirrorctl.catalog import read_user_catalog_text
    from mirrorctl.errors import ConfigFileError

    path = Path(os.path.expanduser(source))
    if not path.is_absolute():
        path = Path(str(ctx.cwd)) / path
    text = read_user_catalog_text(path)
    if text is None:
        raise ConfigFileError(_("{path}: no such file").format(path=path),
                              hint=_("check {variable} or --catalogue").format(variable=ENV))
    return text


def _cache_path(ctx, url: str) -> Path:
    from mirrorctl.context import mirrorctl_state_dir

    digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return mirrorctl_state_dir(ctx) / "team-catalogue" / f"{digest}.toml"


def _from_url(ctx, url: str, *, network: bool) -> Tuple[Optional[str], Optional[str]]:
    """(text, note): the fetched or kept text; a note when the kept copy stands in."""
    from mirrorctl.errors import MirrorctlError

    shown = masked(url)
    cached = _cache_path(ctx, url)
    kept = _read_kept(cached)
    if kept is not None and (not network or time.time() - kept[1] < FRESH_SECONDS):
        return kept[0], None
    if not network:
        return None, _("team catalogue {source}: not fetched yet (run any mirrorctl command once)").format(source=shown)
    try:
        text = fetch(url, environ=ctx.environ)
        from mirrorctl.catalog import parse_catalog

        parse_catalog(text, source=TEAM, origin=shown)  # never keep a copy that does not parse
    except (FetchError, MirrorctlError) as exc:
        if kept is not None:
            age = _age(time.time() - kept[1])
            return kept[0], _("team catalogue {message}; using the copy fetched {age} ago").format(
                message=exc.message, age=age)
        return None, _("team catalogue left out: {message}").format(message=exc.message)
    _keep(cached, text)
    return text, None


def _age(seconds: float) -> str:
    if seconds < 5400:
        return _("{n} min").format(n=max(1, round(seconds / 60)))
    if seconds < 2 * 86400:
        return _("{n} h").format(n=round(seconds / 3600))
    return _("{n} days").format(n=round(seconds / 86400))


def _read_kept(path: Path) -> Optional[Tuple[str, float]]:
    from mirrorctl.changes import read_config_file
    from mirrorctl.errors import MirrorctlError

    try:
        data = read_config_file(path)
        if data is None:
            return None
        return data.decode("utf-8"), path.stat().st_mtime
    except (MirrorctlError, OSError, UnicodeDecodeError):
        return None


def _keep(path: Path, text: str) -> None:
    """Best effort: a copy for offline use, owner-only (team lists may hold tokens in URLs)."""
    from mirrorctl import fsio

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = path.with_name(f".{path.name}.{os.getpid()}.mirrorctl-tmp")
        fsio.write_file(temp, text.encode("utf-8"), 0o600)
        os.replace(temp, path)
    except OSError:
        pass


def fetch(url: str, *, environ) -> str:
    """The catalogue's text from an https URL, under the one HTTP policy (netpolicy: TLS verified,
    SSL_CERT_FILE honoured), no redirect followed (not even one netpolicy allows: a team list
    moved is for its owners to say), :data:`TIMEOUT_SECONDS`, at most :data:`MAX_BYTES`, the
    proxy the environment names."""
    import httpx

    from mirrorctl import netpolicy, proxy
    from mirrorctl.urls import mask_url

    shown = masked(url)
    if not url.lower().startswith("https://"):
        raise FetchError(_("{source}: only https:// URLs are fetched").format(source=shown),
                           hint=_("serve it over https, or give a path to a checked-out copy"))
    import time

    deadline = time.monotonic() + TIMEOUT_SECONDS  # the whole answer: a server sending a byte at a time too
    try:
        with netpolicy.client(plan=proxy.plan(environ=environ), timeout=TIMEOUT_SECONDS,
                              headers={"Accept": "application/toml, text/plain"}) as client:
            with client.stream("GET", url) as response:
                if response.status_code != 200:
                    where = response.headers.get("location")
                    extra = _(" (redirect to {target} not followed)").format(target=mask_url(where)) if where else ""
                    raise FetchError(_("{source}: HTTP {status}{extra}").format(
                        source=shown, status=response.status_code, extra=extra),
                        hint=_("check the URL in {variable} or --catalogue").format(variable=ENV))
                body = netpolicy.read_body(response, max_bytes=MAX_BYTES, deadline=deadline)
    except netpolicy.TooLarge:
        raise FetchError(_("{source}: larger than {limit} KB").format(source=shown, limit=MAX_BYTES // 1024),
                         hint=_("is the URL the catalogue file?")) from None
    except netpolicy.TooSlow:
        raise FetchError(_("{source}: no whole answer within {s:g} s").format(source=shown, s=TIMEOUT_SECONDS),
                         hint=_("check your network or proxy; the kept copy is used when there is one")) from None
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(_("{source}: not a URL that can be fetched ({reason})").format(source=shown, reason=exc),
                         hint=_("check the URL in {variable} or --catalogue").format(variable=ENV)) from None
    except httpx.HTTPError as exc:
        raise FetchError("{source}: {reason}".format(
            source=shown, reason=netpolicy.describe_error(exc, host=netpolicy.url_host(url))),
            hint=_("check your network or proxy; the kept copy is used when there is one")) from None
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FetchError(_("{source}: not UTF-8 text").format(source=shown),
                           hint=_("is the URL the catalogue file?")) from None
