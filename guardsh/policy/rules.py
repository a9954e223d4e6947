"""One rule's YAML -> `Rule`: match, in, hours, days, users, groups, require
and its modifiers. Errors point at the text, like every policy error."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from guardsh.analyze.actions import ACTIONS
from guardsh.model import Requirement, Severity
from guardsh.policy import migrate
from guardsh.policy.schema import Hours, Pattern, Rule
from guardsh.policy.yamlfile import Node, PolicyFile

_RULE_KEYS = frozenset(
    {
        "id",
        "match",
        "in",
        "hours",
        "days",
        "users",
        "groups",
        "require",
        "reason",
        "delay",
        "break_glass",
        "message",
        "description",
    }
)
_MATCH_KEYS = frozenset({"actions", "action", "tags", "severity", "objects", "object", "programs"})
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(?:\s+(\S+))?$")
_REQUIREMENTS = "allow, warn, confirm, type, dry-run, deny"
# a back-reference (`\1`, not `\\1`), `(?P=name)`, or a conditional `(?(1)...)`
_BACKREF = re.compile(r"(?:^|[^\\])(?:\\\\)*\\[1-9]|\(\?P=|\(\?\(")


@dataclass
class RulePart:
    rule: Rule
    node: Node
    in_nodes: list[tuple[str, Node]] = field(default_factory=list)


def _hours(f: PolicyFile, node: Node) -> tuple[Hours, ...]:
    out = []
    for text, item in f.strings(node, "hours"):
        m = _HOURS.match(text.strip())
        if not m:
            raise f.error(
                item, "expected hours as HH:MM-HH:MM [Time/Zone], e.g. 00:00-06:00 Europe/Berlin"
            )
        h1, m1, h2, m2 = (int(m.group(i)) for i in range(1, 5))
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise f.error(
                item,
                f"impossible hour range `{text}` (hours run from 00:00 to 24:00, minutes 00-59)",
            )
        if (h1, m1) == (h2, m2):
            raise f.error(
                item,
                f"impossible hour range `{text}`: it starts where it ends "
                "(write 00:00-24:00 for the whole day)",
            )
        tz = m.group(5)
        if tz is not None:
            check_timezone(f, item, tz)
        out.append(Hours(h1 * 60 + m1, h2 * 60 + m2, tz, text.strip()))
    return tuple(out)


def check_timezone(f: PolicyFile, node: Node, tz: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except Exception:
        raise f.error(
            node, f"unknown time zone `{tz}` (expected an IANA name such as Europe/Berlin or UTC)"
        ) from None


def _actions(f: PolicyFile, node: Node) -> tuple[Pattern, ...]:
    pats = f.patterns(node, "actions")
    for p, (_, item) in zip(pats, f.strings(node, "actions"), strict=True):
        if not p.is_regex and not any(p.match(a) for a in ACTIONS):
            raise f.error(
                item,
                migrate.unknown_word(
                    "action", p.text, ACTIONS, "see `guardsh policy actions` for the list"
                ),
            )
    return pats


def _match(f: PolicyFile, node: Node, kw: dict[str, Any]) -> None:
    m = f.keys(node, _MATCH_KEYS, "match")
    if "actions" in m and "action" in m:
        raise f.error(m["action"], "write either `actions` or `action`, not both")
    for key in ("actions", "action"):
        if key in m:
            kw["actions"] = _actions(f, m[key])
    if "tags" in m:
        kw["tags"] = frozenset(t for t, _ in f.strings(m["tags"], "tags"))
    if "severity" in m:
        sev = set()
        for text, item in f.strings(m["severity"], "severity"):
            try:
                sev.add(Severity.parse(text))
            except KeyError:
                raise f.error(
                    item, f"unknown severity `{text}` (expected high, low or none)"
                ) from None
        kw["severities"] = frozenset(sev)
    for key in ("objects", "object"):
        if key in m:
            kw["objects"] = f.patterns(m[key], "objects")
    if "programs" in m:
        kw["programs"] = f.patterns(m["programs"], "programs")


def _requirement(f: PolicyFile, node: Node) -> Requirement:
    text = f.scalar(node, "require")
    try:
        return Requirement.parse(text)
    except KeyError:
        pass
    synonym = migrate.REQUIREMENT_SYNONYMS.get(text.lower())
    hint = f"; did you mean `{synonym}`?" if synonym else ""
    raise f.error(node, f"unknown requirement `{text}`{hint} (expected one of: {_REQUIREMENTS})")


def parse_rule(f: PolicyFile, node: Node) -> RulePart:
    d = f.keys(node, _RULE_KEYS, "a rule")
    for key in ("id", "require"):
        if key not in d:
            raise f.error(node, f"a rule needs `{key}` (a rule has: id, match, in, require, ...)")
    rule_id = f.scalar(d["id"], "id")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]*", rule_id):
        raise f.error(d["id"], f"bad rule id `{rule_id}` (letters, digits, `-`, `_`, `.`, `:`)")
    kw: dict[str, Any] = {}
    if "match" in d:
        _match(f, d["match"], kw)
    in_nodes: list[tuple[str, Node]] = []
    if "in" in d:
        in_nodes = f.strings(d["in"], "in")
        kw["environments"] = frozenset(t for t, _ in in_nodes)
    if "hours" in d:
        kw["hours"] = _hours(f, d["hours"])
    if "days" in d:
        days = set()
        for text, item in f.strings(d["days"], "days"):
            if text[:3].lower() not in _DAYS:
                raise f.error(
                    item, f"unknown day `{text}` (expected mon, tue, wed, thu, fri, sat, sun)"
                )
            days.add(_DAYS[text[:3].lower()])
        kw["days"] = frozenset(days)
    for key in ("users", "groups"):
        if key in d:
            kw[key] = frozenset(t for t, _ in f.strings(d[key], key))
    if "reason" in d:
        r = d["reason"]
        text = f.scalar(r, "reason")
        if text.lower() in ("true", "false", "yes", "no", "on", "off"):
            kw["reason"] = f.boolean(r, "reason")
        else:
            try:
                rx = re.compile(text)
            except re.error as e:
                raise f.error(
                    r, f"bad reason pattern (a regular expression the reason must match): {e}"
                ) from None
            if rx.groupindex or _BACKREF.search(text):
                raise f.error(
                    r,
                    "a reason pattern cannot name a group or refer back to one (`(?P<name>...)`, "
                    "`\\1`, `(?P=name)`): the patterns of every rule that matches a command are "
                    "joined into one",
                )
            kw["reason"], kw["reason_pattern"] = True, text
    if "delay" in d:
        kw["delay"] = f.number(d["delay"], "delay (seconds)")
    if "break_glass" in d:
        kw["break_glass"] = f.boolean(d["break_glass"], "break_glass")
    for key in ("message", "description"):
        if key in d:
            kw[key] = f.scalar(d[key], key)
    rule = Rule(id=rule_id, require=_requirement(f, d["require"]), origin=f.where(node), **kw)
    return RulePart(rule, node, in_nodes)
