"""The kubectl verbs that change objects: delete, scale, drain, cordon, apply,
create, replace, patch, edit, set, rollout, label/annotate, taint, exec/attach/
debug, cp, run, expose/autoscale, `auth reconcile`, `certificate approve|deny`
(a helper module, not a family; it registers nothing: k8s.py maps verbs to
these handlers through `VERBS` and registers kubectl/oc).

Severity of `delete`: HIGH for every kind except named pods, events and jobs
(pods are recreated by their controllers; events and jobs are cleanup). A
selector, `--all`, `-A`, the kind `all`, `--force`, or objects we cannot name
(a URL, an unreadable file or directory, a remote or generated part of a
kustomization) make any delete HIGH; an unknown kind (a
custom resource) may well be a database, so it is HIGH too. `exec`, `attach`
and `debug` emit only `k8s.exec`: the remote command is the unwrapper's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from guardsh.analyze.k8s_cmd import Cmd, Handler
from guardsh.analyze.k8s_manifests import patch_zeroes, read_text
from guardsh.analyze.kube import Group, canon_kind, known, resources
from guardsh.model import Finding, Severity, Word

HIGH, LOW = Severity.HIGH, Severity.LOW
_LOW_DELETE = frozenset({"pod", "event", "job"})


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


# verb -> handler, for the verbs that change objects (k8s.py adds the context switchers)
VERBS: dict[str, Handler] = {
    "delete": _delete, "scale": _scale, "drain": _drain, "cordon": _cordon,
    "apply": _apply, "create": _create, "replace": _replace, "patch": _patch,
    "edit": _edit, "set": _set, "rollout": _rollout, "label": _label,
    "annotate": _label, "taint": _taint, "exec": _exec, "attach": _exec,
    "debug": _exec, "cp": _cp, "run": _run, "expose": _expose, "autoscale": _expose,
    "auth": _sub({"reconcile": _change}),
    "certificate": _sub({"approve": _csr, "deny": _csr}),
}  # fmt: skip
OC_VERBS: dict[str, Handler] = {"new-project": _create, "new-app": _change}
