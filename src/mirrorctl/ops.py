"""What the commands do. Each function takes a Context, returns a result dataclass, never prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from mirrorctl import targets, urls
from mirrorctl.changes import FileChange
from mirrorctl.catalog import (ADHOC, BUILTIN, TEAM, NAME_RE, RESERVED_NAMES, USER, Catalog, Mirror, load_catalog,
                               parse_catalog, read_user_catalog_text, unknown_mirror, user_catalog_path)
from mirrorctl.context import Context, Scope, mirrorctl_state_dir
from mirrorctl.errors import UsageError
from mirrorctl.i18n import _
from mirrorctl.targets.base import ToolStatus
from mirrorctl.use_plan import OFFICIAL_INDEX, index_of, plan_in_turn, plan_use, given_mirror

if TYPE_CHECKING:
    from mirrorctl.transaction import JournalEntry, UndoResult


@dataclass
class ChangeResult:
    """What `use`, `reset`, `add` and `remove` did (or would do)."""

    action: str  # "use", "reset", "add", "remove"
    changes: list[FileChange]
    mirror: Optional[Mirror] = None
    scope: Optional[str] = None
    tools: list[str] = field(default_factory=list)
    dry_run: bool = False
    check: bool = False
    journal_id: Optional[str] = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # tools that will not use the mirror even after the change (a variable, another file wins;
    # found in use but the mirror cannot serve them): the asked state is not reached for them
    overridden: list[str] = field(default_factory=list)
    # `use fastest` with conda among the tools: a tool measured apart (conda by its channels) -> its winner
    tool_mirrors: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.changes)


@dataclass
class StatusReport:
    tools: list[ToolStatus]
    warnings: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)  # tools neither in use nor configured (see --all)
    # tool -> (index, catalogue name) of a tool that reports no index at its default (pipenv and
    # Poetry outside a project): what it uses, the official index, for the table
    defaults: dict = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(t.error for t in self.tools)


@dataclass
class ListResult:
    mirrors: list[Mirror]
    current: Optional[str]  # the catalogue name pip uses now
    current_url: Optional[str]
    shadowed_builtins: list[str] = field(default_factory=list)
    user_file: Optional[str] = None
    team_source: str = ""  # the team catalogue (MIRRORCTL_CATALOGUE / --catalogue), masked
    notes: list[str] = field(default_factory=list)
    taken_aliases: dict = field(default_factory=dict)  # built-in name -> its aliases, now meaning your mirror


def state_dir(ctx: Context) -> Path:
    return mirrorctl_state_dir(ctx)


# -- use / reset -------------------------------------------------------------------

def choose_tools(ctx: Context, tools: Optional[Sequence[str]], scope: Scope) -> list[str]:
    chosen = targets.parse_tools(list(tools) if tools else None)
    if chosen:
        for name in chosen:
            target = targets.get(name)
            if scope not in target.scopes:
                allowed = ", ".join(s.value for s in target.scopes)
                raise UsageError(_("{tool} has no {scope} scope").format(tool=name, scope=scope.value),
                                 hint=_("{tool} takes --scope {allowed}").format(tool=name, allowed=allowed))
        return chosen
    out = []
    for name in targets.available():
        target = targets.get(name)
        if scope in target.scopes and target.in_use(ctx, scope):
            out.append(name)
    if not out:
        if scope == Scope.VENV:
            raise UsageError(_("nothing to configure at venv scope: no virtualenv or conda env is active "
                               "and --venv was not given"), hint=_("activate one, or pass --venv PATH"))
        raise UsageError(_("no tool in use at {scope} scope here").format(scope=scope.value),
                         hint=_("name one with --tool, or pass --project DIR") if scope == Scope.PROJECT
                         else _("name one with --tool"))
    return out


def _finish(ctx: Context, result: ChangeResult, command: str, url: Optional[str] = None) -> ChangeResult:
    """Keep links, apply the credentials rule (``url``: the mirror's), then write unless asked not to."""
    from mirrorctl import credentials
    from mirrorctl.changes import keep_link

    result.changes = [keep_link(c) for c in result.changes]
    for change in result.changes:
        result.notes.extend(change.notes)
    for change in result.changes:  # a diff masks passwords: say why its lines look the same
        if change.changed and change.before is not None and change.after is not None and \
                urls.mask_url(change.before.decode("utf-8", "replace")) == \
                urls.mask_url(change.after.decode("utf-8", "replace")):
            result.notes.append(_("{path}: only the credential changes (passwords are shown masked)").format(
                path=change.path))
    kept = credentials.protect(result.changes, url, planned_only=result.dry_run or result.check)
    result.notes.extend(kept.notes)
    result.warnings.extend(kept.warnings)
    if result.dry_run or result.check or not result.changed:
        return result
    from mirrorctl import transaction
    from mirrorctl.context import state_dir_note

    entry = transaction.apply(result.changes, state_dir=state_dir(ctx), command=command)
    result.journal_id = entry.id if entry else None
    if entry is not None:
        result.notes.extend(entry.notes)
        where = state_dir_note(ctx)
        if where:
            result.notes.append(where)
    return result


def _settle(ctx: Context, result: ChangeResult) -> ChangeResult:
    """Before planning: a change an earlier run left half-done (killed, power lost) is rolled back,
    so the plan starts from the files as they were; a dry run or check only says it is there."""
    from mirrorctl import transaction

    folder = state_dir(ctx)
    if result.dry_run or result.check:
        from mirrorctl.journal import pending

        entry = pending(folder)
        if entry is not None:
            result.warnings.append(_("an interrupted change (`{command}`, entry {id}) is still half done: the real "
                                     "run rolls it back first").format(command=entry.command, id=entry.id))
    else:
        result.notes.extend(transaction.recover(folder))
    return result


def use_mirror(ctx: Context, spec: "str | Mirror", *, tools: Optional[Sequence[str]] = None,
               scope: Scope = Scope.USER, dry_run: bool = False, check: bool = False,
               command: str = "use", catalog: Optional[Catalog] = None, verify: bool = True,
               package: Optional[str] = None, fallbacks: Sequence[str] = (),
               tool_mirrors: Optional[dict] = None) -> ChangeResult:
    """Point the chosen tools (default: every tool in use) at a mirror, in one transaction.

    ``fallbacks``: mirrors written as further indexes for the tools that go on with the next index
    when one fails (``falls_back`` in their module); the others get a note.
    ``tool_mirrors``: ``{tool: Mirror}`` for tools that get another mirror than ``spec`` (`use
    fastest`: conda's winner by the conda bench), in the same transaction.

    A URL outside the catalogue is checked before it is written (``verify``; see verify.py):
    once, and only when something would be written (never for ``check``)."""
    settled = _settle(ctx, ChangeResult("use", [], dry_run=dry_run, check=check))
    catalog = catalog or load_catalog(ctx)
    if isinstance(spec, str) and spec.strip().lower() == "cache":  # the local cache: `mirrorctl cache start`
        from mirrorctl.cache import running_mirror
        spec = running_mirror(ctx)
    notes: list[str] = []
    mirror = spec if isinstance(spec, Mirror) else given_mirror(catalog, spec, notes)
    backups = _fallback_mirrors(catalog, mirror, fallbacks, notes)
    explicit = bool(targets.parse_tools(list(tools) if tools else None))
    chosen = choose_tools(ctx, tools, scope)
    per_tool = {t: m for t, m in (tool_mirrors or {}).items() if m.url != mirror.url}
    plan = plan_use(ctx, catalog, mirror, list(chosen), scope, explicit, fallbacks=[m.url for m in backups],
                    tool_mirrors=per_tool)
    warnings: list[str] = []
    if verify and not check and mirror.source == ADHOC and catalog.match_url(mirror.url) is None and \
            any(c.changed for c in plan.changes):
        from mirrorctl.verify import DEFAULT_PACKAGE, check_index

        verdict = check_index(ctx, mirror.url, package=package or DEFAULT_PACKAGE, catalog=catalog)
        notes.extend(verdict.notes)
        warnings.extend(verdict.warnings)
        if verdict.url != mirror.url:
            mirror = given_mirror(catalog, verdict.url, [])
            plan = plan_use(ctx, catalog, mirror, list(chosen), scope, explicit, fallbacks=[m.url for m in backups],
                            tool_mirrors=per_tool)
    result = ChangeResult("use", plan.changes, mirror=mirror, scope=scope.value, tools=plan.chosen, dry_run=dry_run,
                          check=check, warnings=settled.warnings + warnings, notes=settled.notes + notes + plan.notes)
    result.tool_mirrors = {t: m for t, m in per_tool.items() if t in plan.chosen}
    result.warnings.extend(plan.skipped)
    result.warnings.extend(catalog.notes)  # about the team catalogue (left out, a kept copy used)
    result.notes.extend(_fallback_notes(plan.chosen, backups))
    shadowed = _still_shadowed(ctx, catalog, plan.chosen, plan.changes, plan.written, per_tool)
    result.warnings.extend(message for _, message in shadowed)
    result.overridden = plan.left_out + [name for name, _ in shadowed]
    return _finish(ctx, result, command, url=mirror.url)


def _fallback_mirrors(catalog: Catalog, mirror: Mirror, specs: Sequence[str],
                      notes: Optional[list] = None) -> list[Mirror]:
    """``use --fallback a,b``: each a catalogue name, an alias or a URL (a catalogue host without its
    path corrected, as for the main mirror; no request is made for a fall-back); not the main
    mirror, no repeats."""
    out: list[Mirror] = []
    for spec in [p.strip() for item in specs for p in item.split(",")]:
        if not spec:
            continue
        backup = given_mirror(catalog, spec, notes if notes is not None else [])
        if urls.same_index(backup.url, mirror.url):
            raise UsageError(_("--fallback {spec}: that is the mirror being switched to").format(spec=spec),
                             hint=_("name other mirrors as fall-backs"))
        if not any(urls.same_index(backup.url, m.url) for m in out):
            out.append(backup)
    return out


def _fallback_notes(chosen: Sequence[str], backups: Sequence[Mirror]) -> list[str]:
    if not backups:
        return []
    names = ", ".join(m.name if m.name != "custom" else urls.mask_url(m.url) for m in backups)
    notes = []
    for name in chosen:
        if getattr(targets.get(name), "falls_back", False):
            notes.append(_("{tool}: fall-backs {names}; {tool} asks every index for every package, so a slow "
                           "or dead fall-back slows every install (docs/fallbacks.md)").format(tool=name, names=names))
        else:
            notes.append(_("{tool}: no fall-back written: {tool} does not go on to another index when one is "
                           "down (docs/fallbacks.md); `mirrorctl cache` keeps it installing when the mirror "
                           "fails").format(tool=name))
    return notes


def reset(ctx: Context, *, tools: Optional[Sequence[str]] = None, scope: Scope = Scope.USER,
          dry_run: bool = False, check: bool = False, command: str = "reset") -> ChangeResult:
    """Remove the settings mirrorctl manages, leaving everything else in the files as it was."""
    settled = _settle(ctx, ChangeResult("reset", [], dry_run=dry_run, check=check))
    chosen = choose_tools(ctx, tools, scope)
    changes = plan_in_turn(chosen, lambda name: targets.get(name).plan_reset(ctx, scope))
    result = ChangeResult("reset", changes, scope=scope.value, tools=chosen, dry_run=dry_run, check=check,
                          warnings=settled.warnings, notes=settled.notes)
    return _finish(ctx, result, command)


def _still_shadowed(ctx: Context, catalog: Catalog, tools: Sequence[str], changes: Sequence[FileChange],
                    main: Mirror, tool_mirrors: Optional[dict] = None) -> list[tuple[str, str]]:
    """After the change, does each tool really use its mirror? (tool, who overrides it) if not."""
    overlay = {str(c.path): c.after for c in changes}
    out = []
    for name in tools:
        mirror = (tool_mirrors or {}).get(name, main)
        st = targets.get(name).status(ctx, catalog, overlay)
        if st.error:
            out.append((name, f"{name}: {st.error}"))
        elif not (urls.same_index(index_of(st), mirror.url) or (st.mirror is not None and st.mirror == mirror.name)):
            out.append((name, _("{tool} will still use {url}: {reason}").format(
                tool=name, url=urls.mask_url(index_of(st) or "?"), reason=_why_not(st, overlay))))
    return out


def _why_not(st: ToolStatus, written: dict) -> str:
    if st.origin.kind != "default":
        return _("{origin} overrides the file written").format(origin=st.origin.describe())
    skipped = [f.skipped for f in st.files if f.path in written and f.skipped]
    if skipped:
        return _("the file written is not read ({reason})").format(reason=skipped[0])
    return _("the file written is not read")


# -- status ------------------------------------------------------------------------

def status(ctx: Context, tools: Optional[Sequence[str]] = None, *, show_all: bool = False) -> StatusReport:
    """What each tool uses. Without ``tools`` or ``show_all``: pip, and every other tool that is
    in use (on PATH) or configured somewhere; the rest are named in ``hidden``."""
    catalog = load_catalog(ctx)
    named = targets.parse_tools(list(tools) if tools else None)
    report = StatusReport(tools=[])
    for name in named or targets.available():
        target = targets.get(name)
        st = target.status(ctx, catalog)
        if named or show_all or _worth_showing(ctx, target, st):
            report.tools.append(st)
        else:
            report.hidden.append(name)
    for tool in report.tools:
        if tool.index_url is None and index_of(tool):
            # pipenv outside a project, Poetry outside one: their default is the official index
            # too, shown as it is for pip, uv and PDM (the JSON keeps null: nothing configured)
            known = catalog.match_url(OFFICIAL_INDEX)
            report.defaults[tool.tool] = (OFFICIAL_INDEX, known.name if known else None)
        report.warnings.extend(f"{tool.tool}: {w}" for w in tool.warnings)
    report.warnings.extend(_interrupted_warning(ctx))
    from mirrorctl.cache import mark_tools  # the local cache: named `cache`, and said when it is down

    report.warnings.extend(mark_tools(ctx, report.tools))
    # tools agree when they use the same catalogue mirror (each tool's URL differs: a conda
    # channel is not a PyPI index); an index outside the catalogue is compared by its URL.
    # A tool left at its built-in default is not compared (it may not even be installed); pip always is.
    configured = {t.tool: (t.mirror or urls.canonical(t.index_url), t.mirror or urls.mask_url(t.index_url))
                  for t in report.tools
                  if t.index_url and not t.error and (t.origin.kind != "default" or t.tool == "pip")}
    if len({key for key, _ in configured.values()}) > 1:
        listing = ", ".join(_("{tool} uses {index}").format(tool=tool, index=shown)
                            for tool, (_key, shown) in configured.items())
        report.warnings.append(_("the tools disagree: {listing}").format(listing=listing))
    return report


def _interrupted_warning(ctx: Context) -> list[str]:
    """A change an earlier run left half-done makes what status shows a mix of before and after."""
    folder = state_dir(ctx)
    if not (folder / "journal").is_dir():  # no journal yet: spare status the import
        return []
    from mirrorctl.journal import pending

    entry = pending(folder)
    if entry is None:
        return []
    return [_("an interrupted change (`{command}`, entry {id}) left files half changed: run `mirrorctl undo` to "
              "roll it back (any mirrorctl use or reset does so first)").format(command=entry.command, id=entry.id)]


def _worth_showing(ctx: Context, target, st: ToolStatus) -> bool:
    """pip; a tool configured anywhere (its status says so) or broken; else one that is installed
    (in use at its first scope: on PATH, or the project's for a project-only tool)."""
    if st.tool == "pip" or st.error or (st.index_url and st.origin.kind != "default"):
        return True
    return target.in_use(ctx, target.scopes[0])


# -- the catalogue -----------------------------------------------------------------

def list_mirrors(ctx: Context) -> ListResult:
    catalog = load_catalog(ctx)
    pip_status = targets.get("pip").status(ctx, catalog)
    visible = catalog.visible()
    shadowed = sorted({builtin.name for _user, builtin in catalog.shadowed()})
    return ListResult(mirrors=visible, current=pip_status.mirror, current_url=pip_status.index_url,
                      shadowed_builtins=shadowed, user_file=str(catalog.user_file),
                      taken_aliases={b.name: list(b.aliases) for _u, b in catalog.shadowed() if b.aliases},
                      team_source=catalog.team_source, notes=catalog.notes)


def _user_doc(ctx: Context):
    import tomlkit

    path = user_catalog_path(ctx)
    text = read_user_catalog_text(path)
    if text is not None:
        parse_catalog(text, source=USER, origin=str(path))  # refuse to edit a broken file
    from mirrorctl.changes import read_bytes

    before = read_bytes(path) if text is not None else None
    doc = tomlkit.parse(text) if text is not None else tomlkit.document()
    if text is None:
        doc.add(tomlkit.comment("mirrorctl: your own mirrors (`mirrorctl add NAME URL`). Same format as mirrors.toml."))
    return path, before, doc


def add_mirror(ctx: Context, name: str, url: str, *, conda: Optional[str] = None, conda_layout: str = "full",
               title: Optional[str] = None, dry_run: bool = False, command: str = "add", verify: bool = True,
               package: Optional[str] = None) -> ChangeResult:
    """Add (or update) a mirror of the user's catalogue. Its URL is checked as `use URL` checks one,
    when it would change. A name that is a built-in mirror's alias is refused: the alias would
    mean one mirror here and another in the documentation; reusing the built-in mirror's *name*
    replaces that mirror, aliases included."""
    import tomlkit

    key = name.strip().lower()
    if not NAME_RE.match(key):
        raise UsageError(_("bad mirror name {name!r}").format(name=name),
                         hint=_("use lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"))
    if key in RESERVED_NAMES:
        raise UsageError(_("{name!r} is a reserved word, not a mirror name").format(name=key),
                         hint=_("choose another name"))
    settled = _settle(ctx, ChangeResult("add", [], dry_run=dry_run))
    catalog = load_catalog(ctx)
    owner = catalog.builtin_alias_owner(key)
    if owner is not None:
        raise UsageError(_("{name!r} is an alias of the built-in mirror {owner!r}").format(name=key, owner=owner.name),
                         hint=_("choose another name, or `mirrorctl add {owner} URL` to replace {owner} "
                                "(its aliases then mean yours too)").format(owner=owner.name))
    notes = list(settled.notes)
    clean_url = given_mirror(catalog, url, notes).url if urls.looks_like_url(url) else urls.validate_index_url(url)
    clean_conda = urls.validate_index_url(conda, what=_("conda URL")).rstrip("/") if conda else None
    path, before, doc = _user_doc(ctx)
    entries = doc.get("mirror")
    existing = next((t for t in entries if str(t.get("name", "")).lower() == key), None) if entries else None
    warnings = list(settled.warnings)
    unchanged_url = existing is not None and str(existing.get("url", "")) == clean_url
    if verify and not unchanged_url and catalog.match_url(clean_url) is None:
        from mirrorctl.verify import DEFAULT_PACKAGE, check_index

        verdict = check_index(ctx, clean_url, package=package or DEFAULT_PACKAGE, catalog=catalog)
        notes.extend(verdict.notes)
        warnings.extend(verdict.warnings)
        clean_url = verdict.url
    if entries is None:
        entries = tomlkit.aot()
        doc.append("mirror", entries)
    table = existing
    if table is None:
        table = tomlkit.table()
        table["name"] = key
        entries.append(table)
    table["url"] = clean_url
    if title:
        table["title"] = title
    if clean_conda:
        conda_table = tomlkit.table()
        conda_table["url"] = clean_conda
        conda_table["layout"] = conda_layout
        table["conda"] = conda_table
    after = tomlkit.dumps(doc).encode("utf-8")
    if existing is not None and after != before:
        notes.append(_("updated your mirror {name!r}").format(name=key))
    if after != before and any(m.name == key and m.source == BUILTIN for m in catalog.mirrors):
        replaced = next(m for m in catalog.mirrors if m.name == key and m.source == BUILTIN)
        notes.append(_("your {name!r} replaces the built-in mirror of that name{aliases}").format(
            name=key, aliases=_("; its aliases ({aliases}) now mean yours too").format(aliases=", ".join(
                replaced.aliases)) if replaced.aliases else ""))
    change = FileChange(path, before, after, tool="catalogue", scope="user")
    mirror = Mirror(name=key, url=clean_url, title=title or key, source=USER)
    result = ChangeResult("add", [change], mirror=mirror, dry_run=dry_run, notes=notes, warnings=warnings)
    return _finish(ctx, result, command, url=clean_url)


def remove_mirror(ctx: Context, name: str, *, dry_run: bool = False, command: str = "remove") -> ChangeResult:
    import tomlkit

    key = name.strip().lower()
    settled = _settle(ctx, ChangeResult("remove", [], dry_run=dry_run))
    catalog = load_catalog(ctx)
    path, before, doc = _user_doc(ctx)
    entries = doc.get("mirror") or []
    index = next((i for i, t in enumerate(entries) if str(t.get("name", "")).lower() == key), None)
    if index is None:
        known = catalog.get(key)
        if known is not None and known.source == BUILTIN:
            raise UsageError(_("{name!r} is a built-in mirror and cannot be removed").format(name=key),
                             hint=_("only mirrors you added can be removed; `mirrorctl list` shows which"))
        if known is not None and known.source == TEAM:
            raise UsageError(_("{name!r} comes from the team catalogue {source}").format(
                name=key, source=catalog.team_source), hint=_("remove it there, or unset MIRRORCTL_CATALOGUE"))
        raise unknown_mirror(key, [m.name for m in catalog.mirrors if m.source == USER] or catalog.all_names())
    mirror = next(m for m in catalog.mirrors if m.name == key and m.source == USER)
    del entries[index]
    if not len(entries):
        del doc["mirror"]
    after = tomlkit.dumps(doc).encode("utf-8")
    change = FileChange(path, before, after, tool="catalogue", scope="user")
    result = ChangeResult("remove", [change], mirror=mirror, dry_run=dry_run, notes=settled.notes,
                          warnings=settled.warnings)
    return _finish(ctx, result, command)


# -- undo / history ----------------------------------------------------------------

def undo(ctx: Context, *, force: bool = False, dry_run: bool = False) -> UndoResult:
    from mirrorctl import transaction

    return transaction.undo(state_dir(ctx), force=force, dry_run=dry_run)


def history(ctx: Context, limit: Optional[int] = None) -> list[JournalEntry]:
    from mirrorctl import transaction

    return transaction.history(state_dir(ctx), limit)
