"""decide: the strictest rule wins, modifiers combine, hours wrap midnight,
users and groups, several targets in one line, and explain agrees."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from guardsh.model import Finding, Requirement, Severity, Target
from guardsh.policy.decide import Who, decide, rule_matches
from guardsh.policy.explain import rule_checks
from guardsh.policy.load import default_text, merge
from guardsh.policy.schema import Policy
from tests.policy.conftest import decide as run

NIGHT = """
rules:
  - id: late
    match: {severity: [low, high]}
    in: [production]
    hours: "22:00-06:00"
    require: type
    delay: 10
    reason: true
"""


def policy(text: str) -> Policy:
    return merge([("<default>", default_text()), ("test.yaml", text)])


def utc(hh: int, mm: int = 0, day: int = 14) -> str:
    return dt.datetime(2026, 1, day, hh, mm, tzinfo=dt.UTC).isoformat()


@pytest.mark.parametrize(
    ("when", "inside"),
    [
        ((22, 0), True),
        ((23, 30), True),
        ((0, 0), True),
        ((3, 0), True),
        ((5, 59), True),
        ((6, 0), False),
        ((12, 0), False),
        ((21, 59), False),
    ],
)
def test_hours_wrap_midnight(when: tuple[int, int], inside: bool) -> None:
    d = run(policy(NIGHT), "systemctl restart nginx", hostname="prod-1", time=utc(*when))
    assert ("late" in d.verdict.rules) == inside
    assert d.verdict.requirement == (Requirement.TYPE if inside else Requirement.CONFIRM)
    assert (d.verdict.delay, d.verdict.reason) == ((10, True) if inside else (0, False))


def test_hours_in_a_named_zone() -> None:
    p = policy(NIGHT.replace('"22:00-06:00"', '"00:00-06:00 Europe/Berlin"'))
    # 23:30 UTC in January is 00:30 in Berlin
    assert (
        "late"
        in run(p, "systemctl restart nginx", hostname="prod-1", time=utc(23, 30)).verdict.rules
    )
    assert (
        "late"
        not in run(p, "systemctl restart nginx", hostname="prod-1", time=utc(5, 30)).verdict.rules
    )


def test_the_policy_timezone_applies_to_hours_without_one() -> None:
    p = policy(
        NIGHT.replace('"22:00-06:00"', '"00:00-06:00"') + "settings:\n  timezone: Asia/Tokyo\n"
    )
    # 16:00 UTC is 01:00 in Tokyo
    assert (
        "late" in run(p, "systemctl restart nginx", hostname="prod-1", time=utc(16)).verdict.rules
    )
    assert (
        "late"
        not in run(p, "systemctl restart nginx", hostname="prod-1", time=utc(2)).verdict.rules
    )


def test_the_clock_zone_applies_when_nothing_names_one() -> None:
    p = policy(NIGHT.replace('"22:00-06:00"', '"00:00-06:00"'))
    assert (
        "late"
        in run(
            p, "systemctl restart nginx", hostname="prod-1", time="2026-01-14T01:00:00+02:00"
        ).verdict.rules
    )


def test_days() -> None:
    p = policy(
        "rules:\n  - id: weekend\n    days: [sat, sun]\n"
        "    match: {severity: low}\n    require: type\n"
    )
    assert "weekend" in run(p, "systemctl restart nginx", time=utc(12, day=17)).verdict.rules
    assert "weekend" not in run(p, "systemctl restart nginx", time=utc(12, day=14)).verdict.rules


def test_users_and_groups() -> None:
    p = policy(
        "rules:\n  - id: interns\n    groups: [interns]\n"
        "    match: {severity: low}\n    require: deny\n"
        "  - id: alice\n    users: [alice]\n    match: {severity: low}\n    require: type\n"
    )
    assert run(p, "systemctl restart x", groups=["interns"]).verdict.requirement == Requirement.DENY
    assert run(p, "systemctl restart x", user="alice").verdict.requirement == Requirement.TYPE
    assert run(p, "systemctl restart x", user="bob", groups=["ops"]).verdict.rules == ()


def test_a_prod_kube_context_and_a_dev_database_get_the_prod_requirement() -> None:
    p = policy("")
    d = run(
        p,
        "kubectl delete namespace payments; redis-cli -h dev-cache FLUSHALL",
        kube_context="prod-eu",
    )
    assert {(f.action, f.environment) for f in d.findings} == {
        ("k8s.delete", "production"),
        ("redis.flush", "development"),
    }
    assert d.environment == "production"
    assert d.verdict.requirement == Requirement.TYPE


def test_a_dev_database_url_with_a_prod_context_in_one_line() -> None:
    d = run(
        policy(""),
        "psql $DATABASE_URL -c 'DROP TABLE users' && kubectl scale deploy api --replicas=0",
        vars={"DATABASE_URL": "postgres://app@dev-db.internal/app"},
        kube_context="prod-eu",
    )
    envs = {f.action: f.environment for f in d.findings}
    assert envs == {"sql.drop_table": "development", "k8s.scale_zero": "production"}
    assert d.verdict.requirement == Requirement.TYPE


def test_one_target_with_prod_and_dev_names_is_production() -> None:
    from guardsh.policy.locate import classify
    from tests.factories import snapshot

    t = Target("db", (("kube_context", "prod-eu"), ("db_host", "dev-db"), ("db_name", "app")))
    ev = classify(t, snapshot(), policy(""))
    assert (ev.environment, ev.field, ev.value) == ("production", "kube_context", "prod-eu")


def _finding(
    env: str,
    action: str = "fs.delete_recursive",
    sev: Severity = Severity.HIGH,
    obj: str = "/x",
    tags: frozenset[str] = frozenset(),
) -> Finding:
    from guardsh.model import NO_SPAN

    return Finding(action, obj, sev, Target("local"), NO_SPAN, tags, environment=env)


def test_modifiers_combine_and_break_glass_needs_every_deny_rule() -> None:
    p = policy(
        "rules:\n"
        "  - id: a\n    match: {actions: [fs.*]}\n    require: confirm\n    reason: '^OPS-'\n"
        "  - id: b\n    match: {actions: [fs.delete_recursive]}\n    require: warn\n    delay: 7\n"
        "  - id: c\n    match: {objects: ['/x']}\n    require: deny\n    break_glass: true\n"
        "  - id: d\n    match: {tags: [critical]}\n    require: deny\n"
    )
    now = dt.datetime(2026, 1, 14, 12, tzinfo=dt.UTC)
    v = decide([_finding("staging")], p, now, Who("op"))
    assert (v.requirement, v.reason, v.reason_pattern, v.delay, v.break_glass) == (
        Requirement.DENY,
        True,
        "^OPS-",
        7,
        True,
    )
    v = decide([_finding("staging", tags=frozenset({"critical"}))], p, now, Who("op"))
    assert v.requirement == Requirement.DENY and not v.break_glass


def test_every_reason_pattern_of_the_matching_rules_is_enforced() -> None:
    """Two rules, two ticket patterns: the reason must match both, not only
    the first rule's; one regex (the JSON's `reason_pattern` stays a string)."""
    ticket = "reason: '^(OPS|INC)-[0-9]+'"
    p = policy(
        f"""
rules:
  - {{id: a, match: {{actions: [fs.*]}}, require: confirm, {ticket}}}
  - {{id: b, match: {{severity: [high]}}, require: confirm, reason: 'CHG-[0-9]+'}}
  - {{id: c, match: {{severity: [high]}}, require: warn, reason: '(?i)approved'}}
  - {{id: d, match: {{actions: [fs.*]}}, require: warn, {ticket}}}
  - {{id: e, match: {{severity: [low]}}, require: warn, reason: NEVER}}
"""
    )
    now = dt.datetime(2026, 1, 14, 12, tzinfo=dt.UTC)
    v = decide([_finding("staging")], p, now, Who("op"))
    assert v.reason and isinstance(v.reason_pattern, str)
    rx = re.compile(v.reason_pattern)
    assert rx.search("OPS-1 for CHG-22, Approved by bob")
    assert rx.search("INC-7 CHG-8 APPROVED")
    for short in ("OPS-1 for CHG-22", "CHG-22 approved", "OPS-1 approved", "x OPS-1 CHG-2 ok"):
        assert not rx.search(short), short
    v = decide([_finding("staging", action="fs.delete", sev=Severity.LOW)], p, now, Who("op"))
    rx = re.compile(v.reason_pattern or "")
    assert rx.search("OPS-1 NEVER") and not rx.search("OPS-1") and not rx.search("NEVER")
    # the same pattern twice, or one alone, stays as written (the card shows it)
    only_a = policy(
        f"""
rules:
  - {{id: a, match: {{actions: [fs.*]}}, require: confirm, {ticket}}}
  - {{id: d, match: {{actions: [fs.*]}}, require: warn, {ticket}}}
"""
    )
    v = decide([_finding("staging")], only_a, now, Who("op"))
    assert v.reason_pattern == "^(OPS|INC)-[0-9]+"


def test_a_broken_policy_asks_for_findings_only_in_protected_environments() -> None:
    import dataclasses

    p = dataclasses.replace(policy(""), errors=("site.yaml:3:1: boom",))
    now = dt.datetime(2026, 1, 14, 12, tzinfo=dt.UTC)
    f = _finding("development", sev=Severity.LOW)
    assert decide([f], p, now, Who("op"), protected=True).requirement == Requirement.CONFIRM
    assert decide([f], p, now, Who("op"), protected=False).requirement == Requirement.ALLOW
    assert decide([], p, now, Who("op"), protected=True).requirement == Requirement.ALLOW


def test_explain_agrees_with_decide_for_every_rule() -> None:
    from pathlib import Path

    texts = [""] + [p.read_text() for p in sorted(Path("policies").glob("*.yaml"))]
    findings = [
        _finding(env, action, sev, obj, frozenset(tags))
        for env in ("production", "staging", "development", "nowhere")
        for action, sev, obj, tags in (
            ("fs.delete_recursive", Severity.HIGH, "/x", ()),
            ("k8s.delete", Severity.HIGH, "namespace/payments", ("namespace",)),
            ("service.restart", Severity.LOW, "nginx", ("critical",)),
            ("sql.truncate", Severity.HIGH, "t", ()),
            ("shell.escape", Severity.LOW, "bash", ()),
        )
    ]
    clocks = [dt.datetime(2026, 1, d, h, tzinfo=dt.UTC) for d in (14, 17) for h in (3, 14)]
    whos = [Who("op"), Who("intern", frozenset({"interns"}))]
    checked = 0
    for text in texts:
        p = policy(text)
        for rule in p.rules:
            for f in findings:
                for clock in clocks:
                    for who in whos:
                        checks = rule_checks(rule, f, clock, who, p.settings.timezone)
                        assert all(c.ok for c in checks) == rule_matches(
                            rule, f, clock, who, p.settings.timezone
                        ), (rule.id, f, clock)
                        checked += 1
    assert checked > 1000


def test_rules_can_match_the_program_a_finding_came_from() -> None:
    p = policy(
        "rules:\n  - id: no-psql-drops\n    match: {actions: [sql.drop_table], programs: [psql]}\n"
        "    require: deny\n"
    )
    psql = run(p, "psql -h db-1 -c 'DROP TABLE t'")
    mysql = run(p, "mysql -h db-1 -e 'DROP TABLE t'")
    assert psql.findings[0].program == "psql"
    assert psql.verdict.requirement == Requirement.DENY
    assert "no-psql-drops" not in mysql.verdict.rules
