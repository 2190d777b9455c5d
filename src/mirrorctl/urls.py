"""Index URLs: validation, comparison and masking of credentials."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote, urlsplit, urlunsplit

from mirrorctl.errors import UsageError
from mirrorctl.i18n import _

_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f\s]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def looks_like_url(spec: str) -> bool:
    return "://" in spec or spec.startswith(("http:", "https:"))


def validate_index_url(raw: str, *, what: str = "URL") -> str:
    """Check an index URL typed by a user and return it in a safe, ASCII form.

    Refuses anything a config file could be tricked by: whitespace or control
    characters (a newline must never become a new line in pip.conf), schemes
    other than http/https, a missing host, a bad port, a fragment.
    """
    shown = mask_one(raw)  # masked before anything is checked: no error may echo a password
    bad = _CONTROL_OR_SPACE.search(raw)
    if bad:
        raise UsageError(
            _("bad {what} {url!r}: it contains whitespace or a control character ({char!r})").format(
                what=what, url=shown, char=bad.group()),
            hint=_("give the URL alone, without spaces, tabs or line breaks; encode a space as %20"),
        )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        # urllib's message may quote a piece of the password (taken for a port): not shown then
        info = _raw_userinfo(raw) or ""
        quoted = re.findall(r"'([^']+)'", str(exc))
        reason = _("its host or port cannot be read") if any(q in info for q in quoted) else str(exc)
        raise UsageError(_("bad {what} {url!r}: {reason}").format(what=what, url=shown, reason=reason),
                         hint=_("check the host and port")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UsageError(
            _("bad {what} {url!r}: the scheme must be http or https").format(what=what, url=shown),
            hint=_("for example https://pypi.example.org/simple"),
        )
    host = parts.hostname or ""
    if not host:
        raise UsageError(_("bad {what} {url!r}: it has no host").format(what=what, url=shown),
                         hint=_("for example https://pypi.example.org/simple"))
    if parts.fragment or raw.endswith("#"):
        raise UsageError(_("bad {what} {url!r}: an index URL cannot have a #fragment").format(what=what, url=shown),
                         hint=_("drop the part after #"))
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError:
        raise UsageError(_("bad {what} {url!r}: the host {host!r} is not a valid name").format(
            what=what, url=shown, host=host), hint=_("check the spelling")) from None
    if not re.fullmatch(r"[a-z0-9.\-_\[\]:]+", ascii_host):
        raise UsageError(_("bad {what} {url!r}: the host {host!r} is not a valid name").format(
            what=what, url=shown, host=host), hint=_("check the spelling"))
    netloc = ascii_host if ":" not in ascii_host else f"[{ascii_host}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        cred = quote(parts.username, safe="%!$&'()*+,;=-._~")
        if parts.password is not None:
            cred += ":" + quote(parts.password, safe="%!$&'()*+,;=-._~")
        netloc = f"{cred}@{netloc}"
    path = quote(parts.path, safe="%/:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="%/:@!$&'()*+,;=-._~?")
    return urlunsplit((scheme, netloc, path, query, ""))


# userinfo runs to the LAST "@" before the path: a password may hold a raw "@"
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s@:]*)(?P<password>:[^/\s]*)?@(?=[^/\s@]*(?:[/\s?#]|$))")


def mask_url(text: str) -> str:
    """``https://user:secret@host/x`` -> ``https://user:****@host/x``, also inside longer text.

    A user name without a password is masked too: tokens are often passed that way. So are the
    ``password`` and ``account`` values of netrc lines (a diff of ~/.netrc).
    """
    if "@" not in text:
        return _mask_netrc_text(text)

    def repl(match: "re.Match[str]") -> str:
        if match.group("password") is not None:
            return f"{match.group('scheme')}{match.group('user')}:****@"
        return f"{match.group('scheme')}****@"

    return _mask_netrc_text(_USERINFO.sub(repl, text))


# a netrc line (in a diff of ~/.netrc: "+machine h login u password p", or a "password p" line of
# a multi-line entry): the values of ``password`` and ``account`` are secrets too
_NETRC_SECRET = re.compile(r"(?m)^(?P<line>[+\- ]?\s*(?:machine|default|login|password|account)\b.*)$")
_NETRC_VALUE = re.compile(r"(?P<key>\b(?:password|account)\s+)(?P<value>\"(?:\\.|[^\"\\])*\"|\S+)")


def _mask_netrc(match: "re.Match[str]") -> str:
    return _NETRC_VALUE.sub(lambda m: m.group("key") + "****", match.group("line"))


def _mask_netrc_text(text: str) -> str:
    if "password" not in text and "account" not in text:
        return text
    return _NETRC_SECRET.sub(_mask_netrc, text)


def _raw_userinfo(raw: str) -> Optional[str]:
    """The userinfo of one URL value, even one that holds characters a URL may not."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        return None
    end = min([i for i in (rest.find(c) for c in "/?#") if i >= 0], default=len(rest))
    if "@" in rest[:end]:
        return rest[:end].rpartition("@")[0]
    at, colon = rest.find("@"), rest.find(":")
    if 0 <= colon < at:  # "user:pa/ss@host": a password that holds a "/" (a port is all digits)
        if not rest[colon + 1:at].split("/", 1)[0].isdigit():
            return rest[:at]
    return None


def mask_one(raw: str) -> str:
    """One URL value (not free text) with its userinfo masked, even when the userinfo holds
    characters a URL may not (a space, a line break, a raw ``/``): for error messages about a
    URL that failed validation, so no error echoes a password."""
    info = _raw_userinfo(raw)
    if info is None:
        return mask_url(raw)
    scheme, _sep, rest = raw.partition("://")
    return f"{scheme}://{_masked_userinfo(info)}@{rest[len(info) + 1:]}"


def _masked_userinfo(userinfo: str) -> str:
    return f"{userinfo.split(':', 1)[0]}:****" if ":" in userinfo else "****"


# -- credentials ---------------------------------------------------------------------

def userinfo(url: Optional[str]) -> Optional[str]:
    """The raw ``user:password`` (or ``token``) part of a URL, as written in it; None without one."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if "@" not in parts.netloc:
        return None
    return parts.netloc.rpartition("@")[0]


def has_credentials(url: Optional[str]) -> bool:
    return bool(userinfo(url))


def without_credentials(url: str) -> str:
    """The URL with its userinfo taken out (everything else byte for byte)."""
    info = userinfo(url)
    if info is None:
        return url
    scheme, _sep, rest = url.partition("://")
    return f"{scheme}://{rest[len(info) + 1:]}"


def same_credentials(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two URLs carry the same userinfo (both none counts): a rotated token is a change."""
    return userinfo(a) == userinfo(b)


def identical_index(a: Optional[str], b: Optional[str]) -> bool:
    """The same index with the same credentials: what `use` must leave alone. (:func:`same_index`
    ignores credentials: for display, matching with the catalogue, and agreement between tools.)"""
    return same_index(a, b) and same_credentials(a, b)


def passwords_in(text: str) -> list:
    """The userinfo of every URL in ``text`` that carries a password (``user:password@``)."""
    return [m.group(0)[len(m.group("scheme")):-1] for m in _USERINFO.finditer(text)
            if m.group("password") is not None]


def canonical(url: str) -> str:
    """A comparison key: scheme and host lowercased, default port, credentials and trailing slash dropped."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip().rstrip("/")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, host, path, parts.query, ""))


def host_key(url: str) -> Optional[str]:
    """``host:port`` of a URL, compared as pip would (host case, the scheme's default port filled
    in; the scheme itself left out: an http and an https URL of one host are one site); None
    when it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return None
    return f"{host}:{port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)}"


def path_segments(url: str) -> list:
    """The non-empty segments of a URL's path: ``https://h/pypi/simple/`` -> ``["pypi", "simple"]``."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return []
    return [part for part in path.split("/") if part]


def with_path(url: str, base: str) -> str:
    """``base`` (another URL of the same index) with the userinfo of ``url`` put in: a corrected
    URL keeps the user's credentials."""
    info = userinfo(url)
    if info is None or has_credentials(base):
        return base
    scheme, _sep, rest = base.partition("://")
    return f"{scheme}://{info}@{rest}"


def same_index(a: Optional[str], b: Optional[str]) -> bool:
    if a is None or b is None:
        return False
    return canonical(a) == canonical(b)


def trusted_host_for(url: str) -> Optional[str]:
    """The ``trusted-host`` entry an http:// index needs (host, or host:port), else None."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host
