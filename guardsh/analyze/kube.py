"""Kubernetes targets, resource arguments and manifests: shared by the kubectl
and helm analyzers (a helper module, not a family; it registers nothing).

A kube target names the context a command will use (its flag, else `check
--kube-context`, else the kubeconfig's current context), resolved through the
kubeconfig facts to its cluster, server URL, user and default namespace.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guardsh.analyze.registry import Context
from guardsh.model import Invocation, KubeContext, Stdin, Target, Word

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
    unknown). `-n=prod`: pflag drops the `=`; so do we.
    """
    out: list[Word] = []
    for w in args:
        v = w.value
        if len(v) > 2 and v[0] == "-" and v[2] == "=" and v[1] in short_value and w.known:
            out.append(Word(v[:2], w.span))
            out.append(Word(v[3:], w.span, glob=w.glob, quoted=w.quoted))
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


# ---- manifests (-f FILE|DIR|URL|-, -k DIR) --------------------------------------------


def manifest_groups(
    inv: Invocation, ctx: Context, filenames: Iterable[Word], kustomize: Iterable[Word] = ()
) -> list[Group]:
    """Objects named by -f/-k, grouped by kind and namespace.

    Local files are read through `ctx.facts.read_file`, `-` from the known
    stdin; a URL, a directory, an unreadable or malformed file and every
    kustomization give one group marked unknown.
    """
    out: list[Group] = []
    for w in filenames:
        for part in w.value.split(",") if w.known else [w.value]:
            objs = _read_manifest(inv, ctx, part) if w.known and part else None
            if objs is None:
                out.append(Group(f"manifests in {part}", unknown=True))
            else:
                out.extend(objs)
    for w in kustomize:
        out.append(Group(f"kustomization {w.value}", unknown=True))
    return out


def read_text(inv: Invocation, ctx: Context, part: str) -> str | None:
    """`-` (known stdin) or a local file; None for a URL or anything unreadable."""
    if part == "-":
        stdin: Stdin | None = inv.stdin
        return stdin.text if stdin is not None else None
    if "://" in part:
        return None
    return ctx.facts.read_file(abspath(inv, ctx, part))


def _read_manifest(inv: Invocation, ctx: Context, part: str) -> list[Group] | None:
    text = read_text(inv, ctx, part)
    if text is None:
        return None
    try:
        docs = load_yaml_all(text)
    except Exception:  # malformed YAML: the tool will refuse it; we cannot name objects
        return None
    found: dict[tuple[str, str | None], tuple[list[str], bool]] = {}
    for doc in _flatten(docs):
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        kind = canon_kind(str(doc.get("kind") or "?"))
        gen = meta.get("generateName")
        name = meta.get("name") or (f"{gen}*" if gen else "?")
        ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        spec = doc.get("spec")
        zero = kind in SCALABLE and isinstance(spec, dict) and spec.get("replicas") == 0
        names, z = found.setdefault((kind, ns), ([], False))
        names.append(str(name))
        found[(kind, ns)] = (names, z or zero)
    if not found:
        return None
    return [Group(k, tuple(n), namespace=ns, zero=z) for (k, ns), (n, z) in found.items()]


def _flatten(docs: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        items = doc.get("items")
        if isinstance(items, list) and str(doc.get("kind", "")).endswith("List"):
            yield from _flatten(items)
        else:
            yield doc


def load_yaml_all(text: str) -> list[Any]:
    import yaml  # only when a manifest or patch is read

    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def patch_zeroes(text: str) -> bool:
    """Does a strategic/merge (`{"spec":{"replicas":0}}`) or JSON patch scale to zero?"""
    try:
        docs = load_yaml_all(text)
    except Exception:
        return False
    for doc in docs:
        spec = doc.get("spec") if isinstance(doc, dict) else None
        if isinstance(spec, dict) and spec.get("replicas") == 0:
            return True
        if isinstance(doc, list):
            for op in doc:
                if (
                    isinstance(op, dict)
                    and op.get("path") == "/spec/replicas"
                    and op.get("op") in ("replace", "add")
                    and op.get("value") == 0
                ):
                    return True
    return False
