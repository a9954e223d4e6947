"""The pty proxy's pieces: echo removal, marks, prompts, and a real pty's modes."""

from __future__ import annotations

import select
import time

import pytest

from guardsh.clients.proxy import Pty, Screen


def test_screen_removes_the_echo_and_keeps_the_prompt() -> None:
    s = Screen()
    s.expect_echo(b"SELECT 1;\r\n")
    assert s.feed(b"SELECT") == b""
    assert s.feed(b" 1;\r\n ?column? \r\n") == b" ?column? \r\n"
    assert s.feed(b"(1 row)\r\n\r\napp=# ") == b"(1 row)\r\n\r\napp=# "
    assert s.tail == b"app=# "


def test_screen_gives_up_on_a_mismatch() -> None:
    s = Screen()
    s.expect_echo(b"abc\r\n")
    assert s.feed(b"NOTICE\r\n") == b"NOTICE\r\n"
    assert s.expect == b""


def test_screen_marks_split_across_reads() -> None:
    s = Screen(b"guardsh-ready-1")
    assert s.feed(b"1|2\r\nguardsh-re") == b"1|2\r\n"
    assert not s.ready
    assert s.feed(b"ady-1\r\n") == b""
    assert s.ready


def test_screen_skips_lines_the_client_echoes() -> None:
    s = Screen()
    s.skip = 2
    assert s.feed(b"\x1b[33mf\x1b[0m() {\r\r\n... ret") == b""
    assert s.feed(b"urn 5 }\r\r\n[Function: f]\r\n> ") == b"[Function: f]\r\n> "


def read_until(p: Pty, want: bytes, timeout: float = 5.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while want not in got and time.monotonic() < deadline:
        if select.select([p.fd], [], [], 0.1)[0]:
            got += p.read() or b""
    return got


@pytest.mark.pty
def test_real_pty_modes_and_echo() -> None:
    script = (
        "printf 'name: '; read n; stty -echo; printf 'secret: '; read s; stty echo; "
        'echo "[$n|$s]"'
    )
    p = Pty(["sh", "-c", script], {"PATH": "/usr/bin:/bin"})
    try:
        read_until(p, b"name: ")
        assert p.line_mode()
        echo = p.echo_of(b"bob\tx\x01\n")
        assert echo == b"bob\tx^A\r\n"
        p.write(b"bob\n")
        assert b"bob\r\n" in read_until(p, b"secret: ")
        time.sleep(0.1)
        assert not p.line_mode()  # echo off: a password prompt, keys pass through
        p.write(b"hunter2\n")
        out = read_until(p, b"]")
        assert b"[bob|hunter2]" in out and out.count(b"hunter2") == 1
    finally:
        p.hangup()
        assert p.wait() in (0, 129)
