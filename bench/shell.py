"""Interactive-shell budgets (DESIGN "Performance budgets"), measured on real ptys.

    python bench/shell.py [--runs N]

- start to first prompt: spawn `python -m guardsh` on a pty, until the prompt's `$ `/`# `
- Enter to command start: Enter is written at t0; the command is
  `printf 'T%s\\n' $EPOCHREALTIME` (a builtin, so bash reports when it ran it)
- `guardsh -c true` (the entry point installed next to the interpreter) against
  `python -c pass` on the same interpreter: through the analysis server, which
  is how every call after the first runs, and without it (GUARDSH_SERVER=off)
- idle RSS of the front end (after the analyzers are loaded and one command ran),
  and of the backing bash

Hermetic: HOME, XDG dirs and the audit log live in a temporary directory.
Prints a table and exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

REPO = Path(__file__).resolve().parents[1]
PROMPT = re.compile(rb"[$#](?: |\x1b\[\d+D)")
BUDGETS = {"first_prompt_ms": 300.0, "enter_to_start_ms": 10.0, "c_ratio": 4.0, "idle_rss_mb": 60.0}


def _env(tmp: str) -> dict[str, str]:
    env = dict(os.environ)
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    env.update(
        HOME=home,
        XDG_STATE_HOME=f"{home}/.local/state",
        XDG_CONFIG_HOME=f"{home}/.config",
        GUARDSH_AUDIT_LOG=f"{tmp}/audit.jsonl",
        GUARDSH_RUNTIME_DIR=f"{tmp}/run",
        PYTHONPATH=str(REPO),
        TERM="xterm",
        PROMPT_TOOLKIT_NO_CPR="1",
    )
    for var in ("GUARDSH_POLICY", "KUBECONFIG", "DATABASE_URL", "GUARDSH_SERVER"):
        env.pop(var, None)
    return env


def _spawn(env: dict[str, str]) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "guardsh"],
        env=env,
        cwd=env["HOME"],
        dimensions=(40, 200),
        timeout=20,
    )
    child.delaybeforesend = None  # pexpect sleeps 50 ms before every send by default
    return child


def first_prompt(env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        child = _spawn(env)
        child.expect(PROMPT)
        out.append((time.perf_counter() - t0) * 1000)
        child.sendeof()
        child.expect(pexpect.EOF)
        child.close()
    return out


def enter_to_start(env: dict[str, str], runs: int) -> tuple[list[float], float, float]:
    child = _spawn(env)
    child.expect(PROMPT)
    time.sleep(1.5)  # the analyzers load in the background after the first prompt
    child.sendline("echo ready")
    child.expect(rb"ready\r\n")
    out = []
    for _ in range(runs):
        child.send("printf 'T%s\\n' $EPOCHREALTIME")
        time.sleep(0.15)  # let the prompt echo the typing
        t0 = time.time()
        child.send("\r")
        child.expect(rb"T(\d+\.\d+)\r\n")
        out.append((float(child.match.group(1)) - t0) * 1000)
        time.sleep(0.2)  # the next prompt
    front = _rss_kb(child.pid)
    bash = max((_rss_kb(int(p)) for p in _children(child.pid)), default=0)
    child.sendeof()
    child.expect(pexpect.EOF)
    return out, front / 1024, bash / 1024


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1])
    return 0


def _guardsh_command() -> list[str]:
    """The installed entry point next to the interpreter (what sshd runs), else -m."""
    script = Path(sys.executable).with_name("guardsh")
    return [str(script)] if script.exists() else [sys.executable, "-m", "guardsh"]


def oneshot_ratio(env: dict[str, str], runs: int) -> tuple[float, float, float]:
    """(python -c pass, guardsh -c true through the analysis server, without it) in ms."""

    def timed(argv: list[str], **extra: str) -> float:
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(argv, env={**env, **extra}, check=True, stdin=subprocess.DEVNULL)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples) * 1000

    cmd = [*_guardsh_command(), "-c", "true"]
    timed(cmd, GUARDSH_SERVER="off")  # warm the page cache
    local = timed(cmd, GUARDSH_SERVER="off")
    subprocess.run(cmd, env=env, check=True)  # no server answers: this one starts it
    folder = Path(env["GUARDSH_RUNTIME_DIR"])
    deadline = time.monotonic() + 20
    while not list(folder.glob("analysis-*.sock")) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        served = timed(cmd)
    finally:
        for lock in folder.glob("analysis-*.sock.lock"):
            with contextlib.suppress(ValueError, OSError):
                os.kill(int(lock.read_text()), signal.SIGTERM)
    return timed([sys.executable, "-c", "pass"]), served, local


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(tmp)
        fp = first_prompt(env, args.runs)
        ets, rss, bash_rss = enter_to_start(env, args.runs * 2)
        py, gs, local = oneshot_ratio(env, args.runs)
    figures = {
        "first_prompt_ms": statistics.median(fp),
        "enter_to_start_ms": statistics.median(ets),
        "c_ratio": gs / py,
        "idle_rss_mb": rss,
    }
    print(f"start to first prompt   median {statistics.median(fp):7.1f} ms  max {max(fp):7.1f} ms")
    print(
        f"Enter to command start  median {statistics.median(ets):7.1f} ms  max {max(ets):7.1f} ms"
    )
    print(f"guardsh -c true         {gs:7.1f} ms vs python -c pass {py:6.1f} ms = {gs / py:4.2f}x")
    print(f"  without the server    {local:7.1f} ms = {local / py:4.2f}x (the call that starts it)")
    print(f"idle RSS                front end {rss:5.1f} MB, backing bash {bash_rss:4.1f} MB")
    missed = [k for k, v in figures.items() if v > BUDGETS[k]]
    for k in missed:
        print(f"over budget: {k} = {figures[k]:.2f} (budget {BUDGETS[k]})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
