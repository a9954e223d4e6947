"""Why a finding got its environment and its requirement (for `policy explain`).

Pure, like locate and decide: it re-reads the same policy for one finding and
says, condition by condition, which rules matched and why, and which rules
came nearest without matching and what they missed. `rule_checks` mirrors
`decide.rule_matches` (which stays lean for the hot path); a test keeps the
two in agreement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from guardsh.model import Decision, Finding, Snapshot
from guardsh.policy.decide import Who, local_time
from guardsh.policy.locate import Evidence, Miss, classify, misses
from guardsh.policy.schema import Policy, Rule

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    text: str


@dataclass(frozen=True, slots=True)
class RuleTrace:
    rule: Rule
    checks: tuple[Check, ...]

    @property
    def matched(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def missed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


@dataclass(frozen=True, slots=True)
class FindingTrace:
    finding: Finding
    evidence: Evidence
    misses: tuple[Miss, ...]
    matched: tuple[RuleTrace, ...]
    nearest: tuple[RuleTrace, ...]


def _in(ok: bool) -> str:
    return "in" if ok else "not in"


def _texts(items: Iterable[object]) -> str:
    return ", ".join(sorted(str(getattr(i, "text", i)) for i in items))


def rule_checks(
    rule: Rule, f: Finding, clock: dt.datetime, who: Who, default_tz: str | None = None
) -> tuple[Check, ...]:
    """Each condition of `rule` against `f`, in words."""
    out = []
    if rule.environments:
        ok = f.environment in rule.environments
        out.append(
            Check(
                ok,
                f"environment {f.environment} {_in(ok)} [{_texts(rule.environments)}]",
            )
        )
    if rule.actions:
        hit = next((p.text for p in rule.actions if p.match(f.action)), None)
        out.append(
            Check(
                hit is not None,
                f"action {f.action} matches `{hit}`"
                if hit
                else f"action {f.action} matches none of [{_texts(rule.actions)}]",
            )
        )
    if rule.severities:
        ok = f.severity in rule.severities
        out.append(
            Check(
                ok, f"severity {f.severity} {'in' if ok else 'not in'} [{_texts(rule.severities)}]"
            )
        )
    if rule.tags:
        common = rule.tags & f.tags
        out.append(
            Check(
                bool(common),
                f"tags {sorted(common)} shared"
                if common
                else f"no tag of [{_texts(rule.tags)}] on the finding ({_texts(f.tags) or 'none'})",
            )
        )
    if rule.objects:
        hit = next(
            (p.text for p in rule.objects if f.object is not None and p.match(f.object)), None
        )
        out.append(
            Check(
                hit is not None,
                f"object {f.object} matches `{hit}`"
                if hit
                else f"object {f.object} matches none of [{_texts(rule.objects)}]",
            )
        )
    if rule.programs:
        prog = f.program
        hit = next((p.text for p in rule.programs if prog and p.match(prog)), None)
        out.append(
            Check(
                hit is not None,
                f"program {prog} matches `{hit}`"
                if hit
                else f"program {prog} matches none of [{_texts(rule.programs)}]",
            )
        )
    if rule.users:
        ok = who.user in rule.users
        out.append(Check(ok, f"user {who.user} {'in' if ok else 'not in'} [{_texts(rule.users)}]"))
    if rule.groups:
        common = rule.groups & who.groups
        out.append(
            Check(
                bool(common),
                f"group {sorted(common)[0]} in [{_texts(rule.groups)}]"
                if common
                else f"none of your groups in [{_texts(rule.groups)}]",
            )
        )
    for h in rule.hours[:1]:
        tz = h.tz or default_tz
        minutes = [local_time(x.tz or default_tz, clock)[0] for x in rule.hours]
        ok = any(x.contains(m) for x, m in zip(rule.hours, minutes, strict=True))
        now = f"{minutes[0] // 60:02d}:{minutes[0] % 60:02d}{' ' + tz if tz else ''}"
        out.append(
            Check(
                ok,
                f"time {now} {'within' if ok else 'outside'} {_texts(rule.hours)}",
            )
        )
    if rule.days:
        tz = (rule.hours[0].tz if rule.hours else None) or default_tz
        day = local_time(tz, clock)[1]
        ok = day in rule.days
        names = ", ".join(_DAY_NAMES[d] for d in sorted(rule.days))
        out.append(Check(ok, f"day {_DAY_NAMES[day]} {'in' if ok else 'not in'} [{names}]"))
    if not out:
        out.append(Check(True, "the rule matches every finding"))
    return tuple(out)


def trace(
    f: Finding, policy: Policy, snapshot: Snapshot, clock: dt.datetime, who: Who, nearest: int = 3
) -> FindingTrace:
    """The environment evidence and the rule-by-rule reading of one finding."""
    ev = classify(f.target, snapshot, policy)
    env_misses = (
        () if snapshot.as_env else tuple(misses(f.target, snapshot, policy, ev.environment))
    )
    tz = policy.settings.timezone
    traces = [RuleTrace(r, rule_checks(r, f, clock, who, tz)) for r in policy.rules]
    matched = tuple(t for t in traces if t.matched)
    near = sorted(
        (t for t in traces if not t.matched and len(t.missed) < len(t.checks)),
        key=lambda t: (len(t.missed), -t.rule.require),
    )
    return FindingTrace(f, ev, env_misses, matched, tuple(near[:nearest]))


def render(d: Decision, pol: Policy, snap: Snapshot, clock: dt.datetime, who: Who) -> str:
    """The whole explanation of a decision, as `guardsh policy explain` prints it."""
    from guardsh import cases  # the exit code a caller would see
    from guardsh.errors import caret_block
    from guardsh.unwrap import targets

    out = [f"command: {d.line}", f"policy: {', '.join(pol.sources)} (sha256 {pol.sha256[:16]})"]
    if snap.as_env:
        out.append(f"--as {snap.as_env}: every target counts as {snap.as_env}")
    if not d.findings:
        ev = classify(targets.local(snap), snap, pol)
        out.append("no findings: nothing in this line destroys anything guardsh knows of")
        out.append(f"environment: {d.environment} ({_because(ev)})")
    for i, f in enumerate(d.findings, 1):
        t = trace(f, pol, snap, clock, who)
        obj = f" {f.object}" if f.object else ""
        tags = f" [{', '.join(sorted(f.tags))}]" if f.tags else ""
        out.append("")
        out.append(f"finding {i}: {f.action}{obj} ({f.severity}){tags} on {f.target.label()}")
        if f.detail:
            out.append(f"  {f.detail}")
        if f.evidence.end > f.evidence.start:
            out.append(caret_block(d.line, f.evidence))
        out.append(f"  environment: {t.evidence.environment}, because {_because(t.evidence)}")
        for m in t.misses:
            out.append(f"    not {m.environment}: {m.text}")
        out.append("  rules that matched:" if t.matched else "  no rule matched: allow")
        for rt in t.matched:
            out += _rule_lines(rt)
        if t.nearest:
            out.append("  nearest rules that did not match:")
            for rt in t.nearest:
                out += _rule_lines(rt)
    v = d.verdict
    out.append("")
    mods = [
        m
        for m, on in (
            (f"reason{' matching ' + v.reason_pattern if v.reason_pattern else ''}", v.reason),
            (f"delay {v.delay}s", v.delay > 0),
            ("break-glass allowed", v.break_glass),
        )
        if on
    ]
    word = f"; type `{v.type_word}` to run it" if v.type_word else ""
    out.append(
        f"requirement: {v.requirement}{' + ' + ', '.join(mods) if mods else ''}{word} "
        f"(exit {int(cases.exit_for(d))}; rules: {', '.join(v.rules) or 'none'})"
    )
    out += [f"note: {m}" for m in v.messages]
    out += [f"note: {n}" for n in d.notes]
    out += [f"warning: {w.splitlines()[0]}" for w in pol.warnings]
    return "\n".join(out)


def _because(ev: Evidence) -> str:
    if ev.field == "--as":
        return "--as says so"
    if ev.field == "unknown_environment":
        return "no environment matched, and the policy's unknown_environment is " + ev.environment
    origin = f", {ev.origin}" if ev.origin else ""
    return f"{ev.field} `{ev.value}` matches `{ev.pattern}`{origin}"


def _rule_lines(rt: RuleTrace) -> list[str]:
    r = rt.rule
    mods = "".join(
        f", {k}"
        for k, on in (
            ("reason", r.reason),
            (f"delay {r.delay}s", r.delay),
            ("break-glass", r.break_glass),
        )
        if on
    )
    lines = [f"    {r.id} -> {r.require}{mods}  ({r.origin})"]
    lines += [f"      {'+' if c.ok else '-'} {c.text}" for c in rt.checks]
    return lines
