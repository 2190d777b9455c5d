"""Renderers for the catalogue, use/reset/add/remove, status, undo and history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from mirrorctl.catalog import Mirror
from mirrorctl.ops import ChangeResult, ListResult, StatusReport
from mirrorctl.i18n import N_, _, ngettext
from mirrorctl.render import out, print_json, print_table, say, shown, warn, write
from mirrorctl.targets.base import Origin, Setting, ToolStatus
from mirrorctl.changes import FileChange

if TYPE_CHECKING:
    from mirrorctl.transaction import JournalEntry, UndoResult
from mirrorctl.urls import mask_url


# -- dict forms (the --json contract, documented in docs/json.md) --------------------

def mirror_dict(mirror: Mirror) -> dict:
    return {
        "name": mirror.name,
        "url": mask_url(mirror.url),
        "conda": {"url": mask_url(mirror.conda.url), "layout": mirror.conda.layout} if mirror.conda else None,
        "aliases": list(mirror.aliases),
        "source": mirror.source,
        "title": mirror.title,
        "homepage": mirror.homepage,
        "notes": mirror.notes,
        "unreliable": mirror.unreliable,
    }


# the machine code beside a human-readable "error" in status JSON: a tool (or file) whose
# configuration cannot be read; the name of the exit code it gives (ExitCode.BAD_CONFIG)
ERROR_CODE = "bad_config"


def origin_dict(origin: Origin) -> dict:
    return {"kind": origin.kind, "path": origin.path, "section": origin.section, "variable": origin.variable}


def setting_dict(setting: Setting) -> dict:
    return {"value": mask_url(setting.value), "origin": origin_dict(setting.origin)}


def tool_status_dict(st: ToolStatus) -> dict:
    return {
        "tool": st.tool,
        "index_url": mask_url(st.index_url) if st.index_url else None,
        "mirror": st.mirror,
        "origin": origin_dict(st.origin),
        "for_new_shells": getattr(st.origin, "for_new_shells", None),  # pipenv: set by a start-up file only
        "shadowed": [setting_dict(s) for s in st.shadowed],
        "commands": {cmd: setting_dict(s) for cmd, s in st.commands.items()},
        "extra_index_urls": [mask_url(u) for u in st.extra_index_urls],
        "fallbacks": [mask_url(u) for u in st.fallbacks],
        "warnings": [mask_url(w) for w in st.warnings],
        "error": mask_url(st.error) if st.error else None,
        "error_code": ERROR_CODE if st.error else None,
        "details": st.details,
        "files": [
            {"path": f.path, "kind": f.kind, "exists": f.exists, "error": mask_url(f.error) if f.error else None,
             "error_code": ERROR_CODE if f.error else None,
             "skipped": f.skipped,
             "values": {k: mask_url(v) for k, v in f.values.items()}}
            for f in st.files
        ],
    }


def change_dict(change: FileChange) -> dict:
    return {"path": str(change.path), "tool": change.tool, "scope": change.scope, "action": change.action,
            "diff": diff_text(change) if change.changed else ""}


def change_result_dict(result: ChangeResult) -> dict:
    return {
        "action": result.action,
        "mirror": {"name": result.mirror.name, "url": mask_url(result.mirror.url)} if result.mirror else None,
        "scope": result.scope,
        "tools": result.tools,
        "dry_run": result.dry_run,
        "check": result.check,
        "changed": result.changed,
        "journal": result.journal_id,
        "files": [change_dict(c) for c in result.changes],
        "warnings": [mask_url(w) for w in result.warnings],
        "notes": result.notes,
        "overridden": result.overridden,
        "tool_mirrors": {t: {"name": m.name, "url": mask_url(m.url)} for t, m in result.tool_mirrors.items()},
    }


def entry_dict(entry: JournalEntry) -> dict:
    return {
        "id": entry.id,
        "seq": entry.seq,
        "time": entry.time,
        "command": entry.command,
        "state": entry.state,
        "undone": entry.undone,
        "interrupted": entry.interrupted,
        "damaged": entry.damaged,
        "files": [{"path": f.path, "tool": f.tool, "existed": f.existed} for f in entry.files],
    }


def _entry_state(entry: JournalEntry) -> str:
    if entry.damaged:
        return _("damaged: {reason}").format(reason=entry.damaged)
    return {"pending": _("interrupted: half done (`mirrorctl undo`)"), "committed": _("applied"),
            "undone": _("undone"),
            "rolled-back": _("rolled back (interrupted)") if entry.interrupted else _("rolled back")}.get(
        entry.state, entry.state)


def _files(n: int) -> str:
    return ngettext("{n} file", "{n} files", n).format(n=n)


# -- diffs -------------------------------------------------------------------------

def diff_text(change: FileChange) -> str:
    import difflib

    def lines(data: Optional[bytes]) -> list[str]:
        if data is None:
            return []
        # line feeds only: a lone CR, form feed or U+2028 stays inside its line, shown escaped
        text = data.decode("utf-8", errors="replace")
        parts = text.split("\n")
        return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    old, new = lines(change.before), lines(change.after)
    name = str(change.path)
    diff = []
    for line in difflib.unified_diff(old, new, fromfile=name if change.before is not None else "/dev/null",
                                     tofile=name if change.after is not None else "/dev/null"):
        diff.append(mask_url(line.rstrip("\r\n")))
    if not diff and change.changed:  # only bytes that do not show as text (a BOM, line endings)
        diff = [f"--- {name}", f"+++ {name}", "@@ " + _("encoding-only change (byte-order mark or line endings)") + " @@"]
    return "\n".join(diff) + ("\n" if diff else "")


def shown_diff(change: FileChange) -> str:
    """:func:`diff_text` for a terminal: each line keeps its tabs and its own line feed; a CR
    left inside a line (a lone one, or CR CR LF), ESC and the like are shown escaped."""
    return "".join(shown(line, keep="\t") + "\n" for line in diff_text(change).split("\n")[:-1])


# -- renderers ---------------------------------------------------------------------
# Every value is formatted through shown() (render.text): a control character in a URL,
# a path, a name or a journal entry is shown escaped, never sent to the terminal.

#: where a catalogue entry comes from, as `list` shows it (the JSON keeps the raw value)
SOURCE_LABELS = {"builtin": N_("builtin"), "user": N_("user"), "team": N_("team"), "url": N_("url"),
                 "cache": N_("cache")}


def source_label(source: str) -> str:
    """``list``'s source column: the entry's origin in the user's language."""
    label = SOURCE_LABELS.get(source)
    return _(label) if label is not None else source


def render_list(result: ListResult, as_json: bool) -> None:
    if as_json:
        data = []
        for m in result.mirrors:
            item = mirror_dict(m)
            item["current"] = m.name == result.current
            data.append(item)
        print_json(data)
        for note in result.notes:  # stderr: the document stays a list of mirrors
            warn(note)
        return
    rows = []
    for m in result.mirrors:
        mark = "*" if m.name == result.current else ""
        name = m.name + (" (" + _("unreliable") + ")" if m.unreliable else "")
        conda = m.conda.layout if m.conda else "-"
        rows.append([mark, name, ", ".join(shown(a) for a in m.aliases) or "-", mask_url(m.url), conda,
                     source_label(m.source)])
    print_table(["", _("name"), _("aliases"), _("url"), "conda", _("source")], rows)
    if result.current:
        say(_("* pip uses {mirror} now").format(mirror=shown(result.current)))
    else:
        say(_("pip uses {url}, not in the catalogue").format(url=shown(mask_url(result.current_url or "?"))))
    if result.shadowed_builtins:
        named = ", ".join(shown(n) + (f" ({', '.join(shown(a) for a in result.taken_aliases[n])})"
                                      if result.taken_aliases.get(n) else "") for n in result.shadowed_builtins)
        say(_("your mirrors replace the built-in ones of the same name, aliases included: {names}").format(names=named))
    if result.team_source:
        say(_("team catalogue: {source}").format(source=shown(result.team_source)))
    for note in result.notes:
        warn(note)


def render_change(result: ChangeResult, as_json: bool) -> None:
    if as_json:
        print_json(change_result_dict(result))
        return
    changed = [c for c in result.changes if c.changed]
    if result.dry_run or result.check:
        for change in changed:
            out(shown_diff(change))
        if result.check:
            if changed:
                say(_("{what}: would change ({files})").format(what=_what(result), files=_files(len(changed))))
            else:
                say(_("{what}: {state}").format(what=_what(result),
                                                 state=_already(result, _("already in that state"))))
        elif not changed:
            say(_("{what}: nothing to change").format(what=_what(result)))
        else:
            say(_("dry run: {files} would change; nothing was written").format(files=_files(len(changed))))
    else:
        if not changed:
            say(_("{what}: {state}, nothing changed").format(what=_what(result),
                                                               state=_already(result, _("already so"))))
        for change in changed:
            verb = {"create": _("created {path}"), "delete": _("removed {path}"),
                    "modify": _("updated {path}")}[change.action].format(path=shown(str(change.path)))
            # tool names stay as they are; mirrorctl's own file is "the catalogue" in the user's language
            tool = _("catalogue") if change.tool == "catalogue" else change.tool
            label = f"{shown(tool)}: " if tool else ""
            say(f"{label}{verb}")
        if changed and result.action in ("use", "reset"):
            say(_("{what} (undo with `mirrorctl undo`)").format(what=_what(result)))
    for note in result.notes:
        say(shown(note))
    for warning in result.warnings:
        warn(warning)


def _already(result: ChangeResult, words: str) -> str:
    """'already so', unless a tool will still use another index: then the files are, the tool is not."""
    if not result.overridden:
        return words
    tools = ", ".join(shown(t) for t in result.overridden)
    return _("the files are already so, but {tools} will still use another index (see the warning)").format(tools=tools)


def _what(result: ChangeResult) -> str:
    tools = ", ".join(shown(t) for t in result.tools)
    scope = shown(result.scope)
    if result.action == "use" and result.mirror:
        return _("{targets} at {scope} scope").format(targets=_use_targets(result), scope=scope)
    if result.action == "reset":
        return _("reset {tools} at {scope} scope").format(tools=tools, scope=scope)
    if result.mirror:
        return f"{shown(result.action)} {shown(result.mirror.name)}"
    return shown(result.action)


def _use_targets(result: ChangeResult) -> str:
    """``pip, uv -> tuna (PyPI URL)``, and conda apart with the conda URL it really gets."""
    mirror = result.mirror
    name = shown(mirror.name)
    pypi = [t for t in result.tools if t != "conda" and t not in result.tool_mirrors]
    parts = []
    if pypi:
        parts.append(f"{', '.join(shown(t) for t in pypi)} -> {name} ({shown(mask_url(mirror.url))})")
    for tool, own in result.tool_mirrors.items():  # `use fastest`: measured apart, a winner of its own
        if tool != "conda":
            parts.append(f"{shown(tool)} -> {shown(own.name)} ({shown(mask_url(own.url))})")
    if "conda" in result.tools:
        conda_mirror = result.tool_mirrors.get("conda", mirror)
        conda_url = conda_mirror.conda.url if conda_mirror.conda else conda_mirror.url
        parts.append(f"conda -> {shown(conda_mirror.name)} ({shown(mask_url(conda_url))})")
    return ", ".join(parts) or f"-> {name}"


def render_status(report: StatusReport, as_json: bool, verbose: bool = False) -> None:
    if as_json:
        print_json({"tools": [tool_status_dict(t) for t in report.tools],
                    "warnings": [mask_url(w) for w in report.warnings],
                    "hidden": report.hidden})
        return
    rows = []
    for st in report.tools:
        if st.error:
            rows.append([st.tool, _("(cannot read its configuration)"), "-", mask_url(st.error)])
            continue
        index, mirror = (st.index_url, st.mirror) if st.index_url else report.defaults.get(st.tool, ("", None))
        decided = st.origin.describe()
        new_shells = getattr(st.origin, "for_new_shells", None)  # a start-up file sets it; this shell lacks it
        if new_shells:
            decided += " - " + _("set for new shells (open one, or `{command}`)").format(command=new_shells)
        rows.append([st.tool, mask_url(index or ""), mirror or "-", decided])
        for command, setting in st.commands.items():
            rows.append([f"  {st.tool} {command}", mask_url(setting.value), "-", setting.origin.describe()])
        rows.extend(_extra_index_rows(st))
        python = (st.details or {}).get("python_install_mirror") if isinstance(st.details, dict) else None
        if isinstance(python, dict) and python.get("url") and \
                python.get("decided_by") != _("uv's built-in default"):  # uv's own Python downloads, when set
            rows.append([f"  {st.tool} " + _("python downloads"), mask_url(str(python["url"])),
                         str(python.get("mirror") or "-"), str(python.get("decided_by") or "")])
    print_table([_("tool"), _("index"), _("mirror"), _("decided by")], rows)  # escapes every cell
    if report.hidden:
        say(_("not shown (not in use or configured here; --all shows them): {tools}")
              .format(tools=", ".join(shown(h) for h in report.hidden)))
    if verbose:
        for st in report.tools:
            write("")
            say(_("{tool} reads, lowest precedence first:").format(tool=shown(st.tool)))
            for f in st.files:
                state = _("exists") if f.exists else _("absent")
                extra = f" - {shown(f.skipped)}" if f.skipped else ""
                extra += " - " + _("ERROR: {error}").format(error=shown(mask_url(f.error))) if f.error else ""
                write(f"  {shown(f.kind)}: {shown(f.path)} ({state}){extra}")
                for key, value in f.values.items():
                    write(f"      {shown(key)} = {shown(mask_url(value))}")
    for warning in report.warnings:
        warn(warning)


def _extra_index_rows(st: ToolStatus) -> list:
    """The extra indexes a tool also asks: mirrorctl's fall-backs, then the ones it did not write."""
    rows = []
    for url in st.extra_index_urls:
        ours = url in st.fallbacks
        label = _("  {tool} fall-back") if ours else _("  {tool} extra index")
        why = _("extra-index-url, written by `use --fallback`") if ours else \
            _("extra-index-url, not written by mirrorctl")
        rows.append([label.format(tool=st.tool), mask_url(url), "-", why])
    return rows


def render_undo(result: UndoResult, as_json: bool, dry_run: bool = False) -> None:
    if as_json:
        print_json({"undone": result.entry.id, "command": result.entry.command, "dry_run": dry_run,
                    "interrupted": result.interrupted, "already": result.already,
                    "files": [change_dict(c) for c in result.restored], "forced": result.forced})
        return
    command = shown(result.entry.command)
    if dry_run:
        for change in result.restored:
            out(shown_diff(change))
        say(_("dry run: undo of `{command}` would restore {files}").format(command=command,
                                                                            files=_files(len(result.restored))))
        return
    for change in result.restored:
        verb = _("removed {path}") if change.after is None else _("restored {path}")
        say(verb.format(path=shown(str(change.path))))
    if result.already:
        say(_("the files of `{command}` (entry {entry}) were already as before it: "
                "recorded as undone, nothing else taken back").format(command=command, entry=shown(result.entry.id)))
    elif result.interrupted:
        say(_("rolled back the interrupted change `{command}` (entry {entry}); "
                "the change before it stays").format(command=command, entry=shown(result.entry.id)))
    else:
        say(_("undone: `{command}` from {time}").format(command=command, time=shown(result.entry.time)))
    for path in result.forced:
        warn(_("{path} had been edited since; --force restored it anyway").format(path=path))


def render_history(entries: list[JournalEntry], as_json: bool) -> None:
    if as_json:
        print_json([entry_dict(e) for e in entries])
        return
    if not entries:
        say(_("no changes recorded yet"))
        return
    rows = []
    for e in entries:
        paths = ", ".join(shown(f.path) for f in e.files)
        rows.append([e.id, e.time, _entry_state(e), e.command, paths])
    print_table(["id", _("time"), _("state"), _("command"), _("files")], rows)
