"""Which environment does a target belong to? First matching environment wins.

Environments are ordered most dangerous first, so "first match" is "most
dangerous match". `except` patterns veto a match of the same field value
(`*preprod*` is not production). No match: the policy's unknown_environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from guardsh.model import Snapshot, Target
from guardsh.policy.schema import NAME_FIELDS, Environment, FieldMatch, Policy

_LOCAL_DB = frozenset({"localhost", "127.0.0.1", "::1", "local", ""})


@dataclass(frozen=True, slots=True)
class Evidence:
    environment: str
    field: str  # "hostname", "var:APP_ENV", "--as", "unknown_environment"
    value: str
    pattern: str


def _values(fm: FieldMatch, target: Target, snapshot: Snapshot) -> list[tuple[str, str]]:
    if fm.field == "names":
        return [(k, v) for k, v in target.fields if k in NAME_FIELDS]
    if fm.field.startswith("var:"):
        name = fm.field[4:]
        value = snapshot.variables.get(name)
        return [(fm.field, value)] if value is not None else []
    if fm.field == "cwd":
        return [("cwd", snapshot.cwd)]
    v = target.get(fm.field)
    return [(fm.field, v)] if v is not None else []


def _excluded(env: Environment, field: str, value: str) -> bool:
    for ex in env.exclude:
        applies = ex.field == field or (ex.field == "names" and field in NAME_FIELDS)
        if applies and any(p.match(value) for p in ex.patterns):
            return True
    return False


def match_env(env: Environment, target: Target, snapshot: Snapshot) -> Evidence | None:
    for fm in env.match:
        for field, value in _values(fm, target, snapshot):
            for p in fm.patterns:
                if p.match(value) and not _excluded(env, field, value):
                    return Evidence(env.name, field, value, p.text)
    return None


def classify(target: Target, snapshot: Snapshot, policy: Policy) -> Evidence:
    """The environment of one target, with the evidence that chose it."""
    if snapshot.as_env:
        return Evidence(snapshot.as_env, "--as", snapshot.as_env, "")
    found = None
    for env in policy.environments:
        found = match_env(env, target, snapshot)
        if found is not None:
            break
    if target.kind == "db" and (target.get("db_host") or "") in _LOCAL_DB:
        # a local socket or localhost is as dangerous as the machine it is on
        host = classify(
            Target("local", (("hostname", target.get("hostname") or snapshot.hostname),)),
            snapshot,
            policy,
        )
        if host.field != "unknown_environment" and (
            found is None or policy.rank(host.environment) < policy.rank(found.environment)
        ):
            found = host
    if found is None:
        return Evidence(policy.unknown_environment, "unknown_environment", "", "")
    return found
