"""The encoding pip reads its configuration files in, and ``MIRRORCTL_PIP_ENCODING``.

pip reads every pip.conf / pip.ini in ``"utf-8" if sys.flags.utf8_mode else locale.getencoding()``
(``Configuration._construct_parser`` in pip/_internal/configuration.py), and a file it cannot
decode stops every pip command ("Configuration file contains invalid utf-8 characters"). So:

- Windows: the ANSI code page of the system locale (cp936, which Python calls gbk, on Chinese
  Windows; cp1252 on Western), or UTF-8 under Python's UTF-8 mode.
- Linux and macOS: the locale's encoding. That is UTF-8 in practice (UTF-8 locales, Python's
  UTF-8 mode, and the C locale, which Python turns into UTF-8), but under a zh_CN.GBK locale
  the real pip reads GBK (checked in tests/test_pip_encoding.py with a GBK locale built by
  localedef).

mirrorctl reads and writes pip's files in that encoding, worked out in its own process the way
pip does. ``MIRRORCTL_PIP_ENCODING`` overrides it, for a pip whose Python runs another way (one
in UTF-8 mode, the other not) or a file shared with other machines. A value no pip can read
(UTF-16, UTF-8 with a BOM, anything that does not keep ASCII as ASCII) is refused. A value that
pip on this platform does not read (gbk on Linux under a UTF-8 locale) is used to write the file,
byte for byte as it was, but ``status`` then reads the file as pip here does: where pip here
fails, status says so, naming the value and the platform that does read it, and ``use`` warns
with the same line.
"""

from __future__ import annotations

import sys
from typing import Optional

from mirrorctl.context import Context, normalize_platform
from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

VARIABLE = "MIRRORCTL_PIP_ENCODING"
# Windows' ANSI code pages: the encodings pip reads on Windows in some system locale
WINDOWS_CODE_PAGES = (874, 932, 936, 949, 950, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258)
_PLATFORMS = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}
# every printable ASCII character and the line ends: what pip.conf's syntax is written in
_ASCII = "".join(map(chr, range(0x20, 0x7F))) + "\t\r\n"


def canonical(name: str) -> Optional[str]:
    """Python's name for an encoding (``GBK``, ``cp936`` -> ``gbk``); None when Python has none."""
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def keeps_ascii(name: str) -> bool:
    """Whether ASCII text is the same bytes in ``name``: true of every locale encoding pip may read."""
    try:
        return _ASCII.encode(name) == _ASCII.encode("ascii") and _ASCII.encode("ascii").decode(name) == _ASCII
    except (LookupError, UnicodeError):  # not a text encoding (rot13), or no ASCII in it
        return False


def locale_encoding() -> str:
    """The locale's encoding of this process, without Python's UTF-8 mode."""
    import locale

    get = getattr(locale, "getencoding", None)  # Python 3.11+
    name = get() if get is not None else locale.getpreferredencoding(False)
    return canonical(name) or "utf-8"


def pip_rule() -> str:
    """The encoding pip running in this process's environment reads its files in (pip's own rule)."""
    return "utf-8" if sys.flags.utf8_mode else locale_encoding()


def _here(ctx: Context) -> bool:
    return ctx.platform == normalize_platform(sys.platform)


def platform_name(ctx: Context) -> str:
    return _PLATFORMS.get(ctx.platform, ctx.platform)


def default(ctx: Context) -> str:
    """The encoding pip reads on the context's platform: pip's rule when that is this machine;
    UTF-8 for a platform mirrorctl only plans for (``Context(platform=...)`` in tests)."""
    return pip_rule() if _here(ctx) else "utf-8"


def override(ctx: Context) -> Optional[str]:
    """``MIRRORCTL_PIP_ENCODING``'s encoding (None: unset); a usage error when it is unknown or
    one that no pip reads pip.conf in."""
    value = ctx.environ.get(VARIABLE, "")
    if not value:
        return None
    name = canonical(value)
    if name is None:
        raise UsageError(_("{variable}={value!r} is not an encoding Python knows").format(variable=VARIABLE, value=value),
                         hint=_("for example utf-8, gbk or cp1252"))
    if not keeps_ascii(name):
        raise UsageError(_("{variable}={value!r}: no platform's pip reads pip.conf in {name} (pip reads the "
                           "locale's encoding, which keeps ASCII as it is)").format(variable=VARIABLE, value=value,
                                                                                    name=name),
                         hint=_("unset it, or name the encoding of the locale pip runs in, e.g. utf-8, gbk or cp1252"))
    return name


def encoding(ctx: Context) -> str:
    """The encoding mirrorctl reads and writes pip's files in: the override, else pip's."""
    return override(ctx) or default(ctx)


def read_by_pip_here(ctx: Context, name: str) -> bool:
    """Whether pip on this platform may be reading its files in ``name``. Windows: any code page
    (the system locale decides, and may be another than this process sees). Linux and macOS:
    UTF-8 (Python's UTF-8 mode) or the locale's encoding here."""
    if ctx.windows or not _here(ctx):
        return True
    return name in ("utf-8", locale_encoding())


def reads_it(name: str) -> str:
    """Who reads pip.conf in ``name``: "pip on Windows with code page 936", or under such a locale."""
    pages = {canonical(f"cp{n}"): n for n in WINDOWS_CODE_PAGES}
    if name in pages:
        return _("pip on Windows with code page {page}").format(page=pages[name])
    if name == "utf-8":
        return _("pip under a UTF-8 locale or in Python's UTF-8 mode")
    return _("pip under a locale whose encoding is {name}").format(name=name)


def status_encoding(ctx: Context) -> tuple[str, Optional[str]]:
    """The encoding ``status`` reads pip's files in (as pip here does), and, when that is not the
    one mirrorctl writes them in, the reason to add to a decoding error."""
    chosen = encoding(ctx)
    if read_by_pip_here(ctx, chosen):
        return chosen, None
    here = default(ctx)
    why = _("pip on {platform} reads it in the locale's encoding, {here}; {variable}={name} is what "
            "{reader} reads").format(platform=platform_name(ctx), here=here, variable=VARIABLE, name=chosen,
                                     reader=reads_it(chosen))
    return here, why
