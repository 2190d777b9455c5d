"""`mirrorctl cache`: the real engine (devpi-server) on 127.0.0.1 in front of real pypiservers,
judged by the real pip and uv installing through it."""

from __future__ import annotations

import importlib.util
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import pip_effective, real_pip
from mirrorctl.cache import engine
from mirrorctl.cache.settings import CachePaths, CacheSettings, Upstream
from mirrorctl.context import Context

needs_engine = pytest.mark.skipif(importlib.util.find_spec("devpi_server") is None,
                                  reason="devpi-server (the cache extra) is not installed here")
UV = Path(sys.executable).parent / "uv"


def servers_with(sandbox, label: str, *names: str):
    """A pypiserver on 127.0.0.1 holding a wheel of each name (version 1.0)."""
    from servers import PypiServer, make_wheel

    folder = sandbox.root / f"packages-{label}"
    for name in names:
        make_wheel(folder, name)
    return PypiServer(folder, sandbox.root / f"pypiserver-{label}.log")


def free_port() -> int:
    from servers import free_port as _free_port

    return _free_port()


@pytest.fixture
def cache(run):
    """Starts the cache with `run("cache", "start", ...)`; stopped at the end whatever happened."""
    started = []

    def _start(*args: str):
        result = run("cache", "start", "--port", str(free_port()), *args)
        started.append(True)
        return result

    yield _start
    if started:
        from mirrorctl.cache import control

        control.stop(Context.from_os())


def install(cache_url: str, sandbox, name: str, *, target: str) -> subprocess.CompletedProcess:
    folder = sandbox.root / target
    proc = real_pip("install", "--no-cache-dir", "--index-url", cache_url, "--target", str(folder), name,
                    check=False)
    return proc


def status_json(run) -> dict:
    result = run("cache", "status", "--json", "--timeout", "2")
    assert result.exit_code == 0, result.stderr
    return result.json()


# -- the real engine ------------------------------------------------------------------

@needs_engine
def test_pip_and_uv_install_through_the_cache_and_go_on_when_the_upstream_is_down(run, sandbox, cache):
    with servers_with(sandbox, "up", "alpha", "beta") as upstream:
        result = cache(upstream.url)
        assert result.exit_code == 0, result.stderr
        url = status_json(run)["url"]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/root/cache/+simple/")
        proc = install(url, sandbox, "alpha", target="t1")
        assert proc.returncode == 0, proc.stderr
        assert (sandbox.root / "t1" / "alpha" / "__init__.py").is_file()
        assert "alpha-1.0-py3-none-any.whl" in upstream.requests()  # it came through the cache
        measured = run("bench", "cache", upstream.url, "--package", "alpha", "--samples", "2", "--json")
        assert measured.exit_code == 0, measured.stderr  # the cache, measured beside its upstream
        by_name = {r["name"]: r for r in measured.json()["results"]}
        assert by_name["cache"]["ok"] and by_name["cache"]["url"] == url
        if UV.exists():
            proc = subprocess.run([str(UV), "pip", "install", "--no-cache", "--index-url", url, "--target",
                                   str(sandbox.root / "uv-t"), "beta"], capture_output=True, text=True,
                                  timeout=300, stdin=subprocess.DEVNULL)
            assert proc.returncode == 0, proc.stderr
            assert (sandbox.root / "uv-t" / "beta" / "__init__.py").is_file()
        up = status_json(run)
        assert up["up"] and up["running"] and up["upstreams"][0]["up"] is True
        assert up["files"] >= 1 and up["size_bytes"] > 0
    # the upstream is gone: what the cache holds still installs
    down = status_json(run)
    assert down["upstreams"][0]["up"] is False and down["upstreams_in_use"] == []
    assert any("no upstream mirror answers" in w for w in down["warnings"])
    proc = install(url, sandbox, "alpha", target="t2")
    assert proc.returncode == 0, proc.stderr
    assert (sandbox.root / "t2" / "alpha" / "__init__.py").is_file()
    assert status_json(run)["hits"] >= 1
    # and a package it never held does not (nothing is invented)
    assert install(url, sandbox, "gamma", target="t3").returncode != 0


@needs_engine
def test_first_upstream_down_the_next_one_serves_new_packages(run, sandbox, cache):
    with servers_with(sandbox, "a", "alpha", "gamma") as first, servers_with(sandbox, "b", "alpha", "gamma") as second:
        result = cache(first.url, second.url)
        assert result.exit_code == 0, result.stderr
        before = status_json(run)
        url = before["url"]
        names = [u["name"] for u in before["upstreams"]]
        assert names == [f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"]
        assert before["upstreams_in_use"] == names
        assert install(url, sandbox, "alpha", target="t1").returncode == 0
        first.__exit__(None, None, None)  # the first mirror goes down
        after = status_json(run)
        assert [u["up"] for u in after["upstreams"]] == [False, True]
        assert after["upstreams_in_use"] == [names[1]]
        assert any(f"{names[0]} down" in w for w in after["warnings"])
        text = run("cache", "status", "--timeout", "2")
        assert "down:" in text.stdout and "yes" in text.stdout
        proc = install(url, sandbox, "gamma", target="t2")  # never asked for before
        assert proc.returncode == 0, proc.stderr
        assert (sandbox.root / "t2" / "gamma" / "__init__.py").is_file()
        assert "gamma-1.0-py3-none-any.whl" in second.requests()
        assert install(url, sandbox, "alpha", target="t3").returncode == 0


@needs_engine
def test_a_new_user_starts_uses_installs_stops_and_undoes(run_cli, sandbox, index):
    port = str(free_port())
    started = run_cli("cache", "start", index.url, "--port", port)
    try:
        assert started.exit_code == 0, started.stderr
        assert "mirrorctl use cache" in started.stdout
        used = run_cli("use", "cache", "--tool", "pip")
        assert used.exit_code == 0, used.stderr
        url = f"http://127.0.0.1:{port}/root/cache/+simple/"
        assert pip_effective("install")["install"]["index_url"] == url  # the real pip reads it back
        proc = real_pip("install", "--no-cache-dir", "--target", str(sandbox.root / "t"), "mirrorctl-demo")
        assert (sandbox.root / "t" / "mirrorctl_demo").is_dir(), proc.stdout
        assert "mirrorctl_demo-1.0-py3-none-any.whl" in index.requests()
    finally:
        stopped = run_cli("cache", "stop")
    assert stopped.exit_code == 0 and "stopped" in stopped.stdout, stopped.stderr
    assert run_cli("cache", "status", "--json", "--no-check").json()["up"] is False
    undone = run_cli("undo")
    assert undone.exit_code == 0, undone.stderr
    assert pip_effective("install")["install"]["index_url"] != url
    assert not sandbox.user_pip_conf.exists()
    # stopped, `use cache` says so and changes nothing
    again = run_cli("use", "cache")
    assert again.exit_code == 2 and "not running" in again.stderr and "cache start" in again.stderr
    assert not sandbox.user_pip_conf.exists()


def _bindable(host: str) -> bool:
    try:
        with socket.socket() as sock:
            sock.bind((host, 0))
        return True
    except OSError:
        return False


@needs_engine
@pytest.mark.skipif(not _bindable("127.0.0.2"), reason="127.0.0.2 cannot be bound here")
def test_bound_off_loopback_the_admin_has_a_password_and_nobody_uploads(run, sandbox, cache, index):
    import httpx

    result = cache(index.url, "--host", "127.0.0.2")
    assert result.exit_code == 0, result.stderr
    assert "127.0.0.2" in result.stderr and "admin password" in result.stderr  # the warning
    paths = CachePaths.of(Context.from_os())
    assert stat.S_IMODE(paths.password.stat().st_mode) == 0o600 and len(paths.password.read_text().strip()) >= 24
    base = status_json(run)["url"].split("/root/")[0]
    assert base.startswith("http://127.0.0.2:")
    with httpx.Client(timeout=10, headers={"Accept": "application/json"}) as http:
        assert http.post(f"{base}/+login", json={"user": "root", "password": ""}).status_code == 401
        # nobody may open an account (and so an index of their own to upload to)
        assert http.put(f"{base}/mallory", json={"password": "x"}).status_code in (401, 403)
        config = http.get(f"{base}/root/cache").json()["result"]
        assert config["acl_upload"] == [] and config["acl_toxresult_upload"] == []
        upload = http.post(f"{base}/root/cache/", data={":action": "file_upload", "name": "evil", "version": "1"},
                           files={"content": ("evil-1.tar.gz", b"x")})
        assert upload.status_code in (401, 403)
        login = http.post(f"{base}/+login", json={"user": "root", "password": paths.password.read_text().strip()})
        assert login.status_code == 200  # the admin password works
    # the cache still installs from there
    proc = install(status_json(run)["url"], sandbox, "mirrorctl-demo", target="t")
    assert proc.returncode == 0, proc.stderr


@needs_engine
def test_a_port_already_taken_is_said_before_starting(run, sandbox):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        result = run("cache", "start", "https://pypi.corp.example/simple", "--port", str(port))
    assert result.exit_code == 1
    assert f"already listens on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert engine.running_pid(CachePaths.of(Context.from_os())) is None


# -- without the engine running ---------------------------------------------------------

def test_status_and_use_before_any_cache(run, sandbox):
    data = status_json(run)
    assert data["configured"] is False and data["up"] is False and data["url"] is None
    assert "no local cache yet" in run("cache", "status").stdout
    used = run("use", "cache")
    assert used.exit_code == 2 and "no local cache yet" in used.stderr
    measured = run("bench", "cache")
    assert measured.exit_code == 2 and "no local cache yet" in measured.stderr
    assert not sandbox.user_pip_conf.exists()
    assert run("cache", "stop").stdout.strip() == "the cache was not running"


def test_without_the_engine_start_names_the_extra(run, sandbox, monkeypatch):
    monkeypatch.setattr(engine, "available", lambda: False)
    result = run("cache", "start")
    assert result.exit_code == 2
    assert "devpi-server" in result.stderr and "pymirrorctl[cache]" in result.stderr


def test_generated_engine_config_is_locked_down(tmp_path):
    paths = CachePaths(tmp_path / "cache")
    lan = CacheSettings(host="0.0.0.0", port=3141, upstreams=[Upstream("a", "https://a.example/simple/"),
                                                                 Upstream("b", "https://b.example/simple/")])
    config = engine.server_config(lan, paths)
    assert config["restrict-modify"] == "root" and config["host"] == "0.0.0.0"
    assert config["secretfile"] == str(paths.secret)
    index = engine.cache_index(lan)
    assert index["acl_upload"] == [] and index["acl_toxresult_upload"] == []
    assert index["bases"] == [u.index for u in lan.upstreams]  # in the order given
    assert engine.cache_index(CacheSettings(uploads=True))["acl_upload"] == ["root"]
    assert not lan.loopback and CacheSettings().loopback
    assert lan.index_url == "http://127.0.0.1:3141/root/cache/+simple/"  # a wildcard is reached on loopback
    text = engine.config_text(config)
    assert "{" not in text and '  restrict-modify: "root"' in text and "  port: 3141" in text
    from mirrorctl.cache.control import exposure_warnings

    assert exposure_warnings(lan, paths) and not exposure_warnings(CacheSettings(), paths)


def test_service_needs_a_set_up_cache_then_prints_a_unit(run, sandbox):
    result = run("cache", "service")
    assert result.exit_code == 2 and "cache start" in result.stderr
    ctx = Context.from_os()
    paths = CachePaths.of(ctx)
    paths.server.mkdir(parents=True)
    (paths.server / ".nodeinfo").write_text("{}")
    from mirrorctl.cache.settings import write_settings

    write_settings(paths, CacheSettings(port=4000))
    unit = run("cache", "service", "systemd")
    assert unit.exit_code == 0, unit.stderr
    assert "[Service]" in unit.stdout and f"-c {paths.config}" in unit.stdout
    assert "WantedBy=default.target" in unit.stdout
    box = run("cache", "service", "container")
    assert box.exit_code == 0 and "--publish 127.0.0.1:4000:3141" in box.stdout
    assert "--restrict-modify root" in box.stdout and f"{paths.root}:" in box.stdout
    assert run("cache", "service", "launchd").exit_code == 2


def test_the_cache_for_status_and_use(sandbox):
    from mirrorctl import cache
    from mirrorctl.cache.settings import write_settings

    ctx = Context.from_os()
    assert cache.catalog_entry(ctx) is None and cache.index_state(ctx, "http://x/") is None
    paths = CachePaths.of(ctx)
    paths.root.mkdir(parents=True)
    settings = CacheSettings(port=free_port())
    write_settings(paths, settings)
    entry = cache.catalog_entry(ctx)
    assert entry.name == "cache" and entry.url == settings.index_url
    state = cache.index_state(ctx, settings.index_url.rstrip("/"))
    assert state == {"name": "cache", "url": settings.index_url, "up": False}
    assert "not running" in cache.status_warning(ctx, settings.index_url)
    assert cache.index_state(ctx, "https://pypi.org/simple/") is None
    with pytest.raises(Exception) as info:
        cache.resolve(ctx)
    assert "not running" in str(info.value)


def test_a_broken_settings_file_is_named(run, sandbox):
    paths = CachePaths.of(Context.from_os())
    paths.root.mkdir(parents=True)
    paths.settings.write_text("[not json")
    result = run("cache", "status")
    assert result.exit_code == 4 and str(paths.settings) in result.stderr and "hint:" in result.stderr


class _Answering503:
    """An index that answers every request 503 (a mirror being overloaded)."""

    def __enter__(self):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple/"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@needs_engine
def test_a_first_upstream_answering_503_is_passed_over(run, sandbox, cache):
    with _Answering503() as busy, servers_with(sandbox, "b", "gamma") as second:
        result = cache(busy.url, second.url)
        assert result.exit_code == 0, result.stderr
        data = status_json(run)
        assert [u["up"] for u in data["upstreams"]] == [False, True] and data["upstreams"][0]["http_status"] == 503
        proc = install(data["url"], sandbox, "gamma", target="t")
        assert proc.returncode == 0, proc.stderr


@needs_engine
def test_a_first_upstream_that_hangs_costs_its_timeout_not_the_install(run, sandbox, cache):
    """An upstream that accepts connections and never answers: the engine gives up on it after
    --upstream-timeout and goes on with the next."""
    with socket.socket() as hole, servers_with(sandbox, "b", "gamma") as second:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)  # connections complete in the backlog and are never answered
        hanging = f"http://127.0.0.1:{hole.getsockname()[1]}/simple/"
        result = cache(hanging, second.url, "--upstream-timeout", "2")
        assert result.exit_code == 0, result.stderr
        data = status_json(run)
        assert [u["up"] for u in data["upstreams"]] == [False, True]
        assert "no answer within" in data["upstreams"][0]["error"]
        proc = install(data["url"], sandbox, "gamma", target="t")
        assert proc.returncode == 0, proc.stderr
        assert "gamma-1.0-py3-none-any.whl" in second.requests()


def test_status_names_the_cache_and_says_when_it_is_down(run, sandbox):
    """ops.status's hook (mirrorctl.cache.mark_tools): the tools pointed at the cache show mirror
    "cache", and a warning while it does not listen."""
    from mirrorctl import ops
    from mirrorctl.cache import mark_tools
    from mirrorctl.cache.settings import write_settings

    ctx = Context.from_os()
    paths = CachePaths.of(ctx)
    paths.root.mkdir(parents=True)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        settings = CacheSettings(port=port)
        write_settings(paths, settings)
        assert run("use", settings.index_url, "--tool", "pip").exit_code == 0
        report = ops.status(ctx)  # status calls mark_tools itself
        pip = next(t for t in report.tools if t.tool == "pip")
        assert pip.mirror == "cache" and any("not running" in w for w in report.warnings)
        down = mark_tools(ctx, report.tools)
        assert pip.mirror == "cache" and len(down) == 1 and "not running" in down[0]
        listener.listen(1)  # now something answers on the cache's port
        report = ops.status(ctx)
        assert mark_tools(ctx, report.tools) == []
        assert next(t for t in report.tools if t.tool == "pip").mirror == "cache"
    assert run("use", "https://pypi.org/simple/", "--tool", "pip").exit_code == 0
    other = ops.status(ctx)
    assert mark_tools(ctx, other.tools) == [] and next(t for t in other.tools if t.tool == "pip").mirror != "cache"


def test_cache_json_masks_an_upstream_s_password(run, sandbox):
    from mirrorctl.cache.settings import write_settings

    paths = CachePaths.of(Context.from_os())
    paths.root.mkdir(parents=True)
    secret = "http://bob:Sekr1tPW@127.0.0.1:9/good/simple"
    write_settings(paths, CacheSettings(port=free_port(), upstreams=(Upstream("corp", secret),)))
    shown = run("cache", "status", "--json")
    assert "Sekr1tPW" not in shown.stdout + shown.stderr
    assert shown.json()["upstreams"][0]["url"] == "http://bob:****@127.0.0.1:9/good/simple"


@pytest.mark.parametrize("host", ["0.0.0.0:80", "http://x", "a b", "[::1"])
def test_a_bad_host_is_a_usage_error_before_anything_starts(run, sandbox, host, monkeypatch):
    monkeypatch.setattr(engine, "require", lambda: None)  # the check comes first, engine or not
    started = run("cache", "start", "--host", host, "--port", str(free_port()))
    assert started.exit_code == 2 and "bad --host" in started.stderr and "internal error" not in started.stderr
    assert not CachePaths.of(Context.from_os()).settings.exists()


def test_good_hosts_are_taken():
    from mirrorctl.cache.control import valid_host

    assert all(valid_host(h) for h in ("127.0.0.1", "0.0.0.0", "::1", "[::1]", "cache.lan", "host-1.corp.example"))


# -- upstreams measured: `cache start fastest [NAMES]`, and the first start with none named -------

AN_HOUR = 1200  # serials: about an hour of the official index's events


def test_fastest_upstreams_are_the_fresh_ones_fastest_first(sandbox):
    from bench_servers import Behaviour, LoopbackServers
    from mirrorctl.cache.control import fastest_upstreams

    with LoopbackServers() as pool:
        slow = pool.start(Behaviour(delay=0.25, serial=25_000_000, serial_in="header"))
        fast = pool.start(Behaviour(delay=0.02, serial=25_000_000, serial_in="header"))
        behind = pool.start(Behaviour(delay=0.0, serial=25_000_000 - AN_HOUR, serial_in="header"))
        down = f"http://127.0.0.1:{free_port()}/simple"
        chosen = fastest_upstreams(Context.from_os(), [slow.url, behind.url, down, fast.url], samples=2)
    assert [u.url for u in chosen] == [fast.url, slow.url]  # the stale one is fastest, and left out


def test_the_first_start_with_no_mirror_named_measures(run, sandbox, monkeypatch):
    from mirrorctl.cache import control

    asked = []

    def measured(ctx, names, **options):
        asked.append(list(names))
        raise control.UsageError("stop here")  # before any engine is started

    monkeypatch.setattr(engine, "require", lambda: None)
    monkeypatch.setattr(control, "fastest_upstreams", measured)
    assert run("cache", "start", "--port", str(free_port())).exit_code == 2
    assert run("cache", "start", "fastest", "tuna", "aliyun", "--port", str(free_port())).exit_code == 2
    assert asked == [[], ["tuna", "aliyun"]]


@pytest.mark.parametrize("seconds", ["-1", "0", "61"])
def test_status_refuses_a_timeout_out_of_range(run, sandbox, seconds):
    shown = run("cache", "status", "--timeout", seconds)
    assert shown.exit_code == 2 and "bad --timeout" in shown.stderr
