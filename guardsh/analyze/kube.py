"""Kubernetes targets and resource arguments: shared by the kubectl and helm
analyzers (a helper module, not a family; it registers nothing; manifests are
read in k8s_manifests).

A kube target names the context a command will use (its flag, else `check
--kube-context`, else the kubeconfig's current context), resolved through the
kubeconfig facts to its cluster, server URL, user and default namespace.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guardsh.analyze.registry import Context
from guardsh.model import Invocation, KubeContext, Target, Word

_KIND_ALIASES: dict[str, str] = {}
for _canon, _aliases in {
    "pod": "po pods",
    "service": "svc services",
    "deployment": "deploy deployments",
    "statefulset": "sts statefulsets",
    "daemonset": "ds daemonsets",
    "replicaset": "rs replicasets",
    "replicationcontroller": "rc replicationcontrollers",
    "job": "jobs",
    "cronjob": "cj cronjobs",
    "namespace": "ns namespaces",
    "project": "projects",
    "persistentvolumeclaim": "pvc pvcs persistentvolumeclaims",
    "persistentvolume": "pv pvs persistentvolumes",
    "customresourcedefinition": "crd crds customresourcedefinitions",
    "node": "no nodes",
    "configmap": "cm configmaps",
    "secret": "secrets",
    "serviceaccount": "sa serviceaccounts",
    "ingress": "ing ingresses",
    "networkpolicy": "netpol networkpolicies",
    "horizontalpodautoscaler": "hpa horizontalpodautoscalers",
    "poddisruptionbudget": "pdb poddisruptionbudgets",
    "storageclass": "sc storageclasses",
    "endpoints": "ep",
    "event": "ev events",
    "limitrange": "limits limitranges",
    "resourcequota": "quota resourcequotas",
    "role": "roles",
    "rolebinding": "rolebindings",
    "clusterrole": "clusterroles",
    "clusterrolebinding": "clusterrolebindings",
    "priorityclass": "pc priorityclasses",
    "certificatesigningrequest": "csr certificatesigningrequests",
    "mutatingwebhookconfiguration": "mutatingwebhookconfigurations",
    "validatingwebhookconfiguration": "validatingwebhookconfigurations",
    "apiservice": "apiservices",
    "lease": "leases",
}.items():
    _KIND_ALIASES[_canon] = _canon
    for _a in _aliases.split():
        _KIND_ALIASES[_a] = _canon

CLUSTER_SCOPED = frozenset(
    """namespace project node persistentvolume customresourcedefinition clusterrole
    clusterrolebinding storageclass priorityclass mutatingwebhookconfiguration
    validatingwebhookconfiguration apiservice certificatesigningrequest csidriver
    csinode volumeattachment ingressclass runtimeclass""".split()  # noqa: SIM905
)
SCALABLE = frozenset({"deployment", "statefulset", "replicaset", "replicationcontroller"})


def canon_kind(text: str) -> str:
    """`deploy`, `Deployments`, `deployments.apps` -> `deployment`; unknown kinds as written."""
    low = text.lower()
    hit = _KIND_ALIASES.get(low)
    if hit is None and "." in low:
        hit = _KIND_ALIASES.get(low.partition(".")[0])
    return hit or low


@dataclass(frozen=True, slots=True)
class Group:
    """Objects of one kind in one namespace that a command acts on."""

    kind: str
    names: tuple[str, ...] = ()
    scope: str | None = None  # "all", "-l app=x": objects chosen without names
    namespace: str | None = None  # from a manifest
    unknown: bool = False
    zero: bool = False  # a manifest or patch sets replicas: 0

    @property
    def object(self) -> str:
        if self.names:
            return f"{self.kind}/{','.join(self.names)}"
        if self.scope:
            return f"{self.kind} ({self.scope})"
        return self.kind


@dataclass(frozen=True, slots=True)
class Where:
    """The kube target of one command, before the namespace is chosen."""

    target: Target  # without kube_namespace
    namespace: str | None  # -n / --namespace
    default_ns: str | None  # the context's namespace ("default"); None when unknown
    all_ns: bool
    current: str | None  # the context name

    def at(self, kind: str | None = None, ns: str | None = None, name: str | None = None) -> Target:
        if kind in ("namespace", "project") and name:
            return self.target.with_fields(kube_namespace=name)
        if kind in CLUSTER_SCOPED:
            return self.target
        if self.all_ns:
            return self.target.with_fields(kube_namespace="*")
        return self.target.with_fields(kube_namespace=self.namespace or ns or self.default_ns)


def known(w: Word | None) -> str | None:
    """A word's value when it is known statically."""
    return w.value if w is not None and w.known else None


def normalize_options(
    args: Sequence[Word], long_value: frozenset[str], short_value: str
) -> tuple[Word, ...]:
    """Spellings pflag accepts that parse_argv would misread.

    `--replicas=$N`: an unknown word is read as an operand; when its name is
    literal and takes a value, it becomes `--replicas` `$N` (the value stays
    unknown). `-n=prod`: pflag drops the `=`; so do we. `-R=false`: a boolean
    shorthand given a value, read as pflag does (`false`, `f`, `0`: not given).
    """
    out: list[Word] = []
    for w in args:
        v = w.value
        if len(v) > 2 and v[0] == "-" and v[2] == "=" and v[1].isalpha() and w.known:
            if v[1] in short_value:
                out.append(Word(v[:2], w.span))
                out.append(Word(v[3:], w.span, glob=w.glob, quoted=w.quoted))
            elif v[3:].lower() not in ("false", "f", "0"):
                out.append(Word(v[:2], w.span))
            continue
        name, eq, val = v.partition("=")
        if not w.known and eq and name[:2] == "--" and name[2:] in long_value and "$" not in name:
            out.append(Word(name, w.span))
            out.append(Word(val, w.span, known=False, glob=w.glob, quoted=w.quoted))
            continue
        out.append(w)
    return tuple(out)


def where(
    inv: Invocation,
    ctx: Context,
    *,
    context: Word | None = None,
    kubeconfig: Word | None = None,
    namespace: Word | None = None,
    cluster: Word | None = None,
    server: Word | None = None,
    user: Word | None = None,
    all_ns: bool = False,
    env_context: str | None = None,
) -> Where:
    """Resolve context, cluster, server, user and namespace from a command's flags.

    The local kubeconfig facts apply only to a command run here: on an ssh
    host or inside a pod, only what the command line says is known, and the
    outer target's fields (`ssh_host`, the pod's context) are kept as
    evidence. The local hostname is not: kubectl here acts on a cluster, and
    a `dev-laptop` must not make an unknown context look like development. A
    `--kubeconfig FILE` (or `KUBECONFIG=` prefix) is resolved by the facts
    layer's loader in `facts.extra["kubeconfig"]` when the CLI provides one.
    """
    local = inv.target.kind == "local"
    facts = ctx.facts
    cfg_path = known(kubeconfig) if kubeconfig is not None else inv.env_get("KUBECONFIG")
    contexts: Mapping[str, KubeContext] = {}
    current: str | None = None
    if kubeconfig is not None or cfg_path is not None:
        load = facts.extra.get("kubeconfig")
        if local and cfg_path and callable(load):
            cfg = load(abspath(inv, ctx, cfg_path))
            contexts, current = cfg.contexts, cfg.current
    elif local:
        contexts, current = facts.kube, ctx.snapshot.kube_context or facts.kube_current
    name = known(context) if context is not None else env_context or current
    kc = contexts.get(name) if name else None
    cluster_name = known(cluster)
    server_url = known(server)
    if server_url is None and cluster_name is not None:
        server_url = next((c.server for c in contexts.values() if c.cluster == cluster_name), None)
    target = Target("kube", () if local else inv.target.fields).with_fields(
        kube_context=name,
        kube_cluster=cluster_name or (kc.cluster if kc else None),
        kube_cluster_server=server_url or (kc.server if kc else None),
        kube_user=known(user) or (kc.user if kc else None),
        kube_config=cfg_path,
    )
    return Where(
        target=target,
        namespace=namespace.value if namespace is not None else None,
        default_ns=(kc.namespace or "default") if kc else None,
        all_ns=all_ns,
        current=name,
    )


def abspath(inv: Invocation, ctx: Context, path: str) -> str:
    """A path named on the command line, as the facts layer should read it."""
    if path.startswith("~/"):
        path = ctx.snapshot.home + path[1:]
    return posixpath.join(inv.cwd or ctx.snapshot.cwd, path)


def resources(words: Sequence[Word], scope: str | None = None) -> list[Group]:
    """kubectl's resource arguments: `TYPE NAME…`, `TYPE/NAME…`, `T1,T2 [NAME…]`."""
    if not words:
        return []
    first = words[0]
    if "/" in first.value:
        order: dict[str, list[Word]] = {}
        for w in words:
            kind, _, name = w.value.partition("/")
            order.setdefault(canon_kind(kind), []).append(Word(name, w.span, w.known, w.glob))
        return [_group(k, names, None) for k, names in order.items()]
    kinds = [canon_kind(k) for k in first.value.split(",") if k] or [first.value]
    return [_group(k, list(words[1:]), scope, not first.known) for k in kinds]


def _group(kind: str, names: list[Word], scope: str | None, unknown: bool = False) -> Group:
    unknown = unknown or any(not w.known or w.glob for w in names)
    return Group(kind, tuple(w.value for w in names), None if names else scope, unknown=unknown)
