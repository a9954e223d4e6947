"""The dry-run runner: time limits, failures as information, JSON forms, and
`guardsh check --dry-run --json` end to end (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guardsh.confirm import dryrun
from guardsh.confirm.providers import base
from guardsh.model import Decision, Finding, Requirement, Severity, Span, Target, Verdict
from tests.confirm.dryrun_support import dry, snap
from tests.factories import policy

LOCAL = Target("local", (("hostname", "test-host"),))


def decision(*actions: str, line: str = "true") -> Decision:
    fs = tuple(Finding(a, f"obj{i}", Severity.HIGH, LOCAL, Span(0, len(line)))
               for i, a in enumerate(actions))  # fmt: skip
    return Decision(line, Verdict(Requirement.DRY_RUN), "production", fs)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    """Providers for actions no real provider handles: slow, broken, quick."""

    def slow(req: base.Request) -> base.Outcome:
        time.sleep(3)
        return base.ok(["too late"])

    def broken(req: base.Request) -> base.Outcome:
        raise RuntimeError("bug in a provider")

    def quick(req: base.Request) -> base.Outcome:
        time.sleep(0.3)
        return base.ok([f"looked at {req.finding.object}"], {"n": 1})

    def helper_hangs(req: base.Request) -> base.Outcome:
        base.run([sys.executable, "-c", "import time; time.sleep(30)"], req)
        return base.ok(["impossible"])

    dryrun.providers.load_all()
    for action, fn in (("test.slow", slow), ("test.broken", broken), ("test.quick", quick),
                       ("test.hangs", helper_hangs)):  # fmt: skip
        monkeypatch.setitem(base._REGISTRY, action, ("test", fn))


def test_no_provider_is_unavailable_not_permission() -> None:
    (r,) = dryrun.run(decision("container.remove"), snap("/"), None)
    assert (r.status, r.provider) == ("unavailable", "none")
    assert r.card()[0] == ("dry run (none) of container.remove obj0: UNAVAILABLE — "
                           "not a permission")  # fmt: skip


def test_time_limit_bounds_a_stuck_provider(fake: None) -> None:
    t0 = time.monotonic()
    results = dryrun.run(decision("test.slow", "test.quick"), snap("/"), None, timeout=0.6)
    took = time.monotonic() - t0
    slow, quick = results
    assert slow.status == "timeout" and slow.lines == ("no answer within 0.6 s",)
    assert quick.status == "ok" and quick.lines == ("looked at obj1",)
    assert took < 0.6 + dryrun.GRACE + 0.3


def test_a_helper_program_is_killed_at_the_deadline(fake: None) -> None:
    t0 = time.monotonic()
    (r,) = dryrun.run(decision("test.hangs"), snap("/"), None, timeout=0.5)
    assert r.status == "timeout"
    assert "did not finish in time" in r.lines[0]
    assert time.monotonic() - t0 < 1.5


def test_policy_timeout_and_parallel_providers(fake: None) -> None:
    p = policy("settings:\n  dry_run_timeout: 0.7\n")
    assert dryrun.timeout_of(p) == 0.7
    assert dryrun.timeout_of(None) == dryrun.DEFAULT_TIMEOUT == 10.0
    t0 = time.monotonic()
    results = dryrun.run(decision("test.quick", "test.quick", "test.quick"), snap("/"), p)
    assert [r.status for r in results] == ["ok", "ok", "ok"]
    assert time.monotonic() - t0 < 0.8  # side by side, not 3 x 0.3 s


def test_a_broken_provider_is_a_failed_dry_run(fake: None) -> None:
    (r,) = dryrun.run(decision("test.broken"), snap("/"), None)
    assert r.status == "failed"
    assert r.lines == ("the dry run itself failed: RuntimeError('bug in a provider')",)


def test_json_and_audit_forms(fake: None, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    d, results = dry("rm -rf d; rm -rf d", cwd=tmp_path)
    assert len(results) == 1  # the same finding is dry-run once
    out = dryrun.run_providers(d, snap(tmp_path), None)
    text = json.dumps(out)
    assert json.loads(text)[0]["data"]["total"]["files"] == 1
    audit = dryrun.for_audit(results)
    assert audit["statuses"] == {"ok": 1, "failed": 0, "timeout": 0, "unavailable": 0}
    json.dumps(audit)
    assert dryrun.card_lines(results)[0] == "dry run (files) of fs.delete_recursive d:"


def test_secrets_are_hidden_from_the_commands_record() -> None:
    argv = ["redis-cli", "-a", "pw1", "--pass=pw2", "-u", "redis://u:pw3@h:6379/0",
            "-d", "host=x password=pw4 dbname=y"]  # fmt: skip
    shown = " ".join(dryrun.hide_secrets(argv))
    assert not any(f"pw{i}" in shown for i in range(1, 5))
    assert "redis://u@h:6379/0" in shown


def _guardsh(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "guardsh", "check", "--cwd", str(cwd), *args],
                          cwd=Path(__file__).parents[2], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


def test_check_dry_run_json(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    (target / "sub").mkdir(parents=True)
    (target / "sub" / "a.bin").write_bytes(b"a" * 300)
    (target / "b.txt").write_text("b")
    line = f"rm -rf {target}"
    plain = _guardsh("--json", "--", line, cwd=tmp_path)
    with_dry = _guardsh("--dry-run", "--json", "--", line, cwd=tmp_path)
    assert with_dry.returncode == plain.returncode == 10, with_dry.stderr
    a, b = json.loads(plain.stdout), json.loads(with_dry.stdout)
    assert "dry_run" not in a
    assert (b["verdict"], b["findings"]) == (a["verdict"], a["findings"])
    (r,) = b["dry_run"]
    assert (r["provider"], r["status"], r["finding"]) == ("files", "ok", 0)
    assert r["data"]["total"]["files"] == 2 and r["data"]["total"]["bytes"] == 301
    assert r["lines"][0] == "rm removes 2 files, 2 directories, 301 B"
    assert target.exists()
