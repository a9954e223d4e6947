"""`guardsh policy check|test|explain|show|actions`: policies a team can trust.

check   validate files (or the layers in effect); exit 0, or 2 naming file:line
test    run the `tests:` blocks through guardsh.cases; exit 1 on any failure
explain why a command gets its environment and requirement, rule by rule
show    the merged policy in effect, each rule with the file and line it came from
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from guardsh.cli.where import Where, where_options
from guardsh.errors import PolicyError, UserError
from guardsh.exitcodes import Exit
from guardsh.policy import layers
from guardsh.policy.decide import Who
from guardsh.policy.schema import Environment, Policy, Rule


def _load_each(files: Sequence[str]) -> list[tuple[str, Policy | PolicyError]]:
    """Each FILE (or folder of files) as its own policy over the built-in default."""
    out: list[tuple[str, Policy | PolicyError]] = []
    for path in files:
        try:
            out.append((path, layers.effective([path], use_cache=False)))
        except PolicyError as e:
            out.append((path, e))
    return out


@click.group("policy")
def policy() -> None:
    """Check, test, explain and show policy files."""


# ------------------------------------------------------------------ check
@policy.command("check")
@click.argument("files", nargs=-1, type=click.Path())
def check_cmd(files: tuple[str, ...]) -> None:
    """Validate FILES (default: the layers in effect). Exit 0 or 2."""
    bad = False
    if files:
        for path, got in _load_each(files):
            if isinstance(got, PolicyError):
                click.echo(f"guardsh: policy error: {got}", err=True)
                bad = True
            else:
                click.echo(f"ok  {path}: {_summary(got, len(_own_tests(got, path)))}")
    else:
        pol, _ = layers.build(os.environ)
        for info in pol.layers:
            if info.status in ("ok", "ignored"):
                note = f" ({info.detail})" if info.detail else ""
                click.echo(f"{info.status:<7} {info.kind:<8} {info.name}{note}")
            else:
                bad = True
                click.echo(f"{info.status:<7} {info.kind:<8} {info.name}", err=True)
                click.echo(f"guardsh: policy error: {info.detail}", err=True)
        for w in pol.warnings:
            click.echo(f"warning: {w.splitlines()[0]}", err=True)
        if pol.errors:
            click.echo(
                "guardsh: a system or team layer is broken: guardsh fails closed "
                "(every destructive command in a protected environment asks)",
                err=True,
            )
        else:
            click.echo(
                f"policy in effect: {_summary(pol, len(pol.tests))}, sha256 {pol.sha256[:16]}"
            )
    sys.exit(Exit.USAGE if bad else Exit.OK)


def _summary(p: Policy, tests: int) -> str:
    return f"{len(p.environments)} environments, {len(p.rules)} rules, {tests} tests"


# ------------------------------------------------------------------ test
def _own_tests(p: Policy, path: str) -> list[dict[str, Any]]:
    """The tests a file (or folder) wrote."""
    prefix = os.path.join(path, "") if os.path.isdir(path) else path + ":"
    return [t for t in p.tests if str(t.get("_origin", "")).startswith(prefix)]


def _layer_tests(p: Policy) -> list[dict[str, Any]]:
    """With no FILE: every layer's tests, and the built-in ones (`<...>`: the
    default's, a baseline's) only while no layer changed what they test."""
    from guardsh.policy.load import DEFAULT_NAME, default_text
    from guardsh.policy.merge import Source, compile_layers

    def verdicts(q: Policy) -> tuple[object, ...]:  # what a test's outcome depends on
        return (q.environments, q.rules, q.unknown_environment, q.settings.timezone)

    mine = [t for t in p.tests if not str(t.get("_origin", "")).startswith("<")]
    builtin = [t for t in p.tests if str(t.get("_origin", "")).startswith("<")]
    base = compile_layers([Source(DEFAULT_NAME, default_text(), "builtin")])
    if builtin and verdicts(p) != verdicts(base):
        changers = [i.name for i in p.layers if i.kind != "builtin" and i.status == "ok"]
        click.echo(
            f"not run: {len(builtin)} tests of {DEFAULT_NAME}: they describe the default, "
            f"and {', '.join(changers)} {'change' if len(changers) > 1 else 'changes'} it"
        )
        return mine
    return builtin + mine


@policy.command("test")
@click.argument("files", nargs=-1, type=click.Path())
@click.option("-v", "--verbose", is_flag=True, help="Also list the tests that pass.")
def test_cmd(files: tuple[str, ...], verbose: bool) -> None:
    """Run the `tests:` of each FILE over the built-in default. Exit 0, 1 or 2.

    With no FILE: the tests of each layer in effect (system, team, user, or
    GUARDSH_POLICY files), all against the merged policy, since that is what
    runs. The built-in default's own tests run only while no layer changes
    its environments, rules, unknown environment or timezone: they describe
    the default, and a layer that tightens anything is meant to break them.
    A broken system or team layer exits 2.
    """
    from guardsh import cases

    runs: list[tuple[str | None, Policy | PolicyError]]
    runs = list(_load_each(files)) if files else [(None, layers.effective())]
    passed = failed = 0
    broken = False
    for path, got in runs:
        if isinstance(got, PolicyError):
            click.echo(f"guardsh: policy error: {got}", err=True)
            broken = True
            continue
        if path is None and got.errors:
            for err in got.errors:
                click.echo(f"guardsh: policy error: {err}", err=True)
            broken = True
            continue
        for w in got.warnings if path is None else ():
            click.echo(f"warning: {w.splitlines()[0]}", err=True)
        for case in _own_tests(got, path) if path is not None else _layer_tests(got):
            where = case.get("_origin", "?")
            problems = cases.run_and_check(case, got)
            if problems:
                failed += 1
                click.echo(f"FAIL {where}  {case['cmd']}")
                for p in problems:
                    click.echo(f"     {p}")
            else:
                passed += 1
                if verbose:
                    click.echo(f"ok   {where}  {case['cmd']}")
    total = passed + failed
    click.echo(f"{passed} passed, {failed} failed" + ("" if total else " (no tests found)"))
    if broken:
        sys.exit(Exit.USAGE)
    sys.exit(Exit.FAILURE if failed else Exit.OK)


# ------------------------------------------------------------------ explain
@policy.command("explain")
@where_options
@click.option("--time", "when", metavar="ISO", help="Explain as at this time (default: now).")
@click.option("--user", metavar="NAME", help="Explain for this user (default: you).")
@click.option(
    "--group", "groups", multiple=True, metavar="NAME", help="The user's groups (repeatable)."
)
@click.argument("command", nargs=-1)
def explain_cmd(
    where: Where,
    when: str | None,
    user: str | None,
    groups: tuple[str, ...],
    command: tuple[str, ...],
) -> None:
    """Why COMMAND gets its environment and requirement, rule by rule."""
    from guardsh import cases
    from guardsh.facts import gather
    from guardsh.facts.who import who as who_of
    from guardsh.pipeline import check
    from guardsh.policy import explain

    if not command:
        raise click.UsageError("give the command line, e.g. guardsh policy explain -- 'rm -rf /x'")
    pol = where.policy()
    snap = where.snapshot()
    facts = gather.facts(snap)
    try:
        clock = cases.clock_for({"time": when}) if when else dt.datetime.now().astimezone()
    except ValueError:
        raise click.UsageError(f"--time takes an ISO 8601 time, got {when!r}") from None
    who = who_of(user or snap.user)
    if groups:
        who = Who(who.user, frozenset(groups))
    line = command[0] if len(command) == 1 else " ".join(command)
    try:
        decision = check(line, snap, pol, clock, facts, who)
    except UserError as e:
        click.echo(f"guardsh: {e.show()}", err=True)
        sys.exit(Exit.USAGE)
    click.echo(explain.render(decision, pol, snap, clock, who))
    sys.exit(cases.exit_for(decision))


# ------------------------------------------------------------------ show
def _env_json(e: Environment) -> dict[str, Any]:
    return {
        "name": e.name,
        "color": e.color,
        "protected": e.protected,
        "origin": e.origin,
        "match": {m.field: [p.text for p in m.patterns] for m in e.match},
        "except": {m.field: [p.text for p in m.patterns] for m in e.exclude},
    }


def _rule_json(r: Rule) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if r.actions:
        match["actions"] = [p.text for p in r.actions]
    if r.severities:
        match["severity"] = sorted(str(s) for s in r.severities)
    if r.tags:
        match["tags"] = sorted(r.tags)
    if r.objects:
        match["objects"] = [p.text for p in r.objects]
    if r.programs:
        match["programs"] = [p.text for p in r.programs]
    out: dict[str, Any] = {
        "id": r.id,
        "origin": r.origin,
        "match": match,
        "in": sorted(r.environments),
        "require": str(r.require),
    }
    for key, value in (
        ("hours", [h.text for h in r.hours]),
        ("days", sorted(r.days)),
        ("users", sorted(r.users)),
        ("groups", sorted(r.groups)),
        ("reason", r.reason_pattern or r.reason),
        ("delay", r.delay),
        ("break_glass", r.break_glass),
        ("message", r.message),
    ):
        if value:
            out[key] = value
    return out


def policy_json(p: Policy) -> dict[str, Any]:
    s = p.settings
    return {
        "sha256": p.sha256,
        "layers": [
            {"name": i.name, "kind": i.kind, "status": i.status, "detail": i.detail}
            for i in p.layers
        ],
        "settings": {
            "user_layer": s.user_layer,
            "allow_overrides": s.allow_overrides,
            "audit_required": s.audit_required,
            "dry_run_timeout": s.dry_run_timeout,
            "team_files": list(s.team_files),
            "timezone": s.timezone,
        },
        "unknown_environment": p.unknown_environment,
        "environments": [_env_json(e) for e in p.environments],
        "rules": [_rule_json(r) for r in p.rules],
        "tests": len(p.tests),
        "errors": list(p.errors),
        "warnings": list(p.warnings),
    }


@policy.command("show")
@click.option(
    "--policy", "policies", multiple=True, metavar="FILE", help="Policy file (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the policy as JSON.")
def show_cmd(policies: tuple[str, ...], as_json: bool) -> None:
    """The merged policy in effect, each rule with the file and line it came from."""
    try:
        pol = layers.effective(policies)
    except PolicyError as e:
        click.echo(f"guardsh: policy error: {e}", err=True)
        sys.exit(Exit.USAGE)
    data = policy_json(pol)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    out = [f"policy sha256 {pol.sha256}", "layers:"]
    out += [f"  {i.kind:<8} {i.status:<7} {i.name}" for i in pol.layers]
    st = data["settings"]
    out.append(
        "settings: " + ", ".join(f"{k}={v}" for k, v in st.items() if v not in ((), [], None))
    )
    out.append(f"unknown environment: {pol.unknown_environment}")
    out.append("environments (most dangerous first):")
    for env in pol.environments:
        prot = "protected" if env.protected else "unprotected"
        out.append(f"  {env.name}  [{env.color}, {prot}]  {env.origin}")
        for label, fms in (("match", env.match), ("except", env.exclude)):
            for fm in fms:
                pats = " ".join(p.text for p in fm.patterns)
                out.append(f"    {label} {fm.field}: {pats}  ({fm.origin})")
    out.append("rules:")
    for r in data["rules"]:
        cond = (
            "; ".join(
                f"{k} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                for k, v in r["match"].items()
            )
            or "any finding"
        )
        where = f" in {', '.join(r['in'])}" if r["in"] else " in every environment"
        extra = "".join(
            f", {k}: {r[k]}"
            for k in ("hours", "days", "users", "groups", "reason", "delay", "break_glass")
            if k in r
        )
        out.append(f"  {r['id']}  {r['origin']}")
        out.append(f"    {cond}{where} -> {r['require']}{extra}")
        if "message" in r:
            out.append(f"    message: {r['message']}")
    for err in pol.errors:
        out.append(f"error (failing closed): {err}")
    for w in pol.warnings:
        out.append(f"warning: {w}")
    click.echo("\n".join(out))


# ------------------------------------------------------------------ actions
@policy.command("actions")
def actions_cmd() -> None:
    """The action names rules can match (globs such as `sql.*` work too)."""
    from guardsh.analyze.actions import ACTIONS

    width = max(map(len, ACTIONS))
    for name, doc in ACTIONS.items():
        click.echo(f"{name:<{width}}  {doc}")
