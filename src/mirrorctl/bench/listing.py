"""Reading a Simple-API project page (PEP 503 HTML or PEP 691 JSON), safe against hostile pages.

Everything here runs in time linear in the page's size: the HTML is scanned with
expressions that stop at the next ``<`` (no backtracking across the page), JSON
is read by the C decoder, and overlong names and versions are ignored. Any
failure to read a page (a RecursionError from deeply nested JSON included) is a
:class:`PageError` with a message for a person, never a crash of the bench.

:func:`parse_steps` is a generator that yields now and then while it works: the
bench drives it inside the per-mirror deadline and gives the event loop a chance
to cancel it between steps (:func:`read_listing`); :func:`parse_listing` drives
it to the end at once.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from dataclasses import dataclass
from html import unescape
from typing import Any, Dict, Generator, List, Optional, Sequence, Tuple
from urllib.parse import unquote, urldefrag, urljoin

from mirrorctl.i18n import _

#: a project page bigger than this is not one (the index root is tens of MB; pip's page is ~0.3 MB)
MAX_PAGE_BYTES = 8 * 1024 * 1024
#: a file name, version or href longer than this is not one (keeps every per-item step small)
MAX_ITEM_CHARS = 1000
#: the parser yields to the event loop after this many files, or this many characters of a page
STEP = 256
STEP_CHARS = 64 * 1024

NOT_SIMPLE = "not a Simple-API page"  # translated where it is raised

DIST_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tbz", ".tar", ".egg", ".exe", ".msi", ".rpm")
SDIST_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz", ".tar", ".zip")

_SERIAL_COMMENT_RE = re.compile(rb"<!--\s*SERIAL\s+(\d{1,30})\s*-->", re.IGNORECASE)
# a start tag up to its ">" and the text after it up to the next "<": neither part can
# run past the next "<", so a page of unclosed tags is scanned once, not once per tag
_ANCHOR_RE = re.compile(r"<a\s([^<>]*)>([^<]*)", re.IGNORECASE)
_HREF_RE = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


class PageError(Exception):
    """The page cannot be used; the message is fit for a person."""


@dataclass
class Listing:
    api: str  # "json" | "html"
    serial: Optional[int]
    links: List[Tuple[str, str]]  # (filename, href as the page gives it)
    versions: List[str]
    base_url: str = ""

    @property
    def filenames(self) -> List[str]:
        return [filename for filename, _href in self.links]

    @property
    def files(self) -> List[Tuple[str, str]]:
        """(filename, absolute URL without fragment): resolved on demand, as few callers need it."""
        return [(filename, urldefrag(urljoin(self.base_url, href))[0]) for filename, href in self.links]


def normalize_project(name: str) -> str:
    """PEP 503 normalisation, as pip does before building the project URL (``packaging.utils``)."""
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def parse_listing(body: bytes, content_type: str, base_url: str, project: str) -> Optional[Listing]:
    """The files, serial and versions of a project page, or None if it is not one.

    A page counts as a Simple-API project page when it lists at least one
    distribution file (PEP 503 HTML anchors or PEP 691 JSON ``files``): a login
    page, an error page served with 200, or the index root do not. It need not be
    ``project``'s page: :func:`check_project` says that.
    """
    steps = parse_steps(body, content_type, base_url, project)
    try:
        while True:
            next(steps)
    except StopIteration as done:
        return done.value
    except PageError:
        return None


async def read_listing(body: bytes, content_type: str, base_url: str, project: str) -> Listing:
    """:func:`parse_listing` that yields to the loop as it goes, and checks the page is ``project``'s.

    Raises :class:`PageError`: "not a Simple-API page", "not this project's page (...)",
    or why the page could not be read. Cancel it (``asyncio.wait_for``) to bound its time.
    """
    steps = parse_steps(body, content_type, base_url, project)
    try:
        while True:
            next(steps)
            await asyncio.sleep(0)
    except StopIteration as done:
        listing = done.value
    if listing is None:
        raise PageError(_(NOT_SIMPLE))
    check_project(listing, project)
    return listing


def parse_steps(body: bytes, content_type: str, base_url: str,
                project: str) -> Generator[None, None, Optional[Listing]]:
    """The parser behind :func:`parse_listing`: yields between steps, returns the listing or None."""
    if len(body) > MAX_PAGE_BYTES:
        raise PageError(_("page larger than {size} MB").format(size=MAX_PAGE_BYTES // 2**20))
    ctype = content_type.split(";", 1)[0].strip().lower()
    try:
        if ctype.endswith("json") or (not ctype.endswith("html") and body.lstrip()[:1] == b"{"):
            return (yield from _parse_json(body, base_url, project))
        return (yield from _parse_html(body, base_url, project))
    except PageError:
        raise
    except RecursionError:
        raise PageError(_("unreadable page (nested too deeply)")) from None
    except Exception as exc:  # noqa: BLE001 - a page that breaks the reader fails its mirror only
        raise PageError(_("unreadable page ({reason})").format(reason=type(exc).__name__)) from None


def check_project(listing: Listing, project: str) -> None:
    """:class:`PageError` unless the listing has at least one file of ``project``."""
    if any(file_of(filename, project) for filename in listing.filenames):
        return
    others = sorted({_name_part(filename) for filename in listing.filenames} - {""})
    if others:
        listed = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
        raise PageError(_("not this project's page (no file of {project!r}: it lists {others})").format(
            project=project, others=listed))
    raise PageError(_("not this project's page (no file of {project!r})").format(project=project))


def file_of(filename: str, project: str) -> bool:
    """Whether ``filename`` is a distribution of ``project`` (wheels and sdists exactly; others by prefix)."""
    if version_from_filename(filename, project) is not None:
        return True
    lower = filename.lower()
    if lower.endswith(".whl") or lower.endswith(SDIST_SUFFIXES):
        return False
    return normalize_project(filename).startswith(project + "-")  # .egg, .exe, .msi, .rpm


def _name_part(filename: str) -> str:
    name = filename.split("-", 1)[0]
    return normalize_project(name)[:60]


def _parse_json(body: bytes, base_url: str, project: str) -> Generator[None, None, Optional[Listing]]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    name = data.get("name")
    if isinstance(name, str) and normalize_project(name[:MAX_ITEM_CHARS]) != project:
        raise PageError(_("not this project's page (it is {name!r}'s)").format(name=name[:60]))
    files = []
    for number, entry in enumerate(data["files"], 1):
        if number % STEP == 0:
            yield
        if not isinstance(entry, dict):
            continue
        filename, url = entry.get("filename"), entry.get("url")
        if isinstance(filename, str) and isinstance(url, str) and _sized(filename, url) \
                and filename.lower().endswith(DIST_SUFFIXES):
            files.append((filename, url))
    if not files:
        return None
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    serial = int_or_none(meta.get("_last-serial"))
    versions = data.get("versions")
    if isinstance(versions, list) and versions and all(isinstance(v, str) and len(v) <= MAX_ITEM_CHARS for v in versions):
        listed = list(versions)
    else:
        listed = yield from _versions_from_files(files, project)
    return Listing(api="json", serial=serial, links=files, versions=listed, base_url=base_url)


def _parse_html(body: bytes, base_url: str, project: str) -> Generator[None, None, Optional[Listing]]:
    text = body.decode("utf-8", errors="replace")
    files = []
    append = files.append
    position, end = 0, len(text)
    while position < end:
        # a stretch of the page ending at a "<": no anchor crosses it (neither part of
        # _ANCHOR_RE passes a "<"), so the stretches together find what the whole page would
        cut = text.find("<", position + STEP_CHARS)
        stop = end if cut < 0 else cut
        for attrs, inner in _ANCHOR_RE.findall(text, position, stop):
            # the usual form, href first and double-quoted, read directly: what _HREF_RE would find
            close = attrs.find('"', 6) if attrs.startswith('href="') else -1
            href = attrs[6:close] if close >= 0 else _href(attrs)
            if href is None or len(href) > 4 * MAX_ITEM_CHARS:
                continue
            if "&" in href:
                href = unescape(href)
            path = href.partition("#")[0].partition("?")[0]
            last = path[path.rfind("/") + 1:]  # the path's last part
            # a file name is at most 4 x MAX_ITEM_CHARS long: from an href or an anchor's text, both bounded
            filename = (unquote(last) if "%" in last else last) or unescape(inner[:MAX_ITEM_CHARS]).strip()
            if filename.lower().endswith(DIST_SUFFIXES):
                append((filename, href))
        position = stop
        if position < end:
            yield
    if not files:
        return None
    match = _SERIAL_COMMENT_RE.search(body)
    serial = int_or_none(match.group(1).decode("ascii")) if match else None
    versions = yield from _versions_from_files(files, project)
    return Listing(api="html", serial=serial, links=files, versions=versions, base_url=base_url)


def _href(attrs: str) -> Optional[str]:
    match = _HREF_RE.search(attrs)
    if not match:
        return None
    first, second, third = match.groups()
    return first if first is not None else second if second is not None else third


def _sized(*items: str) -> bool:
    return all(len(item) <= 4 * MAX_ITEM_CHARS for item in items)


def _versions_from_files(files: Sequence[Tuple[str, str]], project: str) -> Generator[None, None, List[str]]:
    """The versions of ``project`` the files are of, in page order, each once.

    A file whose ``<name>-<version>`` stem was read already is skipped: a release's sdist and
    wheels share it, so each release is read once (sdists first: they are the cheaper to read).
    """
    names = (project, tuple(f for f, _url in files))
    known = _VERSIONS_READ.get(names)
    if known is not None:  # another mirror listed the very same files: the same versions
        return list(known)
    seen: Dict[str, None] = {}
    stems: set = set()
    wheels_last = [f for f, _url in files if not f.lower().endswith(".whl")] + \
                  [f for f, _url in files if f.lower().endswith(".whl")]
    for number, filename in enumerate(wheels_last, 1):
        if number % STEP == 0:
            yield
        lower = filename.lower()
        suffix = ".whl" if lower.endswith(".whl") else next((s for s in SDIST_SUFFIXES if lower.endswith(s)), "")
        stem = "-".join(filename.split("-", 2)[:2]) if suffix == ".whl" else filename[: len(filename) - len(suffix)]
        if stem in stems:
            continue
        stems.add(stem)
        version = version_from_filename(filename, project)
        if version is not None:
            seen.setdefault(version, None)
    if len(_VERSIONS_READ) < 256:
        _VERSIONS_READ[names] = tuple(seen)
    return list(seen)


#: (project, the file names a page lists) -> the versions read from them, for this run
_VERSIONS_READ: Dict[Tuple[str, Tuple[str, ...]], Tuple[str, ...]] = {}


@functools.lru_cache(maxsize=16384)  # mirrors of one project list the same file names: read each once a run
def version_from_filename(filename: str, project: str) -> Optional[str]:
    """The version in a wheel or sdist file name of ``project`` (normalised, PEP 440), or None.

    Wheels and ``.tar.gz``/``.zip`` sdists are read by ``packaging.utils``; the older sdist
    suffixes (``.tar.bz2``, ``.tgz``...) the same way: ``<name>-<version><suffix>``.
    """
    if len(filename) > MAX_ITEM_CHARS:
        return None
    from packaging.utils import (InvalidSdistFilename, InvalidWheelFilename, canonicalize_name,
                                 parse_sdist_filename, parse_wheel_filename)

    lower = filename.lower()
    try:
        if lower.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        elif lower.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
        else:
            suffix = next((s for s in SDIST_SUFFIXES if lower.endswith(s)), None)
            if suffix is None:
                return None
            stem, sep, text = filename[: -len(suffix)].rpartition("-")
            parsed = version_key(text) if sep else None
            if parsed is None:
                return None
            name, version = canonicalize_name(stem), parsed
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    if len(str(version)) > _MAX_VERSION_CHARS or canonicalize_name(name) != project:
        return None
    return str(version)


#: a version longer than this is not one: it keeps packaging's expression on short strings
_MAX_VERSION_CHARS = 100


@functools.lru_cache(maxsize=16384)  # a Version is immutable: parse each version string once a run
def version_key(version: str) -> Optional[Any]:
    """A sort key for a PEP 440 version: ``packaging.version.Version``, or None if it is not one."""
    if len(version) > _MAX_VERSION_CHARS:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version)
    except (InvalidVersion, ValueError, TypeError):
        return None


def newest_version(versions: Sequence[str]) -> Optional[str]:
    keyed = [(version_key(v), v) for v in versions]
    keyed = [(k, v) for k, v in keyed if k is not None]
    if not keyed:
        return None
    return max(keyed, key=lambda kv: kv[0])[1]


def pick_file(files: Sequence[Tuple[str, str]], versions: Sequence[str], project: str) -> Optional[Tuple[str, str]]:
    """The file to time with ``--throughput``: the newest release's pure wheel, else any of its files."""
    if not files:
        return None
    newest = newest_version(versions)
    newest_key = version_key(newest) if newest else None

    def score(item: Tuple[str, str]) -> tuple:
        lower = item[0].lower()
        version = version_from_filename(item[0], project)
        key = version_key(version) if version else None
        return (key is not None and key == newest_key, lower.endswith("none-any.whl"), lower.endswith(".whl"))

    return max(files, key=score)


def int_or_none(value: Any) -> Optional[int]:
    text = str(value).strip()
    if len(text) > 30:  # no serial has that many digits
        return None
    try:
        number = int(text)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None
