"""A client session under guard: the proxy loop, the editor turns, the checks.

Keys go straight to the client unless it waits for a line; then one editor
turn reads a complete statement, the Guard judges it, the card asks what the
policy requires, and only an approved statement is written to the client,
line by line, with the pty's echo removed (the editor already showed it). A
declined statement never reaches the client: its input line stays empty and
the session goes on. Every statement sent goes to the audit trail, as every
shell command does: the intent (with the verdict) before the client gets it,
the result (an error seen in its output or not, and the time until it was
idle again) after; a declined or refused one is recorded as such.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import signal
import termios
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from guardsh.clients import editor as ed
from guardsh.clients import passwords, targets
from guardsh.clients.kinds import Kind
from guardsh.clients.proxy import READ, Pty, Screen, cooked, raw_terminal, write_out
from guardsh.clients.session import Guard, Place
from guardsh.confirm.card import color_of, short_env
from guardsh.model import Decision, Requirement
from guardsh.run import signals

QUIET = 0.015  # seconds of silence after a prompt before the editor takes over
MAX_LINE = 4000  # bytes: a canonical-mode pty line holds 4095
CONTINUATION_WAIT = 2.0  # seconds for the client's continuation prompt
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
CLEAR = {"psql": "\\r", "mysql": "\\c"}  # commands that empty the client's query buffer


class Audit(Protocol):
    """The audit calls guardsh.run.record.Recorder offers."""

    def intent(
        self, decision: Decision, *, reason: str | None = ..., cwd: str | None = ...
    ) -> int: ...
    def breakglass(
        self, decision: Decision, *, reason: str | None, cwd: str | None = ...
    ) -> int: ...
    def declined(
        self, decision: Decision, *, reason: str | None = ..., cwd: str | None = ...
    ) -> int: ...
    def denied(
        self, decision: Decision, *, reason: str | None = ..., cwd: str | None = ...
    ) -> int: ...
    def result(self, token: int, exit: int, duration_ms: int) -> None: ...

    @property
    def blocks(self) -> bool: ...


def prompt_shown(tail: bytes) -> bool:
    """The client's last partial line shows something: its prompt, not a
    color change or charset switch written ahead of the next line."""
    return bool(ed.visible(tail.decode("utf-8", "replace")).strip())


def badge(place: Place, color: bool) -> ed.Fragments:
    """`[PROD] db:prod-db.internal/app ` in the environment's color."""
    c = color_of(place.color) if color else None
    text = f"[{short_env(place.environment)}]"
    if c:
        style = f"bg:{c} fg:ansiblack bold" if place.protected else f"fg:{c} bold"
    else:
        style = "bold" if color else ""
    return [(style, text), ("", " "), (f"fg:{c}" if c else "", place.label), ("", " ")]


class GuardedClient:
    def __init__(
        self,
        kind: Kind,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str | None,
        guard: Guard,
        audit: Audit | None,
        *,
        stdin: int = 0,
        stdout: int = 1,
        color: bool = True,
    ) -> None:
        self.kind = kind
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.guard = guard
        self.audit = audit
        self.stdin = stdin
        self.stdout = stdout
        self.color = color
        self.batch = kind.mode == "batch"
        self.mark = f"guardsh-ready-{secrets.token_hex(6)}"
        self.screen = Screen(self.mark.encode() if self.batch else None)
        self.editor = ed.Editor(
            guard.complete, color=color, keep=lambda line: not passwords.spans(kind.name, line)
        )
        self.busy = False
        self.sent_at = 0.0
        self.token: int | None = None
        self.switched = False
        self.old: list[Any] | None = None
        self.pty: Pty

    # ------------------------------------------------------------ the loop
    def run(self) -> int:
        self.pty = Pty(self.argv, self.env, self.cwd, stdin_pipe=self.kind.stdin_pipe)
        with signals.command_running(), raw_terminal(self.stdin) as old:
            self.old = old
            self.pty.resize_from(self.stdout)
            prev = signal.signal(signal.SIGWINCH, lambda s, f: self.pty.resize_from(self.stdout))
            try:
                if self.batch:
                    self._write_lines("", ready=True)
                self._loop()
            finally:
                signal.signal(signal.SIGWINCH, prev)
        status = self.pty.wait()
        self._finish()
        return status

    def _loop(self) -> None:
        pty = self.pty
        while True:
            fds = [self.stdin, pty.fd] + ([pty.pidfd] if pty.pidfd is not None else [])
            wait = self._quiet_left()
            if pty.pidfd is None:
                wait = 0.2 if wait is None else min(wait, 0.2)
            try:
                r, _, _ = select.select(fds, [], [], wait)
            except InterruptedError:
                continue
            if pty.fd in r:
                data = pty.read()
                if data is None:
                    return
                self._show(data)
                continue
            if (pty.pidfd is not None and pty.pidfd in r) or (pty.pidfd is None and pty.exited()):
                self._drain()
                return
            if self.stdin in r:
                if pty.line_mode():
                    self.turn()
                    continue
                data = os.read(self.stdin, READ)
                if not data:
                    pty.hangup()
                    return
                pty.write(data.replace(pty.control(termios.VSUSP, b"\x1a"), b""))
                continue
            if not r and self._idle():
                self.turn()

    def _show(self, data: bytes) -> None:
        shown = self.screen.feed(data)
        if shown:
            write_out(shown, self.stdout)
        self._track()

    def _drain(self) -> None:
        while select.select([self.pty.fd], [], [], 0.05)[0]:
            data = self.pty.read()
            if data is None:
                return
            self._show(data)

    def _idle(self) -> bool:
        """The client waits for a line at its prompt."""
        if not self.pty.line_mode():
            return False
        if self.batch:
            return self.screen.ready
        return prompt_shown(self.screen.tail) and not self.screen.expect

    def _quiet_left(self) -> float | None:
        if not self._idle():
            return None
        return max(0.0, QUIET - (time.monotonic() - self.screen.last))

    # ------------------------------------------------------------ a turn
    def turn(self) -> None:
        """The editor reads one statement; it is judged, and sent if allowed."""
        place = self.guard.place()
        if not self.batch and self.screen.tail and not self.busy:
            write_out(b"\r\x1b[K", self.stdout)  # the client's raw prompt: redrawn with the badge
        width = len(self._prompt_text())
        cont = ("-> " if width > 3 else "> ").rjust(width)
        history = ed.history_path(self.kind.name, place.label)
        pw = self.kind.password
        secret = pw is not None and pw.search(self._prompt_text()) is not None
        with cooked(self.stdin, self.old):
            res = self.editor.read(
                lambda: badge(self.guard.place(), self.color) + ed.ansi(self._prompt_bytes()),
                cont,
                "" if secret else history,
                ed.Attach(self.pty.fd, self._while_editing),
                secret=secret,
            )
            if res.kind == ed.LINE and secret:  # a password the client reads as a line
                self._write_lines(res.text)
            elif res.kind == ed.LINE:
                self.submit(res.text)
        self.pty.resize_from(self.stdout)
        if res.kind == ed.INTERRUPT:
            self._interrupt()
        elif res.kind == ed.EOF:
            self.pty.end_input()

    def _prompt_bytes(self) -> bytes:
        if self.batch:
            return self.kind.prompt.encode() if self.screen.ready else b""
        return self.screen.tail

    def _prompt_text(self) -> str:
        text = self._prompt_bytes().decode("utf-8", "replace")
        return ed.visible(ed.last_line(text))

    def _while_editing(self) -> tuple[bytes, str | None]:
        data = self.pty.read()
        if data is None:
            return self.screen.tail, ed.EXITED
        shown = self.screen.feed(data)
        self._track()
        k = shown.rfind(b"\n")
        lines = shown[: k + 1] if k >= 0 else b""
        if not self.pty.line_mode():  # a password prompt, a pager: the keys are theirs
            return lines + self.screen.tail, ed.RELEASE
        return lines, None

    def _interrupt(self) -> None:
        """Ctrl-C: cancel what runs; at an idle prompt, empty the client's buffer."""
        if self.busy:
            self.pty.write(self.pty.control(termios.VINTR, b"\x03"))
        elif self.guard.pending and self.kind.name in CLEAR:
            self._write_lines(CLEAR[self.kind.name])
        self.guard.cancelled()

    # ------------------------------------------------------------ a statement
    def submit(self, text: str) -> None:
        text = _CONTROL.sub("", text)
        if any(len(line.encode()) > MAX_LINE for line in text.split("\n")):
            self._say(f"guardsh: a line longer than {MAX_LINE} bytes cannot pass through a "
                      "terminal; split it, or run it from a file; nothing was sent")  # fmt: skip
            self.editor.saved = text
            return
        decision = self.guard.judge(text)
        v = decision.verdict
        reason: str | None = None
        phase = "approved"
        cwd = self.cwd
        if v.requirement == Requirement.DENY or v.needs_user:
            outcome = self.confirm(decision)
            if not outcome.run:
                if self.audit is not None:
                    if outcome.phase == "denied":
                        self.audit.denied(decision, reason=outcome.why, cwd=cwd)
                    else:
                        self.audit.declined(decision, reason=outcome.why, cwd=cwd)
                self._say(f"guardsh: not sent ({outcome.why}); the statement was discarded")
                return
            reason, phase = outcome.reason, outcome.phase
        elif v.requirement == Requirement.WARN:
            what = "; ".join(f.detail or f"{f.action} {f.object or ''}" for f in decision.findings)
            self._say(f"guardsh: warning ({', '.join(v.rules) or 'policy'}): {what}")
        token: int | None = None
        if self.audit is not None:  # every statement, as the shell records every command
            if phase == "breakglass":
                token = self.audit.breakglass(decision, reason=reason, cwd=cwd)
            else:
                token = self.audit.intent(decision, reason=reason, cwd=cwd)
            if self.audit.blocks:
                self.audit.denied(decision, reason="audit trail unavailable", cwd=cwd)
                self._say("guardsh: not sent: the audit trail cannot be written and the policy "
                          "requires it")  # fmt: skip
                return
        self.send(text, token)

    def confirm(self, decision: Decision) -> Any:
        """The card and its questions, on the user's terminal. Keys typed
        before the card (`DROP TABLE users;` Enter `users` Enter in one go)
        never answer it: `ask()` discards what this input holds, the editor's
        unprocessed keys (prompt_toolkit keeps them per file descriptor) and
        the terminal's queue."""
        from prompt_toolkit.input import create_input

        from guardsh.confirm.card import card
        from guardsh.confirm.prompt import ask

        policy = self.guard.policy
        env = policy.environment(decision.environment)
        try:
            width = os.get_terminal_size(self.stdout).columns
        except OSError:
            width = 80
        fragments = card(
            decision,
            target=self.guard.place().label,
            env_color=env.color if env else None,
            rule_messages={r.id: r.message for r in policy.rules},
            color=self.color,
            width=min(width, 100),
        )
        with open(self.stdin, closefd=False) as stream:  # the fd stays open
            return ask(decision, fragments, inp=create_input(stream), color=self.color)

    def send(self, text: str, token: int | None = None) -> None:
        self.busy = True
        self.sent_at = time.monotonic()
        self.token = token
        self.switched = bool(targets.switches_in(self.kind, text))
        self._write_lines(text, ready=self.batch)
        self.guard.sent(text + "\n")

    def _write_lines(self, text: str, *, ready: bool = False) -> None:
        """Write lines to the client as if typed, each echo removed."""
        pty, screen = self.pty, self.screen
        screen.sent()
        lines = text.split("\n") if text or not ready else []
        if ready:
            line = self.kind.ready_line(self.mark)
            if line:
                lines.append(line)
        if self.batch or pty.pipe is not None:  # no continuation prompts to skip: one write
            data = "".join(f"{ln}\n" for ln in lines).encode()
            screen.expect_echo(pty.echo_of(data))
            if self.kind.echoes:
                screen.skip += len(lines)
            pty.send_line_input(data)
            return
        for i, ln in enumerate(lines):
            data = f"{ln}\n".encode()
            screen.expect_echo(pty.echo_of(data))
            pty.write(data)
            if i < len(lines) - 1:
                self._skip_continuation()

    def _skip_continuation(self) -> None:
        """Between the lines of one statement the client shows a continuation
        prompt the editor already drew: wait for it and drop it."""
        pty, screen = self.pty, self.screen
        deadline = time.monotonic() + CONTINUATION_WAIT
        got = b""
        while time.monotonic() < deadline:
            quiet = got and not screen.expect and not got.endswith(b"\n")
            r, _, _ = select.select([pty.fd], [], [], QUIET if quiet else 0.05)
            if not r:
                if quiet:
                    break
                continue
            data = pty.read()
            if data is None:
                break
            got += screen.feed(data)
        if b"\n" in got:  # not just a prompt: an error the user must see
            write_out(got, self.stdout)
        screen.sent()

    # ------------------------------------------------------------ results
    def _track(self) -> None:
        if not self.busy:
            return
        done = self.screen.ready if self.batch else prompt_shown(self.screen.tail)
        if done and not self.screen.expect:
            self._finish()

    def _finish(self) -> None:
        if not self.busy:
            return
        self.busy = False
        said = self.screen.since.decode("utf-8", "replace")
        failed_switch = self.kind.switch_failed
        if self.switched and failed_switch is not None and failed_switch.search(said):
            self.guard.switch_failed()
        if self.token is not None and self.audit is not None:
            failed = self.kind.errors.search(said) is not None
            ms = int((time.monotonic() - self.sent_at) * 1000)
            with contextlib.suppress(Exception):
                self.audit.result(self.token, 1 if failed else 0, ms)
        self.token = None

    def _say(self, text: str) -> None:
        style = "\x1b[33m" if self.color else ""
        end = "\x1b[0m" if self.color else ""
        write_out(f"{style}{text}{end}\r\n".encode(), self.stdout)
