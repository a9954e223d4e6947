"""kubectl and `oc` (and the context switchers kubectx/kubens): what a command
changes, and in which cluster and namespace.

Global flags may stand anywhere (`kubectl -n prod delete …`, `kubectl delete …
--context=prod`), so argv is read with kubectl's option grammar, never by
position: the verb is the first operand. Where it acts is resolved by
`kube.where` (flag, else `check --kube-context`, else the kubeconfig facts).
This module holds the grammar, the registration and the context switches
(`config use-context`, kubectx, kubens, `oc project`, `oc login`); the verbs
that change objects, and their severity choices, are in k8s_verbs (the parsed
command they share is k8s_cmd.Cmd).

`kubectl exec POD -- CMD`: only `k8s.exec` is emitted here; the remote command
is analyzed by the unwrapper. `--dry-run` (bare, `=client`, `=server`) keeps
every verb quiet, as do the read-only verbs (get, describe, logs, top, explain,
diff, port-forward, auth can-i, version, api-resources, config view …).
"""

from __future__ import annotations

from collections.abc import Iterator

from guardsh.analyze.k8s_cmd import Cmd, Handler
from guardsh.analyze.k8s_verbs import OC_VERBS, VERBS
from guardsh.analyze.kube import Where, normalize_options, where
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Word
from guardsh.parse.argv import Parsed, parse_argv

LOW = Severity.LOW

# Long options (any verb) that take a value in the next word. pflag options
# with an optional value (`--dry-run`, `--cascade`, `--validate`) are absent:
# they take one only with `=`.
_LONG_VALUE = frozenset(
    """as as-group as-uid cache-dir certificate-authority client-certificate client-key
    cluster context kubeconfig namespace password profile profile-output request-timeout
    server tls-server-name token user username v vmodule log-dir log-file
    log-file-max-size log-flush-frequency stderrthreshold selector field-selector
    filename kustomize output template grace-period timeout replicas current-replicas
    resource-version container image port type patch patch-file prune-allowlist
    prune-whitelist field-manager for pod-running-timeout since since-time tail
    limit-bytes max-log-requests sort-by chunk-size label-columns
    skip-wait-for-delete-timeout pod-selector to-revision revision env from prefix keys
    containers limits requests target copy-to image-pull-policy applyset raw subresource
    overrides restart labels annotations serviceaccount name protocol target-port
    external-ip load-balancer-ip session-affinity cluster-ip min max cpu-percent
    schedule node-port docker-server docker-username docker-password docker-email
    from-file from-literal from-env-file cert key rule class default-backend annotation
    clusterrole role group verb resource resource-name non-resource-url aggregation-rule
    value description preemption-policy max-unavailable min-available hard scopes
    duration audience api-group api-version address accept-hosts accept-paths
    reject-paths reject-methods www www-prefix api-prefix unix-socket auth-provider
    auth-provider-arg exec-command exec-api-version exec-arg exec-env proxy-url tcp
    generator hostport custom-columns pod""".split()  # noqa: SIM905
)
_LONG_VALUE_ALL = _LONG_VALUE | {"dry-run", "cascade"}  # `--dry-run=$X` is still an option
_SHORT_VALUE = "cefklLnopsv"  # `logs -f`/`-p` are flags, but logs is quiet anyway


def _switch(c: Cmd, name: Word | None, ns: Word | None, how: str) -> Iterator[Finding]:
    """A kubeconfig change that points later commands at another context/namespace."""
    unknown = name is not None and (not name.known or name.value == "-")  # `-`: the previous one
    if unknown and name is not None:
        name = Word(name.value, name.span, known=False)
    w = where(c.inv, c.ctx, context=name, kubeconfig=c.p.value("--kubeconfig"), namespace=ns)
    obj = name.value if name is not None else c.where.current
    tags = ("unknown-object",) if unknown else ()
    target = w.at() if ns is not None else w.target
    yield c.find("k8s.context_switch", None, LOW, tags, how, obj=obj, target=target)


def _config(c: Cmd) -> Iterator[Finding]:
    sub = c.ops[0].value if c.ops else ""
    args = c.ops[1:]
    ns = c.p.value("-n", "--namespace")
    if sub in ("use-context", "use") and args:
        yield from _switch(c, args[0], None, f"use-context {args[0].value}")
    elif sub == "set-context":
        name = args[0] if args else (Word(c.where.current) if c.where.current else None)
        yield from _switch(c, name, ns, "set-context" + (f" namespace {ns.value}" if ns else ""))
    elif sub == "set" and len(args) >= 2:
        key, val = args[0].value, args[1]
        if key == "current-context":
            yield from _switch(c, val, None, f"set current-context {val.value}")
        elif key.startswith("contexts.") and key.endswith(".namespace"):
            name = Word(key[len("contexts.") : -len(".namespace")])
            yield from _switch(c, name, val, f"set {key} {val.value}")


def _ctx_plugin(c: Cmd) -> Iterator[Finding]:
    """kubectx NAME / `kubectl ctx NAME`; listing, -c, -d, -u and renames stay quiet."""
    if len(c.ops) == 1 and not c.p.opts and "=" not in c.ops[0].value:
        yield from _switch(c, c.ops[0], None, f"switch context to {c.ops[0].value}")


def _ns_plugin(c: Cmd) -> Iterator[Finding]:
    """kubens NAME / `kubectl ns NAME` / `oc project NAME`: the current namespace moves."""
    if len(c.ops) == 1 and not c.p.opts:
        cur = Word(c.where.current) if c.where.current else None
        yield from _switch(c, cur, c.ops[0], f"switch namespace to {c.ops[0].value}")


def _login(c: Cmd) -> Iterator[Finding]:
    server = c.p.value("--server", "-s") or (c.ops[0] if c.ops else None)
    obj = server.value if server is not None else "(login)"
    yield c.find("k8s.context_switch", None, LOW, obj=obj, detail=f"oc login {obj}")


HANDLERS: dict[str, Handler] = {
    **VERBS, "config": _config, "ctx": _ctx_plugin, "ns": _ns_plugin,
}  # fmt: skip
_OC = {"project": _ns_plugin, "login": _login, **OC_VERBS}


def _verb(p: Parsed) -> tuple[Word | None, tuple[Word, ...]]:
    return (p.operands[0], p.operands[1:]) if p.operands else (None, ())


def _where(inv: Invocation, ctx: Context, p: Parsed) -> Where:
    return where(
        inv, ctx, context=p.value("--context"), kubeconfig=p.value("--kubeconfig"),
        namespace=p.value("-n", "--namespace"), cluster=p.value("--cluster"),
        server=p.value("--server", "-s"), user=p.value("--user"),
        all_ns=p.has("-A", "--all-namespaces"),
    )  # fmt: skip


@analyzer("kubectl", "oc")
def kubectl(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = normalize_options(inv.args, _LONG_VALUE_ALL, _SHORT_VALUE)
    cut = next((i for i, w in enumerate(args) if w.value == "--" and w.known), len(args))
    p = parse_argv(args[:cut], short_value=_SHORT_VALUE, long_value=_LONG_VALUE)
    verb_w, ops = _verb(p)
    if verb_w is None:
        return
    if not verb_w.known:
        yield finding(inv, "shell.opaque", verb_w.value, LOW, tags=("unknown-object",),
                      target=_where(inv, ctx, p).at(),
                      detail=f"{inv.program}: the verb is not known statically")  # fmt: skip
        return
    verb = verb_w.value
    if inv.program == "oc" and verb == "adm" and ops:
        verb, ops = ops[0].value, ops[1:]
    handler = HANDLERS.get(verb)
    if inv.program == "oc":
        handler = _OC.get(verb, handler)
        if verb == "new-project":
            ops = (Word("project"), *ops)
    if handler is None:
        return
    w = _where(inv, ctx, p)
    c = Cmd(inv, ctx, p, verb, ops, tuple(args[cut + 1 :]), w)
    if not c.dry and not p.has("-h", "--help"):
        yield from handler(c)


@analyzer("kubectx", "kubens")
def kubectx(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    c = Cmd(inv, ctx, p, inv.program, p.operands, (), where(inv, ctx))
    yield from (_ctx_plugin if inv.program == "kubectx" else _ns_plugin)(c)
