"""Asking for what the verdict requires, so that a half-asleep person cannot
answer by reflex.

- Typed-ahead input never answers: everything buffered (the terminal's input
  queue and prompt_toolkit's own typeahead) is discarded before the card
  appears, and again after a countdown.
- `confirm`: y/N, default No. `type`/`dry-run`: type the object's name (or
  the environment's) exactly; three wrong tries decline. `delay`: a visible
  countdown during which keys are ignored. `reason`: non-empty, matching the
  policy's pattern (a regular expression, searched). `deny`: refused; with
  break-glass, a typed phrase and a reason.
- Ctrl-C or Ctrl-D at any step declines. No exception is used as control flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import termios
from collections.abc import Sequence
from dataclasses import dataclass

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.application import Application
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import clear_typeahead
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.output import Output

from guardsh.model import Decision, Requirement

TRIES = 3
BREAK_GLASS = "break glass"


@dataclass(frozen=True, slots=True)
class Outcome:
    run: bool
    phase: str  # approved | declined | denied | breakglass
    reason: str | None = None
    why: str = ""  # why it did not run: "declined", "wrong name", "ctrl-c", ...


def discard_typeahead(inp: Input | None) -> None:
    """Drop every key typed before now: prompt_toolkit's typeahead store,
    the terminal's input queue, and (for pipes, in tests) what is readable."""
    if inp is None:
        return
    clear_typeahead(inp)
    try:
        fd = inp.fileno()
    except (NotImplementedError, OSError, ValueError):
        return
    if os.isatty(fd):
        with contextlib.suppress(termios.error):
            termios.tcflush(fd, termios.TCIFLUSH)
        return
    with contextlib.suppress(OSError):
        while select.select([fd], [], [], 0)[0]:
            if not os.read(fd, 65536):
                break


class Asker:
    """The questions of one confirmation, on one input and output."""

    def __init__(
        self,
        inp: Input | None = None,
        out: Output | None = None,
        *,
        tick: float = 1.0,
        color: bool = True,
    ) -> None:
        self.inp = inp
        self.out = out
        self.tick = tick
        self.color = color

    def say(self, text: str, style: str = "") -> None:
        print_formatted_text(FormattedText([(style if self.color else "", text)]), output=self.out)

    def _bindings(self) -> KeyBindings:
        kb = KeyBindings()

        @kb.add("c-c")
        @kb.add("c-d")
        def _decline(event: KeyPressEvent) -> None:
            event.app.exit(result=None)

        return kb

    def question(self, text: str) -> str | None:
        """One line of input; None for Ctrl-C / Ctrl-D."""
        session: PromptSession[str | None] = PromptSession(
            input=self.inp, output=self.out, key_bindings=self._bindings()
        )
        style = "bold" if self.color else ""
        answer = session.prompt(FormattedText([(style, text)]))
        return answer

    def countdown(self, seconds: int) -> bool:
        """Show a countdown; keys are ignored. False when Ctrl-C/Ctrl-D ended it."""
        left = [seconds]
        style = "fg:ansiyellow bold" if self.color else ""

        def text() -> FormattedText:
            return FormattedText(
                [(style, f"  cooling off: {left[0]} s (keys typed now are ignored)")]
            )

        kb = self._bindings()

        @kb.add("<any>")
        def _ignore(event: KeyPressEvent) -> None:
            pass

        app: Application[bool | None] = Application(
            layout=Layout(Window(FormattedTextControl(text), height=1)),
            key_bindings=kb,
            input=self.inp,
            output=self.out,
        )

        async def count() -> None:
            while left[0] > 0:
                await asyncio.sleep(self.tick)
                left[0] -= 1
                app.invalidate()
            if not app.is_done:
                app.exit(result=True)

        def start() -> None:
            app.create_background_task(count())

        result = app.run(pre_run=start)
        return bool(result)

    def typed(self, word: str, text: str, tries: int = TRIES) -> bool | None:
        """Ask for `word` exactly; True, False after `tries` misses, None on Ctrl-C."""
        for left in range(tries - 1, -1, -1):
            answer = self.question(text)
            if answer is None:
                return None
            if answer.strip() == word:
                return True
            more = f"{left} {'try' if left == 1 else 'tries'} left" if left else "declined"
            self.say(f"  That is not `{word}` ({more}).", "fg:ansired")
        return False

    def reason(self, pattern: str | None, tries: int = TRIES) -> str | None:
        """A non-empty reason matching `pattern` (searched); None when not given."""
        try:
            rx = re.compile(pattern) if pattern else None
        except re.error:  # a broken pattern still asks for a non-empty reason
            rx = None
        hint = f" (must match `{pattern}`)" if pattern else ""
        for _ in range(tries):
            answer = self.question(f"Reason (ticket or why){hint}: ")
            if answer is None:
                return None
            answer = answer.strip()
            if answer and (rx is None or rx.search(answer)):
                return answer
            self.say(
                "  A reason is required" + (f" matching `{pattern}`." if rx else "."), "fg:ansired"
            )
        return None


def ask(
    decision: Decision,
    card: Sequence[tuple[str, str]],
    *,
    inp: Input | None = None,
    out: Output | None = None,
    tick: float = 1.0,
    color: bool = True,
) -> Outcome:
    """Show the card and ask what the verdict requires."""
    a = Asker(inp, out, tick=tick, color=color)
    discard_typeahead(inp)
    print_formatted_text(FormattedText(list(card)), output=out, end="")
    v = decision.verdict
    env = decision.environment or "unknown"
    if v.requirement == Requirement.DENY:
        if not v.break_glass:
            a.say("  Refused: the policy denies this command.", "fg:ansired bold")
            return Outcome(False, "denied", why="denied by policy")
        phrase = f"{BREAK_GLASS} {env}"
        ok = a.typed(phrase, f"Denied by policy. To override (recorded), type `{phrase}`: ")
        if not ok:
            return Outcome(
                False, "denied", why="ctrl-c" if ok is None else "break-glass phrase wrong"
            )
        why = a.reason(v.reason_pattern)
        if why is None:
            return Outcome(False, "denied", why="no reason given")
        return Outcome(True, "breakglass", reason=why)
    if v.delay > 0:
        if not a.countdown(v.delay):
            return Outcome(False, "declined", why="ctrl-c")
        discard_typeahead(inp)
    if v.requirement in (Requirement.TYPE, Requirement.DRY_RUN):
        word = v.type_word or env
        ok = a.typed(word, f"Type `{word}` to run it: ")
        if not ok:
            return Outcome(False, "declined", why="ctrl-c" if ok is None else f"`{word}` not typed")
    elif v.requirement == Requirement.CONFIRM or not v.reason:
        answer = a.question("Run it? [y/N] ")
        if answer is None:
            return Outcome(False, "declined", why="ctrl-c")
        if answer.strip().lower() not in ("y", "yes"):
            return Outcome(False, "declined", why="declined")
    reason = None
    if v.reason:
        reason = a.reason(v.reason_pattern)
        if reason is None:
            return Outcome(False, "declined", why="no reason given")
    return Outcome(True, "approved", reason=reason)
