"""The CLI framework's own words in the user's language, and help wrapped by display width:
the parts ``cli/app.py``'s command classes need only for help and usage errors, loaded then.

typer up to 0.23 runs on click 8.1, whose messages go through ``gettext`` (which
``i18n.translate_framework`` points at our catalogue); typer 0.24 on vendors click as
``typer._click`` with every message hard-coded in English. Both are served the same way:

- :func:`wrap_wide`: help text in another language than English, or with wide (CJK)
  characters, wrapped by display width, between words and Chinese characters, never inside a
  Latin word or an option name. English help is wrapped by the framework, exactly as before;
- :func:`usage_message`: the message of a usage error, rebuilt through ``_`` from the data the
  exception carries (parameter, option name, possibilities). A message not recognised stays
  as the framework says it; in English every message stays the framework's own.
"""

from __future__ import annotations

import sys
from typing import Optional

from typer.core import TyperCommand

from mirrorctl.i18n import N_, _, ngettext

_PACKAGE = TyperCommand.context_class.__module__.rpartition(".")[0]  # "click" or "typer._click"
_exceptions = sys.modules[_PACKAGE + ".exceptions"]


# --- wrapping ------------------------------------------------------------------------------

_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"  # a line may break before or after each
_OPEN = "（「『《【〈“‘([{"  # stays with what follows
_CLOSE = "，。；：、）」』》】〉！？”’…)]},.;:!?"  # stays with what precedes
_unit = None


def wrap_wide(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> list:
    """``text`` as lines of at most ``width`` columns (a wide character takes two), the first
    starting with ``initial_indent``, the others with ``subsequent_indent``. A line breaks at
    whitespace (dropped there) or between two Chinese characters; never inside a Latin word or
    an option name, never before closing punctuation or after opening one. Only a word wider
    than a whole line is cut."""
    global _unit
    import re

    from mirrorctl.render import cell_width

    if _unit is None:
        opening, closing = re.escape(_OPEN), re.escape(_CLOSE)
        _unit = re.compile(rf"\s+|[{opening}]*(?:[{_CJK}]|[^\s{_CJK}]+)[{closing}]*")
    lines: list = []
    line, used, space = initial_indent, cell_width(initial_indent), ""
    fresh = True  # nothing but the indent on this line yet
    for unit in _unit.findall(text):
        if unit.isspace():
            space = "" if fresh else unit
            continue
        need = cell_width(unit)
        if not fresh and used + cell_width(space) + need > width:
            lines.append(line)
            line, used, space, fresh = subsequent_indent, cell_width(subsequent_indent), "", True
        if fresh and used + need > width and line.strip() and cell_width(subsequent_indent) + need <= width:
            lines.append(line.rstrip())  # a first line taken by its indent (a usage prefix): the word goes on
            line, used = subsequent_indent, cell_width(subsequent_indent)
        while fresh and used + need > width and len(unit) > 1:  # a word wider than a line: cut it
            cut, cut_width = "", 0
            for ch in unit:
                if used + cut_width + cell_width(ch) > width and cut:
                    break
                cut, cut_width = cut + ch, cut_width + cell_width(ch)
            lines.append(line + cut)
            unit, need = unit[len(cut):], need - cut_width
            line, used = subsequent_indent, cell_width(subsequent_indent)
        line += space + unit
        used += cell_width(space) + need
        space, fresh = "", False
    if not fresh:
        lines.append(line)
    return lines  # no words, no lines (as the standard library's wrapper)


_wrapper = None


def wrapper_class():
    """The framework's help text wrapper, for which text in another language than English, or
    with a wide character, goes through :func:`wrap_wide` (measured in columns) instead."""
    global _wrapper
    if _wrapper is None:
        import importlib

        base = importlib.import_module(_PACKAGE + "._textwrap").TextWrapper

        class WideTextWrapper(base):
            def wrap(self, text):
                from mirrorctl import i18n
                from mirrorctl.render import cell_width

                if i18n.language() == i18n.ENGLISH and all(
                        cell_width(s) == len(s) for s in (text, self.initial_indent, self.subsequent_indent)):
                    return super().wrap(text)  # as the framework always did
                return wrap_wide(text.expandtabs(), self.width, self.initial_indent, self.subsequent_indent)

        _wrapper = WideTextWrapper
    return _wrapper


def install_wrapper() -> None:
    """The one hook into the framework's formatting: its ``wrap_text`` (which the formatter's
    ``write_text`` and ``write_dl`` call) takes the wrapper class from its ``_textwrap`` module
    on each call; that name becomes :func:`wrapper_class`, a subclass that changes nothing for
    text without a wide character. A framework without that module keeps its own wrapping."""
    try:
        import importlib

        module = importlib.import_module(_PACKAGE + "._textwrap")
        wrapper = wrapper_class()
    except (ImportError, AttributeError):
        return
    if module.TextWrapper is not wrapper and issubclass(wrapper, module.TextWrapper):
        module.TextWrapper = wrapper


# --- usage errors --------------------------------------------------------------------------

_OPTION_USAGE = (N_("Option {name!r} does not take a value."),)


def usage_message(exc) -> str:
    """The message of the framework's usage error ``exc`` in the user's language: rebuilt from
    what the exception carries. In English, or when the error is not one recognised here, the
    framework's own message (never lost, never a crash)."""
    from mirrorctl import i18n

    text = exc.format_message()
    if i18n.language() == i18n.ENGLISH:
        return text
    try:
        rebuilt = _rebuilt(exc)
    except Exception:  # noqa: BLE001 - another framework version's data: its own message
        rebuilt = None
    return rebuilt or text


def _rebuilt(exc) -> Optional[str]:
    if isinstance(exc, _exceptions.MissingParameter):
        return _missing(exc)
    if isinstance(exc, _exceptions.BadParameter):
        hint = _param_hint(exc)
        message = _value_message(exc)
        if hint is None:
            return _("Invalid value: {message}").format(message=message)
        return _("Invalid value for {param_hint}: {message}").format(param_hint=hint, message=message)
    if isinstance(exc, _exceptions.NoSuchOption):
        name = exc.option_name
        if exc.message not in ("No such option: " + name, _("No such option: {name}").format(name=name)):
            return None  # a message of its own
        if exc.possibilities:
            return _("No such option: {name} (possible options: {options})").format(
                name=name, options=", ".join(sorted(exc.possibilities)))
        return _("No such option: {name}").format(name=name)
    if isinstance(exc, _exceptions.BadOptionUsage):
        name = exc.option_name
        if exc.message == "Option {name!r} requires an argument.".format(name=name):
            return ngettext("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.",
                            1).format(name=name, nargs=1)
        for template in _OPTION_USAGE:
            if exc.message == template.format(name=name):
                return _(template).format(name=name)
        return None
    if type(exc) is _exceptions.UsageError:
        # typer._click: f"Got unexpected extra argument(s) ({args})"; click 8.1 says it through gettext
        head, tail = "Got unexpected extra argument(s) (", ")"
        if exc.message.startswith(head) and exc.message.endswith(tail):
            extra = exc.message[len(head):-len(tail)]
            return ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})",
                            len(extra.split())).format(args=extra)
        # typer's group adds its suggestion in English to the (translated) "No such command":
        # f"{message.rstrip('.')}. Did you mean {suggestions}?"
        said, found, suggestions = exc.message.rpartition(". Did you mean ")
        if found and said and suggestions.endswith("?"):
            said = said.rstrip(".")
            return said + ("" if said.endswith("。") else " ") + _("did you mean {names}?").format(names=suggestions[:-1])
    return None


def _param_hint(exc) -> Optional[str]:
    """The parameter as the framework names it in an error: ``'--samples'``, ``'mirror'``."""
    hint = exc.param_hint
    if hint is None and exc.param is not None:
        hint = exc.param.get_error_hint(exc.ctx)
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    return hint


def _missing(exc) -> Optional[str]:
    param = exc.param
    if exc.message or param is None:
        return None  # a message of its own
    extra_of = getattr(param.type, "get_missing_message", None)
    if extra_of is not None:
        try:
            extra = extra_of(param=param, ctx=exc.ctx)
        except TypeError:  # click 8.1: (param)
            extra = extra_of(param)
        if extra:
            return None  # a choice's list: the framework's words
    templates = {"argument": N_("Missing argument {name}."), "option": N_("Missing option {name}."),
                 "parameter": N_("Missing parameter {name}.")}
    template = templates.get(exc.param_type or param.param_type_name)
    hint = _param_hint(exc)
    if template is None or not hint:
        return None
    return _(template).format(name=hint)


# the framework's value types (click 8.1's name, then typer._click's) -> their message
_NOT_VALID = {"integer": N_("{value} is not a valid integer."), "int": N_("{value} is not a valid integer."),
              "float": N_("{value} is not a valid number."),
              "integer range": N_("{value} is not a valid integer."), "int range": N_("{value} is not a valid integer."),
              "float range": N_("{value} is not a valid number.")}


def _value_message(exc) -> str:
    """A BadParameter's own message (the value, what is wrong with it), translated when it is
    one of the framework's number conversions; else as it is."""
    message = exc.message
    kind = getattr(getattr(exc.param, "type", None), "name", None)
    if kind not in _NOT_VALID:
        return message
    suffix = f" is not a valid {kind}."
    if message.endswith(suffix) and len(message) > len(suffix):
        return _(_NOT_VALID[kind]).format(value=message[:-len(suffix)])
    describe = getattr(exc.param.type, "_describe_range", None)
    if describe is not None:
        suffix = f" is not in the range {describe()}."
        if message.endswith(suffix) and len(message) > len(suffix):
            return _("{value} is not in the range {range}.").format(value=message[:-len(suffix)], range=describe())
    return message


def is_help_request(exc) -> bool:
    """Whether ``exc`` is typer._click's way of showing a group's help when it is given no
    command (its message is the whole help); click 8.1 prints the help itself."""
    kind = getattr(_exceptions, "NoArgsIsHelpError", None)
    return kind is not None and isinstance(exc, kind)
