"""Comment-preserving edits of TOML files (uv.toml, pyproject.toml, pdm.toml, PDM's config.toml).

Edits go through tomlkit, which keeps every comment, blank line and key order; a file that
tomlkit would not give back byte for byte is refused rather than reformatted. Reads that only
need values (``status``) use the stdlib ``tomllib`` (``tomli`` before Python 3.11), which is
also the strict check: a file it rejects is a ``ConfigFileError`` naming the file and line, and
nothing is written.

Tables this module adds are separated from their neighbours by one blank line, whatever
tomlkit's own spacing rules would do: they are rendered with markers first, and the markers
are then replaced by the right number of newlines (see :func:`_place_markers`).
"""

from __future__ import annotations

import copy
import sys
from pathlib import PurePath
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from mirrorctl.changes import FileChange
from mirrorctl.errors import ConfigFileError

KeyPath = Sequence[str]

# rendered around a table this module adds, then replaced (see _place_markers)
_BEGIN = "\n\x00mirrorctl-begin\x00"
_END = "\x00mirrorctl-end\x00"
# the indent of a super table we create: tomlkit renders a super table's indent only when it
# is exactly "\n", and adds "\n" itself only when the indent is empty, so this one is inert
_SUPER_INDENT = " \n"

_HINT = "fix the file by hand, then run again"


def _tomllib():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on older Pythons only
        import tomli as tomllib
    return tomllib


# -- reading ----------------------------------------------------------------------------

def decode(data: bytes, path: "PurePath | str") -> str:
    """TOML text is UTF-8 (the spec says so; uv, Poetry and PDM all read it that way)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid UTF-8 (byte {exc.start}); TOML files must be UTF-8",
                              hint="save it as UTF-8") from None


def loads(data: Optional[bytes], path: "PurePath | str") -> dict:
    """The file's values as plain Python data ({} for a missing file)."""
    if data is None:
        return {}
    return parse_text(decode(data, path), path)


def parse_text(text: str, path: "PurePath | str") -> dict:
    tomllib = _tomllib()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ConfigFileError(f"{path}: not valid TOML: {detail}", hint=_HINT) from None


def value_at(data: Mapping, keys: KeyPath, default: Any = None) -> Any:
    """``data[k1][k2]...`` in plain data, or ``default`` when a step is missing or not a table."""
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def tables_in(data: Mapping, keys: KeyPath) -> list:
    """The tables of an array of tables (``[[index]]``) in plain data; [] when absent or malformed."""
    value = value_at(data, keys, [])
    return [t for t in value if isinstance(t, Mapping)] if isinstance(value, list) else []


# -- the editable document ---------------------------------------------------------------

class TomlDocument:
    """A TOML file parsed with tomlkit, and the bytes it had (None: it did not exist)."""

    def __init__(self, before: Optional[bytes], path: "PurePath | str"):
        import tomlkit

        self.path = path
        self.before = before
        self.text = decode(before, path) if before is not None else ""
        self.data_before = parse_text(self.text, path)  # the strict check comes first
        try:
            self.doc = tomlkit.parse(self.text)
        except Exception as exc:  # tomllib accepted it; be safe anyway
            raise ConfigFileError(f"{path}: cannot be parsed for editing: {str(exc).splitlines()[0]}",
                                  hint=_HINT) from None
        if tomlkit.dumps(self.doc) != self.text:  # never risk writing back what we did not read
            raise ConfigFileError(f"{path}: cannot be edited without reformatting it",
                                  hint="please report this file to mirrorctl; edit it by hand meanwhile")

    @property
    def root(self):
        return self.doc

    def table(self, keys: KeyPath, *, create: bool = False, header: bool = True):
        """The table at ``keys`` (None when missing and not ``create``); see :func:`table_at`."""
        return table_at(self.doc, keys, create=create, header=header, path=self.path)

    def render(self) -> str:
        import re

        import tomlkit

        text = _place_markers(tomlkit.dumps(self.doc))
        if self.text and not _lf(self.text).endswith("\n\n") and _lf(text).endswith("\n\n"):
            text = text.rstrip("\r\n") + "\n"  # a removed last table leaves its blank line behind
        if "\r\n" in self.text and "\n" not in self.text.replace("\r\n", ""):
            text = re.sub(r"(?<!\r)\n", "\r\n", text)  # a CRLF file: what tomlkit added gets CRLF too
        return text

    def after(self, *, owned: Iterable[KeyPath] = (), remove_if_blank: bool = True) -> Optional[bytes]:
        """The new bytes (None: remove the file). Checked: the result parses, and nothing outside
        the ``owned`` key paths changed value."""
        text = self.render()
        if text == self.text:
            return self.before
        if remove_if_blank and not text.strip():
            return None
        after_data = parse_text(text, self.path)
        if _without(self.data_before, owned) != _without(after_data, owned):
            raise ConfigFileError(f"{self.path}: the edit would change settings mirrorctl does not manage; "
                                  "nothing was written", hint="please report this file to mirrorctl")
        return text.encode("utf-8")


def plan(path, before: Optional[bytes], edit: Callable[[TomlDocument], None], *, tool: str, scope: str,
         owned: Iterable[KeyPath] = (), remove_if_blank: bool = True,
         notes: Sequence[str] = ()) -> FileChange:
    """Read ``before``, let ``edit`` change the document, and return the FileChange (nothing is
    written). ``notes`` are attached only when the bytes change."""
    doc = TomlDocument(before, path)
    edit(doc)
    after = doc.after(owned=owned, remove_if_blank=remove_if_blank)
    change = FileChange(path, before, after, tool=tool, scope=scope)
    if change.changed:
        change.notes.extend(notes)
    return change


# -- navigating and editing tomlkit containers ---------------------------------------------

def table_at(container, keys: KeyPath, *, create: bool = False, header: bool = True,
             path: "PurePath | str" = "") -> Any:
    """The table at ``keys`` below ``container``. Missing tables are created when ``create``: the
    intermediate ones as super tables (no header of their own), the last one with a ``[header]``
    unless not ``header`` (a table that only holds ``[[arrays]]``). A key that holds something
    else (an inline table, a value) is refused: mirrorctl does not rewrite it."""
    from tomlkit.container import OutOfOrderTableProxy
    from tomlkit.items import Table

    node = container
    for depth, key in enumerate(keys):
        item = node.get(key)
        if item is None:
            if not create:
                return None
            last = depth == len(keys) - 1
            node.append(key, _new_table(super_table=not (last and header)))
            item = node[key]
        elif not isinstance(item, (Table, OutOfOrderTableProxy)):  # the proxy: a table split in parts
            raise ConfigFileError(f"{path}: {'.'.join(keys[:depth + 1])} is not written as a [table]; "
                                  "mirrorctl will not rewrite it", hint="edit that setting by hand")
        node = item
    return node


def _new_table(*, super_table: bool = False):
    import tomlkit

    table = tomlkit.table(is_super_table=super_table)
    table.trivia.indent = _SUPER_INDENT if super_table else _BEGIN
    return table


def array_tables(table, key: str, *, path: "PurePath | str" = "") -> list:
    """The tables of the array of tables ``key`` in ``table`` (``[[index]]``); [] when absent."""
    from tomlkit.items import AoT

    if table is None or key not in table:
        return []
    item = table[key]
    if not isinstance(item, AoT):
        raise ConfigFileError(f"{path}: {key} is not written as [[{key}]] tables; mirrorctl will not rewrite it",
                              hint="edit that setting by hand")
    return list(item)


def add_array_table(table, key: str, values: Mapping[str, Any], *, before: Optional[Any] = None) -> Any:
    """Add a ``[[key]]`` table holding ``values``: at the end of the array, or just before the
    table ``before``. One blank line separates it from its neighbours."""
    import tomlkit
    from tomlkit.items import Whitespace

    new = tomlkit.table()
    for name, value in values.items():
        new[name] = value
    new.trivia.indent = _BEGIN
    new.add(Whitespace(_END))
    if key not in table:
        aot = tomlkit.aot()
        aot.append(new)
        table[key] = aot
        return table[key][-1]
    aot = table[key]
    if before is None:
        aot.append(new)
        return aot[-1]
    index = next(i for i, t in enumerate(aot) if t is before)
    aot.insert(index, new)
    return aot[index]


def remove_array_tables(table, key: str, predicate: Callable[[Any], bool]) -> list:
    """Remove the ``[[key]]`` tables for which ``predicate`` is true; the array goes when emptied.
    Returns the removed tables as plain data."""
    if table is None or key not in table:
        return []
    aot = table[key]
    removed = []
    for index in reversed(range(len(aot))):
        if predicate(aot[index]):
            removed.insert(0, aot[index].unwrap())
            del aot[index]
    if removed and not len(aot):
        del table[key]
    return removed


def set_value(table, key: str, value: Any, *, keep_comment: bool = True) -> None:
    """Set ``key``; nothing changes when it already has that value. A comment after the old value
    stays, unless not ``keep_comment`` (a comment about an old URL would describe the wrong one)."""
    if key in table and _plain(table[key]) == value:
        return
    table[key] = value
    if not keep_comment:
        trivia = table[key].trivia
        trivia.comment = trivia.comment_ws = ""


def remove_value(table, key: str) -> Any:
    """Remove ``key`` and return its old value (None when it was not there)."""
    if table is None or key not in table:
        return None
    old = _plain(table[key])
    del table[key]
    return old


def remove_if_empty(container, keys: KeyPath) -> None:
    """Remove the table at ``keys``, then each parent in turn, while it holds nothing at all
    (no key, no comment)."""
    for depth in range(len(keys), 0, -1):
        parent = table_at(container, keys[:depth - 1]) if depth > 1 else container
        table = parent.get(keys[depth - 1]) if parent is not None else None
        if table is None or not _is_empty(table):
            return
        del parent[keys[depth - 1]]


def _is_empty(table) -> bool:
    from tomlkit.items import Null, Table, Whitespace

    # a deleted key leaves a Null behind in the body
    return isinstance(table, Table) and all(isinstance(item, (Whitespace, Null)) for _, item in table.value.body)


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _place_markers(text: str) -> str:
    """Replace the markers around each added table by one blank line before it (none at the top
    of the file) and one after it (none at the end, none where a blank line already follows)."""
    while _BEGIN in text:
        start = text.index(_BEGIN)
        before = _lf(text[:start])
        if not before or before.endswith("\n\n"):
            lead = ""
        else:
            lead = "\n" if before.endswith("\n") else "\n\n"
        text = text[:start] + lead + text[start + len(_BEGIN):]
    while _END in text:
        end = text.index(_END)
        after = text[end + len(_END):]
        trail = "" if not after or _lf(after).startswith("\n") else "\n"
        text = text[:end] + trail + after
    return text


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def _without(data: Mapping, owned: Iterable[KeyPath]) -> dict:
    """``data`` with the ``owned`` key paths taken out, and tables left empty by that dropped."""
    out = copy.deepcopy(dict(data))
    for keys in owned:
        _drop(out, list(keys))
    return out


def _drop(node: Any, keys: list) -> None:
    if not isinstance(node, dict) or not keys:
        return
    head, rest = keys[0], keys[1:]
    if head not in node:
        return
    if not rest:
        del node[head]
        return
    _drop(node[head], rest)
    if isinstance(node[head], dict) and not node[head]:
        del node[head]
