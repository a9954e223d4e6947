"""systemd: the unit's state and what depends on it, before stop/restart/disable.

Runs `systemctl show UNIT --property=...` and `systemctl list-dependencies
--reverse --plain UNIT` (with `--user` when the command has it); a unit
pattern is listed with `systemctl list-units --all PATTERN`. The unit's main
process is described from the process table (a database's connections).
"""

from __future__ import annotations

from guardsh.confirm.providers.base import (
    Outcome,
    Request,
    failed,
    first_error,
    local_only,
    ok,
    plural,
    provider,
    run,
    unavailable,
)
from guardsh.facts import procs

PROPS = "Id,Description,LoadState,ActiveState,SubState,UnitFileState,MainPID,ActiveEnterTimestamp"
SHOWN = 12


def _scope(req: Request) -> list[str]:
    inv = req.invocation
    if inv is not None and any(w.value == "--user" for w in inv.args):
        return ["--user"]
    return []


@provider("systemctl", "service.stop", "service.restart", "service.disable")
def dry_run(req: Request) -> Outcome:
    away = local_only(req)
    if away is not None:
        return away
    unit = req.finding.object or ""
    if not unit or "unknown-object" in req.finding.tags or unit.startswith("-"):
        return unavailable("the unit is not known before the command runs")
    if any(c in unit for c in "*?["):
        return _pattern(req, unit)
    show = ["systemctl", *_scope(req), "show", unit, f"--property={PROPS}"]
    c = run(show, req)
    if c.rc != 0:
        return failed(first_error(c), [show])
    props = dict(ln.split("=", 1) for ln in c.out.splitlines() if "=" in ln)
    if props.get("LoadState") == "not-found":
        return ok([f"{unit}: no such unit here (the command would fail)"], {"unit": props}, [show])
    state = f"{props.get('ActiveState', '?')} ({props.get('SubState', '?')})"
    head = f"{props.get('Id', unit)}: {state}"
    if props.get("UnitFileState"):
        head += f", {props['UnitFileState']} at boot"
    lines = [head]
    if props.get("Description"):
        lines.append(props["Description"])
    if props.get("ActiveEnterTimestamp"):
        lines.append(f"active since {props['ActiveEnterTimestamp']}")
    pid = props.get("MainPID", "0")
    data: dict[str, object] = {"unit": props}
    if pid.isdigit() and int(pid) > 0:
        p = procs.describe(int(pid), full=False)
        if p is not None:
            lines.append(f"main process: {p.summary()}")
            data["main_process"] = p.as_json()
    deps = ["systemctl", *_scope(req), "list-dependencies", "--reverse", "--plain",
            "--no-pager", unit]  # fmt: skip
    d = run(deps, req)
    ran = [show, deps]
    if d.rc == 0:
        rdeps = [ln.strip() for ln in d.out.splitlines()[1:] if ln.strip()]
        data["reverse_dependencies"] = rdeps
        if rdeps:
            shown = ", ".join(rdeps[:SHOWN]) + (" …" if len(rdeps) > SHOWN else "")
            lines.append(f"{plural(len(rdeps), 'unit')} depend on it: {shown}")
        else:
            lines.append("no other unit depends on it")
    else:
        lines.append(f"reverse dependencies not listed: {first_error(d)}")
    return ok(lines, data, ran)


def _pattern(req: Request, pattern: str) -> Outcome:
    argv = ["systemctl", *_scope(req), "list-units", "--all", "--plain", "--no-legend",
            "--no-pager", pattern]  # fmt: skip
    c = run(argv, req)
    if c.rc != 0:
        return failed(first_error(c), [argv])
    units = [ln.split()[0] for ln in c.out.splitlines() if ln.split()]
    active = [ln.split()[0] for ln in c.out.splitlines() if len(ln.split()) > 2
              and ln.split()[2] == "active"]  # fmt: skip
    lines = [f"{pattern} matches {plural(len(units), 'unit')} ({len(active)} active)"]
    if units:
        lines.append(", ".join(units[:SHOWN]) + (" …" if len(units) > SHOWN else ""))
    return ok(lines, {"units": units, "active": active}, [argv])
