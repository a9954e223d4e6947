"""`guardsh env [--json]`: which environment(s) this session touches, and why.

The local host, the current kube context, the database and cloud variables in
the environment: each is classified by the policy in effect, with the
evidence (the field, its value, the pattern and the policy line that
matched; where the value came from: a file or a variable).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import click

from guardsh.errors import PolicyError
from guardsh.exitcodes import Exit
from guardsh.model import Snapshot, Target
from guardsh.policy.locate import Evidence, classify
from guardsh.policy.schema import Policy

# variables that name a database, and the engine their URL defaults to
DB_URL_VARS = (
    "DATABASE_URL",
    "DB_URL",
    "POSTGRES_URL",
    "POSTGRESQL_URL",
    "PG_URL",
    "MYSQL_URL",
    "REDIS_URL",
    "MONGO_URL",
    "MONGODB_URI",
    "MONGO_URI",
    "CLICKHOUSE_URL",
)
PG_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
MYSQL_VARS = {
    "MYSQL_HOST": "host",
    "MYSQL_TCP_PORT": "port",
    "MYSQL_DATABASE": "dbname",
    "MYSQL_USER": "user",
}
CLOUD_VARS = {
    "AWS_PROFILE": "aws_profile",
    "AWS_DEFAULT_PROFILE": "aws_profile",
    "AWS_REGION": "aws_region",
    "CLOUDSDK_CORE_PROJECT": "gcp_project",
    "GOOGLE_CLOUD_PROJECT": "gcp_project",
    "TF_WORKSPACE": "terraform_workspace",
    "ARM_SUBSCRIPTION_ID": "azure_subscription",
}


@dataclass(frozen=True, slots=True)
class Seen:
    """One thing the session would touch, where we learned of it, its environment."""

    what: str  # "local host", "kube context", "database", "cloud"
    source: str  # "hostname", "variable DATABASE_URL", "kubeconfig ~/.kube/config"
    target: Target
    evidence: Evidence


def _url_target(url: str) -> Target | None:
    """A db Target from a URL the SQL parser does not know (redis, mongodb)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    engine = parts.scheme.split("+", 1)[0].lower()
    engine = {"rediss": "redis", "mongodb": "mongodb"}.get(engine, engine)
    name = unquote(parts.path.lstrip("/")) or None
    shown = f"{engine}://{parts.hostname}{':' + str(port) if port else ''}/{name or ''}"
    return Target("db").with_fields(
        db_engine=engine,
        db_host=parts.hostname,
        db_port=str(port) if port else None,
        db_name=name,
        db_url=shown,
    )


def db_targets(env: Mapping[str, str], machine: Target) -> list[tuple[str, Target]]:
    """(source, target) for every database the variables name."""
    from guardsh.parse import dburl

    out: list[tuple[str, Target]] = []
    names = [v for v in DB_URL_VARS if env.get(v)]
    names += sorted(k for k in env if k.endswith(("_DATABASE_URL", "_DB_URL")) and k not in names)
    for var in names:
        value = env[var]
        params = dburl.parse_url(value) if dburl.is_url(value) else None
        if params is not None:
            target = dburl.db_target(params.get("engine", "postgresql"), params, machine)
        else:
            target = _url_target(value) or Target("db", (("db_url", "(unparsed)"),))
        out.append((f"variable {var}", target))
    pg = {k: env[k] for k in PG_VARS if env.get(k)}
    if pg:
        params = dburl.env_params(env.get)
        out.append((f"variables {', '.join(pg)}", dburl.db_target("postgresql", params, machine)))
    my = {k: env[k] for k in MYSQL_VARS if env.get(k)}
    if "MYSQL_HOST" in my:
        params = {MYSQL_VARS[k]: v for k, v in my.items()}
        out.append((f"variables {', '.join(my)}", dburl.db_target("mysql", params, machine)))
    return out


def survey(snap: Snapshot, policy: Policy, hostname_given: bool = False) -> list[Seen]:
    """Everything the session would touch, classified."""
    from guardsh.facts import gather
    from guardsh.facts.kubeconfig import load_from_environ
    from guardsh.unwrap import targets

    facts = gather.facts(snap)
    env = snap.variables
    local = targets.local(snap)
    seen = [
        Seen(
            "local host",
            "--hostname" if hostname_given else "the system host name",
            local,
            classify(local, snap, policy),
        )
    ]
    if snap.kube_context or facts.kube_current:
        kube = targets.kube(snap, facts)
        if snap.kube_context:
            src = "--kube-context"
        else:
            files = load_from_environ(env, snap.home).files
            src = "current-context in " + (", ".join(files) or "kubeconfig")
        seen.append(Seen("kube context", src, kube, classify(kube, snap, policy)))
    for src, t in db_targets(env, local):
        seen.append(Seen("database", src, t, classify(t, snap, policy)))
    cloud = [(k, f) for k, f in CLOUD_VARS.items() if env.get(k)]
    for var, fld in cloud:
        t = Target("cloud", ((fld, env[var]),))
        seen.append(Seen("cloud", f"variable {var}", t, classify(t, snap, policy)))
    return seen


def _because(ev: Evidence) -> str:
    if ev.field == "unknown_environment":
        return "nothing matched: the policy's unknown_environment"
    if ev.field == "--as":
        return "--as"
    return f"{ev.field} `{ev.value}` matches `{ev.pattern}`" + (
        f" ({ev.origin})" if ev.origin else ""
    )


def as_json(seen: list[Seen], policy: Policy, overall: str) -> dict[str, Any]:
    return {
        "environment": overall,
        "protected": policy.protected(overall),
        "targets": [
            {
                "what": s.what,
                "source": s.source,
                "label": s.target.label(),
                "target": s.target.as_json(),
                "environment": s.evidence.environment,
                "protected": policy.protected(s.evidence.environment),
                "evidence": {
                    "field": s.evidence.field,
                    "value": s.evidence.value,
                    "pattern": s.evidence.pattern,
                    "origin": s.evidence.origin,
                },
            }
            for s in seen
        ],
        "policy": {
            "sources": list(policy.sources),
            "sha256": policy.sha256,
            "errors": list(policy.errors),
            "warnings": list(policy.warnings),
        },
    }


@click.command("env")
@click.option("--json", "json_out", is_flag=True, help="Print JSON.")
@click.option("--hostname", metavar="H", help="The local host's name.")
@click.option("--kube-context", metavar="C", help="The current kube context.")
@click.option(
    "--policy", "policies", multiple=True, metavar="FILE", help="Policy file (repeatable)."
)
def env(
    json_out: bool, hostname: str | None, kube_context: str | None, policies: tuple[str, ...]
) -> None:
    """Show the detected environment(s) and the evidence for each."""
    from guardsh.facts import gather
    from guardsh.policy.layers import effective

    try:
        policy = effective(policies)
    except PolicyError as e:
        click.echo(f"guardsh: policy error: {e}", err=True)
        sys.exit(Exit.USAGE)
    snap = gather.snapshot(variables=dict(os.environ), hostname=hostname, kube_context=kube_context)
    seen = survey(snap, policy, hostname_given=bool(hostname))
    overall = min((s.evidence.environment for s in seen), key=policy.rank)
    if json_out:
        click.echo(json.dumps(as_json(seen, policy, overall), indent=2))
        return
    env_ = policy.environment(overall)
    prot = "protected" if policy.protected(overall) else "not protected"
    click.echo(f"environment: {overall} ({prot}{', ' + env_.color if env_ else ''})")
    for s in seen:
        click.echo(f"  {s.what:<12} {s.target.label():<32} {s.evidence.environment}")
        click.echo(f"  {'':<12} from {s.source}; {_because(s.evidence)}")
    for err in policy.errors:
        click.echo(f"error: the policy is broken, guardsh fails closed: {err.splitlines()[0]}")
    for w in policy.warnings:
        click.echo(f"warning: {w.splitlines()[0]}")
