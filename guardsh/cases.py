"""YAML cases through the pipeline: our analyzer tests, a policy's `tests:`,
and `guardsh check --batch` input share one schema.

A case is a mapping: `cmd` (required); context keys `as`, `vars`, `aliases`,
`functions`, `cwd`, `hostname`, `user`, `groups`, `kube_context`, `kube`
(contexts), `files` (path -> content; the directories on those paths exist and
list their entries, and a path ending in `/` is a directory, empty unless other
paths lie under it), `procs` (pid -> process facts),
`ssh_hosts` (ssh alias -> HostName, as ~/.ssh/config says), `time` (ISO 8601;
without an offset it is UTC);
and `expect` with any of `findings` (partial matchers that must each match a
finding), `actions` (the exact set), `not_actions`, `require`, `environment`,
`rules`, `exit`.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from guardsh.errors import GuardshError, UserError
from guardsh.exitcodes import Exit
from guardsh.model import Decision, Facts, Finding, KubeContext, ProcInfo, Snapshot
from guardsh.pipeline import check
from guardsh.policy.decide import Who
from guardsh.policy.schema import Policy

CONTEXT_KEYS = frozenset(
    {
        "cmd",
        "as",
        "vars",
        "aliases",
        "functions",
        "cwd",
        "hostname",
        "user",
        "kube_context",
        "kube",
        "files",
        "procs",
        "time",
        "groups",
        "ssh_hosts",
    }
)
EXPECT_KEYS = frozenset(
    {"findings", "actions", "not_actions", "require", "environment", "rules", "exit"}
)
FINDING_KEYS = frozenset(
    {"action", "object", "severity", "tags", "target", "environment", "detail"}
)

Entry = tuple[str, bool, int]  # a directory entry: name, is a directory, size

DEFAULT_HOST = "host-1"  # matches no environment of the default policy
_EPOCH = dt.datetime(2026, 1, 14, 14, 0, tzinfo=dt.UTC)  # a Wednesday afternoon


def exit_for(decision: Decision) -> Exit:
    from guardsh.model import Requirement

    if decision.verdict.requirement == Requirement.DENY:
        return Exit.DENIED
    if decision.verdict.needs_user:
        return Exit.NEEDS_CONFIRMATION
    return Exit.OK


def _str_map(value: Any, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UserError(f"`{key}` must be a mapping of names to values")
    return {str(k): str(v) for k, v in value.items()}


def snapshot_for(case: Mapping[str, Any], base: Snapshot | None = None) -> Snapshot:
    """The snapshot a case describes, over `base` (or a neutral default)."""
    base = base or Snapshot(hostname=DEFAULT_HOST, cwd="/home/user", home="/home/user", user="user")
    variables = dict(base.variables)
    if "vars" in case:
        variables = _str_map(case["vars"], "vars")
    return Snapshot(
        variables=variables,
        aliases=_str_map(case["aliases"], "aliases") if "aliases" in case else base.aliases,
        functions=_str_map(case["functions"], "functions")
        if "functions" in case
        else base.functions,
        cwd=str(case.get("cwd", base.cwd)),
        hostname=str(case.get("hostname", base.hostname)),
        user=str(case.get("user", base.user)),
        home=variables.get("HOME", base.home),
        as_env=str(case["as"]) if case.get("as") else base.as_env,
        kube_context=str(case["kube_context"]) if case.get("kube_context") else base.kube_context,
    )


def facts_for(case: Mapping[str, Any], base: Facts | None = None) -> Facts:
    """Facts from a case: files, processes and kube contexts given inline."""
    base = base or Facts()
    files = _str_map(case.get("files"), "files")
    read = base.read_file
    if files:

        def read(path: str, _files: dict[str, str] = files) -> str | None:
            return _files.get(path)

    proc = base.proc
    if case.get("procs"):
        procs = {
            int(pid): ProcInfo(
                pid=int(pid),
                name=str(p.get("name", "")),
                cmdline=str(p.get("cmdline", "")),
                user=p.get("user"),
                role=p.get("role"),
                tags=frozenset(p.get("tags", ())),
                detail=str(p.get("detail", "")),
            )
            for pid, p in dict(case["procs"]).items()
        }
        proc = procs.get

    kube, current = base.kube, base.kube_current
    if case.get("kube"):
        k = dict(case["kube"])
        kube = {
            name: KubeContext(name=name, **{key: str(v) for key, v in dict(c or {}).items()})
            for name, c in dict(k.get("contexts", {})).items()
        }
        current = k.get("current", current)
    extra = base.extra
    if files:
        extra = {**extra, "list_dir": _lister(files)}
    if case.get("ssh_hosts"):
        extra = {**extra, "ssh_hosts": _str_map(case["ssh_hosts"], "ssh_hosts")}
    return Facts(read_file=read, proc=proc, kube=kube, kube_current=current, extra=extra)


def _lister(files: Mapping[str, str]) -> Callable[[str], tuple[Entry, ...] | None]:
    """`Facts.extra["list_dir"]` over a case's `files`: the directories their paths imply."""
    dirs: dict[str, dict[str, tuple[bool, int]]] = {}
    for key, text in files.items():
        path = posixpath.normpath(key)
        is_dir = key.endswith("/")
        if is_dir:
            dirs.setdefault(path, {})
        size = 0 if is_dir else len(text.encode())
        while path not in ("/", ".", ""):
            parent, name = posixpath.split(path)
            dirs.setdefault(parent, {}).setdefault(name, (is_dir, size))
            path, is_dir, size = parent, True, 0

    def list_dir(path: str) -> tuple[Entry, ...] | None:
        entries = dirs.get(posixpath.normpath(path))
        if entries is None:
            return None
        return tuple(sorted((name, d, size) for name, (d, size) in entries.items()))

    return list_dir


def clock_for(case: Mapping[str, Any]) -> dt.datetime:
    if "time" not in case:
        return _EPOCH
    when = dt.datetime.fromisoformat(str(case["time"]))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def run(
    case: Mapping[str, Any],
    policy: Policy,
    snapshot: Snapshot | None = None,
    facts: Facts | None = None,
) -> Decision:
    unknown = set(case) - CONTEXT_KEYS - {"expect", "name", "_origin", "note"}
    if unknown:
        raise UserError(f"unknown case keys: {', '.join(sorted(unknown))}")
    if not isinstance(case.get("cmd"), str):
        raise UserError("a case needs `cmd`: the command line as a string")
    snap = snapshot_for(case, snapshot)
    groups = frozenset(str(g) for g in case.get("groups", ()))
    return check(
        case["cmd"], snap, policy, clock_for(case), facts_for(case, facts), Who(snap.user, groups)
    )


def _finding_matches(m: Mapping[str, Any], f: Finding) -> bool:
    for key, want in m.items():
        if key == "action" and f.action != want:
            return False
        if key == "object" and f.object != (None if want is None else str(want)):
            return False
        if key == "severity" and str(f.severity) != want:
            return False
        if key == "environment" and f.environment != want:
            return False
        if key == "detail" and str(want).lower() not in f.detail.lower():
            return False
        if key == "tags" and not set(want) <= f.tags:
            return False
        if key == "target":
            fields = f.target.as_json()
            if any(fields.get(k) != (None if v is None else str(v)) for k, v in dict(want).items()):
                return False
    return True


def describe(f: Finding) -> str:
    tags = f" tags={sorted(f.tags)}" if f.tags else ""
    where = f"env={f.environment} target={f.target.as_json()}"
    return f"{f.action} object={f.object!r} severity={f.severity} {where}{tags}"


def failures(case: Mapping[str, Any], decision: Decision) -> list[str]:
    """What of the case's `expect` the decision does not meet (empty: passed)."""
    expect = case.get("expect") or {}
    bad = set(expect) - EXPECT_KEYS
    if bad:
        return [f"unknown expect keys: {', '.join(sorted(bad))}"]
    out: list[str] = []
    found = decision.findings
    actions = {f.action for f in found}
    for m in expect.get("findings", ()):
        extra = set(m) - FINDING_KEYS
        if extra:
            out.append(f"unknown finding keys: {', '.join(sorted(extra))}")
        elif not any(_finding_matches(m, f) for f in found):
            out.append(f"no finding matches {dict(m)}")
    if "actions" in expect and set(expect["actions"]) != actions:
        out.append(f"actions: expected {sorted(expect['actions'])}, got {sorted(actions)}")
    hit = actions & set(expect.get("not_actions", ()))
    if hit:
        out.append(f"actions that must not fire fired: {sorted(hit)}")
    if "require" in expect and str(decision.verdict.requirement) != expect["require"]:
        out.append(f"require: expected {expect['require']}, got {decision.verdict.requirement}")
    if "environment" in expect and decision.environment != expect["environment"]:
        out.append(f"environment: expected {expect['environment']}, got {decision.environment}")
    if "rules" in expect and not set(expect["rules"]) <= set(decision.verdict.rules):
        out.append(
            f"rules: expected {sorted(expect['rules'])} among {list(decision.verdict.rules)}"
        )
    if decision.notes:  # an analyzer failed: a bug, whatever the verdict says
        out.append("analysis failed: " + "; ".join(decision.notes))
    if "exit" in expect and int(exit_for(decision)) != int(expect["exit"]):
        out.append(f"exit: expected {expect['exit']}, got {int(exit_for(decision))}")
    if out:
        out.append("findings: " + ("; ".join(describe(f) for f in found) or "none"))
        if decision.notes:
            out.append("notes: " + "; ".join(decision.notes))
    return out


def run_and_check(case: Mapping[str, Any], policy: Policy) -> list[str]:
    try:
        return failures(case, run(case, policy))
    except GuardshError as e:
        return [f"error: {e}"]
