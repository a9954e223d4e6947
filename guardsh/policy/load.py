"""Policy YAML -> `Policy`, with errors that point at the text.

Every error names `file:line:col`, shows the line with carets, and says what
was expected. Files are composed into YAML nodes (which keep their marks) and
converted by hand, so a wrong key or type is reported where it was written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import yaml

from guardsh.analyze.actions import ACTIONS
from guardsh.errors import PolicyError
from guardsh.model import Requirement, Severity
from guardsh.policy.schema import (
    MATCH_FIELDS,
    Environment,
    FieldMatch,
    Hours,
    Pattern,
    Policy,
    Rule,
    Settings,
)

_TOP = {"version", "unknown_environment", "environments", "rules", "tests", "settings", "extends"}
_ENV_KEYS = {"name", "color", "protected", "match", "except", "description"}
_RULE_KEYS = {
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
_MATCH_KEYS = {"actions", "action", "tags", "severity", "objects", "object", "programs"}
_SETTINGS = {"user_layer", "allow_overrides", "audit_required", "dry_run_timeout", "team_files"}
_DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_COLORS = {"red", "yellow", "green", "blue", "magenta", "cyan", "white", "default", "orange"}
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(?:\s+(\S+))?$")
_RENAMED = {"environment": "in", "requires": "require", "action": "actions", "env": "in"}

Node = yaml.Node


class _File:
    """One policy file being converted; knows its text for error carets."""

    def __init__(self, name: str, text: str):
        self.name = name
        self.lines = text.splitlines()

    def error(self, node: Node | yaml.Mark | None, message: str) -> PolicyError:
        mark = node.start_mark if isinstance(node, Node) else node
        if mark is None:
            return PolicyError(f"{self.name}: {message}")
        line, col = mark.line, mark.column
        text = self.lines[line] if line < len(self.lines) else ""
        width = 1
        if isinstance(node, yaml.ScalarNode) and node.end_mark.line == line:
            width = max(1, node.end_mark.column - col)
        return PolicyError(
            f"{self.name}:{line + 1}:{col + 1}: {message}\n  {text}\n  {' ' * col}{'^' * width}"
        )

    # -- typed accessors ---------------------------------------------------

    def mapping(self, node: Node, what: str) -> list[tuple[yaml.ScalarNode, Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"expected a mapping for {what}")
        return node.value  # type: ignore[no-any-return]

    def keys(self, node: Node, allowed: set[str], what: str) -> dict[str, Node]:
        out: dict[str, Node] = {}
        for k, v in self.mapping(node, what):
            key = str(k.value)
            if key not in allowed:
                hint = f"; did you mean `{_RENAMED[key]}`?" if key in _RENAMED else ""
                expected = ", ".join(sorted(allowed))
                raise self.error(
                    k, f"unknown key `{key}` in {what}{hint} (expected one of: {expected})"
                )
            out[key] = v
        return out

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, f"expected a single value for {what}")
        return str(node.value)

    def strings(self, node: Node, what: str) -> list[tuple[str, Node]]:
        if isinstance(node, yaml.ScalarNode):
            return [(str(node.value), node)]
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"expected a string or a list of strings for {what}")
        return [(self.scalar(item, what), item) for item in node.value]

    def boolean(self, node: Node, what: str) -> bool:
        v = self.scalar(node, what).lower()
        if v in ("true", "yes", "on"):
            return True
        if v in ("false", "no", "off"):
            return False
        raise self.error(node, f"expected true or false for {what}")

    def number(self, node: Node, what: str, conv: Callable[[str], Any] = int) -> Any:
        v = self.scalar(node, what)
        try:
            n = conv(v)
        except ValueError:
            raise self.error(node, f"expected a number for {what}") from None
        if n < 0:
            raise self.error(node, f"expected a number >= 0 for {what}")
        return n

    def patterns(self, node: Node, what: str) -> tuple[Pattern, ...]:
        out = []
        for text, item in self.strings(node, what):
            try:
                out.append(Pattern.compile(text))
            except re.error as e:
                raise self.error(item, f"bad regular expression in {what}: {e}") from None
        return tuple(out)


def _matchers(f: _File, node: Node, what: str) -> tuple[FieldMatch, ...]:
    out = []
    for k, v in f.mapping(node, what):
        key = str(k.value)
        if key == "var":
            for vk, vv in f.mapping(v, "var"):
                out.append(FieldMatch(f"var:{vk.value}", f.patterns(vv, f"var {vk.value}")))
            continue
        if key not in MATCH_FIELDS:
            expected = ", ".join(sorted(MATCH_FIELDS))
            raise f.error(k, f"unknown matcher `{key}` in {what} (expected one of: {expected})")
        out.append(FieldMatch(key, f.patterns(v, f"{what} {key}")))
    return tuple(out)


def _environment(f: _File, node: Node) -> Environment:
    d = f.keys(node, _ENV_KEYS, "an environment")
    if "name" not in d:
        raise f.error(node, "an environment needs a `name`")
    color = f.scalar(d["color"], "color") if "color" in d else "default"
    if color not in _COLORS and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise f.error(
            d["color"],
            f"unknown color `{color}` (expected one of: {', '.join(sorted(_COLORS))} or #rrggbb)",
        )
    return Environment(
        name=f.scalar(d["name"], "name"),
        color=color,
        protected=f.boolean(d["protected"], "protected") if "protected" in d else False,
        match=_matchers(f, d["match"], "match") if "match" in d else (),
        exclude=_matchers(f, d["except"], "except") if "except" in d else (),
        origin=f"{f.name}:{node.start_mark.line + 1}",
    )


def _hours(f: _File, node: Node) -> tuple[Hours, ...]:
    out = []
    for text, item in f.strings(node, "hours"):
        m = _HOURS.match(text.strip())
        if not m:
            raise f.error(
                item, "expected hours as HH:MM-HH:MM [Timezone], e.g. 00:00-06:00 Europe/Berlin"
            )
        h1, m1, h2, m2 = (int(m.group(i)) for i in range(1, 5))
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
            raise f.error(item, f"impossible hour range `{text}`")
        tz = m.group(5)
        if tz is not None:
            try:
                from zoneinfo import ZoneInfo

                ZoneInfo(tz)
            except Exception:
                raise f.error(item, f"unknown time zone `{tz}`") from None
        out.append(Hours(h1 * 60 + m1, h2 * 60 + m2, tz))
    return tuple(out)


def _rule(f: _File, node: Node, envs: set[str]) -> Rule:
    d = f.keys(node, _RULE_KEYS, "a rule")
    for key in ("id", "require"):
        if key not in d:
            raise f.error(node, f"a rule needs `{key}`")
    req_text = f.scalar(d["require"], "require")
    try:
        require = Requirement.parse(req_text)
    except KeyError:
        raise f.error(
            d["require"],
            f"unknown requirement `{req_text}` "
            "(expected one of: allow, warn, confirm, type, dry-run, deny)",
        ) from None
    kw: dict[str, Any] = {}
    if "match" in d:
        m = f.keys(d["match"], _MATCH_KEYS, "match")
        for key in ("actions", "action"):
            if key in m:
                for text, item in f.strings(m[key], "actions"):
                    if not any(
                        Pattern.compile(text).match(a) for a in ACTIONS
                    ) and not text.startswith("re:"):
                        raise f.error(
                            item, f"unknown action `{text}` (see `guardsh policy actions`)"
                        )
                kw["actions"] = f.patterns(m[key], "actions")
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
    if "in" in d:
        names = set()
        for text, item in f.strings(d["in"], "in"):
            if envs and text not in envs:
                raise f.error(
                    item, f"unknown environment `{text}` (defined: {', '.join(sorted(envs))})"
                )
            names.add(text)
        kw["environments"] = frozenset(names)
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
        if text.lower() in ("true", "false", "yes", "no"):
            kw["reason"] = f.boolean(r, "reason")
        else:
            try:
                re.compile(text)
            except re.error as e:
                raise f.error(r, f"bad reason pattern: {e}") from None
            kw["reason"], kw["reason_pattern"] = True, text
    if "delay" in d:
        kw["delay"] = f.number(d["delay"], "delay")
    if "break_glass" in d:
        kw["break_glass"] = f.boolean(d["break_glass"], "break_glass")
    if "message" in d:
        kw["message"] = f.scalar(d["message"], "message")
    return Rule(
        id=f.scalar(d["id"], "id"),
        require=require,
        origin=f"{f.name}:{node.start_mark.line + 1}",
        **kw,
    )


def _compose(name: str, text: str) -> tuple[_File, Node | None]:
    f = _File(name, text)
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        raise f.error(e.problem_mark, f"YAML syntax error: {e.problem}") from None
    return f, node


def parse_layer(name: str, text: str, known_envs: set[str]) -> dict[str, Any]:
    """One file -> its parts (environments, rules, tests, settings)."""
    f, root = _compose(name, text)
    if root is None:
        return {}
    d = f.keys(root, _TOP, "the policy file")
    out: dict[str, Any] = {}
    if "environments" in d:
        node = d["environments"]
        if not isinstance(node, yaml.SequenceNode):
            raise f.error(node, "expected a list of environments, most dangerous first")
        out["environments"] = [_environment(f, item) for item in node.value]
    envs = known_envs | {e.name for e in out.get("environments", [])}
    if "unknown_environment" in d:
        name_ = f.scalar(d["unknown_environment"], "unknown_environment")
        if name_ not in envs:
            raise f.error(
                d["unknown_environment"],
                f"unknown environment `{name_}` (defined: {', '.join(sorted(envs))})",
            )
        out["unknown_environment"] = name_
    if "rules" in d:
        node = d["rules"]
        if not isinstance(node, yaml.SequenceNode):
            raise f.error(node, "expected a list of rules")
        out["rules"] = [_rule(f, item, envs) for item in node.value]
    if "tests" in d:
        tests = yaml.safe_load(yaml.serialize(d["tests"]))  # plain data
        if not isinstance(tests, list):
            raise f.error(d["tests"], "expected a list of tests")
        for item, node in zip(tests, d["tests"].value, strict=False):
            if not isinstance(item, dict) or "cmd" not in item:
                raise f.error(node, "a test needs `cmd`")
            item["_origin"] = f"{name}:{node.start_mark.line + 1}"
        out["tests"] = tests
    if "settings" in d:
        s = f.keys(d["settings"], _SETTINGS, "settings")
        kw: dict[str, Any] = {}
        if "user_layer" in s:
            mode = f.scalar(s["user_layer"], "user_layer")
            if mode not in ("loosen", "tighten", "ignore"):
                raise f.error(s["user_layer"], "expected loosen, tighten or ignore for user_layer")
            kw["user_layer"] = mode
        for key in ("allow_overrides", "audit_required"):
            if key in s:
                kw[key] = f.boolean(s[key], key)
        if "dry_run_timeout" in s:
            kw["dry_run_timeout"] = f.number(s["dry_run_timeout"], "dry_run_timeout", float)
        out["settings"] = kw
    return out


def merge(layers: Sequence[tuple[str, str]]) -> Policy:
    """Merge (name, text) layers in order; later layers refine earlier ones."""
    envs: list[Environment] = []
    rules: dict[str, Rule] = {}
    tests: list[dict[str, Any]] = []
    unknown = "staging"
    settings: dict[str, Any] = {}
    digest = hashlib.sha256()
    for name, text in layers:
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
        part = parse_layer(name, text, {e.name for e in envs})
        for env in part.get("environments", []):
            envs = _place(envs, env, [e.name for e in part["environments"]])
        for rule in part.get("rules", []):
            rules[rule.id] = rule
        tests.extend(part.get("tests", []))
        unknown = part.get("unknown_environment", unknown)
        settings.update(part.get("settings", {}))
    return Policy(
        environments=tuple(envs),
        rules=tuple(rules.values()),
        unknown_environment=unknown,
        settings=Settings(**settings),
        tests=tuple(tests),
        sha256=digest.hexdigest(),
        sources=tuple(n for n, _ in layers),
    )


def _place(envs: list[Environment], env: Environment, order: list[str]) -> list[Environment]:
    """Replace an environment by name, or insert it where the layer's order says."""
    names = [e.name for e in envs]
    if env.name in names:
        return [env if e.name == env.name else e for e in envs]
    after = order[order.index(env.name) + 1 :]
    for i, e in enumerate(envs):
        if e.name in after:
            return [*envs[:i], env, *envs[i:]]
    return [*envs, env]


def default_text() -> str:
    return resources.files("guardsh.policy").joinpath("default.yaml").read_text()
