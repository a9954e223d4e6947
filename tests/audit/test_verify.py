"""verify: every kind of tampering is found, once, at the right seq."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardsh.audit.record import canonical, digest, seal
from guardsh.audit.verify import describe, verify_file
from guardsh.audit.writer import LogFile, chain_state
from tests.audit.conftest import run_cli


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """genesis (seq 0) + seq 1..10."""
    path = tmp_path / "audit.jsonl"
    LogFile(str(path)).append(
        [{"phase": "intent", "line": f"cmd {i}", "user": "alice"} for i in range(1, 11)]
    )
    return path


def rows(path: Path) -> list[str]:
    return path.read_text().splitlines()


def write_rows(path: Path, rows_: list[str]) -> None:
    path.write_text("".join(r + "\n" for r in rows_))


def kinds(path: Path) -> list[tuple[str, int | None]]:
    [report] = verify_file(str(path))
    return [(p.kind, p.seq) for p in report.problems]


def test_clean_log_verifies(log: Path) -> None:
    [report] = verify_file(str(log))
    assert report.ok and report.records == 11 and (report.first_seq, report.last_seq) == (0, 10)
    assert report.chain == json.loads(rows(log)[0])["sha256"]
    assert "OK: 11 records, seq 0-10" in describe(report)


def test_edited_line_is_found_at_its_seq(log: Path) -> None:
    r = rows(log)
    r[5] = r[5].replace('"cmd 5"', '"cmd 5 --harmless"')
    write_rows(log, r)
    assert kinds(log) == [("edited", 5)]


def test_edited_and_rehashed_line_is_found_at_its_seq(log: Path) -> None:
    r = rows(log)
    rec = json.loads(r[5])
    rec["user"] = "mallory"
    rec["sha256"] = digest(rec)
    r[5] = canonical(rec).decode()
    write_rows(log, r)
    assert kinds(log) == [("chain", 5)]


def test_reformatted_line_is_found(log: Path) -> None:
    r = rows(log)
    r[3] = json.dumps(json.loads(r[3]), indent=None)  # same content, other bytes
    write_rows(log, r)
    assert kinds(log) == [("edited", 3)]


def test_deleted_line_is_found_at_its_seq(log: Path) -> None:
    r = rows(log)
    del r[4]
    write_rows(log, r)
    assert kinds(log) == [("missing", 4)]


def test_deleted_range_is_reported_as_one_range(log: Path) -> None:
    r = rows(log)
    del r[3:6]
    write_rows(log, r)
    [report] = verify_file(str(log))
    assert [(p.kind, p.seq) for p in report.problems] == [("missing", 3)]
    assert "seq 3-5 missing" in report.problems[0].detail


def test_deleted_genesis_is_found(log: Path) -> None:
    r = rows(log)
    write_rows(log, r[2:])
    assert kinds(log) == [("missing", 0)]


def test_reordered_lines_are_found_at_the_right_seq(log: Path) -> None:
    r = rows(log)
    r[6], r[7] = r[7], r[6]
    write_rows(log, r)
    assert kinds(log) == [("reordered", 6)]


def test_inserted_text_line_is_found_after_its_seq(log: Path) -> None:
    r = rows(log)
    r.insert(8, "rm -rf / was never run")
    write_rows(log, r)
    assert kinds(log) == [("garbage", 7)]


def test_inserted_forged_record_is_found_at_its_seq(log: Path) -> None:
    r = rows(log)
    before = json.loads(r[7])
    forged = {**before, "line": "ls", "user": "mallory"}
    forged = seal(forged, 8, before["sha256"])  # a valid hash, claiming the next seq
    r.insert(8, canonical(forged).decode())
    write_rows(log, r)
    [report] = verify_file(str(log))
    assert [(p.kind, p.seq, p.line) for p in report.problems] == [("inserted", 8, 9)]


def test_torn_tail_is_reported_once(log: Path) -> None:
    with log.open("ab") as f:
        f.write(b'{"ts":"20')
    assert kinds(log) == [("torn", 10)]


def test_cut_tail_is_found_only_with_an_anchor(log: Path) -> None:
    chain, seq, sha = chain_state(str(log)) or ("", 0, "")
    anchors = log.parent / "syslog.txt"
    anchors.write_text(
        "Nov 28 04:00:00 vm guardsh-audit[1]: GUARDSH-AUDIT-ANCHOR "
        + json.dumps({"chain": chain, "seq": seq, "sha256": sha, "ts": "T"})
        + "\n"
        + "unrelated line\n"
    )
    ok = run_cli("verify", "--anchors", str(anchors), str(log))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 anchor(s) checked" in ok.stdout

    write_rows(log, rows(log)[:-2])
    assert kinds(log) == []  # a chain alone cannot see a cut tail
    cp = run_cli("verify", "--anchors", str(anchors), "--json", str(log))
    assert cp.returncode == 1
    report = json.loads(cp.stdout)
    assert [(p["kind"], p["seq"]) for p in report["problems"]] == [("truncated", 9)]


def test_rewritten_tail_is_found_with_an_anchor(log: Path) -> None:
    chain, seq, sha = chain_state(str(log)) or ("", 0, "")
    r = rows(log)
    last = json.loads(r[-1])
    last["line"] = "something else"
    r[-1] = canonical(seal(last, last["seq"], last["prev_sha256"])).decode()
    write_rows(log, r)
    anchors = log.parent / "anchors.txt"
    anchors.write_text(
        "GUARDSH-AUDIT-ANCHOR " + json.dumps({"chain": chain, "seq": seq, "sha256": sha}) + "\n"
    )
    cp = run_cli("verify", "--anchors", str(anchors), "--json", str(log))
    assert cp.returncode == 1
    assert [(p["kind"], p["seq"]) for p in json.loads(cp.stdout)["problems"]] == [("anchor", 10)]


def test_verify_exit_codes(log: Path, tmp_path: Path) -> None:
    assert run_cli("verify", str(log)).returncode == 0
    broken = tmp_path / "broken.jsonl"
    r = rows(log)
    del r[2]
    write_rows(broken, r)
    cp = run_cli("verify", str(log), str(broken))
    assert cp.returncode == 1
    assert "BROKEN" in cp.stdout and "first broken seq 2" in cp.stdout
    assert run_cli("verify", str(tmp_path / "nope.jsonl")).returncode == 2
    assert run_cli("verify", "--bogus").returncode == 2


def test_by_host_verifies_each_hosts_chain_in_a_merged_export(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path, host in ((a, "db-1"), (b, "web-1")):
        w = LogFile(str(path))
        w.append([{"phase": "intent", "line": f"{host} {i}", "host": host} for i in range(3)])
        # make the genesis carry the host too (written by a collector on that host)
        r = [json.loads(x) for x in rows(path)]
        r[0]["host"] = host
        prev = "0" * 64
        out = []
        for rec in r:
            rec = seal(rec, rec["seq"], prev)
            prev = rec["sha256"]
            out.append(canonical(rec).decode())
        write_rows(path, out)
    merged = tmp_path / "merged.jsonl"
    ra, rb = rows(a), rows(b)
    write_rows(merged, [x for pair in zip(ra, rb, strict=True) for x in pair])
    assert run_cli("verify", str(merged)).returncode == 1  # one chain? no
    cp = run_cli("verify", "--by-host", str(merged))
    assert cp.returncode == 0, cp.stdout
    assert "merged.jsonl#db-1: OK: 4 records" in cp.stdout
    assert "merged.jsonl#web-1: OK: 4 records" in cp.stdout


def test_mounted_as_guardsh_audit(log: Path) -> None:
    """The lead's `guardsh` entry point mounts this group lazily; exit codes pass through."""
    import subprocess
    import sys

    from tests.audit.conftest import REPO

    def run(*args: str) -> int:
        cmd = [sys.executable, "-m", "guardsh", "audit", *args]
        return subprocess.run(cmd, cwd=REPO, capture_output=True, timeout=60).returncode

    assert run("verify", str(log)) == 0
    r = rows(log)
    del r[3]
    write_rows(log, r)
    assert run("verify", str(log)) == 1
    assert run("verify", str(log) + ".missing") == 2


def test_syslog_exports_verify_with_trimmed_copies_and_find_gaps(log: Path, tmp_path: Path) -> None:
    from guardsh.audit.ship import trimmed

    recs = [json.loads(x) for x in rows(log)]
    recs[4] = trimmed(recs[4])  # a copy cut to fit one syslog message keeps its chain fields
    export = tmp_path / "messages"
    text = [
        f"May  1 02:00:0{i % 10} db-1 guardsh-audit[9]: GUARDSH-AUDIT {canonical(r).decode()}"
        for i, r in enumerate(recs)
    ]
    text.insert(3, "May  1 02:00:03 db-1 sshd[1]: Accepted publickey for alice")
    write_rows(export, text)
    [report] = verify_file(str(export))
    assert report.ok and report.records == 11, report.problems
    del text[7]
    write_rows(export, text)
    assert kinds(export) == [("missing", 6)]
