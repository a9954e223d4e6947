"""tail, search, stats, export over many hosts' files."""

from __future__ import annotations

import csv
import io
import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from guardsh.audit import SYSTEM_LOG, Session
from guardsh.audit.query import Filter, chart, parse_time, search, stats, ts_epoch
from guardsh.audit.record import from_decision, now_ts, result_of
from guardsh.audit.writer import LogFile
from guardsh.model import Requirement, Severity
from tests.audit.conftest import CLI, REPO, run_cli
from tests.audit.proc import make_decision

T0 = 1_714_528_800.0  # 2024-05-01 02:00:00 UTC


def rec(
    host: str,
    user: str,
    line: str,
    at: float,
    *,
    env: str = "production",
    phase: str = "intent",
    action: str = "fs.delete_recursive",
    verdict: Requirement = Requirement.CONFIRM,
    severity: Severity = Severity.HIGH,
    reason: str | None = None,
) -> dict[str, Any]:
    session = Session(f"s-{user}", user, 1000, host, None, None, "/srv", None)
    d = make_decision(line, env=env, action=action, requirement=verdict, severity=severity)
    r = from_decision(
        phase if phase != "result" else "intent", d, session, reason=reason, dry_run=None, cwd=None
    )
    if phase == "result":
        r = result_of(r, 0, 10)
    r["ts"] = now_ts(at)
    return r


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[Path, Path]:
    db, web = tmp_path / "db-1.jsonl", tmp_path / "web-1.jsonl"
    LogFile(str(db)).append(
        [
            rec(
                "db-1",
                "alice",
                "psql -c 'DROP TABLE sessions'",
                T0 + 60,
                action="sql.drop_table",
                verdict=Requirement.TYPE,
                reason="INC-42",
            ),
            rec("db-1", "alice", "psql -c 'DROP TABLE sessions'", T0 + 65, phase="result"),
            rec(
                "db-1",
                "bob",
                "kill -9 4242",
                T0 + 3600 * 2 + 5,
                action="process.kill",
                verdict=Requirement.DENY,
                phase="denied",
            ),
            rec(
                "db-1",
                "bob",
                "ls -la",
                T0 + 3600 * 2 + 9,
                action="none",
                verdict=Requirement.ALLOW,
                severity=Severity.NONE,
            ),
        ]
    )
    LogFile(str(web)).append(
        [
            rec("web-1", "carol", "rm -rf /var/www/old", T0 + 120, env="staging"),
            rec(
                "web-1",
                "alice",
                "kubectl delete ns payments",
                T0 + 3600 + 1,
                action="k8s.delete",
                phase="declined",
            ),
        ]
    )
    return db, web


def lines_of(paths: tuple[Path, Path], **kw: object) -> list[str]:
    return [r["line"] for r in search([str(p) for p in paths], Filter(**kw))]  # type: ignore[arg-type]


def test_search_filters(fleet: tuple[Path, Path]) -> None:
    assert lines_of(fleet, users=("alice",)) == [
        "psql -c 'DROP TABLE sessions'",
        "psql -c 'DROP TABLE sessions'",
        "kubectl delete ns payments",
    ]
    assert lines_of(fleet, envs=("staging",)) == ["rm -rf /var/www/old"]
    assert lines_of(fleet, actions=("sql",), phases=("intent",)) == [
        "psql -c 'DROP TABLE sessions'"
    ]
    assert lines_of(fleet, actions=("k8s.delete",)) == ["kubectl delete ns payments"]
    assert lines_of(fleet, verdicts=("deny",)) == ["kill -9 4242"]
    assert lines_of(fleet, hosts=("web-1",)) == [
        "rm -rf /var/www/old",
        "kubectl delete ns payments",
    ]
    assert lines_of(fleet, text="inc-42") == ["psql -c 'DROP TABLE sessions'"]
    assert lines_of(fleet, text="/var/www") == ["rm -rf /var/www/old"]
    assert lines_of(fleet, since=T0 + 3600, until=T0 + 3600 * 2) == ["kubectl delete ns payments"]
    # merged across hosts by time
    assert [r["host"] for r in search([str(p) for p in fleet], Filter())] == [
        "db-1",
        "db-1",
        "web-1",
        "web-1",
        "db-1",
        "db-1",
    ]


def test_search_cli_reads_many_files_and_syslog_exports(
    fleet: tuple[Path, Path], tmp_path: Path
) -> None:
    db, web = fleet
    syslog_text = tmp_path / "messages"
    syslog_text.write_text(
        "".join(
            f"May  1 02:00:00 db-1 guardsh-audit[7]: GUARDSH-AUDIT {x}\n"
            for x in db.read_text().splitlines()
        )
        + "May  1 02:00:01 db-1 sshd[9]: unrelated\n"
    )
    cp = run_cli("search", "--user", "bob", "--verdict", "deny", str(syslog_text), str(web))
    assert cp.returncode == 0, cp.stderr
    [out] = cp.stdout.splitlines()
    assert "bob@db-1" in out and "[production]" in out and "denied" in out and "kill -9 4242" in out
    assert "(process.kill)" in out
    cp = run_cli(
        "search",
        "--since",
        "2024-05-01T03:00Z",
        "--until",
        "2024-05-01T04:00Z",
        "--json",
        str(db),
        str(web),
    )
    assert [json.loads(x)["user"] for x in cp.stdout.splitlines()] == ["alice"]
    assert run_cli("search", "--since", "yesterday-ish", str(db)).returncode == 2


def test_stats_counts_and_chart(fleet: tuple[Path, Path]) -> None:
    st = stats(search([str(p) for p in fleet], Filter()))
    assert st.records == 6
    assert st.by_phase == {"intent": 3, "result": 1, "denied": 1, "declined": 1}
    assert st.by_env == {"production": 4, "staging": 1}
    assert st.by_user == {"alice": 2, "bob": 2, "carol": 1}
    assert st.by_action["sql.drop_table"] == 1 and st.by_action["process.kill"] == 1
    hour = int(T0 // 3600)
    assert dict(st.risky_by_hour) == {hour: 2, hour + 1: 1, hour + 2: 1}  # `ls -la` is not risky
    rows = chart(st.risky_by_hour, width=10)
    assert rows == [
        "2024-05-01 02:00 │██████████ 2",
        "2024-05-01 03:00 │█████      1",
        "2024-05-01 04:00 │█████      1",
    ]
    cp = run_cli("stats", *(str(p) for p in fleet))
    assert cp.returncode == 0
    assert "risky commands per hour (UTC):" in cp.stdout and "2024-05-01 02:00 │" in cp.stdout
    data = json.loads(
        run_cli("stats", "--json", "--env", "production", *(str(p) for p in fleet)).stdout
    )
    assert (
        data["environment"] == {"production": 4} and data["risky_per_hour"]["2024-05-01 02:00"] == 1
    )


def test_export_jsonl_stays_verifiable_and_csv_is_flat(
    fleet: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = fleet
    out = tmp_path / "export.jsonl"
    assert run_cli("export", "--format", "jsonl", "-o", str(out), str(db)).returncode == 0
    assert out.read_bytes() == db.read_bytes()
    assert run_cli("verify", str(out)).returncode == 0
    cp = run_cli("export", "--format", "csv", "--user", "alice", *(str(p) for p in fleet))
    rows = list(csv.DictReader(io.StringIO(cp.stdout)))
    assert [r["line"] for r in rows] == ["psql -c 'DROP TABLE sessions'"] * 2 + [
        "kubectl delete ns payments"
    ]
    assert rows[0]["actions"] == "sql.drop_table" and rows[0]["reason"] == "INC-42"
    assert json.loads(rows[0]["findings"])[0]["action"] == "sql.drop_table"
    assert rows[1]["exit"] == "0" and rows[0]["exit"] == ""


def test_tail_and_follow(fleet: tuple[Path, Path]) -> None:
    db, _ = fleet
    cp = run_cli("tail", "-n", "2", str(db))
    assert [("kill -9" in x, "ls -la" in x) for x in cp.stdout.splitlines()] == [
        (True, False),
        (False, True),
    ]
    proc = subprocess.Popen(
        [*CLI, "tail", "-f", "-n", "0", "--interval", "0.05", "--json", str(db)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)
        LogFile(str(db)).append(
            [rec("db-1", "dave", "systemctl stop postgresql", time.time(), action="service.stop")]
        )
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        assert ready, "tail -f printed nothing"
        got = json.loads(proc.stdout.readline())
        assert (got["user"], got["line"], got["seq"]) == ("dave", "systemctl stop postgresql", 5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)


def test_times() -> None:
    now = 1_000_000.0
    assert parse_time("2h", now=now) == now - 7200
    assert parse_time("7d", now=now) == now - 7 * 86400
    assert parse_time("now", now=now) == now
    assert parse_time("2024-05-01") == T0 - 7200
    assert parse_time("2024-05-01T04:00:00+02:00") == T0
    assert ts_epoch("2024-05-01T02:00:00.250000Z") == T0 + 0.25
    with pytest.raises(ValueError):
        parse_time("last tuesday")


def test_reading_commands_without_files_use_the_users_log(hermetic: Path) -> None:
    if not os.path.exists(SYSTEM_LOG):
        cp = run_cli("tail")
        assert cp.returncode == 2 and "no audit log found" in cp.stderr
    path = Path(os.environ["XDG_STATE_HOME"]) / "guardsh" / "audit.jsonl"
    LogFile(str(path)).append([rec("h", "erin", "echo hi", T0)])
    cp = run_cli("tail")
    assert cp.returncode == 0 and "erin@h" in cp.stdout
