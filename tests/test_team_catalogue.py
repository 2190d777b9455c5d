"""A team's catalogue (MIRRORCTL_CATALOGUE / --catalogue): a file or an https URL, kept for offline use."""

import http.server
import os
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import pip_config_list

CORP = """
[[mirror]]
name = "corp"
url = "https://pypi.corp.example/simple"
title = "Our own index"
aliases = ["work"]
"""

SHADOWING = """
[[mirror]]
name = "tuna"
url = "https://evil.example/simple"

[[mirror]]
name = "friendly"
url = "https://friendly.example/simple"
aliases = ["tsinghua"]
"""


def names(result):
    return {m["name"]: m for m in result.json()}


def write_team(sandbox, text: str) -> Path:
    path = sandbox.root / "team" / "mirrors.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_a_team_file_adds_mirrors_that_pip_then_uses(run_cli, sandbox):
    team = write_team(sandbox, CORP)
    listed = run_cli("list", "--json", env={"MIRRORCTL_CATALOGUE": str(team)})
    assert listed.exit_code == 0, listed.stderr
    corp = names(listed)["corp"]
    assert corp["source"] == "team" and corp["url"] == "https://pypi.corp.example/simple"
    assert names(listed)["tuna"]["source"] == "builtin"
    used = run_cli("use", "work", "--tool", "pip", env={"MIRRORCTL_CATALOGUE": str(team)})
    assert used.exit_code == 0, used.stderr
    assert pip_config_list()["global.index-url"] == "https://pypi.corp.example/simple"


def test_the_option_names_the_catalogue_too(run_cli, sandbox):
    team = write_team(sandbox, CORP)
    table = run_cli("--catalogue", str(team), "list")
    assert table.exit_code == 0, table.stderr
    assert "corp" in table.stdout and "team" in table.stdout and f"team catalogue: {team}" in table.stdout
    assert "corp" not in run_cli("list").stdout


def test_a_team_entry_may_not_take_over_a_builtin_name_or_alias(run_cli, sandbox):
    team = write_team(sandbox, SHADOWING)
    env = {"MIRRORCTL_CATALOGUE": str(team)}
    listed = run_cli("list", "--json", env=env)
    assert listed.exit_code == 0
    assert names(listed)["tuna"]["url"] == "https://pypi.tuna.tsinghua.edu.cn/simple"
    assert "friendly" not in names(listed)
    assert "left out tuna (tuna); friendly (tsinghua)" in listed.stderr and "team_may_shadow" in listed.stderr
    used = run_cli("use", "tsinghua", "--tool", "pip", env=env)
    assert used.exit_code == 0, used.stderr
    assert pip_config_list()["global.index-url"] == "https://pypi.tuna.tsinghua.edu.cn/simple"
    assert "left out" in used.stderr


def test_the_users_own_config_may_let_the_team_shadow(run_cli, sandbox):
    team = write_team(sandbox, SHADOWING)
    (sandbox.config / "mirrorctl").mkdir(parents=True)
    (sandbox.config / "mirrorctl" / "mirrors.toml").write_text("team_may_shadow = true\n")
    used = run_cli("use", "tuna", "--tool", "pip", env={"MIRRORCTL_CATALOGUE": str(team)})
    assert used.exit_code == 0, used.stderr
    assert pip_config_list()["global.index-url"] == "https://evil.example/simple"


def test_the_users_own_entry_beats_the_teams(run_cli, sandbox):
    team = write_team(sandbox, CORP)
    assert run_cli("add", "corp", "https://mine.example/simple").exit_code == 0
    listed = run_cli("list", "--json", env={"MIRRORCTL_CATALOGUE": str(team)})
    assert names(listed)["corp"]["source"] == "user"
    assert names(listed)["corp"]["url"] == "https://mine.example/simple"


@pytest.mark.parametrize("text, reason", [
    ("[[mirror]\nname = 'x'", "not valid TOML"),
    ("[[mirror]]\nname = 'x'\nurl = 'ftp://x.example/simple'\n", "x"),
])
def test_a_broken_team_catalogue_is_left_out_with_a_warning(run_cli, sandbox, text, reason):
    team = write_team(sandbox, text)
    env = {"MIRRORCTL_CATALOGUE": str(team)}
    used = run_cli("use", "tuna", "--tool", "pip", env=env)
    assert used.exit_code == 0, used.stderr
    assert "team catalogue left out" in used.stderr and reason in used.stderr
    unknown = run_cli("use", "corp", env=env)
    assert unknown.exit_code == 2 and "team catalogue left out" in unknown.stderr


def test_a_missing_team_file_is_named(run_cli, sandbox):
    listed = run_cli("list", env={"MIRRORCTL_CATALOGUE": str(sandbox.root / "nope.toml")})
    assert listed.exit_code == 0
    assert f"{sandbox.root / 'nope.toml'}: no such file" in listed.stderr


# -- over https ---------------------------------------------------------------------

class TeamServer:
    """An https server on 127.0.0.1 (a self-signed certificate, trusted through SSL_CERT_FILE)."""

    def __init__(self, folder: Path):
        self.body = CORP.encode()
        self.status = 200
        self.headers = {}
        self.requests = 0
        self.trickle = 0.0  # seconds between bytes: a server that sends its answer a byte at a time
        self.cert = folder / "cert.pem"
        key = folder / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(self.cert)], check=True, capture_output=True)
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                self.send_response(owner.status)
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                if not owner.trickle:
                    self.wfile.write(owner.body)
                    return
                for byte in owner.body:
                    time.sleep(owner.trickle)
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/mirrors.toml"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def team_server(sandbox):
    server = TeamServer(sandbox.root)
    yield server
    server.stop()


def https_env(server):
    return {"MIRRORCTL_CATALOGUE": server.url, "SSL_CERT_FILE": str(server.cert)}


def kept_copies(sandbox):
    return list((sandbox.state / "mirrorctl" / "team-catalogue").glob("*.toml"))


def test_fetched_once_then_kept_and_used_offline(run_cli, sandbox, team_server):
    env = https_env(team_server)
    first = run_cli("list", "--json", env=env)
    assert first.exit_code == 0, first.stderr
    assert names(first)["corp"]["source"] == "team" and team_server.requests == 1
    [kept] = kept_copies(sandbox)
    assert kept.stat().st_mode & 0o077 == 0  # team lists may hold tokens in URLs
    assert "corp" in names(run_cli("list", "--json", env=env)) and team_server.requests == 1  # fresh: no request
    team_server.stop()
    old = time.time() - 3 * 3600
    os.utime(kept, (old, old))
    offline = run_cli("use", "corp", "--tool", "pip", env=env)
    assert offline.exit_code == 0, offline.stderr
    assert "using the copy fetched 3 h ago" in offline.stderr
    assert pip_config_list()["global.index-url"] == "https://pypi.corp.example/simple"


def test_an_untrusted_certificate_is_refused(run_cli, sandbox, team_server):
    listed = run_cli("list", "--json", env={"MIRRORCTL_CATALOGUE": team_server.url})
    assert listed.exit_code == 0
    assert "corp" not in names(listed) and "team catalogue left out" in listed.stderr
    assert "certificate" in listed.stderr.lower() and not kept_copies(sandbox)


def test_a_redirect_is_not_followed(run_cli, sandbox, team_server):
    team_server.status, team_server.headers = 302, {"Location": "http://169.254.169.254/latest/"}
    listed = run_cli("list", "--json", env=https_env(team_server))
    assert "corp" not in names(listed)
    assert "HTTP 302 (redirect to http://169.254.169.254/latest/ not followed)" in listed.stderr
    assert team_server.requests == 1


def test_a_page_that_is_not_a_catalogue_is_not_kept(run_cli, sandbox, team_server):
    team_server.body = b"<html>sign in</html>"
    listed = run_cli("list", "--json", env=https_env(team_server))
    assert listed.exit_code == 0 and "not valid TOML" in listed.stderr and not kept_copies(sandbox)


def test_plain_http_is_refused(run_cli, sandbox):
    listed = run_cli("list", "--json", env={"MIRRORCTL_CATALOGUE": "http://127.0.0.1:9/mirrors.toml"})
    assert listed.exit_code == 0 and "only https:// URLs are fetched" in listed.stderr


def test_completion_never_asks_the_network(run_cli, sandbox, team_server):
    env = https_env(team_server)
    offered = run_cli("__complete", "bash", "2", "mirrorctl", "use", "", env=env)
    assert offered.exit_code == 0 and team_server.requests == 0
    assert "corp" not in offered.stdout
    assert run_cli("list", env=env).exit_code == 0 and team_server.requests == 1  # now a copy is kept
    offered = run_cli("__complete", "bash", "2", "mirrorctl", "use", "", env=env)
    assert "corp" in offered.stdout.split() and team_server.requests == 1


def test_a_team_entry_is_removed_in_the_team_file_not_here(run_cli, sandbox):
    team = write_team(sandbox, CORP)
    removed = run_cli("remove", "corp", env={"MIRRORCTL_CATALOGUE": str(team)})
    assert removed.exit_code == 2
    assert f"'corp' comes from the team catalogue {team}" in removed.stderr and "did you mean" not in removed.stderr


def test_a_team_entry_with_a_builtin_s_url_or_a_reserved_name_is_left_out(run_cli, sandbox):
    team = write_team(sandbox, """
[[mirror]]
name = "tunax"
url = "https://pypi.tuna.tsinghua.edu.cn/simple/"
conda = "https://evil.example/conda"

[[mirror]]
name = "cache"
url = "https://cache.corp.example/simple"

[[mirror]]
name = "corp"
url = "https://pypi.corp.example/simple"
aliases = ["fastest"]
""")
    env = {"MIRRORCTL_CATALOGUE": str(team)}
    listed = run_cli("list", "--json", env=env)
    assert listed.exit_code == 0
    assert {"tunax", "cache", "corp"}.isdisjoint(names(listed))
    assert "tunax (the URL of tuna)" in listed.stderr
    assert "cache (cache: reserved)" in listed.stderr and "corp (fastest: reserved)" in listed.stderr
    planned = run_cli("use", "https://pypi.tuna.tsinghua.edu.cn/simple", "--tool", "conda", "--dry-run", env=env)
    assert "evil.example" not in planned.stdout  # the built-in tuna's channels, not the team's


def test_a_token_in_the_catalogue_url_is_never_shown(run_cli, sandbox, team_server):
    env = {**https_env(team_server), "MIRRORCTL_CATALOGUE": team_server.url + "?private_token=GLPAT-SECRET&ref=main"}
    team_server.status = 404
    listed = run_cli("list", env=env)
    assert "GLPAT-SECRET" not in listed.stdout + listed.stderr
    assert "?private_token=****&ref=****" in listed.stderr


def test_a_server_sending_a_byte_at_a_time_costs_one_timeout(run_cli, sandbox, team_server):
    team_server.trickle = 1.0  # the catalogue (about 100 bytes) would take 100 s
    started = time.monotonic()
    listed = run_cli("list", "--json", env=https_env(team_server))
    assert listed.exit_code == 0 and "corp" not in names(listed)
    assert "no whole answer within 5 s" in listed.stderr
    assert time.monotonic() - started < 60  # tells a hang from a finish; not a performance bound


@pytest.mark.parametrize("value", ["https://[::1", "https://exa mple.com/x.toml"])
def test_a_malformed_catalogue_url_is_a_warning_not_a_crash(run_cli, sandbox, value):
    listed = run_cli("--catalogue", value, "list")
    assert listed.exit_code == 0, listed.stderr
    assert "team catalogue left out" in listed.stderr and "internal error" not in listed.stderr
