"""Analysis latency and batch throughput over the real-world corpus.

    python bench/analysis.py [CORPUS]

Budgets (DESIGN.md, 2 cores): median <= 0.3 ms, p99 <= 2 ms, no line over
50 ms in process; `guardsh check --batch` >= 3,000 lines/s over the corpus.
Prints the figures and exits 1 when a budget is missed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guardsh.errors import UserError  # noqa: E402
from guardsh.model import Facts, Snapshot  # noqa: E402
from guardsh.pipeline import check  # noqa: E402
from guardsh.policy.layers import load_files  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "corpora" / "tldr_commands.txt"


def corpus(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    return [line for line in text.split("\n") if line.strip()]


def in_process(lines: list[str]) -> dict[str, float]:
    policy = load_files([])
    snap = Snapshot(hostname="bastion-1", cwd="/srv", home="/home/op", user="op")
    facts = Facts()
    now = dt.datetime.now(dt.UTC)
    check("true", snap, policy, now, facts)  # warm: parser, analyzers
    times = []
    refused = 0
    for line in lines:
        t0 = time.perf_counter_ns()
        try:
            check(line, snap, policy, now, facts)
        except UserError:
            refused += 1
        times.append((time.perf_counter_ns() - t0) / 1e6)
    times.sort()
    n = len(times)
    worst = max(range(n), key=lambda i: times[i])
    return {
        "lines": n,
        "refused_incomplete": refused,
        "median_ms": times[n // 2],
        "p99_ms": times[int(n * 0.99)],
        "max_ms": times[-1],
        "total_s": sum(times) / 1000,
        "_worst": worst,
    }


def batch(lines: list[str]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for line in lines:
            fh.write(json.dumps({"cmd": line, "hostname": "bastion-1"}) + "\n")
        name = fh.name
    try:
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "guardsh", "check", "--batch", name],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        elapsed = time.perf_counter() - t0
    finally:
        os.unlink(name)
    answers = out.stdout.count("\n")
    return {
        "lines": len(lines),
        "answers": answers,
        "seconds": elapsed,
        "lines_per_s": len(lines) / elapsed,
    }


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    lines = corpus(path)
    ip = in_process(lines)
    worst = lines[int(ip.pop("_worst"))]
    b = batch(lines)
    print(f"corpus: {path} ({len(lines):,} lines)")
    print(
        f"in process: median {ip['median_ms']:.3f} ms, p99 {ip['p99_ms']:.3f} ms, "
        f"max {ip['max_ms']:.2f} ms ({worst[:60]!r}), "
        f"{ip['refused_incomplete']} incomplete lines refused"
    )
    print(
        f"batch: {b['lines_per_s']:,.0f} lines/s ({b['answers']:,} answers in {b['seconds']:.2f} s)"
    )
    ok = (
        ip["median_ms"] <= 0.3
        and ip["p99_ms"] <= 2
        and ip["max_ms"] <= 50
        and b["lines_per_s"] >= 3000
    )
    print("budgets: " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
