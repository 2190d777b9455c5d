"""`mirrorctl bench`, and the bench behind `mirrorctl use fastest`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

import typer

from mirrorctl.i18n import _

from mirrorctl.cli.app import (DRY_RUN_OPTION, JSON_OPTION, PROJECT_OPTION, ROOT_OPTION, SCOPE_OPTION, TOOL_OPTION,
                               VENV_OPTION, ToolList, app, command_line, handled, helptext, make_context,
                               parse_scope)

if TYPE_CHECKING:  # pragma: no cover
    from mirrorctl.catalog import Mirror
    from mirrorctl.context import Context


# The measuring options, defined once: `bench` and `use fastest` share them (and their help).
NAMES_ARGUMENT = typer.Argument(
    None, help=_("Mirrors to probe: catalogue names, aliases or URLs. Default: the whole catalogue."))
SAMPLES_OPTION = typer.Option(5, "--samples", help=_("Requests per mirror (one kept-alive connection each), 1 to 50."))
TIMEOUT_OPTION = typer.Option(3.0, "--timeout", help=_(
    "Seconds each request may take, all told (reading the page included); at most 60."))
PACKAGE_OPTION = typer.Option("pip", "--package", help=_("The project whose page is fetched: GET <index>/<package>/."))
THROUGHPUT_OPTION = typer.Option(False, "--throughput",
                                 help=_("Also download one file linked from the page (bounded) and rank by MB/s."))
MAX_LAG_OPTION = typer.Option(None, "--max-lag", help=_(
    "Mirrors further behind the freshest than this cannot win (serial events, or releases where a mirror "
    "reports no serial). Default: fresh only, i.e. no release another mirror has may be missing, and at most "
    "1000 serial behind (about an hour of the official index)."))
ALLOW_STALE_OPTION = typer.Option(False, "--allow-stale", help=_(
    "Let a mirror that is behind the others win when it is the fastest."))
ALL_OPTION = typer.Option(False, "--all", help=_("Also probe catalogue mirrors marked unreliable."))
PROXY_OPTION = typer.Option(
    None, "--proxy", help=_("Probe through this proxy: http://, https://, socks5:// or socks5h://HOST:PORT; '' for "
                            "none. Default: pip's proxy setting, else ALL_PROXY/HTTPS_PROXY/HTTP_PROXY "
                            "(and NO_PROXY)."))
NO_PROXY_OPTION = typer.Option(False, "--no-proxy", help=_("Use no proxy at all (as --proxy '')."))
CONDA_OPTION = typer.Option(False, "--conda", help=_(
    "Time each mirror's conda channels (the start of a channel's repodata.json, as conda asks first) "
    "instead of its PyPI index."))
IPV4_OPTION = typer.Option(False, "-4", "--ipv4", help=_("Measure over IPv4 only (names resolved to IPv4 addresses)."))
IPV6_OPTION = typer.Option(False, "-6", "--ipv6", help=_("Measure over IPv6 only (names resolved to IPv6 addresses)."))


@app.command(help=helptext(
    _("Measure mirrors from here, all at once, and rank the healthy ones by latency.") + "\n\n"
    + _("Exits 7 when no mirror answered correctly, or when the proxy failed (refused, timed out, rejected the "
        "credentials): that is said once, with the proxy's host and port."),
    "mirrorctl bench",
    "mirrorctl bench tuna aliyun https://pypi.corp.example/simple --samples 10",
    "mirrorctl bench --max-lag 0 --apply --scope user",
    "mirrorctl bench -4 --samples 3",
    "mirrorctl bench --conda --apply --tool conda",
    "mirrorctl bench --json | jq -r .fastest"))
@handled
def bench(
    names: Optional[List[str]] = NAMES_ARGUMENT,
    samples: int = SAMPLES_OPTION,
    timeout: float = TIMEOUT_OPTION,
    package: str = PACKAGE_OPTION,
    throughput: bool = THROUGHPUT_OPTION,
    max_lag: Optional[int] = MAX_LAG_OPTION,
    allow_stale: bool = ALLOW_STALE_OPTION,
    include_all: bool = ALL_OPTION,
    proxy: Optional[str] = PROXY_OPTION,
    no_proxy: bool = NO_PROXY_OPTION,
    ipv4: bool = IPV4_OPTION,
    ipv6: bool = IPV6_OPTION,
    conda: bool = CONDA_OPTION,
    apply: bool = typer.Option(False, "--apply", help=_("Switch to the winner, as `mirrorctl use` does.")),
    tool: ToolList = TOOL_OPTION,
    scope: str = SCOPE_OPTION,
    venv: Optional[str] = VENV_OPTION,
    root: Optional[str] = ROOT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl import bench as core
    from mirrorctl.catalog import load_catalog
    from mirrorctl.errors import NoHealthyMirrorError, UsageError
    from mirrorctl.render.bench import live_progress, render_applied, render_bench

    if not apply and (tool or dry_run or scope.strip().lower() != "user" or root or venv or project):
        wants_conda = not conda and any(t.strip().lower() == "conda" for item in tool or () for t in item.split(","))
        raise UsageError(_("--tool, --scope, --root, --venv, --project and --dry-run go with --apply"),
                         hint=_("--conda measures conda's channels; --apply --tool conda switches conda to the winner")
                         if wants_conda else _("add --apply to switch to the winner"))
    family = address_family(ipv4, ipv6)
    if conda and apply:
        if tool and any(t.strip() != "conda" for item in tool for t in item.split(",")):
            raise UsageError(_("--conda measures conda's channels: with --apply it switches conda only"),
                             hint=_("drop --tool, or give --tool conda"))
        tool = ["conda"]
    ctx = make_context(root=root, venv=venv, project=project)
    scope_value = parse_scope(scope) if apply else None
    catalog = load_catalog(ctx)
    selection = core.select_mirrors(catalog, with_cache(ctx, names or ()), include_unreliable=include_all,
                                    conda=conda)
    network = core.pip_network_settings(ctx)
    plan = proxy_plan(ctx, option=proxy, off=no_proxy)
    with live_progress(selection.mirrors, samples=samples, throughput=throughput, enabled=not as_json) as on_event:
        report = core.run_bench(selection.mirrors, samples=samples, timeout=timeout, package=package,
                                throughput=throughput, max_lag=max_lag, allow_stale=allow_stale, proxy_plan=plan,
                                ca_bundle=network["ca_bundle"], family=family, on_event=on_event,
                                endpoint="conda" if conda else "pypi")
    render_bench(report, as_json, skipped=selection.skipped, will_apply=apply)
    if not apply:
        core.winning_mirror(report, selection.mirrors)  # exit 7 when nothing is healthy
        return
    from mirrorctl import ops

    try:
        winner = core.winning_mirror(report, selection.mirrors)
    except NoHealthyMirrorError:
        render_applied(report, None, as_json, skipped=selection.skipped)
        raise
    result = ops.use_mirror(ctx, winner, tools=tool, scope=scope_value, dry_run=dry_run, command=command_line(),
                            catalog=catalog)
    render_applied(report, result, as_json, skipped=selection.skipped)


def with_cache(ctx: "Context", names: Sequence[str]) -> list:
    """``cache`` among the names: the local cache (`mirrorctl cache`), measured beside the mirrors."""
    out: list = []
    for name in names:
        if name.strip().lower() == "cache":
            from mirrorctl.cache import catalog_entry, resolve

            entry = catalog_entry(ctx)
            if entry is None:
                resolve(ctx)  # the UsageError that says there is no cache yet, and how to start one
            out.append(entry)
        else:
            out.append(name)
    return out


def address_family(ipv4: bool, ipv6: bool) -> Optional[int]:
    """-4 -> 4, -6 -> 6, neither -> None (both families, as the system prefers)."""
    from mirrorctl.errors import UsageError

    if ipv4 and ipv6:
        raise UsageError(_("-4 and -6 contradict each other"), hint=_("give one of them, or neither for both"))
    return 4 if ipv4 else 6 if ipv6 else None


def proxy_plan(ctx: "Context", *, option: Optional[str] = None, off: bool = False):
    """The proxy for the probes: --proxy/--no-proxy, else pip's proxy setting, else the environment."""
    from mirrorctl import bench as core
    from mirrorctl.errors import UsageError
    from mirrorctl.proxy import plan

    if off and option:
        raise UsageError(_("--no-proxy and --proxy URL contradict each other"), hint=_("give one of them"))
    return plan(option=option, off=off, pip=core.pip_proxy_setting(ctx), environ=ctx.environ)


def pick_fastest(ctx: "Context", *, as_json: bool = False, names: Sequence[str] = (), samples: int = 5,
                 timeout: float = 3.0, package: str = "pip", throughput: bool = False, max_lag: Optional[int] = None,
                 include_all: bool = False, proxy: Optional[str] = None, no_proxy: bool = False,
                 ipv4: bool = False, ipv6: bool = False, conda: bool = False, allow_stale: bool = False) -> "Mirror":
    """For `mirrorctl use fastest`: bench the catalogue (reliable mirrors), or ``names``; return the winner.

    The options are `bench`'s (the same defaults; see the *_OPTION definitions above).
    Shows the live progress and the table unless ``as_json`` (stdout then carries
    only the JSON of `use`). Raises NoHealthyMirrorError when no mirror is healthy,
    before anything is written.
    """
    from mirrorctl import bench as core
    from mirrorctl.catalog import load_catalog
    from mirrorctl.render import console
    from mirrorctl.render.bench import live_progress, print_bench

    family = address_family(ipv4, ipv6)
    catalog = load_catalog(ctx)
    selection = core.select_mirrors(catalog, with_cache(ctx, names or ()), include_unreliable=include_all,
                                    conda=conda)
    network = core.pip_network_settings(ctx)
    plan = proxy_plan(ctx, option=proxy, off=no_proxy)
    with live_progress(selection.mirrors, samples=samples, throughput=throughput, enabled=not as_json) as on_event:
        report = core.run_bench(selection.mirrors, samples=samples, timeout=timeout, package=package,
                                throughput=throughput and not conda, max_lag=max_lag, allow_stale=allow_stale,
                                proxy_plan=plan,
                                ca_bundle=network["ca_bundle"], family=family, on_event=on_event,
                                endpoint="conda" if conda else "pypi")
    if not as_json:
        print_bench(report, console(), skipped=selection.skipped)
    return core.winning_mirror(report, selection.mirrors)


def pick_fastest_per_tool(ctx: "Context", tools: Sequence[str], **options: Any) -> Dict[str, "Mirror"]:
    """For `use fastest`: one winner per tool, each measured by its own endpoint.

    conda by the conda bench (repodata.json), the PyPI tools (pip, uv, Poetry, PDM, pipenv) by the
    index bench; each bench runs once. ``options`` are :func:`pick_fastest`'s. Returns
    ``{tool: mirror}`` for every tool in ``tools``.
    """
    chosen: Dict[str, "Mirror"] = {}
    pypi_tools = [t for t in tools if t != "conda"]
    if pypi_tools:
        winner = pick_fastest(ctx, **options)
        chosen.update({t: winner for t in pypi_tools})
    if "conda" in tools:
        chosen["conda"] = pick_fastest(ctx, **{**options, "conda": True})
    return chosen
