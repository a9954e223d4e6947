"""Appending: concurrent writers, a writer killed mid-append, odd file states."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from guardsh.audit.record import ZERO_SHA, digest
from guardsh.audit.verify import verify_file
from guardsh.audit.writer import LogFile, read_head
from tests.audit.conftest import REPO, lines, run_proc
from tests.audit.proc import make_decision


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in lines(path)]


def test_16_concurrent_writers_lose_and_interleave_nothing(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    writers, per = 16, 500
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.audit.proc",
                "write",
                str(log),
                str(per),
                f"w{w}",
                "--queue",
                str(tmp_path / "q"),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * writers, [o[1] for o in outs]
    # every call returned a real seq (nothing was queued)
    for out, _ in outs:
        seqs = [int(s) for s in out.split()]
        assert len(seqs) == per and min(seqs) > 0 and seqs == sorted(seqs)

    raw = log.read_bytes()
    assert raw.endswith(b"\n")
    recs = records(log)  # every line is whole JSON: nothing interleaved
    assert len(recs) == writers * per + 1
    assert recs[0]["phase"] == "genesis"
    assert [r["seq"] for r in recs] == list(range(len(recs)))
    by_writer: dict[str, list[int]] = defaultdict(list)
    for r in recs[1:]:
        tag, i = r["line"].split()
        by_writer[tag].append(int(i))
    assert sorted(by_writer) == sorted(f"w{w}" for w in range(writers))
    for tag, got in by_writer.items():
        assert got == list(range(per)), f"{tag} lost or reordered records"
    [report] = verify_file(str(log))
    assert report.ok, report.problems
    assert report.records == writers * per + 1


def test_writer_killed_mid_append_leaves_one_torn_tail_that_the_next_writer_repairs(
    tmp_path: Path,
) -> None:
    log = tmp_path / "audit.jsonl"
    run_proc("write", str(log), "5", "before")
    size_before = log.stat().st_size

    env = dict(os.environ, GUARDSH_AUDIT_TEST_CRASH="torn")
    cp = run_proc("write", str(log), "1", "killed", env=env, check=False)
    assert cp.returncode == -signal.SIGKILL
    torn = log.read_bytes()[size_before:]
    assert torn and not torn.endswith(b"\n")

    [report] = verify_file(str(log))
    assert [p.kind for p in report.problems] == ["torn"]
    [problem] = report.problems
    assert problem.seq == 5 and f"{len(torn)} bytes at offset {size_before}" in problem.detail

    cp = run_proc("write", str(log), "2", "after")
    assert [int(s) for s in cp.stdout.split()] == [7, 8]  # seq 6 is the repair record
    [report] = verify_file(str(log))
    assert report.ok, report.problems
    assert report.records == 9 and report.last_seq == 8
    assert report.repairs == [f"seq 6: torn tail: {len(torn)} bytes after seq 5 removed"]
    recs = records(log)
    assert recs[6]["phase"] == "repair" and recs[6]["line"] == torn.decode("utf-8", "replace")
    assert recs[6]["prev_sha256"] == recs[5]["sha256"]
    assert [r["line"] for r in recs[7:]] == ["after 0", "after 1"]


def test_a_file_that_is_only_a_torn_fragment_restarts_with_genesis(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    log.write_bytes(b'{"ts":"2024')
    out = LogFile(str(log)).append([{"phase": "intent", "line": "x"}])
    assert out[0]["seq"] == 2
    recs = records(log)
    assert [r["phase"] for r in recs] == ["genesis", "repair", "intent"]
    assert recs[0]["prev_sha256"] == ZERO_SHA
    [report] = verify_file(str(log))
    assert report.ok and len(report.repairs) == 1


def test_two_writers_in_one_process_see_each_others_appends(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    a, b = LogFile(str(log)), LogFile(str(log))
    seqs = []
    for i in range(6):
        w = a if i % 2 else b
        seqs.append(w.append([{"phase": "intent", "line": str(i)}])[0]["seq"])
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert verify_file(str(log))[0].ok


def test_head_is_found_behind_records_larger_than_the_read_chunk(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    w = LogFile(str(log))
    big = {"phase": "intent", "line": "big", "dry_run": {"rows": ["x" * 100] * 2000}}
    w.append([big])
    w.append([big, big])
    fresh = LogFile(str(log))  # no cache: must read the head from disk
    assert fresh.append([{"phase": "intent", "line": "small"}])[0]["seq"] == 4
    fd = os.open(log, os.O_RDONLY)
    try:
        head = read_head(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)
    assert head.seq == 4 and not head.torn
    assert verify_file(str(log))[0].ok


def test_a_foreign_last_line_is_chained_to_and_reported(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    LogFile(str(log)).append([{"phase": "intent", "line": "a"}])
    with log.open("ab") as f:
        f.write(b"someone wrote this\n")
    out = LogFile(str(log)).append([{"phase": "intent", "line": "b"}])
    assert out[0]["seq"] == 2  # genesis 0, a 1; the foreign line takes no seq
    [report] = verify_file(str(log))
    assert [(p.kind, p.seq) for p in report.problems] == [("garbage", 1)]


def test_file_and_directory_are_private(tmp_path: Path) -> None:
    log = tmp_path / "new" / "dir" / "audit.jsonl"
    old = os.umask(0o022)
    try:
        LogFile(str(log)).append([{"phase": "intent", "line": "x"}])
    finally:
        os.umask(old)
    assert log.stat().st_mode & 0o777 == 0o600
    assert log.parent.stat().st_mode & 0o777 == 0o700


def test_sealed_records_chain_and_hash_their_content(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    w = LogFile(str(log), fsync=True)
    out = w.append([{"phase": "intent", "line": "a"}, {"phase": "intent", "line": "b"}])
    recs = records(log)
    assert recs[1:] == out
    for prev, cur in itertools.pairwise(recs):
        assert cur["prev_sha256"] == prev["sha256"]
    assert all(digest(r) == r["sha256"] for r in recs)
    assert w.head == (2, recs[-1]["sha256"])
    _ = make_decision  # the child-process helper is importable from tests
