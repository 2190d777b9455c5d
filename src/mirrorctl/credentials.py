"""Credentials in index URLs (``https://user:secret@host/simple``): where they may be written.

One rule for every tool, applied to the planned changes of a command (:func:`protect`):

- user and venv scope: a file whose new bytes hold a credential is made private (``private=True``:
  the transaction writes it owner-only, 0600, before the credential reaches the disk); an
  existing file that others could read is tightened, and the result says so;
- global scope: the file must stay readable by every user (pip silently skips a file it cannot
  read), so it is written as it is, with a warning that every user of the machine can read it;
- project scope: files meant to be committed never get a credential. :func:`for_project` gives
  the targets the URL without it, and :func:`plan_netrc` puts it into ``~/.netrc`` (``$NETRC``),
  which pip, uv, Poetry, PDM and pipenv read (docs/usage.md, "Credentials");
- shell start-up files (often published with dotfiles) never get one: a change that would put
  a credential there is refused.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Optional, Sequence
from urllib.parse import unquote, urlsplit

from mirrorctl import urls
from mirrorctl.changes import FileChange, read_bytes
from mirrorctl.context import Context, Scope
from mirrorctl.errors import ConfigFileError, UsageError
from mirrorctl.i18n import _

# the files shells (and PowerShell) run at start-up: a credential never goes there
SHELL_STARTUP_NAMES = frozenset({
    ".bashrc", ".bash_profile", ".bash_login", ".profile", ".bash_logout",
    ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout",
    ".kshrc", ".mkshrc", ".cshrc", ".tcshrc", ".login", "config.fish",
})


@dataclass(frozen=True)
class Credential:
    host: str  # as netrc names the machine: the host name, without the port
    login: str
    password: Optional[str]  # None: a token given as the user name alone (``https://TOKEN@host``)
    userinfo: str  # as written in the URL (percent-encoded)


def credential_of(url: Optional[str]) -> Optional[Credential]:
    info = urls.userinfo(url)
    if not info:
        return None
    login, sep, password = info.partition(":")
    host = urlsplit(url).hostname or ""
    return Credential(host=host, login=unquote(login), password=unquote(password) if sep else None, userinfo=info)


def holds_credential(data: Optional[bytes], url: Optional[str] = None) -> bool:
    """Whether ``data`` holds a password in a URL (``user:password@``), or the userinfo of
    ``url`` (also a token given as the user name alone)."""
    if not data:
        return False
    text = _text(data)
    info = urls.userinfo(url)
    return bool((info and f"{info}@" in text) or urls.passwords_in(text))


def _count(data: Optional[bytes], url: Optional[str]) -> int:
    if not data:
        return 0
    text = _text(data)
    info = urls.userinfo(url)
    return len(urls.passwords_in(text)) + (text.count(f"{info}@") if info and ":" not in info else 0)


def is_shell_startup(path: PurePath) -> bool:
    """A file a shell runs at start-up: bash/zsh/ksh/csh rc and profile files, fish's config.fish
    and ``conf.d/*.fish``, PowerShell's ``*profile.ps1``. (A private file such a file sources is
    not one: it may hold what the start-up file must not.)"""
    path = PurePath(path)
    name = path.name
    return (name in SHELL_STARTUP_NAMES or (name.endswith(".fish") and path.parent.name == "conf.d")
            or name.lower().endswith("profile.ps1"))


def _text(data: bytes) -> str:
    """Enough of the text to find URLs in: userinfo is ASCII; UTF-16 (PowerShell profiles) decoded."""
    import codecs

    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("latin-1")


def _readable_by_others(path: PurePath) -> bool:
    if os.name != "posix":  # permission bits say nothing there (ACLs decide)
        return False
    try:
        return bool(stat.S_IMODE(os.stat(path).st_mode) & 0o077)
    except OSError:  # absent (created private), or unreadable: the transaction will say so
        return False


@dataclass
class Protection:
    notes: list
    warnings: list


def protect(changes: Sequence[FileChange], url: Optional[str] = None, *, planned_only: bool = False) -> Protection:
    """Apply the rule of this module to planned changes (in place: ``private`` is set); ``url``
    is the mirror's, whose credential may be a bare token; ``planned_only``: nothing will be
    written (--dry-run, --check), the notes say "would". Raises for a shell start-up file."""
    out = Protection(notes=[], warnings=[])
    shared: list = []  # global-scope files: readable by every user, and must stay so
    for change in changes:
        if not change.changed or not holds_credential(change.after, url):
            continue
        if is_shell_startup(change.path):
            if _count(change.after, url) > _count(change.before, url):
                raise UsageError(
                    _("{path}: mirrorctl does not write a password into a shell start-up file (dotfiles are "
                      "often shared or published)").format(path=change.path),
                    hint=_("give the URL without the password and keep the password in ~/.netrc (machine HOST login "
                           "USER password PASS), or leave {value} out with --tool")
                         .format(value=change.tool or _('this tool')))
            continue
        if change.scope == Scope.GLOBAL.value:
            shared.append(str(change.path))
            continue
        if change.scope == Scope.PROJECT.value:
            out.warnings.append(_("{path} is meant to be committed, and holds a password mirrorctl did not put there: move "
                                  "it to ~/.netrc before you commit the file").format(path=change.path))
            continue
        change.private = True
        if change.before is not None and _readable_by_others(change.path):
            note = (_("would make {path} private (0600): it now holds a password") if planned_only
                    else _("made {path} private (0600): it now holds a password"))
            out.notes.append(note.format(path=change.path))
    if shared:
        out.warnings.append(_("every user of this machine can read the password in {paths}: a system-wide file must "
                              "stay readable to all (pip silently skips one it cannot read); to keep the password to "
                              "yourself, use --scope user, or put it in your ~/.netrc (machine HOST login USER "
                              "password PASS) and give the URL without it").format(paths=', '.join(shared)))
    return out


# -- project scope: the credential goes to ~/.netrc ---------------------------------------------

def for_project(url: str) -> str:
    """The URL written into a project's files: without its credential."""
    return urls.without_credentials(url)


def netrc_path(ctx: Context) -> PurePath:
    """The netrc file pip (requests), uv, Poetry, PDM (unearth) and pipenv read: ``$NETRC``, else
    ``~/.netrc`` (on Windows too: each of them looks there)."""
    value = ctx.environ.get("NETRC")
    return ctx.path(value) if value else ctx.home / ".netrc"


# a netrc token: a quoted string (Python's netrc reads one) or a run of non-blanks
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\S+')
_UNSAFE = re.compile(r'[\s"\\]')


def _check_value(value: str, what: str, url: str) -> None:
    if not value or _UNSAFE.search(value) or value.startswith("#"):
        raise UsageError(_("the {what} in {url} cannot be written to ~/.netrc as every tool reads it (it is empty, "
                           "or holds a blank, a quote, a backslash or a leading #)")
                         .format(what=what, url=urls.mask_url(url)),
                         hint=_("put the URL without the credential into the project yourself, and give the credential "
                                "to each tool its own way (e.g. `poetry config http-basic`), or use --scope user"))


def _parse_check(text: str, path: PurePath) -> dict:
    """Refuse a netrc the tools cannot read (Python's netrc module is their reader, or as strict);
    the hosts it reads: {host: (login, account, password)}."""
    import io
    import netrc

    parser = netrc.netrc.__new__(netrc.netrc)
    parser.hosts, parser.macros = {}, {}
    try:
        parser._parse(str(path), io.StringIO(text), False)  # the stdlib reader, on these bytes
    except netrc.NetrcParseError as exc:
        reason = re.sub(r"\s*'[^']*'", "", exc.msg)  # the token it quotes may be a piece of a password
        raise ConfigFileError(_("{path}: not a valid netrc file ({reason}, line {lineno})")
                              .format(path=path, reason=reason, lineno=exc.lineno),
                              hint=_("fix the file by hand, then run again")) from None
    return dict(parser.hosts)


def _check_reads_back(text: str, path: PurePath, cred: Credential) -> None:
    """The edited file must give the host exactly this login and password when read as the tools
    read it (an unclosed quote earlier in the file would swallow the new line)."""
    found = _parse_check(text, path).get(cred.host)
    if found is None or found[0] != cred.login or found[2] != cred.password:
        raise ConfigFileError(_("{path}: after the edit, the tools would not read the new login for {host} (something "
                                "earlier in the file, such as an unclosed quote, swallows it)")
                              .format(path=path, host=cred.host),
                              hint=_("fix the file by hand, then run again"))


@dataclass
class _Entry:
    start: int  # offset of its "machine"/"default" token
    end: int  # offset just after its last token
    host: Optional[str]  # None: the "default" entry


def _entries(text: str) -> list:
    """The machine/default entries of a netrc text, with their spans (comments and macdef bodies skipped)."""
    entries: list = []
    pos = 0
    expect_host = False
    while True:
        match = _TOKEN.search(text, pos)
        if match is None:
            break
        token, pos = match.group(), match.end()
        if token.startswith("#") and not expect_host:
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline + 1
            continue
        if expect_host:
            entries[-1].host, entries[-1].end, expect_host = token.strip('"'), pos, False
        elif token in ("machine", "default"):
            entries.append(_Entry(match.start(), pos, None))
            expect_host = token == "machine"
        elif token == "macdef":
            name = _TOKEN.search(text, pos)  # its name, then its body up to an empty line
            body_end = text.find("\n\n", name.end() if name else pos)
            pos = len(text) if body_end < 0 else body_end + 2
        elif entries:
            entries[-1].end = pos
    return entries


def edit_netrc(text: str, cred: Credential) -> str:
    """``text`` with the machine ``cred.host`` given ``cred``'s login and password: each entry for
    that machine is rewritten in place; else a new line goes before a ``default`` entry, or at
    the end. Other machines' entries, comments and macros stay byte for byte."""
    line = f"machine {cred.host} login {cred.login} password {cred.password}"
    entries = _entries(text)
    ours = [e for e in entries if e.host == cred.host]
    if ours:
        for entry in reversed(ours):
            text = text[:entry.start] + line + text[entry.end:]
        return text
    default = next((e for e in entries if e.host is None), None)
    if default is not None:
        return text[:default.start] + line + "\n" + text[default.start:]
    if text and not text.endswith("\n"):
        text += "\n"
    if text.rstrip("\n") != text.rstrip() or _ends_in_macro(text):
        text += "\n"  # a macro body runs to an empty line: end it first
    return text + line + "\n"


def _ends_in_macro(text: str) -> bool:
    last = text.rfind("macdef")
    return last >= 0 and "\n\n" not in text[last:]


def plan_netrc(ctx: Context, url: str) -> FileChange:
    """The change to ~/.netrc that gives the mirror's host its login and password (owner-only)."""
    cred = credential_of(url)
    assert cred is not None
    if cred.password is None:
        raise UsageError(_("{url} carries a token as its user name: a project's files are committed, so mirrorctl "
                           "keeps credentials in ~/.netrc, which needs a login and a password")
                         .format(url=urls.mask_url(url)),
                         hint=_("give the token as the password, after the user name your index expects with a token "
                                "(often __token__), or use --scope user"))
    _check_value(cred.login, "user name", url)
    _check_value(cred.password, "password", url)
    path = netrc_path(ctx)
    before = read_bytes(Path(path))
    try:
        text = before.decode("utf-8") if before is not None else ""
    except UnicodeDecodeError:
        raise ConfigFileError(_("{path}: not UTF-8 text")
                              .format(path=path), hint=_("fix the file by hand, then run again")) from None
    if before is not None:
        _parse_check(text, path)
    previous = _parse_check(text, path).get(cred.host) if before is not None else None
    after = edit_netrc(text, cred)
    _check_reads_back(after, path, cred)
    change = FileChange(Path(path), before, after.encode("utf-8"), tool="netrc", scope=Scope.USER.value,
                        private=True)
    if previous is not None and previous[0] != cred.login:
        change.notes.append(_("{path}: the entry for {host} had the login {previous!r}; it now has {login!r} "
                              "(`mirrorctl undo` puts the old one back)")
                            .format(path=path, host=cred.host, previous=previous[0], login=cred.login))
    if change.changed:
        change.notes.append(_("the password for {host} goes to {path} (owner-only), which the tools read; the "
                              "project's files name the index without it").format(host=cred.host, path=path))
    return change


def project_mirror(mirror):
    """The mirror as a project's files get it: its URL without the credential."""
    return replace(mirror, url=for_project(mirror.url))
