"""`mirrorctl list`, `add`, `remove`."""

from __future__ import annotations

from typing import Optional

import typer

from mirrorctl.cli.app import DRY_RUN_OPTION, JSON_OPTION, app, command_line, handled, make_context
from mirrorctl.i18n import _

NO_VERIFY_OPTION = typer.Option(False, "--no-verify", help=_("Write a URL without first checking that it answers "
                                                              "as a package index."))


@app.command("list")
@handled
def list_(as_json: bool = JSON_OPTION) -> None:
    """List the mirror catalogue (built-in and your own); * marks the one pip uses now.

    Example: mirrorctl list --json
    """
    from mirrorctl import ops
    from mirrorctl.render.results import render_list

    render_list(ops.list_mirrors(make_context()), as_json)


@app.command()
@handled
def add(
    name: str = typer.Argument(..., help="A short name: lowercase letters, digits, '.', '_', '-'."),
    url: str = typer.Argument(..., help="The Simple-API index URL (http or https)."),
    conda: Optional[str] = typer.Option(None, "--conda", help="The mirror's conda base URL, if it has one."),
    conda_layout: str = typer.Option("full", "--conda-layout", help="full (defaults + cloud channels) or cloud."),
    title: Optional[str] = typer.Option(None, "--title", help="A human-readable name."),
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
    package: str = typer.Option("pip", "--package", help=_("The project whose page checks the URL: "
                                                           "GET <index>/<package>/.")),
    no_verify: bool = NO_VERIFY_OPTION,
) -> None:
    """Add your own mirror to the catalogue (or update it). With a built-in mirror's name it
    replaces that mirror, aliases included; a built-in alias is not a name you can take.
    The URL is checked first (one request for a project page); --no-verify skips that.

    Example: mirrorctl add corp https://pypi.corp.example/simple
    """
    from mirrorctl import ops
    from mirrorctl.errors import UsageError
    from mirrorctl.render.results import render_change

    if conda_layout not in ("full", "cloud"):
        raise UsageError(f"unknown conda layout {conda_layout!r}", hint="use full or cloud")
    result = ops.add_mirror(make_context(), name, url, conda=conda, conda_layout=conda_layout, title=title,
                            dry_run=dry_run, command=command_line(), verify=not no_verify, package=package)
    render_change(result, as_json)


@app.command()
@handled
def remove(
    name: str = typer.Argument(..., help="The name of a mirror you added."),
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Remove a mirror you added.

    Example: mirrorctl remove corp
    """
    from mirrorctl import ops
    from mirrorctl.render.results import render_change

    render_change(ops.remove_mirror(make_context(), name, dry_run=dry_run, command=command_line()), as_json)
