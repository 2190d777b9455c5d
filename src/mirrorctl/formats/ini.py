"""Comment-preserving edits of INI files (pip.conf, .pydistutils.cfg, buildout.cfg).

ConfigUpdater parses the file into blocks that keep their raw lines; we edit at
that level and emit the raw lines again, so every line we do not touch stays
byte for byte (comments, blank lines, order, spacing, line endings).

Reads that must agree with the tool use the stdlib ``RawConfigParser`` the way
pip does (see :func:`read_values`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from mirrorctl.errors import ConfigFileError
from mirrorctl.i18n import _

Normalizer = Callable[[str], str]


def plain(name: str) -> str:
    return name.strip().lower()


@dataclass
class _Item:
    kind: str  # "option" or "other" (comments, blank lines)
    lines: list[str]
    key: Optional[str] = None  # raw key as written


@dataclass
class _Section:
    name: Optional[str]  # None: lines before the first header
    header: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    # for a section this document appended: whether a blank line was put before it
    # (None: the section was read from the file, so we cannot know)
    added_blank: Optional[bool] = None
    # the section's text, not yet split into items (see IniDocument._load); None once it is
    raw: Optional[str] = None
    # with raw: (its lines, [(index of a line that starts an option, raw key)])
    pending: Optional[tuple] = None


def _fail(path: str, detail: str, hint: Optional[str] = None) -> ConfigFileError:
    return ConfigFileError(f"{path}: {detail}", hint=hint if hint is not None else _("fix the file by hand, then run again"))


def check_parses(text: str, path: str) -> None:
    """Raise ConfigFileError where the stdlib parser (which pip uses) would fail."""
    _parse(text, path)


def _parse(text: str, path: str, parser=None, lines=None):
    """The stdlib ``RawConfigParser`` (pip's) of ``text`` (fed from ``lines`` when given); its
    errors as one-line ConfigFileErrors."""
    import configparser

    parser = parser if parser is not None else configparser.RawConfigParser()
    try:
        if lines is None:
            parser.read_string(text, source=path)
        else:
            parser.read_file(lines, source=path)
    except configparser.MissingSectionHeaderError as exc:
        raise _fail(path, _("line {line}: no [section] header before {text!r}").format(
            line=exc.lineno, text=exc.line.strip()),
                    hint=_("pip cannot read this file either; add a [global] line at the top")) from None
    except configparser.DuplicateSectionError as exc:
        raise _fail(path, _("line {line}: section [{section}] appears twice").format(line=exc.lineno, section=exc.section),
                    hint=_("pip cannot read this file either; merge the two sections")) from None
    except configparser.DuplicateOptionError as exc:
        raise _fail(path, _("line {line}: option {option!r} appears twice in [{section}]").format(
            line=exc.lineno, option=exc.option, section=exc.section),
                    hint=_("pip cannot read this file either; keep one of them")) from None
    except configparser.ParsingError as exc:
        lineno, line = exc.errors[0] if exc.errors else (0, "")
        raise _fail(path, _("line {line}: cannot parse {text!r}").format(line=lineno, text=line.strip()),
                    hint=_("pip cannot read this file either; a line must be [section], key = value, "
                           "or a comment")) from None
    except configparser.Error as exc:
        raise _fail(path, str(exc).splitlines()[0]) from None
    return parser


def read_values(text: str, path: str) -> dict[str, dict[str, str]]:
    """Section -> {raw option name -> value}, exactly as ``RawConfigParser`` (pip) sees it."""
    parser = _parse(text, path)
    return {section: dict(parser.items(section)) for section in parser.sections()}


class IniDocument:
    """An INI file as raw lines grouped in sections, editable without reformatting.

    The stdlib parser (pip's) reads the file once, and tells which line starts each section and
    each option (see :func:`_layout`): the lines of an option are its first line and every
    line up to the last one that continues its value. So every line is placed the way pip reads
    it, in time linear in the file's size. A section is split into items only when it is edited;
    the others stay the text they were read as. A file the layout cannot place (a ``[DEFAULT]``
    section) is split by ConfigUpdater instead.
    """

    def __init__(self, text: str, path: str):
        self.path = path
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.sections = _layout(text, path)
        if self.sections is None:
            check_parses(text, path)
            self.sections = self._split(text, path)
        # name -> section: one lookup per section edited (the stdlib parser refused a section twice)
        self._by_name = {s.name: s for s in self.sections if s.name is not None}

    @staticmethod
    def _split(text: str, path: str) -> list[_Section]:
        """Every section of ``text`` in lines, through ConfigUpdater."""
        from configupdater import ConfigUpdater
        from configupdater.block import Comment, Space
        from configupdater.option import Option
        from configupdater.section import Section

        updater = ConfigUpdater(strict=False)
        try:
            updater.read_string(text, source=path)
        except Exception as exc:  # the stdlib check above passed; be safe anyway
            raise _fail(path, _("cannot parse: {error}").format(
                error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)) from None
        sections = [_Section(name=None)]
        for block in updater.iter_blocks():
            if isinstance(block, Section):
                section = _Section(name=block.name, header=list(block.lines))
                for child in block.iter_blocks():
                    if isinstance(child, Option):
                        section.items.append(_Item("option", list(child.lines), key=child.raw_key))
                    else:
                        section.items.append(_Item("other", list(child.lines)))
                sections.append(section)
            elif isinstance(block, (Comment, Space)):
                sections[-1].items.append(_Item("other", list(block.lines)))
            else:  # pragma: no cover - ConfigUpdater has no other top-level blocks
                sections[-1].items.append(_Item("other", list(getattr(block, "lines", []))))
        rebuilt = "".join(_section_text(s) for s in sections)
        if rebuilt != text:  # never risk writing back something we did not read
            raise _fail(path, _("cannot be edited without reformatting it"), hint=_("please report this file to mirrorctl"))
        return sections

    def _load(self, section: _Section) -> _Section:
        """The section split into items (now, if it was kept as text)."""
        if section.raw is not None:
            lines, starts = section.pending
            section.header, section.items = _items(lines, starts, header=section.name is not None)
            section.raw = section.pending = None
        return section

    # -- reading --------------------------------------------------------
    def text(self) -> str:
        return "".join(_section_text(s) for s in self.sections)

    def section_names(self) -> list[str]:
        return [s.name for s in self.sections if s.name is not None]

    def _section(self, name: str) -> Optional[_Section]:
        section = self._by_name.get(name)
        return self._load(section) if section is not None else None

    def has_option(self, section: str, key: str, normalize: Normalizer = plain) -> bool:
        sec = self._by_name.get(section)
        if sec is None:
            return False
        if sec.raw is not None:  # not split yet: its option names are known
            wanted = normalize(key)
            return any(normalize(name) == wanted for _, name in sec.pending[1])
        return self._find(section, key, normalize) is not None

    # -- editing --------------------------------------------------------
    def set(self, section: str, key: str, value: str, normalize: Normalizer = plain) -> None:
        """Set ``key`` in ``section``: every spelling of the key already there gets the value;
        else a new line after the section's last option (the section is added at the end
        when missing)."""
        if "\n" in value or "\r" in value:
            raise ValueError("a value written into an INI file must be one line")
        sec = self._section(section)
        if sec is None:
            self._append_section(section, [f"{key} = {value}{self.newline}"])
            return
        found = False
        for item in sec.items:
            if item.kind == "option" and normalize(item.key or "") == normalize(key):
                item.lines = _replace_value(item.lines, value, self.newline, self.path)
                found = True
        if found:
            return
        last_option = max((i for i, it in enumerate(sec.items) if it.kind == "option"), default=None)
        at = 0 if last_option is None else last_option + 1
        # a line indented deeper than the new one that follows it would continue its value: indent the
        # new line as deep (pip reads an indented option line the same)
        indent = re.match(r"[ \t]*", self._next_content_line(sec, at)).group()
        new = _Item("option", [f"{indent}{key} = {value}{self.newline}"], key=key)
        if last_option is None:
            self._ensure_newline(sec.header)
            sec.items.insert(0, new)
        else:
            self._ensure_newline(sec.items[last_option].lines)
            sec.items.insert(last_option + 1, new)

    def _next_content_line(self, sec: _Section, index: int) -> str:
        """The first line that is not blank or a comment from item ``index`` of ``sec`` on ("" if none)."""
        for item in sec.items[index:]:
            for line in item.lines:
                if not _is_blank_or_comment(line):
                    return line
        position = next(i for i, s in enumerate(self.sections) if s is sec)
        for following in self.sections[position + 1:]:  # a section starts with its header line
            return following.raw.split("\n", 1)[0] if following.raw is not None else "".join(following.header)
        return ""

    def remove(self, section: str, key: str, normalize: Normalizer = plain) -> bool:
        """Remove every spelling of ``key`` from ``section``; drop the section header
        too when nothing at all is left in it. Returns whether anything was removed."""
        sec = self._section(section)
        if sec is None:
            return False
        before = len(sec.items)
        kept = []
        for item in sec.items:
            if item.kind == "option" and normalize(item.key or "") == normalize(key):
                # keep comment lines that sat inside a multi-line value
                kept.extend(_Item("other", [line]) for line in item.lines[1:] if _is_comment(line))
            else:
                kept.append(item)
        sec.items = kept
        if len(kept) == before:
            return False
        if all(not "".join(i.lines).strip() for i in sec.items):
            was_last = sec is self.sections[-1]
            self.sections = [s for s in self.sections if s is not sec]
            del self._by_name[sec.name]
            # the blank line that separated a section appended at the end goes with it
            prev = self._load(self.sections[-1])
            prev_blank = bool(prev.items) and prev.items[-1].kind == "other" and not "".join(prev.items[-1].lines).strip()
            if was_last and prev_blank and sec.added_blank is not False:
                prev.items.pop()
        return True

    def _find(self, section: str, key: str, normalize: Normalizer) -> Optional[_Item]:
        sec = self._section(section)
        if sec is None:
            return None
        return next((i for i in sec.items if i.kind == "option" and normalize(i.key or "") == normalize(key)), None)

    def get_raw(self, section: str, key: str, normalize: Normalizer = plain) -> Optional[str]:
        """The value as written (first line only), or None."""
        item = self._find(section, key, normalize)
        if item is None:
            return None
        match = _OPTION_RE.match(item.lines[0])
        return match.group("value").strip() if match else None

    def get_full(self, section: str, key: str, normalize: Normalizer = plain) -> Optional[str]:
        """The whole value, continuation lines joined with newlines (comment lines left out)."""
        item = self._find(section, key, normalize)
        if item is None:
            return None
        first = self.get_raw(section, key, normalize) or ""
        rest = [line.strip() for line in item.lines[1:] if line.strip() and not _is_comment(line)]
        return "\n".join([first, *rest]).strip()

    def is_blank(self) -> bool:
        return not self.text().strip()

    def _append_section(self, name: str, lines: list[str]) -> None:
        last = self._load(self.sections[-1])
        body = _section_text(last)
        added_blank = False
        if body:
            tail = last.items[-1].lines if last.items else last.header
            self._ensure_newline(tail)
            if body.strip() and not body.endswith(("\n\n", "\r\n\r\n")):
                last.items.append(_Item("other", [self.newline]))
                added_blank = True
        section = _Section(name=name, header=[f"[{name}]{self.newline}"],
                           items=[_Item("option", lines, key=lines[0].split("=")[0].strip())], added_blank=added_blank)
        self.sections.append(section)
        self._by_name[name] = section

    def _ensure_newline(self, lines: list[str]) -> None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += self.newline


# the separator's spaces stop at the line break: a value may start on the next (indented) line
_OPTION_RE = re.compile(r"^(?P<key>[^\S\r\n]*[^=:\s][^=:\r\n]*?)(?P<sep>[^\S\r\n]*[=:][^\S\r\n]*)"
                        r"(?P<value>[^\n]*?)[ \t]*(?P<eol>\r?\n)?$")


def _is_comment(line: str) -> bool:
    return line.strip().startswith(("#", ";"))


def _replace_value(lines: list[str], value: str, newline: str, path: str = "") -> list[str]:
    """The option's first line with a new value (key and separator spacing kept); continuation
    lines of the old value go, comment lines among them stay."""
    match = _OPTION_RE.match(lines[0])
    if match is None:  # pragma: no cover - the parser only starts options on such lines
        raise _fail(path, _("line {text!r} cannot be edited").format(text=lines[0].strip()),
                    hint=_("please report this file to mirrorctl"))
    eol = match.group("eol") or (newline if len(lines) > 1 else "")
    sep = match.group("sep")
    if value and not match.group("value") and sep[-1] not in " \t" and sep[0] in " \t":
        sep += " "  # "key =" with the value on the next line: "key = value", spaced as before the "="
    first = f"{match.group('key')}{sep}{value}{eol}"
    return [first] + [line for line in lines[1:] if _is_comment(line)]


def _section_text(section: _Section) -> str:
    if section.raw is not None:
        return section.raw
    return "".join(section.header) + "".join("".join(item.lines) for item in section.items)


def _layout(text: str, path: str) -> Optional[list[_Section]]:
    """The sections of ``text``, each kept as text with the lines that start its options, placed
    by the stdlib parser itself; None when it cannot place them (a ``[DEFAULT]`` section).
    Raises ConfigFileError where pip's parser fails.

    The parser reads the lines one by one from a generator, so the line it read last is known
    when it calls ``optionxform`` (on each option's name, as it reads the option's first line)
    and ``dict_type`` (for each new section, as it reads the header line).
    """
    import configparser
    import io

    lines = list(io.StringIO(text))  # split as the parser splits (at "\n" only)
    marks: list[tuple[str, int, str]] = []  # ("section" | "option", line index, raw key)
    at = [-1]

    def new_dict(*args, **kwargs):
        if at[0] >= 0:
            marks.append(("section", at[0], ""))
        return dict(*args, **kwargs)

    class Recorder(configparser.RawConfigParser):
        def optionxform(self, optionstr: str) -> str:
            if at[0] >= 0:
                marks.append(("option", at[0], optionstr))
            return optionstr.lower()

    def feed():
        for index, line in enumerate(lines):
            at[0] = index
            yield line
        at[0] = -1

    parser = _parse(text, path, Recorder(dict_type=new_dict), feed())
    headers = [index for kind, index, _ in marks if kind == "section"]
    names = parser.sections()
    default_header = re.compile(rf"^[ \t]*\[{re.escape(parser.default_section)}\]", re.M)
    if len(headers) != len(names) or any(not lines[i].lstrip().startswith("[") for i in headers) \
            or default_header.search(text):
        return None  # [DEFAULT] makes no new section: its lines cannot be told from the one before
    bounds = headers + [len(lines)]
    options = iter([(index, key) for kind, index, key in marks if kind == "option"] + [(len(lines), "")])
    pending = next(options)
    sections = [_Section(name=None, raw="".join(lines[:bounds[0]]), pending=(lines[:bounds[0]], []))]
    for name, begin, end in zip(names, bounds, bounds[1:]):
        starts = []
        while pending[0] < end:
            starts.append((pending[0] - begin, pending[1]))
            pending = next(options)
        chunk = lines[begin:end]
        sections.append(_Section(name=name, raw="".join(chunk), pending=(chunk, starts)))
    return sections


def _items(lines: list[str], starts: list, *, header: bool) -> tuple[list[str], list[_Item]]:
    """A section's header lines and items, from its lines and the lines that start its options.

    An option's lines run from its first line to the last line before the next option that
    continues its value (comment and blank lines between value lines included, as the parser
    skips them there); the comment and blank lines after that are items of their own."""
    head = lines[:1] if header else []
    items: list[_Item] = []
    cursor = len(head)
    bounds = [index for index, _ in starts] + [len(lines)]
    for line in lines[cursor:bounds[0]]:
        items.append(_Item("other", [line]))
    for (first, key), end in zip(starts, bounds[1:]):
        last = end - 1
        while last > first and _is_blank_or_comment(lines[last]):
            last -= 1
        items.append(_Item("option", lines[first:last + 1], key=key))
        items.extend(_Item("other", [line]) for line in lines[last + 1:end])
    return head, items


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith(("#", ";"))
