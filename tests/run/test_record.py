"""The audit call sites of the shell and `-c`: where records go, and when a
record that cannot be written stops a command."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardsh import audit
from guardsh.policy.layers import load_files
from guardsh.run.record import Recorder, log_target
from tests.audit.conftest import CollectorProc
from tests.audit.proc import make_decision


@pytest.fixture
def system_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A system install whose collector is stopped: its log directory exists,
    its socket does not. Yields the socket path (short: sun_path is 108 bytes)."""
    sockdir = Path(tempfile.mkdtemp(prefix="gsh-", dir="/tmp"))
    log_dir = tmp_path / "var-log-guardsh"
    log_dir.mkdir()
    monkeypatch.setattr(audit, "SYSTEM_SOCKET", str(sockdir / "audit.sock"))
    monkeypatch.setattr(audit, "SYSTEM_LOG_DIR", str(log_dir))
    yield sockdir / "audit.sock"
    shutil.rmtree(sockdir, ignore_errors=True)


def session_env(home: Path) -> dict[str, str]:
    """A session's environment without GUARDSH_AUDIT_LOG."""
    return {"HOME": str(home), "XDG_STATE_HOME": str(home / "state")}


def test_log_target_user_install_override_and_system_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = load_files([])
    monkeypatch.setattr(audit, "SYSTEM_SOCKET", str(tmp_path / "no.sock"))
    monkeypatch.setattr(audit, "SYSTEM_LOG_DIR", str(tmp_path / "no-such-dir"))
    assert log_target(policy, {}) == (None, None)  # a user install: the user's own file
    assert log_target(policy, {"GUARDSH_AUDIT_LOG": "/x"}) == ("/x", None)
    (tmp_path / "no-such-dir").mkdir()
    assert log_target(policy, {}) == (None, str(tmp_path / "no.sock"))


def test_system_install_with_the_collector_down_queues_and_delivers_later(
    tmp_path: Path, system_install: Path
) -> None:
    env = session_env(tmp_path / "home")
    warnings: list[str] = []
    recorder = Recorder(load_files([]), environ=env, warn=warnings.append)
    down = [recorder.intent(make_decision(f"down {i}")) for i in range(3)]
    assert down == [-1, -2, -3] and not recorder.last_ok
    assert len(warnings) == 1 and "collector" in warnings[0] and "queued" in warnings[0]
    assert not Path(audit.default_log_path(env)).exists()  # no user-editable log
    [queued] = Path(audit.default_queue_dirs(env)[0]).iterdir()
    assert len(queued.read_text().splitlines()) == 3

    log = tmp_path / "var-log-guardsh" / "audit.jsonl"
    collector = CollectorProc(system_install, log).start()
    try:
        assert recorder.intent(make_decision("up")) == 4
        recorder.close()
    finally:
        collector.stop()
    lines = [json.loads(x)["line"] for x in log.read_text().splitlines()]
    assert lines == [None, "down 0", "down 1", "down 2", "up"]
    assert not Path(audit.default_log_path(env)).exists()


def required_policy(tmp_path: Path) -> Path:
    policy = tmp_path / "audit-required.yaml"
    policy.write_text("settings:\n  audit_required: true\n")
    return policy


@pytest.mark.parametrize(
    ("environment", "blocks"),
    [("production", True), ("staging", True), ("development", False), (None, True)],
)
def test_audit_required_blocks_only_in_protected_environments(
    tmp_path: Path, environment: str | None, blocks: bool
) -> None:
    (tmp_path / "file").write_text("")
    env = {**session_env(tmp_path / "home"), "GUARDSH_AUDIT_LOG": str(tmp_path / "file" / "log")}
    warnings: list[str] = []
    recorder = Recorder(
        load_files([str(required_policy(tmp_path))]), environ=env, warn=warnings.append
    )
    assert recorder.intent(make_decision("x", env=environment)) < 0 and warnings
    assert recorder.blocks is blocks
