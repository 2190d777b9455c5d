"""`mirrorctl list`, `add`, `remove`."""

from __future__ import annotations

from typing import Optional

import typer

from mirrorctl.cli.app import DRY_RUN_OPTION, JSON_OPTION, app, command_line, handled, helptext, make_context
from mirrorctl.i18n import _

NO_VERIFY_OPTION = typer.Option(False, "--no-verify", envvar="MIRRORCTL_NO_VERIFY", show_envvar=True,
                                help=_("Write a URL without first checking that it answers as a package index "
                                       "(an image built before its network is up)."))


@app.command("list", help=helptext(_("List the mirror catalogue (built-in and your own); * marks the one pip uses now."),
                                    "mirrorctl list --json"))
@handled
def list_(as_json: bool = JSON_OPTION) -> None:
    from mirrorctl import ops
    from mirrorctl.render.results import render_list

    render_list(ops.list_mirrors(make_context()), as_json)


@app.command(help=helptext(_("Add your own mirror to the catalogue (or update it). With a built-in mirror's name it "
                             "replaces that mirror, aliases included; a built-in alias is not a name you can take. "
                             "The URL is checked first (one request for a project page); --no-verify skips that."),
                           "mirrorctl add corp https://pypi.corp.example/simple"))
@handled
def add(
    name: str = typer.Argument(..., help=_("A short name: lowercase letters, digits, '.', '_', '-'.")),
    url: str = typer.Argument(..., help=_("The Simple-API index URL (http or https).")),
    conda: Optional[str] = typer.Option(None, "--conda", help=_("The mirror's conda base URL, if it has one.")),
    conda_layout: str = typer.Option("full", "--conda-layout", help=_("full (defaults + cloud channels) or cloud.")),
    title: Optional[str] = typer.Option(None, "--title", help=_("A human-readable name.")),
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
    package: str = typer.Option("pip", "--package", help=_("The project whose page checks the URL: "
                                                           "GET <index>/<package>/.")),
    no_verify: bool = NO_VERIFY_OPTION,
) -> None:
    from mirrorctl import ops
    from mirrorctl.errors import UsageError
    from mirrorctl.render.results import render_change

    if conda_layout not in ("full", "cloud"):
        raise UsageError(_("unknown conda layout {value!r}").format(value=conda_layout), hint=_("use full or cloud"))
    result = ops.add_mirror(make_context(), name, url, conda=conda, conda_layout=conda_layout, title=title,
                            dry_run=dry_run, command=command_line(), verify=not no_verify, package=package)
    render_change(result, as_json)


@app.command(help=helptext(_("Remove a mirror you added."), "mirrorctl remove corp"))
@handled
def remove(
    name: str = typer.Argument(..., help=_("The name of a mirror you added.")),
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    from mirrorctl import ops
    from mirrorctl.render.results import render_change

    render_change(ops.remove_mirror(make_context(), name, dry_run=dry_run, command=command_line()), as_json)
