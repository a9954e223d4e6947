"""Which environment does a target belong to? First matching environment wins.

Environments are ordered most dangerous first, so "first match" is "most
dangerous match". `except` patterns veto a match of the same field value
(`*preprod*` is not production). No match: the policy's unknown_environment.

Some fields are read in more than one form: `hostname` also as its short
name (`db-1` of `db-1.prod.example.com`; the snapshot holds the FQDN when
facts.host found one for a short node name), and `ssh_host` also as the HostName
that `~/.ssh/config` resolves the alias to (the target's `ssh_hostname`),
and `db_url` also as the URL as typed (`db_url_typed`; see parse.dburl).
"""

from __future__ import annotations

from dataclasses import dataclass

from guardsh.model import Snapshot, Target
from guardsh.policy.schema import NAME_FIELDS, Environment, FieldMatch, Policy

_LOCAL_DB = frozenset({"localhost", "127.0.0.1", "::1", "local", ""})
# matcher field -> the target fields it also reads
_ALSO = {"ssh_host": ("ssh_hostname",), "db_url": ("db_url_typed",)}


@dataclass(frozen=True, slots=True)
class Evidence:
    environment: str
    field: str  # "hostname", "var:APP_ENV", "--as", "unknown_environment"
    value: str
    pattern: str
    origin: str = ""  # file:line of the matcher (or the environment)


def _short(value: str) -> str | None:
    """`db-1` for `db-1.prod.example.com`; None for IPs and single labels."""
    head, dot, _ = value.partition(".")
    if not dot or not head or value.replace(".", "").isdigit() or ":" in value:
        return None
    return head


def _values(fm: FieldMatch, target: Target, snapshot: Snapshot) -> list[tuple[str, str]]:
    f = fm.field
    if f == "names":
        out = []
        for k, v in target.fields:
            if k in NAME_FIELDS:
                out.append((k, v))
                if k == "hostname" and (s := _short(v)):
                    out.append((k, s))
        return out
    if f.startswith("var:"):
        value = snapshot.variables.get(f[4:])
        return [(f, value)] if value is not None else []
    if f == "cwd":
        return [("cwd", snapshot.cwd)]
    out = [(f, v) for k, v in target.fields if k == f]
    for other in _ALSO.get(f, ()):
        out.extend((other, v) for k, v in target.fields if k == other)
    if f == "hostname":
        out.extend((f, s) for _, v in list(out) if (s := _short(v)))
    return out


def _covers(ex_field: str, field: str) -> bool:
    return (
        ex_field == field
        or (ex_field == "names" and field in NAME_FIELDS)
        or field in _ALSO.get(ex_field, ())
    )


def excluded_by(env: Environment, field: str, value: str) -> str | None:
    """The `except` pattern that vetoes this value for env (None: none does)."""
    for ex in env.exclude:
        if _covers(ex.field, field):
            for p in ex.patterns:
                if p.match(value):
                    return p.text
    return None


def match_env(env: Environment, target: Target, snapshot: Snapshot) -> Evidence | None:
    for fm in env.match:
        for field, value in _values(fm, target, snapshot):
            for p in fm.patterns:
                if p.match(value) and excluded_by(env, field, value) is None:
                    return Evidence(env.name, field, value, p.text, fm.origin or env.origin)
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
        # A local socket or localhost is as dangerous as the machine it is on,
        # and an unknown machine counts as unknown_environment: `localhost`
        # alone never makes a database on an unclassified server development.
        machine = tuple((k, v) for k, v in target.fields if not k.startswith("db_"))
        if not machine:
            machine = (("hostname", snapshot.hostname),)
        host = classify(Target("machine", machine), snapshot, policy)
        if found is None or policy.rank(host.environment) < policy.rank(found.environment):
            found = Evidence(
                host.environment, f"local host {host.field}", host.value, host.pattern, host.origin
            )
    if found is None:
        return Evidence(policy.unknown_environment, "unknown_environment", "", "")
    return found


@dataclass(frozen=True, slots=True)
class Miss:
    """Why one environment did not take a target (for `policy explain`)."""

    environment: str
    text: str


def misses(target: Target, snapshot: Snapshot, policy: Policy, until: str | None) -> list[Miss]:
    """For each environment more dangerous than `until` (all, if None): why
    it did not match. An exclusion that vetoed a match is named."""
    out = []
    for env in policy.environments:
        if env.name == until:
            break
        vetoed = []
        seen = []
        for fm in env.match:
            for field, value in _values(fm, target, snapshot):
                seen.append(f"{field}={value}")
                for p in fm.patterns:
                    if p.match(value):
                        ex = excluded_by(env, field, value)
                        vetoed.append(
                            f"{field} `{value}` matched `{p.text}` but `except` has `{ex}`"
                        )
        if vetoed:
            out.append(Miss(env.name, "; ".join(dict.fromkeys(vetoed))))
        elif seen:
            pats = ", ".join(
                f"{fm.field}: {' '.join(p.text for p in fm.patterns)}" for fm in env.match
            )
            out.append(Miss(env.name, f"none of {', '.join(dict.fromkeys(seen))} matches ({pats})"))
        else:
            out.append(
                Miss(
                    env.name,
                    "the target has none of the fields it matches on "
                    f"({', '.join(fm.field for fm in env.match) or 'no matchers'})",
                )
            )
    return out
