"""check(line, snapshot, policy, clock, facts) -> Decision. Pure, and fail-safe.

parse -> unwrap -> analyze -> locate -> decide, with no subprocess, no
terminal and no network: facts that need I/O arrive in `Facts`. An exception
anywhere in analysis yields at least `confirm` in a protected environment
("guardsh could not analyze this command"), never a silent allow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Iterable

from guardsh import analyze
from guardsh.analyze.registry import Context
from guardsh.errors import IncompleteError, UserError
from guardsh.model import (
    Decision,
    Facts,
    Finding,
    Invocation,
    Requirement,
    Severity,
    Snapshot,
    Span,
    Target,
    Verdict,
)
from guardsh.parse.bash import parser
from guardsh.parse.complete import incomplete
from guardsh.policy.decide import COULD_NOT_ANALYZE, Who, decide
from guardsh.policy.locate import classify
from guardsh.policy.schema import Policy
from guardsh.unwrap import targets
from guardsh.unwrap.engine import Unwrapper

MAX_LINE = 1_000_000  # characters; longer input is refused with a message


def validate(line: str) -> None:
    """Refuse input that cannot be a command line; say where it is wrong."""
    if len(line) > MAX_LINE:
        raise UserError(
            f"the command line is {len(line):,} characters long; "
            f"guardsh analyzes at most {MAX_LINE:,}"
        )
    nul = line.find("\0")
    if nul != -1:
        raise UserError(
            f"the command line contains a NUL byte (column {nul + 1})",
            line=line,
            span=Span(nul, nul + 1),
        )
    if not line.isascii():
        for i, ch in enumerate(line):
            if "\udc80" <= ch <= "\udcff":
                shown = "".join("?" if "\udc80" <= c <= "\udcff" else c for c in line)
                raise UserError(
                    f"the command line is not valid UTF-8 (column {i + 1})",
                    line=shown,
                    span=Span(i, i + 1),
                )
    gap = incomplete(line)
    if gap is not None:
        raise IncompleteError(gap.message(), line=line, span=gap.span)


def analyze_line(line: str, snapshot: Snapshot, facts: Facts) -> tuple[list[Finding], list[str]]:
    """Findings of every invocation in the line, and notes of what failed."""
    notes: list[str] = []
    unwrapper = Unwrapper(snapshot, facts, line)
    invocations = unwrapper.run()
    findings = _run_analyzers(invocations, line, snapshot, facts, notes)
    for span in unwrapper.parse_errors[:1]:
        findings.append(
            Finding(
                "shell.opaque",
                span.text(line) or None,
                Severity.LOW,
                targets.local(snapshot),
                span,
                frozenset({"parse-error"}),
                "guardsh could not parse this part of the line",
            )
        )
    return _dedupe(findings), notes


def _run_analyzers(
    invocations: Iterable[Invocation], line: str, snapshot: Snapshot, facts: Facts, notes: list[str]
) -> list[Finding]:
    def recurse(text: str, target: Target, span: Span) -> list[Finding]:
        invs = Unwrapper(snapshot, facts, line).run_text(text, target, span)
        return _run_analyzers(invs, line, snapshot, facts, notes)

    ctx = Context(line, snapshot, facts, recurse)
    findings: list[Finding] = []
    for inv in invocations:
        for fn in analyze.analyzers_for(inv.program):
            try:
                findings.extend(fn(inv, ctx))
            except Exception as e:  # an analyzer's bug must not let the command through
                where = f"{fn.__module__}.{fn.__name__}"
                notes.append(f"{COULD_NOT_ANALYZE}: {where} failed on `{inv.program}`: {e!r}")
    return findings


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for f in findings:
        key = (f.action, f.object, f.target, f.evidence, f.severity)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def ambient(snapshot: Snapshot, policy: Policy) -> str:
    """The environment of the session itself: the local host (or `--as`)."""
    return classify(targets.local(snapshot), snapshot, policy).environment


def check(
    line: str,
    snapshot: Snapshot,
    policy: Policy,
    clock: dt.datetime,
    facts: Facts,
    who: Who | None = None,
) -> Decision:
    """Analyze one command line and decide what it requires. Never raises for
    analysis failures; raises UserError for input that is not a command line."""
    parser()  # built once; not part of any one line's analysis time
    t0 = time.perf_counter_ns()
    validate(line)
    who = who or Who(snapshot.user)
    notes: list[str] = []
    failed = False
    try:
        findings, notes = analyze_line(line, snapshot, facts)
        failed = bool(notes)
    except Exception as e:  # AnalysisError, RecursionError or a bug: fail safe, never open
        findings = []
        failed = True
        notes = [f"{COULD_NOT_ANALYZE}: {e}"]
    try:
        located = [
            dataclasses.replace(f, environment=classify(f.target, snapshot, policy).environment)
            for f in findings
        ]
        envs = [f.environment for f in located]
        environment = min(envs, key=policy.rank) if envs else ambient(snapshot, policy)
        protected = policy.protected(environment)
        verdict = decide(located, policy, clock, who, failed=failed, protected=protected)
    except Exception as e:  # a broken policy or locate bug: ask, never allow
        located = findings
        environment = snapshot.as_env or policy.unknown_environment
        verdict = Verdict(Requirement.CONFIRM, messages=(f"{COULD_NOT_ANALYZE}: {e}",))
        notes.append(str(e))
    if verdict.requirement in (Requirement.TYPE, Requirement.DRY_RUN) and verdict.type_word is None:
        verdict = dataclasses.replace(verdict, type_word=environment)
    us = (time.perf_counter_ns() - t0) // 1000
    return Decision(line, verdict, environment, tuple(located), tuple(notes), us)
