"""guardsh's line editor inside a client (prompt_toolkit), as rlwrap's readline.

Each line the client would read is edited here first: multi-line SQL (Enter
inserts a newline until the statement is complete; Alt-Enter always does),
history per target in the XDG state dir (`$XDG_STATE_HOME/guardsh/clients/`,
never a line with a password: `passwords.py`),
the client's prompt after the environment badge. What the client writes
while the user edits (type-ahead during a long query, NOTIFY, pub/sub) is
printed above the prompt; when the client turns echo off (a password prompt)
or goes raw (a pager), the editor gives the terminal back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prompt_toolkit import PromptSession
from prompt_toolkit.application import Application, get_app, run_in_terminal
from prompt_toolkit.formatted_text import ANSI, FormattedText, to_formatted_text
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import ColorDepth

Fragments = list[tuple[str, str]]

LINE, INTERRUPT, EOF, EXITED, RELEASE = "line", "interrupt", "eof", "exited", "release"
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]")  # not ESC, tab, newline
ANSI_STRIP = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"
)


@dataclass(frozen=True, slots=True)
class Result:
    kind: str  # line | interrupt | eof | exited | release
    text: str = ""


def history_path(kind: str, label: str, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    state = env.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state")
    safe = re.sub(r"[^\w.@:-]+", "_", label).strip("_")[:120] or "unknown"
    return os.path.join(state, "guardsh", "clients", f"{kind}-{safe}")


def open_history(path: str, keep: Callable[[str], bool] | None = None) -> History:
    """A 0600 history file in a 0700 folder; in memory when that fails.
    `keep(line)` False: the line is remembered nowhere (a password)."""
    inner: History
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        inner = FileHistory(path)
    except OSError:
        inner = InMemoryHistory()
    return inner if keep is None else _Kept(inner, keep)


class _Kept(History):
    """A history that does not take the lines `keep` refuses."""

    def __init__(self, inner: History, keep: Callable[[str], bool]) -> None:
        super().__init__()
        self.inner = inner
        self.keep = keep

    def load_history_strings(self) -> Iterable[str]:
        return self.inner.load_history_strings()

    def store_string(self, string: str) -> None:
        self.inner.store_string(string)

    def append_string(self, string: str) -> None:
        if self.keep(string):
            super().append_string(string)


class Attach:
    """What the editor watches while it runs: the client's output."""

    def __init__(self, fd: int, on_data: Callable[[], tuple[bytes, str | None]]) -> None:
        self.fd = fd
        # -> (bytes to print above the prompt, None to go on or RELEASE / EXITED)
        self.on_data = on_data


class Editor:
    def __init__(
        self,
        complete: Callable[[str], bool],
        *,
        color: bool = True,
        keep: Callable[[str], bool] | None = None,
    ) -> None:
        self.complete = complete
        self.color = color
        self.keep = keep  # which lines the history may hold
        self.sessions: dict[str, PromptSession[str]] = {}
        self.saved = ""  # a line given back when the client took the terminal
        self.after = b""  # output that came as the editor stopped

    def _session(self, history: str) -> PromptSession[str]:
        s = self.sessions.get(history)
        if s is None:
            s = PromptSession(
                history=open_history(history, self.keep) if history else InMemoryHistory(),
                key_bindings=self._keys(),
                multiline=True,
                enable_suspend=False,
                enable_open_in_editor=False,
            )
            self.sessions[history] = s
        return s

    def _keys(self) -> KeyBindings:
        kb = KeyBindings()

        @kb.add("enter")
        def _enter(event: KeyPressEvent) -> None:
            buf = event.current_buffer
            if self.complete(buf.text):
                buf.validate_and_handle()
            else:
                buf.insert_text("\n")

        @kb.add("escape", "enter")
        def _newline(event: KeyPressEvent) -> None:
            event.current_buffer.insert_text("\n")

        @kb.add("c-z")
        def _ignore(event: KeyPressEvent) -> None:
            """Ctrl-Z: neither a suspend nor a `^Z` in the statement."""

        @kb.add("c-c")
        def _interrupt(event: KeyPressEvent) -> None:
            event.app.exit(result="\x00" + INTERRUPT)

        @kb.add("c-d")
        def _eof(event: KeyPressEvent) -> None:
            buf = event.current_buffer
            if buf.text:
                buf.delete()
            else:
                event.app.exit(result="\x00" + EOF)

        return kb

    def read(
        self,
        message: Callable[[], Fragments],
        continuation: str,
        history: str,
        attach: Attach | None = None,
        *,
        secret: bool = False,
    ) -> Result:
        """One statement (or what ended the editing). `secret`: a password,
        not shown and kept in no history ("" as `history`)."""
        session = self._session(history)
        detach: list[Callable[[], None]] = []

        def pre_run() -> None:
            if attach is not None:
                detach.append(self._watch(attach))

        default, self.saved = self.saved, ""
        try:
            text = session.prompt(
                lambda: FormattedText(message()),
                prompt_continuation=lambda width, n, wrap: continuation.rjust(width),
                default="" if secret else default,
                is_password=secret,
                pre_run=pre_run,
                color_depth=None if self.color else ColorDepth.MONOCHROME,
            )
        finally:
            for undo in detach:
                undo()
            if self.after:
                _write(self.after)
                self.after = b""
        if secret:
            session.history = InMemoryHistory()
            session.default_buffer.history = session.history
        if text.startswith("\x00"):
            kind, _, rest = text[1:].partition("\x00")
            if kind == RELEASE:
                self.saved = rest
            return Result(kind, rest)
        return Result(LINE, text)

    def _watch(self, attach: Attach) -> Callable[[], None]:
        loop = asyncio.get_running_loop()
        app: Application[str] = get_app()

        def readable() -> None:
            above, stop = attach.on_data()
            if stop is not None:
                self.after += above  # printed once the prompt is gone
            elif above:
                run_in_terminal(lambda: _write(above))
            if stop is not None and not app.is_done:
                loop.remove_reader(attach.fd)
                app.erase_when_done = stop == RELEASE
                app.exit(result=f"\x00{stop}\x00{app.current_buffer.text}")
                return
            app.invalidate()

        loop.add_reader(attach.fd, readable)

        def undo() -> None:
            with contextlib.suppress(Exception):
                loop.remove_reader(attach.fd)

        return undo


def _write(data: bytes) -> None:
    fd = 1
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except InterruptedError:
            continue
        except BlockingIOError:
            continue


def ansi(text: bytes) -> Fragments:
    """The client's prompt bytes as fragments (its colors kept)."""
    shown = last_line(text.decode("utf-8", "replace"))
    shown = _NOT_SGR.sub("", shown)  # colors stay; modes and cursor moves go
    shown = CONTROLS.sub("", shown)  # SI/SO of a terminal's sgr0, readline's \001 \002
    return list(to_formatted_text(ANSI(shown)))  # type: ignore[arg-type]


def last_line(text: str) -> str:
    """What a carriage return (or a move to column 1, as mongosh's prompt
    starts) left of the line: the text after the last one."""
    starts = list(_LINE_START.finditer(text))
    return text[starts[-1].end() :] if starts else text


_LINE_START = re.compile(r"\r|\x1b\[1?G")


def visible(text: str) -> str:
    """What of a client's output shows on screen as characters."""
    return CONTROLS.sub("", ANSI_STRIP.sub("", text))


_NOT_SGR = re.compile(
    r"\x1b\[(?![0-9;]*m)[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)
