"""Why a probe failed, in words a person understands."""

from __future__ import annotations

from typing import Optional

from mirrorctl.bench.listing import MAX_PAGE_BYTES
from mirrorctl.i18n import _


class ProbeFailed(Exception):
    """A probe failure whose message is already fit for a person (``status``: the HTTP status seen)."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status


def seconds(value: float) -> str:
    """3 -> '3.0 s', 0.25 -> '0.25 s'."""
    text = f"{value:.1f}" if abs(value * 10 - round(value * 10)) < 1e-9 else f"{value:g}"
    return f"{text} s"


def too_large() -> str:
    return _("page larger than {size} MB: not a project page").format(size=MAX_PAGE_BYTES // 2**20)


def timed_out(timeout: float, phase: str) -> str:
    return _("timed out after {seconds} ({phase})").format(seconds=seconds(timeout), phase=phase)


def http_status_error(status: int, project: str) -> str:
    if status == 404:
        return _("HTTP 404 (no project {project!r} here: is the URL the index, e.g. .../simple?)").format(
            project=project)
    if status in (401, 403):
        return _("HTTP {status} (access denied)").format(status=status)
    if status == 407:
        return _("HTTP 407 (the proxy wants credentials)")
    return f"HTTP {status}"
