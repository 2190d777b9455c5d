"""Shell completion: `mirrorctl completion SHELL` prints a script; the script asks the hidden
`mirrorctl __complete SHELL CWORD WORD...` for the candidates at each Tab.

Why not typer's own completion (``add_completion=True``, ``_MIRRORCTL_COMPLETE``): its bash
script joins the words with spaces (a quoted argument falls apart), its fish script runs the
program twice per Tab, its PowerShell script rebinds the user's Tab key for every program, and
its backend lives in typer internals that moved between the typer versions we accept (click
vendored since 0.24). Ours walks the same command tree (so a new command or option completes
without a change here), calls the program once per Tab, and prints nothing, never a traceback,
when anything goes wrong (a broken catalogue: no mirror names).

The protocol: the first line of the answer is a mode (``values``, ``files``, ``dirs`` or
``none``); each further line is a candidate, ``VALUE<TAB>DESCRIPTION`` (bash: ``VALUE`` only).
CWORD is the index of the word under the cursor in WORD... (WORD[0] is the program); a missing
last word is the empty word (fish and PowerShell drop an empty argument).
"""

from __future__ import annotations

import sys
from typing import Iterable, List, Optional, Sequence

import typer

from mirrorctl.cli.app import app, handled, helptext
from mirrorctl.i18n import _

SHELL_NAMES = ("bash", "zsh", "fish", "powershell")

# the positional argument of these commands is a mirror (command -> allow several)
MIRROR_COMMANDS = {"use": False, "bench": True, "env": False, "exec": False, "remove": False}
PATH_OPTIONS = {"--venv": "dirs", "--root": "dirs", "--project": "dirs"}
_DESCRIPTION_WIDTH = 60


@app.command("completion", help=helptext(
    _("Print the shell completion script for SHELL (commands, options, mirror and tool names)."),
    _("bash, in ~/.bashrc:") + '   eval "$(mirrorctl completion bash)"',
    _("zsh, in ~/.zshrc after compinit:") + '   eval "$(mirrorctl completion zsh)"',
    "fish:   mirrorctl completion fish > ~/.config/fish/completions/mirrorctl.fish",
    _("PowerShell, in $PROFILE:") + "   mirrorctl completion powershell | Out-String | Invoke-Expression"))
@handled
def completion(shell: str = typer.Argument(..., help=_("bash, zsh, fish or powershell (pwsh)."))) -> None:
    sys.stdout.write(completion_script(shell))


def completion_script(shell: str) -> str:
    from mirrorctl.errors import UsageError

    key = shell.strip().lower()
    key = "powershell" if key in ("pwsh", "pwsh.exe", "powershell.exe") else key
    if key not in SCRIPTS:
        raise UsageError(_("no completion script for the shell {shell!r}").format(shell=shell),
                         hint=_("use one of: {names}").format(names=", ".join(SHELL_NAMES)))
    return SCRIPTS[key]


@app.command("__complete", hidden=True, add_help_option=False,
             context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
def complete_words(shell: str = typer.Argument(...), cword: str = typer.Argument("0"),
                   words: Optional[List[str]] = typer.Argument(None)) -> None:
    """The shell scripts' backend: never an error, at worst no candidates."""
    try:
        mode, found = candidates(list(words or []), int(cword), bash=shell == "bash")
        lines = [mode] + [_line(shell, value, help) for value, help in found]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 - a Tab must never print a traceback into the command line
        try:
            sys.stdout.write("none\n")
        except Exception:  # noqa: BLE001
            pass


def _line(shell: str, value: str, help: str) -> str:
    help = " ".join(help.split())
    if len(help) > _DESCRIPTION_WIDTH:
        help = help[:_DESCRIPTION_WIDTH - 1].rstrip() + "…"
    if shell == "bash" or not help:
        return value
    return f"{value}\t{help}"


# -- the candidates -----------------------------------------------------------------------

def candidates(words: Sequence[str], cword: int, *, bash: bool = False) -> "tuple[str, list]":
    """(mode, [(value, description)]) for the word at ``cword`` in ``words`` (words[0]: the program)."""
    from typer.main import get_command

    words = list(words[:cword + 1]) + [""] * max(0, cword + 1 - len(words))
    before, incomplete = words[1:cword], words[cword]
    strip = ""  # the part of the word the shell will not replace
    if bash:  # bash splits `--tool=pi` into `--tool`, `=`, `pi`; readline replaces only `pi`
        if incomplete == "=" and before and before[-1].startswith("--"):
            before, incomplete, strip = before[:-1], before[-1] + "=", before[-1] + "="
        elif before[-2:-1] and before[-1] == "=" and before[-2].startswith("--"):
            strip = before[-2] + "="
            before, incomplete = before[:-2], strip + incomplete
        before = _join_equals(before)

    command = get_command(app)
    state = _walk(command, before)
    if state is None:
        return "none", []
    cmd, used, positionals, pending, done = state
    if pending is not None:  # the value of an option
        return _option_values(pending, incomplete)
    if "=" in incomplete and incomplete.startswith("--"):
        name, _, value = incomplete.partition("=")
        option = _find_option(cmd, name)
        if option is None or _is_flag(option):
            return "none", []
        mode, found = _option_values(option, value)
        prefix = name + "=" if not strip else ""
        return mode, [(prefix + v, h) for v, h in found]
    if done:  # after `exec NAME`: the command to run
        return "none", []
    if incomplete.startswith("-"):
        return "values", _match(_options(cmd, used, short=not incomplete.startswith("--")), incomplete)
    subcommands = getattr(cmd, "commands", None)
    if subcommands is not None:
        return "values", _match(_subcommands(cmd), incomplete)
    found = _positional_values(cmd, positionals)
    if found is None:  # nothing positional is left: offer the options
        return "values", _match(_options(cmd, used), incomplete)
    return "values", _match(found, incomplete)


def _join_equals(words: List[str]) -> List[str]:
    out: List[str] = []
    i = 0
    while i < len(words):
        if words[i] == "=" and out and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] += "=" + (words[i + 1] if i + 1 < len(words) else "")
            i += 2
            continue
        out.append(words[i])
        i += 1
    return out


def _walk(command, words: Sequence[str]):
    """Follow the words through the command tree: (command, used options, positionals,
    option waiting for its value, no more options or arguments to complete)."""
    cmd, used, positionals = command, set(), []
    pending = None
    only_positionals = False
    for word in words:
        if pending is not None:
            pending = None
            continue
        if word == "--" and not only_positionals:
            only_positionals = True
            continue
        if word.startswith("-") and word != "-" and not only_positionals:
            name = word.partition("=")[0]
            option = _find_option(cmd, name)
            if option is None:
                continue
            used.add(option.name)
            if "=" not in word and not _is_flag(option):
                pending = option
            continue
        if getattr(cmd, "commands", None) is not None:
            sub = cmd.commands.get(word)
            if sub is None:
                return None
            cmd, used, positionals, only_positionals = sub, set(), [], False
            continue
        positionals.append(word)
        if not _interspersed(cmd):
            only_positionals = True
    done = cmd.name == "exec" and len(positionals) >= 1
    return cmd, used, positionals, pending, done


def _interspersed(cmd) -> bool:
    return bool((getattr(cmd, "context_settings", None) or {}).get("allow_interspersed_args", True))


def _find_option(cmd, name: str):
    for param in cmd.params:
        if getattr(param, "param_type_name", "") == "option" and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _is_flag(option) -> bool:
    return bool(getattr(option, "is_flag", False) or getattr(option, "count", False))


def _options(cmd, used: set, short: bool = False) -> list:
    out = []
    for param in cmd.params:
        if getattr(param, "param_type_name", "") != "option" or getattr(param, "hidden", False):
            continue
        if param.name in used and not getattr(param, "multiple", False):
            continue
        for opt in (*param.opts, *param.secondary_opts):
            if opt.startswith("--") or short:
                    out.append((opt, param.help or ""))
    out.append(("--help", _("Show the help and exit.")))
    return out


def _subcommands(group) -> list:
    out = []
    for name, sub in sorted(group.commands.items()):
        if getattr(sub, "hidden", False):
            continue
        help = sub.short_help or (sub.help or "").strip().split("\n\n")[0]
        out.append((name, help))
    return out


def _positional_values(cmd, positionals: list) -> Optional[list]:
    arguments = [p for p in cmd.params if getattr(p, "param_type_name", "") == "argument"]
    index = 0
    for param in arguments:  # which argument the next word fills
        if param.nargs == -1:
            break
        if index >= len(positionals):
            break
        index += 1
    else:
        return None
    if index >= len(arguments):
        return None
    if cmd.name in MIRROR_COMMANDS and index == 0:
        return _mirror_names(cmd.name, given=positionals)
    if cmd.name == "completion":
        return [(s, "") for s in SHELL_NAMES]
    return []


def _option_values(option, incomplete: str) -> "tuple[str, list]":
    names = set(option.opts)
    if "--tool" in names:
        from mirrorctl.targets import TOOLS

        head, comma, last = incomplete.rpartition(",")
        prefix = head + comma
        taken = set(head.split(",")) if comma else set()
        return "values", [(prefix + t, "") for t in TOOLS if t.startswith(last) and t not in taken]
    if "--scope" in names:
        from mirrorctl.context import Scope

        return "values", _match([(s.value, "") for s in Scope], incomplete)
    if "--shell" in names:
        from mirrorctl.formats.shellquote import SHELLS

        return "values", _match([(s, "") for s in SHELLS], incomplete)
    if "--conda-layout" in names:
        from mirrorctl.catalog import CONDA_LAYOUTS

        return "values", _match([(s, "") for s in CONDA_LAYOUTS], incomplete)
    for name in names:
        if name in PATH_OPTIONS:
            return PATH_OPTIONS[name], []
    choices = getattr(getattr(option, "type", None), "choices", None)
    if choices:
        return "values", _match([(str(c), "") for c in choices], incomplete)
    return "none", []


def _mirror_names(command: str, given: Iterable[str]) -> list:
    """Names and aliases from the catalogue (built-in and the user's own); none if it cannot be read."""
    try:
        from mirrorctl.catalog import USER, load_catalog
        from mirrorctl.cli.app import make_context

        catalog = load_catalog(make_context(), network=False)  # completion never waits on the network
    except Exception:  # noqa: BLE001 - a broken catalogue: no names, and no message in the command line
        return []
    taken = set(given) if MIRROR_COMMANDS.get(command) else set()
    out = []
    seen: set = set()
    for mirror in catalog.mirrors:
        if command == "remove" and mirror.source != USER:
            continue
        for name in mirror.names():
            if name in seen or name in taken:
                continue
            seen.add(name)
            title = mirror.title or mirror.url
            out.append((name, title if name == mirror.name else _("{title} (alias of {name})").format(title=title, name=mirror.name)))
    if command == "use":
        out.append(("fastest", _("Benchmark the mirrors and use the fastest.")))
    return out


def _match(found: list, incomplete: str) -> list:
    return [(v, h) for v, h in found if v.startswith(incomplete)]


# -- the scripts -----------------------------------------------------------------------------

BASH = r'''# mirrorctl completion for bash; in ~/.bashrc:  eval "$(mirrorctl completion bash)"
_mirrorctl_complete() {
    local line mode= first=1
    COMPREPLY=()
    while IFS= read -r line; do
        if [[ -n $first ]]; then mode=$line; first=; else COMPREPLY+=("$line"); fi
    done < <(command mirrorctl __complete bash "$COMP_CWORD" "${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
    case $mode in
        files) COMPREPLY=(); compopt -o default 2>/dev/null ;;
        dirs) COMPREPLY=(); compopt -o dirnames 2>/dev/null ;;
    esac
    return 0
}
complete -F _mirrorctl_complete mirrorctl
'''

ZSH = r'''#compdef mirrorctl
# mirrorctl completion for zsh; in ~/.zshrc after compinit:  eval "$(mirrorctl completion zsh)"
# (or save it as _mirrorctl in a folder on $fpath)
_mirrorctl() {
    local -a lines described
    local mode line value
    lines=("${(@f)$(command mirrorctl __complete zsh $((CURRENT - 1)) "${(@Q)words[1,CURRENT]}" 2>/dev/null)}")
    mode=${lines[1]}
    case $mode in
        files) _files; return ;;
        dirs) _files -/; return ;;
        values) ;;
        *) return 1 ;;
    esac
    described=()
    for line in "${(@)lines[2,-1]}"; do
        [[ -z $line ]] && continue
        value=${line%%$'\t'*}
        value=${value//:/\\:}
        if [[ $line == *$'\t'* ]]; then
            described+=("$value:${line#*$'\t'}")
        else
            described+=("$value")
        fi
    done
    (( ${#described} )) || return 1
    _describe -t values mirrorctl described
}
if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
    _mirrorctl "$@"
else
    compdef _mirrorctl mirrorctl
fi
'''

FISH = r'''# mirrorctl completion for fish:  mirrorctl completion fish > ~/.config/fish/completions/mirrorctl.fish
function __mirrorctl_complete
    set -l before (commandline -opc)
    set -l out (command mirrorctl __complete fish (count $before) $before (commandline -ct) 2>/dev/null)
    switch "$out[1]"
        case files
            __fish_complete_path (commandline -ct)
        case dirs
            __fish_complete_directories (commandline -ct)
        case values
            string join \n -- $out[2..-1]
    end
end
complete -c mirrorctl -f -a '(__mirrorctl_complete)'
'''

POWERSHELL = r'''# mirrorctl completion for PowerShell; in $PROFILE:
#   mirrorctl completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName 'mirrorctl', 'mirrorctl.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @()
    foreach ($element in $commandAst.CommandElements) {
        if ($element.Extent.StartOffset -ge $cursorPosition) { break }
        $words += $element.Extent.Text
    }
    $cword = $words.Count
    if ($wordToComplete -ne '') { $cword = $words.Count - 1 }
    $lines = @(& mirrorctl __complete powershell $cword @words 2>$null)
    if ($lines.Count -lt 1 -or $lines[0] -ne 'values') { return }
    $lines | Select-Object -Skip 1 | ForEach-Object {
        $parts = $_ -split "`t", 2
        $help = if ($parts.Count -gt 1) { $parts[1] } else { $parts[0] }
        [System.Management.Automation.CompletionResult]::new($parts[0], $parts[0], 'ParameterValue', $help)
    }
}
'''

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH, "powershell": POWERSHELL}
