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


def _fail(path: str, detail: str, hint: str = "fix the file by hand, then run again") -> ConfigFileError:
    return ConfigFileError(f"{path}: {detail}", hint=hint)


def check_parses(text: str, path: str) -> None:
    """Raise ConfigFileError where the stdlib parser (which pip uses) would fail."""
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as exc:
        raise _fail(path, f"line {exc.lineno}: no [section] header before {exc.line.strip()!r}",
                    hint="pip cannot read this file either; add a [global] line at the top") from None
    except configparser.DuplicateSectionError as exc:
        raise _fail(path, f"line {exc.lineno}: section [{exc.section}] appears twice",
                    hint="pip cannot read this file either; merge the two sections") from None
    except configparser.DuplicateOptionError as exc:
        raise _fail(path, f"line {exc.lineno}: option {exc.option!r} appears twice in [{exc.section}]",
                    hint="pip cannot read this file either; keep one of them") from None
    except configparser.ParsingError as exc:
        lineno, line = exc.errors[0] if exc.errors else (0, "")
        raise _fail(path, f"line {lineno}: cannot parse {line.strip()!r}",
                    hint="pip cannot read this file either; a line must be [section], key = value, or a comment") from None
    except configparser.Error as exc:
        raise _fail(path, str(exc).splitlines()[0]) from None


def read_values(text: str, path: str) -> dict[str, dict[str, str]]:
    """Section -> {raw option name -> value}, exactly as ``RawConfigParser`` (pip) sees it."""
    import configparser

    check_parses(text, path)
    parser = configparser.RawConfigParser()
    parser.read_string(text, source=path)
    return {section: dict(parser.items(section)) for section in parser.sections()}


class IniDocument:
    """An INI file as raw lines grouped in sections, editable without reformatting."""

    def __init__(self, text: str, path: str):
        check_parses(text, path)
        self.path = path
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.sections = self._split(text, path)

    @staticmethod
    def _split(text: str, path: str) -> list[_Section]:
        from configupdater import ConfigUpdater
        from configupdater.block import Comment, Space
        from configupdater.option import Option
        from configupdater.section import Section

        updater = ConfigUpdater(strict=False)
        try:
            updater.read_string(text, source=path)
        except Exception as exc:  # the stdlib check above passed; be safe anyway
            raise _fail(path, f"cannot parse: {str(exc).splitlines()[0]}") from None
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
            raise _fail(path, "cannot be edited without reformatting it", hint="please report this file to mirrorctl")
        return sections

    # -- reading --------------------------------------------------------
    def text(self) -> str:
        return "".join(_section_text(s) for s in self.sections)

    def section_names(self) -> list[str]:
        return [s.name for s in self.sections if s.name is not None]

    def _section(self, name: str) -> Optional[_Section]:
        for section in self.sections:
            if section.name == name:
                return section
        return None

    def has_option(self, section: str, key: str, normalize: Normalizer = plain) -> bool:
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
                item.lines = _replace_value(item.lines, value, self.newline)
                found = True
        if found:
            return
        new = _Item("option", [f"{key} = {value}{self.newline}"], key=key)
        last_option = max((i for i, it in enumerate(sec.items) if it.kind == "option"), default=None)
        if last_option is None:
            self._ensure_newline(sec.header)
            sec.items.insert(0, new)
        else:
            self._ensure_newline(sec.items[last_option].lines)
            sec.items.insert(last_option + 1, new)

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
            self.sections.remove(sec)
            # the blank line that separated a section appended at the end goes with it
            prev = self.sections[-1]
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
        last = self.sections[-1]
        body = _section_text(last)
        added_blank = False
        if body:
            tail = last.items[-1].lines if last.items else last.header
            self._ensure_newline(tail)
            if body.strip() and not body.endswith(("\n\n", "\r\n\r\n")):
                last.items.append(_Item("other", [self.newline]))
                added_blank = True
        self.sections.append(_Section(name=name, header=[f"[{name}]{self.newline}"],
                                      items=[_Item("option", lines, key=lines[0].split("=")[0].strip())],
                                      added_blank=added_blank))

    def _ensure_newline(self, lines: list[str]) -> None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += self.newline


_OPTION_RE = re.compile(r"^(?P<key>\s*[^=:\s][^=:]*?)(?P<sep>\s*[=:]\s*)(?P<value>.*?)(?P<eol>\r?\n)?$", re.S)


def _is_comment(line: str) -> bool:
    return line.strip().startswith(("#", ";"))


def _replace_value(lines: list[str], value: str, newline: str) -> list[str]:
    """The option's first line with a new value (key and separator spacing kept); continuation
    lines of the old value go, comment lines among them stay."""
    match = _OPTION_RE.match(lines[0])
    if match is None:  # pragma: no cover - ConfigUpdater only makes options from such lines
        raise ValueError(f"not an option line: {lines[0]!r}")
    eol = match.group("eol") or (newline if len(lines) > 1 else "")
    first = f"{match.group('key')}{match.group('sep')}{value}{eol}"
    return [first] + [line for line in lines[1:] if _is_comment(line)]


def _section_text(section: _Section) -> str:
    return "".join(section.header) + "".join("".join(item.lines) for item in section.items)
