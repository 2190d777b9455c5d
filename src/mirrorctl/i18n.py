"""One translation function for every user-facing message.

Wrap each message a person reads (help, messages, hints, table headers) in :func:`_`
*before* formatting values into it, so the template is what gets translated::

    from mirrorctl.i18n import _, ngettext
    raise ConfigError(_("cannot read {path}").format(path=path), hint=_("check its permissions"))
    ngettext("{n} sample", "{n} samples", n).format(n=n)

JSON keys, codes and data are never wrapped.

The language is decided once, before the first message is looked up (``cli.main`` calls
:func:`setup` with ``--lang`` before the command modules, whose help texts are evaluated at
import, are loaded); in this order:

1. ``--lang`` (``setup(lang)``), then ``MIRRORCTL_LANG``;
2. ``LANGUAGE`` (a colon list, as GNU gettext reads it; ignored when the locale is ``C``/``POSIX``),
   then the locale: the first set of ``LC_ALL``, ``LC_MESSAGES``, ``LANG``;
3. on Windows, when none of those is set, the user's UI language (``GetUserDefaultUILanguage``).

A Chinese language (``zh``, ``zh_CN``, ``zh_SG``, ``zh-Hans``) gives Simplified Chinese; a
Traditional one (``zh_TW``, ``zh_HK``, ``zh_MO``, ``zh-Hant``) is not served yet and falls
through to the next choice, English in the end. English needs no catalogue: the messages are
their own English text, and no catalogue is opened. The catalogue
``locale/zh_CN/LC_MESSAGES/mirrorctl.mo`` is compiled from the ``.po`` beside it at build time
(``hatch_build.py``, ``scripts/build_pyz.py``) and read with the standard library's gettext,
from a folder or from inside the pyz.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Mapping, Optional

DOMAIN = "mirrorctl"
ENGLISH = "en"
CHINESE = "zh_CN"
LANGUAGES = (ENGLISH, CHINESE)  # what --lang / MIRRORCTL_LANG accept (and their spellings below)

_catalogue = None  # a gettext.GNUTranslations once loaded; None: English (the identity)
_language: Optional[str] = None  # decided language, None until setup() ran


def _(message: str) -> str:
    """The message in the user's language (English when there is no translation)."""
    if _language is None:
        setup()
    if _catalogue is None:
        return message
    return _catalogue.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the user's language."""
    if _language is None:
        setup()
    if _catalogue is None:
        return singular if n == 1 else plural
    return _catalogue.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for translation where it is defined (a constant); translate it with
    :func:`_` where it is used."""
    return message


def language() -> str:
    """The language in use: ``en`` or ``zh_CN``."""
    if _language is None:
        setup()
    return _language or ENGLISH


def setup(lang: Optional[str] = None, *, environ: Optional[Mapping[str, str]] = None,
          platform: Optional[str] = None, ui_language: Optional[Callable[[], int]] = None) -> str:
    """Decide the language (see the module's notes) and load its catalogue; returns it.

    ``environ``, ``platform`` and ``ui_language`` (a function returning a Windows LANGID)
    are for tests; by default the process's own.
    """
    global _catalogue, _language
    chosen = decide(lang, environ=environ, platform=platform, ui_language=ui_language)
    catalogue = None
    if chosen != ENGLISH:
        catalogue = _load(chosen)
        if catalogue is None:  # no compiled catalogue (a source tree never built): English
            chosen = ENGLISH
    _catalogue, _language = catalogue, chosen
    return chosen


def normalize(value: Optional[str]) -> Optional[str]:
    """``en`` or ``zh_CN`` for a language or locale name we serve, ``""`` for an explicit
    C/POSIX locale (English), None for anything else (a language we do not have).

    ``zh_CN.UTF-8``, ``zh-cn``, ``zh_Hans_CN``, ``zh`` -> ``zh_CN``; ``zh_TW``, ``zh-Hant`` -> None
    (Traditional Chinese is not served); ``en_GB.UTF-8``, ``C``, ``POSIX`` -> ``en`` / ``""``.
    """
    if not value:
        return None
    name = value.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_").lower()
    if name in ("c", "posix"):
        return ""
    parts = [p for p in name.split("_") if p]
    if not parts:
        return None
    if parts[0] == "en":
        return ENGLISH
    if parts[0] in ("zh", "chinese"):
        rest = set(parts[1:])
        if rest & {"hant", "tw", "hk", "mo"} and "hans" not in rest:
            return None
        return CHINESE
    return None


def decide(lang: Optional[str] = None, *, environ: Optional[Mapping[str, str]] = None,
           platform: Optional[str] = None, ui_language: Optional[Callable[[], int]] = None) -> str:
    """The language for this run: ``en`` or ``zh_CN`` (nothing is loaded)."""
    env = os.environ if environ is None else environ
    for override in (lang, env.get("MIRRORCTL_LANG")):
        if override and override.strip():
            found = normalize(override)
            return found or ENGLISH  # an override we do not serve: English, not the locale's choice
    locale_name = next((env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k)), None)
    in_c_locale = normalize(locale_name) == ""
    if env.get("LANGUAGE") and not in_c_locale:
        for item in env["LANGUAGE"].split(":"):
            found = normalize(item)
            if found:
                return found
    if locale_name is not None:
        return normalize(locale_name) or ENGLISH
    if (platform or sys.platform) == "win32" and not env.get("LANGUAGE"):
        langid = _windows_ui_language(ui_language)
        if langid is not None:
            return _from_langid(langid)
    return ENGLISH


def _windows_ui_language(ui_language: Optional[Callable[[], int]]) -> Optional[int]:
    try:
        if ui_language is not None:
            return int(ui_language())
        import ctypes

        return int(ctypes.windll.kernel32.GetUserDefaultUILanguage())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - no answer: the default language
        return None


def _from_langid(langid: int) -> str:
    """A Windows LANGID as ``en`` or ``zh_CN``: primary language 0x04 is Chinese; its
    sublanguages 2 (PRC) and 4 (Singapore) are written in Simplified characters."""
    if langid & 0x3FF == 0x04 and (langid >> 10) in (0x02, 0x04):
        return CHINESE
    return ENGLISH


# The CLI framework's own words in help and usage errors. click 8.1 (and typer.core) take them
# from the standard library's ``gettext.gettext`` when their modules are imported: see
# :func:`translate_framework`. typer's vendored click (0.24 on) has its words in English only:
# cli/app.py's command classes and cli/framework.py say them through ``_`` instead.
FRAMEWORK = (
    N_("Usage:"), N_("Options"), N_("Arguments"), N_("Commands"), N_("Show this message and exit."),
    N_("default: {default}"), N_("required"), N_("env var: {var}"), N_("Error: {message}"),
    N_("No such option: {name}"), N_("No such command {name!r}."), N_("Missing argument"), N_("Missing option"),
    N_("Missing command."), N_("Invalid value for {param_hint}: {message}"), N_("Try '{command} {option}' for help."),
    N_("(dynamic)"), N_("Aborted!"),
)


def translate_framework() -> None:
    """Let click and typer say their own words (section titles, ``[default: ...]``) in the
    language chosen: they bind ``gettext.gettext`` when imported, so this runs first (``cli.main``).
    Only with a catalogue loaded; a message the catalogue lacks stays as it is."""
    if _catalogue is None:
        return
    import gettext

    gettext.gettext = _catalogue.gettext  # type: ignore[assignment]
    gettext.ngettext = _catalogue.ngettext  # type: ignore[assignment]


def catalogue_path(language_name: str = CHINESE) -> str:
    """Where the compiled catalogue of ``language_name`` is (a path inside the pyz in a pyz)."""
    return os.path.join(os.path.dirname(__file__), "locale", language_name, "LC_MESSAGES", DOMAIN + ".mo")


def _load(language_name: str):
    """The GNUTranslations of ``language_name``, or None when it was not compiled."""
    path = catalogue_path(language_name)
    get_data = getattr(globals().get("__loader__"), "get_data", None)
    try:
        if get_data is not None:
            data = get_data(path)  # a file, or a member of the pyz
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError:
        return None
    import gettext
    import io

    try:
        return gettext.GNUTranslations(io.BytesIO(data))
    except (OSError, ValueError, UnicodeDecodeError):  # a damaged file: English rather than a crash
        return None
