"""The journal, undo and the all-or-nothing transaction."""

import os
import stat

import pytest

from conftest import pip_default_index
from mirrorctl import transaction
from mirrorctl.errors import ConflictError, NotWritableError
from mirrorctl.transaction import FileChange

ORIGINAL = b"# lab settings\r\n[global]\r\ntimeout = 60\r\n\r\n; end\r\n"


def test_undo_restores_bytes_exactly(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_bytes(ORIGINAL)
    run("use", "tuna")
    run("use", "http://127.0.0.1:9/simple")
    assert sandbox.user_pip_conf.read_bytes() != ORIGINAL
    assert run("undo").exit_code == 0
    assert b"tuna" in sandbox.user_pip_conf.read_bytes()
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.read_bytes() == ORIGINAL
    result = run("undo")
    assert result.exit_code == 8 and "nothing to undo" in result.stderr


def test_undo_removes_a_file_that_did_not_exist_and_its_new_folders(run, sandbox):
    run("use", "tuna")
    assert sandbox.user_pip_conf.exists()
    run("undo")
    assert not sandbox.user_pip_conf.exists()
    assert not (sandbox.config / "pip").exists()


def test_undo_refuses_when_the_file_was_edited_since_unless_forced(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_bytes(ORIGINAL)
    run("use", "tuna")
    edited = sandbox.user_pip_conf.read_bytes() + b"# my own edit\n"
    sandbox.user_pip_conf.write_bytes(edited)
    result = run("undo")
    assert result.exit_code == 6
    assert str(sandbox.user_pip_conf) in result.stderr and "--force" in result.stderr
    assert sandbox.user_pip_conf.read_bytes() == edited
    result = run("undo", "--force")
    assert result.exit_code == 0
    assert sandbox.user_pip_conf.read_bytes() == ORIGINAL


def test_undo_dry_run_shows_the_diff_and_changes_nothing(run, sandbox):
    run("use", "tuna")
    result = run("undo", "--dry-run")
    assert result.exit_code == 0 and "-index-url = https://pypi.tuna" in result.stdout
    assert sandbox.user_pip_conf.exists()
    assert run("undo").exit_code == 0


def test_history_lists_newest_first_and_marks_undone(run, sandbox):
    run("use", "tuna")
    run("use", "aliyun")
    run("undo")
    entries = run("history", "--json").json()
    assert [e["command"] for e in entries] == ["mirrorctl use aliyun", "mirrorctl use tuna"]
    assert entries[0]["undone"] and not entries[1]["undone"]
    assert entries[0]["files"][0]["path"] == str(sandbox.user_pip_conf)


def test_journal_and_backups_are_private(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_bytes(ORIGINAL)
    run("use", "https://bob:hunter2@corp.example/simple")
    journal = sandbox.state / "mirrorctl" / "journal"
    entry = next(journal.iterdir())
    assert stat.S_IMODE(journal.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o700
    for f in entry.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert b"hunter2" not in (entry / "entry.json").read_bytes()  # the command line is masked
    assert "hunter2" not in run("history").stdout


def test_all_or_nothing_when_the_second_file_cannot_be_written(sandbox, tmp_path):
    first = tmp_path / "a" / "first.conf"
    first.parent.mkdir()
    first.write_bytes(b"old first\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    second = blocker / "second.conf"
    changes = [FileChange(first, b"old first\n", b"new first\n"), FileChange(second, None, b"new second\n")]
    with pytest.raises(NotWritableError):
        transaction.apply(changes, state_dir=sandbox.state / "m", command="test")
    assert first.read_bytes() == b"old first\n"
    assert not list(first.parent.glob(".*mirrorctl-tmp"))
    assert transaction.history(sandbox.state / "m") == []


def test_all_or_nothing_when_a_swap_fails_midway(sandbox, tmp_path, monkeypatch):
    folder = tmp_path / "files"
    folder.mkdir()
    one, two = folder / "one.conf", folder / "two.conf"
    one.write_bytes(b"1\n")
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if str(dst) == str(two):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    changes = [FileChange(one, b"1\n", b"one\n"), FileChange(two, None, b"two\n")]
    with pytest.raises(NotWritableError) as err:
        transaction.apply(changes, state_dir=sandbox.state / "m", command="t")
    assert "permission denied" in err.value.message
    monkeypatch.setattr(os, "replace", real_replace)
    assert one.read_bytes() == b"1\n" and not two.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["one.conf"]


def test_apply_refuses_when_the_file_changed_after_planning(sandbox, tmp_path):
    target = tmp_path / "x.conf"
    target.write_bytes(b"planned from this\n")
    change = FileChange(target, b"planned from this\n", b"new\n")
    target.write_bytes(b"someone else wrote\n")
    with pytest.raises(ConflictError):
        transaction.apply([change], state_dir=sandbox.state / "m", command="t")
    assert target.read_bytes() == b"someone else wrote\n"


def test_concurrent_runs_never_corrupt_the_file(sandbox, tmp_path):
    """Several real processes switching at once: the file always ends as one valid, complete state."""
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-m", "mirrorctl", "use", name], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
             for name in ("tuna", "aliyun", "ustc", "bfsu", "tuna", "aliyun")]
    codes = [p.wait(timeout=120) for p in procs]
    assert set(codes) <= {0, 6}  # 6: lost a race, told to run again; never a broken file
    text = sandbox.user_pip_conf.read_text()
    assert text.count("[global]") == 1 and text.count("index-url") == 1
    from conftest import pip_effective

    assert pip_effective()["install"]["index_url"] in text


def test_two_tools_editing_one_file_both_land_and_undo_is_exact(run, sandbox):
    """uv and Poetry share pyproject.toml: the second builds on the first's result."""
    project = sandbox.root / "proj"
    project.mkdir()
    original = '[tool.poetry]\nname = "x"\nversion = "0"\n\n[tool.uv]\ndev-dependencies = []\n'
    (project / "pyproject.toml").write_text(original)
    result = run("use", "tuna", "--scope", "project", "--project", str(project), "--json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert set(data["tools"]) == {"uv", "poetry"}
    assert [f["tool"] for f in data["files"]] == ["uv, poetry"]
    text = (project / "pyproject.toml").read_text()
    assert "[[tool.uv.index]]" in text and "[[tool.poetry.source]]" in text
    st = {t["tool"]: t for t in run("status", "--project", str(project), "--json").json()["tools"]}
    assert st["uv"]["mirror"] == "tuna" and st["poetry"]["mirror"] == "tuna"
    assert run("undo").exit_code == 0
    assert (project / "pyproject.toml").read_text() == original


def test_undo_of_a_removed_private_file_brings_back_its_mode(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.write_text("[global]\nindex-url = https://bob:s3cret@corp.example/simple\n")
    os.chmod(sandbox.user_pip_conf, 0o600)
    assert run("reset", "--tool", "pip").exit_code == 0
    assert not sandbox.user_pip_conf.exists()
    assert run("undo").exit_code == 0
    assert stat.S_IMODE(sandbox.user_pip_conf.stat().st_mode) == 0o600


def test_rollback_keeps_the_mode_of_a_file_it_puts_back(sandbox, tmp_path, monkeypatch):
    folder = tmp_path / "files"
    folder.mkdir()
    secret = folder / "secret.conf"
    secret.write_bytes(b"token\n")
    os.chmod(secret, 0o640)  # not mkstemp's 0600: the mode must really be copied
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith("second.conf"):
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(NotWritableError):
        transaction.apply([FileChange(secret, b"token\n", None), FileChange(folder / "second.conf", None, b"x")],
                          state_dir=sandbox.state / "m", command="t")
    monkeypatch.setattr(os, "replace", real_replace)
    assert secret.read_bytes() == b"token\n"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o640


def test_reset_of_a_symlinked_file_keeps_the_real_file(run, sandbox):
    dotfiles = sandbox.root / "dotfiles" / "pip.conf"
    dotfiles.parent.mkdir()
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    sandbox.user_pip_conf.symlink_to(dotfiles)
    assert run("use", "tuna").exit_code == 0
    result = run("reset")
    assert result.exit_code == 0 and "kept the link" in result.stdout
    assert sandbox.user_pip_conf.is_symlink() and dotfiles.exists() and dotfiles.read_bytes() == b""
    assert run("undo").exit_code == 0
    assert "tuna" in dotfiles.read_text()


def test_undo_removes_every_folder_it_created_even_shared_ones(run, sandbox, on_path):
    on_path("uv")
    assert not sandbox.config.exists()
    assert run("use", "tuna", "--tool", "pip,uv").exit_code == 0
    assert (sandbox.config / "pip").is_dir() and (sandbox.config / "uv").is_dir()
    assert run("undo").exit_code == 0
    assert not sandbox.config.exists()


@pip_default_index
def test_a_symlink_loop_is_a_one_line_error_for_use_and_skipped_by_status_as_by_pip(run, sandbox):
    sandbox.user_pip_conf.parent.mkdir(parents=True)
    os.symlink(sandbox.user_pip_conf, sandbox.user_pip_conf)
    result = run("use", "tuna")
    assert result.exit_code == 4, result.stderr
    assert "symlink loop" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    from conftest import pip_effective

    assert pip_effective()["install"]["index_url"] == "https://pypi.org/simple"  # the real pip skips the file
    status = run("status", "--files")
    assert status.exit_code == 0 and "a symlink loop): pip skips it" in status.stdout


def test_apply_refuses_two_changes_of_one_file(sandbox, tmp_path):
    target = tmp_path / "one.conf"
    with pytest.raises(ValueError):
        transaction.apply([FileChange(target, None, b"a"), FileChange(target, None, b"b")],
                          state_dir=sandbox.state / "m", command="t")
    assert not target.exists()


def test_undo_does_not_delete_a_file_the_user_has_since_linked_in(run, sandbox):
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    dotfiles = sandbox.root / "dot" / "pip.conf"
    dotfiles.parent.mkdir()
    sandbox.user_pip_conf.rename(dotfiles)  # what stow / a dotfiles "adopt" does
    sandbox.user_pip_conf.symlink_to(dotfiles)
    assert run("undo").exit_code == 0
    assert sandbox.user_pip_conf.is_symlink() and dotfiles.exists() and dotfiles.read_bytes() == b""
