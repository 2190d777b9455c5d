"""Renderers for the catalogue, use/reset/add/remove, status, undo and history."""

from __future__ import annotations

import difflib
from typing import Optional

from mirrorctl.catalog import Mirror
from mirrorctl.ops import ChangeResult, ListResult, StatusReport
from mirrorctl.render import console, escape, print_json, warn
from mirrorctl.targets.base import Origin, Setting, ToolStatus
from mirrorctl.transaction import FileChange, JournalEntry, UndoResult
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
        "shadowed": [setting_dict(s) for s in st.shadowed],
        "commands": {cmd: setting_dict(s) for cmd, s in st.commands.items()},
        "extra_index_urls": [mask_url(u) for u in st.extra_index_urls],
        "warnings": [mask_url(w) for w in st.warnings],
        "error": st.error,
        "files": [
            {"path": f.path, "kind": f.kind, "exists": f.exists, "error": f.error, "skipped": f.skipped,
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
    }


def entry_dict(entry: JournalEntry) -> dict:
    return {
        "id": entry.id,
        "time": entry.time,
        "command": entry.command,
        "undone": entry.undone,
        "files": [{"path": f.path, "tool": f.tool, "existed": f.existed} for f in entry.files],
    }


# -- diffs -------------------------------------------------------------------------

def diff_text(change: FileChange) -> str:
    def lines(data: Optional[bytes]) -> list[str]:
        if data is None:
            return []
        return data.decode("utf-8", errors="replace").splitlines(keepends=True)

    old, new = lines(change.before), lines(change.after)
    name = str(change.path)
    out = []
    for line in difflib.unified_diff(old, new, fromfile=name if change.before is not None else "/dev/null",
                                     tofile=name if change.after is not None else "/dev/null"):
        line = mask_url(line.rstrip("\r\n"))
        out.append(line)
    if not out and change.changed:  # only bytes that do not show as text (a BOM, line endings)
        out = [f"--- {name}", f"+++ {name}", "@@ encoding-only change (byte-order mark or line endings) @@"]
    return "\n".join(out) + ("\n" if out else "")


# -- renderers ---------------------------------------------------------------------

def render_list(result: ListResult, as_json: bool) -> None:
    if as_json:
        data = []
        for m in result.mirrors:
            item = mirror_dict(m)
            item["current"] = m.name == result.current
            data.append(item)
        print_json(data)
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "name", "aliases", "url", "conda", "source"):
        table.add_column(column, overflow="fold")
    for m in result.mirrors:
        mark = "*" if m.name == result.current else ""
        name = escape(m.name) + (" (unreliable)" if m.unreliable else "")
        conda = m.conda.layout if m.conda else "-"
        table.add_row(mark, name, escape(", ".join(m.aliases)), escape(mask_url(m.url)), conda, m.source)
    out = console()
    out.print(table)
    if result.current:
        out.print(f"* pip uses {escape(result.current)} now")
    else:
        out.print(f"pip uses {escape(mask_url(result.current_url or '?'))}, not in the catalogue")
    for name in result.shadowed_builtins:
        out.print(f"your mirror {escape(name)!s} shadows the built-in one of that name")


def render_change(result: ChangeResult, as_json: bool) -> None:
    if as_json:
        print_json(change_result_dict(result))
        return
    out = console()
    changed = [c for c in result.changes if c.changed]
    if result.dry_run or result.check:
        for change in changed:
            out.print(escape(diff_text(change)), end="")
        if result.check:
            state = "would change" if changed else "already in that state"
            out.print(f"{_what(result)}: {state}" + (f" ({len(changed)} file(s))" if changed else ""))
        elif not changed:
            out.print(f"{_what(result)}: nothing to change")
        else:
            out.print(f"dry run: {len(changed)} file(s) would change; nothing was written")
    else:
        if not changed:
            out.print(f"{_what(result)}: already so, nothing changed")
        for change in changed:
            verb = {"create": "created", "delete": "removed", "modify": "updated"}[change.action]
            label = f"{change.tool}: " if change.tool else ""
            out.print(f"{label}{verb} {escape(str(change.path))}")
        if changed and result.action in ("use", "reset"):
            out.print(f"{_what(result)} (undo with `mirrorctl undo`)")
    for note in result.notes:
        out.print(escape(note))
    for warning in result.warnings:
        warn(mask_url(warning))


def _what(result: ChangeResult) -> str:
    if result.action == "use" and result.mirror:
        tools = ", ".join(result.tools)
        return f"{tools} -> {result.mirror.name} ({mask_url(result.mirror.url)}) at {result.scope} scope"
    if result.action == "reset":
        return f"reset {', '.join(result.tools)} at {result.scope} scope"
    if result.mirror:
        return f"{result.action} {result.mirror.name}"
    return result.action


def render_status(report: StatusReport, as_json: bool, verbose: bool = False) -> None:
    if as_json:
        print_json({"tools": [tool_status_dict(t) for t in report.tools],
                    "warnings": [mask_url(w) for w in report.warnings]})
        return
    from rich.table import Table

    out = console()
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("tool", "index", "mirror", "decided by"):
        table.add_column(column, overflow="fold")
    for st in report.tools:
        if st.error:
            table.add_row(st.tool, "[red]cannot read its configuration[/red]", "-", escape(st.error))
            continue
        table.add_row(st.tool, escape(mask_url(st.index_url or "")), escape(st.mirror or "-"),
                      escape(st.origin.describe()))
        for command, setting in st.commands.items():
            table.add_row(f"  {st.tool} {command}", escape(mask_url(setting.value)), "",
                          escape(setting.origin.describe()))
    out.print(table)
    if verbose:
        for st in report.tools:
            out.print(f"\n[bold]{st.tool}[/bold] reads, lowest precedence first:")
            for f in st.files:
                state = "exists" if f.exists else "absent"
                extra = f" - {f.skipped}" if f.skipped else ""
                extra += f" - ERROR: {f.error}" if f.error else ""
                out.print(f"  {escape(f.kind)}: {escape(f.path)} ({state}){escape(extra)}")
                for key, value in f.values.items():
                    out.print(f"      {escape(key)} = {escape(mask_url(value))}")
    for warning in report.warnings:
        warn(mask_url(warning))


def render_undo(result: UndoResult, as_json: bool, dry_run: bool = False) -> None:
    if as_json:
        print_json({"undone": result.entry.id, "command": result.entry.command, "dry_run": dry_run,
                    "files": [change_dict(c) for c in result.restored], "forced": result.forced})
        return
    out = console()
    if dry_run:
        for change in result.restored:
            out.print(escape(diff_text(change)), end="")
        out.print(f"dry run: undo of `{escape(result.entry.command)}` would restore {len(result.restored)} file(s)")
        return
    for change in result.restored:
        verb = "removed" if change.after is None else "restored"
        out.print(f"{verb} {escape(str(change.path))}")
    out.print(f"undone: `{escape(result.entry.command)}` from {result.entry.time}")
    for path in result.forced:
        warn(f"{path} had been edited since; --force restored it anyway")


def render_history(entries: list[JournalEntry], as_json: bool) -> None:
    if as_json:
        print_json([entry_dict(e) for e in entries])
        return
    out = console()
    if not entries:
        out.print("no changes recorded yet")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "time", "command", "files", "state"):
        table.add_column(column, overflow="fold")
    for e in entries:
        files = "\n".join(escape(f.path) for f in e.files)
        table.add_row(e.id, e.time, escape(e.command), files, "undone" if e.undone else "applied")
    out.print(table)
