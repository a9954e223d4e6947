"""Findings + environments + clock + user -> the verdict: the strictest rule wins.

Modifiers combine: a reason is wanted if any matching rule wants one (and
must match every matching rule's pattern), the delay is the longest,
break-glass is offered only when every denying rule offers it. `hours` are
read in their own zone, else the policy's `settings.timezone`, else the
clock's zone (the CLI passes local time).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from guardsh.model import Finding, Requirement, Verdict
from guardsh.policy.schema import Policy, Rule

COULD_NOT_ANALYZE = "guardsh could not analyze this command"
POLICY_BROKEN = "the policy is broken, so everything destructive asks: "
_LEADING_FLAGS = re.compile(r"\(\?([aimsux]+)\)")


@dataclass(frozen=True, slots=True)
class Who:
    """The real user and their POSIX groups (see guardsh.facts.who)."""

    user: str
    groups: frozenset[str] = frozenset()


def local_time(tz: str | None, clock: dt.datetime) -> tuple[int, int]:
    """(minute of the day, weekday) of `clock` in `tz`, or in the clock's own
    zone when the rule and the policy name none."""
    when = clock
    if tz:
        from zoneinfo import ZoneInfo

        when = clock.astimezone(ZoneInfo(tz))
    return when.hour * 60 + when.minute, when.weekday()


def in_window(rule: Rule, clock: dt.datetime, default_tz: str | None) -> bool:
    """Does `clock` fall in the rule's hours (each in its own zone) and days?"""
    if rule.hours and not any(
        h.contains(local_time(h.tz or default_tz, clock)[0]) for h in rule.hours
    ):
        return False
    if rule.days:
        tz = (rule.hours[0].tz if rule.hours else None) or default_tz
        if local_time(tz, clock)[1] not in rule.days:
            return False
    return True


def rule_matches(
    rule: Rule, f: Finding, clock: dt.datetime, who: Who, default_tz: str | None = None
) -> bool:
    if rule.environments and f.environment not in rule.environments:
        return False
    if rule.actions and not any(p.match(f.action) for p in rule.actions):
        return False
    if rule.severities and f.severity not in rule.severities:
        return False
    if rule.tags and not (rule.tags & f.tags):
        return False
    if rule.objects and not (f.object is not None and any(p.match(f.object) for p in rule.objects)):
        return False
    if rule.programs and not any(p.match(f.program) for p in rule.programs):
        return False
    if rule.users and who.user not in rule.users:
        return False
    if rule.groups and not (rule.groups & who.groups):
        return False
    return not (rule.hours or rule.days) or in_window(rule, clock, default_tz)


def all_of(patterns: Sequence[str]) -> str | None:
    """One regex that a reason matches (searched) only when it matches every
    pattern: `(?=.*(?:p1))(?=.*(?:p2))`; a single pattern stays as written.
    A pattern's leading flags (`(?i)`) become scoped (`(?i:p)`), since flags
    must lead the whole regex; the loader refuses named groups and
    back-references, which would not survive the join."""
    if len(patterns) <= 1:
        return patterns[0] if patterns else None
    parts = []
    for p in patterns:
        flags = ""
        while m := _LEADING_FLAGS.match(p):
            flags, p = flags + m.group(1), p[m.end() :]
        parts.append(f"(?=.*(?{flags}:{p}))")
    return "".join(parts)


def decide(
    findings: Sequence[Finding],
    policy: Policy,
    clock: dt.datetime,
    who: Who,
    *,
    failed: bool = False,
    protected: bool = True,
) -> Verdict:
    """The strictest requirement of all matching rules, with their modifiers."""
    require = Requirement.ALLOW
    reason = False
    patterns: list[str] = []  # every matching rule's, in rule order
    delay = 0
    rules: list[str] = []
    messages: list[str] = []
    deny_rules: list[Rule] = []
    objects: set[str] = set()
    tz = policy.settings.timezone
    for f in findings:
        for rule in policy.rules:
            if not rule_matches(rule, f, clock, who, tz):
                continue
            if rule.id not in rules:
                rules.append(rule.id)
                if rule.message:
                    messages.append(rule.message)
            if rule.require > require:
                require = rule.require
            if rule.require >= Requirement.TYPE and f.object and "unknown-object" not in f.tags:
                objects.add(f.object)
            if rule.require == Requirement.DENY:
                deny_rules.append(rule)
            reason = reason or rule.reason
            if rule.reason_pattern and rule.reason_pattern not in patterns:
                patterns.append(rule.reason_pattern)
            delay = max(delay, rule.delay)
    if policy.errors and protected:
        # fail closed: a broken system/team layer makes every finding ask
        messages.append(POLICY_BROKEN + "; ".join(e.splitlines()[0] for e in policy.errors))
        require = max(require, Requirement.CONFIRM) if findings else require
    if failed and protected:
        require = max(require, Requirement.CONFIRM)
        messages.append(COULD_NOT_ANALYZE)
    elif failed:
        require = max(require, Requirement.WARN)
        messages.append(COULD_NOT_ANALYZE)
    type_word = None
    if Requirement.TYPE <= require < Requirement.DENY:
        type_word = objects.pop() if len(objects) == 1 else None
    return Verdict(
        requirement=require,
        reason=reason,
        reason_pattern=all_of(patterns),
        delay=delay,
        break_glass=bool(deny_rules) and all(r.break_glass for r in deny_rules),
        rules=tuple(rules),
        messages=tuple(messages),
        type_word=type_word,
    )
