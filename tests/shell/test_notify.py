"""Notices about jobs: what bash, reading a script, never says itself."""

from __future__ import annotations

from guardsh.run.backing import Job
from guardsh.shell.notify import finished_jobs, stopped_jobs

RUN = Job(1, 100, "Running", "sleep 5 &")
STOPPED = Job(1, 9, "Stopped", "vim x")
HINT = "(fg to resume, bg to run it in the background)"


def test_a_background_job_that_finished() -> None:
    assert finished_jobs([RUN], [Job(1, 100, "Done", "sleep 5")]) == ["[1] done: sleep 5"]
    assert finished_jobs([RUN], [Job(1, 100, "Exit 2", "false")]) == ["[1] exit 2: false"]
    assert finished_jobs([RUN], [Job(1, 100, "Terminated", "sleep 5")]) == [
        "[1] terminated: sleep 5"
    ]
    assert finished_jobs([], [Job(1, 7, "Done", "sleep 0.1 &")]) == ["[1] done: sleep 0.1"]


def test_a_stopped_job_killed_in_the_background() -> None:
    assert finished_jobs([STOPPED], [Job(1, 9, "Killed", "vim x")]) == ["[1] killed: vim x"]


def test_a_foreground_job_ended_by_ctrl_c_is_not_news() -> None:
    assert finished_jobs([], [Job(1, 7, "Interrupt", "sleep 20")], 130) == []
    # `fg` brought it back, Ctrl-C ended it: bash says nothing either
    assert finished_jobs([RUN], [Job(1, 100, "Interrupt", "sleep 5")], 130) == []
    assert finished_jobs([STOPPED], [Job(1, 9, "Interrupt", "vim x")], 130) == []
    # but `kill -INT %1` ends a background job: that is news
    assert finished_jobs([RUN], [Job(1, 100, "Interrupt", "sleep 5")], 0) == [
        "[1] interrupt: sleep 5"
    ]


def test_a_job_gone_from_the_list_is_not_news() -> None:
    """`fg` ran it to its end, `wait` waited for it, `disown` dropped it."""
    assert finished_jobs([RUN], []) == []
    assert finished_jobs([STOPPED], []) == []


def test_stopped_once() -> None:
    assert stopped_jobs([], [STOPPED]) == [f"[1] stopped: vim x {HINT}"]
    assert stopped_jobs([STOPPED], [STOPPED]) == []


def test_stopped_again_after_fg() -> None:
    assert stopped_jobs([STOPPED], [STOPPED], 148, "fg") == [f"[1] stopped: vim x {HINT}"]
    other = Job(2, 10, "Stopped", "less y")
    both = [STOPPED, other]
    assert stopped_jobs(both, both, 148, "fg %2") == [f"[2] stopped: less y {HINT}"]
    assert stopped_jobs(both, both, 148, "%1") == [f"[1] stopped: vim x {HINT}"]
    assert stopped_jobs(both, both, 148, "fg") == []  # which one: bash's current job, unknown
    assert stopped_jobs(both, both, 0, "fg %2") == []
