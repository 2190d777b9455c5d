"""What a new user trips on in the first hour (issue 12, points 2-6), judged by the real pip where
it applies: a URL checked before it is written, --root, shadowed built-ins, small untruths in the
output, `use` restating a default."""

from __future__ import annotations

import json

import pytest

from bench_servers import RAW, Behaviour, LoopbackServers
from conftest import pip_default_index, pip_effective

OFFICIAL = "https://pypi.org/simple"
TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"


@pytest.fixture(autouse=True)
def verify_urls(monkeypatch):
    """URLs are checked here, as they are outside the tests (conftest turns the check off)."""
    monkeypatch.delenv("MIRRORCTL_NO_VERIFY", raising=False)


@pytest.fixture
def servers():
    with LoopbackServers() as pool:
        yield pool


def pip_index() -> str:
    return pip_effective("install")["install"]["index_url"]


def page_requests(index) -> list:
    return [line for line in index.requests().splitlines() if "Request: GET " in line]


# -- 2. a URL is checked before it is written ------------------------------------------

def test_a_real_index_is_checked_with_one_request_and_written(run, sandbox, index):
    result = run("use", index.url, "--tool", "pip", "--package", "mirrorctl-demo")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr
    assert pip_index() == index.url  # the real pip reads it back
    assert [line for line in page_requests(index) if "/simple/mirrorctl-demo/" in line]
    assert len(page_requests(index)) == 1  # one request


def test_an_index_that_forwards_what_it_lacks_is_taken(run, sandbox, index):
    # pypiserver sends a project it does not hold (pip) on to PyPI: an index's answer; not followed
    result = run("use", index.url, "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert "forwards the request to https://pypi.org/simple/pip/" in result.stdout
    assert pip_index() == index.url


def test_the_index_host_without_simple_is_corrected_by_the_index_s_own_redirect(run, sandbox, index):
    bare = index.url[:-len("simple/")]  # http://127.0.0.1:PORT/
    result = run("use", bare, "--tool", "pip", "--package", "mirrorctl-demo")
    assert result.exit_code == 0, result.stderr
    assert f"on to the index at {index.url}" in result.stdout
    assert pip_index() == index.url
    # and the real pip installs through what was written
    from conftest import real_pip

    proc = real_pip("download", "--no-deps", "-d", str(sandbox.root / "dl"), "mirrorctl-demo")
    assert proc.returncode == 0


def test_a_server_that_is_not_an_index_is_refused_and_nothing_is_written(run, run_cli, sandbox, servers):
    portal = servers.start(Behaviour(kind=RAW, body=b"<html><body><h1>Welcome</h1><p>no links</p></body></html>"))
    result = run("use", portal.url, "--tool", "pip")
    assert result.exit_code == 2
    assert "does not answer as a package index" in result.stderr and "lists no files" in result.stderr
    assert "--package" in result.stderr and "--no-verify" in result.stderr  # the hint
    assert not sandbox.user_pip_conf.exists()
    assert [r.path for r in portal.requests] == ["/simple/pip/"]
    cli = run_cli("use", portal.url, "--tool", "pip", "--json")
    assert cli.exit_code == 2 and cli.json()["error"]["code"] == "not_an_index"
    assert not sandbox.user_pip_conf.exists()


def test_a_404_is_refused_and_no_verify_writes_it_anyway(run, sandbox, servers):
    missing = servers.start(Behaviour(status=404))
    result = run("use", missing.url, "--tool", "pip")
    assert result.exit_code == 2 and "HTTP 404" in result.stderr
    assert not sandbox.user_pip_conf.exists()
    result = run("use", missing.url, "--tool", "pip", "--no-verify")
    assert result.exit_code == 0, result.stderr
    assert pip_index() == missing.url
    assert len(missing.requests) == 1  # --no-verify asked nothing


def test_a_pep_691_json_index_is_taken(run, sandbox, servers):
    server = servers.start(Behaviour(json=True))
    result = run("use", server.url, "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert pip_index() == server.url


def test_add_checks_the_url_too(run, sandbox, servers):
    portal = servers.start(Behaviour(kind=RAW, body=b"<html>hello</html>"))
    result = run("add", "corp", portal.url)
    assert result.exit_code == 2 and "does not answer as a package index" in result.stderr
    assert run("list", "--json").json()[0]["name"] != "corp"
    assert run("add", "corp", portal.url, "--no-verify").exit_code == 0


def test_the_variable_turns_the_check_off_as_the_option_does(run, sandbox, monkeypatch):
    monkeypatch.setenv("MIRRORCTL_NO_VERIFY", "1")
    result = run("use", "https://pypi.corp.invalid/simple", "--tool", "pip")
    assert result.exit_code == 0 and "could not check" not in result.stderr


def test_no_network_is_a_warning_and_the_url_is_written(run, sandbox):
    result = run("use", "https://pypi.corp.invalid/simple", "--tool", "pip")
    assert result.exit_code == 0
    assert "could not check" in result.stderr and "does not resolve" in result.stderr
    assert pip_index() == "https://pypi.corp.invalid/simple"
    refused = run("use", "http://127.0.0.1:1/simple", "--tool", "pip")  # connection refused: no answer either
    assert refused.exit_code == 0 and "connection was refused" in refused.stderr


def test_a_catalogue_host_without_its_path_is_corrected_to_the_catalogue_url(run, sandbox):
    result = run("use", "https://pypi.tuna.tsinghua.edu.cn", "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert f"corrected to tuna's index, {TUNA}" in result.stdout
    assert "could not check" not in result.stderr  # corrected offline: no request
    assert pip_index() == TUNA
    # credentials given with it are kept
    run("use", "https://me:tok@mirrors.aliyun.com/", "--tool", "pip")
    assert pip_index() == "https://me:tok@mirrors.aliyun.com/pypi/simple"


def test_a_catalogue_host_with_another_path_is_refused_with_the_catalogue_url_as_hint(run, sandbox, monkeypatch):
    from mirrorctl import verify

    # the host is unreachable here: stand in for its answer (a 404 for a path it does not serve)
    monkeypatch.setattr(verify, "_probe", lambda ctx, url, project: ("refused", "it has no page for pip (HTTP 404)", None))
    result = run("use", "https://pypi.tuna.tsinghua.edu.cn/pypi/web/simple", "--tool", "pip")
    assert result.exit_code == 2
    assert f"did you mean {TUNA} (the catalogue's tuna)?" in result.stderr
    assert not sandbox.user_pip_conf.exists()


@pytest.mark.parametrize("spelling", [TUNA + "/", "https://PYPI.Tuna.Tsinghua.edu.cn/simple",
                                      "https://pypi.tuna.tsinghua.edu.cn:443/simple/"])
def test_check_compares_urls_as_pip_does(run, sandbox, spelling):
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    written = sandbox.user_pip_conf.read_bytes()
    result = run("use", spelling, "--tool", "pip", "--check")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert run("use", spelling, "--tool", "pip").exit_code == 0
    assert sandbox.user_pip_conf.read_bytes() == written  # nothing rewritten for a spelling


def test_the_written_spelling_is_kept_the_other_way_round_too(run, sandbox):
    assert run("use", TUNA + "/", "--tool", "pip").exit_code == 0
    assert run("use", "tuna", "--tool", "pip", "--check").exit_code == 0


def test_a_rotated_token_is_still_a_change(run, sandbox):
    assert run("use", "https://me:old@pypi.tuna.tsinghua.edu.cn/simple", "--tool", "pip").exit_code == 0
    assert run("use", "https://me:new@pypi.tuna.tsinghua.edu.cn/simple/", "--tool", "pip", "--check").exit_code == 3
    assert run("use", "https://me:new@pypi.tuna.tsinghua.edu.cn/simple/", "--tool", "pip").exit_code == 0
    assert "me:new@" in pip_index()


# -- 3. --root must be an existing folder ------------------------------------------------

@pytest.mark.parametrize("command", [("use", "tuna", "--scope", "global"), ("reset", "--scope", "global"),
                                     ("status",)])
def test_a_typo_in_root_creates_nothing(run_cli, sandbox, command):
    typo = sandbox.root / "sysroto"
    result = run_cli(*command, "--root", str(typo))
    assert result.exit_code == 2
    assert "no such folder" in result.stderr and "hint:" in result.stderr
    assert not typo.exists()
    afile = sandbox.root / "afile"
    afile.write_text("")
    assert run_cli(*command, "--root", str(afile)).exit_code == 2


def test_an_existing_root_is_used(run, sandbox):
    result = run("use", "tuna", "--scope", "global", "--root", str(sandbox.etc), "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert TUNA in sandbox.global_pip_conf.read_text()


# -- 4. a user mirror that shadows a built-in one ----------------------------------------

def test_a_shadowing_mirror_takes_over_the_aliases(run, sandbox, index):
    assert run("add", "tuna", index.url, "--package", "mirrorctl-demo").exit_code == 0
    result = run("use", "tsinghua", "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert pip_index() == index.url  # the user's tuna, by its alias
    listing = run("list")
    assert listing.stdout.count("replace the built-in") == 1
    assert "tuna (tsinghua, thu)" in listing.stdout
    data = run("list", "--json").json()
    tuna = [m for m in data if m["name"] == "tuna"]
    assert len(tuna) == 1 and tuna[0]["url"] == index.url and tuna[0]["aliases"] == ["tsinghua", "thu"]
    assert tuna[0]["current"] is True


def test_a_built_in_alias_is_not_a_name(run, sandbox):
    result = run("add", "pypi", "https://pypi.corp.invalid/simple")
    assert result.exit_code == 2
    assert "alias of the built-in mirror 'official'" in result.stderr and "mirrorctl add official" in result.stderr
    assert not (sandbox.config / "mirrorctl" / "mirrors.toml").exists()


@pip_default_index
def test_list_does_not_mark_a_user_official_pointing_elsewhere(run, sandbox):
    assert run("add", "official", "https://pypi.corp.invalid/simple").exit_code == 0
    data = run("list", "--json").json()
    assert not any(m["current"] for m in data)  # pip uses pypi.org, not the user's "official"
    assert "* pip uses" not in run("list").stdout
    assert pip_index() == OFFICIAL


# -- 5. small untruths ---------------------------------------------------------------------

def test_conda_s_line_shows_the_conda_url(run, sandbox, on_path):
    on_path("conda")
    result = run("use", "tuna", "--tool", "pip,conda")
    assert result.exit_code == 0, result.stderr
    assert f"pip -> tuna ({TUNA}), conda -> tuna (https://mirrors.tuna.tsinghua.edu.cn/anaconda)" in result.stdout


@pip_default_index
def test_status_shows_the_official_index_for_pipenv_and_poetry_defaults(run_cli, sandbox, on_path):
    for tool in ("pipenv", "poetry", "uv", "pdm"):
        on_path(tool)
    table = run_cli("status", "--all").stdout  # Poetry outside a project: shown with --all
    for tool in ("pip", "pipenv", "poetry", "uv", "pdm"):
        line = next(line for line in table.splitlines() if line.startswith(tool + " "))
        assert line.split()[1:] == [OFFICIAL, "official", "built-in", "default"], line


def test_add_run_again_says_nothing_changed(run, sandbox):
    assert run("add", "corp", "https://pypi.corp.invalid/simple").exit_code == 0
    again = run("add", "corp", "https://pypi.corp.invalid/simple", "--json").json()
    assert again["changed"] is False and not any("updated" in n for n in again["notes"])
    text = run("add", "corp", "https://pypi.corp.invalid/simple").stdout
    assert "nothing changed" in text and "updated" not in text
    assert "updated your mirror" in run("add", "corp", "https://other.corp.invalid/simple").stdout


@pytest.mark.parametrize("args, code, exit_code", [
    (("use", "nonexistent", "--json"), "usage", 2),
    (("use", "tuna", "--bogus-option", "--json"), "usage", 2),  # the CLI framework's own usage error
    (("list", "--json", "--bogus"), "usage", 2),
    (("undo", "--json"), "nothing_to_undo", 8),
    (("status", "--json", "--root", "/nonexistent-root-typo"), "usage", 2),  # the fast path
    (("history", "--limit", "0", "--json"), "usage", 2),
])
def test_json_errors_are_a_json_object_on_stdout(run_cli, sandbox, args, code, exit_code):
    result = run_cli(*args)
    assert result.exit_code == exit_code
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code and error["exit_code"] == exit_code and error["message"]
    assert "hint" in error
    assert "error:" in result.stderr  # the line for a person stays


def test_without_json_errors_leave_stdout_empty(run_cli, sandbox):
    result = run_cli("use", "nonexistent")
    assert result.exit_code == 2 and result.stdout == ""


def test_exec_s_command_may_take_json_itself(run_cli, sandbox):
    result = run_cli("exec", "nonexistent", "--", "true", "--json")
    assert result.exit_code == 2 and result.stdout == ""


# -- 6. nothing written to restate what is already so -------------------------------------

@pip_default_index
def test_use_official_on_a_fresh_machine_writes_nothing(run, sandbox, on_path):
    for tool in ("pipenv", "uv", "pdm"):
        on_path(tool)
    result = run("use", "official")
    assert result.exit_code == 0, result.stderr
    assert "nothing changed" in result.stdout and "built-in default" in result.stdout
    assert not (sandbox.home / ".bashrc").exists()
    assert not sandbox.user_pip_conf.exists()
    assert not list(sandbox.config.glob("*/*.toml"))
    assert run("history", "--json").json() == []
    assert run("use", "official", "--check").exit_code == 0
    assert pip_index() == OFFICIAL


@pip_default_index
def test_use_fastest_won_by_the_official_index_writes_nothing(run, sandbox, on_path, monkeypatch):
    from mirrorctl.catalog import load_catalog
    from mirrorctl.cli import bench as cli_bench
    from mirrorctl.context import Context

    on_path("pipenv")
    official = load_catalog(Context.from_os()).get("official")
    # the official index is not reachable here: stand in for the bench's verdict only
    monkeypatch.setattr(cli_bench, "pick_fastest", lambda ctx, **kw: official)
    result = run("use", "fastest")
    assert result.exit_code == 0, result.stderr
    assert not (sandbox.home / ".bashrc").exists() and not sandbox.user_pip_conf.exists()
    assert run("history", "--json").json() == []


def test_use_fastest_won_by_the_mirror_in_use_writes_nothing(run, sandbox, servers):
    server = servers.start()
    first = run("use", "fastest", server.url, "--tool", "pip", "--samples", "1", "--json")
    assert first.exit_code == 0, first.stderr
    written = sandbox.user_pip_conf.read_bytes()
    again = run("use", "fastest", server.url.rstrip("/") + "/", "--tool", "pip", "--samples", "1", "--json")
    assert again.exit_code == 0 and again.json()["changed"] is False
    assert sandbox.user_pip_conf.read_bytes() == written
    assert len(run("history", "--json").json()) == 1


def test_a_server_sending_its_page_a_byte_at_a_time_costs_one_timeout(run_cli, sandbox):
    import http.server
    import threading
    import time

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            for _ in range(600):  # ten minutes of a byte a second
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        url = f"http://127.0.0.1:{server.server_address[1]}/simple"
        used = run_cli("use", url, "--tool", "pip", env={"MIRRORCTL_NO_VERIFY": ""})
        assert time.monotonic() - started < 90  # tells a hang from a finish; not a performance bound
        assert used.exit_code == 0 and "no whole answer within 10 s" in used.stderr  # unsure: written, said
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_from_https_to_http_is_refused(run_cli, sandbox):
    from test_team_catalogue import TeamServer

    secure = TeamServer(sandbox.root)
    try:
        port = secure.httpd.server_address[1]
        secure.status, secure.headers = 301, {"Location": f"http://127.0.0.1:{port}/simple/pip/"}
        used = run_cli("use", f"https://127.0.0.1:{port}/idx", "--tool", "pip",
                       env={"PIP_CERT": str(secure.cert), "MIRRORCTL_NO_VERIFY": ""})  # pip's `cert`, as pip
        assert used.exit_code == 2 and "redirect from https to plain http (http://127.0.0.1" in used.stderr
        assert not sandbox.user_pip_conf.exists()
    finally:
        secure.stop()
