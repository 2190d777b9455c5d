"""The catalogue: built-in mirrors, aliases, the user's own mirrors."""

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mirrorctl import urls
from mirrorctl.catalog import CONDA_LAYOUTS, builtin_catalog_text, parse_catalog
from mirrorctl.targets import conda

REQUIRED = {"official", "tuna", "aliyun", "ustc", "huawei", "tencent", "bfsu", "nju", "pku", "hust", "cernet",
            "douban", "lzu", "sjtug", "zju"}

# What each mirror's own help page says, read from the page's source (docs/catalogue.md names them):
# the pip index URL, the conda base, the defaults parts (pkgs/...) and the community channels
# (cloud/...) the page documents. The catalogue must say exactly this URL, and may make mirrorctl
# write only channels listed here.
DOCUMENTED = {
    # ustclug/mirrorhelp docs/pypi.md, docs/anaconda.md
    "ustc": ("https://mirrors.ustc.edu.cn/pypi/simple", "https://mirrors.ustc.edu.cn/anaconda",
             set(), {"conda-forge", "bioconda"}),
    # nju-lug/NJU-Mirror-Frontend documentations/anaconda.md; the MirrorZ help NJU serves (pypi)
    "nju": ("https://mirror.nju.edu.cn/pypi/web/simple", "https://mirror.nju.edu.cn/anaconda",
            {"main", "r", "msys2"}, {"conda-forge", "msys2", "bioconda", "menpo", "pytorch", "simpleitk"}),
    # PKUOSC/Mirror-doc Pypi.md, Anaconda.md
    "pku": ("https://mirrors.pku.edu.cn/pypi/simple", "https://mirrors.pku.edu.cn/anaconda",
            {"main", "r"}, {"conda-forge", "pytorch", "bioconda"}),
    # LZUOSS/oss-mirror-help docs/pypi.md, docs/anaconda.md
    "lzu": ("https://mirror.lzu.edu.cn/pypi/web/simple", "https://mirror.lzu.edu.cn/anaconda",
            {"main", "r", "msys2"},
            {"conda-forge", "msys2", "bioconda", "menpo", "pytorch", "pytorch-lts", "simpleitk"}),
    # sjtug/portal mirror-help pypi.md, anaconda.md (until 2026-06; since then the MirrorZ help,
    # whose Anaconda page lists the same SJTUG channels)
    "sjtug": ("https://mirror.sjtu.edu.cn/pypi/web/simple", "https://mirror.sjtu.edu.cn/anaconda",
              {"free", "main", "mro", "msys2", "pro", "r"},
              {"bioconda", "conda-forge", "menpo", "soumith", "viscid-hub", "atztogo", "pytorch",
               "pytorch-test"}),
    # ZJUSCT/mirror-front docs/zh/pypi.mdx, docs/zh/anaconda.mdx (src/components/anaconda-config.tsx)
    "zju": ("https://mirrors.zju.edu.cn/pypi/web/simple", "https://mirrors.zju.edu.cn/anaconda",
            {"main", "r", "msys2"},
            {"conda-forge", "msys2", "bioconda", "menpo", "pytorch", "pytorch-lts", "simpleitk"}),
}

# Aliases whose words do not come from the mirror's own name, title or host, each with the reason
# it still names that same site.
ALIAS_EXCEPTIONS = {
    ("tuna", "thu"): "THU is Tsinghua University's own abbreviation",
    ("official", "default"): "the index pip uses when nothing is configured",
}


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
    assert result.exit_code == 0 and "replaces the built-in" in result.stdout
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


# -- the built-in catalogue is current and honest ------------------------------------------------

def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}


def _own_words(mirror) -> set[str]:
    """The words that identify a mirror's site: its name, its title, the labels of its hosts."""
    hosts = [urlsplit(u).hostname or "" for u in (mirror.url, mirror.homepage, mirror.conda.url if mirror.conda else "")]
    return _words(mirror.name) | _words(mirror.title) | set().union(*(_words(h) for h in hosts))


def _derived(token: str, words: set[str]) -> bool:
    """A word of the mirror's own, a prefix of one (ali, aliyun) or two of them run together
    (tencentcloud, from mirrors.cloud.tencent.com)."""
    if token in words or any(len(token) >= 3 and w.startswith(token) for w in words):
        return True
    return any(token == a + b for a in words for b in words if a != b)


def alias_problems(mirrors) -> list[str]:
    """Aliases that may point at another site than their mirror's: an alias is one or more words
    (split on '-', '.', '_'); each must come from the mirror's own name, title or host (or the
    alias is a listed exception), and none may be the name or an alias of another mirror."""
    problems = []
    for mirror in mirrors:
        others = {n for m in mirrors if m.name != mirror.name for n in m.names()}
        own = _own_words(mirror)
        for alias in mirror.aliases:
            tokens = _words(alias)
            if (mirror.name, alias) not in ALIAS_EXCEPTIONS:
                stray = sorted(t for t in tokens if not _derived(t, own))
                if stray:
                    problems.append(f"{mirror.name}: alias {alias!r} has {stray}, not from its name/title/host")
            clash = sorted(tokens & others)
            if clash:
                problems.append(f"{mirror.name}: alias {alias!r} names another mirror: {clash}")
    return problems


def test_every_alias_names_its_own_site():
    assert alias_problems(builtin()) == []


def test_the_alias_check_catches_an_alias_of_another_site():
    # the old entry: USTC answering to "zju-ustc" sent ZJU users to USTC
    text = builtin_catalog_text().replace('name = "ustc"\naliases = []', 'name = "ustc"\naliases = ["zju-ustc"]')
    assert "zju-ustc" in text
    problems = alias_problems(parse_catalog(text, source="builtin", origin="mirrors.toml"))
    assert problems == ["ustc: alias 'zju-ustc' has ['zju'], not from its name/title/host",
                        "ustc: alias 'zju-ustc' names another mirror: ['zju']"]
    # and without a zju entry the first rule alone still catches it
    alone = [m for m in parse_catalog(text, source="builtin", origin="mirrors.toml") if m.name != "zju"]
    assert alias_problems(alone) == ["ustc: alias 'zju-ustc' has ['zju'], not from its name/title/host"]


def test_zju_ustc_is_gone_and_zju_is_zju(run):
    result = run("use", "zju-ustc")
    assert result.exit_code == 2 and "unknown mirror" in result.stderr
    assert run("use", "zhejiang").exit_code == 0
    assert run("status", "--json").json()["tools"][0]["mirror"] == "zju"


def test_names_aliases_and_urls_are_unique():
    mirrors = builtin()
    names = [n for m in mirrors for n in m.names()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    keys = [urls.canonical(m.url) for m in mirrors]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    bases = [urls.canonical(m.conda.url) for m in mirrors if m.conda]
    assert len(bases) == len(set(bases)), sorted(b for b in bases if bases.count(b) > 1)


def test_every_url_is_https_and_a_simple_index():
    for mirror in builtin():
        parts = urlsplit(mirror.url)
        assert parts.scheme == "https" and parts.hostname, mirror.name
        assert parts.path.endswith("/simple") and not parts.query and not parts.username, mirror.name
        if mirror.homepage:
            assert mirror.homepage.startswith("https://"), mirror.name
        if mirror.conda:
            base = urlsplit(mirror.conda.url)
            assert base.scheme == "https" and base.path.endswith("/anaconda"), mirror.name
            assert mirror.conda.layout in CONDA_LAYOUTS, mirror.name


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_urls_are_the_ones_the_mirror_documents(name):
    mirror = next(m for m in builtin() if m.name == name)
    index, base, _, _ = DOCUMENTED[name]
    assert mirror.url == index
    assert mirror.conda is not None and mirror.conda.url == base


def _layout_fits(layout: str, parts: set[str], channels: set[str]) -> bool:
    wanted_parts = set(conda.DEFAULT_PARTS) if layout == "full" else set()
    return {p.split("/")[-1] for p in wanted_parts} <= parts and set(conda.COMMUNITY[layout]) <= channels


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_conda_layout_is_the_largest_the_mirror_documents(name):
    _, _, parts, channels = DOCUMENTED[name]
    expected = next(layout for layout in ("full", "cloud") if _layout_fits(layout, parts, channels))
    mirror = next(m for m in builtin() if m.name == name)
    assert mirror.conda.layout == expected


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_use_writes_only_channels_the_mirror_documents(run, sandbox, name):
    _, base, parts, channels = DOCUMENTED[name]
    result = run("use", name, "--tool", "conda")
    assert result.exit_code == 0, result.stderr
    from ruamel.yaml import YAML

    written = json.loads(json.dumps(YAML(typ="rt").load((sandbox.home / ".condarc").read_text())))
    custom = written.get("custom_channels", {})
    assert custom and set(custom) <= channels
    assert set(custom.values()) == {f"{base}/cloud"}
    defaults = written.get("default_channels", [])
    assert all(d.startswith(f"{base}/pkgs/") and d.rsplit("/", 1)[-1] in parts for d in defaults)


@pytest.mark.parametrize("name", ["ustc", "zju"])
def test_notes_say_where_misses_go(name):
    mirror = next(m for m in builtin() if m.name == name)
    assert "TUNA" in mirror.notes


# -- uv_python: where a mirror publishes the python-build-standalone releases -------------

def test_uv_python_is_optional_and_checked_like_a_url():
    from mirrorctl.errors import ConfigFileError

    base = '[[mirror]]\nname = "lab"\nurl = "https://lab.example/simple"\n'
    assert parse_catalog(base, source="user", origin="t")[0].uv_python == ""
    given = parse_catalog(base + 'uv_python = "https://lab.example/pbs/"\n', source="user", origin="t")
    assert given[0].uv_python == "https://lab.example/pbs/"
    for bad, fragment in [("3", "uv_python must be a URL string"), ('"ftp://lab.example/pbs"', "scheme"),
                          ('"https://lab.example/a b"', "whitespace")]:
        with pytest.raises(ConfigFileError) as caught:
            parse_catalog(base + f"uv_python = {bad}\n", source="user", origin="t")
        assert fragment in caught.value.message and "lab" in caught.value.message


def test_a_url_given_for_a_known_mirror_keeps_its_uv_python(run):
    from mirrorctl.catalog import Catalog

    catalog = Catalog(mirrors=parse_catalog(builtin_catalog_text(), source="builtin", origin="t"))
    given = catalog.resolve("https://mirrors.ustc.edu.cn/pypi/simple/")
    assert given.name == "ustc" and given.uv_python == catalog.get("ustc").uv_python != ""
