"""`mirrorctl use`, `reset`, `status`, `undo`, `history`."""

from __future__ import annotations

from typing import List, Optional

import typer

from mirrorctl.cli.bench import (ALL_OPTION, ALLOW_STALE_OPTION, IPV4_OPTION, IPV6_OPTION, MAX_LAG_OPTION,
                                 NAMES_ARGUMENT, NO_PROXY_OPTION, PACKAGE_OPTION, PROXY_OPTION, SAMPLES_OPTION,
                                 THROUGHPUT_OPTION, TIMEOUT_OPTION)
from mirrorctl.cli.app import (CHECK_OPTION, DRY_RUN_OPTION, JSON_OPTION, PROJECT_OPTION, ROOT_OPTION, SCOPE_OPTION,
                               TOOL_OPTION, VENV_OPTION, ToolList, app, command_line, handled, helptext,
                               make_context, parse_scope)
from mirrorctl.cli.guard import Exit
from mirrorctl.errors import ExitCode
from mirrorctl.i18n import _
from mirrorctl.cli.catalog import NO_VERIFY_OPTION


@app.command(help=helptext(
    _("Switch pip (and the other tools in use) to a mirror.") + "\n\n"
    + _("With 'fastest', bench's options choose what is measured and how (names after 'fastest' limit "
        "it to those mirrors); they mean nothing for a named mirror. A URL outside the catalogue is "
        "checked first: one request for a project page (--package, default pip); --no-verify skips it."),
    "mirrorctl use tuna",
    "mirrorctl use https://pypi.corp.example/simple --scope global",
    "mirrorctl use aliyun --scope venv --venv .venv --dry-run",
    'mirrorctl use tuna --check || echo "not yet on tuna"',
    "mirrorctl use fastest tuna aliyun ustc --timeout 2 --samples 3"))
@handled
def use(
    mirror: str = typer.Argument(..., help=_("A catalogue name or alias, a URL, or 'fastest'.")),
    names: Optional[List[str]] = NAMES_ARGUMENT,
    tool: ToolList = TOOL_OPTION,
    scope: str = SCOPE_OPTION,
    venv: Optional[str] = VENV_OPTION,
    root: Optional[str] = ROOT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    check: bool = CHECK_OPTION,
    as_json: bool = JSON_OPTION,
    samples: int = SAMPLES_OPTION,
    timeout: float = TIMEOUT_OPTION,
    package: str = PACKAGE_OPTION,
    throughput: bool = THROUGHPUT_OPTION,
    max_lag: Optional[int] = MAX_LAG_OPTION,
    include_all: bool = ALL_OPTION,
    proxy: Optional[str] = PROXY_OPTION,
    no_proxy: bool = NO_PROXY_OPTION,
    allow_stale: bool = ALLOW_STALE_OPTION,
    ipv4: bool = IPV4_OPTION,
    ipv6: bool = IPV6_OPTION,
    no_verify: bool = NO_VERIFY_OPTION,
    fallback: Optional[List[str]] = typer.Option(
        None, "--fallback", metavar="MIRROR,...",
        help=_("Further mirrors (comma list, may repeat) for the tools that go on with the next index "
               "when one is down (pip's extra-index-url); replaces the ones mirrorctl wrote before.")),
) -> None:
    from mirrorctl import ops
    from mirrorctl.render.results import render_change

    ctx = make_context(root=root, venv=venv, project=project)
    target = mirror
    measuring = {"samples": (samples, 5), "timeout": (timeout, 3.0), "package": (package, "pip"),
                 "throughput": (throughput, False), "max-lag": (max_lag, None), "all": (include_all, False),
                 "proxy": (proxy, None), "no-proxy": (no_proxy, False), "allow-stale": (allow_stale, False),
                 "ipv4": (ipv4, False), "ipv6": (ipv6, False)}
    tool_mirrors = None
    verify = not no_verify
    if mirror.strip().lower() == "fastest":
        from mirrorctl.cli.bench import pick_fastest_per_tool

        verify = False  # the bench has just read the winner's page for --package: an index
        # each tool ranked by its own endpoint: conda by its channels, the PyPI tools by the index
        chosen = ops.choose_tools(ctx, tool, parse_scope(scope))
        tool_mirrors = pick_fastest_per_tool(
            ctx, chosen or ["pip"], as_json=as_json, names=names or (), samples=samples, timeout=timeout,
            package=package, throughput=throughput, max_lag=max_lag, include_all=include_all, proxy=proxy,
            no_proxy=no_proxy, ipv4=ipv4, ipv6=ipv6, allow_stale=allow_stale)
        target = next((m for t, m in tool_mirrors.items() if t != "conda"), None) or tool_mirrors["conda"]
    else:
        from mirrorctl.urls import looks_like_url

        if looks_like_url(mirror):  # --package: the project a URL is checked with
            measuring.pop("package")
        given = [f"--{k}" for k, (value, default) in measuring.items() if value != default]
        if names or given:
            from mirrorctl.errors import UsageError

            extra = " ".join(names or []) if names else ", ".join(given)
            raise UsageError(_("{options}: only `use fastest` measures mirrors").format(options=extra),
                             hint=_("`mirrorctl use fastest {mirror} ...` to measure, or leave that out")
                             .format(mirror=mirror))
    result = ops.use_mirror(ctx, target, tools=tool, scope=parse_scope(scope), dry_run=dry_run, check=check,
                            command=command_line(), verify=verify, package=package, fallbacks=fallback or (),
                            tool_mirrors=tool_mirrors)
    render_change(result, as_json)
    if check and (result.changed or result.overridden):  # never "already" while a tool uses another index
        raise Exit(ExitCode.CHANGES_PENDING)


@app.command(help=helptext(_("Remove the index settings mirrorctl manages; the rest of each file stays as it was."),
                           "mirrorctl reset --tool pip --scope user"))
@handled
def reset(
    tool: ToolList = TOOL_OPTION,
    scope: str = SCOPE_OPTION,
    venv: Optional[str] = VENV_OPTION,
    root: Optional[str] = ROOT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    dry_run: bool = DRY_RUN_OPTION,
    check: bool = CHECK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl import ops
    from mirrorctl.render.results import render_change

    ctx = make_context(root=root, venv=venv, project=project)
    result = ops.reset(ctx, tools=tool, scope=parse_scope(scope), dry_run=dry_run, check=check,
                       command=command_line())
    render_change(result, as_json)
    if check and result.changed:
        raise Exit(ExitCode.CHANGES_PENDING)


@app.command(help=helptext(_("Show the index each tool really uses now, and which file or variable decides it."),
                           "mirrorctl status", "mirrorctl status --files",
                           "mirrorctl status --json | jq -r '.tools[0].index_url'"))
@handled
def status(
    tool: ToolList = typer.Option(None, "--tool", "-t", help=_("Only these tools (comma list, may repeat).")),
    venv: Optional[str] = VENV_OPTION,
    root: Optional[str] = ROOT_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    verbose: bool = typer.Option(False, "--files",
                                 help=_("Also list every file each tool reads, like `pip config debug`.")),
    show_all: bool = typer.Option(False, "--all", help=_("Also show tools neither installed nor configured.")),
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl import ops
    from mirrorctl.render.results import render_status

    report = ops.status(make_context(root=root, venv=venv, project=project), tools=tool, show_all=show_all)
    render_status(report, as_json, verbose=verbose)
    if report.has_errors:
        raise Exit(ExitCode.BAD_CONFIG)


@app.command(help=helptext(_("Put back every file of the last change exactly as it was."), "mirrorctl undo"))
@handled
def undo(
    force: bool = typer.Option(False, "--force", help=_("Restore even files edited since mirrorctl wrote them.")),
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl import ops
    from mirrorctl.render.results import render_undo

    render_undo(ops.undo(make_context(), force=force, dry_run=dry_run), as_json, dry_run=dry_run)


@app.command(help=helptext(_("List the changes mirrorctl made, newest first (undo takes the newest applied one)."),
                           "mirrorctl history --limit 5"))
@handled
def history(
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help=_("Show only the newest N changes.")),
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl import ops
    from mirrorctl.render.results import render_history

    render_history(ops.history(make_context(), limit), as_json)
