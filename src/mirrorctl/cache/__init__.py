"""A local caching proxy of the package index, run on an existing engine (devpi-server).

``mirrorctl cache start`` sets it up under mirrorctl's state folder and runs it in the
background; ``use cache`` points every tool at it. The engine is an optional extra
(``pip install 'pymirrorctl[cache]'``); nothing here imports it.

For the rest of mirrorctl (no engine, no network unless said):

- :func:`resolve`: the URL of the running cache, or a clear error;
- :func:`running_mirror`: the same as a catalogue ``Mirror`` named ``cache`` (for ``use cache``);
- :func:`catalog_entry`: the cache as a ``Mirror`` once it was set up, running or not (a
  catalogue entry, for `list` or `bench` should they show it);
- :func:`index_state`: whether a URL is the cache's, and whether the cache is up;
- :func:`mark_tools`: ``status``'s tools pointed at the cache named ``cache``, and a warning when
  it is down (see its docstring for the two-line hook).
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
    from mirrorctl.catalog import Mirror

    # its own source: it is known to be running (resolve checked), so `use` does not verify it as a stranger's URL
    return Mirror(name=NAME, url=url, title=_("the local cache (mirrorctl cache)"), source=NAME)


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
    """``{"name": "cache", "url": ..., "up": bool}`` when ``url`` is the cache's index, else None.

    Cheap enough for `status`'s fast path: a file read, then (only for the cache's URL) one TCP
    connection on this machine; no HTTP library is imported."""
    from mirrorctl import urls

    try:
        settings = read_settings(CachePaths.of(ctx))
    except Exception:  # a broken settings file is `cache status`'s to report, not status's
        return None
    if settings is None or not url or not urls.same_index(settings.index_url, url):
        return None
    return {"name": NAME, "url": settings.index_url, "up": _listening(settings.client_host, settings.port)}


def _listening(host: str, port: int) -> bool:
    import socket

    try:
        with socket.create_connection((host.strip("[]"), port), timeout=0.5):
            return True
    except OSError:
        return False


def status_warning(ctx: Context, url: Optional[str]) -> Optional[str]:
    """A line for ``status`` when a tool uses the cache and the cache is down."""
    state = index_state(ctx, url)
    if state is None or state["up"]:
        return None
    return _("the local cache ({url}) is not running: tools pointed at it cannot install; "
             "`mirrorctl cache start`, or `mirrorctl undo`").format(url=state["url"])


def mark_tools(ctx: Context, tools) -> list:
    """For ``status``: each tool whose index is the cache gets ``mirror = "cache"``; the warnings
    to show (one, when the cache is down). A hook of two lines in ``ops.status``, before the
    tools are compared::

        from mirrorctl.cache import mark_tools
        report.warnings.extend(mark_tools(ctx, report.tools))
    """
    warnings: list = []
    for tool in tools:
        if getattr(tool, "error", None) or not getattr(tool, "index_url", None):
            continue
        state = index_state(ctx, tool.index_url)
        if state is None:
            continue
        tool.mirror = NAME
        if not state["up"]:
            line = status_warning(ctx, tool.index_url)
            if line and line not in warnings:
                warnings.append(line)
    return warnings


__all__ = ["NAME", "cache_dir", "catalog_entry", "index_state", "mark_tools", "resolve", "running_mirror",
           "status_warning"]
