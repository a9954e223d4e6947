"""`guardsh -c` through a real analysis server (`guardsh.run.server`): the
same answers as without it, from the client's own environment and cwd."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardsh.run import fastpath, server

REPO = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, folder: Path, log: Path, proc: subprocess.Popen[bytes]) -> None:
        self.folder, self.log, self.proc = folder, log, proc

    def answers(self) -> list[tuple[str, str, str]]:
        """(reply, why, command) for every request served, in order."""
        if not self.log.exists():
            return []
        rows = [line.split("\t") for line in self.log.read_text().splitlines()]
        return [(r[0], r[1], json.loads(r[2])) for r in rows]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.update(extra)
    return env


def _wait_for(check: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def start_server(folder: Path, *extra: str) -> Server:
    folder.mkdir(mode=0o700, exist_ok=True)
    log = folder.parent / "server.log"
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "guardsh.run.server", str(folder), "--log", str(log), *extra],
        env=_env(),
        stdin=subprocess.DEVNULL,
    )
    sock = Path(fastpath.socket_path(str(folder)))
    _wait_for(lambda: sock.exists() or proc.poll() is not None)
    assert proc.poll() is None, "the server did not start"
    return Server(folder, log, proc)


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Server]:
    s = start_server(Path(os.environ["GUARDSH_RUNTIME_DIR"]))
    yield s
    s.proc.terminate()
    s.proc.wait(timeout=10)


def guardsh(
    *args: str, stdin: bytes = b"", server: bool = True, cwd: Path | None = None, **extra: str
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "guardsh", *args],
        input=stdin,
        capture_output=True,
        env=_env(GUARDSH_SERVER="on" if server else "off", **extra),
        cwd=cwd,
        timeout=60,
    )


def _records() -> list[dict[str, object]]:
    path = Path(os.environ["GUARDSH_AUDIT_LOG"])
    return [json.loads(r) for r in path.read_text().splitlines()] if path.exists() else []


def _kubeconfig(tmp_path: Path, context: str) -> Path:
    path = tmp_path / f"kube-{context}"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"current-context: {context}\n"
        f"contexts: [{{name: {context}, context: {{cluster: c, user: u}}}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://10.0.0.1'}}]\n"
        "users: [{name: u, user: {}}]\n"
    )
    return path


def test_the_server_answers_as_the_local_path_does(srv: Server, tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.mkdir()
    dev, prod = _kubeconfig(tmp_path, "kind-local"), _kubeconfig(tmp_path, "prod-eu")
    cases: list[tuple[tuple[str, ...], dict[str, str], str]] = [
        (("-c", "echo hello; exit 3"), {}, "run"),
        (("-c", 'printf "%s|" "$0" "$@"', "name", "a b"), {}, "run"),
        (("-c", f"rm -rf {target}"), {}, "refuse"),
        (("-c", "kubectl delete namespace payments"), {"KUBECONFIG": str(dev)}, "run"),
        (("-c", "kubectl delete namespace payments"), {"KUBECONFIG": str(prod)}, "refuse"),
        (("-c", "echo 'unterminated"), {}, "local"),
        (("-c", "kill -9 999999999"), {}, "local"),
    ]
    for args, extra, reply in cases:
        before = len(srv.answers())
        local = guardsh(*args, server=False, PATH=f"{tmp_path}:{os.environ['PATH']}", **extra)
        fast = guardsh(*args, PATH=f"{tmp_path}:{os.environ['PATH']}", **extra)
        assert (fast.returncode, fast.stdout, fast.stderr) == (
            local.returncode,
            local.stdout,
            local.stderr,
        ), args
        answers = srv.answers()[before:]
        assert [a[0] for a in answers] == [reply], (args, answers)
    assert target.is_dir()


def test_kubectl_warning_reaches_the_client(srv: Server, tmp_path: Path) -> None:
    """The server reads the client's KUBECONFIG, not its own."""
    out = guardsh(
        "-c", "kubectl delete namespace payments",
        KUBECONFIG=str(_kubeconfig(tmp_path, "kind-local")),
        PATH=f"{tmp_path}:{os.environ['PATH']}",
    )  # fmt: skip
    assert b"guardsh: warning (development-high)" in out.stderr
    assert [a[0] for a in srv.answers()] == ["run"]


def test_ten_megabytes_pass_through_unchanged(srv: Server) -> None:
    data = os.urandom(10 * 1024 * 1024)
    out = guardsh("-c", "cat", stdin=data)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(out.stdout).digest() == hashlib.sha256(data).digest()
    assert [a[0] for a in srv.answers()] == ["run"]


def test_death_by_signal_is_passed_on(srv: Server) -> None:
    assert guardsh("-c", "kill -TERM $$").returncode == -signal.SIGTERM
    assert [a[0] for a in srv.answers()] == ["run"]  # the child's death, re-raised by the client


def test_records_carry_the_clients_cwd_and_verify(srv: Server, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    assert guardsh("-c", "exit 4", cwd=work).returncode == 4
    rows = [r for r in _records() if r.get("line") == "exit 4"]
    assert [(r["phase"], r["exit"], r["cwd"]) for r in rows] == [
        ("intent", None, str(work)),
        ("result", 4, str(work)),
    ]
    verify = guardsh("audit", "verify", os.environ["GUARDSH_AUDIT_LOG"], server=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_an_unsafe_runtime_folder_is_not_used(srv: Server) -> None:
    srv.folder.chmod(0o755)
    try:
        out = guardsh("-c", "echo ok")
    finally:
        srv.folder.chmod(0o700)
    assert out.stdout == b"ok\n"
    assert srv.answers() == []


def test_a_policy_that_turns_it_off_stops_the_server(srv: Server, tmp_path: Path) -> None:
    policy = tmp_path / "off.yaml"
    policy.write_text("settings:\n  analysis_server: false\n")
    out = guardsh("-c", "echo ok", GUARDSH_POLICY=str(policy))
    assert out.stdout == b"ok\n"
    assert srv.answers() == [("local", "analysis_server: false", "echo ok")]
    srv.proc.wait(timeout=10)
    assert not Path(fastpath.socket_path(str(srv.folder))).exists()
    assert [r["phase"] for r in _records() if r.get("line") == "echo ok"] == ["intent", "result"]


def test_the_local_path_starts_a_server_that_answers_next(tmp_path: Path) -> None:
    folder = Path(os.environ["GUARDSH_RUNTIME_DIR"])
    assert guardsh("-c", "true").returncode == 0
    sock = Path(fastpath.socket_path(str(folder)))
    _wait_for(sock.exists)
    pid = int(Path(f"{sock}.lock").read_text())
    try:
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:4] == [
            b"-P", b"-m", b"guardsh.run.server",
        ]  # fmt: skip
        out = guardsh("-c", "echo again")
        assert out.stdout == b"again\n"
        assert [r["phase"] for r in _records() if r.get("line") == "echo again"] == [
            "intent",
            "result",
        ]
    finally:
        os.kill(pid, signal.SIGTERM)


def test_no_server_is_started_when_switched_off(tmp_path: Path) -> None:
    folder = Path(os.environ["GUARDSH_RUNTIME_DIR"])
    assert guardsh("-c", "true", server=False).returncode == 0
    time.sleep(0.5)
    assert not folder.exists() or not list(folder.iterdir())


def test_an_idle_server_leaves(tmp_path: Path) -> None:
    s = start_server(tmp_path / "idle", "--idle", "0.5")
    s.proc.wait(timeout=15)
    assert not Path(fastpath.socket_path(str(s.folder))).exists()


def test_a_second_server_of_the_same_install_steps_aside(srv: Server) -> None:
    second = subprocess.run(
        [sys.executable, "-P", "-m", "guardsh.run.server", str(srv.folder)],
        env=_env(),
        timeout=30,
    )
    assert second.returncode == 0
    assert srv.proc.poll() is None


def test_changed_code_is_noticed(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text("x = 1\n")
    watch = server._Watch()
    st = module.stat()
    watch.stamps = {str(module): (st.st_ino, st.st_mtime_ns)}
    assert not watch.changed()
    module.write_text("x = 2\n")
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert watch.changed()
