"""The injected environment every path is computed from.

Nothing below reads ``os.environ`` or ``sys.platform`` directly: a :class:`Context`
carries them, so Windows and macOS layouts can be computed (and tested) on Linux.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Mapping, Optional

from mirrorctl.errors import UsageError
from mirrorctl.i18n import _


class Scope(str, enum.Enum):
    USER = "user"
    GLOBAL = "global"
    VENV = "venv"
    PROJECT = "project"

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.value


def normalize_platform(name: str) -> str:
    if name.startswith("win") or name == "cygwin":
        return "win32"
    if name == "darwin":
        return "darwin"
    return "linux"


@dataclass(frozen=True)
class Context:
    environ: Mapping[str, str]
    platform: str = "linux"  # "linux" (any POSIX but macOS), "darwin" or "win32"
    cwd: PurePath = field(default_factory=lambda: PurePosixPath("/"))
    root: Optional[PurePath] = None  # --root: prefix for every system-wide path
    venv: Optional[PurePath] = None  # --venv: the virtual environment to configure
    project: Optional[PurePath] = None  # --project: the project folder

    @classmethod
    def from_os(cls, *, root=None, venv=None, project=None) -> "Context":
        return cls(
            environ=dict(os.environ),
            platform=normalize_platform(sys.platform),
            cwd=Path.cwd(),
            root=Path(root).absolute() if root else None,
            venv=Path(venv).absolute() if venv else None,
            project=Path(project).absolute() if project else None,
        )

    # -- paths ----------------------------------------------------------
    @property
    def windows(self) -> bool:
        return self.platform == "win32"

    def path(self, *parts: str) -> PurePath:
        """A path of this context's platform (a real ``Path`` when it is this machine's)."""
        if normalize_platform(sys.platform) == self.platform or (
            self.platform != "win32" and os.name == "posix"
        ):
            return Path(*parts)
        return PureWindowsPath(*parts) if self.windows else PurePosixPath(*parts)

    @property
    def home(self) -> PurePath:
        env = self.environ
        if self.windows:
            home = env.get("USERPROFILE") or (env.get("HOMEDRIVE", "") + env.get("HOMEPATH", ""))
            if not home:
                home = env.get("HOME", "")
        else:
            home = env.get("HOME", "")
        if not home:
            raise UsageError(_("cannot tell your home folder: HOME is not set"), hint=_("set HOME and run again"))
        return self.path(home)

    def system(self, path: PurePath) -> PurePath:
        """A system-wide path, moved under ``--root`` when one is given."""
        if self.root is None:
            return path
        rel = path.relative_to(path.anchor) if path.anchor else path
        return self.root / rel

    @property
    def xdg_config_home(self) -> PurePath:
        value = self.environ.get("XDG_CONFIG_HOME", "")
        # the XDG spec ignores relative values
        if value and self.path(value).is_absolute():
            return self.path(value)
        return self.home / ".config"

    @property
    def xdg_config_dirs(self) -> list[PurePath]:
        value = self.environ.get("XDG_CONFIG_DIRS", "") or "/etc/xdg"
        return [self.path(p) for p in value.split(":") if p and self.path(p).is_absolute()]

    @property
    def appdata(self) -> PurePath:
        value = self.environ.get("APPDATA")
        return self.path(value) if value else self.home / "AppData" / "Roaming"

    @property
    def programdata(self) -> PurePath:
        value = self.environ.get("PROGRAMDATA") or self.environ.get("ALLUSERSPROFILE")
        return self.path(value) if value else self.path("C:\\ProgramData")

    def active_venv(self) -> Optional[PurePath]:
        """``--venv`` if given, else the activated virtualenv ($VIRTUAL_ENV)."""
        if self.venv is not None:
            return self.venv
        value = self.environ.get("VIRTUAL_ENV")
        return self.path(value) if value else None

    def project_dir(self) -> PurePath:
        return self.project if self.project is not None else self.cwd


def _app_dir(ctx: Context, kind: str) -> Path:
    """mirrorctl's own folder of a kind ("config" or "state"), by each platform's convention:
    XDG on Linux, ~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows.

    Computed from the injected environment (not platformdirs: its import alone is a sizeable
    share of `status`'s start-up time, and these three rules are all we need)."""
    if ctx.windows:
        local = ctx.environ.get("LOCALAPPDATA")
        base = ctx.path(local) if local else ctx.home / "AppData" / "Local"
        return Path(base / "mirrorctl" / ("State" if kind == "state" else ""))  # type: ignore[arg-type]
    if ctx.platform == "darwin":
        return Path(ctx.home / "Library" / "Application Support" / "mirrorctl")  # type: ignore[arg-type]
    if kind == "state":
        value = ctx.environ.get("XDG_STATE_HOME", "")
        base = ctx.path(value) if value and ctx.path(value).is_absolute() else ctx.home / ".local" / "state"
    else:
        base = ctx.xdg_config_home
    return Path(base / "mirrorctl")  # type: ignore[arg-type]


def mirrorctl_config_dir(ctx: Context) -> Path:
    """Where the user's own catalogue lives (``MIRRORCTL_CONFIG_DIR`` overrides)."""
    override = ctx.environ.get("MIRRORCTL_CONFIG_DIR")
    return Path(override) if override else _app_dir(ctx, "config")


def mirrorctl_state_dir(ctx: Context) -> Path:
    """Where the journal and backups live (``MIRRORCTL_STATE_DIR`` overrides).

    Run as root with a HOME, or a folder above the state folder, that belongs to another user --
    ``sudo`` keeps HOME on many systems, ``sudo -E`` keeps XDG_STATE_HOME too -- the journal goes
    to root's own state folder, never into that user's: root must not write files a user can then
    swap or read, nor obey a journal that user could have written. (The state folder itself owned
    by another user is refused when read: see journal.py.)"""
    override = ctx.environ.get("MIRRORCTL_STATE_DIR")
    if override:
        return Path(override)
    path = _app_dir(ctx, "state")
    if _running_as_root() and not ctx.windows and (_owner_of_nearest(Path(ctx.home)) not in (None, 0)
                                                    or _owner_of_nearest(path.parent) not in (None, 0)):
        return _own_home() / ".local" / "state" / "mirrorctl"
    return path  # a state folder that is not ours in a home that is: refused when read (journal.py)


def state_dir_note(ctx: Context) -> Optional[str]:
    """A line to tell when the journal is not where the environment points (root, another's HOME)."""
    if ctx.environ.get("MIRRORCTL_STATE_DIR"):
        return None
    path = _app_dir(ctx, "state")
    chosen = mirrorctl_state_dir(ctx)
    if chosen == path:
        return None
    return _("journal kept in root's own {chosen}: {path} belongs to another user").format(chosen=chosen, path=path)


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _owner_of_nearest(path: Path) -> Optional[int]:
    """The owner of the path, or of its nearest existing ancestor."""
    for candidate in (path, *path.parents):
        try:
            return os.lstat(candidate).st_uid
        except FileNotFoundError:
            continue
        except OSError:
            return None
    return None


def _own_home() -> Path:
    """The home folder of the user running mirrorctl, from the password database (not HOME)."""
    import pwd

    return Path(pwd.getpwuid(os.geteuid()).pw_dir)
