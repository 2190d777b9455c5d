"""Index URLs: validation, comparison and masking of credentials."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote, urlsplit, urlunsplit

from mirrorctl.errors import UsageError

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
    shown = mask_url(raw)
    bad = _CONTROL_OR_SPACE.search(raw)
    if bad:
        raise UsageError(
            f"bad {what} {shown!r}: it contains whitespace or a control character ({bad.group()!r})",
            hint="give the URL alone, without spaces, tabs or line breaks; encode a space as %20",
        )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"bad {what} {shown!r}: {exc}", hint="check the host and port") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UsageError(
            f"bad {what} {shown!r}: the scheme must be http or https",
            hint="for example https://pypi.example.org/simple",
        )
    host = parts.hostname or ""
    if not host:
        raise UsageError(f"bad {what} {shown!r}: it has no host", hint="for example https://pypi.example.org/simple")
    if parts.fragment or raw.endswith("#"):
        raise UsageError(f"bad {what} {shown!r}: an index URL cannot have a #fragment", hint="drop the part after #")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError:
        raise UsageError(f"bad {what} {shown!r}: the host {host!r} is not a valid name", hint="check the spelling") from None
    if not re.fullmatch(r"[a-z0-9.\-_\[\]:]+", ascii_host):
        raise UsageError(f"bad {what} {shown!r}: the host {host!r} is not a valid name", hint="check the spelling")
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

    A user name without a password is masked too: tokens are often passed that way.
    """
    if "@" not in text:
        return text

    def repl(match: "re.Match[str]") -> str:
        if match.group("password") is not None:
            return f"{match.group('scheme')}{match.group('user')}:****@"
        return f"{match.group('scheme')}****@"

    return _USERINFO.sub(repl, text)


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
