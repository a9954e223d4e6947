"""The root collector: peer credentials win, queued records arrive in order, anchors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from guardsh.audit import Session, open_log
from guardsh.audit.client import CollectorClient
from guardsh.audit.collector import systemd_listen_fd
from guardsh.audit.verify import verify_file
from tests.audit.conftest import CLI, REPO, CollectorProc, SyslogCapture, fork_as, lines, run_cli
from tests.audit.proc import make_decision


def logged(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in lines(path)]


def test_collector_seals_records_and_owns_a_private_file(
    tmp_path: Path, collector_factory: Callable[..., CollectorProc]
) -> None:
    path = tmp_path / "var" / "audit.jsonl"
    c = collector_factory(path).start()
    log = open_log(collector=str(c.sock), queue_dirs=[str(tmp_path / "q")], syslog=False)
    session = Session.current()
    seq = log.intent(make_decision("DROP TABLE users"), reason="INC-7", session=session)
    assert seq == 1
    assert log.result(seq, 0, 42) == 2
    log.close()
    recs = logged(path)
    assert [r["phase"] for r in recs] == ["genesis", "intent", "result"]
    assert recs[1]["reason"] == "INC-7" and recs[2]["exit"] == 0 and recs[2]["duration_ms"] == 42
    assert recs[1]["session"] == session.id
    assert path.stat().st_mode & 0o777 == 0o600
    assert (c.sock.stat().st_mode & 0o777) == 0o666
    assert verify_file(str(path))[0].ok


def test_forged_user_loses_to_peer_credentials(
    tmp_path: Path, collector_factory: Callable[..., CollectorProc]
) -> None:
    path = tmp_path / "audit.jsonl"
    c = collector_factory(path).start()

    def child() -> str:
        forged = replace(Session.current(), user="root", uid=0)
        log = open_log(
            collector=str(c.sock), queue_dirs=["/nonexistent/q"], syslog=False, warn=lambda m: None
        )
        return str(log.intent(make_decision("rm -rf /srv"), session=forged))

    assert fork_as(65534, child) == "1"
    [_, rec] = logged(path)
    assert (rec["user"], rec["uid"]) == ("nobody", 65534)
    assert rec["line"] == "rm -rf /srv"
    assert verify_file(str(path))[0].ok


def test_root_sender_behind_sudo_keeps_the_real_user(
    tmp_path: Path, collector_factory: Callable[..., CollectorProc]
) -> None:
    path = tmp_path / "audit.jsonl"
    c = collector_factory(path).start()
    env = dict(os.environ, SUDO_USER="alice", SUDO_UID="1000")
    cp = subprocess.run(
        [
            *CLI[:2],
            "from tests.audit.proc import main; main(['write', '-', '1', 'sudo', '--collector', "
            f"'{c.sock}', '--queue', '{tmp_path / 'q'}'])",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cp.returncode == 0, cp.stderr
    rec = logged(path)[1]
    assert (rec["user"], rec["uid"]) == ("alice", 0)


def test_collector_down_then_up_delivers_queued_records_in_order(
    tmp_path: Path, collector_factory: Callable[..., CollectorProc]
) -> None:
    path = tmp_path / "audit.jsonl"
    c = collector_factory(path)
    warnings: list[str] = []
    log = open_log(
        collector=str(c.sock),
        queue_dirs=[str(tmp_path / "q")],
        syslog=False,
        warn=warnings.append,
        timeout=1.0,
    )
    session = Session.current()
    down = [log.intent(make_decision(f"down {i}"), session=session) for i in range(20)]
    assert down == list(range(-1, -21, -1))
    assert not log.ok and log.queued == 20 and len(warnings) == 1
    assert not path.exists()

    c.start()
    assert log.intent(make_decision("up"), session=session) == 21
    assert log.ok and log.queued == 0

    c.stop()  # the collector restarts while the session lives
    again = [log.intent(make_decision(f"again {i}"), session=session) for i in range(5)]
    assert all(s < 0 for s in again)
    c.start()
    assert log.intent(make_decision("back"), session=session) == 27
    log.close()

    got = [r["line"] for r in logged(path)]
    assert got == [
        None,
        *(f"down {i}" for i in range(20)),
        "up",
        *(f"again {i}" for i in range(5)),
        "back",
    ]
    [report] = verify_file(str(path))
    assert report.ok and report.last_seq == 27


def test_stale_socket_is_replaced_and_a_second_collector_refuses(
    tmp_path: Path, collector_factory: Callable[..., CollectorProc]
) -> None:
    path = tmp_path / "audit.jsonl"
    c = collector_factory(path).start()
    assert c.proc is not None
    c.proc.send_signal(signal.SIGKILL)
    c.stop()
    assert c.sock.exists()  # left behind
    c.start()
    second = run_cli("serve", "--socket", str(c.sock), "--log", str(tmp_path / "other.jsonl"))
    assert second.returncode == 1 and "another collector" in second.stderr
    client = CollectorClient(str(c.sock))
    try:
        rec = {"phase": "intent", "line": "x", "user": "root", "uid": 0}
        assert client.deliver([rec])[0]["seq"] == 1
        rejected = client.deliver([{"phase": "genesis"}])[0]
        assert rejected["seq"] is None and "not a session record" in rejected["rejected"]
    finally:
        client.close()


def test_socket_activation(tmp_path: Path, sockdir: Path) -> None:
    sock = sockdir / "activated.sock"
    path = tmp_path / "audit.jsonl"
    proc = subprocess.Popen(
        [
            "systemd-socket-activate",
            "-l",
            str(sock),
            *CLI,
            "serve",
            "--log",
            str(path),
            "--no-fsync",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = open_log(
            collector=str(sock), queue_dirs=[str(tmp_path / "q")], syslog=False, timeout=10
        )
        assert log.intent(make_decision("activated"), session=Session.current()) == 1
        log.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert [r["line"] for r in logged(path)] == [None, "activated"]
    assert systemd_listen_fd({"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "1"}) == 3
    assert systemd_listen_fd({"LISTEN_PID": "1", "LISTEN_FDS": "1"}) is None


def test_records_and_anchors_reach_syslog_and_anchors_catch_a_cut_tail(
    tmp_path: Path, collector_factory: Callable[..., CollectorProc], syslog_capture: SyslogCapture
) -> None:
    path = tmp_path / "audit.jsonl"
    c = collector_factory(path, anchor_interval=0.2, wrap=syslog_capture.wrap).start()

    def child() -> str:
        forged = replace(Session.current(), user="root")
        log = open_log(
            collector=str(c.sock), queue_dirs=["/nonexistent"], syslog=False, warn=lambda m: None
        )
        return str(log.intent(make_decision("kill -9 1234"), session=forged))

    assert fork_as(65534, child) == "1"
    log = open_log(collector=str(c.sock), queue_dirs=[str(tmp_path / "q")], syslog=False)
    session = Session.current()
    for i in range(3):
        log.intent(make_decision(f"cmd {i}"), session=session)
    log.close()

    def anchored(msgs: list[str]) -> bool:
        return any("GUARDSH-AUDIT-ANCHOR" in m and '"seq":4' in m for m in msgs)

    msgs = syslog_capture.drain(wait=10, until=anchored)
    assert anchored(msgs), msgs
    records = [m for m in msgs if " GUARDSH-AUDIT {" in m]
    assert len(records) == 5  # genesis + 4
    assert all(m.startswith("<86>") for m in records)  # LOG_AUTHPRIV | LOG_INFO
    file_shas = [r["sha256"] for r in logged(path)]
    shipped = [json.loads(m.split(" GUARDSH-AUDIT ", 1)[1])["sha256"] for m in records]
    assert shipped == file_shas
    notes = [m for m in msgs if "GUARDSH-AUDIT-NOTE" in m]
    assert len(notes) == 1 and '"claimed_user":"root"' in notes[0] and '"user":"nobody"' in notes[0]

    export = tmp_path / "syslog.txt"
    export.write_text("".join(m + "\n" for m in msgs))
    assert run_cli("verify", "--anchors", str(export), str(path)).returncode == 0
    # the syslog copy is a chain of its own that verifies far from the host
    cp = run_cli("verify", "--by-host", "--anchors", str(export), str(export))
    assert cp.returncode == 0 and "OK: 5 records, seq 0-4" in cp.stdout, cp.stdout
    # the records shipped to syslog can be read back by search, like the file
    cp = run_cli("search", "--user", "nobody", "--json", str(export))
    assert [json.loads(x)["line"] for x in cp.stdout.splitlines()] == ["kill -9 1234"]

    c.stop()
    rows = path.read_text().splitlines()
    path.write_text("".join(r + "\n" for r in rows[:-1]))
    cp = run_cli("verify", "--anchors", str(export), str(path))
    assert (
        cp.returncode == 1
        and "truncated" in cp.stdout
        and "seq 4-4 missing from the end" in cp.stdout
    )


def test_client_gives_up_quickly_on_a_collector_that_does_not_answer(
    tmp_path: Path, sockdir: Path
) -> None:
    sock_path = sockdir / "mute.sock"
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(str(sock_path))
    mute.listen(1)
    try:
        log = open_log(
            collector=str(sock_path),
            queue_dirs=[str(tmp_path / "q")],
            syslog=False,
            warn=lambda m: None,
            timeout=0.3,
        )
        t0 = time.monotonic()
        assert log.intent(make_decision("x"), session=Session.current()) < 0
        assert time.monotonic() - t0 < 2.0
        log.close()
    finally:
        mute.close()
