"""`guardsh -c CMD [ARGS...]`, `guardsh SCRIPT` and a script on stdin: what
sshd, scp, rsync and cron call.

The whole text is analyzed before anything runs (so a script with one
command needing confirmation runs none of them). Then bash runs it as a
child with stdin/stdout/stderr inherited untouched (binary-safe), and
guardsh leaves with the child's status (a death by signal is re-raised).
With no terminal, a command that needs any confirmation is refused on
stderr, naming the rule, with status 126. With a terminal (`ssh -t`), the
confirmation card is shown on stderr. Imports stay minimal: no click, and
prompt_toolkit only when a card is shown (through the `ask` the CLI passes).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from guardsh.exitcodes import Exit

BASH = "/bin/bash"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def refusal(decision: Any, why: str, source: str = "") -> str:
    """The message for a refused command: what, where, which rule, and why."""
    v = decision.verdict
    rules = ", ".join(v.rules) or "fail-safe"
    multi = "\n" in decision.line.strip()
    lines = [
        f"guardsh: refused ({why}): this needs `{v.requirement}`"
        + (" with a reason" if v.reason else "")
        + f" in {decision.environment} ({'rules' if len(v.rules) > 1 else 'rule'} {rules})"
    ]
    for f in decision.findings:
        at = f"{source or 'line'} {_line_of(decision.line, f.evidence.start)}: " if multi else ""
        what = f.detail or f"{f.action} {f.object or ''}".strip()
        lines.append(f"guardsh:   {at}{what} on {f.target.label()} — {f.environment} ({f.action})")
    lines.extend(f"guardsh: {m}" for m in v.messages)
    lines.append("guardsh: nothing was run.")
    return "\n".join(lines) + "\n"


def _policy() -> Any:
    from guardsh.policy.layers import effective

    return effective()


def _terminal() -> bool:
    return os.isatty(0) and os.isatty(2)


Ask = Callable[[Any, Any, Any, Any], tuple[Any, Any]]


def run_text(
    text: str, args: list[str], *, login: bool = False, source: str = "", ask: Ask | None = None
) -> int:
    """Analyze `text`; refuse, ask or run it with `bash -c text args...`.

    `ask(decision, policy, snapshot, facts) -> (outcome, audit dry run)` shows
    the card on a terminal; the CLI passes it in (this package never imports
    prompt_toolkit). Without it, or without a terminal, a command that needs
    confirmation is refused.
    """
    from guardsh.errors import PolicyError, UserError
    from guardsh.facts import gather
    from guardsh.model import Requirement
    from guardsh.pipeline import check
    from guardsh.run.record import Recorder

    try:
        policy = _policy()
    except PolicyError as e:
        sys.stderr.write(f"guardsh: policy error: {e}\nguardsh: nothing was run.\n")
        return int(Exit.REFUSED)
    snap = gather.snapshot()
    facts = gather.facts(snap)
    try:
        decision = check(text, snap, policy, dt.datetime.now(dt.UTC), facts)
    except UserError as e:
        sys.stderr.write(f"guardsh: {e.show()}\n")
        return int(Exit.USAGE)
    recorder = Recorder(policy)
    v = decision.verdict
    reason = None
    breakglass = False
    audit_dry_run = None
    if v.requirement == Requirement.DENY or v.needs_user:
        if ask is None or not _terminal():
            why = (
                "denied by policy"
                if v.requirement == Requirement.DENY
                else "no terminal to confirm on"
            )
            recorder.denied(decision, reason=why, cwd=snap.cwd)
            sys.stderr.write(refusal(decision, why, source))
            return int(Exit.REFUSED)
        outcome, audit_dry_run = ask(decision, policy, snap, facts)
        if not outcome.run:
            if outcome.phase == "denied":
                recorder.denied(decision, reason=outcome.why, cwd=snap.cwd)
            else:
                recorder.declined(decision, reason=outcome.why, cwd=snap.cwd)
            sys.stderr.write(f"guardsh: not run ({outcome.why}).\n")
            return int(Exit.REFUSED)
        reason, breakglass = outcome.reason, outcome.phase == "breakglass"
    elif v.requirement == Requirement.WARN:
        what = "; ".join(f.detail or f.action for f in decision.findings)
        sys.stderr.write(f"guardsh: warning ({', '.join(v.rules) or 'policy'}): {what}\n")
    if breakglass:
        token = recorder.breakglass(decision, reason=reason, cwd=snap.cwd)
    else:
        token = recorder.intent(decision, reason=reason, cwd=snap.cwd, dry_run=audit_dry_run)
    if recorder.blocks:
        recorder.denied(decision, reason="audit trail unavailable", cwd=snap.cwd)
        sys.stderr.write(
            "guardsh: refused: the audit trail cannot be written and the policy requires it.\n"
        )
        return int(Exit.REFUSED)
    return _spawn(text, args, login, recorder, token)


def _spawn(text: str, args: list[str], login: bool, recorder: Any, token: int) -> int:
    from guardsh.run import signals

    argv = ["bash", "-l", "-c", text, *args] if login else ["bash", "-c", text, *args]
    t0 = time.monotonic()
    pid = os.posix_spawn(BASH, argv, os.environ, setsigdef=signals.CHILD_DEFAULT, setsigmask=())
    with signals.forwarding(pid):
        status = signals.wait(pid)
    code = os.waitstatus_to_exitcode(status)
    recorder.result(token, code if code >= 0 else 128 - code, int((time.monotonic() - t0) * 1000))
    recorder.close()
    sys.stdout.flush()
    return signals.exit_like(status)


def main(argv: list[str], login: bool = False, ask: Ask | None = None) -> int:
    """argv starts with the -c flag (possibly bundled: -lc); then CMD, $0, $1..."""
    if len(argv) < 2:
        sys.stderr.write("guardsh: -c: option requires an argument\n")
        return int(Exit.USAGE)
    return run_text(argv[1], argv[2:], login=login, ask=ask)


def script(argv: list[str], login: bool = False, ask: Ask | None = None) -> int:
    """`guardsh SCRIPT ARGS`: refuse before running anything if any command asks."""
    path = argv[0]
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            text = fh.read()
    except OSError as e:
        sys.stderr.write(f"guardsh: {path}: {e.strerror}\n")
        return 127
    return run_text(text, [path, *argv[1:]], login=login, source=path, ask=ask)


def stdin_script(login: bool = False) -> int:
    """Commands on a stdin that is not a terminal: read them all, analyze, run.
    (The commands therefore see an empty stdin.)"""
    data = sys.stdin.buffer.read()
    text = data.decode("utf-8", "surrogateescape")
    if not text.strip():
        return 0
    return run_text(text, ["guardsh"], login=login, source="stdin")
