"""Renamed and removed policy keys: migration messages instead of bare errors.

When a file uses an old or a near-miss name, the error says what to write
instead. The tables are data; `unknown_key` and `unknown_word` format them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# old key -> what to write now (same place unless the text says otherwise)
RENAMED: dict[str, str] = {
    "requires": "require",
    "required": "require",
    "level": "require",
    "env": "in",
    "envs": "in",
    "environment": "in",
    "matchers": "match",
    "matches": "match",
    "exclude": "except",
    "excludes": "except",
    "exclusions": "except",
    "protect": "protected",
    "colour": "color",
    "ticket": "reason",
    "why": "reason",
    "cooldown": "delay",
    "countdown": "delay",
    "wait": "delay",
    "breakglass": "break_glass",
    "break-glass": "break_glass",
    "schedule": "hours",
    "time": "hours",
    "weekdays": "days",
    "default_environment": "unknown_environment",
    "unknown": "unknown_environment",
    "include": "extends",
    "inherit": "extends",
    "import": "extends",
    "test": "tests",
    "policy_tests": "tests",
    "user-layer": "user_layer",
    "allow-overrides": "allow_overrides",
    "team-files": "team_files",
    "kubecontext": "kube_context",
    "kube-context": "kube_context",
    "context": "kube_context",
    "host": "hostname",
    "hostnames": "hostname",
}

# keys that moved somewhere else, per the place they were found
MOVED: dict[tuple[str, str], str] = {
    ("a rule", "actions"): "match: {actions: [...]}",
    ("a rule", "action"): "match: {actions: [...]}",
    ("a rule", "severity"): "match: {severity: ...}",
    ("a rule", "tags"): "match: {tags: [...]}",
    ("a rule", "objects"): "match: {objects: [...]}",
    ("a rule", "programs"): "match: {programs: [...]}",
    ("a rule", "confirm"): "require: confirm",
    ("a rule", "deny"): "require: deny",
    ("a rule", "environments"): "in",
    ("an environment", "hosts"): "match: {hostname: [...]}",
    ("an environment", "hostname"): "match: {hostname: [...]}",
    ("an environment", "names"): "match: {names: [...]}",
    ("an environment", "patterns"): "match: {names: [...]}",
    ("the policy file", "user_layer"): "settings: {user_layer: ...}",
    ("the policy file", "allow_overrides"): "settings: {allow_overrides: ...}",
    ("the policy file", "allow_user_override"): "settings: {user_layer: loosen|tighten|ignore}",
    ("the policy file", "environment"): "environments",
    ("settings", "allow_user_override"): "user_layer: loosen|tighten|ignore",
    ("settings", "user_override"): "user_layer: loosen|tighten|ignore",
}

REQUIREMENT_SYNONYMS: dict[str, str] = {
    "block": "deny",
    "forbid": "deny",
    "refuse": "deny",
    "reject": "deny",
    "never": "deny",
    "ask": "confirm",
    "prompt": "confirm",
    "yes": "confirm",
    "dryrun": "dry-run",
    "plan": "dry-run",
    "preview": "dry-run",
    "typed": "type",
    "type-name": "type",
    "type_name": "type",
    "retype": "type",
    "none": "allow",
    "ok": "allow",
    "pass": "allow",
    "permit": "allow",
    "warning": "warn",
    "notice": "warn",
    "notify": "warn",
}


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelled word, if one is close enough."""
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.75)
    return found[0] if found else None


def unknown_key(key: str, allowed: Iterable[str], what: str) -> str:
    allowed = sorted(allowed)
    expected = f"(expected one of: {', '.join(allowed)})"
    moved = MOVED.get((what, key))
    if moved is not None:
        return f"unknown key `{key}` in {what}; write `{moved}` instead {expected}"
    new = RENAMED.get(key)
    if new is not None and new in allowed:
        old = f"(`{key}` is an old name)"
        return f"unknown key `{key}` in {what}; did you mean `{new}`? {old} {expected}"
    near = suggest(key, allowed)
    if near is not None:
        return f"unknown key `{key}` in {what}; did you mean `{near}`? {expected}"
    return f"unknown key `{key}` in {what} {expected}"


def unknown_word(kind: str, word: str, choices: Iterable[str], expected: str) -> str:
    """`unknown action `x`; did you mean `y`? (expected ...)`."""
    near = suggest(word, choices)
    hint = f"; did you mean `{near}`?" if near else ""
    return f"unknown {kind} `{word}`{hint} ({expected})"
