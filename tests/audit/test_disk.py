"""A full disk, a read-only file system, an unwritable directory: told, queued, nothing lost."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from pathlib import Path

from guardsh.audit import Session, open_log
from guardsh.audit.record import blank, now_ts
from guardsh.audit.spool import Spool
from guardsh.audit.verify import verify_file
from tests.audit.conftest import fork_as, lines, run_proc
from tests.audit.proc import make_decision


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    return filler


def logged_lines(path: Path) -> list[str | None]:
    return [json.loads(x)["line"] for x in lines(path)]


def test_disk_full_tells_the_caller_queues_and_loses_nothing(tmpfs: Path, tmp_path: Path) -> None:
    warnings: list[str] = []
    path = tmpfs / "audit.jsonl"
    queue = tmp_path / "queue"
    log = open_log(
        str(path), fsync=True, queue_dirs=[str(queue)], syslog=False, warn=warnings.append
    )
    session = Session.current()
    assert log.intent(make_decision("before"), session=session) == 1
    filler = fill(tmpfs)

    results = [log.intent(make_decision(f"cmd {i}"), session=session) for i in range(30)]
    failed = next(i for i, r in enumerate(results) if r < 0)
    assert all(r < 0 for r in results[failed:]), "once queued, later records queue too (order)"
    assert not log.ok and log.last_error is not None
    assert getattr(log.last_error, "errno", None) == errno.ENOSPC
    assert len(warnings) == 1 and "No space left" in warnings[0] and str(queue) in warnings[0]
    assert log.queued == 30 - failed
    [report] = verify_file(str(path))
    assert report.ok, report.problems  # a failed append leaves no half record behind
    [spooled] = list(queue.iterdir())
    assert [json.loads(x)["line"] for x in lines(spooled)] == [
        f"cmd {i}" for i in range(failed, 30)
    ]

    # result() of a queued intent is queued too, in order
    assert log.result(results[-1], 0, 5) < 0

    filler.unlink()  # space returns
    assert log.intent(make_decision("after"), session=session) > 0
    assert log.ok and log.queued == 0
    assert "reachable again" in warnings[-1]
    got = logged_lines(path)
    assert got == [None, "before", *(f"cmd {i}" for i in range(30)), "cmd 29", "after"]
    assert [json.loads(x)["phase"] for x in lines(path)][-2] == "result"
    [report] = verify_file(str(path))
    assert report.ok, report.problems
    assert list(queue.iterdir()) == []


def test_no_writable_queue_holds_records_in_memory_and_says_so(tmpfs: Path, tmp_path: Path) -> None:
    warnings: list[str] = []
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    path = tmpfs / "audit.jsonl"
    log = open_log(str(path), queue_dirs=[str(not_a_dir / "q")], syslog=False, warn=warnings.append)
    session = Session.current()
    log.intent(make_decision("first"), session=session)
    filler = fill(tmpfs)
    results = [log.intent(make_decision(f"m {i}"), session=session) for i in range(20)]
    assert results[-1] < 0
    assert any("held in memory" in w for w in warnings)
    filler.unlink()
    assert log.intent(make_decision("last"), session=session) > 0
    got = logged_lines(path)
    assert got == [None, "first", *(f"m {i}" for i in range(20)), "last"]
    assert verify_file(str(path))[0].ok


def test_read_only_file_system(tmp_path: Path) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    path = d / "audit.jsonl"
    warnings: list[str] = []
    log = open_log(str(path), queue_dirs=[str(tmp_path / "q")], syslog=False, warn=warnings.append)
    session = Session.current()
    log.intent(make_decision("writable"), session=session)
    ro = subprocess.run(
        f"mount --bind {d} {d} && mount -o remount,ro,bind {d}",
        shell=True,
        capture_output=True,
        text=True,
    )
    if ro.returncode != 0:
        import pytest

        pytest.skip(f"mount is not permitted here: {ro.stderr.strip()}")
    try:
        assert log.intent(make_decision("while ro"), session=session) < 0
        assert getattr(log.last_error, "errno", None) == errno.EROFS
        assert "Read-only file system" in warnings[0]
    finally:
        subprocess.run(["umount", str(d)], check=True)
    assert log.intent(make_decision("rw again"), session=session) > 0
    assert logged_lines(path) == [None, "writable", "while ro", "rw again"]
    assert verify_file(str(path))[0].ok


def test_unwritable_directory_for_a_non_root_writer(sockdir: Path) -> None:
    """The equivalent that needs no mount: a writer (uid 65534) facing a root-owned dir."""
    root_dir = sockdir / "rootonly"
    root_dir.mkdir(mode=0o755)
    queue = sockdir / "nobody-queue"
    queue.mkdir()
    os.chown(queue, 65534, 65534)
    path = root_dir / "audit.jsonl"

    def child() -> str:
        log = open_log(str(path), queue_dirs=[str(queue)], syslog=False, warn=lambda m: None)
        s = Session.current()
        seqs = [log.intent(make_decision(f"nobody {i}"), session=s) for i in range(3)]
        err = log.last_error
        return json.dumps({"seqs": seqs, "errno": getattr(err, "errno", None), "user": s.user})

    out = json.loads(fork_as(65534, child))
    assert out["seqs"] == [-1, -2, -3] and out["errno"] == errno.EACCES and out["user"] == "nobody"
    assert not path.exists()
    [spooled] = list(queue.iterdir())
    assert len(lines(spooled)) == 3

    # the directory becomes writable (here: root's next session): the orphans arrive first
    log = open_log(str(path), queue_dirs=[str(queue)], syslog=False)
    assert log.intent(make_decision("root"), session=Session.current()) == 4
    assert logged_lines(path) == [None, "nobody 0", "nobody 1", "nobody 2", "root"]
    assert verify_file(str(path))[0].ok


def test_queued_records_of_a_session_that_ended_are_delivered_by_the_next(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.mkdir()  # a log path that cannot be opened as a file
    queue = tmp_path / "queue"
    cp = run_proc("write", str(path), "4", "gone", "--queue", str(queue))
    assert [int(x) for x in cp.stdout.split()] == [-1, -2, -3, -4]
    assert "WARN" in cp.stderr and "queued" in cp.stderr
    path.rmdir()
    cp = run_proc("write", str(path), "2", "next", "--queue", str(queue))
    assert [int(x) for x in cp.stdout.split()] == [5, 6]
    assert logged_lines(path) == [None, "gone 0", "gone 1", "gone 2", "gone 3", "next 0", "next 1"]
    assert verify_file(str(path))[0].ok
    assert list(queue.iterdir()) == []


def test_queue_dirs_owned_by_someone_else_or_symlinked_are_skipped(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    os.chown(foreign, 65534, 65534)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    mine = tmp_path / "mine"
    path = tmp_path / "log-is-a-dir"
    path.mkdir()
    warnings: list[str] = []
    log = open_log(
        str(path),
        queue_dirs=[str(foreign), str(link), str(mine)],
        syslog=False,
        warn=warnings.append,
    )
    assert log.intent(make_decision("x"), session=Session.current()) < 0
    assert list(foreign.iterdir()) == [] and list((tmp_path / "elsewhere").iterdir()) == []
    assert len(list(mine.iterdir())) == 1 and str(mine) in warnings[0]


def test_default_locations_follow_xdg(hermetic: Path) -> None:
    from guardsh.audit.log import default_log_path, default_queue_dirs

    state = os.environ["XDG_STATE_HOME"]
    assert default_log_path() == os.path.join(state, "guardsh", "audit.jsonl")
    dirs = default_queue_dirs()
    assert dirs[0] == os.path.join(state, "guardsh", "queue")
    assert dirs[1] == os.path.join(os.environ["XDG_RUNTIME_DIR"], "guardsh", "queue")
    assert dirs[2].endswith(f"guardsh-{os.getuid()}-queue")
    assert default_log_path({"HOME": "/home/a"}) == "/home/a/.local/state/guardsh/audit.jsonl"


def test_queues_of_several_sessions_are_delivered_oldest_first(tmp_path: Path) -> None:
    """Session ids are random: the order is each session's first record's ts,
    across queue directories, and every session keeps its own order."""
    state, runtime = tmp_path / "state-q", tmp_path / "run-q"
    queued = {  # session id -> (queue dir, [(clock, line)...])
        "aaa": (state, [(1_700_000_300.0, "newest 0"), (1_700_000_301.0, "newest 1")]),
        "mmm": (state, [(1_700_000_100.0, "older 0"), (1_700_000_400.0, "older 1")]),
        "zzz": (state, [(1_700_000_200.0, "middle 0"), (1_700_000_250.0, "middle 1")]),
        "bbb": (runtime, [(1_700_000_000.0, "oldest 0")]),
    }
    session = Session.current()
    for sid, (directory, made) in queued.items():
        spool = Spool([str(directory)], sid)
        for clock, line in made:
            spool.put({**blank("intent", session, cwd=None, ts=now_ts(clock)), "line": line})
    path = tmp_path / "audit.jsonl"
    log = open_log(str(path), queue_dirs=[str(state), str(runtime)], syslog=False)
    assert log.intent(make_decision("now"), session=session) == 8
    assert logged_lines(path) == [
        None,
        "oldest 0",
        "older 0",
        "older 1",
        "middle 0",
        "middle 1",
        "newest 0",
        "newest 1",
        "now",
    ]
    assert verify_file(str(path))[0].ok
