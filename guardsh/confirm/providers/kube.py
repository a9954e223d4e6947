"""Kubernetes: what a delete, scale or drain would hit, asked of the cluster.

Only these kubectl calls are made, always pinned to the finding's context:
- delete: the same delete with `--dry-run=server -o name` (the API server
  runs admission and answers what it would remove; nothing is removed);
- delete of a namespace: also `get all,pvc,configmaps,secrets,... -n NS -o
  name`, counted by kind;
- scale (to 0 or not): `get KIND NAMES -o custom-columns=...` (the current
  replicas);
- drain: the pods on the node (`get pods -A --field-selector spec.nodeName=N`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from guardsh.confirm.providers.base import (
    Outcome,
    Request,
    failed,
    first_error,
    ok,
    plural,
    provider,
    run,
    unavailable,
)

NS_KINDS = "all,persistentvolumeclaims,configmaps,secrets,ingresses,serviceaccounts"
REPLICAS = (
    "custom-columns=KIND:.kind,NAME:.metadata.name,REPLICAS:.spec.replicas,"
    "READY:.status.readyReplicas"
)
PODS = (
    "custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,"
    "OWNER:.metadata.ownerReferences[0].kind"
)
CLUSTER_KINDS = frozenset({"namespace", "node", "persistentvolume", "customresourcedefinition",
                           "clusterrole", "clusterrolebinding", "storageclass",
                           "priorityclass", "ingressclass", "mutatingwebhookconfiguration",
                           "validatingwebhookconfiguration", "apiservice"})  # fmt: skip
SHOWN = 12
# Options of the user's own delete that would change or block a dry run.
_DROP = frozenset({"--dry-run", "-o", "--output", "--wait", "-i", "--interactive", "-w", "--watch"})
_DROP_VALUE = frozenset({"-o", "--output"})


def _base(req: Request) -> list[str]:
    t = req.finding.target
    inv = req.invocation
    prog = "oc" if inv is not None and inv.program == "oc" else "kubectl"
    argv = [prog]
    if t.get("kube_config"):
        argv += ["--kubeconfig", t.get("kube_config") or ""]
    if t.get("kube_context"):
        argv += ["--context", t.get("kube_context") or ""]
    return argv


def _object(obj: str | None) -> tuple[str, list[str]] | None:
    """`deployment/web,api` -> ("deployment", ["web", "api"]); None when not that form."""
    if not obj or " " in obj or "/" not in obj:
        return None
    kind, _, names = obj.partition("/")
    parts = [n for n in names.split(",") if n]
    return (kind, parts) if kind and parts else None


def _ns(req: Request, kind: str) -> list[str]:
    ns = req.finding.target.get("kube_namespace")
    if kind in CLUSTER_KINDS or not ns or ns == "*":
        return []
    return ["-n", ns]


@provider("kube", "k8s.delete", "k8s.scale_zero", "k8s.apply", "k8s.drain")
def dry_run(req: Request) -> Outcome:
    f = req.finding
    if f.target.kind != "kube":
        return unavailable("not a cluster target")
    if not f.target.get("kube_context") and f.target.get("ssh_host"):
        return unavailable("kubectl runs on another host")
    inv = req.invocation
    verb = _verb(req)
    if f.action == "k8s.delete":
        return _delete(req)
    if f.action == "k8s.drain":
        return _drain(req)
    if verb == "scale" or f.action == "k8s.scale_zero":
        return _scale(req)
    what = inv.program if inv is not None else "kubectl"
    return unavailable(f"{what} {verb or ''}: no dry run for this change yet".replace("  ", " "))


def _verb(req: Request) -> str | None:
    inv = req.invocation
    if inv is None:
        return None
    for w in inv.args:
        if w.known and w.value in ("delete", "scale", "drain", "apply", "patch", "rollout"):
            return w.value
    return None


def _delete(req: Request) -> Outcome:
    f = req.finding
    parsed = _object(f.object)
    if parsed is not None and "unknown-object" not in f.tags:
        kind, names = parsed
        argv = [*_base(req), *_ns(req, kind), "delete", kind, *names,
                "--dry-run=server", "-o", "name"]  # fmt: skip
    else:
        own = _own_args(req)
        if own is None:
            return unavailable("the delete's arguments are not all known before it runs")
        argv = [*_base(req), *own, "--dry-run=server", "-o", "name"]
        kind = ""
    c = run(argv, req)
    if c.rc != 0:
        return failed(first_error(c), [argv])
    gone = [ln.strip() for ln in c.out.splitlines() if ln.strip()]
    lines = [f"the API server would delete {plural(len(gone), 'object')} (server-side dry run):"]
    lines += [f"  {g}" for g in gone[:SHOWN]]
    if len(gone) > SHOWN:
        lines.append(f"  … and {len(gone) - SHOWN} more")
    data: dict[str, object] = {"deleted": gone}
    ran = [argv]
    if kind in ("namespace", "ns", "project") and parsed is not None:
        for ns in parsed[1]:
            get = [*_base(req), "get", NS_KINDS, "-n", ns, "-o", "name"]
            g = run(get, req)
            ran.append(get)
            if g.rc != 0:
                lines.append(f"contents of {ns} not listed: {first_error(g)}")
                continue
            items = [ln.strip() for ln in g.out.splitlines() if ln.strip()]
            counts = Counter(i.split("/", 1)[0].split(".", 1)[0] for i in items)
            summary = ", ".join(f"{n} {k}" for k, n in counts.most_common())
            lines.append(f"namespace {ns} holds {plural(len(items), 'object')}: {summary or '-'}")
            data.setdefault("contents", {})[ns] = dict(counts)  # type: ignore[index]
    return ok(lines, data, ran)


def _own_args(req: Request) -> list[str] | None:
    """The user's delete arguments, minus output/wait/dry-run options; None if unknown."""
    inv = req.invocation
    if inv is None or any(not w.known for w in inv.args):
        return None
    out: list[str] = []
    skip = False
    for w in inv.args:
        v = w.value
        if skip:
            skip = False
            continue
        name = v.split("=", 1)[0]
        if name in ("--raw", "--context", "--kubeconfig"):
            if name == "--raw":
                return None
            skip = "=" not in v
            continue
        if name in _DROP:
            skip = name in _DROP_VALUE and "=" not in v
            continue
        out.append(v)
    return out


def _scale(req: Request) -> Outcome:
    parsed = _object(req.finding.object)
    if parsed is None:
        return unavailable("the objects being scaled are not named")
    kind, names = parsed
    argv = [*_base(req), *_ns(req, kind), "get", kind, *names, "-o", REPLICAS, "--no-headers"]
    c = run(argv, req)
    if c.rc != 0:
        return failed(first_error(c), [argv])
    lines = []
    items = []
    for ln in c.out.splitlines():
        parts = ln.split()
        if len(parts) < 3:
            continue
        k, name, replicas = parts[0], parts[1], parts[2]
        ready = parts[3] if len(parts) > 3 else "<none>"
        ready = "0" if ready == "<none>" else ready
        lines.append(f"{k.lower()}/{name}: {replicas} replicas now ({ready} ready)")
        items.append({"kind": k, "name": name, "replicas": _int(replicas), "ready": _int(ready)})
    return ok(lines or ["nothing found"], {"objects": items}, [argv])


def _int(v: str) -> int | None:
    return int(v) if v.isdigit() else None


def _drain(req: Request) -> Outcome:
    parsed = _object(req.finding.object)
    if parsed is None:
        return unavailable("the node is not named")
    ran: list[Sequence[str]] = []
    lines: list[str] = []
    pods_all: list[dict[str, str]] = []
    for node in parsed[1]:
        argv = [*_base(req), "get", "pods", "--all-namespaces", "--field-selector",
                f"spec.nodeName={node}", "-o", PODS, "--no-headers"]  # fmt: skip
        ran.append(argv)
        c = run(argv, req)
        if c.rc != 0:
            return failed(first_error(c), ran)
        pods = [dict(zip(("namespace", "name", "owner"), ln.split(), strict=False))
                for ln in c.out.splitlines() if ln.strip()]  # fmt: skip
        evicted = [p for p in pods if p.get("owner") != "DaemonSet"]
        bare = [p for p in evicted if p.get("owner") in (None, "<none>")]
        namespaces = sorted({p["namespace"] for p in evicted})
        line = f"node {node}: {plural(len(evicted), 'pod')} would be evicted"
        line += f" from {plural(len(namespaces), 'namespace')}" if namespaces else ""
        lines.append(line)
        if bare:
            lines.append(f"{plural(len(bare), 'pod')} without a controller would not come back")
        pods_all += pods
    return ok(lines, {"pods": pods_all}, ran)
