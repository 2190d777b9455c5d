"""uv's Python downloads: the ``python-install-mirror`` setting (``UV_PYTHON_INSTALL_MIRROR``).

uv downloads the Pythons it manages (``uv python install``, ``uv venv -p 3.12`` ...) from the
python-build-standalone releases on GitHub; ``python-install-mirror`` replaces
``https://github.com/astral-sh/python-build-standalone/releases/download`` in those URLs (uv's
settings reference). A catalogue mirror that publishes those releases, as its own help page
documents, carries the URL in its ``uv_python`` field.

How uv reads it (checked against the real uv in tests/test_uv_python.py): the variable beats every
file; otherwise the nearest file that sets it (project, then user, then system) wins, one value.

Which value is mirrorctl's: one equal (up to a final ``/``) to a catalogue mirror's ``uv_python``.
``use`` writes the chosen mirror's value where the key is absent or mirrorctl's, and leaves a value
of the user's own (with a note); switching to a mirror without one, ``reset`` and ``undo`` take
mirrorctl's value away, never the user's own.
"""

from __future__ import annotations

from typing import Optional

from mirrorctl import urls
from mirrorctl.catalog import Catalog
from mirrorctl.context import Context
from mirrorctl.errors import MirrorctlError
from mirrorctl.formats import toml
from mirrorctl.targets.base import Origin, Setting
from mirrorctl.i18n import _

KEY = "python-install-mirror"
ENV = "UV_PYTHON_INSTALL_MIRROR"
UPSTREAM = "https://github.com/astral-sh/python-build-standalone/releases/download"
DETAIL = "python_install_mirror"  # the key in ToolStatus.details


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def known_values(ctx: Context) -> list:
    """Every catalogue mirror's ``uv_python`` (the user's catalogue too, when it can be read)."""
    from mirrorctl.catalog import BUILTIN, builtin_catalog_text, load_catalog, parse_catalog

    try:
        mirrors = load_catalog(ctx).mirrors
    except MirrorctlError:  # a broken user catalogue must not stop `reset`
        mirrors = parse_catalog(builtin_catalog_text(), source=BUILTIN, origin="packaged mirrors.toml")
    return [m.uv_python for m in mirrors if m.uv_python]


def is_ours(value, known: list) -> bool:
    return isinstance(value, str) and any(_same(value, k) for k in known)


def edit(settings, wanted: Optional[str], known: list, path, notes: list) -> None:
    """Point ``python-install-mirror`` of ``settings`` (a tomlkit table) at ``wanted``, or take
    mirrorctl's value away (``wanted`` None). A value of the user's own stays, with a note."""
    current = settings.get(KEY)
    current = current.unwrap() if hasattr(current, "unwrap") else current
    if wanted is not None:
        if current is None or is_ours(current, known):
            toml.set_value(settings, KEY, wanted, keep_comment=False)
        elif not _same(current, wanted):
            notes.append(_("{path}: {key} = {current!r} is your own setting and stays; remove it to download uv's "
                           "Pythons from the mirror ({wanted})")
                         .format(path=path, key=KEY, current=current, wanted=wanted))
    elif is_ours(current, known):
        toml.remove_value(settings, KEY)


def environment(uv_python: str) -> dict:
    return {ENV: uv_python} if uv_python else {}


def status(ctx: Context, catalog: Catalog, loaded: list, result) -> None:
    """Put the mirror uv downloads its Pythons from in ``result.details`` (and a warning for each
    setting that loses). ``loaded``: uv's files, highest precedence first (``.file``, ``.settings``)."""
    settings = []
    value = ctx.environ.get(ENV)
    if value:
        settings.append(Setting(value, Origin("env", variable=ENV), scope="env"))
    for item in loaded:
        found = item.settings.get(KEY)
        if isinstance(found, str):
            section = ".".join(item.file.table) or None
            settings.append(Setting(found, Origin("file", str(item.file.path), section=section, variable=KEY),
                                    scope=item.file.kind))
    winner = settings[0] if settings else Setting(UPSTREAM, Origin("default"))
    mirror = next((m.name for m in catalog.mirrors if m.uv_python and _same(m.uv_python, winner.value)), None)
    result.details[DETAIL] = {"url": urls.mask_url(winner.value), "mirror": mirror,
                              "decided_by": _label(winner.origin)}
    for setting in settings[1:]:
        result.warnings.append(_("{value} sets {key} {value2}, but uv downloads Pythons from {value3}")
                               .format(value=_label(setting.origin), key=KEY, value2=setting.value, value3=_label(winner.origin)))


def _label(origin: Origin) -> str:
    if origin.kind == "env":
        return _("environment variable {name}").format(name=origin.variable)
    if origin.kind == "default":
        return _("uv's built-in default")
    return f"{origin.path}" + (f" [{origin.section}]" if origin.section else "") + f" ({KEY})"
