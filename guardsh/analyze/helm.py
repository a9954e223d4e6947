"""helm (v2 and v3/v4) and helmfile: releases removed, upgraded or rolled back.

Global flags may stand anywhere (`helm -n prod uninstall api`,
`helm uninstall api --kube-context=prod`). The target is the same kube target
kubectl gets (`--kube-context`/`HELM_KUBECONTEXT`, else `check --kube-context`,
else the kubeconfig's current context; `-n`/`HELM_NAMESPACE`, else the
context's namespace). Objects are release names.

Severity: uninstall is HIGH (the release's resources, PVC-backed data among
them, are deleted); upgrade/install/rollback are LOW changes, except
`upgrade --force` (resources deleted and re-created: downtime). `--dry-run` and
the read-only verbs (list, status, get, template, diff, history, show, repo,
search, lint, version, …) are quiet; so are plugins like `helm diff upgrade`,
whose verb is `diff`. `helm secrets upgrade …` (the helm-secrets plugin) runs a
real upgrade and is read as one.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardsh.analyze.kube import Where, known, normalize_options, where
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Word
from guardsh.parse.argv import Parsed, parse_argv

HIGH, LOW = Severity.HIGH, Severity.LOW

_LONG_VALUE = frozenset(
    """kube-context kubeconfig namespace kube-apiserver kube-as-user kube-as-group
    kube-ca-file kube-token kube-tls-server-name registry-config repository-cache
    repository-config burst-limit qps version values set set-string set-file set-json
    set-literal timeout description post-renderer post-renderer-args repo username
    password ca-file cert-file key-file keyring history-max max-history output revision
    filter max offset selector deletion-propagation cascade labels name-template
    tiller-namespace home host tiller-connection-timeout api-versions kube-version
    show-only output-dir""".split()  # noqa: SIM905
)
_SHORT_VALUE = "flno"
_UNINSTALL = frozenset({"uninstall", "delete", "del", "un"})
_FLAG_TAGS = (
    ("--install", "install"),
    ("-i", "install"),
    ("--force", "force"),
    ("--force-replace", "force"),
    ("--reset-values", "reset-values"),
    ("--reset-then-reuse-values", "reset-values"),
    ("--recreate-pods", "recreate-pods"),
    ("--purge", "purge"),
    ("--keep-history", "keep-history"),
    ("--atomic", "atomic"),
    ("--rollback-on-failure", "atomic"),
)


def _dry(p: Parsed) -> bool:
    """`--dry-run` bare, `=client`, `=server`, `=true`; `=none`/`=false` run for real."""
    v: Word | None = None
    seen = False
    for o in p.opts:
        if o.name == "--dry-run":
            seen, v = True, o.value
    if not seen:
        return False
    return v is None or (v.known and v.value.lower() not in ("none", "false", ""))


def _tags(p: Parsed) -> set[str]:
    return {tag for flag, tag in _FLAG_TAGS if p.has(flag)}


def _where(
    inv: Invocation, ctx: Context, p: Parsed, env_ctx: str | None, env_ns: str | None
) -> Where:
    ns = p.value("-n", "--namespace")
    return where(
        inv, ctx, context=p.value("--kube-context"), kubeconfig=p.value("--kubeconfig"),
        namespace=ns if ns is not None else (Word(env_ns) if env_ns else None),
        server=p.value("--kube-apiserver"), env_context=env_ctx,
    )  # fmt: skip


def _env(inv: Invocation, ctx: Context, name: str) -> str | None:
    return inv.env_get(name) or ctx.snapshot.variables.get(name) or None


@analyzer("helm", "helm3", "helm2")
def helm(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = normalize_options(inv.args, _LONG_VALUE, _SHORT_VALUE)
    p = parse_argv(args, short_value=_SHORT_VALUE, long_value=_LONG_VALUE)
    ops = list(p.operands)
    if ops and ops[0].value == "secrets" and len(ops) > 1:  # helm-secrets wraps the verb
        ops = ops[1:]
    if not ops:
        return
    verb_w, ops = ops[0], ops[1:]
    if not verb_w.known:
        w = _where(
            inv, ctx, p, _env(inv, ctx, "HELM_KUBECONTEXT"), _env(inv, ctx, "HELM_NAMESPACE")
        )
        yield finding(inv, "shell.opaque", verb_w.value, LOW, tags=("unknown-object",),
                      target=w.at(), detail="helm: the verb is not known statically")  # fmt: skip
        return
    verb = verb_w.value
    if (verb not in _UNINSTALL and verb not in ("upgrade", "install", "rollback")) or _dry(p):
        return
    w = _where(inv, ctx, p, _env(inv, ctx, "HELM_KUBECONTEXT"), _env(inv, ctx, "HELM_NAMESPACE"))
    target = w.at()
    tags = _tags(p)
    if verb in _UNINSTALL:
        for rw in ops or [Word("?", known=False)]:
            yield finding(inv, "helm.uninstall", rw.value, HIGH, target=target,
                          tags=tags | ({"unknown-object"} if not rw.known else set()),
                          detail=f"helm {verb} {rw.value}")  # fmt: skip
        return
    rel = ops[0].value if ops else "?"
    if verb == "rollback":
        rev = f" to revision {ops[1].value}" if len(ops) > 1 else " to the previous revision"
        yield finding(inv, "helm.rollback", rel, LOW, target=target, tags=tags,
                      detail=f"helm rollback {rel}{rev}")  # fmt: skip
        return
    if verb == "install":
        tags.add("install")
    generated = verb == "install" and p.has("--generate-name", "-g")
    if generated:
        rel = "(generated)"
    chart = (ops[0] if generated else ops[1] if len(ops) > 1 else None) if ops else None
    unknown = {"unknown-object"} if ops and not ops[0].known else set()
    sev = HIGH if "force" in tags else LOW
    detail = f"helm {verb} {rel}" + (f" with {chart.value}" if chart else "")
    yield finding(inv, "helm.upgrade", rel, sev, target=target, tags=tags | unknown, detail=detail)


_HELMFILE_LONG = frozenset(
    """file environment kube-context namespace selector state-values-set state-values-file
    chart log-level helm-binary kustomize-binary args values set concurrency
    skip-diff-on-install context output-dir""".split()  # noqa: SIM905
)


@analyzer("helmfile")
def helmfile(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """helmfile destroy|delete removes every selected release; apply|sync upgrade them."""
    p = parse_argv(inv.args, short_value="beflnc", long_value=_HELMFILE_LONG)
    if not p.operands or _dry(p):
        return
    verb = p.operands[0].value
    if verb not in ("destroy", "delete", "apply", "sync", "deploy"):
        return
    w = _where(inv, ctx, p, None, None)
    env = known(p.value("-e", "--environment"))
    target = w.at().with_fields(helmfile_environment=env)
    files = ",".join(x.value for x in p.values("-f", "--file")) or "helmfile.yaml"
    sel = p.values("-l", "--selector")
    obj = f"releases in {files}" + (f" (-l {','.join(s.value for s in sel)})" if sel else "")
    tags = {"bulk"} if not sel else set()
    if verb in ("destroy", "delete"):
        yield finding(inv, "helm.uninstall", obj, HIGH, target=target, tags=tags,
                      detail=f"helmfile {verb}: {obj}")  # fmt: skip
    else:
        yield finding(inv, "helm.upgrade", obj, LOW, target=target, tags=tags,
                      detail=f"helmfile {verb}: {obj}")  # fmt: skip
