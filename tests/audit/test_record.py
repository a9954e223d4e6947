"""Record fields, canonical bytes, identity (sudo, ssh, tty), syslog copies."""

from __future__ import annotations

import json
import math
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

from guardsh.audit import FIELDS, Session, open_log
from guardsh.audit.identity import read_loginuid, real_user, ssh_client
from guardsh.audit.record import canonical, digest, from_decision, now_ts, result_of, seal
from guardsh.audit.ship import Shipper, parse_anchors
from guardsh.model import Requirement
from tests.audit.conftest import REPO, SyslogCapture, lines
from tests.audit.proc import make_decision

DESIGN_FIELDS = [
    "ts",
    "seq",
    "session",
    "phase",
    "user",
    "uid",
    "host",
    "tty",
    "ssh_client",
    "cwd",
    "line",
    "environment",
    "findings",
    "verdict",
    "rules",
    "reason",
    "exit",
    "duration_ms",
    "policy_sha256",
    "prev_sha256",
    "sha256",
]


def test_fields_are_designs_plus_dry_run() -> None:
    assert set(FIELDS) == {*DESIGN_FIELDS, "dry_run"}
    session = Session("s1", "alice", 1000, "db-1", "/dev/pts/3", "203.0.113.9", "/srv", "ab" * 32)
    d = make_decision(
        "psql -c 'DROP DATABASE app'", requirement=Requirement.TYPE, rules=("r1", "r2")
    )
    rec = from_decision("intent", d, session, reason="INC-1", dry_run={"rows": 3}, cwd=None)
    assert set(rec) == set(FIELDS)
    assert rec["verdict"] == "type" and rec["rules"] == ["r1", "r2"] and rec["cwd"] == "/srv"
    assert rec["findings"][0]["action"] == "fs.delete_recursive"
    assert rec["environment"] == "production" and rec["policy_sha256"] == "ab" * 32
    res = result_of(rec, 3, 1500)
    assert set(res) == set(FIELDS)
    assert (res["phase"], res["exit"], res["duration_ms"], res["line"]) == (
        "result",
        3,
        1500,
        d.line,
    )


def test_canonical_json_and_hash_cover_everything_but_the_hash() -> None:
    a = canonical({"b": 1, "a": "é"})
    assert a == '{"a":"é","b":1}'.encode()
    rec = seal({"phase": "intent", "line": "x"}, 7, "0" * 64)
    assert rec["sha256"] == digest(rec)
    assert digest({**rec, "seq": 8}) != rec["sha256"]
    assert digest({**rec, "prev_sha256": "1" * 64}) != rec["sha256"]


def test_timestamps_are_utc_strings() -> None:
    assert now_ts(0.5) == "1970-01-01T00:00:00.500000Z"
    assert now_ts(1.9999999) == "1970-01-01T00:00:02.000000Z"


def test_odd_dry_run_values_become_plain_json() -> None:
    session = Session("s", "u", 1, "h")
    rec = from_decision(
        "intent",
        make_decision("x"),
        session,
        reason=None,
        dry_run={"nan": math.nan, "set": {1}, "obj": object, 2: (1, 2)},
        cwd="/",
    )
    dr = rec["dry_run"]
    assert dr["nan"] == "nan" and dr["set"] == [1] and dr["2"] == [1, 2] and "class" in dr["obj"]
    huge = from_decision(
        "intent",
        make_decision("x"),
        session,
        reason=None,
        dry_run={"rows": ["x" * 1000] * 1000},
        cwd="/",
    )["dry_run"]
    assert huge["truncated"] is True and huge["bytes"] > 1_000_000 and len(huge["head"]) <= 4096


def test_real_user_prefers_sudo_user_then_loginuid_then_uid() -> None:
    assert real_user({"SUDO_USER": "alice"}, 0, None) == "alice"
    assert real_user({}, 0, 0) == "root"
    assert real_user({}, 65534, 0) == "root"  # `su nobody` after logging in as root
    assert real_user({}, 65534, None) == "nobody"
    assert real_user({}, 4242, None) == "4242"  # no passwd entry
    raw = int(Path(f"/proc/{os.getpid()}/loginuid").read_text())
    assert read_loginuid(os.getpid()) == (None if raw == 4294967295 else raw)
    assert read_loginuid(999_999_999) is None


def test_ssh_client_address() -> None:
    assert ssh_client({"SSH_CONNECTION": "203.0.113.5 51122 10.0.0.2 22"}) == "203.0.113.5"
    assert ssh_client({"SSH_CLIENT": "2001:db8::1 51122 22"}) == "2001:db8::1"
    assert ssh_client({}) is None


def test_session_identity_in_a_real_process_behind_sudo_over_ssh_on_a_tty() -> None:
    code = (
        "import json; from guardsh.audit import Session; s = Session.current(); "
        "print(json.dumps([s.user, s.uid, s.tty, s.ssh_client, s.host, len(s.id)]))"
    )
    env = dict(
        os.environ,
        SUDO_USER="alice",
        SUDO_UID="1000",
        SSH_CONNECTION="198.51.100.7 40000 10.0.0.1 22",
    )
    primary, secondary = pty.openpty()
    try:
        cp = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env=env,
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=60,
        )
        tty_name = os.ttyname(secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    user, uid, tty, client, host, idlen = json.loads(cp.stdout)
    assert (user, uid, tty, client) == ("alice", os.getuid(), tty_name, "198.51.100.7")
    assert host and idlen == 16


def test_file_mode_ships_every_record_to_syslog_authpriv(
    tmp_path: Path, syslog_capture: SyslogCapture
) -> None:
    log_path = tmp_path / "audit.jsonl"
    code = (
        "from tests.audit.proc import main; "
        f"main(['write', '{log_path}', '3', 'shipped', '--syslog', '--queue', '{tmp_path / 'q'}'])"
    )
    cp = subprocess.run(
        syslog_capture.wrap([sys.executable, "-c", code]),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cp.returncode == 0, cp.stderr
    msgs = syslog_capture.drain(wait=5, until=lambda m: len(m) >= 4)
    assert len(msgs) == 4  # the genesis record leaves the host too
    assert all(m.startswith("<86>") and "guardsh-audit[" in m for m in msgs)
    shipped = [json.loads(m.split("GUARDSH-AUDIT ", 1)[1]) for m in msgs]
    on_disk = [json.loads(x) for x in lines(log_path)]
    assert shipped == on_disk


def test_shipper_trims_huge_records_and_finds_anchors() -> None:
    sent: list[tuple[int, str]] = []
    ship = Shipper(lambda prio, msg: sent.append((prio, msg)))
    ship.record(
        {
            "phase": "intent",
            "line": "x" * 20000,
            "sha256": "f" * 64,
            "findings": [{"action": "a", "object": "o", "severity": "high", "evidence": {}}],
        }
    )
    ship.anchor({"chain": "c", "seq": 3, "sha256": "s"})
    (p1, m1), (p2, m2) = sent
    assert p1 == (10 << 3) | 6 and len(m1) < 8000 and '"truncated":true' in m1 and "f" * 64 in m1
    assert p2 == (10 << 3) | 5
    assert parse_anchors(["x", "host: " + m2]) == [{"chain": "c", "seq": 3, "sha256": "s"}]


def test_audit_log_never_raises_into_the_shell(tmp_path: Path) -> None:
    class Broken:
        def deliver(self, records: object) -> list[dict[str, Any]]:
            raise RuntimeError("a bug")

        def close(self) -> None:
            pass

    warnings: list[str] = []
    log = open_log(
        str(tmp_path / "a.jsonl"),
        queue_dirs=[str(tmp_path / "q")],
        syslog=False,
        warn=warnings.append,
    )
    log.sink = Broken()
    assert log.intent(make_decision("x"), session=Session.current()) == -1
    assert "internal error" in str(log.last_error) and warnings
    assert log.result(-1, 0, 1) == -2
    assert log.result(12345, 0, 1) == -3  # an unknown intent still gives a result record
