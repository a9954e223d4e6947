"""Findings + environments + clock + user -> the verdict: the strictest rule wins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from guardsh.model import Finding, Requirement, Verdict
from guardsh.policy.schema import Policy, Rule

COULD_NOT_ANALYZE = "guardsh could not analyze this command"


@dataclass(frozen=True, slots=True)
class Who:
    user: str
    groups: frozenset[str] = frozenset()


def _local_minute(rule_tz: str | None, clock: dt.datetime) -> tuple[int, int]:
    when = clock
    if rule_tz:
        from zoneinfo import ZoneInfo

        when = clock.astimezone(ZoneInfo(rule_tz))
    return when.hour * 60 + when.minute, when.weekday()


def rule_matches(rule: Rule, f: Finding, clock: dt.datetime, who: Who) -> bool:
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
    if rule.users and who.user not in rule.users:
        return False
    if rule.groups and not (rule.groups & who.groups):
        return False
    if rule.hours or rule.days:
        tz = rule.hours[0].tz if rule.hours else None
        minute, weekday = _local_minute(tz, clock)
        if rule.hours and not any(h.contains(minute) for h in rule.hours):
            return False
        if rule.days and weekday not in rule.days:
            return False
    return True


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
    pattern = None
    delay = 0
    rules: list[str] = []
    messages: list[str] = []
    deny_rules: list[Rule] = []
    objects: set[str] = set()
    for f in findings:
        for rule in policy.rules:
            if not rule_matches(rule, f, clock, who):
                continue
            if rule.id not in rules:
                rules.append(rule.id)
                if rule.message:
                    messages.append(rule.message)
            if rule.require > require:
                require = rule.require
            if rule.require >= Requirement.TYPE and f.object:
                objects.add(f.object)
            if rule.require == Requirement.DENY:
                deny_rules.append(rule)
            reason = reason or rule.reason
            pattern = pattern or rule.reason_pattern
            delay = max(delay, rule.delay)
    if policy.errors and protected:
        messages.append("the policy is broken, so everything asks: " + "; ".join(policy.errors))
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
        reason_pattern=pattern,
        delay=delay,
        break_glass=bool(deny_rules) and all(r.break_glass for r in deny_rules),
        rules=tuple(rules),
        messages=tuple(messages),
        type_word=type_word,
    )
