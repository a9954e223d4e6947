"""kubectl and `oc` (and the context switchers kubectx/kubens): what a command
changes, and in which cluster and namespace.

Global flags may stand anywhere (`kubectl -n prod delete …`, `kubectl delete …
--context=prod`), so argv is read with kubectl's option grammar, never by
position: the verb is the first operand. Where it acts is resolved by
`kube.where` (flag, else `check --kube-context`, else the kubeconfig facts).

Severity of `delete`: HIGH for every kind except named pods, events and jobs
(pods are recreated by their controllers; events and jobs are cleanup). A
selector, `--all`, `-A`, the kind `all`, `--force`, or objects we cannot name
(a URL, a directory, a kustomization) make any delete HIGH; an unknown kind (a
custom resource) may well be a database, so it is HIGH too.

`kubectl exec POD -- CMD`: only `k8s.exec` is emitted here; the remote command
is analyzed by the unwrapper. `--dry-run` (bare, `=client`, `=server`) keeps
every verb quiet, as do the read-only verbs (get, describe, logs, top, explain,
diff, port-forward, auth can-i, version, api-resources, config view …).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from guardsh.analyze.kube import (
    Group,
    Where,
    canon_kind,
    known,
    manifest_groups,
    normalize_options,
    patch_zeroes,
    read_text,
    resources,
    where,
)
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word
from guardsh.parse.argv import Parsed, parse_argv

HIGH, LOW = Severity.HIGH, Severity.LOW
KIND_TAGS = {
    "namespace": "namespace",
    "project": "namespace",
    "persistentvolumeclaim": "pvc",
    "persistentvolume": "pv",
    "customresourcedefinition": "crd",
    "node": "node",
}
_LOW_DELETE = frozenset({"pod", "event", "job"})

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


@dataclass(frozen=True, slots=True)
class Cmd:
    """One kubectl command, parsed: what every verb handler needs."""

    inv: Invocation
    ctx: Context
    p: Parsed
    verb: str
    ops: tuple[Word, ...]  # operands after the verb, before `--`
    tail: tuple[Word, ...]  # words after `--`
    where: Where

    def find(
        self, action: str, group: Group | None, sev: Severity, tags: Iterable[str] = (),
        detail: str = "", obj: str | None = None, target: Target | None = None,
    ) -> Finding:  # fmt: skip
        """A finding on `group` (its kind's tags; its namespace in the target)."""
        all_tags = set(tags)
        if group is not None:
            tag = KIND_TAGS.get(group.kind)
            if tag:
                all_tags.add(tag)
            if group.unknown:
                all_tags.add("unknown-object")
            if self.where.all_ns:
                all_tags.update(("all-namespaces", "bulk"))
        one = group is not None and len(group.names) == 1 and not group.unknown
        name = group.names[0] if group is not None and one else None
        if target is None:
            target = self.where.at(
                group.kind if group else None, group.namespace if group else None, name
            )
        if obj is None and group is not None:
            obj = group.object
        return finding(
            self.inv, action, obj, sev, tags=all_tags, target=target,
            detail=detail or f"{self.inv.program} {self.verb} {obj or ''}".rstrip(),
        )  # fmt: skip

    @property
    def dry(self) -> bool:
        """`--dry-run` (bare = client), `=client`, `=server`, `=true`: nothing changes."""
        v = None
        seen = False
        for o in self.p.opts:
            if o.name == "--dry-run":
                seen, v = True, o.value
        if not seen:
            return False
        if v is None:
            return True
        return v.known and v.value.lower() not in ("none", "false", "")

    @property
    def scope(self) -> str | None:
        """How objects are chosen without names: `all`, `-l SEL`, `--field-selector F`."""
        p = self.p
        if p.has("--all"):
            return "all"
        sel = p.value("-l", "--selector")
        if sel is not None:
            return f"-l {sel.value}"
        fs = p.value("--field-selector")
        if fs is not None:
            return f"--field-selector {fs.value}"
        return None

    def groups(self, words: Iterable[Word] | None = None) -> list[Group]:
        """The objects named by -f/-k manifests, else by resource arguments."""
        p = self.p
        files = p.values("-f", "--filename")
        kust = p.values("-k", "--kustomize")
        if files or kust:
            return manifest_groups(self.inv, self.ctx, files, kust)
        if p.has("-f", "--filename", "-k", "--kustomize"):  # the flag's value is missing
            return [Group("manifests", unknown=True)]
        return resources(tuple(self.ops if words is None else words), self.scope)


Handler = Callable[[Cmd], Iterator[Finding]]


def _split_changes(words: Iterable[Word]) -> tuple[list[Word], list[Word]]:
    """`label`/`annotate`/`set env`/`taint`: resource words, then KEY=V / KEY- / K:E."""
    res: list[Word] = []
    changes: list[Word] = []
    for w in words:
        v = w.value
        if changes or "=" in v or ":" in v or v.endswith("-"):
            changes.append(w)
        else:
            res.append(w)
    return res, changes


def _delete(c: Cmd) -> Iterator[Finding]:
    raw = c.p.value("--raw")
    if raw is not None:
        yield c.find("k8s.delete", None, HIGH, ("unknown-object",), obj=raw.value)
        return
    bulk = c.scope is not None or c.where.all_ns
    force = c.p.has("--force")
    tags = {t for t, on in (("bulk", bulk), ("force", force)) if on}
    cascade = c.p.value("--cascade")
    if cascade is not None and cascade.value == "orphan":
        tags.add("orphan")
    for g in c.groups():
        for one in _per_namespace(g):
            low = one.kind in _LOW_DELETE and one.names and not (bulk or force or one.unknown)
            extra = {"bulk"} if one.kind == "all" else set()
            yield c.find("k8s.delete", one, LOW if low else HIGH, tags | extra)


def _per_namespace(g: Group) -> list[Group]:
    """`delete ns a b`: one finding per namespace, each with its own target."""
    if g.kind in ("namespace", "project") and len(g.names) > 1:
        return [Group(g.kind, (n,), unknown=g.unknown) for n in g.names]
    return [g]


def _scale(c: Cmd) -> Iterator[Finding]:
    rep = c.p.value("--replicas")
    if rep is None:
        return
    n = rep.value.strip()
    zero = not rep.known or (n.isdigit() and int(n) == 0)  # unknown: it may well be 0
    tags = {"bulk"} if c.scope else set()
    if not rep.known:
        tags.add("unknown-replicas")
    for g in c.groups():
        if zero:
            yield c.find("k8s.scale_zero", g, HIGH, tags, f"scale {g.object} to {n}")
        else:
            yield c.find("k8s.apply", g, LOW, tags, f"scale {g.object} to {n}")


def _nodes(c: Cmd) -> list[Group]:
    if c.ops and "/" in c.ops[0].value:
        return resources(c.ops)
    return resources((Word("node"), *c.ops), c.scope)


def _drain(c: Cmd) -> Iterator[Finding]:
    tags = {"bulk"} if c.scope else set()
    if c.p.has("--delete-emptydir-data", "--delete-local-data"):
        tags.add("emptydir-data")
    if c.p.has("--force"):
        tags.add("force")
    for g in _nodes(c):
        yield c.find("k8s.drain", g, HIGH, tags)


def _cordon(c: Cmd) -> Iterator[Finding]:
    bulk = c.scope is not None
    for g in _nodes(c):
        yield c.find("k8s.cordon", g, HIGH if bulk else LOW, {"bulk"} if bulk else ())


def _apply(c: Cmd) -> Iterator[Finding]:
    sub = c.ops[0].value if c.ops else ""
    if sub == "view-last-applied":
        return
    if sub in ("edit-last-applied", "set-last-applied"):
        action = "k8s.edit" if sub.startswith("edit") else "k8s.apply"
        for g in c.groups(c.ops[1:]):
            yield c.find(action, g, LOW, detail=f"{c.verb} {sub} {g.object}")
        return
    p = c.p
    tags = set()
    if p.has("--force"):
        tags.add("force")
    if p.has("--force-conflicts"):
        tags.add("force-conflicts")
    prune = p.has("--prune")
    if prune:
        tags.add("prune")
    sev = HIGH if prune or "force" in tags else LOW
    yield from _writes(c, "k8s.apply", sev, tags)
    if prune:
        applyset = p.value("--applyset")
        how = c.scope or (f"applyset {applyset.value}" if applyset is not None else "all")
        obj = f"objects not in the manifests ({how})"
        yield c.find("k8s.delete", None, HIGH, {"prune", "bulk"}, obj=obj, target=c.where.at())


def _writes(c: Cmd, action: str, sev: Severity, tags: set[str]) -> Iterator[Finding]:
    """apply/create/replace of manifests; a manifest with `replicas: 0` also scales to zero."""
    for g in c.groups():
        yield c.find(action, g, sev, tags)
        if g.zero:
            yield c.find("k8s.scale_zero", g, HIGH, tags, f"{c.verb} {g.object} with replicas: 0")


def _create(c: Cmd) -> Iterator[Finding]:
    if c.p.values("-f", "--filename", "-k", "--kustomize"):
        yield from _writes(c, "k8s.apply", LOW, set())
        return
    if not c.ops or c.ops[0].value == "token":
        return
    kind = canon_kind(c.ops[0].value)
    skip = 2 if kind in ("secret", "service") else 1
    names = tuple(w.value for w in c.ops[skip : skip + 1])
    yield c.find("k8s.apply", Group(kind, names), LOW)


def _replace(c: Cmd) -> Iterator[Finding]:
    force = c.p.has("--force")
    yield from _writes(c, "k8s.replace", HIGH if force else LOW, {"force"} if force else set())


def _patch(c: Cmd) -> Iterator[Finding]:
    if c.p.has("--local"):
        return
    body = c.p.value("-p", "--patch")
    text = body.value if body is not None and body.known else None
    pf = c.p.value("--patch-file")
    if text is None and pf is not None and pf.known:
        text = read_text(c.inv, c.ctx, pf.value)
    zero = text is not None and patch_zeroes(text)
    for g in c.groups():
        yield c.find("k8s.patch", g, LOW)
        if zero:
            yield c.find("k8s.scale_zero", g, HIGH, detail=f"patch {g.object}: replicas 0")


def _edit(c: Cmd) -> Iterator[Finding]:
    for g in c.groups():
        yield c.find("k8s.edit", g, LOW)


def _set(c: Cmd) -> Iterator[Finding]:
    if not c.ops or c.p.has("--local") or c.p.has("--list"):
        return
    sub = c.ops[0].value
    res, _ = _split_changes(c.ops[1:])
    if sub in ("serviceaccount", "sa") and len(res) > 1:
        res = res[:-1]
    for g in c.groups(res):
        yield c.find("k8s.apply", g, LOW, detail=f"set {sub} {g.object}")


def _rollout(c: Cmd) -> Iterator[Finding]:
    sub = c.ops[0].value if c.ops else ""
    if sub not in ("restart", "undo", "pause", "resume"):
        return
    for g in c.groups(c.ops[1:]):
        tags = set()
        if not g.names:
            tags.add("bulk")  # `rollout restart deployment`: every one in the namespace
            if g.scope is None and not g.unknown:
                g = Group(g.kind, scope="all", namespace=g.namespace)
        rev = c.p.value("--to-revision")
        detail = f"rollout {sub} {g.object}" + (f" to revision {rev.value}" if rev else "")
        yield c.find("k8s.rollout_restart", g, LOW, tags, detail)


def _label(c: Cmd) -> Iterator[Finding]:
    if c.p.has("--list") or c.p.has("--local"):
        return
    res, changes = _split_changes(c.ops)
    removes = [w.value for w in changes if w.value.endswith("-")]
    overwrite = c.p.has("--overwrite")
    if not (overwrite or removes):
        return  # adding a new label/annotation: kubectl refuses to change existing ones
    how = "overwrite" if overwrite else "remove " + ",".join(removes)
    tags = {"bulk"} if c.scope else set()
    for g in c.groups(res):
        yield c.find("k8s.apply", g, LOW, tags, f"{c.verb} {g.object} ({how})")


def _taint(c: Cmd) -> Iterator[Finding]:
    res, specs = _split_changes(c.ops)
    evicts = any("NoExecute" in w.value and not w.value.endswith("-") for w in specs)
    bulk = c.scope is not None
    tags = {t for t, on in (("evicts", evicts), ("bulk", bulk)) if on}
    sev = HIGH if evicts or bulk else LOW
    spec = " ".join(w.value for w in specs)
    for g in c.groups(res):
        yield c.find("k8s.apply", g, sev, tags, f"taint {g.object} {spec}".rstrip())


def _pod(w: Word) -> Group:
    if "/" in w.value:
        return resources((w,))[0]
    return Group("pod", (w.value,), unknown=not w.known)


def _exec(c: Cmd) -> Iterator[Finding]:
    pod = c.p.value("-p", "--pod") or (c.ops[0] if c.ops else None)
    if c.verb == "attach" and not c.p.has("-i", "--stdin"):
        return
    g = _pod(pod) if pod is not None else Group("pod", unknown=True)
    cmd = " ".join(w.value for w in (c.tail or c.ops[1:]))
    yield c.find("k8s.exec", g, LOW, detail=f"{c.verb} {g.object}" + (f": {cmd}" if cmd else ""))


def _cp(c: Cmd) -> Iterator[Finding]:
    if len(c.ops) < 2:
        return
    dst = c.ops[-1].value
    spec, colon, path = dst.partition(":")
    if not colon or not spec or spec.startswith((".", "/", "~")):
        return  # copying out of a pod (or between local paths) changes nothing there
    ns, _, pod = spec.rpartition("/")
    g = Group("pod", (pod,), namespace=ns or None, unknown=not c.ops[-1].known)
    yield c.find("k8s.exec", g, LOW, detail=f"cp into {g.object}:{path}")


def _run(c: Cmd) -> Iterator[Finding]:
    if c.ops:
        yield c.find("k8s.apply", _pod(c.ops[0]), LOW, detail=f"run pod {c.ops[0].value}")


def _expose(c: Cmd) -> Iterator[Finding]:
    made = "service" if c.verb == "expose" else "horizontalpodautoscaler"
    for g in c.groups():
        name = known(c.p.value("--name")) or (g.names[0] if g.names else "?")
        yield c.find("k8s.apply", Group(made, (name,), namespace=g.namespace), LOW,
                     detail=f"{c.verb} {g.object}")  # fmt: skip


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


def _sub(verbs: dict[str, Handler]) -> Handler:
    """`auth reconcile`, `certificate approve`: a handler for one sub-verb."""

    def handle(c: Cmd) -> Iterator[Finding]:
        sub = c.ops[0].value if c.ops else ""
        fn = verbs.get(sub)
        if fn is not None:
            yield from fn(Cmd(c.inv, c.ctx, c.p, f"{c.verb} {sub}", c.ops[1:], c.tail, c.where))

    return handle


def _change(c: Cmd) -> Iterator[Finding]:
    for g in c.groups() or [Group("?", unknown=True)]:
        yield c.find("k8s.apply", g, LOW)


def _csr(c: Cmd) -> Iterator[Finding]:
    yield from _change(Cmd(c.inv, c.ctx, c.p, c.verb, (Word("csr"), *c.ops), c.tail, c.where))


HANDLERS: dict[str, Handler] = {
    "delete": _delete, "scale": _scale, "drain": _drain, "cordon": _cordon,
    "apply": _apply, "create": _create, "replace": _replace, "patch": _patch,
    "edit": _edit, "set": _set, "rollout": _rollout, "label": _label,
    "annotate": _label, "taint": _taint, "exec": _exec, "attach": _exec,
    "debug": _exec, "cp": _cp, "run": _run, "expose": _expose, "autoscale": _expose,
    "config": _config, "ctx": _ctx_plugin, "ns": _ns_plugin,
    "auth": _sub({"reconcile": _change}),
    "certificate": _sub({"approve": _csr, "deny": _csr}),
}  # fmt: skip
_OC = {"project": _ns_plugin, "login": _login, "new-project": _create, "new-app": _change}


def _verb(p: Parsed) -> tuple[Word | None, tuple[Word, ...]]:
    return (p.operands[0], p.operands[1:]) if p.operands else (None, ())


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
    w = where(
        inv, ctx, context=p.value("--context"), kubeconfig=p.value("--kubeconfig"),
        namespace=p.value("-n", "--namespace"), cluster=p.value("--cluster"),
        server=p.value("--server", "-s"), user=p.value("--user"),
        all_ns=p.has("-A", "--all-namespaces"),
    )  # fmt: skip
    c = Cmd(inv, ctx, p, verb, ops, tuple(args[cut + 1 :]), w)
    if not c.dry and not p.has("-h", "--help"):
        yield from handler(c)


@analyzer("kubectx", "kubens")
def kubectx(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    c = Cmd(inv, ctx, p, inv.program, p.operands, (), where(inv, ctx))
    yield from (_ctx_plugin if inv.program == "kubectx" else _ns_plugin)(c)
