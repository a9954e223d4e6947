"""Targets: where an invocation acts, built from flags, the snapshot and facts."""

from __future__ import annotations

from guardsh.model import Facts, Snapshot, Target


def local(snapshot: Snapshot) -> Target:
    return Target("local", (("hostname", snapshot.hostname),))


def ssh(host: str, user: str | None) -> Target:
    fields = [("ssh_host", host)]
    if user:
        fields.append(("ssh_user", user))
    return Target("ssh", tuple(fields))


def kube(
    snapshot: Snapshot,
    facts: Facts,
    context: str | None = None,
    namespace: str | None = None,
    **extra: str | None,
) -> Target:
    """A Kubernetes target: context from the flag, `--kube-context`, or the
    kubeconfig's current context; cluster server and namespace from facts.
    The namespace is not guessed for a context the kubeconfig does not know."""
    name = context or snapshot.kube_context or facts.kube_current
    ctx = facts.kube.get(name) if name else None
    fields: list[tuple[str, str]] = []
    if name:
        fields.append(("kube_context", name))
    if ctx is not None:
        if ctx.cluster:
            fields.append(("kube_cluster", ctx.cluster))
        if ctx.server:
            fields.append(("kube_cluster_server", ctx.server))
        if ctx.user:
            fields.append(("kube_user", ctx.user))
    ns = namespace or ((ctx.namespace or "default") if ctx is not None else None)
    if ns:
        fields.append(("kube_namespace", ns))
    fields.extend((k, v) for k, v in extra.items() if v)
    return Target("kube", tuple(fields))
