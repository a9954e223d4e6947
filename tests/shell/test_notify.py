"""Notices about jobs: what bash, reading a script, never says itself."""

from __future__ import annotations

from guardsh.run.backing import Job
from guardsh.shell.notify import finished_jobs, stopped_jobs

RUN = Job(1, 100, "Running", "sleep 5 &")


def test_a_background_job_that_finished() -> None:
    assert finished_jobs([RUN], [Job(1, 100, "Done", "sleep 5")]) == ["[1] done: sleep 5"]
    assert finished_jobs([RUN], []) == ["[1] done: sleep 5 &"]
    assert finished_jobs([RUN], [Job(1, 100, "Exit 2", "false")]) == ["[1] done: false (Exit 2)"]


def test_a_foreground_job_ended_by_ctrl_c_is_not_news() -> None:
    assert finished_jobs([], [Job(1, 7, "Interrupt", "sleep 20")]) == []
    assert finished_jobs([], [Job(1, 7, "Done", "sleep 0.1 &")]) == ["[1] done: sleep 0.1 &"]


def test_stopped_once() -> None:
    stopped = Job(1, 9, "Stopped", "vim x")
    assert stopped_jobs([], [stopped]) == [
        "[1] stopped: vim x (fg to resume, bg to run it in the background)"
    ]
    assert stopped_jobs([stopped], [stopped]) == []
