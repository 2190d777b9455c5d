"""One lock in mirrorctl's state folder: two mirrorctl processes never change files at the same time.

The holder is a second real process taking the lock the way every mirrorctl takes it
(``fsio.locked``); the waiter is a real `mirrorctl use` (or an in-process one, to shorten the
wait). Nothing here measures speed: "still waiting" is told by the file not being written yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

HOLDER = """
import sys
from mirrorctl.context import Context, mirrorctl_state_dir
from mirrorctl.fsio import locked
with locked(mirrorctl_state_dir(Context.from_os())):
    print("held", flush=True)
    sys.stdin.readline()   # held until the test writes a line (or closes stdin)
print("let go", flush=True)
"""


@pytest.fixture
def holder(sandbox):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=dict(os.environ))
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            proc.wait(timeout=60)


def let_go(proc) -> None:
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "let go"
    proc.wait(timeout=60)


def test_a_use_waits_for_another_mirrorctl_and_then_writes(sandbox, holder):
    waiter = subprocess.Popen([sys.executable, "-m", "mirrorctl", "use", "tuna", "--tool", "pip"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and waiter.poll() is None:
            time.sleep(0.05)
        assert waiter.poll() is None, waiter.communicate()  # still waiting for the lock
        assert not sandbox.user_pip_conf.exists()
        let_go(holder)
        out, err = waiter.communicate(timeout=60)
    finally:
        if waiter.poll() is None:
            waiter.kill()
    assert waiter.returncode == 0, err
    assert "pypi.tuna.tsinghua.edu.cn" in sandbox.user_pip_conf.read_text()


def test_a_lock_held_past_the_timeout_is_named_and_nothing_is_written(run, sandbox, holder, monkeypatch):
    from mirrorctl import fsio

    monkeypatch.setattr(fsio, "LOCK_TIMEOUT", 0.3)
    result = run("use", "tuna", "--tool", "pip")
    assert result.exit_code == 1, result.stderr
    assert "another mirrorctl has held" in result.stderr and "lock" in result.stderr
    assert "Traceback" not in result.stderr
    assert not sandbox.user_pip_conf.exists()
    let_go(holder)
    assert run("use", "tuna", "--tool", "pip").exit_code == 0
    assert "pypi.tuna.tsinghua.edu.cn" in sandbox.user_pip_conf.read_text()


def test_the_lock_is_let_go_when_mirrorctl_ends(run_cli, sandbox):
    assert run_cli("use", "tuna", "--tool", "pip").exit_code == 0
    # a second process takes it at once (it would wait its whole timeout were the lock still held)
    proc = subprocess.run([sys.executable, "-c", HOLDER.replace("sys.stdin.readline()", "pass")],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and proc.stdout.split() == ["held", "let", "go"], proc.stderr


def test_a_fifo_where_the_lock_goes_is_named_not_waited_on(run_cli, sandbox):
    state = sandbox.state / "mirrorctl"
    state.mkdir(mode=0o700, parents=True)
    os.mkfifo(state / "lock")
    result = run_cli("use", "tuna", "--tool", "pip")  # opening a FIFO for writing would block for good
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert f"{state / 'lock'}: is a FIFO (named pipe), not a regular file" in result.stderr, result.stderr
    assert not sandbox.user_pip_conf.exists()


TRY_LOCK = """
import sys
from mirrorctl import fsio
fsio.LOCK_TIMEOUT = 0.2
try:
    with fsio.locked(fsio.Path(sys.argv[1])):
        print("free")
except fsio.MirrorctlError:
    print("held")
"""


def other_process_sees(state) -> str:
    proc = subprocess.run([sys.executable, "-c", TRY_LOCK, str(state)], capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() or proc.stderr


def test_a_lock_taken_again_in_the_same_process_waits_and_keeps_the_first(sandbox, monkeypatch):
    """lockf belongs to the process: without the in-process lock a nested take would succeed at
    once and its release would drop the outer one."""
    from mirrorctl import fsio
    from mirrorctl.errors import MirrorctlError

    monkeypatch.setattr(fsio, "LOCK_TIMEOUT", 0.2)
    state = sandbox.root / "state"
    with fsio.locked(state):
        with pytest.raises(MirrorctlError, match="another mirrorctl has held"):
            with fsio.locked(state):
                pass
        assert other_process_sees(state) == "held"  # the outer lock is still there
    assert other_process_sees(state) == "free"


def test_threads_take_turns(sandbox):
    import threading

    from mirrorctl import fsio

    state = sandbox.root / "state"
    events: list = []

    def worker(n: int) -> None:
        with fsio.locked(state):
            events.append(("in", n))
            time.sleep(0.05)
            events.append(("out", n))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(events) == 8
    assert all(events[i][0] == "in" and events[i + 1] == ("out", events[i][1]) for i in range(0, 8, 2)), events
