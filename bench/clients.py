"""Benchmark: what the client proxy costs at the keyboard and per statement.

A stand-in client (a script named `psql` that reads lines in canonical mode
and answers `ok`, or echoes raw keys itself) runs once directly on a pty and
once under `python -m guardsh.clients`, so the figures are guardsh's and not
a database's:

- keystroke echo, editor: a key typed at the client's prompt until guardsh's
  line editor (prompt_toolkit) has drawn it;
- keystroke echo, pass-through: a key while the client owns the keys (raw
  mode: a pager, a password prompt), direct vs proxied;
- per statement: Enter until the client's answer appears (analysis,
  judgement, the write and the echo removal), direct vs proxied; and until
  guardsh's prompt is back (it waits 15 ms of quiet for the client's prompt).

Run: python bench/clients.py [--n 200]
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ptyprocess import PtyProcess

REPO = Path(__file__).resolve().parents[1]
FAKE = """#!{python}
import os, sys, tty
if os.environ.get("FAKE_MODE") == "raw":
    tty.setraw(0)
    while True:
        b = os.read(0, 1)
        if not b or b == b"\\x04":
            break
        os.write(1, b)
    sys.exit(0)
while True:
    sys.stdout.write("fake=# ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line or line.strip() == "\\\\q":
        break
    sys.stdout.write("ok\\n")
    sys.stdout.flush()
"""
POLICY = "environments:\n  - name: production\n    color: red\n    protected: true\n" \
         "    match:\n      db_port: ['6543']\n"  # fmt: skip


def read_until(p: PtyProcess, want: bytes, timeout: float = 5.0) -> bytes:
    got = b""
    deadline = time.perf_counter() + timeout
    while want not in got:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError(f"waited for {want!r}, got {got[-300:]!r}")
        if select.select([p.fd], [], [], left)[0]:
            got += os.read(p.fd, 65536)
    return got


def settle(p: PtyProcess, quiet: float = 0.1) -> None:
    while select.select([p.fd], [], [], quiet)[0]:
        os.read(p.fd, 65536)


def spawn(argv: list[str], env: dict[str, str]) -> PtyProcess:
    return PtyProcess.spawn(argv, env=env, dimensions=(40, 160))


def stats(xs: list[float]) -> str:
    xs = sorted(x * 1000 for x in xs)
    p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
    return f"median {statistics.median(xs):7.2f} ms   p99 {p99:7.2f} ms   (n={len(xs)})"


def keystrokes(p: PtyProcess, n: int, echo_of: bytes | None = None) -> list[float]:
    times = []
    for i in range(n):
        ch = b"abcdefghij"[i % 10 : i % 10 + 1]
        t0 = time.perf_counter()
        p.write(ch)
        read_until(p, echo_of or ch)
        times.append(time.perf_counter() - t0)
        settle(p, 0.002)
    return times


def statements(p: PtyProcess, n: int, prompt: bytes) -> tuple[list[float], list[float]]:
    answer, ready = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        p.write(b"SELECT 1;\r")
        got = read_until(p, b"ok")
        answer.append(time.perf_counter() - t0)
        if prompt not in got[got.find(b"ok") :]:
            read_until(p, prompt)
        ready.append(time.perf_counter() - t0)
        settle(p, 0.03)
    return answer, ready


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    n = ap.parse_args().n
    tmp = Path(tempfile.mkdtemp(prefix="guardsh-bench-clients-"))
    fake = tmp / "psql"
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(0o755)
    (tmp / "policy.yaml").write_text(POLICY)
    env = dict(os.environ, PYTHONPATH=str(REPO), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1",
               GUARDSH_POLICY=str(tmp / "policy.yaml"), GUARDSH_AUDIT_LOG=str(tmp / "audit.jsonl"),
               XDG_STATE_HOME=str(tmp / "state"), HOME=str(tmp))  # fmt: skip
    client = [str(fake), "-h", "db.example", "-p", "6543", "app"]
    guarded = [sys.executable, "-m", "guardsh.clients", *client]

    print("per statement (Enter until the answer / until the prompt is back):")
    p = spawn(client, env)
    read_until(p, b"fake=# ")
    a, r = statements(p, n, b"fake=# ")
    print(f"  direct  answer  {stats(a)}")
    p.terminate(force=True)
    p = spawn(guarded, env)
    read_until(p, b"[PROD]", timeout=30)
    settle(p)
    a, r = statements(p, n, b"[PROD]")
    print(f"  guarded answer  {stats(a)}")
    print(f"  guarded prompt  {stats(r)}")

    print("keystroke echo:")
    settle(p)
    print(f"  editor (guarded, prompt_toolkit)   {stats(keystrokes(p, n))}")
    p.terminate(force=True)
    raw_env = dict(env, FAKE_MODE="raw")
    p = spawn(client, raw_env)
    time.sleep(0.3)
    settle(p)
    print(f"  pass-through, direct               {stats(keystrokes(p, n))}")
    p.terminate(force=True)
    p = spawn(guarded, raw_env)
    time.sleep(1.5)
    settle(p)
    print(f"  pass-through, guarded              {stats(keystrokes(p, n))}")
    p.terminate(force=True)


if __name__ == "__main__":
    main()
