"""`mirrorctl use` / `reset` / `status` for conda (.condarc).

conda itself cannot be installed here, so the judge is conda's own parser (ruamel.yaml in
round-trip mode, which conda loads .condarc with) and conda's documented semantics: the search
path and merge rules of conda/base/constants.py and conda/common/configuration.py.
"""

import json
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from mirrorctl.catalog import load_catalog
from mirrorctl.context import Context, Scope
from mirrorctl.formats.yaml import YamlDocument
from mirrorctl.targets import conda

TUNA = "https://mirrors.tuna.tsinghua.edu.cn/anaconda"
ALIYUN = "https://mirrors.aliyun.com/anaconda"
USTC = "https://mirrors.ustc.edu.cn/anaconda"
COMMUNITY = ("conda-forge", "msys2", "bioconda", "menpo", "pytorch", "simpleitk")


# the line `use` writes when it adds show_channel_urls: the marker comment makes it mirrorctl's
OURS = "show_channel_urls: true  # added by mirrorctl\n"


def full_layout(base: str, show: str = OURS) -> str:
    return (show
            + "default_channels:\n"
            + "".join(f"  - {base}/pkgs/{part}\n" for part in ("main", "r", "msys2"))
            + "custom_channels:\n"
            + "".join(f"  {name}: {base}/cloud\n" for name in COMMUNITY))


# a hand-made .condarc already on TUNA: its own indentation (list items at column 0, mapping
# entries by 4), comments, extra spaces, a private channel, keys mirrorctl does not manage
COMMENTED = (
    "# conda settings for the lab machines\n"
    "channels:\n"
    "- defaults\n"
    "- conda-forge      # community builds\n"
    "- https://conda.corp.example/private\n"
    "\n"
    "# the mirror (set by hand until now)\n"
    "default_channels:\n"
    f"- {TUNA}/pkgs/main\n"
    f"- {TUNA}/pkgs/r\n"
    f"- {TUNA}/pkgs/msys2\n"
    "custom_channels:\n"
    f"    conda-forge:  {TUNA}/cloud   # fast\n"
    "    private: https://conda.corp.example\n"
    + "".join(f"    {name}: {TUNA}/cloud\n" for name in COMMUNITY[1:])
    + "show_channel_urls: True\n"
    "ssl_verify:   true   # the proxy re-signs\n"
    "envs_dirs:\n"
    "  - ~/envs\n"
)


def condarc(sandbox) -> Path:
    return sandbox.home / ".condarc"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def conda_reads(path: Path) -> dict:
    """The file as conda loads it (ruamel.yaml round-trip), as plain data."""
    from ruamel.yaml import YAML

    return json.loads(json.dumps(YAML(typ="rt").load(path.read_text(encoding="utf-8")) or {}))


def conda_status(run, *args) -> dict:
    result = run("status", "--json", "--tool", "conda", *args)
    assert result.exit_code == 0, result.stderr
    return next(t for t in result.json()["tools"] if t["tool"] == "conda")


def make_env(path: Path) -> Path:
    (path / "conda-meta").mkdir(parents=True)
    return path


def snapshot(root: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- use: what is written -------------------------------------------------------------

def test_use_full_layout_at_user_scope(run, sandbox):
    result = run("use", "tuna", "--tool", "conda")
    assert result.exit_code == 0, result.stderr
    assert condarc(sandbox).read_text() == full_layout(TUNA)
    assert conda_reads(condarc(sandbox))["default_channels"][0] == f"{TUNA}/pkgs/main"
    assert "conda clean -i" in result.stdout
    assert not sandbox.user_pip_conf.exists()


def test_cloud_layout_writes_only_the_community_channels(run, sandbox):
    assert run("use", "ustc", "--tool", "conda").exit_code == 0
    assert conda_reads(condarc(sandbox)) == {
        "show_channel_urls": True,
        "custom_channels": {"conda-forge": f"{USTC}/cloud", "bioconda": f"{USTC}/cloud"},
    }
    st = conda_status(run)
    assert st["index_url"] == "https://repo.anaconda.com/pkgs/main"  # USTC does not mirror defaults
    assert st["mirror"] == "ustc"
    assert st["origin"]["path"] == str(condarc(sandbox))


def test_user_channels_comments_order_and_other_keys_are_kept(run, sandbox):
    write(condarc(sandbox), "# mine\nchannels:\n  - conda-forge  # first\n  - defaults\nauto_activate_base: false\n")
    assert run("use", "tuna", "--tool", "conda").exit_code == 0
    mine = "# mine\nchannels:\n  - conda-forge  # first\n  - defaults\nauto_activate_base: false\n"
    assert condarc(sandbox).read_text() == mine + full_layout(TUNA)


def test_commented_file_already_on_the_mirror_round_trips_byte_exact(run, sandbox):
    write(condarc(sandbox), COMMENTED)
    result = run("use", "tuna", "--tool", "conda")
    assert result.exit_code == 0 and "already" in result.stdout
    assert condarc(sandbox).read_text() == COMMENTED
    assert run("history", "--json").json() == []


def test_switching_changes_only_the_mirror_urls(run, sandbox):
    write(condarc(sandbox), COMMENTED)
    assert run("use", "aliyun", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text() == COMMENTED.replace(TUNA, ALIYUN)
    assert run("use", "tuna", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text() == COMMENTED


def test_switching_to_a_cloud_mirror_and_back_twice_gives_the_same_bytes(run, sandbox):
    write(condarc(sandbox), COMMENTED)
    run("use", "ustc", "--tool", "conda")
    on_ustc = condarc(sandbox).read_text()
    assert "default_channels" not in on_ustc and "# the mirror (set by hand until now)\ncustom_channels:" in on_ustc
    assert conda_reads(condarc(sandbox))["custom_channels"] == {
        "conda-forge": f"{USTC}/cloud", "private": "https://conda.corp.example", "bioconda": f"{USTC}/cloud"}
    assert "    conda-forge:  https://mirrors.ustc.edu.cn/anaconda/cloud   # fast\n" in on_ustc
    run("use", "tuna", "--tool", "conda")
    on_tuna = condarc(sandbox).read_bytes()
    assert f"\n- {TUNA}/pkgs/main\n" in on_tuna.decode()  # the file's own "- " style
    assert f"\n    pytorch: {TUNA}/cloud\n" in on_tuna.decode()  # and its 4 spaces
    run("use", "ustc", "--tool", "conda")
    assert condarc(sandbox).read_text() == on_ustc
    run("use", "tuna", "--tool", "conda")
    assert condarc(sandbox).read_bytes() == on_tuna


def test_entries_of_the_official_repo_and_of_old_guides_are_replaced(run, sandbox):
    write(condarc(sandbox), "default_channels:\n  - https://repo.anaconda.com/pkgs/main\n"
                            "  - http://mirrors.tuna.tsinghua.edu.cn/anaconda/pkgs/free/\n"
                            "  - https://conda.corp.example/main\n"
                            "custom_channels:\n  conda-forge: https://conda.anaconda.org\n"
                            "  nvidia: https://mirrors.bfsu.edu.cn/anaconda/cloud/\n")
    assert run("use", "aliyun", "--tool", "conda").exit_code == 0
    data = conda_reads(condarc(sandbox))
    # the mirror's entries first, then the user's own (a private default channel stays)
    assert data["default_channels"] == [f"{ALIYUN}/pkgs/main", f"{ALIYUN}/pkgs/r", f"{ALIYUN}/pkgs/msys2",
                                        "https://conda.corp.example/main"]
    assert data["custom_channels"] == {name: f"{ALIYUN}/cloud" for name in COMMUNITY}


def test_running_twice_writes_the_same_bytes_and_one_journal_entry(run, sandbox):
    run("use", "tuna", "--tool", "conda")
    first = condarc(sandbox).read_bytes()
    result = run("use", "tuna", "--tool", "conda")
    assert result.exit_code == 0 and "already" in result.stdout
    assert condarc(sandbox).read_bytes() == first
    assert len(run("history", "--json").json()) == 1


def test_dry_run_prints_a_diff_and_writes_nothing(run, sandbox):
    write(condarc(sandbox), COMMENTED)
    result = run("use", "aliyun", "--tool", "conda", "--dry-run")
    assert result.exit_code == 0
    assert f"-- {TUNA}/pkgs/main" in result.stdout and f"+- {ALIYUN}/pkgs/main" in result.stdout
    changed = [line for line in result.stdout.splitlines() if line.startswith(("-", "+"))]
    assert not any("show_channel_urls" in line or "ssl_verify" in line or "private" in line for line in changed)
    assert condarc(sandbox).read_text() == COMMENTED
    assert run("history", "--json").json() == []


def test_check_exit_codes(run, sandbox):
    assert run("use", "tuna", "--tool", "conda", "--check").exit_code == 3
    assert not condarc(sandbox).exists()
    assert run("use", "tuna", "--tool", "conda").exit_code == 0
    assert run("use", "tuna", "--tool", "conda", "--check").exit_code == 0
    assert run("use", "ustc", "--tool", "conda", "--check").exit_code == 3
    assert run("reset", "--tool", "conda", "--check").exit_code == 3


def test_undo_restores_the_bytes_exactly(run, sandbox):
    original = COMMENTED.replace("\n", "\r\n").encode()
    condarc(sandbox).write_bytes(original)
    run("use", "aliyun", "--tool", "conda")
    assert condarc(sandbox).read_bytes() == original.replace(TUNA.encode(), ALIYUN.encode())  # CRLF kept
    run("use", "ustc", "--tool", "conda")
    assert run("undo").exit_code == 0 and run("undo").exit_code == 0
    assert condarc(sandbox).read_bytes() == original


# -- reset ---------------------------------------------------------------------------

def test_reset_removes_what_use_added_and_nothing_else(run, sandbox):
    original = "# mine\nchannels:\n  - defaults\ncustom_channels:\n  private: https://conda.corp.example\n"
    write(condarc(sandbox), original)
    run("use", "tuna", "--tool", "conda")
    result = run("reset", "--tool", "conda")
    assert result.exit_code == 0, result.stderr
    assert condarc(sandbox).read_text() == original


def test_reset_of_the_commented_file_keeps_the_users_entries(run, sandbox):
    write(condarc(sandbox), COMMENTED)
    assert run("reset", "--tool", "conda").exit_code == 0
    data = conda_reads(condarc(sandbox))
    assert "default_channels" not in data
    # `True` is the user's own spelling, not the line mirrorctl writes: kept, byte for byte
    assert data["show_channel_urls"] is True and "\nshow_channel_urls: True\n" in condarc(sandbox).read_text()
    assert data["custom_channels"] == {"private": "https://conda.corp.example"}
    assert data["channels"] == ["defaults", "conda-forge", "https://conda.corp.example/private"]
    assert data["ssl_verify"] is True and data["envs_dirs"] == ["~/envs"]
    assert "# conda settings for the lab machines\n" in condarc(sandbox).read_text()


def test_reset_removes_a_file_it_leaves_empty(run, sandbox):
    run("use", "tuna", "--tool", "conda")
    assert run("reset", "--tool", "conda").exit_code == 0
    assert not condarc(sandbox).exists()
    assert run("reset", "--tool", "conda").exit_code == 0  # nothing left to do is not an error


def test_reset_leaves_a_file_mirrorctl_never_touched(run, sandbox):
    for text in ("show_channel_urls: true\n", "", "# only a comment\n"):
        write(condarc(sandbox), text)
        result = run("reset", "--tool", "conda")
        assert result.exit_code == 0 and "already" in result.stdout
        assert condarc(sandbox).read_text() == text


# -- show_channel_urls: the user's own value is theirs ------------------------------------

# every spelling conda reads as true (conda loads .condarc as YAML 1.2, then boolifies the value)
TRUE_SPELLINGS = ("yes  # keep", "True", "TRUE", "on", "y", "Yes", "'yes'", '"true"', "1", "true  # mine",
                  "true #!final", "true   ")


@pytest.mark.parametrize("spelling", TRUE_SPELLINGS)
def test_a_true_show_channel_urls_of_the_user_survives_use_and_reset_byte_exact(run, sandbox, spelling):
    original = f"# mine\nshow_channel_urls: {spelling}\nchannels:\n  - defaults\n"
    write(condarc(sandbox), original)
    assert run("use", "tuna", "--tool", "conda").exit_code == 0
    text = condarc(sandbox).read_text()
    assert text.startswith(original) and text.count("show_channel_urls") == 1
    assert run("reset", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text() == original


def test_the_users_own_bare_true_line_survives_use_and_reset_cycles(run, sandbox):
    """The exact line mirrorctl once wrote unmarked is the user's: reset has nothing but the
    marker to tell, so it keeps it, through every cycle and a switch of mirror."""
    original = "show_channel_urls: true\nchannels:\n  - defaults\n"
    write(condarc(sandbox), original)
    for mirror in ("tuna", "ustc", "aliyun"):
        assert run("use", mirror, "--tool", "conda").exit_code == 0
        assert conda_reads(condarc(sandbox))["show_channel_urls"] is True
        assert condarc(sandbox).read_text().startswith(original)  # not marked, not moved
        assert run("reset", "--tool", "conda").exit_code == 0
        assert condarc(sandbox).read_text() == original
        assert conda_reads(condarc(sandbox)) == {"show_channel_urls": True, "channels": ["defaults"]}


def test_the_users_own_true_line_survives_reset_of_a_hand_made_mirror_setup(run, sandbox):
    """A file set up by hand from the mirror's guide (its entries are the managed ones): reset
    takes the entries and leaves the user's show_channel_urls."""
    write(condarc(sandbox), full_layout(TUNA, show="show_channel_urls: true\n"))
    assert run("use", "aliyun", "--tool", "conda").exit_code == 0
    assert run("reset", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text() == "show_channel_urls: true\n"
    assert conda_reads(condarc(sandbox)) == {"show_channel_urls": True}


def test_the_line_use_adds_is_marked_and_conda_reads_it_as_true(run, sandbox):
    write(condarc(sandbox), "channels:\n  - defaults\n")
    for _ in range(2):  # use, reset, use, reset: each use adds the marked line, each reset takes it
        assert run("use", "tuna", "--tool", "conda").exit_code == 0
        assert condarc(sandbox).read_text().startswith("channels:\n  - defaults\n" + OURS)
        data = conda_reads(condarc(sandbox))
        assert data["show_channel_urls"] is True and conda._conda_true(data["show_channel_urls"])
        assert conda_status(run)["mirror"] == "tuna"  # the comment is not conda's #!final
        assert run("reset", "--tool", "conda").exit_code == 0
        assert condarc(sandbox).read_text() == "channels:\n  - defaults\n"


def test_yes_keep_round_trips_through_use_switch_and_reset(run, sandbox):
    original = "show_channel_urls: yes  # keep\n"
    write(condarc(sandbox), original)
    result = run("use", "tuna", "--tool", "conda", "--dry-run")
    assert not any("show_channel_urls" in line for line in result.stdout.splitlines()
                   if line.startswith(("-", "+")) and not line.startswith(("---", "+++")))
    run("use", "tuna", "--tool", "conda")
    assert condarc(sandbox).read_text() == original + full_layout(TUNA, show="")
    run("use", "ustc", "--tool", "conda")
    assert condarc(sandbox).read_text().startswith(original)
    assert run("reset", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_bytes() == original.encode()


def test_a_file_mirrorctl_created_round_trips_to_nothing(run, sandbox):
    for mirror in ("tuna", "ustc"):
        assert run("use", mirror, "--tool", "conda").exit_code == 0
        assert condarc(sandbox).read_text().startswith(OURS)
        assert run("reset", "--tool", "conda").exit_code == 0
        assert not condarc(sandbox).exists()


@pytest.mark.parametrize("spelling", ["false", "no", "off", "False", "", "null", "~", "0", "maybe"])
def test_a_false_or_missing_value_becomes_true_and_reset_then_removes_it(run, sandbox, spelling):
    original = f"channels:\n  - defaults\nshow_channel_urls: {spelling}\nssl_verify: true\n"
    write(condarc(sandbox), original)
    assert run("use", "tuna", "--tool", "conda").exit_code == 0
    text = condarc(sandbox).read_text()
    assert f"\n{OURS}ssl_verify: true\n" in text  # changed where it is, marked as mirrorctl's
    assert conda_reads(condarc(sandbox))["show_channel_urls"] is True
    # reset cannot know it was false: the line is now mirrorctl's own (marked), so it goes; undo brings it back
    assert run("reset", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text() == "channels:\n  - defaults\nssl_verify: true\n"
    assert run("undo").exit_code == 0 and run("undo").exit_code == 0
    assert condarc(sandbox).read_text() == original


def test_a_false_value_with_a_comment_keeps_the_comment_and_reset_keeps_the_line(run, sandbox):
    write(condarc(sandbox), "show_channel_urls: false  # quiet\n")
    assert run("use", "tuna", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text().startswith("show_channel_urls: true  # quiet\n")
    assert run("reset", "--tool", "conda").exit_code == 0
    assert condarc(sandbox).read_text() == "show_channel_urls: true  # quiet\n"  # not mirrorctl's line


def test_reset_removes_only_the_marked_line_mirrorctl_writes(sandbox):
    def reset(text: str) -> str:
        return conda._edit(YamlDocument(text, "f.yml"), conda._Managed([TUNA]), None).text()

    ours = f"default_channels:\n  - {TUNA}/pkgs/main\n"
    assert reset(OURS + ours) == ""
    assert reset(OURS.replace("\n", "\r\n") + ours.replace("\n", "\r\n")) == ""
    assert reset(OURS + "# next\n" + ours) == "# next\n"  # a comment on the next line is not its
    assert reset(OURS) == ""  # the marked line is mirrorctl's even with nothing else of mirrorctl's
    assert reset("channels: [defaults]\n" + OURS) == "channels: [defaults]\n"
    for mine in ("show_channel_urls: true\n", "show_channel_urls: true # mine\n", "show_channel_urls: True\n",
                 "show_channel_urls:  true\n", "show_channel_urls: 'true'\n", "show_channel_urls: yes\n",
                 "show_channel_urls: true #!final\n", "show_channel_urls:\n  true\n",
                 "show_channel_urls: true  # added by me\n"):
        assert reset(mine + ours) == mine
        assert reset(mine) == mine


@pytest.mark.parametrize("value, true", [
    (True, True), (False, False), (None, False), (1, True), (0, False), (0.5, True), ("yes", True), ("On", True),
    ("Y", True), (" true ", True), ("1", True), ("0.0", False), ("no", False), ("off", False), ("none", False),
    ("", False), ("maybe", False), (["x"], False),
])
def test_conda_truth_of_show_channel_urls(value, true):
    assert conda._conda_true(value) is true


# -- equivalent spellings of the mirror's own URLs are left as written ---------------------

def test_default_and_custom_entries_spelled_otherwise_are_not_rewritten(run, sandbox):
    host = "MIRRORS.tuna.tsinghua.edu.cn:443"
    original = ("show_channel_urls: true\n"
                "default_channels:\n"
                f"  - https://{host}/anaconda/pkgs/main/   # slash\n"
                f"  - {TUNA}/pkgs/r/\n"
                f"  - {TUNA}/pkgs/msys2\n"
                "custom_channels:\n"
                f"  conda-forge: {TUNA}/cloud/\n"
                + "".join(f"  {name}: {TUNA}/cloud\n" for name in COMMUNITY[1:]))
    write(condarc(sandbox), original)
    result = run("use", "tuna", "--tool", "conda")
    assert result.exit_code == 0 and "already" in result.stdout
    assert condarc(sandbox).read_text() == original
    assert conda_status(run)["mirror"] == "tuna"
    # another mirror replaces them all; coming back writes the catalogue's spelling
    run("use", "aliyun", "--tool", "conda")
    assert TUNA.split("//")[1] not in condarc(sandbox).read_text().lower()
    run("use", "tuna", "--tool", "conda")
    assert condarc(sandbox).read_text() == full_layout(TUNA, show="show_channel_urls: true\n")  # the user's line


def test_http_entries_of_old_guides_are_upgraded_to_https(run, sandbox):
    http = TUNA.replace("https://", "http://")
    write(condarc(sandbox), f"default_channels:\n  - {http}/pkgs/main\ncustom_channels:\n  conda-forge: {http}/cloud\n")
    assert run("use", "tuna", "--tool", "conda").exit_code == 0
    data = conda_reads(condarc(sandbox))
    assert data["default_channels"] == [f"{TUNA}/pkgs/{p}" for p in ("main", "r", "msys2")]
    assert data["custom_channels"]["conda-forge"] == f"{TUNA}/cloud"


def test_credentials_make_a_different_url(sandbox):
    assert conda._same_url(f"{TUNA}/pkgs/main/", f"{TUNA}/pkgs/main")
    assert not conda._same_url("https://bob:pw@conda.corp.example/pkgs/main", "https://conda.corp.example/pkgs/main")
    assert not conda._same_url(f"{TUNA}/pkgs/main".replace("https", "http"), f"{TUNA}/pkgs/main")


# -- scopes --------------------------------------------------------------------------

def test_global_scope_under_root(run, sandbox):
    result = run("use", "bfsu", "--tool", "conda", "--scope", "global", "--root", str(sandbox.etc))
    assert result.exit_code == 0, result.stderr
    system = sandbox.etc / "etc" / "conda" / ".condarc"
    assert system.read_text() == full_layout("https://mirrors.bfsu.edu.cn/anaconda")
    st = conda_status(run, "--root", str(sandbox.etc))
    assert st["mirror"] == "bfsu" and st["origin"]["path"] == str(system)
    assert conda_status(run)["mirror"] == "official"  # without --root, the real /etc is read


def test_env_scope_from_conda_prefix_and_from_venv(run, sandbox, monkeypatch):
    active = make_env(sandbox.root / "envs" / "lab")
    monkeypatch.setenv("CONDA_PREFIX", str(active))
    assert run("use", "tuna", "--tool", "conda", "--scope", "venv").exit_code == 0
    assert (active / ".condarc").read_text() == full_layout(TUNA)
    assert conda_status(run)["origin"]["path"] == str(active / ".condarc")
    other = make_env(sandbox.root / "envs" / "other")
    assert run("use", "aliyun", "--tool", "conda", "--scope", "venv", "--venv", str(other)).exit_code == 0
    assert conda_reads(other / ".condarc")["default_channels"][0] == f"{ALIYUN}/pkgs/main"
    assert not condarc(sandbox).exists()


def test_env_scope_errors(run, sandbox):
    result = run("use", "tuna", "--tool", "conda", "--scope", "venv")
    assert result.exit_code == 2 and "CONDA_PREFIX" in result.stderr and "--venv" in result.stderr
    plain = sandbox.root / "plain"
    plain.mkdir()
    result = run("use", "tuna", "--tool", "conda", "--scope", "venv", "--venv", str(plain))
    assert result.exit_code == 2 and "conda-meta" in result.stderr
    assert list(plain.iterdir()) == []


def test_env_scope_of_a_plain_virtualenv_leaves_conda_out(run, sandbox, on_path):
    on_path("conda")
    venv = sandbox.root / ".venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    result = run("use", "tuna", "--scope", "venv", "--venv", str(venv))
    assert result.exit_code == 0, result.stderr
    assert (venv / "pip.conf").exists() and not (venv / ".condarc").exists()


# -- which tools `use` touches ---------------------------------------------------------

def test_conda_on_path_or_an_existing_condarc_is_configured_with_pip(run, sandbox, on_path):
    assert run("use", "tuna").exit_code == 0
    assert sandbox.user_pip_conf.exists() and not condarc(sandbox).exists()  # no conda here
    on_path("micromamba")
    result = run("use", "aliyun")
    assert result.exit_code == 0, result.stderr
    assert "conda: created" in result.stdout and "pip: updated" in result.stdout
    assert conda_reads(condarc(sandbox))["default_channels"][0] == f"{ALIYUN}/pkgs/main"


def test_existing_condarc_alone_makes_conda_in_use(sandbox):
    ctx = Context.from_os()
    assert not conda.in_use(ctx, Scope.USER)
    write(condarc(sandbox), "channels: [defaults]\n")
    assert conda.in_use(ctx, Scope.USER)
    assert not conda.in_use(ctx, Scope.VENV)


def test_mirror_without_conda_named_explicitly_is_an_error(run, sandbox):
    before = snapshot(sandbox.root)
    result = run("use", "huawei", "--tool", "pip,conda")
    assert result.exit_code == 2
    assert "huawei has no conda mirror" in result.stderr
    assert snapshot(sandbox.root) == before
    assert run("history", "--json").json() == []


def test_mirror_without_conda_found_in_use_is_a_warning(run, sandbox, on_path):
    on_path("conda")
    result = run("use", "huawei")
    assert result.exit_code == 0, result.stderr
    assert "conda left as it is: huawei has no conda mirror" in result.stderr
    assert "huaweicloud" in sandbox.user_pip_conf.read_text()
    assert not condarc(sandbox).exists()


def test_pip_and_conda_are_one_transaction_when_a_folder_is_a_file(run, sandbox, monkeypatch):
    original = "[global]\ntimeout = 60\n"
    write(sandbox.user_pip_conf, original)
    blocker = sandbox.root / "blocker"
    blocker.write_text("a file where HOME's parent folder should be\n")
    monkeypatch.setenv("HOME", str(blocker / "home"))
    result = run("use", "tuna", "--tool", "pip,conda")
    assert result.exit_code == 5, result.stderr
    assert str(blocker) in result.stderr
    assert sandbox.user_pip_conf.read_text() == original
    assert run("history", "--json").json() == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where no folder can be made")
def test_pip_and_conda_are_one_transaction_when_the_second_write_fails(run, sandbox):
    original = "[global]\ntimeout = 60\n"
    write(sandbox.user_pip_conf, original)
    condarc(sandbox).symlink_to("/proc/mirrorctl-cannot-exist/.condarc")  # planned fine, cannot be written
    result = run("use", "tuna", "--tool", "pip,conda")
    assert result.exit_code == 5 and "/proc/mirrorctl-cannot-exist" in result.stderr, result.stderr
    assert sandbox.user_pip_conf.read_text() == original
    assert not list(sandbox.user_pip_conf.parent.glob(".*mirrorctl-tmp"))
    assert run("history", "--json").json() == []


# -- files conda cannot read ----------------------------------------------------------

@pytest.mark.parametrize("content, fragment", [
    (b"channels:\n  - defaults\n default_channels: [\n", "line 3"),
    (b"channels: [defaults\n", "line 2"),
    (b"\xef\xbb\xbfchannels:\n  - defaults\n", "byte-order mark"),
    (b"- defaults\n- conda-forge\n", "not a mapping"),
    (b"just words\n", "not a mapping"),
    (b"channels:\n\t- defaults\n", "line 2"),
    (b"ssl_verify: true\nssl_verify: false\n", "duplicate key"),
    (b"# caf\xe9\nchannels: [defaults]\n", "not valid UTF-8"),
    (b"\xff\xfec\x00h\x00", "not valid UTF-8"),
    (b"default_channels: https://mirror.example/pkgs/main\n", "must be a list"),
    (b"custom_channels:\n  - conda-forge\n", "must map channel names"),
])
def test_a_file_conda_cannot_read_is_refused_and_left_alone(run, sandbox, content, fragment):
    condarc(sandbox).write_bytes(content)
    before = snapshot(sandbox.root)
    result = run("use", "tuna", "--tool", "pip,conda")
    assert result.exit_code == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mirrorctl: error: ") and "hint:" in lines[0]
    assert str(condarc(sandbox)) in lines[0] and fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert snapshot(sandbox.root) == before
    status = run("status", "--tool", "conda")
    assert status.exit_code == 4 and str(condarc(sandbox)) in status.stderr


# -- status ----------------------------------------------------------------------------

def test_status_with_nothing_configured_is_the_official_default(run, sandbox):
    result = run("status", "--json", "--all")
    assert result.exit_code == 0
    st = next(t for t in result.json()["tools"] if t["tool"] == "conda")
    assert st["index_url"] == "https://repo.anaconda.com/pkgs/main"
    assert st["mirror"] == "official" and st["origin"]["kind"] == "default" and st["error"] is None
    assert st["details"]["channels"] == [{"name": "defaults", "url": "https://repo.anaconda.com/pkgs/main",
                                          "origin": st["origin"]}]
    assert not any("disagree" in w for w in result.json()["warnings"] if "conda" in w)


def test_status_json_has_the_same_shape_as_pip(run, sandbox):
    run("use", "tuna", "--tool", "pip,conda")
    tools = {t["tool"]: t for t in run("status", "--json").json()["tools"]}
    assert set(tools["conda"]) == set(tools["pip"])
    assert set(tools["conda"]["origin"]) == set(tools["pip"]["origin"])
    details = tools["conda"]["details"]
    assert set(details) >= {"channels", "default_channels", "custom_channels"}
    assert details["custom_channels"]["conda-forge"]["url"] == f"{TUNA}/cloud"
    assert details["default_channels"][0] == {"url": f"{TUNA}/pkgs/main", "origin": tools["conda"]["origin"]}
    assert tools["conda"]["mirror"] == tools["pip"]["mirror"] == "tuna"


def test_status_merges_the_search_path_as_conda_does(run, sandbox, monkeypatch):
    system = write(sandbox.etc / "etc" / "conda" / ".condarc",
                   "default_channels:\n  - https://a.example/pkgs/main\n"
                   "custom_channels:\n  bioconda: https://a.example/cloud\n  conda-forge: https://a.example/cloud\n")
    dropin = write(sandbox.etc / "etc" / "conda" / "condarc.d" / "10-site.yml",
                   "channel_alias: https://alias.example\n")
    write(sandbox.etc / "etc" / "conda" / "condarc.d" / "notes.txt", "channel_alias: ignored\n")
    user = write(condarc(sandbox), f"channels:\n  - defaults\n  - conda-forge\n  - bioconda\n  - nvidia\n"
                                   f"default_channels:\n  - {TUNA}/pkgs/main\n  - {TUNA}/pkgs/r\n")
    env = make_env(sandbox.root / "env")
    env_file = write(env / ".condarc", f"custom_channels:\n  conda-forge: {ALIYUN}/cloud\n")
    monkeypatch.setenv("CONDA_PREFIX", str(env))
    st = conda_status(run, "--root", str(sandbox.etc))
    # lists merge (the later file's items first), mappings merge key by key (the later file wins)
    assert st["index_url"] == f"{TUNA}/pkgs/main" and st["mirror"] == "tuna"
    assert st["origin"]["path"] == str(user)
    assert [d["url"] for d in st["details"]["default_channels"]] == [
        f"{TUNA}/pkgs/main", f"{TUNA}/pkgs/r", "https://a.example/pkgs/main"]
    assert [s["origin"]["path"] for s in st["shadowed"]] == [str(system)]
    channels = {c["name"]: c for c in st["details"]["channels"]}
    assert channels["conda-forge"]["url"] == f"{ALIYUN}/cloud/conda-forge"
    assert channels["conda-forge"]["origin"]["path"] == str(env_file)
    assert channels["bioconda"]["url"] == "https://a.example/cloud/bioconda"
    assert channels["bioconda"]["origin"]["path"] == str(system)
    assert channels["nvidia"]["url"] == "https://alias.example/nvidia"
    assert channels["nvidia"]["origin"]["path"] == str(dropin)
    assert any("channel_alias is https://alias.example" in w for w in st["warnings"])
    assert any("default_channels is set in" in w for w in st["warnings"])


def test_condarc_variable_and_conda_variables_come_last(run, sandbox, monkeypatch):
    write(condarc(sandbox), f"default_channels:\n  - {TUNA}/pkgs/main\n")
    last = write(sandbox.root / "ci.yml", f"default_channels:\n  - {ALIYUN}/pkgs/main\n")
    monkeypatch.setenv("CONDARC", str(last))
    st = conda_status(run)
    assert st["mirror"] == "aliyun" and st["origin"]["path"] == str(last)
    monkeypatch.setenv("CONDA_DEFAULT_CHANNELS", f"{USTC}/pkgs/main, {USTC}/pkgs/r")
    st = conda_status(run)
    assert st["index_url"] == f"{USTC}/pkgs/main"
    assert st["origin"] == {"kind": "env", "path": None, "section": None, "variable": "CONDA_DEFAULT_CHANNELS"}


def test_final_marker_stops_the_later_files(run, sandbox):
    write(sandbox.etc / "etc" / "conda" / ".condarc", f"default_channels: #!final\n  - {ALIYUN}/pkgs/main\n")
    write(condarc(sandbox), f"default_channels:\n  - {TUNA}/pkgs/main\n")
    st = conda_status(run, "--root", str(sandbox.etc))
    assert st["mirror"] == "aliyun"
    assert [d["url"] for d in st["details"]["default_channels"]] == [f"{ALIYUN}/pkgs/main"]


def test_status_warns_when_pip_and_conda_use_different_mirrors(run, sandbox):
    run("use", "tuna", "--tool", "pip")
    run("use", "aliyun", "--tool", "conda")
    result = run("status")
    assert result.exit_code == 0
    assert "the tools disagree" in result.stderr and "conda uses aliyun" in result.stderr


def test_status_warns_about_mirror_urls_listed_in_channels(run, sandbox):
    write(condarc(sandbox), f"channels:\n  - {TUNA}/pkgs/free/\n  - defaults\n"
                            f"default_channels:\n  - {ALIYUN}/pkgs/main\n")
    st = conda_status(run)
    assert st["mirror"] == "aliyun"
    assert any(f"channels lists {TUNA}/pkgs/free/" in w and "stays on tuna" in w for w in st["warnings"])


def test_status_masks_passwords_and_tokens(run, sandbox):
    write(condarc(sandbox), "default_channels:\n  - https://bob:hunter2@conda.corp.example/t/tok-123/main\n")
    result = run("status", "--json")
    assert "hunter2" not in result.stdout + result.stderr and "tok-123" not in result.stdout + result.stderr
    st = next(t for t in result.json()["tools"] if t["tool"] == "conda")
    assert st["index_url"] == "https://bob:****@conda.corp.example/t/****/main"


def test_status_sees_the_planned_change_through_the_overlay(sandbox, monkeypatch):
    ctx = Context.from_os()
    catalog = load_catalog(ctx)
    changes = conda.plan_use(ctx, catalog.get("tuna"), Scope.USER)
    overlay = {str(c.path): c.after for c in changes}
    assert conda.status(ctx, catalog, overlay).mirror == "tuna"
    assert not condarc(sandbox).exists()
    monkeypatch.setenv("CONDA_DEFAULT_CHANNELS", "https://corp.example/pkgs/main")
    ctx = Context.from_os()
    st = conda.status(ctx, catalog, overlay)
    assert st.mirror is None and st.origin.variable == "CONDA_DEFAULT_CHANNELS"


def test_use_says_nothing_overrides_the_file_just_written(run, sandbox):
    result = run("use", "tuna", "--tool", "conda")
    assert result.exit_code == 0 and "will still use" not in result.stderr


# -- paths per platform, from an injected Context ---------------------------------------

def test_linux_search_path_in_conda_order():
    ctx = Context(environ={"HOME": "/home/li", "XDG_CONFIG_HOME": "/home/li/.xdg", "CONDA_EXE": "/opt/conda/bin/conda",
                           "CONDA_PREFIX": "/opt/conda/envs/lab", "CONDARC": "/srv/ci.yml"},
                  platform="linux", cwd=PurePosixPath("/"))
    paths = [str(f.path) for f in conda.search_path(ctx)]
    assert paths == [
        "/etc/conda/.condarc", "/etc/conda/condarc", "/etc/conda/condarc.d",
        "/var/lib/conda/.condarc", "/var/lib/conda/condarc", "/var/lib/conda/condarc.d",
        "/opt/conda/.condarc", "/opt/conda/condarc", "/opt/conda/condarc.d",
        "/home/li/.xdg/conda/.condarc", "/home/li/.xdg/conda/condarc", "/home/li/.xdg/conda/condarc.d",
        "/home/li/.config/conda/.condarc", "/home/li/.config/conda/condarc", "/home/li/.config/conda/condarc.d",
        "/home/li/.conda/.condarc", "/home/li/.conda/condarc", "/home/li/.conda/condarc.d",
        "/home/li/.condarc",
        "/opt/conda/envs/lab/.condarc", "/opt/conda/envs/lab/condarc", "/opt/conda/envs/lab/condarc.d",
        "/srv/ci.yml",
    ]
    assert str(conda.config_path(ctx, Scope.USER)) == "/home/li/.condarc"
    assert str(conda.config_path(ctx, Scope.GLOBAL)) == "/etc/conda/.condarc"


def test_base_env_active_is_read_once_at_the_installation_place():
    ctx = Context(environ={"HOME": "/home/li", "CONDA_ROOT": "/opt/conda", "CONDA_PREFIX": "/opt/conda"},
                  platform="linux")
    files = conda.search_path(ctx)
    assert [f.kind for f in files if str(f.path) == "/opt/conda/.condarc"] == ["root"]


def test_macos_paths_and_root():
    ctx = Context(environ={"HOME": "/Users/li"}, platform="darwin", root=PurePosixPath("/Volumes/img"))
    assert str(conda.config_path(ctx, Scope.USER)) == "/Users/li/.condarc"
    assert str(conda.config_path(ctx, Scope.GLOBAL)) == "/Volumes/img/etc/conda/.condarc"
    paths = [str(f.path) for f in conda.search_path(ctx)]
    assert "/Users/li/.config/conda/.condarc" in paths and paths[-1] == "/Users/li/.condarc"


def test_windows_paths():
    env = {"USERPROFILE": "C:\\Users\\li", "PROGRAMDATA": "D:\\ProgramData",
           "CONDA_EXE": "C:\\Users\\li\\miniforge3\\Scripts\\conda.exe",
           "CONDA_PREFIX": "C:\\Users\\li\\miniforge3\\envs\\x"}
    ctx = Context(environ=env, platform="win32", cwd=PureWindowsPath("C:\\work"))
    assert str(conda.config_path(ctx, Scope.USER)) == "C:\\Users\\li\\.condarc"
    # conda reads C:\ProgramData\conda whatever %PROGRAMDATA% says
    assert str(conda.config_path(ctx, Scope.GLOBAL)) == "C:\\ProgramData\\conda\\.condarc"
    paths = [str(f.path) for f in conda.search_path(ctx)]
    assert paths[:3] == ["C:\\ProgramData\\conda\\.condarc", "C:\\ProgramData\\conda\\condarc",
                         "C:\\ProgramData\\conda\\condarc.d"]
    assert "C:\\Users\\li\\miniforge3\\.condarc" in paths
    assert paths[-3] == "C:\\Users\\li\\miniforge3\\envs\\x\\.condarc"
    rooted = Context(environ=env, platform="win32", root=PureWindowsPath("E:\\image"))
    assert str(conda.config_path(rooted, Scope.GLOBAL)) == "E:\\image\\ProgramData\\conda\\.condarc"


def test_environment_variables_for_one_process():
    catalog = load_catalog(Context(environ={"HOME": "/nonexistent"}))
    assert conda.environment(catalog.get("tuna")) == {
        "CONDA_DEFAULT_CHANNELS": f"{TUNA}/pkgs/main,{TUNA}/pkgs/r,{TUNA}/pkgs/msys2"}
    assert conda.environment(catalog.get("ustc")) == {}
    assert conda.environment(catalog.get("huawei")) == {}


# -- the YAML editor on shapes the .condarc above does not have --------------------------

@pytest.mark.parametrize("before, key, value, after", [
    # a flow list is written anew; every other line stays
    ("a: 1   # x\nlist: [a, b]\nz: 2\n", "list", ["c"], "a: 1   # x\nlist:\n  - c\nz: 2\n"),
    # no line break at the end: one is added before the new key
    ("a: 1", "b", True, "a: 1\nb: true\n"),
    # CRLF kept, in new lines too
    ("a:\r\n- x\r\n", "b", ["z"], "a:\r\n- x\r\nb:\r\n- z\r\n"),
    # a quoted value keeps its comment
    ("s: 'no'  # why\n", "s", True, "s: true  # why\n"),
    # strings YAML would not read back as strings are quoted
    ("m:\n  k: v\n", "m", {"k": "v", "p": "yes", "o": "a: b"}, 'm:\n  k: v\n  p: "yes"\n  o: "a: b"\n'),
    # a top-level flow mapping: ruamel dumps the document
    ("{a: 1}\n", "b", ["x"], "{a: 1, b: [x]}\n"),
    # a comment-only file gains the key after its comments
    ("# nothing yet\n", "b", "x", "# nothing yet\nb: x\n"),
])
def test_yaml_edits(before, key, value, after):
    doc = YamlDocument(before, "f.yml")
    doc.set(key, value)
    assert doc.text() == after
    assert YamlDocument(after, "f.yml").values()[key] == value


def test_yaml_removal_keeps_comments_between_keys():
    doc = YamlDocument("a: 1\n# about b\nb:\n  - x   # eol\n  # inner\n  - y\n\n# about c\nc: 2\n", "f.yml")
    doc.remove("b")
    assert doc.text() == "a: 1\n# about b\n\n# about c\nc: 2\n"


def test_a_mirror_added_with_conda_is_used_and_recognised(run, sandbox):
    assert run("add", "corp", "https://pypi.corp.example/simple", "--conda", "https://conda.corp.example/",
               "--conda-layout", "full").exit_code == 0
    assert run("use", "corp", "--tool", "conda").exit_code == 0
    assert conda_reads(condarc(sandbox))["default_channels"][0] == "https://conda.corp.example/pkgs/main"
    assert conda_status(run)["mirror"] == "corp"
    assert run("use", "tuna", "--tool", "conda").exit_code == 0  # corp's entries are replaced, not kept
    assert condarc(sandbox).read_text() == full_layout(TUNA)


def test_venv_scope_in_an_active_conda_env_without_a_virtualenv(run, sandbox, monkeypatch, on_path):
    env = sandbox.root / "condaenv"
    (env / "conda-meta").mkdir(parents=True)
    monkeypatch.setenv("CONDA_PREFIX", str(env))
    on_path("conda")
    result = run("use", "tuna", "--scope", "venv")
    assert result.exit_code == 0, result.stderr
    assert (env / ".condarc").exists() and not (env / "pip.conf").exists()


def test_status_with_a_list_where_a_flag_belongs_is_not_an_internal_error(run, sandbox):
    (sandbox.home / ".condarc").write_text("show_channel_urls: [1]\nchannel_alias: {a: 1}\n")
    result = run("status", "--tool", "conda", "--files")
    assert "internal error" not in result.stderr
    assert result.exit_code in (0, 4)
