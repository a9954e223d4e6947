"""guardsh's line editor inside a client: the prompt it shows and the keys it ignores."""

from __future__ import annotations

from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from guardsh.clients import editor as ed
from guardsh.clients.guarded import prompt_shown


def text(fragments: ed.Fragments) -> str:
    return "".join(t for _, t in fragments)


def test_the_client_s_prompt_without_control_characters() -> None:
    # TERM=screen's sgr0 ends with SI (^O); readline marks invisible runs with \\001 \\002
    assert text(ed.ansi(b"\x1b[m\x0fMariaDB [app]> ")) == "MariaDB [app]> "
    assert text(ed.ansi(b"\x01\x1b[1m\x02app\x01\x1b[0m\x02=# ")) == "app=# "
    assert text(ed.ansi(b"Welcome\r\nx\rapp=# ")) == "app=# "
    # mongosh: a blank, back to column 1, then its prompt
    assert text(ed.ansi(b"\x1b]0;mongosh \x07\x1b[1G\x1b[0J \x1b[1G\x1b[0J> \x1b[3G")) == "> "


def test_an_escape_sequence_alone_is_no_prompt() -> None:
    assert prompt_shown(b"app=# ")
    assert prompt_shown(b"\x1b(B\x1b[mMariaDB [x]> ")
    assert not prompt_shown(b"\x1b(B\x1b[m\x1b(B\x1b[0;1m")
    assert not prompt_shown(b"\x0f  ")
    assert not prompt_shown(b"")


def test_ctrl_z_is_ignored_in_the_editor() -> None:
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text("\x1a\rSELECT 1;\r")
        e = ed.Editor(lambda t: t.rstrip().endswith(";") or not t.strip())
        first = e.read(lambda: [("", "app=# ")], "-> ", "")
        assert first == ed.Result(ed.LINE, "")  # not `^Z` and a continuation line
        second = e.read(lambda: [("", "app=# ")], "-> ", "")
        assert second == ed.Result(ed.LINE, "SELECT 1;")
