"""The journal is data, not orders: ownership, every field checked, a damaged entry breaks only itself."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (chown)")
NOBODY = 65534


def journal(sandbox) -> Path:
    return sandbox.state / "mirrorctl" / "journal"


def entry_file(sandbox, n: int = 1) -> Path:
    return journal(sandbox) / f"{n:08d}" / "entry.json"


def edit_entry(sandbox, n: int, **fields) -> None:
    path = entry_file(sandbox, n)
    data = json.loads(path.read_text())
    for key, value in fields.items():
        if key.startswith("file_"):
            data["files"][0][key[5:]] = value
        else:
            data[key] = value
    path.write_text(json.dumps(data))


@needs_root
def test_undo_refuses_a_state_folder_another_user_owns(run, sandbox):
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    state = sandbox.state / "mirrorctl"
    for path in [state, *state.rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)
    before = sandbox.user_pip_conf.read_bytes()
    result = run("undo")
    assert result.exit_code == 5, result.stderr
    assert str(state) in result.stderr and "belongs to user id 65534" in result.stderr
    assert sandbox.user_pip_conf.read_bytes() == before
    result = run("use", "aliyun", "--tool", "pip")
    assert result.exit_code == 5 and "belongs to user id" in result.stderr
    assert sandbox.user_pip_conf.read_bytes() == before
    assert run("history").exit_code == 5


@needs_root
def test_an_entry_another_user_owns_is_damaged_not_obeyed(run, sandbox):
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    os.chown(entry_file(sandbox), NOBODY, NOBODY)
    result = run("undo")
    assert result.exit_code == 4 and "cannot be undone" in result.stderr and "65534" in result.stderr
    assert "tuna" in sandbox.user_pip_conf.read_text()


def test_a_state_folder_others_can_write_is_refused(run, sandbox):
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    os.chmod(journal(sandbox), 0o777)
    result = run("undo")
    assert result.exit_code == 5 and "can be written by other users" in result.stderr
    assert "tuna" in sandbox.user_pip_conf.read_text()


@pytest.mark.parametrize("field, value", [
    ("file_backup", "../../../../etc/passwd"),
    ("file_backup", "/etc/shadow"),
    ("file_path", "relative/pip.conf"),
    ("file_path", "/tmp/../etc/pip.conf"),
    ("file_mode", "0644"),
    ("file_mode", 0o17777),
    ("file_uid", -1),
    ("file_written_sha256", "not a hash"),
    ("file_existed", "yes"),
    ("seq", 7),
    ("state", "done-ish"),
    ("files", "everything"),
])
def test_a_damaged_entry_breaks_only_itself(run, sandbox, field, value):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    assert run("use", "aliyun", "--tool", "pip").exit_code == 0
    edit_entry(sandbox, 2, **{field: value})
    history = run("history", "--json")
    assert history.exit_code == 0, history.stderr
    listed = run("history")
    assert "damaged" in listed.stdout and "use tuna" in listed.stdout
    result = run("undo")
    assert result.exit_code == 4, result.stderr
    assert "entry 2" in result.stderr and "cannot be undone" in result.stderr
    assert "aliyun" in sandbox.user_pip_conf.read_text()
    (journal(sandbox) / "00000002").rename(sandbox.root / "set-aside")  # as the hint says
    assert run("undo").exit_code == 6  # the file holds what entry 2 wrote, not what entry 1 did
    assert run("undo", "--force").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == "[global]\ntimeout = 5\n"


def test_a_backup_that_is_a_symlink_is_not_followed(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    secret = sandbox.root / "secret"
    secret.write_text("do not copy me\n")
    backup = journal(sandbox) / "00000001" / "000.bak"
    backup.unlink()
    backup.symlink_to(secret)
    result = run("undo")
    assert result.exit_code != 0 and "not a plain file" in result.stderr
    assert "tuna" in sandbox.user_pip_conf.read_text()


def test_set_id_bits_in_the_journal_are_never_restored(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    sandbox.user_pip_conf.unlink()  # so undo must write the file anew, with the journal's mode
    edit_entry(sandbox, 1, file_mode=0o6755)
    result = run("undo", "--force")
    assert result.exit_code == 0, result.stderr
    mode = stat.S_IMODE(sandbox.user_pip_conf.stat().st_mode)
    assert mode == 0o755 and not mode & (stat.S_ISUID | stat.S_ISGID)


def test_entries_are_ordered_by_sequence_not_by_clock(run, sandbox, monkeypatch):
    """Two changes made under different time zones are undone newest first."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    monkeypatch.setenv("TZ", "Pacific/Pago_Pago")  # UTC-11: a local clock a day behind
    assert run("use", "aliyun", "--tool", "pip").exit_code == 0
    edit_entry(sandbox, 2, time="1999-01-01T00:00:00+00:00")  # even a clock that went backwards
    assert [e["command"] for e in run("history", "--json").json()] == ["mirrorctl use aliyun --tool pip",
                                                                      "mirrorctl use tuna --tool pip"]
    assert run("undo").exit_code == 0
    assert "tuna" in sandbox.user_pip_conf.read_text()


def test_journal_paths_are_absolute_even_for_a_relative_project(run, sandbox):
    project = sandbox.root / "proj"
    project.mkdir()
    (project / "uv.toml").write_text("# uv\n")
    os.chdir(sandbox.root)
    assert run("use", "tuna", "--scope", "project", "--project", "proj", "--tool", "uv").exit_code == 0
    data = json.loads(entry_file(sandbox).read_text())
    assert data["files"][0]["path"] == str(project / "uv.toml")
    os.chdir(project)  # undo from elsewhere
    assert run("undo").exit_code == 0
    assert (project / "uv.toml").read_text() == "# uv\n"


@needs_root
def test_root_with_another_users_home_keeps_its_journal_in_its_own_folder(run, sandbox, monkeypatch, tmp_path):
    """`sudo` keeps HOME on many systems: root's journal must not go into that user's home."""
    from mirrorctl import context

    own_home = tmp_path / "roots-home"
    own_home.mkdir()
    monkeypatch.setattr(context, "_own_home", lambda: own_home)
    os.chown(sandbox.home, NOBODY, NOBODY)
    result = run("use", "ustc", "--scope", "global", "--root", str(sandbox.etc), "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert "journal kept in root's own" in result.stdout + result.stderr
    assert not (sandbox.state / "mirrorctl").exists()
    assert (own_home / ".local" / "state" / "mirrorctl" / "journal" / "00000001" / "entry.json").is_file()
    assert run("undo").exit_code == 0
    assert not sandbox.global_pip_conf.exists()


def test_the_next_command_rolls_back_an_interrupted_change_and_says_so(run, sandbox):
    """A pending entry (the process died mid-change) is put back before `use` plans anew."""
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    edit_entry(sandbox, 1, state="pending")  # as a kill between the files and the commit mark leaves it
    result = run("use", "aliyun", "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert "rolled back an interrupted change" in result.stdout + result.stderr
    assert "aliyun" in sandbox.user_pip_conf.read_text()
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == "[global]\ntimeout = 5\n"
    assert run("undo").exit_code == 8  # the interrupted one was already put back


def test_undo_of_an_interrupted_change_stops_there(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    after_tuna = sandbox.user_pip_conf.read_bytes()
    assert run("use", "aliyun", "--tool", "pip").exit_code == 0
    edit_entry(sandbox, 2, state="pending")
    result = run("undo")
    assert result.exit_code == 0 and "interrupted" in result.stdout
    assert sandbox.user_pip_conf.read_bytes() == after_tuna  # not also the change before it
    assert "rolled back" in run("history").stdout


def test_status_warns_about_an_interrupted_change(run, sandbox):
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    edit_entry(sandbox, 1, state="pending")
    result = run("status")
    assert "interrupted" in result.stderr and "mirrorctl undo" in result.stderr


def test_a_fifo_put_in_place_of_a_file_just_before_the_swap_is_never_replaced(sandbox, tmp_path):
    """The under-lock check passed; then another process put a FIFO there. The swap checks again."""
    from test_faults import make_world, mirrorctl

    counted = tmp_path / "count.log"
    mirrorctl(make_world(tmp_path / "w0"), "use", "tuna", "--tool", "pip", log=counted, watch=tmp_path / "w0")
    staging = next(n for n, line in enumerate(counted.read_text().splitlines(), 1)
                   if line.split()[1] == "open" and ".pip.conf." in line and "-new" in line)
    env = make_world(tmp_path / "w")
    home = tmp_path / "w" / "home"
    pip_conf = home / ".config" / "pip" / "pip.conf"
    result = mirrorctl({**env, "FAULT_FIFO": str(pip_conf)}, "use", "tuna", "--tool", "pip",
                       plan=f"{staging}:fifo", watch=tmp_path / "w")
    assert result.returncode == 4, result.stdout + result.stderr
    assert str(pip_conf) in result.stderr and "fifo" in result.stderr.lower()
    assert stat.S_ISFIFO(os.lstat(pip_conf).st_mode)  # left in place, never replaced
    assert not list(home.rglob("*mirrorctl-tmp"))


def test_an_undo_whose_record_cannot_be_written_says_so_and_the_next_undo_takes_back_no_more(run, sandbox,
                                                                                            monkeypatch):
    from mirrorctl import transaction

    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    assert run("use", "aliyun", "--tool", "pip").exit_code == 0
    after_aliyun = sandbox.user_pip_conf.read_bytes()
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    real_save = transaction._save_entry

    def full_disk(entry):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(transaction, "_save_entry", full_disk)
    result = run("undo")
    assert result.exit_code == 5 and "the files are back as before" in result.stderr, result.stderr
    assert sandbox.user_pip_conf.read_bytes() == after_aliyun
    monkeypatch.setattr(transaction, "_save_entry", real_save)
    again = run("undo")
    assert again.exit_code == 0 and "already as before it" in again.stdout, again.stdout
    assert sandbox.user_pip_conf.read_bytes() == after_aliyun  # aliyun's change stays
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.read_text() == "[global]\ntimeout = 5\n"


def test_output_that_cannot_be_written_says_the_change_was_made(sandbox, tmp_path):
    import subprocess
    import sys

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "mirrorctl", "use", "tuna", "--tool", "pip"], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 1
    assert "the command itself was carried out" in proc.stderr and "Traceback" not in proc.stderr
    assert "tuna" in sandbox.user_pip_conf.read_text()


@needs_root
def test_root_with_a_state_home_in_another_users_folder_keeps_its_journal_in_its_own(run, sandbox, monkeypatch):
    """sudo -E keeps XDG_STATE_HOME: HOME may be root's, the state folder's parent another user's."""
    state_home = sandbox.root / "alice-state"
    state_home.mkdir()
    os.chown(state_home, NOBODY, NOBODY)
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    result = run("use", "ustc", "--scope", "global", "--root", str(sandbox.etc), "--tool", "pip")
    assert result.exit_code == 0, result.stderr
    assert not (state_home / "mirrorctl").exists()
    assert (sandbox.root / "own-home" / ".local" / "state" / "mirrorctl" / "journal").is_dir()


@needs_root
def test_undo_never_gives_a_file_to_the_owner_an_edited_journal_names(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\ntimeout = 5\n")
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    edit_entry(sandbox, 1, file_uid=NOBODY, file_gid=NOBODY)
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.stat().st_uid == os.geteuid()


def test_ctrl_c_during_a_change_says_every_file_was_put_back(sandbox, tmp_path):
    from test_faults import make_world, mirrorctl, snapshot

    counted = tmp_path / "count.log"
    mirrorctl(make_world(tmp_path / "w0"), "use", "tuna", log=counted, watch=tmp_path / "w0")
    swap = next(n for n, line in enumerate(counted.read_text().splitlines(), 1) if " os.rename " in line
                and "/home/" in line)
    env = make_world(tmp_path / "w")
    before = snapshot(tmp_path / "w" / "home")
    result = mirrorctl(env, "use", "tuna", plan=f"{swap + 1}:int", watch=tmp_path / "w")
    assert result.returncode == 130, result.stderr
    assert "every file was put back" in result.stderr
    assert snapshot(tmp_path / "w" / "home") == before
