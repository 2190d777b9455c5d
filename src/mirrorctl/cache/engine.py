"""The engine, devpi-server, as a process: its configuration, first-run initialisation,
starting it in the background (pid file, log), stopping it.

devpi-server is an optional extra (``pip install 'pymirrorctl[cache]'``): it is run in a child
process of the same Python, never imported here, so the core stays light.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional

from mirrorctl.cache.settings import CachePaths, CacheSettings, write_private
from mirrorctl.errors import MirrorctlError, UsageError
from mirrorctl.i18n import _

ENGINE = "devpi-server"
START_TIMEOUT = 90.0  # seconds for the engine to answer after it was started (a first start builds its database)
STOP_TIMEOUT = 20.0

Step = Callable[[str], None]


def available() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("devpi_server") is not None
    except (ImportError, ValueError):
        return False


def require() -> None:
    if not available():
        raise UsageError(_("the cache engine ({engine}) is not installed in {python}").format(
            engine=ENGINE, python=sys.executable),
            hint=_("install the extra: pip install 'pymirrorctl[cache]'"))


def server_config(settings: CacheSettings, paths: CachePaths) -> dict:
    """The engine's configuration (its config file's ``devpi-server`` section).

    Whatever the host, only the admin account may create users and indexes (``restrict-modify``):
    nobody can open an index of their own to upload to. The admin account always has a random
    password (kept 0600 in the cache folder), so binding to the LAN exposes no open account."""
    return {
        "serverdir": str(paths.server),
        "host": settings.host,
        "port": settings.port,
        "secretfile": str(paths.secret),
        "restrict-modify": "root",
        "request-timeout": int(max(1, round(settings.timeout))),
    }


def mirror_index(url: str) -> dict:
    """A mirror index of one upstream (no full project list: PyPI's is tens of megabytes)."""
    return {"type": "mirror", "mirror_url": url, "mirror_no_project_list": True}


def cache_index(settings: CacheSettings) -> dict:
    """The index the tools use: every upstream as a base, in order; uploads only when asked for
    (and then only with the admin account)."""
    return {
        "type": "stage",
        "bases": [u.index for u in settings.upstreams],
        "volatile": False,
        "acl_upload": ["root"] if settings.uploads else [],
        "acl_toxresult_upload": ["root"] if settings.uploads else [],
        "mirror_whitelist": [],
    }


def config_text(config: dict) -> str:
    """The engine's config file: block-style YAML, strings double-quoted (its reader, strictyaml,
    refuses flow style)."""
    lines = ["# written by `mirrorctl cache start`: changes are overwritten", "devpi-server:"]
    for key, value in config.items():
        lines.append(f"  {key}: {value if isinstance(value, int) else _yaml_str(str(value))}")
    return "\n".join(lines) + "\n"


def write_config(settings: CacheSettings, paths: CachePaths) -> None:
    write_private(paths.config, config_text(server_config(settings, paths)))


def command(tool: str, *args: str) -> List[str]:
    """The command line of one of the engine's programs, with this Python: its script beside
    the interpreter when there is one, else the same entry point through ``python -c``."""
    module, func = {"devpi-server": ("main", "main"), "devpi-init": ("init", "init")}[tool]
    folder = Path(sys.executable).parent
    for name in (tool, tool + ".exe"):
        script = folder / name
        if script.is_file():
            return [str(script), *args]
    code = f"import sys; from devpi_server.{module} import {func}; sys.exit({func}())"
    return [sys.executable, "-c", code, *args]


def admin_password(paths: CachePaths) -> str:
    try:
        return paths.password.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise MirrorctlError(_("cannot read the cache's admin password in {path}: {reason}").format(
            path=paths.password, reason=exc.strerror), hint=_("`mirrorctl cache stop`, remove {path} and start "
                                                                "again").format(path=paths.root)) from None


def initialise(settings: CacheSettings, paths: CachePaths, step: Step) -> bool:
    """First run: the engine's data folder, secret and admin password. False when already done."""
    from mirrorctl.journal import make_private_dir

    make_private_dir(paths.root, what="cache folder")
    if not paths.secret.is_file():
        write_private(paths.secret, secrets.token_urlsafe(48))
    write_config(settings, paths)
    if paths.initialised:
        return False
    step(_("initialising the cache in {path}").format(path=paths.server))
    password = secrets.token_urlsafe(24)
    write_private(paths.password, password + "\n")
    # the password goes through a 0600 config file, not the command line (which `ps` shows)
    init_config = paths.root / "init.yaml"
    write_private(init_config, config_text({"serverdir": str(paths.server), "root-passwd": password}))
    try:
        proc = subprocess.run(command("devpi-init", "-c", str(init_config), "--no-root-pypi"),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    finally:
        init_config.unlink()
    if proc.returncode != 0 or not paths.initialised:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [_("no output")]
        raise MirrorctlError(_("{engine} could not initialise {path}: {reason}").format(
            engine=ENGINE, path=paths.server, reason=last[0]),
            hint=_("remove {path} and run `mirrorctl cache start` again").format(path=paths.server))
    return True


def _yaml_str(value: str) -> str:
    import json

    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


# -- the process ----------------------------------------------------------------------

def read_pid(paths: CachePaths) -> Optional[int]:
    try:
        return int(paths.pid.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process that runs this cache's engine (not a recycled pid)."""
    if pid <= 0:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.parent.is_dir() and sys.platform.startswith("linux"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            return False
        status = ""
        try:
            status = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            pass
        return b"devpi" in cmdline and status != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def running_pid(paths: CachePaths) -> Optional[int]:
    pid = read_pid(paths)
    return pid if pid is not None and alive(pid) else None


def spawn(settings: CacheSettings, paths: CachePaths) -> int:
    """Start the engine in the background, detached from this terminal; its output goes to the log."""
    _rotate(paths.log)
    log = open(paths.log, "ab")
    try:
        kwargs: dict = {"stdin": subprocess.DEVNULL, "stdout": log, "stderr": subprocess.STDOUT, "close_fds": True}
        if os.name == "nt":  # pragma: no cover - Windows
            kwargs["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
                subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        else:
            kwargs["start_new_session"] = True
        env = dict(os.environ)
        env.setdefault("PYTHONWARNINGS", "ignore::UserWarning")  # pyramid's pkg_resources notice, at every start
        proc = subprocess.Popen(command("devpi-server", "-c", str(paths.config)), env=env, **kwargs)
    finally:
        log.close()
    write_private(paths.pid, f"{proc.pid}\n")
    _children.append(proc)  # reaped by stop() when it is this process that stops it (tests)
    return proc.pid


_children: list = []


def _rotate(log: Path, limit: int = 5 * 1024 * 1024) -> None:
    """Keep one older log when this one grew past ``limit``."""
    try:
        if log.stat().st_size > limit:
            os.replace(log, log.with_name(log.name + ".1"))
    except OSError:
        pass


def wait_ready(pid: int, paths: CachePaths, is_up: Callable[[], bool], timeout: float = START_TIMEOUT) -> None:
    """Until the engine answers; its exit (port taken, bad config) is an error with the log's last line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise MirrorctlError(_("{engine} stopped while starting: {reason}").format(
                engine=ENGINE, reason=last_log_line(paths) or _("no output")),
                hint=_("see {log}; another program may use the port: try --port").format(log=paths.log))
        if is_up():
            return
        time.sleep(0.2)
    raise MirrorctlError(_("{engine} did not answer within {seconds:.0f} s").format(engine=ENGINE, seconds=timeout),
                         hint=_("see {log}; `mirrorctl cache stop` stops it").format(log=paths.log))


def last_log_line(paths: CachePaths) -> str:
    try:
        with open(paths.log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 4096))
            lines = [ln for ln in fh.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    errors = [ln for ln in lines if not ln[:1].isspace() and ("Fatal" in ln or "Error" in ln or "error" in ln)]
    return (errors or lines or [""])[-1].strip()


def stop(paths: CachePaths, timeout: float = STOP_TIMEOUT) -> Optional[int]:
    """Stop the engine; the pid it had, or None when it was not running."""
    import signal

    pid = running_pid(paths)
    if pid is None:
        paths.pid.unlink(missing_ok=True)
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _still_there(pid):
        time.sleep(0.1)
    if _still_there(pid):
        os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(0.2)
    paths.pid.unlink(missing_ok=True)
    return pid


def _still_there(pid: int) -> bool:
    for proc in list(_children):
        if proc.pid == pid:
            if proc.poll() is not None:
                _children.remove(proc)
                return False
    return alive(pid)
