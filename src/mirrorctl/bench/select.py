"""Choosing what to probe, what the result means for `use`, and pip's network settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from mirrorctl.bench.report import BenchReport
from mirrorctl.i18n import _, ngettext

if TYPE_CHECKING:  # pragma: no cover
    from mirrorctl.catalog import Catalog, Mirror
    from mirrorctl.context import Context


@dataclass
class Selection:
    mirrors: List["Mirror"]
    skipped: List["Mirror"] = field(default_factory=list)  # unreliable ones left out


def select_mirrors(catalog: "Catalog", specs: Sequence[Union[str, "Mirror"]] = (), *, include_unreliable: bool = False,
                   conda: bool = False) -> Selection:
    """The mirrors to probe: those named (names, aliases, URLs, or a Mirror already resolved: the
    local cache), else the whole catalogue.

    Mirrors marked unreliable are left out of the default selection (unless
    ``include_unreliable``); naming one includes it. Each mirror appears once, and
    every name is unique (a URL given on the command line is named after its host). With
    ``conda``, the default selection is the mirrors with conda channels.
    """
    from dataclasses import replace

    from mirrorctl.catalog import ADHOC

    if specs:
        chosen = [catalog.resolve(spec) if isinstance(spec, str) else spec for spec in specs]
        skipped: List["Mirror"] = []
    else:
        visible = [m for m in catalog.visible() if not conda or m.conda is not None]  # --conda: those with channels
        chosen = [m for m in visible if include_unreliable or not m.unreliable]
        skipped = [m for m in visible if m.unreliable and not include_unreliable]
    out: List["Mirror"] = []
    seen_urls = set()
    names = set()
    for mirror in chosen:
        key = (mirror.name, mirror.url) if mirror.source != ADHOC else ("", mirror.url)
        if key in seen_urls:
            continue
        seen_urls.add(key)
        name = mirror.name
        if mirror.source == ADHOC and name == "custom":
            parts = urlsplit(mirror.url)
            name = (parts.hostname or "custom") + (f":{parts.port}" if parts.port else "")
        base, n = name, 2
        while name in names:
            name, n = f"{base}#{n}", n + 1
        names.add(name)
        out.append(mirror if name == mirror.name else replace(mirror, name=name))
    return Selection(out, skipped)


def winning_mirror(report: BenchReport, mirrors: Sequence["Mirror"]) -> "Mirror":
    """The catalogue entry of the winner; :class:`NoHealthyMirrorError` when there is none."""
    from mirrorctl.errors import NoHealthyMirrorError

    winner = report.winner
    if winner is not None and 0 <= winner.index < len(mirrors):
        return mirrors[winner.index]
    if not report.results:
        raise NoHealthyMirrorError(_("no mirror to probe"), hint=_("name mirrors, or see `mirrorctl list`"))
    if report.proxy_error:
        source = report.proxy.get("source") or _("the configuration")
        raise NoHealthyMirrorError(report.proxy_error,
                                   hint=_("check the proxy (it came from {source}); give another with "
                                          "--proxy URL, or go without one with --proxy '' (--no-proxy)").format(
                                       source=source))
    stale = [r for r in report.results if r.ok and r.stale]
    failed = [r for r in report.results if not r.ok]
    reasons = "; ".join(f"{r.name}: {r.error}" for r in failed[:3])
    if len(failed) > 3:
        reasons += _("; and {n} more").format(n=len(failed) - 3)
    message = _("no healthy mirror")
    if failed:
        message += f" ({reasons})"
    if stale:
        message += ngettext("; {n} answered but is too far behind", "; {n} answered but are too far behind",
                            len(stale)).format(n=len(stale))
    timeouts = sum(1 for r in failed if r.timed_out)
    from mirrorctl.bench.conda import no_conda

    if failed and all(r.error == no_conda() for r in failed) and not stale:
        hint = _("--conda measures the conda channels the catalogue lists: name mirrors that have them "
                 "(`mirrorctl list`), or give none")
    elif stale and not failed:
        hint = _("every mirror that answered is behind another: --allow-stale takes the fastest anyway, "
                 "--max-lag N tolerates N behind")
    elif failed and all(r.status == 404 for r in failed):
        hint = _("no page for {project} there: is the URL the index (it often ends in /simple)? Or choose a "
                 "--package it holds").format(project=report.package)
    elif timeouts:
        hint = _("check your network or proxy (HTTPS_PROXY, pip's proxy setting), or raise --timeout")
    else:
        hint = _("check your network or proxy (HTTPS_PROXY, pip's proxy setting)")
    raise NoHealthyMirrorError(message, hint=hint)


def pip_network_settings(ctx: "Context") -> Dict[str, Optional[str]]:
    """pip's own ``proxy`` and ``cert`` settings (files, then PIP_PROXY / PIP_CERT), for the probes.

    Read the way pip does for ``pip install``: the [global] section, overridden by
    [install], overridden by the environment. Unreadable configuration is ignored
    here: ``mirrorctl status`` is the place that reports it. An empty value counts as unset.
    """
    found = _pip_settings(ctx)
    return {out: (found[out][0].strip() or None) if out in found else None for out in ("proxy", "ca_bundle")}


def pip_proxy_setting(ctx: "Context") -> Optional[Tuple[str, str, Optional[str]]]:
    """pip's ``proxy`` as ``(value, source, file)``, for :func:`mirrorctl.proxy.plan`; None when unset.

    An empty value is kept: pip then uses no proxy at all (nor the environment's).
    """
    return _pip_settings(ctx).get("proxy")


def _pip_settings(ctx: "Context") -> Dict[str, Tuple[str, str, Optional[str]]]:
    found: Dict[str, Tuple[str, str, Optional[str]]] = {}
    keys = {"proxy": "proxy", "cert": "ca_bundle"}
    try:
        from mirrorctl.catalog import Catalog
        from mirrorctl.targets import pip as pip_target

        status = pip_target.status(ctx, Catalog())
        files = [] if status.error else status.files
    except Exception:  # noqa: BLE001
        files = []
    for section in ("global", "install"):
        for info in files:
            if not info.exists or info.skipped or info.error:
                continue
            for key, out in keys.items():
                value = info.values.get(f"{section}.{key}")
                if value is not None and (value.strip() or out == "proxy"):
                    found[out] = (value.strip(), "pip config", str(info.path))
    for var, out in (("PIP_PROXY", "proxy"), ("PIP_CERT", "ca_bundle")):
        value = ctx.environ.get(var)
        if value is not None and (value.strip() or out == "proxy"):
            found[out] = (value.strip(), var, None)
    return found
