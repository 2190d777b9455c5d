"""Freshness (how far behind the freshest mirror each one is) and the ranking."""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

from mirrorctl.bench.listing import version_key
from mirrorctl.bench.report import RANK_THROUGHPUT, ProbeResult


def compute_lag(results: Sequence[ProbeResult], max_lag: Optional[int]) -> Optional[str]:
    """Fill ``lag``/``stale``; return the name of the reference (freshest) mirror."""
    ok = [r for r in results if r.ok]
    with_serial = [r for r in ok if r.serial is not None]
    reference: Optional[ProbeResult] = None
    best_serial = max((r.serial for r in with_serial), default=None)  # type: ignore[type-var]
    if with_serial:
        reference = next(r for r in with_serial if r.serial == best_serial)
    # the newest version seen anywhere, and every version newer than each mirror's newest
    all_versions: Dict[object, str] = {}
    for r in ok:
        for v in r.versions:
            key = version_key(v)
            if key is not None:
                all_versions.setdefault(key, v)
    newest_seen = max(all_versions) if all_versions else None
    for r in ok:
        if r.serial is not None and best_serial is not None:
            r.lag = max(0, best_serial - r.serial)
            r.lag_unit = "serial"
        elif r.newest_version is not None and newest_seen is not None:
            mine = version_key(r.newest_version)
            r.lag = sum(1 for key in all_versions if mine is not None and key > mine)
            r.lag_unit = "releases"
            if reference is None and r.lag == 0:
                reference = r
        if max_lag is not None and r.lag is not None and r.lag > max_lag:
            r.stale = True
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
