"""helm: the release's state and the resources it owns, before uninstall,
upgrade or rollback. Only `helm status REL -o json` and `helm get manifest
REL` are run, pinned to the finding's kube context and namespace.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import yaml

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

DATA_KINDS = frozenset({"PersistentVolumeClaim", "StatefulSet", "PersistentVolume"})
SHOWN = 10


def _scope(req: Request) -> list[str]:
    t = req.finding.target
    out = []
    if t.get("kube_namespace") and t.get("kube_namespace") != "*":
        out += ["-n", t.get("kube_namespace") or ""]
    if t.get("kube_context"):
        out += ["--kube-context", t.get("kube_context") or ""]
    if t.get("kube_config"):
        out += ["--kubeconfig", t.get("kube_config") or ""]
    return out


@provider("helm", "helm.uninstall", "helm.upgrade", "helm.rollback")
def dry_run(req: Request) -> Outcome:
    f = req.finding
    rel = f.object or ""
    if not rel or "unknown-object" in f.tags or " " in rel or f.target.kind != "kube":
        return unavailable("the release is not known before the command runs")
    if req.invocation is not None and req.invocation.program != "helm":
        return unavailable(f"{req.invocation.program}: only helm itself is asked")
    status = ["helm", "status", rel, *_scope(req), "-o", "json"]
    c = run(status, req)
    if c.rc != 0:
        return failed(first_error(c), [status])
    try:
        info: dict[str, Any] = json.loads(c.out)
    except ValueError:
        return failed("helm status printed something that is not JSON", [status])
    manifest = ["helm", "get", "manifest", rel, *_scope(req)]
    m = run(manifest, req)
    lines = [_status_line(info)]
    data: dict[str, object] = {
        "release": info.get("name", rel),
        "namespace": info.get("namespace"),
        "revision": info.get("version"),
        "status": (info.get("info") or {}).get("status"),
        "chart": _chart(info),
    }
    if m.rc != 0:
        lines.append(f"resources not listed: {first_error(m)}")
        return ok(lines, data, [status, manifest])
    res = resources(m.out)
    counts = Counter(k for k, _ in res)
    data["resources"] = [f"{k}/{n}" for k, n in res]
    lines.append(f"{plural(len(res), 'resource')}: " +
                 ", ".join(f"{n} {k}" for k, n in counts.most_common()))  # fmt: skip
    for k, n in [r for r in res if r[0] in DATA_KINDS][:SHOWN]:
        lines.append(f"holds data: {k}/{n}")
    if f.action == "helm.uninstall" and counts.get("StatefulSet"):
        lines.append("PVCs made from StatefulSet volumeClaimTemplates are not in the release: "
                     "they stay")  # fmt: skip
    return ok(lines, data, [status, manifest])


def _chart(info: dict[str, Any]) -> str | None:
    meta = (info.get("chart") or {}).get("metadata") or {}
    if not meta:
        return None
    return f"{meta.get('name')}-{meta.get('version')}"


def _status_line(info: dict[str, Any]) -> str:
    i = info.get("info") or {}
    parts = [f"release {info.get('name')}"]
    if info.get("namespace"):
        parts.append(f"in {info.get('namespace')}")
    parts.append(f"revision {info.get('version')}")
    chart = _chart(info)
    if chart:
        parts.append(f"chart {chart}")
    parts.append(f"status {i.get('status')}")
    if i.get("last_deployed"):
        parts.append(f"last deployed {str(i.get('last_deployed'))[:19]}")
    return ", ".join(parts)


def resources(manifest: str) -> list[tuple[str, str]]:
    """(kind, name) of every document in a rendered manifest."""
    out: list[tuple[str, str]] = []
    try:
        docs = list(yaml.safe_load_all(manifest))
    except yaml.YAMLError:
        return out
    for d in docs:
        if isinstance(d, dict) and d.get("kind"):
            meta = d.get("metadata") or {}
            out.append((str(d["kind"]), str(meta.get("name", "?"))))
    return out
