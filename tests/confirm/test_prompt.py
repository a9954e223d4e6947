"""Every confirmation mode, in process: prompt_toolkit on a pipe input and a dummy output."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output import DummyOutput

from guardsh.confirm.card import card
from guardsh.confirm.prompt import Outcome, ask
from guardsh.model import Decision, Requirement, Verdict

CTRL_C, CTRL_D = "\x03", "\x04"


@pytest.fixture
def inp() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe:
        yield pipe


def decision(req: Requirement, **kw: object) -> Decision:
    return Decision(
        "psql -c 'DROP TABLE users'", Verdict(req, rules=("r1",), **kw), "production", ()
    )  # type: ignore[arg-type]


def run(
    d: Decision,
    inp: PipeInput,
    keys: str = "",
    *,
    typed_ahead: str = "",
    tick: float = 0.05,
    later: list[tuple[float, str]] | None = None,
) -> Outcome:
    """Answer the card: `typed_ahead` is buffered before it appears (must be
    ignored), `keys` once it is up, `later` at the given delays."""
    if typed_ahead:
        inp.send_text(typed_ahead)
    timers = []
    schedule = list(later or [])
    if keys:
        schedule.insert(0, (0.2, keys))
    for delay, text in schedule:
        t = threading.Timer(delay, inp.send_text, args=(text,))
        t.start()
        timers.append(t)
    try:
        return ask(d, card(d), inp=inp, out=DummyOutput(), tick=tick)
    finally:
        for t in timers:
            t.cancel()


# ---------------------------------------------------------------- confirm (y/N)
def test_confirm_yes_runs(inp: PipeInput) -> None:
    assert run(decision(Requirement.CONFIRM), inp, "y\r") == Outcome(True, "approved")


@pytest.mark.parametrize("answer", ["\r", "n\r", "yess\r", "ok\r", " \r"])
def test_confirm_anything_but_yes_declines(inp: PipeInput, answer: str) -> None:
    out = run(decision(Requirement.CONFIRM), inp, answer)
    assert (out.run, out.phase, out.why) == (False, "declined", "declined")


@pytest.mark.parametrize("key", [CTRL_C, CTRL_D])
def test_confirm_ctrl_c_and_ctrl_d_decline(inp: PipeInput, key: str) -> None:
    out = run(decision(Requirement.CONFIRM), inp, "y" + key)
    assert (out.run, out.why) == (False, "ctrl-c")


def test_typed_ahead_yes_never_answers(inp: PipeInput) -> None:
    out = run(decision(Requirement.CONFIRM), inp, "n\r", typed_ahead="y\ry\r")
    assert not out.run


# ---------------------------------------------------------------- type the name
def test_type_exact_name_runs(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE, type_word="users")
    assert run(d, inp, "users\r").run


def test_type_wrong_three_times_declines(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE, type_word="users")
    out = run(d, inp, "user\rUSERS\ry\rusers\r")
    assert (out.run, out.phase, out.why) == (False, "declined", "`users` not typed")


def test_type_wrong_then_right_runs(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE, type_word="users")
    assert run(d, inp, "usr\rusers\r").run


def test_type_without_object_asks_for_the_environment(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE)
    assert not run(d, inp, "users\rusers\rusers\r").run
    with create_pipe_input() as other:
        assert run(d, other, "production\r").run


def test_typed_ahead_name_is_discarded(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE, type_word="users")
    out = run(d, inp, CTRL_C, typed_ahead="users\r")
    assert not out.run


def test_type_ctrl_c_declines(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE, type_word="users")
    assert run(d, inp, "use" + CTRL_C).why == "ctrl-c"


def test_dry_run_requirement_asks_for_the_name(inp: PipeInput) -> None:
    d = decision(Requirement.DRY_RUN, type_word="users")
    assert not run(d, inp, "y\ry\ry\r").run
    with create_pipe_input() as other:
        assert run(d, other, "users\r").run


# ---------------------------------------------------------------- delay
def test_countdown_ignores_keys_until_it_ends(inp: PipeInput) -> None:
    d = decision(Requirement.CONFIRM, delay=3)
    t0 = time.monotonic()
    # "y" typed during the countdown is thrown away; the "n" after it answers.
    out = run(d, inp, tick=0.2, later=[(0.15, "y\r"), (0.35, "y\r"), (1.2, "n\r")])
    assert not out.run
    assert time.monotonic() - t0 >= 0.6  # 3 ticks of 0.2 s


def test_countdown_then_yes_runs(inp: PipeInput) -> None:
    d = decision(Requirement.CONFIRM, delay=2)
    t0 = time.monotonic()
    out = run(d, inp, tick=0.2, later=[(0.1, "n\r"), (0.9, "y\r")])
    assert out.run
    assert time.monotonic() - t0 >= 0.4


def test_ctrl_c_during_countdown_declines(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE, type_word="users", delay=30)
    t0 = time.monotonic()
    out = run(d, inp, tick=1.0, later=[(0.2, CTRL_C)])
    assert (out.run, out.why) == (False, "ctrl-c")
    assert time.monotonic() - t0 < 5


# ---------------------------------------------------------------- reason
def test_reason_is_required_and_recorded(inp: PipeInput) -> None:
    d = decision(Requirement.CONFIRM, reason=True)
    out = run(d, inp, "y\r\r   \rOPS-12 cleanup\r")
    assert out == Outcome(True, "approved", reason="OPS-12 cleanup")


def test_reason_must_match_the_pattern(inp: PipeInput) -> None:
    d = decision(Requirement.TYPE, type_word="users", reason=True, reason_pattern=r"^[A-Z]+-\d+")
    out = run(d, inp, "users\rbecause\rops-1\rOPS-7 drop old table\r")
    assert out.reason == "OPS-7 drop old table"
    with create_pipe_input() as other:
        bad = run(d, other, "users\rno\rnope\rstill no\r")
    assert (bad.run, bad.why) == (False, "no reason given")


def test_reason_alone_is_the_confirmation(inp: PipeInput) -> None:
    d = decision(Requirement.ALLOW, reason=True)
    assert run(d, inp, "INC-1\r") == Outcome(True, "approved", reason="INC-1")


def test_ctrl_c_at_reason_declines(inp: PipeInput) -> None:
    d = decision(Requirement.CONFIRM, reason=True)
    out = run(d, inp, "y\r" + CTRL_C)
    assert (out.run, out.why) == (False, "no reason given")


# ---------------------------------------------------------------- deny / break glass
def test_deny_without_break_glass_refuses_without_asking(inp: PipeInput) -> None:
    out = run(decision(Requirement.DENY), inp)
    assert (out.run, out.phase) == (False, "denied")


def test_break_glass_needs_phrase_and_reason(inp: PipeInput) -> None:
    d = decision(Requirement.DENY, break_glass=True)
    out = run(d, inp, "break glass production\rINC-9 restore from backup\r")
    assert out == Outcome(True, "breakglass", reason="INC-9 restore from backup")


def test_break_glass_wrong_phrase_stays_denied(inp: PipeInput) -> None:
    d = decision(Requirement.DENY, break_glass=True)
    out = run(d, inp, "y\rbreak glass\rbreak-glass production\r")
    assert (out.run, out.phase) == (False, "denied")


def test_break_glass_without_reason_stays_denied(inp: PipeInput) -> None:
    d = decision(Requirement.DENY, break_glass=True)
    out = run(d, inp, "break glass production\r" + CTRL_C)
    assert (out.run, out.phase, out.why) == (False, "denied", "no reason given")
