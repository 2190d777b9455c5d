"""Poetry: a [[tool.poetry.source]] in the project's pyproject.toml, judged by the real Poetry."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mirrorctl.catalog import Mirror
from mirrorctl.targets import poetry
from servers import PypiServer, make_wheel

POETRY = Path(sys.executable).parent / "poetry"
TUNA = "https://pypi.tuna.tsinghua.edu.cn/simple"
ALIYUN = "https://mirrors.aliyun.com/pypi/simple"

pytestmark = pytest.mark.skipif(not POETRY.exists(), reason="the real Poetry is not installed here")

PROJECT = (
    "# the demo app\n"
    "[project]\n"
    'name = "demo"\n'
    'version = "0.1.0"\n'
    'requires-python = ">=3.9"\n'
    "dependencies = []\n"
    "\n"
    "[tool.poetry]\n"
    "package-mode = false  # an application\n"
    "\n"
    "# our private index, for internal packages only\n"
    "[[tool.poetry.source]]\n"
    'name = "private"\n'
    'url = "https://private.example/simple"\n'
    'priority = "explicit"\n'
    "\n"
    "[tool.black]\n"
    "line-length = 100\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def real_poetry(*args, cwd, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(POETRY), "--no-interaction", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "POETRY_VIRTUALENVS_IN_PROJECT": "false"},
                          stdin=subprocess.DEVNULL, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"poetry {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def poetry_sources(cwd) -> list:
    """`poetry source show`, parsed: [{"name": ..., "url": ..., "priority": ...}, ...]."""
    out, current = [], None
    for line in real_poetry("source", "show", cwd=cwd).stdout.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key not in ("name", "url", "priority"):
            continue
        if key == "name":
            current = {}
            out.append(current)
        current[key] = value
    return out


@pytest.fixture
def project(sandbox) -> Path:
    return sandbox.root / "proj"


def use(run, project, spec, *extra):
    return run("use", spec, "--tool", "poetry", "--scope", "project", "--project", str(project), *extra)


def test_use_adds_a_primary_source_real_poetry_lists_it(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", PROJECT)
    result = use(run, project, "tuna")
    assert result.exit_code == 0, result.stderr
    assert pyproject.read_text() == PROJECT.replace(
        'priority = "explicit"\n\n',
        'priority = "explicit"\n\n'
        f'[[tool.poetry.source]]\nname = "mirrorctl"\nurl = "{TUNA}"\npriority = "primary"\n\n')
    assert poetry_sources(project) == [
        {"name": "private", "url": "https://private.example/simple", "priority": "explicit"},
        {"name": "mirrorctl", "url": TUNA, "priority": "primary"},
    ]
    st = run("status", "--tool", "poetry", "--project", str(project), "--json").json()["tools"][0]
    assert st["mirror"] == "tuna" and st["origin"]["section"] == "tool.poetry.source mirrorctl"


def test_use_again_replaces_its_own_source(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", PROJECT)
    assert use(run, project, "tuna").exit_code == 0
    assert use(run, project, "aliyun").exit_code == 0
    assert pyproject.read_text().count('name = "mirrorctl"') == 1
    assert [s["url"] for s in poetry_sources(project)] == ["https://private.example/simple", ALIYUN]


def test_project_without_tool_poetry_table_round_trips(run, sandbox, project):
    original = '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
    pyproject = write(project / "pyproject.toml", original)
    assert use(run, project, "tuna").exit_code == 0
    assert pyproject.read_text() == original + (
        f'\n[[tool.poetry.source]]\nname = "mirrorctl"\nurl = "{TUNA}"\npriority = "primary"\n')
    assert poetry_sources(project) == [{"name": "mirrorctl", "url": TUNA, "priority": "primary"}]
    result = run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project))
    assert result.exit_code == 0, result.stderr
    assert pyproject.read_text() == original


def test_reset_removes_only_mirrorctl_s_source(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", PROJECT)
    assert use(run, project, "tuna").exit_code == 0
    assert run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == PROJECT
    assert [s["name"] for s in poetry_sources(project)] == ["private"]


def test_idempotent_dry_run_undo(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", PROJECT)
    dry = use(run, project, "tuna", "--dry-run")
    assert dry.exit_code == 0 and '+name = "mirrorctl"' in dry.stdout
    assert pyproject.read_text() == PROJECT
    assert use(run, project, "tuna").exit_code == 0
    first = pyproject.read_bytes()
    again = use(run, project, "tuna")
    assert again.exit_code == 0 and "already" in again.stdout and pyproject.read_bytes() == first
    assert len(run("history", "--json").json()) == 1
    assert run("undo").exit_code == 0
    assert pyproject.read_text() == PROJECT


def test_a_subfolder_configures_the_project_poetry_finds(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", PROJECT)
    sub = project / "src" / "demo"
    sub.mkdir(parents=True)
    assert use(run, sub, "tuna").exit_code == 0
    assert TUNA in pyproject.read_text() and not (sub / "pyproject.toml").exists()
    assert [s["name"] for s in poetry_sources(sub)] == ["private", "mirrorctl"]


GUIDE = (
    '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.9"\ndependencies = []\n\n'
    "[tool.poetry]\npackage-mode = false\n\n"
    "# from the mirror guide\n"
    '[[tool.poetry.source]]\nname = "tsinghua"\n'
    f'url = "{TUNA}"\npriority = "primary"\n'
)


def poetry_status(run, project) -> dict:
    result = run("status", "--tool", "poetry", "--project", str(project), "--json")
    assert result.exit_code == 0, result.stderr
    return result.json()["tools"][0]


def test_a_guide_written_primary_source_is_no_longer_first_and_check_tells(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", GUIDE)
    assert use(run, project, "aliyun", "--check").exit_code == 3  # `use X --check || use X` works
    assert pyproject.read_text() == GUIDE
    result = use(run, project, "aliyun")
    assert result.exit_code == 0, result.stderr
    assert "will still use" not in result.stderr
    assert "tsinghua" in result.stdout  # the note: Poetry searches it too
    assert pyproject.read_text() == GUIDE.replace(
        "# from the mirror guide\n",
        f'[[tool.poetry.source]]\nname = "mirrorctl"\nurl = "{ALIYUN}"\npriority = "primary"\n\n'
        "# from the mirror guide\n")
    assert poetry_sources(project) == [
        {"name": "mirrorctl", "url": ALIYUN, "priority": "primary"},
        {"name": "tsinghua", "url": TUNA, "priority": "primary"},
    ]
    st = poetry_status(run, project)
    assert st["mirror"] == "aliyun" and st["extra_index_urls"] == [TUNA]
    assert use(run, project, "aliyun", "--check").exit_code == 0
    assert use(run, project, "ustc", "--check").exit_code == 3
    assert run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == GUIDE


def test_a_primary_source_of_the_user_that_came_first_now_comes_second(run, sandbox, project):
    original = ('[project]\nname = "demo"\nversion = "0"\n\n'
                '[[tool.poetry.source]]\nname = "corp"\nurl = "https://corp.example/simple"\n')
    pyproject = write(project / "pyproject.toml", original)
    result = use(run, project, "tuna")
    assert result.exit_code == 0 and "will still use" not in result.stderr
    assert [s["name"] for s in poetry_sources(project)] == ["mirrorctl", "corp"]
    st = poetry_status(run, project)
    assert st["index_url"] == TUNA and st["extra_index_urls"] == ["https://corp.example/simple"]
    assert run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == original


def test_a_mirrorctl_source_behind_another_primary_one_is_moved_first(run, sandbox, project):
    # as an earlier mirrorctl wrote it: appended after the user's primary source
    pyproject = write(project / "pyproject.toml",
                      '[project]\nname = "demo"\nversion = "0"\n\n'
                      f'[[tool.poetry.source]]\nname = "tsinghua"\nurl = "{TUNA}"\n\n'
                      f'[[tool.poetry.source]]\nname = "mirrorctl"\nurl = "{ALIYUN}"\npriority = "primary"\n')
    assert poetry_status(run, project)["index_url"] == TUNA
    assert use(run, project, "aliyun", "--check").exit_code == 3
    assert use(run, project, "aliyun").exit_code == 0
    assert pyproject.read_text() == (
        '[project]\nname = "demo"\nversion = "0"\n\n'
        f'[[tool.poetry.source]]\nname = "mirrorctl"\nurl = "{ALIYUN}"\npriority = "primary"\n\n'
        f'[[tool.poetry.source]]\nname = "tsinghua"\nurl = "{TUNA}"\n')
    assert [s["name"] for s in poetry_sources(project)] == ["mirrorctl", "tsinghua"]
    assert use(run, project, "aliyun", "--check").exit_code == 0


def test_the_pypi_source_and_supplemental_ones(run, sandbox, project):
    original = ('[project]\nname = "demo"\nversion = "0"\n\n'
                '[[tool.poetry.source]]\nname = "extra"\nurl = "https://extra.example/simple"\n'
                'priority = "supplemental"\n\n'
                '[[tool.poetry.source]]\nname = "PyPI"\npriority = "primary"\n')
    write(project / "pyproject.toml", original)
    assert use(run, project, "tuna").exit_code == 0
    assert [s["name"] for s in poetry_sources(project)] == ["extra", "mirrorctl", "PyPI"]
    st = poetry_status(run, project)
    assert st["mirror"] == "tuna"
    assert st["extra_index_urls"] == ["https://pypi.org/simple", "https://extra.example/simple"]


def test_a_source_named_mirrorctl_in_another_case_is_ours(run, sandbox, project):
    pyproject = write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n\n'
                                                  f'[[tool.poetry.source]]\nname = "MirrorCtl"\nurl = "{TUNA}"\n')
    assert use(run, project, "aliyun").exit_code == 0
    assert pyproject.read_text().count("[[tool.poetry.source]]") == 1
    assert poetry_sources(project) == [{"name": "MirrorCtl", "url": ALIYUN, "priority": "primary"}]
    assert run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project)).exit_code == 0
    assert "tool.poetry.source" not in pyproject.read_text()


@pytest.mark.parametrize("sources, key", [
    ("[[tool.poetry.source]]\nname = \"a\"\nurl = \"https://a.example/simple\"\npriority = \"default\"\n",
     "tool.poetry.source[0].priority"),
    ("[[tool.poetry.source]]\nname = \"a\"\nurl = \"https://a.example/simple\"\npriority = \"Primary\"\n",
     "tool.poetry.source[0].priority"),
    ("[[tool.poetry.source]]\nname = \"a\"\nurl = 3\n", "tool.poetry.source[0].url"),
    ("[[tool.poetry.source]]\nname = \"a\"\n", "tool.poetry.source[0].url"),
    ("[[tool.poetry.source]]\nurl = \"https://a.example/simple\"\n", "tool.poetry.source[0].name"),
    ("[[tool.poetry.source]]\nname = \"pypi\"\nurl = \"https://a.example/simple\"\n", "tool.poetry.source[0].url"),
    ("[tool.poetry]\nsource = 3\n", "tool.poetry.source"),
    ("[tool.poetry.source]\nname = \"a\"\nurl = \"https://a.example/simple\"\n", "tool.poetry.source"),
    ("[[tool.poetry.source]]\nname = \"a\"\nurl = \"https://a.example/simple\"\n\n"
     "[[tool.poetry.source]]\nname = \"A\"\nurl = \"https://b.example/simple\"\n", "tool.poetry.source[1].name"),
])
def test_sources_poetry_refuses_are_refused_in_one_line_naming_file_and_key(run, sandbox, project, sources, key):
    content = '[project]\nname = "demo"\nversion = "0"\n\n' + sources
    pyproject = write(project / "pyproject.toml", content)
    assert real_poetry("source", "show", cwd=project, check=False).returncode != 0  # Poetry refuses it too
    for command in (("use", "tuna"), ("reset",)):
        result = run(*command, "--tool", "poetry", "--scope", "project", "--project", str(project))
        assert result.exit_code == 4, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(pyproject) in lines[0] and f"{key} " in lines[0], result.stderr
    assert pyproject.read_text() == content and run("history", "--json").json() == []
    status = run("status", "--tool", "poetry", "--project", str(project))
    assert status.exit_code == 4 and key in status.stderr


def test_real_poetry_locks_against_the_mirror_not_the_guide_s_source(run, sandbox, project):
    packages = sandbox.root / "packages"
    make_wheel(packages)
    with PypiServer(packages, sandbox.root / "a.log") as ours, PypiServer(packages, sandbox.root / "b.log") as guide:
        pyproject = write(project / "pyproject.toml",
                          '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
                          'dependencies = ["mirrorctl-demo"]\n\n[tool.poetry]\npackage-mode = false\n\n'
                          f'[[tool.poetry.source]]\nname = "guide"\nurl = "{guide.url}"\n')
        assert use(run, project, ours.url).exit_code == 0
        assert use(run, project, ours.url, "--check").exit_code == 0
        real_poetry("lock", cwd=project)
        assert "/simple/mirrorctl-demo/" in ours.requests()
    lock = (project / "poetry.lock").read_text()
    assert 'reference = "mirrorctl"' in lock and ours.url.rstrip("/") in lock and guide.url not in lock
    assert "guide" in pyproject.read_text()


def test_status_without_sources_and_with_the_pypi_source(run, sandbox, project):
    project.mkdir()
    st = run("status", "--tool", "poetry", "--project", str(project), "--json").json()["tools"][0]
    assert st["index_url"] is None and st["error"] is None  # no project: nothing to report
    write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n\n[tool.uv]\n')
    st = run("status", "--tool", "poetry", "--project", str(project), "--json").json()["tools"][0]
    assert st["index_url"] is None  # not a Poetry project
    write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n\n[build-system]\n'
                                      'requires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n')
    st = run("status", "--tool", "poetry", "--project", str(project), "--json").json()["tools"][0]
    assert st["index_url"] == "https://pypi.org/simple" and st["origin"]["kind"] == "default"
    assert poetry_sources(project) == []
    assert "PyPI is implicitly enabled" in real_poetry("source", "show", cwd=project).stdout
    write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n\n'
                                      '[[tool.poetry.source]]\nname = "PyPI"\npriority = "primary"\n')
    st = run("status", "--tool", "poetry", "--project", str(project), "--json").json()["tools"][0]
    assert st["mirror"] == "official" and st["origin"]["kind"] == "file"
    assert poetry_sources(project)[0]["name"] == "PyPI"


def test_no_pyproject_is_a_usage_error(run, sandbox, project):
    project.mkdir()
    result = use(run, project, "tuna")
    assert result.exit_code == 2 and "no pyproject.toml" in result.stderr and "--project" in result.stderr
    assert list(project.iterdir()) == []
    result = run("use", "tuna", "--tool", "poetry")
    assert result.exit_code == 2 and "poetry has no user scope" in result.stderr


def test_bad_toml_is_refused_in_one_line_and_nothing_is_written(run, sandbox, project):
    content = '[project]\nname = "demo"\n[tool.poetry\n'
    pyproject = write(project / "pyproject.toml", content)
    result = use(run, project, "tuna")
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(pyproject) in lines[0] and "line 3" in lines[0]
    assert pyproject.read_text() == content and run("history", "--json").json() == []


def test_lock_note(run, sandbox, project):
    write(project / "pyproject.toml", PROJECT)
    write(project / "poetry.lock", "# lock\n")
    result = use(run, project, "tuna")
    assert "poetry.lock" in result.stdout and "poetry lock" in result.stdout


def test_in_use_only_for_poetry_projects_not_for_poetry_on_path(run, sandbox, project, on_path):
    write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0"\n')
    result = run("use", "tuna", "--scope", "project", "--project", str(project), "--json")
    assert result.exit_code == 2 or "poetry" not in result.json()["tools"]
    write(project / "pyproject.toml", PROJECT)
    assert "poetry" in run("use", "tuna", "--scope", "project", "--project", str(project), "--json").json()["tools"]
    other = sandbox.root / "other"
    write(other / "pyproject.toml", '[project]\nname = "other"\nversion = "0"\n')
    on_path("poetry")  # installed, but this project is not Poetry's
    result = run("use", "tuna", "--scope", "project", "--project", str(other))
    assert result.exit_code == 2 and "no tool in use at project scope" in result.stderr
    write(other / "poetry.lock", "# locked by poetry\n")
    assert "poetry" in run("use", "tuna", "--scope", "project", "--project", str(other), "--json").json()["tools"]
    assert poetry.environment(Mirror(name="tuna", url=TUNA)) == {}


def test_real_poetry_locks_against_the_mirror(run, sandbox, project):
    packages = sandbox.root / "packages"
    make_wheel(packages)
    write(project / "pyproject.toml", '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
                                      'dependencies = ["mirrorctl-demo"]\n\n[tool.poetry]\npackage-mode = false\n')
    with PypiServer(packages, sandbox.root / "pypiserver.log") as index:
        assert use(run, project, index.url).exit_code == 0
        real_poetry("lock", cwd=project)
        assert "/simple/mirrorctl-demo/" in index.requests()
    lock = (project / "poetry.lock").read_text()
    assert 'name = "mirrorctl-demo"' in lock and "mirrorctl_demo-1.0-py3-none-any.whl" in lock


def test_tool_poetry_split_in_parts(run, sandbox, project):
    original = ('[tool.poetry]\nname = "demo"\nversion = "0.1.0"\ndescription = ""\nauthors = []\npackage-mode = false\n\n'
                '[tool.black]\nline-length = 100\n\n'
                '[tool.poetry.dependencies]\npython = "^3.9"\n')
    pyproject = write(project / "pyproject.toml", original)
    assert use(run, project, "tuna").exit_code == 0
    assert pyproject.read_text() == original.replace(
        "package-mode = false\n\n",
        f'package-mode = false\n\n[[tool.poetry.source]]\nname = "mirrorctl"\nurl = "{TUNA}"\npriority = "primary"\n\n')
    assert poetry_sources(project) == [{"name": "mirrorctl", "url": TUNA, "priority": "primary"}]
    assert run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == original


@pytest.mark.parametrize("original", [
    # the comment above [tool.black] stays above it
    '[project]\nname = "demo"\nversion = "0"\n\n[tool.poetry]\npackage-mode = false\n\n'
    "# formatting\n[tool.black]\nx = 1\n",
    '[project]\nname = "demo"\nversion = "0"\n\n[tool.poetry]\npackage-mode = false\n\n'
    '[[tool.poetry.source]]\nname = "private"\nurl = "https://private.example/simple"\npriority = "explicit"\n\n'
    "# formatting\n[tool.black]\nx = 1\n",
    # [tool.poetry] in parts
    '[tool.poetry]\npackage-mode = false\n\n[tool.black]\nx = 1\n\n[tool.poetry.dependencies]\npython = "^3.9"\n'
    "# the end\n",
    # a comment at the very end of the file
    '[project]\nname = "demo"\nversion = "0"\n\n# the end\n',
])
def test_comments_keep_their_place_through_use_and_reset(run, sandbox, project, original):
    pyproject = write(project / "pyproject.toml", original)
    assert use(run, project, "tuna").exit_code == 0
    text = pyproject.read_text()
    for comment in ("# formatting\n[tool.black]", "# the end\n"):
        if comment in original:
            assert comment in text, text
    assert [s["name"] for s in poetry_sources(project)][-1] == "mirrorctl"
    assert run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == original


def test_without_a_blank_line_before_the_comment_reset_leaves_one(run, sandbox, project):
    # an added table is set apart by blank lines; reset cannot tell that one was not there before
    original = ('[project]\nname = "demo"\nversion = "0"\n\n[tool.poetry]\npackage-mode = false\n'
                "# formatting\n[tool.black]\n")
    pyproject = write(project / "pyproject.toml", original)
    assert use(run, project, "tuna").exit_code == 0
    assert "\n\n# formatting\n[tool.black]\n" in pyproject.read_text()
    assert run("reset", "--tool", "poetry", "--scope", "project", "--project", str(project)).exit_code == 0
    assert pyproject.read_text() == original.replace("false\n# formatting", "false\n\n# formatting")
