"""`guardsh -c CMD [ARGS...]` and `guardsh SCRIPT`: what sshd, scp, rsync and
cron call. Analyze, then run with stdin/stdout/stderr untouched; with no
terminal, a command that needs confirmation is refused with status 126.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

from guardsh.exitcodes import Exit

BASH = "/bin/bash"


def _decide(line: str):  # type: ignore[no-untyped-def]
    from guardsh.facts import gather
    from guardsh.pipeline import check
    from guardsh.policy.layers import effective

    snap = gather.snapshot()
    return check(line, snap, effective(), dt.datetime.now(dt.UTC), gather.facts(snap))


def _refuse(decision, why: str) -> int:  # type: ignore[no-untyped-def]
    v = decision.verdict
    rules = ", ".join(v.rules) or "fail-safe"
    what = "; ".join(f"{f.action} {f.object or ''}".strip() for f in decision.findings) or "this command"
    sys.stderr.write(
        f"guardsh: refused ({why}): {what} in {decision.environment} needs `{v.requirement}` "
        f"(rule {rules}).\n"
    )
    for m in v.messages:
        sys.stderr.write(f"guardsh: {m}\n")
    sys.stderr.flush()
    return int(Exit.REFUSED)


def main(argv: list[str], login: bool = False) -> int:
    """argv starts with the -c flag (possibly bundled: -lc)."""
    if len(argv) < 2:
        sys.stderr.write("guardsh: -c needs a command string\n")
        return int(Exit.USAGE)
    line, rest = argv[1], argv[2:]
    from guardsh.errors import UserError

    try:
        decision = _decide(line)
    except UserError as e:
        sys.stderr.write(f"guardsh: {e.show()}\n")
        return int(Exit.USAGE)
    from guardsh.model import Requirement

    req = decision.verdict.requirement
    if req == Requirement.DENY:
        return _refuse(decision, "denied by policy")
    if decision.verdict.needs_user:
        return _refuse(decision, "no terminal to confirm on" if not sys.stdin.isatty() else "confirmation needed; run it in the interactive guardsh")
    if req == Requirement.WARN:
        sys.stderr.write(f"guardsh: warning: {'; '.join(f.detail or f.action for f in decision.findings)}\n")
    args = [BASH, "-l" if login else "--norc", "-c", line, *rest] if login else [BASH, "-c", line, *rest]
    os.execv(BASH, args)
    return 0  # not reached


def script(argv: list[str]) -> int:
    """`guardsh SCRIPT ARGS`: refuse before running anything if any command asks."""
    path = argv[0]
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
    except OSError as e:
        sys.stderr.write(f"guardsh: cannot read {path}: {e.strerror}\n")
        return int(Exit.USAGE)
    return main(["-c", text, path, *argv[1:]])
