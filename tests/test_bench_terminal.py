"""bench on a terminal: the live view and the table at 60 columns, and with NO_COLOR."""

import re
import socket
import sys

import pytest

from test_narrow import _on_a_terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bench_at_60_columns_cuts_nothing_and_no_colour_with_no_color(index):
    down = f"http://127.0.0.1:{closed_port()}/simple"
    shown = _on_a_terminal(["bench", index.url, down, "--samples", "2", "--timeout", "2",
                            "--package", "mirrorctl-demo"], {"COLUMNS": "60", "NO_COLOR": "1"})
    assert not COLOUR.search(shown), repr(shown[:400])
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)  # cursor moves of the live view
    assert "…" not in text and "..." not in text.replace("...)", "")
    assert "refused" in text  # the failure reason, whole
    assert max(len(line) for line in text.splitlines()) <= 60


def test_bench_colours_a_terminal_without_no_color(index):
    shown = _on_a_terminal(["bench", index.url, "--samples", "2", "--package", "mirrorctl-demo"],
                           {"COLUMNS": "100", "TERM": "xterm-256color"})
    assert "mirrorctl-demo" in shown or "127.0.0.1" in shown


def test_a_wide_terminal_keeps_the_table(index):
    shown = _on_a_terminal(["bench", index.url, "--samples", "2", "--package", "mirrorctl-demo"],
                           {"COLUMNS": "160", "NO_COLOR": "1"})
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    header = next(line for line in text.splitlines() if "mirror" in line and "median" in line)
    assert "p90" in header and "connect" in header
