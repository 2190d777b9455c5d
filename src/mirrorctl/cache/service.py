"""`cache service`: the cache run by the system instead of `cache start` — a systemd user unit,
or a container command. Both run the engine on the data `cache start` set up."""

from __future__ import annotations

import shlex

from mirrorctl.cache import engine
from mirrorctl.cache.settings import CachePaths, read_settings
from mirrorctl.context import Context
from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

KINDS = ("systemd", "container")
UNIT_NAME = "mirrorctl-cache.service"
CONTAINER_DATA = "/var/lib/mirrorctl-cache"


def _prepared(ctx: Context):
    paths = CachePaths.of(ctx)
    settings = read_settings(paths)
    if settings is None or not paths.initialised:
        raise UsageError(_("the cache is not set up yet"),
                         hint=_("run `mirrorctl cache start [MIRROR...]` once (it sets up the upstreams), "
                                "then `mirrorctl cache stop`"))
    return paths, settings


def systemd_unit(ctx: Context) -> str:
    paths, settings = _prepared(ctx)
    command = " ".join(shlex.quote(part) for part in engine.command("devpi-server", "-c", str(paths.config)))
    lines = [
        "# " + _("mirrorctl's package cache as a systemd user service:"),
        "#   mirrorctl cache service > ~/.config/systemd/user/{unit}".format(unit=UNIT_NAME),
        "#   mirrorctl cache stop && systemctl --user daemon-reload && systemctl --user enable --now {unit}".format(
            unit=UNIT_NAME),
        "#   loginctl enable-linger $USER   # " + _("to keep it running while you are logged out"),
        "[Unit]",
        "Description=mirrorctl package cache (devpi-server) on {url}".format(url=settings.index_url),
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        f"ExecStart={command}",
        "Environment=PYTHONWARNINGS=ignore::UserWarning",
        "Restart=on-failure",
        "RestartSec=5",
        "",
        "[Install]",
        "WantedBy=default.target",
    ]
    return "\n".join(lines) + "\n"


def container_command(ctx: Context) -> str:
    """A docker/podman command running the engine on the cache's data, published on the same port.

    The data folder is mounted, so the container serves what the cache already holds, with the
    same upstreams and admin password."""
    paths, settings = _prepared(ctx)
    publish = f"{settings.port}:3141" if not settings.loopback else f"127.0.0.1:{settings.port}:3141"
    if not settings.loopback and settings.host not in ("0.0.0.0", "::", "*", ""):
        publish = f"{settings.client_host}:{settings.port}:3141"
    inner = ("pip install --quiet --user devpi-server && exec devpi-server --host 0.0.0.0 --port 3141 "
             f"--serverdir {CONTAINER_DATA}/server --secretfile {CONTAINER_DATA}/secret --restrict-modify root "
             f"--request-timeout {int(max(1, round(settings.timeout)))}")
    parts = ["docker", "run", "--detach", "--name", "mirrorctl-cache", "--restart", "unless-stopped",
             "--publish", publish, "--volume", f"{paths.root}:{CONTAINER_DATA}", "--user",
             "{uid}:{gid}".format(uid=_uid(), gid=_gid()), "--env", "HOME=/tmp",
             "--env", "PATH=/tmp/.local/bin:/usr/local/bin:/usr/bin:/bin",
             "python:3.12-slim", "sh", "-c", inner]
    note = "# " + _("stop the one `cache start` runs first: mirrorctl cache stop (podman takes the same command)")
    return note + "\n" + " ".join(shlex.quote(p) for p in parts) + "\n"


def _uid() -> int:
    import os

    return os.getuid() if hasattr(os, "getuid") else 1000


def _gid() -> int:
    import os

    return os.getgid() if hasattr(os, "getgid") else 1000


def render(ctx: Context, kind: str) -> str:
    kind = kind.strip().lower()
    if kind == "systemd":
        return systemd_unit(ctx)
    if kind in ("container", "docker", "podman"):
        return container_command(ctx)
    raise UsageError(_("unknown service kind {kind!r}").format(kind=kind), hint=_("use systemd or container"))
