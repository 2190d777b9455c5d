"""The catalogue: built-in mirrors, aliases, the user's own mirrors."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mirrorctl.catalog import builtin_catalog_text, parse_catalog

REQUIRED = {"official", "tuna", "aliyun", "ustc", "huawei", "tencent", "bfsu", "nju", "pku", "hust", "cernet",
            "douban"}


def builtin():
    return parse_catalog(builtin_catalog_text(), source="builtin", origin="mirrors.toml")


def test_builtin_catalogue_has_the_required_mirrors():
    mirrors = {m.name: m for m in builtin()}
    assert REQUIRED <= set(mirrors)
    assert mirrors["douban"].unreliable
    assert mirrors["tuna"].conda.layout == "full"
    assert mirrors["ustc"].conda.layout == "cloud"
    assert mirrors["official"].url == "https://pypi.org/simple"
    for mirror in mirrors.values():
        assert mirror.url.startswith("https://") and mirror.title


def test_packaged_catalogue_is_the_top_level_file():
    top = Path(__file__).resolve().parents[1] / "mirrors.toml"
    assert builtin_catalog_text() == top.read_text(encoding="utf-8")


def test_wheel_ships_mirrors_toml(tmp_path):
    pytest.importorskip("hatchling")
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-index", "-w", str(tmp_path), str(repo)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("pymirrorctl-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("mirrorctl/mirrors.toml").decode() == (repo / "mirrors.toml").read_text()


@pytest.mark.parametrize("alias, name", [("tsinghua", "tuna"), ("ali", "aliyun"), ("pypi", "official"),
                                         ("default", "official"), ("TUNA", "tuna")])
def test_aliases(run, alias, name):
    run("use", alias)
    assert run("status", "--json").json()["tools"][0]["mirror"] == name


def test_list_json_shape(run):
    data = run("list", "--json").json()
    tuna = next(m for m in data if m["name"] == "tuna")
    assert set(tuna) >= {"name", "url", "conda", "aliases", "source", "title", "homepage", "notes", "current"}
    assert tuna["source"] == "builtin" and "tsinghua" in tuna["aliases"]
    assert tuna["conda"] == {"url": "https://mirrors.tuna.tsinghua.edu.cn/anaconda", "layout": "full"}
    official = next(m for m in data if m["name"] == "official")
    assert official["current"] is True


def test_list_human_marks_current_and_unreliable(run):
    out = run("list").stdout
    assert "* pip uses official now" in out
    assert "douban (unreliable)" in out


def test_add_use_remove_user_mirror(run, sandbox):
    result = run("add", "corp", "https://pypi.corp.example/simple", "--conda", "https://conda.corp.example",
                 "--title", "Corp index")
    assert result.exit_code == 0, result.stderr
    catalogue = sandbox.config / "mirrorctl" / "mirrors.toml"
    assert 'name = "corp"' in catalogue.read_text()
    corp = next(m for m in run("list", "--json").json() if m["name"] == "corp")
    assert corp["source"] == "user" and corp["conda"]["url"] == "https://conda.corp.example"
    assert run("use", "corp").exit_code == 0
    assert run("status", "--json").json()["tools"][0]["mirror"] == "corp"
    assert run("remove", "corp").exit_code == 0
    assert all(m["name"] != "corp" for m in run("list", "--json").json())


def test_add_keeps_the_user_s_comments(run, sandbox):
    catalogue = sandbox.config / "mirrorctl" / "mirrors.toml"
    catalogue.parent.mkdir(parents=True)
    original = "# my mirrors\n\n[[mirror]]\nname = \"lab\"  # the lab box\nurl = \"https://lab.example/simple\"\n"
    catalogue.write_text(original)
    run("add", "corp", "https://corp.example/simple")
    text = catalogue.read_text()
    assert text.startswith(original)
    run("remove", "corp")
    assert catalogue.read_text() == original


def test_user_mirror_shadows_builtin(run, sandbox):
    result = run("add", "tuna", "https://my-tuna-cache.example/simple")
    assert result.exit_code == 0 and "shadows the built-in" in result.stdout
    tuna = [m for m in run("list", "--json").json() if m["name"] == "tuna"]
    assert len(tuna) == 1 and tuna[0]["url"] == "https://my-tuna-cache.example/simple"
    run("use", "tuna")
    assert "my-tuna-cache" in sandbox.user_pip_conf.read_text()


def test_add_again_updates(run, sandbox):
    run("add", "corp", "https://a.example/simple")
    result = run("add", "corp", "https://b.example/simple")
    assert "updated" in result.stdout
    urls = [m["url"] for m in run("list", "--json").json() if m["name"] == "corp"]
    assert urls == ["https://b.example/simple"]


@pytest.mark.parametrize("args, fragment", [
    (("add", "Bad Name", "https://x.example/simple"), "bad mirror name"),
    (("add", "fastest", "https://x.example/simple"), "reserved"),
    (("add", "ok", "not-a-url"), "scheme"),
    (("add", "ok", "https://x.example/simple", "--conda", "ftp://x"), "conda URL"),
    (("remove", "tuna"), "built-in"),
    (("remove", "nosuch"), "unknown mirror"),
])
def test_catalogue_commands_refuse_bad_input(run, sandbox, args, fragment):
    result = run(*args)
    assert result.exit_code == 2, result.stderr
    assert fragment in result.stderr
    assert not (sandbox.config / "mirrorctl" / "mirrors.toml").exists()


def test_add_and_remove_are_undoable(run, sandbox):
    run("add", "corp", "https://corp.example/simple")
    assert run("undo").exit_code == 0
    assert not (sandbox.config / "mirrorctl" / "mirrors.toml").exists()


def test_list_masks_passwords(run, sandbox):
    run("add", "corp", "https://bob:hunter2@corp.example/simple")
    for args in (("list",), ("list", "--json")):
        out = run(*args).stdout
        assert "hunter2" not in out and "bob:****@corp.example" in out
