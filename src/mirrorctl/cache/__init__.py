"""A local caching proxy of the package index, run on an existing engine (devpi-server).

``mirrorctl cache start`` sets it up under mirrorctl's state folder and runs it in the
background; ``use cache`` points every tool at it. The engine is an optional extra
(``pip install 'pymirrorctl[cache]'``); nothing here imports it.

For the rest of mirrorctl (no engine, no network unless said):

- :func:`resolve`: the URL of the running cache, or a clear error;
- :func:`running_mirror`: the same as a catalogue ``Mirror`` named ``cache`` (for ``use cache``);
- :func:`catalog_entry`: the cache as a ``Mirror`` once it was set up, running or not (for
  ``status``, so that it names the cache as the index in force);
- :func:`index_state`: whether a URL is the cache's, and whether the cache is up (for ``status``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from mirrorctl.cache.settings import CachePaths, read_settings
from mirrorctl.context import Context
from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

if TYPE_CHECKING:  # pragma: no cover
    from mirrorctl.catalog import Mirror

NAME = "cache"  # the name `use cache` and `status` know it by


def cache_dir(ctx: Context):
    """The cache's folder: ``cache`` in mirrorctl's state folder."""
    return CachePaths.of(ctx).root


def resolve(ctx: Context) -> str:
    """The index URL of the running cache; a UsageError when it is not set up or not up."""
    from mirrorctl.cache import api

    settings = read_settings(CachePaths.of(ctx))
    if settings is None:
        raise UsageError(_("there is no local cache yet"), hint=_("start one: mirrorctl cache start [MIRROR...]"))
    if not api.engine_up(settings):
        raise UsageError(_("the local cache at {url} is not running").format(url=settings.index_url),
                         hint=_("start it: mirrorctl cache start"))
    return settings.index_url


def _mirror(url: str) -> "Mirror":
    from mirrorctl.catalog import ADHOC, Mirror

    return Mirror(name=NAME, url=url, title=_("the local cache (mirrorctl cache)"), source=ADHOC)


def running_mirror(ctx: Context) -> "Mirror":
    """The running cache as a mirror for ``use``; a UsageError when it is not running."""
    return _mirror(resolve(ctx))


def catalog_entry(ctx: Context) -> "Optional[Mirror]":
    """The cache as a mirror once it was set up (no network: running or not)."""
    try:
        settings = read_settings(CachePaths.of(ctx))
    except Exception:  # a broken settings file is `cache status`'s to report, not status's
        return None
    return _mirror(settings.index_url) if settings is not None else None


def index_state(ctx: Context, url: Optional[str]) -> Optional[dict]:
    """``{"name": "cache", "url": ..., "up": bool}`` when ``url`` is the cache's index, else None."""
    from mirrorctl import urls

    entry = catalog_entry(ctx)
    if entry is None or not url or not urls.same_index(entry.url, url):
        return None
    from mirrorctl.cache import api

    settings = read_settings(CachePaths.of(ctx))
    return {"name": NAME, "url": entry.url, "up": api.engine_up(settings, timeout=1.0)}


def status_warning(ctx: Context, url: Optional[str]) -> Optional[str]:
    """A line for ``status`` when a tool uses the cache and the cache is down."""
    state = index_state(ctx, url)
    if state is None or state["up"]:
        return None
    return _("the local cache ({url}) is not running: tools pointed at it cannot install; "
             "`mirrorctl cache start`, or `mirrorctl undo`").format(url=state["url"])


__all__ = ["NAME", "cache_dir", "catalog_entry", "index_state", "resolve", "running_mirror", "status_warning"]
