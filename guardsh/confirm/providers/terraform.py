"""terraform / tofu: the plan's add/change/destroy counts before apply or destroy.

Runs `terraform plan [-destroy] -input=false -lock=false -no-color -json`
in the finding's working directory, with the user's own -var, -var-file,
-target and -replace options, and reads the machine-readable summary; for
`apply PLANFILE` it reads the saved plan with `terraform show -json PLANFILE`.
A plan changes nothing (and with -lock=false it does not even take the state
lock, so it cannot block a colleague's run).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from guardsh.confirm.providers.base import (
    Outcome,
    Request,
    failed,
    first_error,
    ok,
    provider,
    run,
    unavailable,
)

_KEEP = ("-var", "-var-file", "-target", "-replace", "-refresh", "-parallelism")
# Options that take the next word when written without `=` (Go's flag package).
_VALUE = frozenset({"-chdir", "-var", "-var-file", "-target", "-replace", "-state", "-state-out",
                    "-backup", "-lock-timeout", "-parallelism", "-out"})  # fmt: skip
SHOWN = 10


@provider("terraform", "terraform.destroy", "terraform.apply")
def dry_run(req: Request) -> Outcome:
    f = req.finding
    inv = req.invocation
    prog = inv.program if inv is not None and inv.program in ("terraform", "tofu") else None
    if prog is None:
        return unavailable("only terraform and tofu are planned (not terragrunt or wrappers)")
    if any(not w.known for w in inv.args) if inv is not None else True:
        return unavailable("the command's arguments are not all known before it runs")
    cwd = f.target.get("terraform_dir") or req.cwd
    opts, planfile = _options(req)
    env = dict(req.env, TF_IN_AUTOMATION="1", TF_INPUT="0")
    if planfile is not None:
        argv = [prog, "show", "-json", planfile]
        c = run(argv, req, env=env, cwd=cwd)
        if c.rc != 0:
            return failed(first_error(c), [argv])
        return _saved(c.out, argv)
    destroy = f.action == "terraform.destroy"
    argv = [prog, "plan", *(["-destroy"] if destroy else []), "-input=false", "-lock=false",
            "-no-color", "-json", *opts]  # fmt: skip
    c = run(argv, req, env=env, cwd=cwd)
    summary, changes, errors = _read(c.out + "\n" + c.err)
    if summary is None:
        why = errors[0] if errors else first_error(c)
        return failed(f"terraform plan failed: {why}", [argv])
    return _report(summary, changes, [argv], os.path.relpath(cwd, req.cwd))


def _options(req: Request) -> tuple[list[str], str | None]:
    """The user's plan-shaping options (-var, -target, ...) and a saved plan file."""
    inv = req.invocation
    assert inv is not None
    words = [w.value for w in inv.args]
    out: list[str] = []
    planfile = None
    verb_seen = False
    i = 0
    while i < len(words):
        w = words[i]
        name = "-" + w.lstrip("-").split("=", 1)[0] if w.startswith("-") else ""
        if name in _KEEP:
            if "=" in w or name not in _VALUE:
                out.append("-" + w.lstrip("-"))
            elif i + 1 < len(words):
                out.append(f"{name}={words[i + 1]}")
                i += 1
        elif name in _VALUE and "=" not in w:
            i += 1  # its value
        elif not w.startswith("-"):
            if verb_seen and planfile is None:
                planfile = w
            verb_seen = verb_seen or w in ("apply", "destroy")
        i += 1
    return out, planfile


def _lines(out: str) -> Iterator[dict[str, Any]]:
    for ln in out.splitlines():
        ln = ln.strip()
        if ln.startswith("{"):
            try:
                obj = json.loads(ln)
            except ValueError:
                continue
            if isinstance(obj, dict):
                yield obj


def _read(out: str) -> tuple[dict[str, int] | None, list[tuple[str, str]], list[str]]:
    summary = None
    changes: list[tuple[str, str]] = []
    errors: list[str] = []
    for m in _lines(out):
        kind = m.get("type")
        if kind == "change_summary":
            summary = {k: int(v) for k, v in (m.get("changes") or {}).items()
                       if isinstance(v, int)}  # fmt: skip
        elif kind == "planned_change":
            ch = m.get("change") or {}
            addr = (ch.get("resource") or {}).get("addr", "?")
            changes.append((str(ch.get("action", "?")), str(addr)))
        elif kind == "diagnostic" and m.get("@level") == "error":
            errors.append(str(m.get("@message", "error")))
    return summary, changes, errors


def _report(summary: dict[str, int], changes: list[tuple[str, str]], ran: list[list[str]],
            where: str) -> Outcome:  # fmt: skip
    add, change, remove = summary.get("add", 0), summary.get("change", 0), summary.get("remove", 0)
    lines = [f"Plan: {add} to add, {change} to change, {remove} to destroy"
             + (f" (in {where})" if where not in (".", "") else "")]  # fmt: skip
    gone = [a for act, a in changes if act in ("delete", "replace")]
    if gone:
        more = f" … and {len(gone) - SHOWN} more" if len(gone) > SHOWN else ""
        lines.append(f"destroyed or replaced: {', '.join(gone[:SHOWN])}{more}")
    data = {"add": add, "change": change, "destroy": remove,
            "import": summary.get("import", 0), "changes": [
                {"action": act, "address": a} for act, a in changes]}  # fmt: skip
    return ok(lines, data, ran)


def _saved(out: str, argv: list[str]) -> Outcome:
    try:
        plan = json.loads(out)
    except ValueError:
        return failed("terraform show -json printed something that is not JSON", [argv])
    changes: list[tuple[str, str]] = []
    counts = {"add": 0, "change": 0, "remove": 0}
    for rc in plan.get("resource_changes") or []:
        actions = (rc.get("change") or {}).get("actions") or []
        addr = str(rc.get("address", "?"))
        if actions == ["create"]:
            counts["add"] += 1
        elif actions == ["update"]:
            counts["change"] += 1
        elif actions == ["delete"]:
            counts["remove"] += 1
        elif "delete" in actions and "create" in actions:
            counts["add"] += 1
            counts["remove"] += 1
            changes.append(("replace", addr))
            continue
        else:
            continue
        changes.append(({"create": "create", "update": "update"}.get(actions[0], "delete"), addr))
    out_ = _report(counts, changes, [argv], ".")
    return Outcome(out_.status, (*out_.lines, f"(from the saved plan {argv[-1]})"),
                   out_.data, out_.commands)  # fmt: skip
