"""Comment-preserving edits of TOML files (uv.toml, pyproject.toml, pdm.toml, PDM's config.toml).

Edits go through tomlkit, which keeps every comment, blank line and key order; a file that
tomlkit would not give back byte for byte is refused rather than reformatted. Reads that only
need values (``status``) use the stdlib ``tomllib`` (``tomli`` before Python 3.11), which is
also the strict check: a file it rejects is a ``ConfigFileError`` naming the file and line, and
nothing is written.

Tables this module adds are separated from their neighbours by one blank line, whatever
tomlkit's own spacing rules would do: they are rendered with markers first, and the markers
are then replaced by the right number of newlines (see :func:`_place_markers`).

A comment block right above a table header (no blank line between) belongs to that table: an
added table goes above such a block, not between it and its table, and a removed table leaves
the block it held for the next header behind (see :func:`remove_array_tables`). So ``reset``
gives back the bytes ``use`` started from.
"""

from __future__ import annotations

import copy
import re
import sys
import weakref
from pathlib import PurePath
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from mirrorctl.changes import FileChange
from mirrorctl.errors import ConfigFileError
from mirrorctl.i18n import N_, _

KeyPath = Sequence[str]

# rendered around a table this module adds, then replaced (see _place_markers)
_BEGIN = "\n\x00mirrorctl-begin\x00"
_END = "\x00mirrorctl-end\x00"
# the indent of a super table we create: tomlkit renders a super table's indent only when it
# is exactly "\n", and adds "\n" itself only when the indent is empty, so this one is inert
_SUPER_INDENT = " \n"

_HINT = N_("fix the file by hand, then run again")


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
        raise ConfigFileError(_("{path}: not valid UTF-8 (byte {byte}); TOML files must be UTF-8").format(
            path=path, byte=exc.start), hint=_("save it as UTF-8")) from None


def loads(data: Optional[bytes], path: "PurePath | str") -> dict:
    """The file's values as plain Python data ({} for a missing file)."""
    if data is None:
        return {}
    return parse_text(decode(data, path), path)


# deeper than this is no configuration file (tomlkit, which edits, stops at 100)
MAX_DEPTH = 64


def parse_text(text: str, path: "PurePath | str") -> dict:
    """The values of TOML text; a syntax error, or values nested deeper than :data:`MAX_DEPTH`,
    is a one-line ConfigFileError naming the file."""
    tomllib = _tomllib()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else _("syntax error")
        raise ConfigFileError(_("{path}: not valid TOML: {detail}").format(path=path, detail=detail), hint=_(_HINT)) from None
    except RecursionError:  # the parser recurses into nested arrays and inline tables
        data = None
    if data is None or _deeper_than(data, MAX_DEPTH):  # dotted keys nest without recursing
        raise ConfigFileError(_("{path}: values nested more than {depth} levels deep; refused").format(
            path=path, depth=MAX_DEPTH),
                              hint=_("a configuration file is a few levels deep: look at its brackets and dotted keys"))
    return data


def _deeper_than(data: Any, depth: int) -> bool:
    level = [data]
    for _level in range(depth + 1):
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())
                 if isinstance(child, (dict, list))]
        if not level:
            return False
    return True


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


# what a value must be, as the tools check it: the name used in messages, and the test
_KINDS = {
    "string": (N_("a string"), lambda v: isinstance(v, str)),
    "boolean": (N_("a boolean (true or false)"), lambda v: isinstance(v, bool)),
    "table": (N_("a table"), lambda v: isinstance(v, Mapping)),
    "array of strings": (N_("an array of strings"), lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "array of tables": (N_("an array of tables ([[...]])"),
                        lambda v: isinstance(v, list) and all(isinstance(x, Mapping) for x in v)),
}


def type_name(value: Any) -> str:
    """What a plain TOML value is, for messages: "an integer", "a table" ..."""
    if isinstance(value, bool):
        return _("a boolean")
    if isinstance(value, str):
        return _("a string")
    if isinstance(value, int):
        return _("an integer")
    if isinstance(value, float):
        return _("a float")
    if isinstance(value, Mapping):
        return _("a table")
    if isinstance(value, list):
        return _("an array") if all(not isinstance(x, Mapping) for x in value) else _("an array of tables")
    return _("a date or time")


def expect(data: Mapping, key: str, kind: str, *, path: "PurePath | str", tool: str, name: Optional[str] = None,
           required: bool = False) -> None:
    """Check ``data[key]`` (plain data) is of ``kind`` (a key of ``_KINDS``); absent is fine unless
    ``required``. Else a ConfigFileError naming the file and the key (``name``, default ``key``):
    a file the tool refuses is not edited, and ``status`` reports it."""
    shown = name or key
    if key not in data:
        if required:
            raise ConfigFileError(_("{path}: {key} is missing; {tool} cannot use this file").format(
                path=path, key=shown, tool=tool), hint=_(_HINT))
        return
    description, test = _KINDS[kind]
    if not test(data[key]):
        raise ConfigFileError(_("{path}: {key} must be {kind}, not {actual}; {tool} cannot use this file").format(
            path=path, key=shown, kind=_(description), actual=type_name(data[key]), tool=tool), hint=_(_HINT))


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
            raise ConfigFileError(_("{path}: cannot be parsed for editing: {error}").format(
                path=path, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                                  hint=_(_HINT)) from None
        if tomlkit.dumps(self.doc) != self.text:  # never risk writing back what we did not read
            raise ConfigFileError(_("{path}: cannot be edited without reformatting it").format(path=path),
                                  hint=_("please report this file to mirrorctl; edit it by hand meanwhile"))

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
            raise ConfigFileError(_("{path}: the edit would change settings mirrorctl does not manage; "
                                    "nothing was written").format(path=self.path),
                                  hint=_("please report this file to mirrorctl"))
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
            raise ConfigFileError(_("{path}: {key} is not written as a [table]; mirrorctl will not rewrite it").format(
                path=path, key=".".join(keys[:depth + 1])), hint=_("edit that setting by hand"))
        node = item
    return node


def _new_table(*, super_table: bool = False):
    import tomlkit

    table = tomlkit.table(is_super_table=super_table)
    table.trivia.indent = _SUPER_INDENT if super_table else _BEGIN
    return table


def array_tables(table, key: str, *, path: "PurePath | str" = "") -> list:
    """The tables of the array of tables ``key`` in ``table`` (``[[index]]``); [] when absent or
    an empty inline array. Anything else (a value, an inline array of tables) is refused."""
    from tomlkit.items import AoT, Array

    if table is None or key not in table:
        return []
    item = table[key]
    if isinstance(item, Array) and not len(item):
        return []
    if not isinstance(item, AoT):
        raise _not_array_of_tables(path, key)
    return list(item)


def _not_array_of_tables(path: "PurePath | str", key: str) -> ConfigFileError:
    return ConfigFileError(_("{path}: {key} is not written as [[{key}]] tables; mirrorctl will not rewrite it").format(
        path=path, key=key), hint=_("edit that setting by hand"))


def add_array_table(table, key: str, values: Mapping[str, Any], *, before: Optional[Any] = None,
                    path: "PurePath | str" = "") -> Any:
    """Add a ``[[key]]`` table holding ``values``: at the end of the array, or just before the
    table ``before``. One blank line separates it from its neighbours. A ``key`` that holds
    anything but ``[[key]]`` tables is refused."""
    import tomlkit
    from tomlkit.items import AoT, Whitespace

    if key in table and not isinstance(table[key], AoT):
        raise _not_array_of_tables(path, key)

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


def remove_array_tables(table, key: str, predicate: Callable[[Any], bool], *, path: "PurePath | str" = "") -> list:
    """Remove the ``[[key]]`` tables for which ``predicate`` is true; the array goes when emptied.
    Returns the removed tables as plain data. A ``key`` holding anything else is refused, as in
    :func:`array_tables` (an empty inline array holds nothing to remove).

    The comment block that ends a removed table's body (no blank line after it) sits right above
    the next header: it stays there, above the next table of the array, at the end of the one
    before, or where the array was."""
    if not array_tables(table, key, path=path):
        return []
    aot = table[key]
    removed: list = []
    left: list = []  # the comments the last table of the array leaves behind
    for index in reversed(range(len(aot))):
        if not predicate(aot[index]):
            continue
        block = _take_trailing_comments(aot[index])
        removed.insert(0, aot[index].unwrap())
        del aot[index]
        if not block:
            continue
        if index < len(aot):  # above the header of the next table of the array
            aot[index].trivia.indent = _text(block) + aot[index].trivia.indent
        elif index > 0:  # at the end of the table before
            for comment in block:
                aot[index - 1].add(comment)
        else:
            left = block
    if removed and not len(aot):
        _remove_leaving(table, key, left, path=path)
    return removed


def _take_trailing_comments(table) -> list:
    """Take the comment items that end ``table``'s body with no blank line after them."""
    from tomlkit.items import Comment, Null

    body = table.value.body
    taken: list = []
    for index in reversed(range(len(body))):
        key, item = body[index]
        if isinstance(item, Null):
            continue
        if key is not None or not isinstance(item, Comment):
            break
        taken.insert(0, item)
        body[index] = (None, Null())  # tomlkit's own way to remove an item in place
    return taken


def _text(items: list) -> str:
    return "".join(item.as_string() for item in items)


# comments a removed array or table left where it was: they do not keep a table alive
_LEFT_BEHIND: "weakref.WeakSet" = weakref.WeakSet()


def _remove_leaving(parent, key: str, comments: list, *, path: "PurePath | str" = "") -> None:
    """``del parent[key]``, and ``comments`` (text to keep) take its place in ``parent``'s body
    (through tomlkit's ``Container._map``: its removal leaves a Null in that place)."""
    from tomlkit import comment as new_comment
    from tomlkit.container import Container, OutOfOrderTableProxy
    from tomlkit.items import Null, Table

    if not comments:
        del parent[key]
        return
    owner = parent.value if isinstance(parent, Table) else parent if isinstance(parent, Container) else None
    if isinstance(parent, OutOfOrderTableProxy):  # a table in parts: the part that holds key
        owner = next((part.value for part in getattr(parent, "_tables", []) if key in part.value), None)
    slots = [i for k, i in owner._map.items() if k is not None and k.key == key] if owner is not None else []
    del parent[key]
    if len(slots) != 1 or not isinstance(slots[0], int) or not isinstance(owner.body[slots[0]][1], Null):
        raise ConfigFileError(_("{path}: cannot remove {key} and keep the comment after it in place; "
                                "nothing was written").format(path=path, key=key),
                              hint=_("please report this file to mirrorctl; edit it by hand meanwhile"))
    text = _text(comments)
    body = text.rstrip("\r\n")
    kept = new_comment("")
    kept.trivia.indent, kept.trivia.comment_ws, kept.trivia.comment = "", "", body
    kept.trivia.trail = text[len(body):]
    owner.body[slots[0]] = (None, kept)
    _LEFT_BEHIND.add(kept)


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
    (no key, no comment but those a removal left behind, which take the table's place)."""
    for depth in range(len(keys), 0, -1):
        parent = table_at(container, keys[:depth - 1]) if depth > 1 else container
        table = parent.get(keys[depth - 1]) if parent is not None else None
        if table is None or not _is_empty(table):
            return
        _remove_leaving(parent, keys[depth - 1], [item for _, item in table.value.body if _left_behind(item)])


def _is_empty(table) -> bool:
    from tomlkit.items import Null, Table, Whitespace

    # a deleted key leaves a Null behind in the body
    return isinstance(table, Table) and all(isinstance(item, (Whitespace, Null)) or _left_behind(item)
                                            for _, item in table.value.body)


def _left_behind(item) -> bool:
    from tomlkit.items import Comment

    return isinstance(item, Comment) and item in _LEFT_BEHIND


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


# comment lines that end a text (each line, its newline included)
_COMMENT_BLOCK = re.compile(r"(?:^[ \t]*#[^\r\n]*\r?\n)+\Z", re.MULTILINE)


def _place_markers(text: str) -> str:
    """Replace the markers around each added table by one blank line before it (none at the top
    of the file) and one after it (none at the end, none where a blank line already follows).

    A comment block right above an added table was right above the header that now follows it
    (tomlkit keeps such a comment in the body of the table before): it moves below the added
    table. One that ends the file stays where it is."""
    while _BEGIN in text:
        start = text.index(_BEGIN)
        end = text.find(_END, start)
        following = text.find(_BEGIN, start + len(_BEGIN))
        paired = end != -1 and not -1 < following < end  # a table made by table_at has no end marker
        block = _COMMENT_BLOCK.search(text[:start]) if paired else None
        after = text[end + len(_END):] if paired else ""
        if block and after.strip():  # above the header that follows, past tomlkit's blank lines
            blank = len(after) - len(after.lstrip("\r\n"))
            text = (text[:block.start()] + text[start:end + len(_END)] + after[:blank] + block.group(0)
                    + after[blank:])
            start = block.start()
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
