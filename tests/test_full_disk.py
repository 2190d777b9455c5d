"""A real full disk and a real read-only file system, on a tiny tmpfs mounted for the test (root only).

Audit hooks (tests/test_faults.py) cannot see write() and fsync(); here the kernel itself says
"No space left on device" wherever the space runs out: in a backup, the journal entry, a temp file
beside a config file, the commit mark.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from test_faults import make_world, mirrorctl, snapshot

PAGE = 4096


@pytest.fixture
def tiny_fs(tmp_path):
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,nr_inodes=400,mode=0755", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(folder, leave_pages: int):
    """A filler file that leaves about this many free pages."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, free - leave_pages * PAGE))
    return filler


def test_a_full_disk_at_every_point_of_a_use_loses_nothing(tiny_fs):
    outcomes = []
    for leave in range(0, 16):
        root = tiny_fs / f"w{leave}"
        env = make_world(root)
        home = root / "home"
        before = snapshot(home)
        filler = fill(tiny_fs, leave)
        result = mirrorctl(env, "use", "tuna")
        outcomes.append(result.returncode)
        assert result.returncode in (0, 5), (leave, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
        if result.returncode == 5:
            assert "no space left" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert snapshot(home) == before, (leave, result.stderr)
        filler.unlink()
        undo = mirrorctl(env, "undo")
        assert undo.returncode in (0, 8), (leave, undo.stderr)
        assert snapshot(home) == before, (leave, result.returncode, undo.stdout, undo.stderr)
        subprocess.run(["rm", "-rf", str(root)])
    assert 5 in outcomes and 0 in outcomes, outcomes  # the disk really ran out, and later did not


def test_a_full_state_folder_changes_no_file(tiny_fs, tmp_path):
    env = make_world(tmp_path / "w")
    env["MIRRORCTL_STATE_DIR"] = str(tiny_fs / "state")
    home = tmp_path / "w" / "home"
    before = snapshot(home)
    fill(tiny_fs, 0)
    result = mirrorctl(env, "use", "tuna")
    assert result.returncode == 5, result.stderr
    assert str(tiny_fs / "state") in result.stderr and "no space left" in result.stderr
    assert snapshot(home) == before


def test_a_read_only_file_system_is_one_line_and_changes_nothing(tiny_fs):
    env = make_world(tiny_fs / "w")
    home = tiny_fs / "w" / "home"
    env["MIRRORCTL_STATE_DIR"] = str(home.parent.parent.parent / "state-elsewhere")
    before = snapshot(home)
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    result = mirrorctl(env, "use", "tuna")
    assert result.returncode == 5, result.stderr
    assert "read-only file system" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert snapshot(home) == before
    assert mirrorctl(env, "undo").returncode == 8  # nothing half done was left behind
