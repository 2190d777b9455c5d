"""Freshness (how far behind the freshest mirror each one is) and the ranking."""

from __future__ import annotations

import math
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from mirrorctl.bench.listing import version_key
from mirrorctl.bench.report import RANK_THROUGHPUT, ProbeResult
from mirrorctl.i18n import _, ngettext


#: the default limit in serial units, where mirrors report a serial: about an hour of the official
#: index's events (its serial grows by several hundred an hour: an estimate; --max-lag tunes it).
#: A mirror that synced within the hour passes; one an hour or more behind does not. A threshold
#: above 0 also lets a mirror that is still copying a release (its files are events minutes apart)
#: pass, when it already has the release's first files.
DEFAULT_MAX_SERIAL_LAG = 1000
#: without a serial: missing even one release that another mirror has is stale
DEFAULT_MAX_RELEASE_LAG = 0


def compute_lag(results: Sequence[ProbeResult], max_lag: Optional[int], *, allow_stale: bool = False) -> Optional[str]:
    """Fill ``lag``/``stale``/``stale_reason``; return the name of the reference (freshest) mirror.

    Fresh by default: with ``max_lag`` None a mirror is stale when it lacks the newest release
    of the project that another mirror lists, or is more than :data:`DEFAULT_MAX_SERIAL_LAG`
    behind the freshest serial (:data:`DEFAULT_MAX_RELEASE_LAG` releases without a serial).
    An explicit ``max_lag`` is the limit in the lag's own unit. ``allow_stale``: nothing is stale.
    """
    ok = [r for r in results if r.ok]
    with_serial = [r for r in ok if r.serial is not None]
    reference: Optional[ProbeResult] = None
    best_serial = max((r.serial for r in with_serial), default=None)  # type: ignore[type-var]
    if with_serial:
        reference = next(r for r in with_serial if r.serial == best_serial)
    # every version seen anywhere, and the newest of them; mirrors of one project mostly list the
    # same versions: each distinct list is read once (36,000 versions at 200 mirrors of pip)
    keys_of: Dict[Tuple[str, ...], FrozenSet[object]] = {}
    all_versions: Dict[object, str] = {}
    for r in ok:
        listed = tuple(r.versions)
        if listed in keys_of:
            continue
        mine_keys = []
        for v in listed:
            key = version_key(v)
            mine_keys.append(key)  # None too: a mirror listing only versions that are not PEP 440 ones
            if key is not None:
                all_versions.setdefault(key, v)
        keys_of[listed] = frozenset(mine_keys)
    newest_key = max(all_versions) if all_versions else None
    for r in ok:
        if r.serial is not None and best_serial is not None:
            r.lag = max(0, best_serial - r.serial)
            r.lag_unit = "serial"
        elif r.newest_version is not None and newest_key is not None:
            newest_mine = version_key(r.newest_version)
            r.lag = sum(1 for key in all_versions if newest_mine is not None and key > newest_mine)
            r.lag_unit = "releases"
    if reference is None:  # no serials: the first mirror with every release
        reference = next((r for r in ok if r.lag == 0 and r.lag_unit == "releases"), None)
    for r in ok:
        mine = keys_of[tuple(r.versions)]
        if allow_stale:
            continue
        if max_lag is not None:
            limit = max_lag
        else:
            limit = DEFAULT_MAX_SERIAL_LAG if r.lag_unit == "serial" else DEFAULT_MAX_RELEASE_LAG
        if r.lag is not None and r.lag > limit:
            r.stale = True
            if r.lag_unit == "serial":
                template = ngettext("{lag} serial behind {reference} (more than {limit})",
                                    "{lag} serials behind {reference} (more than {limit})", r.lag)
            else:
                template = ngettext("{lag} release behind {reference} (more than {limit})",
                                    "{lag} releases behind {reference} (more than {limit})", r.lag)
            r.stale_reason = template.format(lag=r.lag, reference=reference.name if reference else _("the freshest"),
                                             limit=limit)
        elif max_lag is None and newest_key is not None and mine and newest_key not in mine:
            r.stale = True
            r.stale_reason = _("missing {version}, which another mirror has").format(version=all_versions[newest_key])
    return reference.name if reference is not None else None


def rank(results: Sequence[ProbeResult], ranked_by: str) -> List[ProbeResult]:
    healthy = [r for r in results if r.healthy and r.median_ms is not None]
    if ranked_by == RANK_THROUGHPUT:
        healthy = [r for r in healthy if r.throughput_mbps is not None]
        healthy.sort(key=lambda r: (-round(r.throughput_mbps or 0.0, 3), round(r.median_ms or 0.0, 1), r.index))
    else:
        # ties (to a tenth of a millisecond) go to catalogue order
        healthy.sort(key=lambda r: (round(r.median_ms or 0.0, 1), r.index))
    for position, r in enumerate(healthy, 1):
        r.rank = position
    chosen = {id(r) for r in healthy}
    stale = sorted((r for r in results if r.ok and id(r) not in chosen), key=lambda r: r.index)
    failed = sorted((r for r in results if not r.ok), key=lambda r: r.index)
    return healthy + stale + failed


def median(values: Sequence[float]) -> Optional[float]:
    """The median (the mean of the two middle values for an even count); no statistics import."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], pct: float) -> Optional[float]:
    """Nearest-rank percentile (the p90 of 5 samples is the slowest one)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
