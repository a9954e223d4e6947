"""Ctrl-C, Ctrl-Z, Ctrl-D, background jobs, and programs that own the terminal."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.shell.term import CTRL_C, CTRL_D, CTRL_Z, ESC, Term

pytestmark = pytest.mark.pty
Shell = Callable[..., Term]


def _pid_of(t: Term, pattern: str) -> int:
    """The pid of a process started by the test shell whose cmdline matches."""
    for _ in range(50):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                if re.fullmatch(pattern, cmd.strip()):
                    return int(entry.name)
        time.sleep(0.1)
    raise AssertionError(f"no process matching {pattern!r}")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_ctrl_c_kills_the_command_not_the_shell(shell: Shell) -> None:
    t = shell()
    t.line("sleep 100")
    pid = _pid_of(t, r"sleep 100")
    t.send(CTRL_C)
    t.prompt()
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)
    t.run('echo "alive status=$?"', "alive status=130")
    assert t.child.isalive()


def test_ctrl_c_abandons_the_rest_of_the_line_and_loops(shell: Shell) -> None:
    t = shell()
    t.line("sleep 101; echo after-$((1+1))")
    _pid_of(t, r"sleep 101")
    t.send(CTRL_C)
    t.prompt()
    t.line("for i in 1 2 3; do sleep 102; echo iter-$((i*10)); done")
    _pid_of(t, r"sleep 102")
    t.send(CTRL_C)
    t.prompt()
    t.run("echo done-$((3+3))", "done-6")
    assert "after-2" not in t.text
    assert "iter-10" not in t.text


def test_ctrl_d_exits_with_the_last_status(shell: Shell) -> None:
    t = shell()
    t.run("(exit 3)")
    assert t.exit() == 3


def test_ctrl_d_on_a_non_empty_line_does_not_exit(shell: Shell) -> None:
    t = shell()
    t.send("echo still-ab")
    t.send("\x1b[D")  # Left: Ctrl-D now deletes the character under the cursor
    t.send(CTRL_D)
    t.send("\r")
    t.expect_exact("still-a\n")
    t.prompt()
    assert t.child.isalive()


def test_background_job_runs_and_is_reported_done(shell: Shell) -> None:
    t = shell()
    t.run("sleep 0.3 &")
    time.sleep(0.6)
    t.line("echo next-$((5*5))")
    t.expect_exact("next-25")
    t.expect_exact("[1] done: sleep 0.3")
    t.prompt()


def test_a_finished_job_is_reported_on_an_empty_line(shell: Shell) -> None:
    t = shell()
    t.run("false | true")
    t.run("sleep 0.3 &")
    time.sleep(0.6)
    t.line("")  # runs nothing, but the job's end is said before the next prompt
    t.expect(r"\[\d+\] done: sleep 0\.3\n")
    t.prompt()
    t.run('echo "ps=${PIPESTATUS[*]}"', "ps=1 0")  # the empty line kept what bash keeps


def test_a_job_brought_back_and_interrupted_is_not_reported_done(shell: Shell) -> None:
    t = shell()
    t.line("sleep 105")
    pid = _pid_of(t, r"sleep 105")
    t.send(CTRL_Z)
    t.expect_exact("[1] stopped: sleep 105")
    t.prompt()
    t.line("fg")
    t.expect_exact("sleep 105")
    time.sleep(0.3)
    t.send(CTRL_Z)  # stopped again: said again
    t.expect_exact("[1] stopped: sleep 105")
    t.prompt()
    t.run("bg", "sleep 105 &")
    t.line("fg")
    t.expect_exact("sleep 105")
    time.sleep(0.3)
    t.send(CTRL_C)
    t.prompt()
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)
    t.run('echo "after=$?"', "after=130")
    assert "done: sleep 105" not in t.text
    assert t.text.count("stopped: sleep 105") == 2


def test_closing_the_terminal_hangs_up_the_jobs(shell: Shell) -> None:
    t = shell()
    secs = f"555.{os.getpid()}"  # this run's own, whatever an earlier run left behind
    t.run(f"sleep {secs} &")
    running = _pid_of(t, rf"sleep {secs}")
    t.line(f"sleep 1{secs}")
    stopped = _pid_of(t, rf"sleep 1{secs}")
    t.send(CTRL_Z)
    t.prompt()
    try:
        status = t.hang_up()  # the window closes: SIGHUP to the front end
        assert status is not None, "guardsh must leave when its terminal hangs up"
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 129, status
        for pid in (running, stopped):
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.05)
            assert not _alive(pid), f"a job outlived its terminal: {pid}"
    finally:
        for pid in (running, stopped):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_ctrl_z_fg_bg_jobs(shell: Shell) -> None:
    t = shell()
    t.line("sleep 103")
    pid = _pid_of(t, r"sleep 103")
    t.send(CTRL_Z)
    t.expect_exact("[1] stopped: sleep 103")
    t.prompt()
    assert _state(pid) == "T"
    t.run("jobs", re.compile(r"\[1\]\+\s+Stopped\s+sleep 103"))
    t.run('echo "status=$?"', "status=0")
    t.run("bg", "sleep 103 &")
    assert _state(pid) in ("S", "R")
    t.run("jobs", re.compile(r"\[1\]\+\s+Running\s+sleep 103 &"))
    t.line("fg")
    t.expect_exact("sleep 103")
    time.sleep(0.3)
    t.send(CTRL_C)
    t.prompt()
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)
    t.run('echo "after-fg=$?"', "after-fg=130")


def test_stopped_jobs_warn_before_exit_and_are_ended(shell: Shell) -> None:
    t = shell()
    t.line("sleep 104")
    pid = _pid_of(t, r"sleep 104")
    t.send(CTRL_Z)
    t.prompt()
    t.send(CTRL_D)
    t.expect_exact("there are stopped jobs (sleep 104)")
    t.prompt()
    assert t.child.isalive()
    assert t.exit() in (0, 148)
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)


def test_interactive_programs_own_the_terminal(shell: Shell) -> None:
    t = shell()
    t.line(
        'python3 -c \'import sys, os; print("tty", sys.stdin.isatty(), sys.stdout.isatty(), '
        "os.tcgetpgrp(0) == os.getpgrp())'"
    )
    t.expect_exact("tty True True True")  # the command is the terminal's foreground
    t.prompt()
    t.line("cat")
    time.sleep(0.3)
    t.send("typed-into-cat\r")
    t.expect(r"typed-into-cat\ntyped-into-cat")  # the tty's echo, then cat's copy
    t.send(CTRL_D)
    t.prompt()
    t.line('read -r answer; echo "read=[$answer]"')
    time.sleep(0.3)
    t.send("forty two\r")
    t.expect_exact("read=[forty two]")
    t.prompt()


def test_vim_edits_a_file(shell: Shell, work: Path) -> None:
    vim = shutil.which("vim") or shutil.which("vi")
    if vim is None:
        pytest.skip("no vim/vi on this machine")
    t = shell()
    t.line(f"{vim} -u NONE -N written.txt")
    time.sleep(1.0)
    t.send("ihello from vim")
    t.send(ESC)
    t.send(":wq\r")
    t.prompt()
    assert (work / "written.txt").read_text() == "hello from vim\n"


def test_less_pages_and_quits(shell: Shell) -> None:
    if shutil.which("less") is None:
        pytest.skip("no less on this machine")
    t = shell()
    t.line("seq 1 500 | less")
    t.expect(r"\b39\b")
    t.send(" ")  # next page
    t.expect(r"\b78\b")
    t.send("q")
    t.prompt()
    t.run("echo quit-$((1+1))", "quit-2")


def test_nested_bash_is_a_guarded_shell(shell: Shell) -> None:
    t = shell()
    t.run('echo "level=$GUARDSH_LEVEL"', "level=1")
    t.line("bash")
    t.expect_exact("starting a nested guardsh")
    t.prompt()
    t.run('echo "level=$GUARDSH_LEVEL"', "level=2")
    t.line("exit 4")
    t.prompt()
    t.run('echo "nested-exit=$?"', "nested-exit=4")


def test_escape_is_left_alone_where_not_protected(shell: Shell, tmp_path: Path) -> None:
    policy = tmp_path / "dev.yaml"
    policy.write_text("unknown_environment: development\n")
    t = shell(policy=policy)
    t.line("bash --norc")  # not a plain form anyway: runs as typed
    time.sleep(0.5)
    t.send("echo inner-$GUARDSH_LEVEL-$((1+1)); exit\r")
    t.expect_exact("inner-1-2")
    t.prompt()
    assert os.environ.get("GUARDSH_LEVEL") is None
