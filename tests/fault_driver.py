"""Run mirrorctl with faults injected from outside its code, at its Nth file-system step.

Usage: python fault_driver.py ARGS...   (the mirrorctl command line)

Environment:
  FAULT_WATCH  only steps on paths under this folder count
  FAULT_PLAN   "N:kind[,M:kind]": at step N do kind: kill (SIGKILL), int (a real SIGINT, as Ctrl-C
               sends), enospc (the step fails with "No space left on device"), fifo (another
               process puts a FIFO at the path FAULT_FIFO names, before the step goes on)
  FAULT_LOG    a file that gets one line per step: "N event path"

A step is what Python's audit hooks report (sys.addaudithook): opening a file for writing,
rename/replace, remove, mkdir, rmdir, link, symlink, chmod, chown. They do not see write() or
fsync(); tests/test_faults.py fills a real file system for those.
"""

import errno
import os
import signal
import sys

WATCH = os.path.realpath(os.environ["FAULT_WATCH"])
PLAN = {}
for part in filter(None, os.environ.get("FAULT_PLAN", "").split(",")):
    step, kind = part.split(":")
    PLAN[int(step)] = kind
LOG = os.environ.get("FAULT_LOG")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
EVENTS = {"os.rename", "os.remove", "os.mkdir", "os.rmdir", "os.link", "os.symlink", "os.chmod", "os.chown",
          "os.truncate"}
count = 0


def _watched(path) -> bool:
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, str):
        return False  # a file descriptor
    return os.path.realpath(os.path.abspath(path)).startswith(WATCH + os.sep)


def _is_step(event: str, args: tuple) -> bool:
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & WRITE_FLAGS)
        return bool(writes) and _watched(path)
    if event in EVENTS:
        return any(_watched(a) for a in args[:2])
    return False


def hook(event: str, args: tuple) -> None:
    global count
    if not _is_step(event, args):
        return
    count += 1
    if LOG:  # LOG lies outside FAULT_WATCH: opening it is not a step
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"{count} {event} {args[0]!r}\n")
    kind = PLAN.get(count)
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "int":
        os.kill(os.getpid(), signal.SIGINT)
    elif kind == "fifo":
        target = os.environ["FAULT_FIFO"]
        os.unlink(target)
        os.mkfifo(target)
    elif kind == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), args[0])


if __name__ == "__main__":
    sys.addaudithook(hook)
    sys.argv = ["mirrorctl", *sys.argv[1:]]
    from mirrorctl.cli import main

    main()
