"""Start-up cost of the policy: cold (no compiled-policy cache) vs warm.

Each measurement is a fresh process (that is what `guardsh -c` and `guardsh
check` are), with a realistic stack of layers: the built-in default, a system
layer (policies/bastion-strict.yaml + small-team.yaml in a GUARDSH_CONFIG_DIR)
and a user file. Cold runs get an empty XDG_CACHE_HOME each time; warm runs
share one that a first run filled.

    python bench/policy_startup.py [--runs 15]

Prints medians (ms) for: `python -c pass`; loading the policy alone; `guardsh
check -- true`; `guardsh -c true`; each cold and warm.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD = 1_600_000_000
# effective() alone: its modules (which every mode imports anyway) are loaded first
LOAD_ONLY = (
    "import time; from guardsh.policy.layers import effective; t = time.perf_counter();"
    "p = effective();"
    "assert not p.errors and not p.warnings, (p.errors, p.warnings);"
    "print((time.perf_counter() - t) * 1e3)"
)


def sandbox(root: Path) -> dict[str, str]:
    etc = root / "etc"
    (etc / "policy.d").mkdir(parents=True)
    shutil.copy(ROOT / "policies" / "small-team.yaml", etc / "policy.d" / "20-team.yaml")
    text = (ROOT / "policies" / "bastion-strict.yaml").read_text()
    text = text.replace("allow_overrides: false", "allow_overrides: true")  # GUARDSH_CONFIG_DIR
    (etc / "policy.d" / "10-bastion.yaml").write_text(text)
    home = root / "home"
    user = home / ".config" / "guardsh" / "policy.yaml"
    user.parent.mkdir(parents=True)
    user.write_text(
        "rules:\n  - id: mine\n    match: {actions: [git.clean]}\n    require: confirm\n"
    )
    for p in [*etc.rglob("*"), etc, *home.rglob("*")]:
        os.utime(p, (OLD, OLD))  # not "racy": the cache may store them
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUARDSH_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GUARDSH_CONFIG_DIR=str(etc),
        PYTHONPATH=str(ROOT),
    )
    return env


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = (time.perf_counter() - t) * 1e3
    if r.returncode not in (0, 10):
        raise SystemExit(f"{cmd} failed ({r.returncode}): {r.stderr}")
    return wall, r.stdout


def measure(
    cmd: list[str], env: dict[str, str], runs: int, cold: bool, inner: bool = False
) -> float:
    samples = []
    warm_cache = tempfile.mkdtemp(prefix="gsh-cache-")
    if not cold:
        timed(cmd, {**env, "XDG_CACHE_HOME": warm_cache})  # fill it
    for _ in range(runs):
        cache = tempfile.mkdtemp(prefix="gsh-cache-") if cold else warm_cache
        wall, out = timed(cmd, {**env, "XDG_CACHE_HOME": cache})
        samples.append(float(out.strip().splitlines()[-1]) if inner else wall)
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(warm_cache, ignore_errors=True)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        env = sandbox(Path(tmp))
        rows = [("python -c pass", [py, "-c", "pass"], False)]
        rows += [("effective() in process", [py, "-c", LOAD_ONLY], True)]
        rows += [("guardsh check -- true", [py, "-m", "guardsh", "check", "--", "true"], False)]
        rows += [("guardsh -c true", [py, "-m", "guardsh", "-c", "true"], False)]
        print(f"median of {args.runs} fresh processes, ms   (layers: default + 2 system + user)")
        print(f"{'':28} {'cold':>8} {'warm':>8}")
        for label, cmd, inner in rows:
            cold = measure(cmd, env, args.runs, cold=True, inner=inner)
            warm = measure(cmd, env, args.runs, cold=False, inner=inner)
            print(f"{label:28} {cold:8.1f} {warm:8.1f}")


if __name__ == "__main__":
    main()
