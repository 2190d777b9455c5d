"""Nothing raw reaches the terminal: control characters planted in every printed field are shown
escaped (render.text.shown), never sent; --json keeps the exact value.

The plant: ESC[2J (clear the screen), an OSC title (ESC ] 0;pwned BEL), CR, U+202E (right-to-left
override), the 8-bit CSI (U+009B). Each command is run and its stdout and stderr are checked for
any character str.isprintable() refuses (other than the line feeds of the layout).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirrorctl.render.text import json_shown, shown

PLANT = "\x1b[2J\x1b]0;pwned\x07\r\u202e\x9b"
PLANT_SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07\\r\\u202e\\x9b"
PLANT_TOML = "\\u001b[2J\\u001b]0;pwned\\u0007\\r\\u202e\\u009b"  # the same, as a TOML basic string spells it
EVIL_URL = f"https://x.example/{PLANT}/simple"
EVIL_URL_SHOWN = f"https://x.example/{PLANT_SHOWN}/simple"


def raw_controls(text: str, allow: str = "\n") -> list[str]:
    return [ch for ch in text if not ch.isprintable() and ch not in allow]


def assert_clean(result, *visible: str) -> None:
    """No raw control on stdout or stderr; each of ``visible`` shown somewhere."""
    assert raw_controls(result.stdout) == [], repr(result.stdout)
    assert raw_controls(result.stderr) == [], repr(result.stderr)
    for text in visible:
        assert text in result.stdout + result.stderr, (text, result.stdout, result.stderr)


# -- the function itself ------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("plain https://pypi.org/simple", "plain https://pypi.org/simple"),
    ("\x1b[2J", "\\x1b[2J"),
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    ("a\rb\nc\td\x08\x00\x7f", "a\\rb\\nc\\td\\x08\\x00\\x7f"),
    ("\x9b31m\x9d0;t\x9c\x85", "\\x9b31m\\x9d0;t\\x9c\\x85"),
    ("\u202aa\u202bb\u202cc\u202dd\u202ee", "\\u202aa\\u202bb\\u202cc\\u202dd\\u202ee"),
    ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"),
    ("zero\u200bwidth\ufeff\u2028\U000e0001", "zero\\u200bwidth\\ufeff\\u2028\\U000e0001"),
    ("C:\\Users\\李\\pip.ini ü é", "C:\\Users\\李\\pip.ini ü é"),  # printable letters and backslashes as is
    ("bad byte \udcff", "bad byte \\xff"),  # surrogateescape: the byte that was not UTF-8
    ("[bold]red[/bold]", "[bold]red[/bold]"),
])
def test_shown(raw, expected):
    assert shown(raw) == expected
    assert shown(shown(raw)) == shown(raw)  # idempotent
    assert raw_controls(shown(raw), allow="") == []


def test_shown_keeps_only_what_it_is_told():
    assert shown("a\tb\nc\x1bd", keep="\n\t") == "a\tb\nc\\x1bd"
    assert shown(None) == "" and shown(3) == "3"


def test_json_shown_round_trips_and_escapes_everything_non_printable():
    value = {"url": EVIL_URL, "name": "李 ü", "astral": "\U000e0001x", "del": "\x7f", "bad": "\udcff"}
    text = json_shown(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert raw_controls(text, allow="") == []
    assert "李 ü" in text  # printable letters stay readable (ensure_ascii=False)
    assert "\\u202e" in text and "\\u009b" in text and "\\udb40\\udc01" in text


def test_every_sink_escapes_what_a_renderer_forgot(capsys):
    """The safety net: a renderer that passes a raw value to a sink still sends no control."""
    from mirrorctl import render
    from mirrorctl.errors import MirrorctlError

    render.write(f"a {PLANT}\nline two\tcell")
    render.out(f"b {PLANT}\n")
    render.write(render.table(["h"], [[f"c {PLANT}\nx"]]))
    render.print_table(["h"], [[f"d {PLANT}"]])
    render.warn(f"w {PLANT}\nsecond")
    render.error(MirrorctlError(f"e {PLANT}\nsecond", hint=f"h {PLANT}"))
    captured = capsys.readouterr()
    assert raw_controls(captured.out, allow="\n\t") == []
    assert raw_controls(captured.err) == []
    assert captured.out.count(PLANT_SHOWN) == 4 and "c " + PLANT_SHOWN + "\\nx" in captured.out
    assert captured.err.count("\n") == 2  # each message one line, its line feed shown as \\n
    assert f"e {PLANT_SHOWN}\\nsecond (hint: h {PLANT_SHOWN})" in captured.err


# -- a hostile world: every printed field --------------------------------------------

@pytest.fixture
def evil_home(sandbox, monkeypatch) -> Path:
    """HOME (and the XDG folders under it) in a folder whose name holds the plant."""
    home = sandbox.root / f"h{PLANT.replace(chr(13), '')}ome"  # a CR in a folder name: allowed, but spare the tmp cleaner
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    return home


def home_shown(home: Path) -> str:
    return shown(str(home))


@pytest.fixture
def evil_catalogue(sandbox) -> Path:
    """A user catalogue written by hand: controls in an alias, the title, the notes, the homepage."""
    path = sandbox.config / "mirrorctl" / "mirrors.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[[mirror]]\n"
        'name = "evil"\n'
        'url = "https://evil.example/simple"\n'
        f'aliases = ["ev{PLANT_TOML}il"]\n'
        f'title = "T{PLANT_TOML}"\n'
        f'notes = "N{PLANT_TOML}[bold]x[/bold]"\n'
        f'homepage = "https://h.example/{PLANT_TOML}"\n',
        encoding="utf-8")
    return path


def evil_pip_conf(sandbox) -> Path:
    sandbox.user_pip_conf.parent.mkdir(parents=True, exist_ok=True)
    sandbox.user_pip_conf.write_text(f"# mine\n[global]\nindex-url = {EVIL_URL}\ntimeout = 5{PLANT}\n",
                                     encoding="utf-8", newline="")
    return sandbox.user_pip_conf


@pytest.mark.parametrize("args", [("status",), ("status", "--files"), ("status", "--all")])
def test_status_of_a_pip_conf_with_controls(run, sandbox, args):
    evil_pip_conf(sandbox)
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    assert_clean(result, EVIL_URL_SHOWN)
    if "--files" in args:
        assert f"global.timeout = 5{PLANT_SHOWN}" in result.stdout


def test_status_json_holds_the_exact_value(run, run_cli, sandbox):
    evil_pip_conf(sandbox)
    for runner in (run, run_cli):  # the fast path (real process) and typer (in-process)
        result = runner("status", "--json")
        assert result.exit_code == 0
        assert raw_controls(result.stdout) == []  # C1 and U+202E too, as \\u escapes
        pip = next(t for t in result.json()["tools"] if t["tool"] == "pip")
        assert pip["index_url"] == EVIL_URL


def test_a_cloned_projects_uv_toml_cannot_clear_the_screen(run_cli, sandbox):
    project = sandbox.root / "clone"
    project.mkdir()
    (project / "uv.toml").write_text(f'[[index]]\nurl = "https://x.example/{PLANT_TOML}/simple"\ndefault = true\n')
    result = run_cli("status", "--all", cwd=project)
    assert_clean(result, EVIL_URL_SHOWN)
    result = run_cli("status", "--all", "--json", cwd=project)
    assert raw_controls(result.stdout) == []
    uv = next(t for t in result.json()["tools"] if t["tool"] == "uv")
    assert uv["index_url"] == EVIL_URL


def test_use_dry_run_diff_shows_the_old_line_escaped(run, sandbox):
    conf = evil_pip_conf(sandbox)
    before = conf.read_bytes()
    result = run("use", "tuna", "-t", "pip", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert_clean(result, f"-index-url = {EVIL_URL_SHOWN}", "+index-url = https://pypi.tuna.tsinghua.edu.cn/simple")
    assert conf.read_bytes() == before
    data = run("use", "tuna", "-t", "pip", "--dry-run", "--json").json()
    assert f"-index-url = {EVIL_URL}\n" in data["files"][0]["diff"]  # JSON: the exact line


def test_use_history_undo_reset_under_a_home_with_controls(run, sandbox, evil_home):
    project = sandbox.root / f"p{PLANT}"  # a folder named with the plant, recorded in the journal's command
    project.mkdir()
    conf = evil_home / ".config" / "pip" / "pip.conf"
    shown_home = home_shown(evil_home)

    result = run("use", "tuna", "-t", "pip", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert conf.exists()
    assert_clean(result, f"created {shown_home}/.config/pip/pip.conf")

    result = run("history")
    assert result.exit_code == 0
    assert_clean(result, shown_home, f"p{PLANT_SHOWN}")
    entry = run("history", "--json").json()[0]
    assert str(project) in entry["command"] and entry["files"][0]["path"] == str(conf)

    for args in (("undo", "--dry-run"), ("undo", "--dry-run", "--json")):
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        assert raw_controls(result.stdout) == [] and raw_controls(result.stderr) == []
    assert f"p{PLANT_SHOWN}" in run("undo", "--dry-run").stdout
    assert str(project) in run("undo", "--dry-run", "--json").json()["command"]

    result = run("reset", "-t", "pip", "--dry-run")
    assert_clean(result, shown_home)
    result = run("reset", "-t", "pip")
    assert result.exit_code == 0, result.stderr
    assert_clean(result, shown_home)

    result = run("undo")  # the reset
    assert result.exit_code == 0, result.stderr
    assert_clean(result, f"restored {shown_home}/.config/pip/pip.conf", "mirrorctl reset -t pip")
    result = run("undo")  # the use, whose command holds the plant
    assert result.exit_code == 0, result.stderr
    assert_clean(result, f"removed {shown_home}/.config/pip/pip.conf", f"p{PLANT_SHOWN}")
    assert not conf.exists()


def test_list_with_a_hand_written_catalogue(run, evil_catalogue):
    result = run("list")
    assert result.exit_code == 0, result.stderr
    assert_clean(result, shown(f"ev{PLANT}il".lower()))
    data = run("list", "--json")
    assert raw_controls(data.stdout) == []
    evil = next(m for m in data.json() if m["name"] == "evil")
    assert evil["aliases"] == [f"ev{PLANT}il".lower()]
    assert evil["title"] == f"T{PLANT}" and evil["notes"] == f"N{PLANT}[bold]x[/bold]"
    assert evil["homepage"] == f"https://h.example/{PLANT}"


def test_a_bad_catalogue_name_is_named_escaped(run, sandbox):
    path = sandbox.config / "mirrorctl" / "mirrors.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[[mirror]]\nname = "x{PLANT_TOML}"\nurl = "https://x.example/simple"\n')
    result = run("list")
    assert result.exit_code == 4
    assert_clean(result, str(path))
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_mirror_and_its_suggestion(run_cli, evil_catalogue):
    typed = "ev\x1b]0;pwned"
    result = run_cli("use", typed)
    assert result.exit_code == 2
    assert_clean(result, "\\x1b]0;pwned", f"did you mean {shown(f'ev{PLANT}il'.lower())}")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mirrorctl: error: unknown mirror")


def test_a_bad_url_typed_with_controls(run_cli):
    result = run_cli("use", f"https://x.example/{PLANT}")
    assert result.exit_code == 2
    assert_clean(result)
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_error_from_the_framework_is_escaped(run_cli):
    result = run_cli("use", "tuna", f"--fro{PLANT}")
    assert result.exit_code == 2
    assert_clean(result, "--fro\\x1b[2J\\x1b]0;pwned")  # (the framework itself spells CR \\x0d)


def test_env_prints_nothing_raw(run, run_cli, sandbox, evil_catalogue):
    result = run("env", f"ev{PLANT}il".lower(), "--shell", "bash")
    assert result.exit_code == 0, result.stderr
    assert_clean(result, "export PIP_INDEX_URL=")
    # the mirror pip uses now is not a valid URL: the error names it, escaped
    evil_pip_conf(sandbox)
    result = run_cli("env")
    assert result.exit_code != 0
    assert_clean(result)
    assert "\\x1b[2J" in result.stderr


def test_warnings_are_escaped(run, sandbox, monkeypatch):
    """An environment variable overrides the file: the warning quotes both values."""
    evil_pip_conf(sandbox)
    monkeypatch.setenv("PIP_INDEX_URL", f"https://env.example/{PLANT}")
    result = run("status")
    assert result.exit_code == 0
    assert_clean(result, f"https://env.example/{PLANT_SHOWN}")


def test_markup_in_a_value_prints_literally(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True, exist_ok=True)
    sandbox.user_pip_conf.write_text("[global]\nindex-url = https://x.example/[bold]b[/bold]/simple\n")
    result = run("status")
    assert "https://x.example/[bold]b[/bold]/simple" in result.stdout


# -- bench: the rich table ----------------------------------------------------------

def test_bench_table_escapes_names_errors_and_markup():
    import io

    from rich.console import Console

    from mirrorctl.bench import BenchReport, ProbeResult
    from mirrorctl.render.bench import print_bench

    results = [ProbeResult(name=f"n{PLANT}", url="https://a.example/simple", index=0, ok=False,
                           error=f"[bold]boom[/bold] {PLANT}")]
    report = BenchReport(results=results, fastest=None, package=f"pip{PLANT}[red]", samples=1, timeout=1.0,
                         ranked_by="latency")
    buffer = io.StringIO()
    print_bench(report, Console(file=buffer, width=300, markup=False, highlight=False, color_system=None))
    text = buffer.getvalue()
    assert raw_controls(text) == [], repr(text)
    assert f"n{PLANT_SHOWN}"[:12] in text  # the name column may be cut; its start is there, escaped
    assert "[bold]boom[/bold]" in text and f"pip{PLANT_SHOWN}[red]" in text


def test_bench_against_a_loopback_index(run, sandbox):
    """A catalogue mirror named by an alias that holds the plant, on a real loopback index, next to
    one that refuses connections; and a --package that holds it (refused, named escaped)."""
    from bench_servers import LoopbackServers, free_port

    catalogue = sandbox.config / "mirrorctl" / "mirrors.toml"
    catalogue.parent.mkdir(parents=True, exist_ok=True)
    with LoopbackServers() as pool:
        server = pool.start()
        catalogue.write_text(
            f'[[mirror]]\nname = "loop"\nurl = "{server.url}"\naliases = ["lo{PLANT_TOML}op"]\n'
            f'[[mirror]]\nname = "gone"\nurl = "http://127.0.0.1:{free_port()}/simple"\n')
        result = run("bench", f"lo{PLANT}op".lower(), "gone", "--samples", "1")
        assert result.exit_code == 0, result.stderr
        assert_clean(result, "fastest: loop")
        assert "gone" in result.stdout
        result = run("bench", "loop", "--samples", "1", "--package", f"pip{PLANT}[bold]")
    assert result.exit_code == 2
    assert_clean(result, "pip\\x1b[2J")
