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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from guardsh.exitcodes import Exit


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
        lines.append(f"guardsh:   {at}{f.what_and_where()} — {f.environment} ({f.action})")
    lines.extend(f"guardsh: {m}" for m in v.messages)
    lines.append("guardsh: nothing was run.")
    return "\n".join(lines) + "\n"


def _policy(environ: Mapping[str, str]) -> Any:
    from guardsh.policy.layers import effective

    return effective(environ=environ)


def _terminal() -> bool:
    return os.isatty(0) and os.isatty(2)


Ask = Callable[[Any, Any, Any, Any], tuple[Any, Any]]
Client = Callable[["Step"], Callable[[], int] | None]


@dataclass
class Step:
    """What becomes of a command text, decided before anything runs.

    kind: `run` (message: a warning to show, or empty), `ask` (a card must be
    shown), `refuse` (already recorded; message and status for the caller),
    `error` (nothing recorded: a broken policy or input that is not a
    command line), or `local` (the analysis server leaves this one to the
    client's own process).
    """

    kind: str
    message: str = ""
    status: int = 0
    decision: Any = None
    policy: Any = None
    snap: Any = None
    facts: Any = None
    recorder: Any = None


def decide(
    text: str,
    *,
    can_ask: bool,
    source: str = "",
    environ: Mapping[str, str] | None = None,
    cwd: str | None = None,
    session: Any = None,
    warn: Callable[[str], None] | None = None,
    local_only: Callable[[Any, Any], str | None] | None = None,
) -> Step:
    """Analyze `text` as typed in `cwd` with `environ` (default: this process's)
    and decide; a refusal is recorded here. `local_only(policy, facts)`, asked
    after the analysis, may turn the step into `local` (message: why) before
    anything is recorded."""
    from guardsh.errors import PolicyError, UserError
    from guardsh.facts import gather
    from guardsh.model import Requirement
    from guardsh.pipeline import check
    from guardsh.run.record import Recorder

    env = os.environ if environ is None else environ
    try:
        policy = _policy(env)
    except PolicyError as e:
        return Step(
            "error", f"guardsh: policy error: {e}\nguardsh: nothing was run.\n", Exit.REFUSED
        )
    snap = gather.snapshot(variables=env, cwd=cwd)
    facts = gather.facts(snap)
    try:
        decision = check(text, snap, policy, dt.datetime.now(dt.UTC), facts)
    except UserError as e:
        return Step("error", f"guardsh: {e.show()}\n", Exit.USAGE)
    why_local = local_only(policy, facts) if local_only is not None else None
    if why_local:
        return Step("local", why_local)
    if session is not None:
        session = session.with_policy(policy.sha256 or None)
    recorder = Recorder(policy, environ=env, session=session, warn=warn)
    # a skipped user layer or an ignored override is said once, before the rest
    notice = "".join(f"guardsh: policy: {w.splitlines()[0]}\n" for w in policy.warnings)
    step = Step(
        "run", notice, decision=decision, policy=policy, snap=snap, facts=facts, recorder=recorder
    )
    v = decision.verdict
    if v.requirement == Requirement.DENY or v.needs_user:
        if can_ask:
            step.kind = "ask"
            return step
        why = (
            "denied by policy" if v.requirement == Requirement.DENY else "no terminal to confirm on"
        )
        recorder.denied(decision, reason=why, cwd=snap.cwd)
        step.kind, step.status = "refuse", int(Exit.REFUSED)
        step.message += refusal(decision, why, source)
    elif v.requirement == Requirement.WARN:
        what = "; ".join(f.detail or f.action for f in decision.findings)
        step.message += f"guardsh: warning ({', '.join(v.rules) or 'policy'}): {what}\n"
    return step


def admit(
    step: Step,
    *,
    reason: str | None = None,
    breakglass: bool = False,
    dry_run: Mapping[str, Any] | None = None,
) -> int | str:
    """Record that `step` runs now: the audit token, or the refusal message
    when the record cannot be written and the policy requires one there
    (`audit_required` in a protected environment: `Recorder.blocks`)."""
    recorder, decision, cwd = step.recorder, step.decision, step.snap.cwd
    if breakglass:
        token = recorder.breakglass(decision, reason=reason, cwd=cwd)
    else:
        token = recorder.intent(decision, reason=reason, cwd=cwd, dry_run=dry_run)
    if recorder.blocks:
        recorder.denied(decision, reason="audit trail unavailable", cwd=cwd)
        return "guardsh: refused: the audit trail cannot be written and the policy requires it.\n"
    return int(token)


def run_text(
    text: str,
    args: list[str],
    *,
    login: bool = False,
    source: str = "",
    ask: Ask | None = None,
    start_server: bool = False,
    client: Client | None = None,
) -> int:
    """Analyze `text`; refuse, ask or run it with `bash -c text args...`.

    `ask(decision, policy, snapshot, facts) -> (outcome, audit dry run)` shows
    the card on a terminal; the CLI passes it in (this package never imports
    prompt_toolkit). Without it, or without a terminal, a command that needs
    confirmation is refused. `start_server`: no analysis server answered;
    start one (when the policy allows) so that the next `-c` is fast.
    `client(step)`, on a terminal, returns how to run an interactive database
    client under guard (guardsh.clients) instead of in bash, or None; it may
    set `step.decision` to the one to record for starting the client.
    """
    step = decide(text, can_ask=ask is not None and _terminal(), source=source)
    if start_server and step.policy is not None and step.policy.settings.analysis_server:
        from guardsh.run import fastpath

        fastpath.start_server()
    if step.kind in ("error", "refuse"):
        sys.stderr.write(step.message)
        return step.status
    reason, breakglass, audit_dry_run = None, False, None
    if step.kind == "ask":
        assert ask is not None
        sys.stderr.write(step.message)  # the policy's warnings, if any, before the card
        outcome, audit_dry_run = ask(step.decision, step.policy, step.snap, step.facts)
        if not outcome.run:
            record = step.recorder.denied if outcome.phase == "denied" else step.recorder.declined
            record(step.decision, reason=outcome.why, cwd=step.snap.cwd)
            sys.stderr.write(f"guardsh: not run ({outcome.why}).\n")
            return int(Exit.REFUSED)
        reason, breakglass = outcome.reason, outcome.phase == "breakglass"
    else:
        sys.stderr.write(step.message)
    # before the intent: a guarded client's start is recorded where it connects
    guarded = client(step) if client is not None and _terminal() else None
    token = admit(step, reason=reason, breakglass=breakglass, dry_run=audit_dry_run)
    if isinstance(token, str):
        sys.stderr.write(token)
        return int(Exit.REFUSED)
    from guardsh.run import child, signals

    if guarded is not None:
        t0 = time.monotonic()
        code = guarded()
        step.recorder.result(token, code, int((time.monotonic() - t0) * 1000))
        step.recorder.close()
        return code
    status, ms = child.run(text, args, login)
    step.recorder.result(token, child.exit_code(status), ms)
    step.recorder.close()
    sys.stdout.flush()
    return signals.exit_like(status)


def main(
    argv: list[str], login: bool = False, ask: Ask | None = None, client: Client | None = None
) -> int:
    """argv starts with the -c flag (possibly bundled: -lc); then CMD, $0, $1...
    The CLI asked the analysis server first (`fastpath.run`); this is the
    local path, which starts a server when none answered."""
    if len(argv) < 2:
        sys.stderr.write("guardsh: -c: option requires an argument\n")
        return int(Exit.USAGE)
    from guardsh.run import fastpath

    return run_text(
        argv[1], argv[2:], login=login, ask=ask, start_server=fastpath.absent(), client=client
    )


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
