"""Measure index mirrors from here: all at once, over pip's own request, honestly.

Every selected mirror is probed concurrently, each with a connection pool of its own. The
first request to a mirror (untimed) opens the connection and reads the project page
(``GET <index>/<package>/`` with pip's ``Accept`` header, never the index root), which must
list the project's files; then ``samples`` timed requests follow on that kept-alive
connection, each measured at the transport from the request sent to the first byte of the
answer. Failures are results, not exceptions: a mirror that errs is marked failed with a
reason a person understands, and costs at most one ``timeout``.

The package, one concern a module:

- :mod:`~mirrorctl.bench.run`: the entry points and the rounds (:func:`run_bench`);
- :mod:`~mirrorctl.bench.probe`: the probe of one mirror (warm-up, samples, download);
- :mod:`~mirrorctl.bench.listing`: reading a Simple-API page, safely; versions via ``packaging``;
- :mod:`~mirrorctl.bench.rank`: freshness and ranking;
- :mod:`~mirrorctl.bench.errors`: failures in words;
- :mod:`~mirrorctl.bench.report`: the results (:class:`BenchReport`, its JSON);
- :mod:`~mirrorctl.bench.select`: what to probe, the winner for `use`, pip's proxy and cert.

HTTP clients come from :mod:`mirrorctl.netpolicy`. Nothing here prints.
"""

from __future__ import annotations

from mirrorctl.bench.errors import http_status_error, seconds
from mirrorctl.bench.listing import (Listing, PageError, parse_listing, pick_file, read_listing, version_from_filename,
                                     version_key)
from mirrorctl.bench.probe import PAGE_HEADERS, PIP_ACCEPT, project_url
from mirrorctl.bench.rank import compute_lag, median, percentile, rank
from mirrorctl.bench.report import RANK_LATENCY, RANK_THROUGHPUT, BenchReport, ProbeProgress, ProbeResult
from mirrorctl.netpolicy import describe_error, scrub
from mirrorctl.bench.run import (DEFAULT_PACKAGE, DEFAULT_SAMPLES, DEFAULT_THROUGHPUT_BYTES, DEFAULT_TIMEOUT,
                                 MAX_SAMPLES, MAX_TIMEOUT, bench_async, check_arguments, run_bench)
from mirrorctl.bench.select import (Selection, pip_network_settings, pip_proxy_setting, select_mirrors,
                                    winning_mirror)

__all__ = [
    "BenchReport", "DEFAULT_PACKAGE", "DEFAULT_SAMPLES", "DEFAULT_THROUGHPUT_BYTES", "DEFAULT_TIMEOUT", "Listing",
    "MAX_SAMPLES", "MAX_TIMEOUT", "PAGE_HEADERS", "PIP_ACCEPT", "PageError", "ProbeProgress", "ProbeResult",
    "RANK_LATENCY", "RANK_THROUGHPUT", "Selection", "bench_async", "check_arguments", "compute_lag", "describe_error",
    "http_status_error", "median", "parse_listing", "percentile", "pick_file", "pip_network_settings",
    "pip_proxy_setting", "project_url", "rank", "read_listing", "run_bench", "scrub", "seconds", "select_mirrors",
    "version_from_filename", "version_key", "winning_mirror",
]
