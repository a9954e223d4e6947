"""One policy file's YAML -> its parts (environments, rules, tests, settings).

Every error names `file:line:col`, shows the line with carets, and says what
was expected. Cross-file checks (does `in:` name a defined environment, may
this layer loosen) happen in `merge`, which keeps the nodes for its errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from guardsh.policy import migrate
from guardsh.policy.rules import RulePart, check_timezone, parse_rule
from guardsh.policy.schema import (
    CLIENT_PROXY_MODES,
    MATCH_FIELDS,
    USER_LAYER_MODES,
    FieldMatch,
    Policy,
)
from guardsh.policy.yamlfile import Node, PolicyFile, compose, plain

_TOP = frozenset(
    {
        "version",
        "unknown_environment",
        "environments",
        "rules",
        "tests",
        "settings",
        "extends",
        "description",
    }
)
_ENV_KEYS = frozenset({"name", "color", "protected", "match", "except", "description"})
SETTINGS_KEYS = frozenset(
    {
        "user_layer",
        "allow_overrides",
        "audit_required",
        "dry_run_timeout",
        "team_files",
        "timezone",
        "analysis_server",
        "client_proxy",
    }
)
_COLORS = {"red", "yellow", "green", "blue", "magenta", "cyan", "white", "default", "orange"}
VERSIONS = ("1",)


@dataclass
class EnvPart:
    """An environment as one file states it: only the keys it wrote."""

    name: str
    node: Node
    keys: dict[str, Node]
    origin: str
    color: str | None = None
    protected: bool | None = None
    description: str | None = None
    match: tuple[FieldMatch, ...] | None = None
    exclude: tuple[FieldMatch, ...] | None = None


@dataclass
class Part:
    file: PolicyFile
    root: Node | None = None
    environments: list[EnvPart] = field(default_factory=list)
    unknown_environment: tuple[str, Node] | None = None
    rules: list[RulePart] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, tuple[Any, Node]] = field(default_factory=dict)
    extends: list[tuple[str, Node]] = field(default_factory=list)


def _matchers(f: PolicyFile, node: Node, what: str) -> tuple[FieldMatch, ...]:
    out = []
    for k, v in f.mapping(node, what):
        key = str(k.value)
        where = f.where(k)
        if key == "var":
            for vk, vv in f.mapping(v, "var (variable name: patterns)"):
                out.append(FieldMatch(f"var:{vk.value}", f.patterns(vv, f"var {vk.value}"), where))
            continue
        if key not in MATCH_FIELDS:
            raise f.error(
                k,
                migrate.unknown_word(
                    "matcher",
                    key,
                    MATCH_FIELDS,
                    "expected one of: " + ", ".join(sorted(MATCH_FIELDS)),
                ),
            )
        out.append(FieldMatch(key, f.patterns(v, f"{what} {key}"), where))
    return tuple(out)


def _environment(f: PolicyFile, node: Node) -> EnvPart:
    d = f.keys(node, _ENV_KEYS, "an environment")
    if "name" not in d:
        raise f.error(node, "an environment needs a `name`")
    env = EnvPart(f.scalar(d["name"], "name"), node, d, f.where(node))
    if "color" in d:
        color = f.scalar(d["color"], "color")
        if color not in _COLORS and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise f.error(
                d["color"],
                migrate.unknown_word(
                    "color",
                    color,
                    _COLORS,
                    f"expected one of: {', '.join(sorted(_COLORS))} or #rrggbb",
                ),
            )
        env.color = color
    if "protected" in d:
        env.protected = f.boolean(d["protected"], "protected")
    if "description" in d:
        env.description = f.scalar(d["description"], "description")
    if "match" in d:
        env.match = _matchers(f, d["match"], "match")
    if "except" in d:
        env.exclude = _matchers(f, d["except"], "except")
    return env


def _settings(f: PolicyFile, node: Node) -> dict[str, tuple[Any, Node]]:
    s = f.keys(node, SETTINGS_KEYS, "settings")
    out: dict[str, tuple[Any, Node]] = {}
    for key, v in s.items():
        value: Any
        if key == "user_layer":
            value = f.scalar(v, key)
            if value not in USER_LAYER_MODES:
                raise f.error(
                    v, f"unknown user_layer `{value}` (expected loosen, tighten or ignore)"
                )
        elif key == "client_proxy":
            value = f.scalar(v, key)
            if value not in CLIENT_PROXY_MODES:
                raise f.error(
                    v, f"unknown client_proxy `{value}` (expected protected, always or never)"
                )
        elif key in ("allow_overrides", "audit_required", "analysis_server"):
            value = f.boolean(v, key)
        elif key == "dry_run_timeout":
            value = f.number(v, key, float)
        elif key == "team_files":
            value = tuple(t for t, _ in f.strings(v, key))
        else:  # timezone
            value = f.scalar(v, key)
            check_timezone(f, v, value)
        out[key] = (value, v)
    return out


def _tests(f: PolicyFile, node: Node) -> list[dict[str, Any]]:
    from guardsh.cases import CONTEXT_KEYS, EXPECT_KEYS  # only when a file has tests

    allowed = CONTEXT_KEYS | {"expect", "name", "note"}
    out = []
    for item in f.sequence(node, "tests (each a mapping with `cmd` and `expect`)"):
        keys = f.keys(item, allowed, "a test")
        if "cmd" not in keys:
            raise f.error(item, "a test needs `cmd`: the command line as typed")
        f.scalar(keys["cmd"], "cmd")
        if "expect" in keys:
            f.keys(keys["expect"], EXPECT_KEYS, "expect")
        case = plain(item)
        case["_origin"] = f.where(item)
        out.append(case)
    return out


def parse_layer(name: str, text: str) -> Part:
    """One file -> its parts. Raises PolicyError pointing at the text."""
    f, root = compose(name, text)
    part = Part(f, root)
    if root is None:
        return part
    d = f.keys(root, _TOP, "the policy file")
    if "version" in d:
        v = f.scalar(d["version"], "version")
        if v not in VERSIONS:
            raise f.error(
                d["version"], f"unsupported policy version `{v}` (this guardsh reads version 1)"
            )
    if "extends" in d:
        part.extends = f.strings(d["extends"], "extends")
    if "environments" in d:
        items = f.sequence(d["environments"], "environments, most dangerous first")
        part.environments = [_environment(f, item) for item in items]
        seen: set[str] = set()
        for env in part.environments:
            if env.name in seen:
                raise f.error(
                    env.keys["name"], f"environment `{env.name}` is defined twice in this file"
                )
            seen.add(env.name)
    if "unknown_environment" in d:
        part.unknown_environment = (
            f.scalar(d["unknown_environment"], "unknown_environment"),
            d["unknown_environment"],
        )
    if "rules" in d:
        part.rules = [parse_rule(f, item) for item in f.sequence(d["rules"], "rules")]
        ids: set[str] = set()
        for rp in part.rules:
            if rp.rule.id in ids:
                raise f.error(rp.node, f"rule `{rp.rule.id}` is defined twice in this file")
            ids.add(rp.rule.id)
    if "settings" in d:
        part.settings = _settings(f, d["settings"])
    if "tests" in d:
        part.tests = _tests(f, d["tests"])
    return part


_HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_NAME = "<built-in default>"
BASELINES = ("default", "strict", "night-shift")


def default_path() -> str:
    return os.path.join(_HERE, "default.yaml")


def default_text() -> str:
    with open(default_path(), encoding="utf-8") as fh:
        return fh.read()


def baseline_path(name: str) -> str:
    return os.path.join(_HERE, f"baseline-{name}.yaml")


def baseline_text(name: str) -> str:
    with open(baseline_path(name), encoding="utf-8") as fh:
        return fh.read()


def merge(layers: Sequence[tuple[str, str]]) -> Policy:
    """Merge (name, text) layers in order; see `guardsh.policy.merge.merge`."""
    from guardsh.policy.merge import merge as _merge

    return _merge(layers)
