"""Audit trail costs: one record (median/p99, fsync off/on), records/s with 16 writers.

    python bench/audit.py [--records N] [--writers 16] [--per-writer 500] [--json]

Measures `AuditLog.intent()` end to end (build, lock, read head, seal, write,
optional fdatasync), in process and through a real `guardsh audit serve`
collector, and the throughput of 16 writer processes appending to one file.
Runs in a temporary directory on the same file system as /tmp.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from guardsh.audit import Session, open_log  # noqa: E402
from guardsh.model import (  # noqa: E402
    Decision,
    Finding,
    Requirement,
    Severity,
    Span,
    Target,
    Verdict,
)


def decision(i: int) -> Decision:
    line = f"psql -c 'DELETE FROM sessions WHERE id = {i}'"
    f = Finding(
        "sql.delete", "sessions", Severity.LOW, Target("db", (("db_host", "db-1"),)), Span(8, 50)
    )
    return Decision(line, Verdict(Requirement.CONFIRM, rules=("prod-writes",)), "production", (f,))


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def one_record(
    tmp: Path, n: int, *, fsync: bool, syslog: bool = False, collector: str | None = None
) -> dict[str, Any]:
    path = tmp / f"single-{fsync}-{syslog}-{collector is not None}.jsonl"
    log = open_log(
        str(path), collector=collector, fsync=fsync, queue_dirs=[str(tmp / "q")], syslog=syslog
    )
    session = Session.current()
    d = decision(0)
    for _ in range(20):  # warm-up: genesis, caches, connection
        log.intent(d, session=session)
    times = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        seq = log.intent(decision(i), session=session)
        times.append((time.perf_counter_ns() - t0) / 1000)
        assert seq > 0, log.last_error
    log.close()
    return {
        "records": n,
        "median_us": round(statistics.median(times), 1),
        "p99_us": round(percentile(times, 99), 1),
        "max_us": round(max(times), 1),
    }


def child(path: str, n: int, fsync: bool, collector: str | None, start_at: float) -> None:
    log = open_log(
        None if collector else path,
        collector=collector,
        fsync=fsync,
        queue_dirs=[path + ".q"],
        syslog=False,
    )
    session = Session.current()
    decisions = [decision(i) for i in range(n)]
    while time.time() < start_at:
        time.sleep(0.001)
    for d in decisions:
        if log.intent(d, session=session) < 0:
            raise SystemExit(f"queued: {log.last_error}")
    log.close()


def many_writers(
    tmp: Path, writers: int, per: int, *, fsync: bool, collector: str | None = None
) -> dict[str, Any]:
    path = tmp / f"many-{fsync}-{collector is not None}.jsonl"
    start_at = time.time() + 1.5  # every child imported and ready before the clock starts
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                str(path),
                str(per),
                str(int(fsync)),
                collector or "",
                str(start_at),
            ]
        )
        for _ in range(writers)
    ]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("a writer failed")
    elapsed = time.time() - start_at
    total = writers * per
    if collector is None:
        assert sum(1 for _ in path.open()) == total + 1
    return {
        "writers": writers,
        "records": total,
        "seconds": round(elapsed, 3),
        "records_per_s": round(total / elapsed),
    }


def start_collector(tmp: Path, fsync: bool) -> tuple[subprocess.Popen[bytes], str, Path]:
    sock = tempfile.mkdtemp(prefix="gshb-", dir="/tmp") + "/audit.sock"
    log = tmp / f"collector-{fsync}.jsonl"
    cmd = [
        sys.executable,
        "-c",
        "from guardsh.cli.audit import audit; audit()",
        "serve",
        "--socket",
        sock,
        "--log",
        str(log),
        "--fsync" if fsync else "--no-fsync",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
            break
        except OSError:
            time.sleep(0.025)
    return proc, sock, log


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--fsync-records", type=int, default=500)
    ap.add_argument("--writers", type=int, default=16)
    ap.add_argument("--per-writer", type=int, default=500)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        path, n, fsync, coll, start_at = a.child
        child(path, int(n), fsync == "1", coll or None, float(start_at))
        return
    out: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="guardsh-bench-", dir="/tmp") as d:
        tmp = Path(d)
        out["file_fsync_off"] = one_record(tmp, a.records, fsync=False)
        out["file_fsync_on"] = one_record(tmp, a.fsync_records, fsync=True)
        out["file_fsync_off_syslog_on"] = one_record(tmp, a.records, fsync=False, syslog=True)
        out["file_16_writers_fsync_off"] = many_writers(tmp, a.writers, a.per_writer, fsync=False)
        out["file_16_writers_fsync_on"] = many_writers(tmp, a.writers, a.per_writer, fsync=True)
        for fsync in (False, True):
            proc, sock, _ = start_collector(tmp, fsync)
            try:
                key = "on" if fsync else "off"
                n = a.records if not fsync else a.fsync_records
                out[f"collector_fsync_{key}"] = one_record(tmp, n, fsync=False, collector=sock)
                out[f"collector_16_writers_fsync_{key}"] = many_writers(
                    tmp, a.writers, a.per_writer, fsync=False, collector=sock
                )
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=10)
                shutil.rmtree(os.path.dirname(sock), ignore_errors=True)
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"python {out['python']}, {out['cpus']} cpus")
    for k, v in out.items():
        if isinstance(v, dict) and "median_us" in v:
            print(
                f"{k:<34} one record: median {v['median_us']:>8.1f} µs  p99 {v['p99_us']:>8.1f} µs"
                f"  (n={v['records']})"
            )
        elif isinstance(v, dict):
            print(
                f"{k:<34} {v['records_per_s']:>8} records/s  ({v['writers']} writers, "
                f"{v['records']} records, {v['seconds']} s)"
            )


if __name__ == "__main__":
    main()
