"""Planning `use`: which mirror a name or URL means, and what each chosen tool's files become.

Kept apart from ops.py: a URL that is a catalogue host without its path is corrected here
(:func:`given_mirror`); a tool at its built-in default that is the mirror gets nothing written
(:func:`_at_default`); a file that names the index in another spelling stays as it is
(:func:`_keep_spelling`); tools are planned in turn, each seeing what the ones before will write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from mirrorctl import targets, urls
from mirrorctl.catalog import ADHOC, Catalog, Mirror
from mirrorctl.changes import FileChange
from mirrorctl.context import Context, Scope
from mirrorctl.errors import UnsupportedError
from mirrorctl.i18n import _
from mirrorctl.targets.base import ToolStatus

#: the index every tool uses when nothing is configured (pip, uv, PDM, pipenv, Poetry)
OFFICIAL_INDEX = "https://pypi.org/simple"


def given_mirror(catalog: Catalog, spec: str, notes: list) -> Mirror:
    """The mirror of a name, alias or URL; a catalogue mirror's host with a leading part of its
    path (``https://pypi.tuna.tsinghua.edu.cn``) is corrected to the catalogue's URL (said in ``notes``)."""
    from dataclasses import replace

    mirror = catalog.resolve(spec)
    if mirror.source != ADHOC or catalog.match_url(mirror.url) is not None:
        return mirror
    known = catalog.correction(mirror.url)
    if known is None:
        return mirror
    url = urls.with_path(mirror.url, known.url)
    notes.append(_("{given} is not an index URL: corrected to {name}'s index, {url}").format(
        given=urls.mask_url(mirror.url), name=known.name, url=urls.mask_url(url)))
    return known if url == known.url else replace(known, url=url, source=ADHOC)


@dataclass
class UsePlan:
    changes: list[FileChange]
    chosen: list[str]
    written: Mirror
    skipped: list[str] = field(default_factory=list)  # warnings: tools found in use the mirror cannot serve
    left_out: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_use(ctx: Context, catalog: Catalog, mirror: Mirror, chosen: list[str], scope: Scope,
              explicit: bool, fallbacks: Sequence[str] = (), tool_mirrors: Optional[dict] = None) -> UsePlan:
    """The changes of `use`; ``fallbacks`` (URLs) go to the tools that go on with the next index when
    one is down (``falls_back`` in their module), replacing the fall-backs mirrorctl wrote before;
    ``tool_mirrors`` gives a tool another mirror than ``mirror`` (`use fastest`: conda's own winner)."""
    from mirrorctl import credentials

    # a project's files are committed: they name the index without its credential, which goes to ~/.netrc
    to_netrc = scope == Scope.PROJECT and urls.has_credentials(mirror.url)
    main = credentials.project_mirror(mirror) if to_netrc else mirror
    netrc_change = credentials.plan_netrc(ctx, mirror.url) if to_netrc else None
    out = UsePlan([], chosen, main)

    def plan(name: str) -> list[FileChange]:
        target = targets.get(name)
        written = (tool_mirrors or {}).get(name, main)
        extra = {"fallbacks": list(fallbacks)} if getattr(target, "falls_back", False) else {}
        before = target.status(ctx, catalog)
        if _at_default(before, written) and not extra.get("fallbacks"):  # nothing to restate the default with
            out.notes.append(_("{tool} already uses {url} (its built-in default): nothing written for it").format(
                tool=name, url=urls.mask_url(before.index_url or written.url)))
            return []
        try:
            changes = target.plan_use(ctx, written, scope, **extra)
        except UnsupportedError as exc:
            if explicit:
                raise
            chosen.remove(name)  # found in use, but this mirror cannot serve it: say so, go on
            out.skipped.append(_("{tool} left as it is: {reason}").format(tool=name, reason=exc.message))
            out.left_out.append(name)
            return []
        return _keep_spelling(ctx, target, before, written, scope, changes, extra)

    out.changes = plan_in_turn(list(chosen), plan)
    if netrc_change is not None and chosen:
        out.changes.append(netrc_change)
    return out


def index_of(st: ToolStatus) -> Optional[str]:
    """The index the tool uses; a tool left at its default without a project (pipenv, Poetry)
    uses the official index too."""
    if st.index_url is None and not st.error and st.origin.kind == "default":
        return OFFICIAL_INDEX
    return st.index_url


def _at_default(st: ToolStatus, mirror: Mirror) -> bool:
    """The tool is configured nowhere and its built-in default is this index (credentials: none)."""
    if st.error or st.origin.kind != "default" or urls.has_credentials(mirror.url):
        return False
    return urls.same_index(index_of(st), mirror.url)


def _keep_spelling(ctx: Context, target, before: ToolStatus, mirror: Mirror, scope: Scope,
                   changes: list[FileChange], extra: dict) -> list[FileChange]:
    """pip compares index URLs without minding a trailing slash, the host's case or a default
    port: a file that already names this index (same credentials) in another spelling is left
    as it is, so `--check` says "already" and `use` writes nothing."""
    from dataclasses import replace

    current = (before.index_url or "").strip()
    if not any(c.changed for c in changes) or not current or current == mirror.url or \
            not urls.identical_index(current, mirror.url):
        return changes
    try:
        again = target.plan_use(ctx, replace(mirror, url=current), scope, **extra)
    except UnsupportedError:
        return changes
    return again if not any(c.changed for c in again) else changes


def plan_in_turn(names: Sequence[str], plan) -> list[FileChange]:
    """Plan tool after tool, each seeing the files the ones before will write; one change per file."""
    from mirrorctl.changes import merge_same_path, planning

    changes: list[FileChange] = []
    with planning() as planned:
        for name in names:
            for change in plan(name):
                planned[str(change.path)] = change.after
                changes.append(change)
    return merge_same_path(changes)
