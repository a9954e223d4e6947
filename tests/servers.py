"""Real throwaway servers for tests: PostgreSQL and Redis on free loopback ports.

A pytest plugin (``pytest_plugins = ["tests.servers"]`` in tests/conftest.py). Each
server lives in its own temporary directory for one test session and is stopped
afterwards. guardsh's promises are about real databases, so a missing server binary
fails the test with the apt package to install; it only skips where
GUARDSH_ALLOW_NO_SERVERS=1 says a reduced run is fine.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

START_TIMEOUT = 60.0
COMMAND_TIMEOUT = 60.0


class ServerError(RuntimeError):
    """A server did not start, or a client command against it failed."""


def _missing(what: str, apt_package: str) -> NoReturn:
    """Fail (or, when allowed, skip) because a server binary is not installed."""
    message = f"{what} not found: install it with `apt-get install {apt_package}`"
    if os.environ.get("GUARDSH_ALLOW_NO_SERVERS") == "1":
        pytest.skip(message + " (skipped: GUARDSH_ALLOW_NO_SERVERS=1)")
    pytest.fail(message + " (or set GUARDSH_ALLOW_NO_SERVERS=1 to skip)", pytrace=False)


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (callers retry on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run(argv: list[str], *, cwd: Path, timeout: float = COMMAND_TIMEOUT) -> str:
    """Run a command, return its stdout; on failure raise with everything it said."""
    proc = subprocess.run(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise ServerError(
            f"{' '.join(argv)} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}--- stderr ---\n{proc.stderr}"
        )
    return proc.stdout


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- PostgreSQL


def find_pg_bin() -> Path | None:
    """The newest PostgreSQL server bin dir (Debian layout first, then PATH)."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass(frozen=True)
class PgServer:
    """A running PostgreSQL cluster; superuser ``user`` with trust auth on loopback."""

    host: str
    port: int
    socket_dir: Path
    user: str
    bin_dir: Path
    data_dir: Path
    log_file: Path

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL through the real psql; unaligned, tuples only; raise on any error."""
        argv = [
            str(self.bin_dir / "psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            db,
            "-c",
            sql,
        ]
        return _run(argv, cwd=self.socket_dir)

    def create_database(self, name: str) -> str:
        """Create (or recreate) database ``name``; returns its DSN."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.dsn(name)


def _pg_runner() -> tuple[list[str], int | None, int | None]:
    """argv prefix and (uid, gid) to own the cluster: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "running as root, PostgreSQL needs the `postgres` system user: "
            "apt-get install postgresql creates it",
            pytrace=False,
        )
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("running as root needs runuser (apt-get install util-linux)", pytrace=False)
    return [runuser, "-u", "postgres", "--"], pw.pw_uid, pw.pw_gid


def _start_pg(bin_dir: Path, base: Path, prefix: list[str]) -> PgServer:
    data_dir = base / "data"
    sock_dir = base / "sock"
    log_file = base / "postgres.log"
    if not data_dir.exists():
        _run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=base,
        )
    last_error: ServerError | None = None
    for _attempt in range(3):
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sock_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            _run(
                [
                    *prefix,
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data_dir),
                    "-l",
                    str(log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(int(START_TIMEOUT)),
                    "start",
                ],
                cwd=base,
                timeout=START_TIMEOUT + 10,
            )
        except ServerError as exc:  # most likely the port was taken meanwhile: retry
            last_error = ServerError(f"{exc}\n--- postgres.log ---\n{_tail(log_file)}")
            continue
        return PgServer("127.0.0.1", port, sock_dir, "postgres", bin_dir, data_dir, log_file)
    assert last_error is not None
    raise last_error


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for this test session (superuser `postgres`, trust auth)."""
    bin_dir = find_pg_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        _missing("PostgreSQL server (initdb, pg_ctl)", "postgresql")
    if not (bin_dir / "psql").exists():
        _missing(f"psql (looked in {bin_dir})", "postgresql-client")
    prefix, uid, gid = _pg_runner()
    # tempfile, not tmp_path: pytest's base dir is 0700 and the postgres user could not enter it.
    base = Path(tempfile.mkdtemp(prefix="guardsh-pg-"))
    (base / "sock").mkdir()
    if uid is not None and gid is not None:
        for path in (base, base / "sock"):
            os.chown(path, uid, gid)
    server: PgServer | None = None
    try:
        server = _start_pg(bin_dir, base, prefix)
        yield server
    finally:
        if server is not None:
            argv = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-w"]
            try:
                _run([*argv, "-m", "fast", "stop"], cwd=base)
            except (ServerError, subprocess.TimeoutExpired):
                _run([*argv, "-m", "immediate", "stop"], cwd=base)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- Redis


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server without persistence."""

    host: str
    port: int
    dir: Path
    cli_path: str

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def cli(self, *args: str) -> str:
        """Run the real redis-cli against this server; return its stdout, stripped."""
        argv = [self.cli_path, "-h", self.host, "-p", str(self.port), *args]
        return _run(argv, cwd=self.dir).strip()


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(
    server_path: str, cli_path: str, base: Path
) -> tuple[RedisServer, subprocess.Popen[bytes]]:
    log_file = base / "redis.log"
    for _attempt in range(3):
        port = free_port()
        argv = [
            server_path,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(base),
            "--logfile",
            "",
        ]
        with log_file.open("ab") as log:
            proc = subprocess.Popen(
                argv, cwd=base, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if _redis_ping(port):
                return RedisServer("127.0.0.1", port, base, cli_path), proc
            time.sleep(0.05)
        _stop(proc)
    raise ServerError(f"redis-server did not start\n--- redis.log ---\n{_tail(log_file)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real Redis server for this test session (no persistence, loopback only)."""
    server_path = shutil.which("redis-server")
    cli_path = shutil.which("redis-cli")
    if server_path is None or cli_path is None:
        _missing("redis-server/redis-cli", "redis-server")
    base = Path(tempfile.mkdtemp(prefix="guardsh-redis-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        server, proc = _start_redis(server_path, cli_path, base)
        yield server
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(base, ignore_errors=True)
