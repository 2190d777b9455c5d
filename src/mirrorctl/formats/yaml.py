"""Comment-preserving edits of YAML files (.condarc), with ruamel.yaml's round-trip parser.

ruamel.yaml (the parser conda itself uses) reads the file and tells on which line and column each
key, item and value sits; the edits are then made on the raw lines, so every line that is not
edited stays byte for byte. (ruamel's own dump keeps comments, but re-indents lists, re-aligns
end-of-line comments and respaces ``key:   value``.)

Every edit is checked by parsing the result again: it must hold exactly the values asked for and
nothing else changed. When a value cannot be edited line by line (a flow ``[a, b]`` list, a value
over several lines) only that key's lines are written anew; when the document is not a block
mapping starting at column 0, ruamel dumps it whole (comments kept, layout may change). An edit
that passes none of these checks raises ``ConfigFileError`` rather than write something unsure.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from typing import Any, Callable, Optional

from mirrorctl.errors import ConfigFileError
from mirrorctl.i18n import N_, _

_BREAK = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_BLANK_OR_COMMENT = re.compile(r"\s*(#.*)?")
_SEQ_PREFIX = re.compile(r" *- +")
_MAP_PREFIX = re.compile(r" +")
# strings written without quotes: no spaces, indicators, or trailing colon
_PLAIN = re.compile(r"[A-Za-z0-9_./~$][A-Za-z0-9_./~$%+=@:,;&!?()-]*(?<!:)")
# plain strings a YAML parser would not read back as strings (YAML 1.1 booleans included, to be safe)
_NOT_A_STRING = re.compile(r"(?i:true|false|yes|no|on|off|y|n|null|~|[-+]?\.(inf|nan)|0x[0-9a-f_]+|0o[0-7_]+"
                           r"|[-+]?[0-9][0-9_]*(\.[0-9_]*)?(e[-+]?[0-9]+)?|[-+]?\.[0-9_]+(e[-+]?[0-9]+)?)")
_HINT = N_("fix the file by hand (conda cannot read it either), then run again")
_REMOVE = object()


# -- reading ----------------------------------------------------------------------

def decode(data: bytes, path: str) -> str:
    """The file's text, as conda reads it: UTF-8, no byte-order mark."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise ConfigFileError(_("{path}: line 1: starts with a UTF-8 byte-order mark").format(path=path),
                              hint=_("conda on Windows cannot read it; save the file as UTF-8 without BOM"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigFileError(_("{path}: line {line}: not valid UTF-8 (byte {byte})").format(
            path=path, line=line, byte=exc.start), hint=_("save the file as UTF-8")) from None


def _yaml():
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long URL
    return yaml


# Bounds on what a document may hold, counted with every alias expanded (an alias repeats its
# anchor's whole value): a .condarc holds a few dozen values, a "billion laughs" one billions.
MAX_NODES = 100_000
MAX_DEPTH = 64


def load(text: str, path: str):
    """The top-level mapping (a ruamel ``CommentedMap``), or None for an empty document.

    The document is first composed (parsed, aliases not expanded) and measured: more than
    :data:`MAX_NODES` values or :data:`MAX_DEPTH` levels once aliases are expanded, or an alias
    inside its own anchor, is a ConfigFileError before anything is built from it."""
    from ruamel.yaml.error import YAMLError

    try:
        yaml = _yaml()
        node = yaml.compose(text)
        if node is not None:
            _measure(node, path)
        data = yaml.load(text)
    except YAMLError as exc:
        raise ConfigFileError(_("{path}: line {line}: {problem}").format(
            path=path, line=_error_line(exc, text), problem=_problem(exc)), hint=_(_HINT)) from None
    except RecursionError:
        raise _too_deep(path, None) from None
    except (ValueError, KeyError, TypeError, OverflowError) as exc:  # a tagged value ruamel cannot build (!!int x)
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigFileError(_("{path}: a value that cannot be read ({detail})").format(path=path, detail=detail),
                              hint=_(_HINT)) from None
    if data is None or isinstance(data, dict):
        return data
    line = data.lc.line + 1 if hasattr(data, "lc") else 1
    message = (_("{path}: line {line}: the top level is a list, not a mapping of settings (key: value)")
               if isinstance(data, list) else
               _("{path}: line {line}: the top level is a single value, not a mapping of settings (key: value)"))
    raise ConfigFileError(message.format(path=path, line=line), hint=_(_HINT))


def _measure(root: Any, path: str) -> None:
    """Refuse a node graph too large or too deep once its aliases are expanded (counted, not built:
    each node is visited once, its expanded size remembered)."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) with aliases expanded
    open_nodes: set[int] = set()

    def visit(node: Any, level: int) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            count, depth = sizes[key]
            if level + depth > MAX_DEPTH:
                raise _too_deep(path, node)
            return count, depth
        if key in open_nodes:
            raise ConfigFileError(_("{path}: line {line}: an alias inside its own anchor "
                                    "(a value that contains itself)").format(path=path, line=node.start_mark.line + 1),
                                  hint=_(_HINT))
        if level >= MAX_DEPTH:
            raise _too_deep(path, node)
        open_nodes.add(key)
        count, depth = 1, 1
        children = node.value if isinstance(node.value, list) else []
        for child in children:  # a sequence holds nodes, a mapping (key, value) pairs of nodes
            for part in (child if isinstance(child, tuple) else (child,)):
                sub_count, sub_depth = visit(part, level + 1)
                count += sub_count
                depth = max(depth, sub_depth + 1)
                if count > MAX_NODES:
                    raise ConfigFileError(
                        _("{path}: line {line}: more than {count} values once its aliases (*name) are expanded; "
                          "refused").format(path=path, line=node.start_mark.line + 1, count=MAX_NODES),
                        hint=_("a configuration file holds a few dozen values: look at the anchors (&name) "
                               "and aliases (*name) in it"))
        open_nodes.discard(key)
        sizes[key] = (count, depth)
        return count, depth

    visit(root, 0)


def _too_deep(path: str, node: Any) -> ConfigFileError:
    hint = _("a configuration file is a few levels deep: look at its brackets and indentation")
    if node is None:
        return ConfigFileError(_("{path}: nested more than {depth} levels deep; refused").format(
            path=path, depth=MAX_DEPTH), hint=hint)
    return ConfigFileError(_("{path}: line {line}: nested more than {depth} levels deep; refused").format(
        path=path, line=node.start_mark.line + 1, depth=MAX_DEPTH), hint=hint)


def _error_line(exc: Exception, text: str) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return mark.line + 1
    position = getattr(exc, "position", None)
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else 1


def _problem(exc: Exception) -> str:
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    words = " ".join(p.strip() for p in parts if p) or str(exc).splitlines()[0]
    return words.replace('"', "'")


def plain(value: Any) -> Any:
    """ruamel's round-trip types as plain dict, list, str, bool, int, float (a tagged scalar as
    (tag, text), so two readings compare equal)."""
    from ruamel.yaml.comments import TaggedScalar
    from ruamel.yaml.scalarbool import ScalarBoolean

    if isinstance(value, TaggedScalar):
        return (str(value.tag), value.value)
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (bool, ScalarBoolean)):  # ScalarBoolean is an int, so before int
        return bool(value)
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


# -- the document -------------------------------------------------------------------

class YamlDocument:
    """A YAML mapping document, edited key by key without reformatting what is not edited."""

    def __init__(self, text: str, path: str):
        self.path = path
        found = _BREAK.search(text)
        self.newline = found.group() if found else "\n"
        self._text = text
        self._tree = load(text, path)
        self._values = plain(self._tree) if self._tree is not None else {}

    def text(self) -> str:
        return self._text

    def values(self) -> dict:
        """Every top-level key with its value, as plain Python data."""
        return copy.deepcopy(self._values)

    def is_blank(self) -> bool:
        return not self._text.strip()

    def key_comment(self, key: str) -> Optional[str]:
        """The comment ruamel attaches after ``key:`` or its value, stripped (where conda looks
        for ``#!final``), or None."""
        entry = self._tree.ca.items.get(key) if self._tree is not None else None
        token = entry[2] if entry and len(entry) > 2 else None
        return token.value.strip() if token is not None else None

    def key_line(self, key: str) -> Optional[str]:
        """The line that holds top-level ``key`` and its whole value, line break stripped (an
        end-of-line comment included), or None: the key absent, its value on other lines, or the
        document not a block mapping with each key on a line of its own (a flow ``{...}``)."""
        if self._tree is None or key not in self._tree or not self._line_mode():
            return None
        lines = _split(self._text)
        start, end = self._region(lines, key)
        if start != end or self._tree.lc.value(key)[0] != start:
            return None
        return lines[start].rstrip("\r\n")

    def set(self, key: str, value: Any) -> None:
        """Set a top-level key to a scalar (str, bool), a list of scalars or a mapping of scalars."""
        if self._values.get(key, _REMOVE) != value:
            self._edit(key, value)

    def remove(self, key: str) -> None:
        if key in self._values:
            self._edit(key, _REMOVE)

    # -- editing ------------------------------------------------------------------
    def _edit(self, key: str, value: Any) -> None:
        if _merges(self._tree) or (self._tree is not None and key in self._tree and _merges(self._tree[key])):
            line = next((n + 1 for n, text in enumerate(_split(self._text)) if _MERGE_KEY.match(text)), 1)
            raise ConfigFileError(_("{path}: line {line}: a YAML merge key (<<:) where mirrorctl would edit; "
                                    "left as it is").format(path=self.path, line=line),
                                  hint=_("write the merged settings out in full (then `mirrorctl` can change {key}), "
                                         "or edit the file by hand").format(key=key))
        expected = dict(self._values)
        if value is _REMOVE:
            del expected[key]
        else:
            expected[key] = copy.deepcopy(value)
        strategies: list[Callable[[str, Any], Optional[str]]] = [self._edit_lines, self._rewrite_block,
                                                                 self._dump_whole]
        for strategy in strategies:
            try:
                text = strategy(key, value)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                continue  # a shape this strategy does not handle: the next one may, or the error below
            if text is None:
                continue
            try:
                tree = load(text, self.path)
            except ConfigFileError:
                continue
            if (plain(tree) if tree is not None else {}) == expected:
                self._text, self._tree, self._values = text, tree, expected
                return
        raise ConfigFileError(_("{path}: cannot change {key} without reformatting the file").format(
            path=self.path, key=key), hint=_("please report this file to mirrorctl; edit it by hand meanwhile"))

    def _line_mode(self) -> bool:
        """Whether edits can be made on lines: a block mapping, every key on its own line at column 0."""
        tree = self._tree
        if tree is None:
            return True
        if tree.fa.flow_style():
            return False
        positions = [tree.lc.key(k) for k in tree]
        return all(col == 0 for _, col in positions) and len({line for line, _ in positions}) == len(positions)

    def _region(self, lines: list[str], key: str) -> tuple[int, int]:
        """First and last line of a key and its value (trailing blank and comment lines excluded)."""
        tree = self._tree
        start = tree.lc.key(key)[0]
        following = [tree.lc.key(k)[0] for k in tree if tree.lc.key(k)[0] > start]
        end = min(following, default=len(lines)) - 1
        while end > start and _is_blank_or_comment(lines[end]):
            end -= 1
        return start, end

    def _edit_lines(self, key: str, value: Any) -> Optional[str]:
        if not self._line_mode():
            return None
        lines = _split(self._text)
        if self._tree is None or key not in self._tree:
            return _join(lines + self._emit(key, value), self.newline)
        start, end = self._region(lines, key)
        if value is _REMOVE:
            return _join(lines[:start] + lines[end + 1:], self.newline)
        node = self._tree[key]
        if isinstance(value, list):
            edited = self._edit_list(lines, key, node, value, end)
        elif isinstance(value, dict):
            edited = self._edit_map(lines, node, value, end)
        else:
            edited = self._edit_scalar(lines, key, node, value, start, end)
        return _join(edited, self.newline) if edited is not None else None

    def _edit_scalar(self, lines: list[str], key: str, node: Any, value: Any, start: int,
                     end: int) -> Optional[list[str]]:
        line, col = self._tree.lc.value(key)
        if isinstance(node, (dict, list)) or line != start or end != start:
            return None
        return lines[:start] + [_replace_token(lines[start], col, _scalar(value))] + lines[start + 1:]

    def _edit_list(self, lines: list[str], key: str, node: Any, items: list, end: int) -> Optional[list[str]]:
        if not _block_of_scalars(node, list) or not items:
            return None
        rows = [node.lc.item(i) for i in range(len(node))]
        first, last = rows[0][0], rows[-1][0]
        if first <= self._tree.lc.key(key)[0] or not _one_line_each([r for r, _ in rows], lines, last, end):
            return None
        prefix = lines[first][:rows[0][1]]
        if not _SEQ_PREFIX.fullmatch(prefix):
            return None
        old = [plain(v) for v in node]
        out, cursor = [], first
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, items, autojunk=False).get_opcodes():
            if tag == "equal":
                out += lines[cursor:rows[i2 - 1][0] + 1]
                cursor = rows[i2 - 1][0] + 1
                continue
            for i in range(i1, i2):  # the removed items' lines go, the comment lines between them stay
                out += lines[cursor:rows[i][0]]
                cursor = rows[i][0] + 1
            out += [f"{prefix}{_scalar(v)}{self.newline}" for v in items[j1:j2]]
        return lines[:first] + out + lines[cursor:]

    def _edit_map(self, lines: list[str], node: Any, mapping: dict, end: int) -> Optional[list[str]]:
        if not _block_of_scalars(node, dict) or not mapping:
            return None
        keys = list(node)
        rows = [node.lc.key(k) for k in keys]
        if any(node.lc.value(k)[0] != row for k, (row, _) in zip(keys, rows)):
            return None
        first, last = rows[0][0], rows[-1][0]
        if not _one_line_each([r for r, _ in rows], lines, last, end):
            return None
        prefix = lines[first][:rows[0][1]]
        if not _MAP_PREFIX.fullmatch(prefix):
            return None
        out = []
        cursor = first
        for k, (row, _col) in zip(keys, rows):
            out += lines[cursor:row]
            cursor = row + 1
            if k not in mapping:
                continue
            if plain(node[k]) == mapping[k]:
                out.append(lines[row])
            else:
                out.append(_replace_token(lines[row], node.lc.value(k)[1], _scalar(mapping[k])))
        out += [f"{prefix}{_scalar(k)}: {_scalar(v)}{self.newline}" for k, v in mapping.items() if k not in node]
        return lines[:first] + out + lines[cursor:]

    def _rewrite_block(self, key: str, value: Any) -> Optional[str]:
        """Write the key's lines anew (its inner comments are lost; every other line stays)."""
        if value is _REMOVE or self._tree is None or key not in self._tree or not self._line_mode():
            return None
        lines = _split(self._text)
        start, end = self._region(lines, key)
        return _join(lines[:start] + self._emit(key, value) + lines[end + 1:], self.newline)

    def _dump_whole(self, key: str, value: Any) -> Optional[str]:
        """ruamel's own dump of the edited document, indented like the file (or as conda writes)."""
        import io

        from ruamel.yaml.comments import CommentedMap

        tree = load(self._text, self.path)
        tree = tree if tree is not None else CommentedMap()
        if value is _REMOVE:
            del tree[key]
        else:
            tree[key] = copy.deepcopy(value)
        seq_prefix, map_prefix = self._style(key)
        yaml = _yaml()
        yaml.indent(mapping=len(map_prefix), sequence=len(seq_prefix), offset=seq_prefix.index("-"))
        out = io.StringIO()
        yaml.dump(tree, out)
        return out.getvalue().replace("\n", self.newline)

    # -- writing new lines --------------------------------------------------------
    def _emit(self, key: str, value: Any) -> list[str]:
        nl = self.newline
        seq_prefix, map_prefix = self._style(key)
        if isinstance(value, list):
            if not value:
                return [f"{_scalar(key)}: []{nl}"]
            return [f"{_scalar(key)}:{nl}"] + [f"{seq_prefix}{_scalar(v)}{nl}" for v in value]
        if isinstance(value, dict):
            if not value:
                return [f"{_scalar(key)}: {{}}{nl}"]
            return [f"{_scalar(key)}:{nl}"] + [f"{map_prefix}{_scalar(k)}: {_scalar(v)}{nl}" for k, v in value.items()]
        return [f"{_scalar(key)}: {_scalar(value)}{nl}"]

    def _style(self, key: str) -> tuple[str, str]:
        """How the file indents list items and mapping entries (the key's own first, then any
        other key's); conda's own style (``  - item``, ``  key: value``) when it has none."""
        seq_prefix, map_prefix = None, None
        tree = self._tree
        if tree is not None and not tree.fa.flow_style():
            lines = _split(self._text)
            for k in sorted(tree, key=lambda k: k != key):
                node = tree[k]
                if seq_prefix is None and _block_of_scalars(node, list):
                    row, col = node.lc.item(0)
                    seq_prefix = _matching(_SEQ_PREFIX, lines[row][:col])
                if map_prefix is None and _block_of_scalars(node, dict):
                    row, col = node.lc.key(next(iter(node)))
                    map_prefix = _matching(_MAP_PREFIX, lines[row][:col])
        return seq_prefix or "  - ", map_prefix or "  "


# -- helpers --------------------------------------------------------------------------

def _split(text: str) -> list[str]:
    return _LINE.findall(text)


def _join(lines: list[str], newline: str) -> str:
    """The lines as text; a line that gained a successor gets the line break it lacked."""
    last = len(lines) - 1
    return "".join(line if i == last or _BREAK.search(line) else line + newline for i, line in enumerate(lines))


_MERGE_KEY = re.compile(r"\s*(- +)?<<\s*:")


def _merges(node: Any) -> bool:
    """Whether a mapping takes keys from another through a merge key (``<<: *anchor``)."""
    from ruamel.yaml.comments import merge_attrib

    return isinstance(node, dict) and bool(getattr(node, merge_attrib, None))


def _is_blank_or_comment(line: str) -> bool:
    return _BLANK_OR_COMMENT.fullmatch(line.rstrip("\r\n")) is not None


def _matching(pattern: "re.Pattern[str]", text: str) -> Optional[str]:
    return text if pattern.fullmatch(text) else None


def _block_of_scalars(node: Any, kind: type) -> bool:
    """A non-empty block-style list or mapping whose values are all scalars."""
    if not isinstance(node, kind) or not node or not hasattr(node, "fa") or node.fa.flow_style():
        return False
    values = node.values() if isinstance(node, dict) else node
    return all(not isinstance(v, (dict, list)) for v in values)


def _one_line_each(rows: list[int], lines: list[str], last: int, end: int) -> bool:
    """Each item on a line of its own, only blank or comment lines between them, none after."""
    if last != end or len(set(rows)) != len(rows) or rows != sorted(rows):
        return False
    between = [i for a, b in zip(rows, rows[1:]) for i in range(a + 1, b)]
    return all(_is_blank_or_comment(lines[i]) for i in between)


def _replace_token(line: str, col: int, new: str) -> str:
    """``line`` with the scalar that starts at ``col`` replaced (what follows it, a comment, stays)."""
    body = line.rstrip("\r\n")
    rest = body[col:]
    quoted = re.match(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'", rest)
    if quoted:
        length = quoted.end()
    else:
        comment = re.search(r"[ \t]+#", rest)
        length = len(rest[:comment.start()] if comment else rest.rstrip(" \t"))
    return body[:col] + new + body[col + length:] + line[len(body):]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and not _NOT_A_STRING.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)
