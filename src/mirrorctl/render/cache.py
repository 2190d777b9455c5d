"""`mirrorctl cache ...` for people (a progress line while the engine starts, short reports) and
programs (JSON)."""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, Callable, Iterator, List

from mirrorctl import render
from mirrorctl.i18n import _, ngettext
from mirrorctl.render.text import shown
from mirrorctl.urls import mask_url

if TYPE_CHECKING:  # pragma: no cover
    from mirrorctl.cache.control import StartResult, StopResult
    from mirrorctl.cache.report import CacheStatus


@contextlib.contextmanager
def progress(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A step callback: on a terminal, a spinner on stderr showing the current step; else silent."""
    if not enabled or not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        yield lambda message: None
        return
    status = render.console(stderr=True).status("")
    status.start()
    try:
        yield lambda message: status.update(shown(message) + " ...")
    finally:
        status.stop()


def size_text(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def _upstream_list(result: "StartResult") -> str:
    return ", ".join(f"{u.name} ({mask_url(u.url)})" for u in result.settings.upstreams)


def render_start(result: "StartResult", as_json: bool) -> None:
    for warning in result.warnings:
        render.warn(warning)
    if as_json:
        render.print_json(_masked(result.to_dict()))
        return
    settings = result.settings
    if result.already_running:
        render.write(_("the cache is running (pid {pid}) on {url}").format(pid=result.pid, url=settings.index_url))
    else:
        render.write(_("the cache started (pid {pid}) on {url}").format(pid=result.pid, url=settings.index_url))
    render.write(_("upstream: {upstreams}").format(upstreams=_upstream_list(result)))
    if result.initialised:
        render.write(_("its data: {folder}").format(folder=result.paths.server))
    render.write(_("point every tool at it: mirrorctl use cache   (mirrorctl undo takes that back)"))


def render_stop(result: "StopResult", as_json: bool) -> None:
    for warning in result.warnings:
        render.warn(warning)
    if as_json:
        render.print_json(_masked(result.to_dict()))
        return
    if result.pid is None:
        render.write(_("the cache was not running"))
    else:
        render.write(_("the cache stopped (pid {pid}); what it holds stays in {folder}").format(
            pid=result.pid, folder=result.paths.server))


def render_status(report: "CacheStatus", as_json: bool) -> None:
    if as_json:
        render.print_json(_masked(report.to_dict()))
        return
    for warning in report.warnings:
        render.warn(warning)
    settings = report.settings
    if settings is None:
        render.write(_("no local cache yet: mirrorctl cache start [MIRROR...]"))
        return
    if report.up:
        state = _("up") + (f" (pid {report.pid})" if report.pid else _(" (started outside mirrorctl)"))
    else:
        state = _("stopped")
    lines: List[List[str]] = [
        [_("cache"), state],
        [_("url"), settings.index_url],
        [_("listens on"), f"{settings.host}:{settings.port}"],
        [_("uploads"), _("on (admin only)") if settings.uploads else _("off")],
        [_("holds"), ngettext("{files} file, {size}", "{files} files, {size}", report.files).format(
            files=report.files, size=size_text(report.size))],
    ]
    if report.hits is not None:
        lines.append([_("served"), _("{hits} from the cache, {fetched} fetched upstream").format(
            hits=report.hits, fetched=report.fetched)])
    lines.append([_("data"), str(report.paths.server)])
    lines.append([_("log"), str(report.paths.log)])
    render.write(render.table([_("what"), _("value")], lines))
    render.write("")
    rows = []
    for upstream in report.upstreams:
        health = upstream.health
        if health is None:
            answer = _("not checked")
        elif health.up:
            answer = _("up, {ms:.0f} ms").format(ms=(health.seconds or 0) * 1000)
        else:
            answer = _("down: {reason}").format(reason=health.error or "")
        rows.append([upstream.name, mask_url(upstream.url), answer, _("yes") if upstream.in_use else _("no")])
    render.write(render.table([_("upstream"), _("url"), _("answers"), _("in use")], rows))


def render_service(text: str) -> None:
    render.out(text)


def _masked(data):
    """The JSON document with every password in a URL masked (an upstream may carry its login)."""
    from mirrorctl.urls import mask_url

    if isinstance(data, str):
        return mask_url(data)
    if isinstance(data, dict):
        return {key: _masked(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_masked(value) for value in data]
    return data
