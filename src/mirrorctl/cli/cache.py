"""`mirrorctl cache start|stop|status|service`: a local caching proxy (devpi-server)."""

from __future__ import annotations

from typing import List, Optional

import typer

from mirrorctl.cli import first_sentence
from mirrorctl.cli.app import JSON_OPTION, app, handled, make_context
from mirrorctl.i18n import _

_HELP = _("A local cache of the package index (devpi-server) that keeps installing when mirrors are down.\n\n"
          "Examples:\n\n"
          "  mirrorctl cache start tuna aliyun\n\n"
          "  mirrorctl use cache\n\n"
          "  mirrorctl cache status\n\n"
          "  mirrorctl cache stop")
cache_app = typer.Typer(
    name="cache",
    help=_HELP,
    short_help=first_sentence(_HELP),  # the command list shows it whole, as the other commands' (cli/__init__.py)
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(cache_app, name="cache")


@cache_app.command(help=_("Start the cache in the background (set up on the first run), or bring the running one "
                            "to these upstreams.\n\nExamples:\n\n  mirrorctl cache start tuna aliyun --port 3141\n\n  mirrorctl cache start fastest"))
@handled
def start(
    mirrors: Optional[List[str]] = typer.Argument(
        None, help=_("Upstream mirrors in order (catalogue names or URLs); the cache goes on through the next "
                     "when one is down. 'fastest [NAMES]': the three fastest fresh ones, measured as `use "
                     "fastest` does. Default: those of the last start, else the fastest fresh mirrors from here.")),
    host: Optional[str] = typer.Option(None, "--host", help=_("Address to listen on (default 127.0.0.1; "
                                                              "0.0.0.0 for a team on the LAN).")),
    port: Optional[int] = typer.Option(None, "--port", help=_("Port to listen on (default 3141).")),
    uploads: Optional[bool] = typer.Option(None, "--uploads/--no-uploads",
                                           help=_("Let the admin account upload to the cache (default: off).")),
    upstream_timeout: Optional[float] = typer.Option(
        None, "--upstream-timeout", help=_("Seconds the cache waits for an upstream before going on with the next "
                                           "(default 5).")),
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl.cache.control import start as start_cache
    from mirrorctl.render.cache import progress, render_start

    ctx = make_context()
    with progress(not as_json) as step:
        result = start_cache(ctx, mirrors or (), host=host, port=port, uploads=uploads,
                             timeout=upstream_timeout, step=step)
    render_start(result, as_json)


@cache_app.command(help=_("Stop the cache; what it holds stays for the next start.\n\nExample: mirrorctl cache stop"))
@handled
def stop(as_json: bool = JSON_OPTION) -> None:
    from mirrorctl.cache.control import stop as stop_cache
    from mirrorctl.render.cache import render_stop

    render_stop(stop_cache(make_context()), as_json)


@cache_app.command(help=_("Whether the cache is up, its URL, its upstreams (which answer), size and hits.\n\n"
                            "Example: mirrorctl cache status --json"))
@handled
def status(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(3.0, "--timeout", help=_("Seconds to wait for each upstream mirror.")),
    offline: bool = typer.Option(False, "--no-check", help=_("Do not ask the upstream mirrors.")),
) -> None:
    from mirrorctl.cache.report import status as cache_status
    from mirrorctl.render.cache import render_status

    if not 0 < timeout <= 60:
        from mirrorctl.errors import UsageError

        raise UsageError(_("bad --timeout {seconds}").format(seconds=timeout),
                         hint=_("a number of seconds above 0, at most 60"))
    render_status(cache_status(make_context(), check_upstreams=not offline, timeout=timeout), as_json)


@cache_app.command(help=_("Print a systemd user unit, or a container command, that runs the cache set up by "
                            "`cache start`.\n\nExample: mirrorctl cache service > "
                            "~/.config/systemd/user/mirrorctl-cache.service"))
@handled
def service(
    kind: str = typer.Argument("systemd", help=_("systemd (a user unit) or container (a docker/podman command).")),
) -> None:
    from mirrorctl.cache.service import render as service_text
    from mirrorctl.render.cache import render_service

    render_service(service_text(make_context(), kind))
