"""What the conda bench asks each mirror for: the start of one channel's ``repodata.json``.

conda reads ``<channel>/<subdir>/repodata.json`` before anything else, so that is the request
to time. The whole file weighs megabytes (conda-forge's tens of MB), so the probe asks for its
first 64 KB (``Range``) and reads at most :data:`MAX_BYTES` even from a server that ignores the
range; what it reads must look like repodata (a JSON object naming ``info``, ``packages`` or
``subdir``). The channel is the one each layout of the catalogue serves: ``pkgs/main`` for a
full mirror, ``conda-forge`` (under ``/cloud``) for a community-only one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from mirrorctl.i18n import _

if TYPE_CHECKING:  # pragma: no cover
    from mirrorctl.catalog import Mirror

ENDPOINT_PYPI = "pypi"
ENDPOINT_CONDA = "conda"
ENDPOINTS = (ENDPOINT_PYPI, ENDPOINT_CONDA)
#: asked for: the file's first 64 KB
RANGE = "bytes=0-65535"
#: read at most this much of an answer (a server that ignores Range sends the whole file)
MAX_BYTES = 256 * 1024
HEADERS = {"Range": RANGE, "Accept-Encoding": "identity", "Cache-Control": "max-age=0"}
_MARKERS = (b'"info"', b'"packages"', b'"packages.conda"', b'"subdir"')


def probe_url(mirror: "Mirror") -> Optional[str]:
    """The repodata.json to time for ``mirror``'s conda channels, or None when it has none."""
    conda = mirror.conda
    if conda is None:
        return None
    base = conda.url.rstrip("/")
    if conda.layout == "full":
        return f"{base}/pkgs/main/noarch/repodata.json"
    return f"{base}/cloud/conda-forge/noarch/repodata.json"


def no_conda() -> str:
    return _("no conda channels for this mirror in the catalogue")


def check(body: bytes) -> Optional[str]:
    """Why ``body`` (the start of the file) is not repodata, or None."""
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{") or not any(marker in text for marker in _MARKERS):
        return _("not a conda repodata.json")
    return None
