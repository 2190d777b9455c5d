"""Bench results for people (a rich table, a live progress display) and for programs (JSON).

Passwords in index URLs are masked here, at display time: the results keep the real URL.
Every value (a mirror's name, an error, a URL, the package) goes through ``shown``
(render.text) before it becomes a rich ``Text``: its control characters are shown
escaped, and a ``Text`` is never read as markup.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from mirrorctl.i18n import _, ngettext
from mirrorctl.render.text import shown
from mirrorctl.urls import mask_url

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from mirrorctl.bench.report import BenchReport, ProbeProgress, ProbeResult
    from mirrorctl.catalog import Mirror

BAR_WIDTH = 20
_EIGHTHS = " ▏▎▍▌▋▊▉█"


def escape(text: str) -> str:
    """For a rich markup string: controls shown escaped, then markup escaped
    (error messages carry brackets: "[Errno 101] ...")."""
    from rich.markup import escape as _escape

    return _escape(shown(text))


def _text(value: object, style: str = "") -> "Text":
    """A value as a rich Text: controls shown escaped, never markup."""
    from rich.text import Text

    return Text(shown(value), style=style)


def bench_json(report: "BenchReport", *, skipped: Sequence["Mirror"] = ()) -> Dict[str, Any]:
    """The ``--json`` document (see docs/json.md)."""
    data = report.to_dict()
    data["skipped"] = [{"name": m.name, "url": mask_url(m.url), "reason": "unreliable"} for m in skipped]
    return data


def print_json(data: Any) -> None:
    from mirrorctl.render import print_json as _print_json

    _print_json(data)


def ordered(report: "BenchReport") -> List["ProbeResult"]:
    """Fastest first, then the mirrors that cannot win (stale, then failed) in catalogue order."""

    def key(r: "ProbeResult") -> tuple:
        if r.rank is not None:
            return (0, r.rank, r.index)
        return (1 if r.ok else 2, 0, r.index)

    return sorted(report.results, key=key)


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``fraction`` (0..1) of ``width`` cells, in eighths of a cell."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def _ms(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def _lag(r: "ProbeResult") -> str:
    if r.lag is None:
        return "?" if r.ok else ""
    if r.lag == 0:
        return "0"
    if r.lag_unit == "releases":
        return _("{lag} rel.").format(lag=r.lag)  # releases behind, short: a table cell
    return str(r.lag)


def bench_table(report: "BenchReport") -> "Table":
    """The results table: one row a mirror, fastest first, with a bar, and failures with reasons."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    by_throughput = report.ranked_by == "throughput"
    rows = ordered(report)
    healthy = [r for r in rows if r.rank is not None]
    if by_throughput:
        best = max((r.throughput_mbps or 0.0 for r in healthy), default=0.0)
    else:
        worst = max((r.median_ms or 0.0 for r in healthy), default=0.0)

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", style="bold")
    table.add_column(_("mirror"), no_wrap=True)
    if by_throughput:
        table.add_column("MB/s", justify="right")
    table.add_column(_("median"), justify="right")
    table.add_column("p90", justify="right")
    table.add_column("", no_wrap=True)  # the bar
    table.add_column(_("connect"), justify="right")
    table.add_column("TLS", justify="right")
    table.add_column(_("lag"), justify="right")
    table.add_column(_("notes"), overflow="fold")  # a long reason wraps whole (Chinese has no spaces to break at)

    for r in rows:
        name = _text(r.name, style="bold green" if r.rank == 1 else "")
        notes: List[Union[str, Text]] = []
        if r.rank is not None:
            if by_throughput:
                fraction = (r.throughput_mbps or 0.0) / best if best else 0.0
            else:
                fraction = (r.median_ms or 0.0) / worst if worst else 0.0
            bar_text = Text(bar(fraction), style="green" if r.rank == 1 else "cyan")
            if r.rank == 1:
                notes.append(Text(_("fastest"), style="bold green"))
        else:
            bar_text = Text("")
        if r.stale and r.ok:
            notes.append(Text(_("stale: {reason}").format(reason=shown(r.stale_reason or "")), style="yellow"))
        if not r.ok:
            notes.append(_text(r.error or _("failed"), style="red"))
        if r.final_url:
            notes.append(_text(f"→ {mask_url(r.final_url)}", style="dim"))
        cells: List[Union[str, Text]] = [str(r.rank) if r.rank is not None else ("~" if r.ok else "✗"), name]
        if by_throughput:
            cells.append("-" if r.throughput_mbps is None else f"{r.throughput_mbps:.2f}")
        cells += [
            _ms(r.median_ms) if r.ok else "",
            _ms(r.p90_ms) if r.ok else "",
            bar_text,
            _ms(r.connect_ms) if r.connect_ms is not None else "",
            _ms(r.tls_ms) if r.tls_ms is not None else "",
            "" if report.endpoint == "conda" else _lag(r),
            Text(" · ").join(_text(n) if isinstance(n, str) else n for n in notes),
        ]
        table.add_row(*cells)
    return table


def bench_list(report: "BenchReport") -> "Text":
    """The results as a list, for a terminal narrower than the table: a mirror a line, then its
    figures and notes on lines of their own, wrapped whole (nothing cut to "...")."""
    from rich.text import Text

    by_throughput = report.ranked_by == "throughput"
    out = Text()
    for r in ordered(report):
        mark = str(r.rank) if r.rank is not None else ("~" if r.ok else "✗")
        out.append(f"{mark:>2} ", style="bold")
        out.append_text(_text(r.name, style="bold green" if r.rank == 1 else ""))
        if r.rank == 1:
            out.append("  " + _("fastest"), style="bold green")
        out.append("\n")
        figures = []
        if r.ok:
            if by_throughput and r.throughput_mbps is not None:
                figures.append(f"{r.throughput_mbps:.2f} MB/s")
            figures.append(f"{_('median')} {_ms(r.median_ms)}")
            figures.append(f"p90 {_ms(r.p90_ms)}")
        if r.connect_ms is not None:
            figures.append(f"{_('connect')} {_ms(r.connect_ms)}")
        if r.tls_ms is not None:
            figures.append(f"TLS {_ms(r.tls_ms)}")
        if r.ok and report.endpoint != "conda" and _lag(r):
            figures.append(f"{_('lag')} {_lag(r)}")
        if figures:
            out.append("   " + " · ".join(figures) + "\n")
        if r.stale and r.ok:
            out.append("   " + _("stale: {reason}").format(reason=shown(r.stale_reason or "")) + "\n", style="yellow")
        if not r.ok:
            out.append_text(_text("   " + (r.error or _("failed")), style="red"))
            out.append("\n")
        if r.final_url:
            out.append_text(_text(f"   → {mask_url(r.final_url)}", style="dim"))
            out.append("\n")
    out.rstrip()
    return out


def bench_summary(report: "BenchReport") -> "Text":
    """One line under the table: the winner, or why there is none."""
    from rich.text import Text

    winner = report.winner
    if winner is not None:
        if report.ranked_by == "throughput" and winner.throughput_mbps is not None:
            measure = _("{mbps} MB/s, {time} median").format(mbps=f"{winner.throughput_mbps:.2f}",
                                                             time=_ms(winner.median_ms))
        else:
            n = len(winner.samples_ms)
            measure = ngettext("{time} median of {n} sample", "{time} median of {n} samples", n).format(
                time=_ms(winner.median_ms), n=n)
        text = Text.assemble((_("fastest: "), "bold"), (shown(winner.name), "bold green"),
                             f"  {shown(mask_url(winner.url))}  " + _("({measure})").format(measure=measure))
    else:
        if report.endpoint == "conda":
            text = Text(_("no healthy mirror: none answered every request with a conda repodata.json"),
                        style="bold red")
        else:
            text = Text(_("no healthy mirror: none answered every request with a Simple-API page"), style="bold red")
        if any(r.ok and r.stale for r in report.results):
            text.append(_(" (stale mirrors cannot win: --allow-stale, or --max-lag N)"), style="yellow")
    if winner is not None:
        passed = [r for r in report.results if r.ok and r.stale and r.median_ms is not None
                  and winner.median_ms is not None and r.median_ms < winner.median_ms]
        if passed:
            names = ", ".join(shown(r.name) for r in passed[:3]) + (" ..." if len(passed) > 3 else "")
            text.append("\n" + _("passed over, faster but stale: {names} (see the notes; --allow-stale to take "
                                  "them)").format(names=names), style="yellow")
    failed = len(report.failed)
    what = "repodata.json" if report.endpoint == "conda" else f"/{shown(report.package)}/"
    probed = len(report.results)
    tail = "\n" + ngettext("probed {n} mirror with {what}", "probed {n} mirrors with {what}", probed).format(
        n=probed, what=what)
    if report.elapsed_ms is not None:
        tail += _(" in {seconds} s").format(seconds=f"{report.elapsed_ms / 1000:.1f}")
    if report.family is not None:
        tail += _(", over IPv{family} only").format(family=report.family)
    if failed:
        tail += ngettext("; {n} failed", "; {n} failed", failed).format(n=failed)
    lags = [r.lag for r in report.results if r.ok and r.lag is not None]
    if report.reference and lags and not any(lags):
        tail += _("; all equally fresh")
    elif report.reference:
        tail += _("; lag is measured against {mirror}").format(mirror=shown(report.reference))
    via = proxy_line(report)
    if via:
        tail += f"\n{via}"
    text.append(tail, style="dim")
    return text


def proxy_line(report: "BenchReport") -> str:
    """Which proxy the probes went through, and where it came from (its password masked)."""
    info = report.proxy or {}
    urls = info.get("urls") or []
    source = shown(info.get("source") or "")
    if not urls:
        if source and source not in ("none",):
            return _("no proxy ({source})").format(source=source)
        return _("no proxy")
    line = _("through the proxy {proxy} (from {source})").format(proxy=shown(", ".join(urls)),
                                                                 source=source)
    bypassed = info.get("bypassed") or []
    if bypassed:
        line += ngettext("; {n} mirror direct (NO_PROXY)", "; {n} mirrors direct (NO_PROXY)",
                         len(bypassed)).format(n=len(bypassed))
    return line


def proxy_failed_everywhere(report: "BenchReport") -> bool:
    """The proxy failed and no mirror answered: the error line says it once, no table."""
    return bool(report.proxy_error) and report.winner is None and all(r.proxy_failed for r in report.results)


def print_bench(report: "BenchReport", console: "Console", *, skipped: Sequence["Mirror"] = ()) -> None:
    """The table and the summary line, on ``console``."""
    if not report.results:
        console.print(_("no mirror to probe"))
    elif proxy_failed_everywhere(report):
        return  # the error (one line naming the proxy) follows on stderr
    else:
        table = bench_table(report)
        # narrower than the table needs (60 columns, say): a list, so that no figure or reason is lost
        natural = console.measure(table, options=console.options.update_width(10_000)).maximum
        wide_enough = natural <= console.width
        console.print(table if wide_enough else bench_list(report))
        console.print(bench_summary(report))
    if skipped:
        from rich.text import Text

        names = ", ".join(shown(m.name) for m in skipped)
        console.print(Text(_("not probed (marked unreliable; name one, or use --all, to include it): {names}")
                           .format(names=names), style="dim"))


def render_bench(report: "BenchReport", as_json: bool, *, skipped: Sequence["Mirror"] = (),
                 applied: Any = None, will_apply: bool = False) -> None:
    """``mirrorctl bench``: the table on stdout, or the JSON document.

    With ``--apply`` and ``--json`` the JSON is printed once, at the end, with the
    change under ``"applied"`` (null when nothing could be applied): call this with
    ``will_apply=True`` before applying (prints the table only), then
    :func:`render_applied`.
    """
    from mirrorctl.render import console

    if as_json:
        if not will_apply:
            print_json(bench_json(report, skipped=skipped))
        return
    print_bench(report, console(), skipped=skipped)


def render_applied(report: "BenchReport", result: Any, as_json: bool, *, skipped: Sequence["Mirror"] = ()) -> None:
    """After ``bench --apply``: what ``use`` changed (``result`` is an ops.ChangeResult, or None)."""
    from mirrorctl.render.results import change_result_dict, render_change

    if as_json:
        data = bench_json(report, skipped=skipped)
        data["applied"] = change_result_dict(result) if result is not None else None
        print_json(data)
        return
    if result is not None:
        render_change(result, False)


# ---------------------------------------------------------------------------
# the live display while probing


#: how often the live view is drawn. It is drawn by a thread of rich's, which holds the GIL
#: meanwhile (about 0.25 ms a line): an answer that comes then is read that much later, and
#: its sample measures it too. At 10 a second and 200 lines that was half of the time.
LIVE_REFRESH_PER_SECOND = 4


class LiveBench:
    """A rich progress display, one line a mirror, fed by run_bench's ``on_event``.

    Only the lines a screen can show are drawn (the terminal would crop the others anyway),
    :data:`LIVE_REFRESH_PER_SECOND` times a second: the drawing must not weigh on the samples.
    """

    def __init__(self, mirrors: Sequence["Mirror"], samples: int, console: "Console", *, throughput: bool = False):
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        self.samples = samples
        self.throughput = throughput
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", style="bold"),
            BarColumn(bar_width=BAR_WIDTH),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TextColumn("{task.fields[state]}"),
            console=console,
            transient=True,
            refresh_per_second=LIVE_REFRESH_PER_SECOND,
        )
        self.tasks = {}
        shown = max(1, console.size.height - 1)
        for index, mirror in enumerate(mirrors):
            total = samples + (1 if throughput else 0)
            self.tasks[index] = self.progress.add_task(escape(mirror.name), total=total, visible=index < shown,
                                                       state="[dim]" + escape(_("connecting…")))

    def __enter__(self) -> "LiveBench":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, kind: str, payload: Union["ProbeProgress", "ProbeResult"]) -> None:
        task = self.tasks.get(payload.index)
        if task is None:
            return
        if kind == "sample":
            last = getattr(payload, "last_ms", None)
            self.progress.update(task, completed=payload.done, state=f"{_ms(last)}")  # type: ignore[union-attr]
        elif kind == "download":
            self.progress.update(task, state="[dim]" + escape(_("downloading a file…")))
        elif kind == "done":
            result = payload
            total = self.samples + (1 if self.throughput else 0)
            if getattr(result, "ok", False):
                self.progress.update(task, completed=total, state=f"[green]✓ {_ms(result.median_ms)}")  # type: ignore[union-attr]
            else:
                reason = escape(getattr(result, "error", None) or _("failed"))
                self.progress.update(task, completed=total, state=f"[red]✗ {reason}")


def _stderr_console() -> "Console":
    from mirrorctl.render import console

    return console(stderr=True)


@contextlib.contextmanager
def live_progress(
    mirrors: Sequence["Mirror"],
    *,
    samples: int,
    throughput: bool = False,
    enabled: bool = True,
    console: Optional["Console"] = None,
) -> Iterator[Optional[Callable[[str, Any], None]]]:
    """Yield an ``on_event`` callback showing live progress on stderr, or None.

    Nothing is shown unless ``enabled`` (the CLI passes ``not --json``) and the
    console (stderr by default) is a terminal.
    """
    if not enabled or not mirrors:
        yield None
        return
    console = console or _stderr_console()
    if not console.is_terminal:
        yield None
        return
    with LiveBench(mirrors, samples, console, throughput=throughput) as live:
        yield live
