"""Is a URL a package index? Checked before it is written (`use URL`, `add NAME URL`).

Two steps:

* offline: a catalogue mirror's host with a leading part of its path
  (``https://pypi.tuna.tsinghua.edu.cn`` for TUNA's ``.../simple``) is corrected to the
  catalogue's URL (:func:`catalogue_correction`);
* one request, pip's: ``GET <index>/<project>/`` with pip's ``Accept`` header (PEP 691 JSON,
  PEP 503 HTML), for ``pip`` unless ``--package`` names another project
  (:func:`check_index`). The answer must be a project page that lists a file of that project.
  A redirect is followed only on the same host (``http://host/pip/`` to
  ``http://host/simple/pip/``: the index is then ``http://host/simple/``, and that is what is
  written), never to a link-local address; one to another host that keeps the project's path
  (an index that forwards what it lacks, as pypiserver does to PyPI) is taken as an index's
  answer without being followed.

What counts as what:

* refused (``UsageError``, exit 2, code ``not_an_index``): the server answered, and not as an
  index would: 404 or another 4xx (but 401/403), a page that lists no file of the project, a
  page larger than 8 MB, a redirect elsewhere;
* written with a warning: no answer to check (DNS failure, connection refused, timeout, TLS or
  proxy failure), an index that asks for credentials (401, 403), a server error (5xx, 429).
  A machine set up before its network is up (an image build, a laptop offline) must still get
  its configuration; the warning says it was not checked.

The HTTP client is built in one function (:func:`_client`): no redirect followed by httpx, TLS
verified (pip's ``cert`` setting honoured), a short timeout, the body read up to a cap, the
proxy pip would use (``mirrorctl.proxy``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from mirrorctl import urls
from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

if TYPE_CHECKING:
    import httpx

    from mirrorctl.catalog import Catalog, Mirror
    from mirrorctl.context import Context

#: the project whose page is asked for when none is named (every PyPI mirror has it)
DEFAULT_PACKAGE = "pip"
#: seconds for each step (connect, each read), and for the whole check (a trickling server costs
#: this plus one read at most)
READ_TIMEOUT = 10.0
#: same-host redirects followed at most
MAX_HOPS = 3
NOT_AN_INDEX = "not_an_index"  # the machine code of the refusal (--json errors)

_PROJECT_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$")


@dataclass
class Verdict:
    url: str  # the URL to write: the one given, or the index it turned out to be
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    checked: bool = False  # an answer was had and it was an index's


class NotAnIndexError(UsageError):
    """The URL answered, and not as a package index (exit code 2, machine code ``not_an_index``)."""

    @property
    def code(self) -> str:  # MirrorctlError.code is a read-only property
        return NOT_AN_INDEX


class Unreachable(Exception):
    """No answer to judge the URL by (the message says why)."""


def catalogue_correction(catalog: "Catalog", url: str) -> Optional["Mirror"]:
    """The catalogue mirror ``url`` is a truncated form of (see :meth:`Catalog.correction`)."""
    return catalog.correction(url)


def project_name(package: str) -> str:
    """``--package`` as pip puts it in the URL (PEP 503 normalised); a usage error when it is not a name."""
    from mirrorctl.bench.listing import normalize_project

    if not _PROJECT_RE.match(package.strip()):
        raise UsageError(_("bad --package {name!r}: not a project name").format(name=package),
                         hint=_("a project name such as pip or requests"))
    return normalize_project(package.strip())


def check_index(ctx: "Context", url: str, *, package: str = DEFAULT_PACKAGE,
                catalog: Optional["Catalog"] = None) -> Verdict:
    """Ask ``url`` for one project page, as pip would; see the module docstring.

    Returns the :class:`Verdict` (the URL to write, notes, warnings); raises ``UsageError``
    (code ``not_an_index``) when the server answered and not as an index.
    """
    project = project_name(package)
    shown = urls.mask_url(url)
    try:
        outcome = _probe(ctx, url, project)
    except Unreachable as exc:
        return Verdict(url, warnings=[_("could not check that {url} is a package index ({reason}); "
                                        "taken unchecked").format(url=shown, reason=str(exc))])
    kind, detail, base = outcome
    if kind == "index":
        verdict = Verdict(url, checked=True)
        if base is not None and not urls.same_index(base, url):
            verdict.url = urls.with_path(url, base)
            verdict.notes.append(_("{url} sent pip's request on to the index at {base}: that is the URL written")
                                 .format(url=shown, base=urls.mask_url(verdict.url)))
        return verdict
    if kind == "forwards":
        verdict = Verdict(url, checked=True)
        if base is not None and not urls.same_index(base, url):
            verdict.url = urls.with_path(url, base)
        verdict.notes.append(_("{url} has no page of its own for {project}: it forwards the request to {target}, "
                               "as an index that passes on what it lacks does").format(
            url=urls.mask_url(verdict.url), project=project, target=urls.mask_url(detail)))
        return verdict
    if kind == "unsure":
        return Verdict(url, warnings=[_("could not check that {url} is a package index ({reason}); "
                                        "taken unchecked").format(url=shown, reason=detail)])
    raise NotAnIndexError(_("{url} does not answer as a package index: {reason}").format(url=shown, reason=detail),
                          hint=_refusal_hint(catalog, url, project))


def _refusal_hint(catalog: Optional["Catalog"], url: str, project: str) -> str:
    same_host = catalog.on_same_host(url) if catalog is not None else []
    if same_host:
        mirror = same_host[0]
        return _("did you mean {url} (the catalogue's {name})? --no-verify writes the URL given anyway").format(
            url=urls.mask_url(mirror.url), name=mirror.name)
    return _("give the URL pip takes as its index (it often ends in /simple); for an index that does not hold "
             "{project}, check with --package NAME of a project it holds; --no-verify writes it unchecked").format(
        project=project)


def _project_base(page_url: str, project: str) -> Optional[str]:
    """The index URL of a project page's URL (``.../simple/pip/`` -> ``.../simple/``), or None."""
    clean = urls.without_credentials(page_url)
    head, sep, tail = clean.split("?", 1)[0].rstrip("/").rpartition("/")
    if not sep:
        return None
    from mirrorctl.bench.listing import normalize_project

    if normalize_project(tail) != project:
        return None
    return head + "/"


def _probe(ctx: "Context", url: str, project: str) -> tuple:
    """(kind, detail, index base): kind is "index", "forwards", "unsure" or "refused"."""
    import httpx

    from mirrorctl.netpolicy import redirect_refusal

    import time

    from mirrorctl.netpolicy import TooSlow

    current = url.rstrip("/") + "/" + project + "/"
    deadline = time.monotonic() + READ_TIMEOUT  # the whole check, redirects and a trickling body included
    with _client(ctx, url) as client:
        for _hop in range(MAX_HOPS + 1):
            if time.monotonic() > deadline:
                raise Unreachable(_("no whole answer within {s:g} s").format(s=READ_TIMEOUT))
            try:
                with client.stream("GET", current) as response:
                    if response.has_redirect_location:
                        target = str(response.next_request.url) if response.next_request is not None else ""
                        if not target:
                            return "refused", _("a redirect without a usable Location"), None
                        refusal = redirect_refusal(url, target)
                        if refusal is not None:
                            return "refused", refusal, None
                        if urls.host_key(target) == urls.host_key(url):
                            current = target
                            continue
                        if _project_base(target, project) is not None:
                            return "forwards", target, _project_base(current, project)
                        return "refused", _("it redirects to {target}, not to a page of {project}").format(
                            target=urls.mask_url(target), project=project), None
                    return _judge(response, current, project, deadline)
            except TooSlow:
                raise Unreachable(_("no whole answer within {s:g} s").format(s=READ_TIMEOUT)) from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise Unreachable(_reason(exc)) from None
        return "refused", _("too many redirects"), None


def _judge(response: "httpx.Response", page_url: str, project: str, deadline: float) -> tuple:
    from mirrorctl.bench.listing import MAX_PAGE_BYTES, PageError, check_project, parse_listing

    code = response.status_code
    if code in (401, 403):
        return "unsure", _("it asks for credentials: HTTP {code}").format(code=code), None
    if code == 429 or code >= 500:
        return "unsure", _("the server answered HTTP {code}").format(code=code), None
    if code in (404, 410):
        return "refused", _("it has no page for {project} (HTTP {code} for {page})").format(
            project=project, code=code, page=urls.mask_url(page_url)), None
    if code != 200:
        return "refused", _("HTTP {code} for {page}").format(code=code, page=urls.mask_url(page_url)), None
    from mirrorctl.netpolicy import TooLarge, read_body

    try:
        body = read_body(response, max_bytes=MAX_PAGE_BYTES, deadline=deadline, url=page_url)
    except TooLarge:
        return "refused", _("its page for {project} is larger than {size} MB").format(
            project=project, size=MAX_PAGE_BYTES // 2**20), None
    listing = parse_listing(body, response.headers.get("content-type", ""), page_url, project)
    if listing is None:
        return "refused", _("its page for {project} lists no files (not a PEP 503/691 project page)").format(
            project=project), None
    try:
        check_project(listing, project)
    except PageError as exc:
        return "refused", str(exc), None
    return "index", None, _project_base(page_url, project)


def _reason(exc: Exception) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return _("no answer within {s:g} s").format(s=READ_TIMEOUT)
    if isinstance(exc, httpx.ProxyError):
        return _("the proxy failed: {error}").format(error=urls.mask_url(str(exc)) or type(exc).__name__)
    from mirrorctl.netpolicy import failure_kind

    text = str(exc) or type(exc).__name__
    kind = failure_kind(exc)
    if kind == "dns":
        return _("its host name does not resolve")
    if kind == "refused":
        return _("the connection was refused")
    if kind == "tls":
        return _("TLS failed: {error}").format(error=text)
    return urls.mask_url(text)


def _client(ctx: "Context", url: str) -> "httpx.Client":
    """This module's HTTP client, under the one policy (netpolicy: no redirects followed by the
    client, TLS verified with pip's ``cert`` honoured), with the proxy pip would use for ``url``."""
    from mirrorctl import netpolicy
    from mirrorctl.bench.probe import PIP_ACCEPT
    from mirrorctl.bench.select import pip_network_settings, pip_proxy_setting
    from mirrorctl.proxy import plan

    network = pip_network_settings(ctx)
    return netpolicy.client(plan=plan(pip=pip_proxy_setting(ctx), environ=ctx.environ),
                            ca_bundle=network.get("ca_bundle") or None, timeout=READ_TIMEOUT,
                            headers={"Accept": PIP_ACCEPT})
