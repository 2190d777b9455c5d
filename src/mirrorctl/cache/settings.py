"""The cache's settings and where its files live: one folder under mirrorctl's state folder.

``cache.json`` keeps what ``cache start`` was asked for (host, port, upstreams, uploads); the
engine's own files (its data, config, password, secret, pid file and log) sit beside it.
Nothing here imports the engine: ``status`` and ``use cache`` read these files cheaply.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

from mirrorctl.context import Context, mirrorctl_state_dir
from mirrorctl.errors import ConfigFileError
from mirrorctl.i18n import _

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3141  # devpi-server's own default port
OFFICIAL_INDEX = "https://pypi.org/simple/"
INDEX = "root/cache"  # the index every tool is pointed at: it merges the upstream mirrors
REQUEST_TIMEOUT = 5.0  # seconds the engine waits for an upstream (devpi-server's default)
SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Upstream:
    name: str  # the catalogue name, or "custom" / "pypi"
    url: str

    @property
    def index(self) -> str:
        """The engine's mirror index for this upstream: named after the URL, so the same URL
        keeps its cached files when the list changes."""
        import hashlib  # here: `status` reads these settings on every run, cheaply

        digest = hashlib.sha256(self.url.encode()).hexdigest()[:10]
        return f"root/up-{digest}"


@dataclass
class CacheSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    upstreams: List[Upstream] = field(default_factory=lambda: [Upstream("pypi", OFFICIAL_INDEX)])
    uploads: bool = False
    timeout: float = REQUEST_TIMEOUT

    @property
    def loopback(self) -> bool:
        """Only this machine can reach it (127.0.0.1, ::1, localhost)."""
        return is_loopback(self.host)

    @property
    def client_host(self) -> str:
        """The address a client on this machine uses: a wildcard bind is reached on loopback."""
        host = self.host
        if host in ("0.0.0.0", "", "*"):
            return "127.0.0.1"
        if host == "::":
            return "[::1]"
        if ":" in host and not host.startswith("["):
            return f"[{host}]"
        return host

    @property
    def base_url(self) -> str:
        return f"http://{self.client_host}:{self.port}"

    @property
    def index_url(self) -> str:
        """The Simple-API URL every tool uses."""
        return f"{self.base_url}/{INDEX}/+simple/"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["version"] = SETTINGS_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CacheSettings":
        ups = [Upstream(str(u["name"]), str(u["url"])) for u in data.get("upstreams") or []]
        return cls(host=str(data.get("host", DEFAULT_HOST)), port=int(data.get("port", DEFAULT_PORT)),
                   upstreams=ups or [Upstream("pypi", OFFICIAL_INDEX)], uploads=bool(data.get("uploads", False)),
                   timeout=float(data.get("timeout", REQUEST_TIMEOUT)))


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        import ipaddress

        return ipaddress.ip_address(host.strip("[]")).is_loopback and host.strip("[]") in ("127.0.0.1", "::1")
    except ValueError:
        return False


@dataclass(frozen=True)
class CachePaths:
    root: Path

    @classmethod
    def of(cls, ctx: Context) -> "CachePaths":
        return cls(mirrorctl_state_dir(ctx) / "cache")

    @property
    def settings(self) -> Path:
        return self.root / "cache.json"

    @property
    def server(self) -> Path:  # the engine's data: its database and the cached files
        return self.root / "server"

    @property
    def config(self) -> Path:  # the engine's configuration file, written from the settings
        return self.root / "devpi.yaml"

    @property
    def password(self) -> Path:  # the engine's admin (root) password, 0600
        return self.root / "admin-password"

    @property
    def secret(self) -> Path:  # the engine's token-signing secret, 0600
        return self.root / "secret"

    @property
    def pid(self) -> Path:
        return self.root / "devpi.pid"

    @property
    def log(self) -> Path:
        return self.root / "devpi.log"

    @property
    def initialised(self) -> bool:
        return (self.server / ".nodeinfo").is_file()


def read_settings(paths: CachePaths) -> Optional[CacheSettings]:
    """The settings of the last ``cache start``, or None before the first one."""
    try:
        text = paths.settings.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigFileError(_("cannot read {path}: {reason}").format(path=paths.settings, reason=exc.strerror),
                              hint=_("check its permissions")) from None
    try:
        import json

        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(_("not an object"))
        return CacheSettings.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigFileError(_("{path} is not a cache settings file: {reason}").format(path=paths.settings,
                                                                                          reason=exc),
                              hint=_("remove it and run `mirrorctl cache start` again")) from None


def write_private(path: Path, text: str) -> None:
    """A file only its owner can read (0600), written whole."""
    from mirrorctl.fsio import write_file

    write_file(path, text.encode("utf-8"), 0o600)


def write_settings(paths: CachePaths, settings: CacheSettings) -> None:
    import json

    write_private(paths.settings, json.dumps(settings.to_dict(), indent=2) + "\n")
