"""What each real tool does when the FIRST of two configured indexes fails and the second, a real
pypiserver on 127.0.0.1, has the package: does it install anyway, and at what cost?

Three failures of the first index: it refuses connections (a closed port), it hangs (accepts and
never answers), it answers 503. The tools' own timeouts and retries are lowered so the file runs in
seconds; tests/fallback_servers.py counts the attempts that reach the failing index, so the cost at
the tools' defaults follows (docs/fallbacks.md has the table and the arithmetic). These tests assert
what the tools do today, so they fail when a tool changes its mind.

Set MIRRORCTL_FALLBACK_REPORT=FILE to get every measured run appended there as a JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fallback_servers import FAILURES, ErrorIndex, HangingIndex
from servers import PypiServer, make_wheel

BIN = Path(sys.executable).parent
DEMO = "mirrorctl-demo"
GIVE_UP = 120  # a subprocess timeout that tells a hang from a finish, never a threshold
REPORT = os.environ.get("MIRRORCTL_FALLBACK_REPORT")  # read before the sandbox removes MIRRORCTL_*


def tool(name: str) -> Path:
    return BIN / name


def have(name: str) -> bool:
    return tool(name).exists()


def _record(tool_name: str, failure: str, proc: subprocess.CompletedProcess, seconds: float, attempts,
            **knobs) -> None:
    if REPORT:
        line = {"tool": tool_name, "failure": failure, "exit": proc.returncode if proc else None,
                "seconds": round(seconds, 2), "attempts": attempts, **knobs}
        with open(REPORT, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def timed(args, *, cwd=None, env=None, timeout=GIVE_UP):
    started = time.monotonic()
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, timeout=timeout)
    return proc, time.monotonic() - started


@pytest.fixture
def good(sandbox):
    """The index that works: a real pypiserver with mirrorctl-demo 1.0."""
    packages = sandbox.root / "packages"
    make_wheel(packages)
    with PypiServer(packages, sandbox.root / "pypiserver.log") as server:
        yield server


@pytest.fixture(params=sorted(FAILURES))
def bad(request):
    """The failing first index: refused, hang or 503."""
    with FAILURES[request.param]() as server:
        yield server


# -- pip: index-url first, extra-index-url second ---------------------------------------------------

PIP_TIMEOUT = 2
PIP_RETRIES = {"refused": 2, "hang": 0, "503": 2}  # 2 retries where a retry costs only pip's back-off


def pip_install(sandbox, index: str, extra: list, *, retries: int, tag: str):
    target = sandbox.root / f"target-{tag}"
    args = [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--target", target,
            "--timeout", PIP_TIMEOUT, "--retries", retries, "--index-url", index]
    for url in extra:
        args += ["--extra-index-url", url]
    proc, seconds = timed(args + [DEMO], env={"PIP_CONFIG_FILE": os.devnull})
    return proc, seconds, (target / "mirrorctl_demo" / "__init__.py").exists()


def test_pip_installs_through_extra_index_url_when_the_first_index_fails(sandbox, good, bad):
    retries = PIP_RETRIES[bad.kind]
    proc, seconds, installed = pip_install(sandbox, bad.url, [good.url], retries=retries, tag=bad.kind)
    _record("pip", bad.kind, proc, seconds, bad.attempts, timeout=PIP_TIMEOUT, retries=retries)
    assert proc.returncode == 0 and installed, proc.stderr
    if bad.kind == "refused":
        # urllib3 retries the connection: one WARNING per retry, then pip skips the index
        assert proc.stderr.count("Retrying (Retry(") == retries, proc.stderr
    else:
        # one request per attempt for the project page, retries + 1 attempts, then pip moves on
        assert bad.attempts == retries + 1
    assert DEMO in good.requests()


def test_pip_asks_a_down_fallback_for_every_package_too(sandbox, good):
    """The order does not save anything: with the main index fine and a fall-back hanging, pip still
    waits for the fall-back, because it asks every index for every project."""
    with HangingIndex() as hang:
        proc, seconds, installed = pip_install(sandbox, good.url, [hang.url], retries=0, tag="down-fallback")
        _record("pip", "hang (fall-back, main fine)", proc, seconds, hang.attempts, timeout=PIP_TIMEOUT, retries=0)
        assert proc.returncode == 0 and installed, proc.stderr
        assert hang.attempts == 1


def test_pip_asks_a_healthy_fallback_for_every_package(sandbox, good):
    """All indexes are asked for the project page even when the first one has the project."""
    with ErrorIndex(404) as other:
        proc, seconds, installed = pip_install(sandbox, good.url, [other.url], retries=0, tag="healthy")
        _record("pip", "none (extra index asked anyway)", proc, seconds, other.attempts)
        assert proc.returncode == 0 and installed, proc.stderr
        assert other.paths == [f"/simple/{DEMO}/"]


def test_pip_baseline(sandbox, good):
    proc, seconds, installed = pip_install(sandbox, good.url, [], retries=0, tag="baseline")
    _record("pip", "baseline", proc, seconds, None)
    assert proc.returncode == 0 and installed, proc.stderr


# -- uv: an [[index]] before the default index -----------------------------------------------------

UV_KNOBS = {"UV_HTTP_TIMEOUT": "2", "UV_HTTP_RETRIES": "0"}


def uv_install(sandbox, args, tag, env=None):
    target = sandbox.root / f"uv-target-{tag}"
    env = env or {"UV_NO_CONFIG": "1"}
    proc, seconds = timed([tool("uv"), "pip", "install", "--python", sys.executable, "--target", target,
                           "--no-cache", *args, DEMO], env={**UV_KNOBS, **env})
    return proc, seconds, (target / "mirrorctl_demo" / "__init__.py").exists()


@pytest.mark.skipif(not have("uv"), reason="the real uv is not installed here")
def test_uv_stops_at_a_failing_first_index(sandbox, good, bad):
    """uv asks its indexes in order ([[index]] entries, then the default index) and any error of the
    first one ends the command: it never goes on to the next index, whatever the index-strategy."""
    for strategy in ("first-index", "unsafe-best-match"):
        proc, seconds, installed = uv_install(sandbox, ["--index", bad.url, "--default-index", good.url,
                                                        "--index-strategy", strategy], f"{bad.kind}-{strategy}")
        _record("uv", bad.kind, proc, seconds, bad.attempts, strategy=strategy, timeout=2, retries=0)
        assert proc.returncode != 0 and not installed, proc.stderr
        assert f"Failed to fetch: {bad.url}{DEMO}/" in proc.stderr


@pytest.mark.skipif(not have("uv"), reason="the real uv is not installed here")
def test_uv_ignore_error_codes_goes_on_after_a_503_only(sandbox, good):
    """The one way on: an index's own ``ignore-error-codes`` (uv >= 0.6) skips it on those statuses,
    never on a refused or hanging connection."""
    with ErrorIndex(503) as err:
        config = sandbox.root / "uv-ignore.toml"
        config.write_text(f'[[index]]\nurl = "{err.url}"\nignore-error-codes = [503]\n\n'
                          f'[[index]]\nurl = "{good.url}"\ndefault = true\n')
        proc, seconds, installed = uv_install(sandbox, [], "ignore-503",
                                              env={"UV_CONFIG_FILE": str(config)})
        _record("uv", "503 with ignore-error-codes", proc, seconds, err.attempts)
        assert proc.returncode == 0 and installed, proc.stderr
        assert err.attempts == 1


@pytest.mark.skipif(not have("uv"), reason="the real uv is not installed here")
def test_uv_baseline(sandbox, good):
    proc, seconds, installed = uv_install(sandbox, ["--default-index", good.url], "baseline")
    _record("uv", "baseline", proc, seconds, None)
    assert proc.returncode == 0 and installed, proc.stderr


# -- Poetry: two primary sources -------------------------------------------------------------------

# Poetry's HTTP retries are fixed in its code (6 attempts, 0.5 s x attempt between them) and have no
# setting: the runner below removes only the sleep, so the attempts are still counted.
POETRY_RUNNER = (
    "import sys\n"
    "from poetry.utils.authenticator import Authenticator\n"
    "Authenticator._get_backoff = lambda self, response, attempt: 0.0\n"
    "from poetry.console.application import main\n"
    "sys.argv[0] = 'poetry'\n"
    "sys.exit(main())\n"
)
PYPROJECT = ('[project]\nname = "demo-app"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
             f'dependencies = ["{DEMO}"]\n')


def poetry_lock(sandbox, sources, tag):
    project = sandbox.root / f"poetry-{tag}"
    project.mkdir()
    text = PYPROJECT + "\n[tool.poetry]\npackage-mode = false\n"
    for name, url in sources:
        text += f'\n[[tool.poetry.source]]\nname = "{name}"\nurl = "{url}"\npriority = "primary"\n'
    (project / "pyproject.toml").write_text(text)
    proc, seconds = timed([sys.executable, "-c", POETRY_RUNNER, "--no-interaction", "lock"], cwd=project,
                          env={"POETRY_REQUESTS_TIMEOUT": "1", "POETRY_CACHE_DIR": str(sandbox.root / f"pc-{tag}"),
                               "POETRY_VIRTUALENVS_CREATE": "false"})
    return proc, seconds, (project / "poetry.lock").exists()


@pytest.mark.skipif(not have("poetry"), reason="the real Poetry is not installed here")
def test_poetry_fails_when_its_first_source_fails(sandbox, good, bad):
    proc, seconds, locked = poetry_lock(sandbox, [("first", bad.url), ("second", good.url)], bad.kind)
    _record("poetry", bad.kind, proc, seconds, bad.attempts, timeout=1, backoff="removed")
    assert proc.returncode != 0 and not locked, proc.stdout + proc.stderr
    if bad.kind != "refused":
        assert bad.attempts == 6  # Poetry's fixed retry loop
    assert DEMO not in good.requests()


@pytest.mark.skipif(not have("poetry"), reason="the real Poetry is not installed here")
def test_poetry_baseline(sandbox, good):
    proc, seconds, locked = poetry_lock(sandbox, [("only", good.url)], "baseline")
    _record("poetry", "baseline", proc, seconds, None)
    assert proc.returncode == 0 and locked, proc.stdout + proc.stderr


# -- PDM: two [[tool.pdm.source]] ------------------------------------------------------------------

def _pdm_can_fetch() -> bool:
    """The installed PDM can make HTTP requests (its HTTP cache library must be a version it knows)."""
    if not have("pdm"):
        return False
    proc = subprocess.run([str(tool("python")), "-c", "import pdm.models.session"], capture_output=True,
                          env={**os.environ}, timeout=60)
    return proc.returncode == 0


needs_pdm = pytest.mark.skipif(not _pdm_can_fetch(),
                               reason="no PDM here that can make HTTP requests (pdm.models.session fails to import)")


def pdm_lock(sandbox, sources, tag, *extra, timeout=GIVE_UP):
    project = sandbox.root / f"pdm-{tag}"
    project.mkdir()
    text = PYPROJECT + "\n[tool.pdm]\ndistribution = false\n"
    for name, url in sources:
        text += f'\n[[tool.pdm.source]]\nname = "{name}"\nurl = "{url}"\nverify_ssl = false\n'
    (project / "pyproject.toml").write_text(text)
    env = {"PDM_REQUEST_TIMEOUT": "1", "PDM_CACHE_DIR": str(sandbox.root / f"dc-{tag}"), "PDM_CHECK_UPDATE": "false",
           "PDM_IGNORE_ACTIVE_VENV": "1", "PDM_PYTHON": sys.executable}
    proc, seconds = timed([tool("pdm"), *extra, "lock"], cwd=project, env=env, timeout=timeout)
    return proc, seconds, (project / "pdm.lock").exists()


@needs_pdm
@pytest.mark.parametrize("kind", ["refused", "503"])
def test_pdm_goes_on_after_a_503_but_not_after_a_refused_connection(sandbox, good, kind):
    """PDM (unearth) skips an index that answers an HTTP error, with a warning; a connection error
    ends the command (httpx retries a refused connection 4 times first)."""
    with FAILURES[kind]() as bad:
        # the source named "pypi" replaces PDM's default index, so the failing one comes first
        proc, seconds, locked = pdm_lock(sandbox, [("pypi", bad.url), ("second", good.url)], kind)
        _record("pdm", kind, proc, seconds, bad.attempts, timeout=1)
        if kind == "503":
            assert proc.returncode == 0 and locked, proc.stderr
            assert bad.attempts >= 1  # asked, skipped (a warning that only -v shows), then the next source
        else:
            assert proc.returncode != 0 and not locked
            assert "ConnectError" in proc.stderr or "Connection refused" in proc.stderr


@needs_pdm
def test_pdm_gives_up_on_a_hanging_first_index_only_without_its_http_cache(sandbox, good):
    """With --no-cache the read timeout ends the command (an error, no fall-back). With the HTTP
    cache on (the default) the same hanging index held PDM far past its timeout: this test gives it
    ten times PDM_REQUEST_TIMEOUT and expects it still waiting."""
    with HangingIndex() as hang:
        proc, seconds, locked = pdm_lock(sandbox, [("pypi", hang.url), ("second", good.url)], "hang-nocache",
                                         "--no-cache")
        _record("pdm", "hang (--no-cache)", proc, seconds, hang.attempts, timeout=1)
        assert proc.returncode != 0 and not locked
        assert "ReadTimeout" in proc.stderr or "timed out" in proc.stderr
    with HangingIndex() as hang:
        with pytest.raises(subprocess.TimeoutExpired):
            pdm_lock(sandbox, [("pypi", hang.url), ("second", good.url)], "hang-cache", timeout=10)
        _record("pdm", "hang (HTTP cache on)", None, 10.0, hang.attempts, timeout=1)


@needs_pdm
def test_pdm_baseline(sandbox, good):
    proc, seconds, locked = pdm_lock(sandbox, [("pypi", good.url)], "baseline")
    _record("pdm", "baseline", proc, seconds, None)
    assert proc.returncode == 0 and locked, proc.stderr


# -- pipenv: two [[source]] in the Pipfile ---------------------------------------------------------

@pytest.fixture(scope="module")
def pipenv_venv(tmp_path_factory):
    """One virtualenv for every pipenv run (pipenv lock only resolves; it installs nothing there)."""
    from conftest import make_venv

    return make_venv(tmp_path_factory.mktemp("pipenv") / "venv")


def pipenv_lock(sandbox, venv, sources, tag):
    project = sandbox.root / f"pipenv-{tag}"
    project.mkdir()
    text = "".join(f'[[source]]\nname = "{name}"\nurl = "{url}"\nverify_ssl = false\n\n' for name, url in sources)
    text += f'[packages]\n{DEMO} = "*"\n'
    (project / "Pipfile").write_text(text)
    env = {"VIRTUAL_ENV": str(venv), "PIPENV_VERBOSITY": "-1", "PIPENV_NOSPIN": "1", "PIPENV_YES": "1",
           "PIP_TIMEOUT": "2", "PIP_RETRIES": "0", "PIP_CONFIG_FILE": os.devnull}
    proc, seconds = timed([tool("pipenv"), "lock"], cwd=project, env=env)
    return proc, seconds, (project / "Pipfile.lock").exists()


@pytest.mark.skipif(not have("pipenv"), reason="the real pipenv is not installed here")
def test_pipenv_resolves_from_its_first_source_only(sandbox, good, bad, pipenv_venv):
    """pipenv pins a package without ``index=`` to the first [[source]]: a failing first source is
    "No matching distribution", the second source is never asked."""
    proc, seconds, locked = pipenv_lock(sandbox, pipenv_venv, [("first", bad.url), ("second", good.url)], bad.kind)
    _record("pipenv", bad.kind, proc, seconds, bad.attempts, timeout=2, retries=0)
    assert proc.returncode != 0 and not locked, proc.stdout + proc.stderr
    assert "No matching distribution found for mirrorctl-demo" in proc.stdout + proc.stderr
    assert DEMO not in good.requests()


@pytest.mark.skipif(not have("pipenv"), reason="the real pipenv is not installed here")
def test_pipenv_baseline(sandbox, good, pipenv_venv):
    proc, seconds, locked = pipenv_lock(sandbox, pipenv_venv, [("only", good.url)], "baseline")
    _record("pipenv", "baseline", proc, seconds, None)
    assert proc.returncode == 0 and locked, proc.stdout + proc.stderr
