"""Unit tables for the kubectl/oc/kubectx and helm analyzers, on hand-built invocations.

No Kubernetes API server can run here and none is needed: analysis is static.
The kubeconfig contexts below (`KUBE`) stand in for what the kubeconfig facts
adapter reads from a real cluster's kubeconfig.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

import pytest

import guardsh.analyze.helm
import guardsh.analyze.k8s  # noqa: F401
from guardsh.analyze.registry import Context
from guardsh.facts.kubeconfig import KubeConfig
from guardsh.model import (
    Facts,
    Finding,
    Invocation,
    KubeContext,
    Snapshot,
    Span,
    Stdin,
    Target,
)
from tests.analyze.support import brief, findings, words

LOCAL = Target("local", (("hostname", "bastion-1"),))
SERVER = "https://prod-eu.k8s.example.com:6443"
KUBE = {
    "prod-eu": KubeContext("prod-eu", "prod-eu-cluster", SERVER, "admin", "payments"),
    "staging": KubeContext(
        "staging", "staging-cluster", "https://staging.example.com", "dev", None
    ),
    "dev": KubeContext("dev", "kind-dev", "https://127.0.0.1:6443", "kind", "sandbox"),
}


def run(
    line: str,
    *,
    target: Target = LOCAL,
    stdin: str | None = None,
    files: dict[str, str] | None = None,
    kube: Mapping[str, KubeContext] = KUBE,
    current: str | None = "prod-eu",
    snapshot_context: str | None = None,
    env: tuple[tuple[str, str], ...] = (),
    variables: Mapping[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Finding]:
    argv = tuple(words(line))
    inv = Invocation(
        program=posixpath.basename(argv[0].value),
        argv=argv,
        span=Span(0, len(line)),
        target=target,
        stdin=Stdin(stdin, "pipe:cat") if stdin is not None else None,
        env=env,
    )
    table = files or {}
    ctx = Context(
        line=line,
        snapshot=Snapshot(
            cwd="/srv/deploy",
            home="/home/ops",
            kube_context=snapshot_context,
            variables=variables or {},
        ),
        facts=Facts(read_file=table.get, kube=kube, kube_current=current, extra=extra or {}),
        recurse_shell=lambda text, tgt, span: [],
    )
    return findings(inv, ctx)


def tgt(f: Finding) -> dict[str, str]:
    return dict(f.target.fields)


H, L = "high", "low"

FIRING = [
    # delete: kinds, aliases, flags anywhere
    ("kubectl delete ns payments", [("k8s.delete", "namespace/payments", H)]),
    ("kubectl -n prod delete deploy api", [("k8s.delete", "deployment/api", H)]),
    (
        "kubectl --context=staging delete deployments.apps/api",
        [("k8s.delete", "deployment/api", H)],
    ),
    ("kubectl delete pod web-1", [("k8s.delete", "pod/web-1", L)]),
    ("kubectl delete po web-1 web-2 -n x", [("k8s.delete", "pod/web-1,web-2", L)]),
    ("kubectl delete pod web-1 --force --grace-period=0", [("k8s.delete", "pod/web-1", H)]),
    ("kubectl delete pods --all", [("k8s.delete", "pod (all)", H)]),
    ("kubectl delete pods -l app=web", [("k8s.delete", "pod (-l app=web)", H)]),
    (
        "kubectl delete pods --field-selector=status.phase=Failed",
        [("k8s.delete", "pod (--field-selector status.phase=Failed)", H)],
    ),
    ("kubectl delete pvc data-db-0", [("k8s.delete", "persistentvolumeclaim/data-db-0", H)]),
    (
        "kubectl delete deploy/api svc/api",
        [("k8s.delete", "deployment/api", H), ("k8s.delete", "service/api", H)],
    ),
    (
        "kubectl delete deploy,svc -l app=api",
        [("k8s.delete", "deployment (-l app=api)", H), ("k8s.delete", "service (-l app=api)", H)],
    ),
    ("kubectl delete all --all -n payments", [("k8s.delete", "all (all)", H)]),
    (
        "kubectl delete postgresclusters.acid.zalan.do main",
        [("k8s.delete", "postgresclusters.acid.zalan.do/main", H)],
    ),
    ("kubectl delete job migrate", [("k8s.delete", "job/migrate", L)]),
    ("kubectl delete ns $NS", [("k8s.delete", "namespace/$NS", H)]),
    ("kubectl delete --raw /api/v1/namespaces/x", [("k8s.delete", "/api/v1/namespaces/x", H)]),
    (
        "kubectl delete -f https://example.com/x.yaml",
        [("k8s.delete", "manifests in https://example.com/x.yaml", H)],
    ),
    ("kubectl delete -k overlays/prod", [("k8s.delete", "kustomization overlays/prod", H)]),
    ("kubectl delete deploy api --dry-run=none", [("k8s.delete", "deployment/api", H)]),
    ("oc delete project payments", [("k8s.delete", "project/payments", H)]),
    ("oc adm drain node-1", [("k8s.drain", "node/node-1", H)]),
    # scale
    ("kubectl scale deploy api --replicas=0", [("k8s.scale_zero", "deployment/api", H)]),
    ("kubectl scale --replicas 0 statefulset/db", [("k8s.scale_zero", "statefulset/db", H)]),
    ("kubectl scale deploy api --replicas=$N", [("k8s.scale_zero", "deployment/api", H)]),
    ("kubectl scale deploy api --replicas=3", [("k8s.apply", "deployment/api", L)]),
    # nodes
    ("kubectl drain node-1 --ignore-daemonsets", [("k8s.drain", "node/node-1", H)]),
    ("kubectl cordon node-1", [("k8s.cordon", "node/node-1", L)]),
    ("kubectl cordon -l pool=default", [("k8s.cordon", "node (-l pool=default)", H)]),
    ("kubectl taint nodes node-1 dedicated=db:NoSchedule", [("k8s.apply", "node/node-1", L)]),
    ("kubectl taint node node-1 maint=true:NoExecute", [("k8s.apply", "node/node-1", H)]),
    # writes
    ("kubectl apply -f https://x/y.yaml", [("k8s.apply", "manifests in https://x/y.yaml", L)]),
    (
        "kubectl apply -k overlays/prod --prune -l app=api",
        [
            ("k8s.apply", "kustomization overlays/prod", H),
            ("k8s.delete", "objects not in the manifests (-l app=api)", H),
        ],
    ),
    ("kubectl apply -f x.yaml --force", [("k8s.apply", "manifests in x.yaml", H)]),
    (
        "kubectl apply --server-side --force-conflicts -f x.yaml",
        [("k8s.apply", "manifests in x.yaml", L)],
    ),
    ("kubectl create ns scratch", [("k8s.apply", "namespace/scratch", L)]),
    (
        "kubectl create secret generic db-pass --from-literal=p=x",
        [("k8s.apply", "secret/db-pass", L)],
    ),
    ("kubectl create deployment web --image=nginx", [("k8s.apply", "deployment/web", L)]),
    ("kubectl replace --force -f x.yaml", [("k8s.replace", "manifests in x.yaml", H)]),
    ("kubectl replace -f x.yaml", [("k8s.replace", "manifests in x.yaml", L)]),
    (
        'kubectl patch deploy api -p \'{"spec":{"template":{}}}\'',
        [("k8s.patch", "deployment/api", L)],
    ),
    (
        'kubectl patch deploy api -p \'{"spec":{"replicas":0}}\'',
        [("k8s.patch", "deployment/api", L), ("k8s.scale_zero", "deployment/api", H)],
    ),
    (
        "kubectl patch sts/db --type=json"
        ' -p \'[{"op":"replace","path":"/spec/replicas","value":0}]\'',
        [("k8s.patch", "statefulset/db", L), ("k8s.scale_zero", "statefulset/db", H)],
    ),
    ("kubectl edit cm app-config", [("k8s.edit", "configmap/app-config", L)]),
    ("kubectl set image deploy/api api=registry/api:2", [("k8s.apply", "deployment/api", L)]),
    ("kubectl set env deploy api LOG=debug", [("k8s.apply", "deployment/api", L)]),
    (
        "kubectl set resources deployment api --limits=cpu=200m",
        [("k8s.apply", "deployment/api", L)],
    ),
    ("kubectl rollout restart deploy/api", [("k8s.rollout_restart", "deployment/api", L)]),
    (
        "kubectl rollout restart deployment -n payments",
        [("k8s.rollout_restart", "deployment (all)", L)],
    ),
    (
        "kubectl rollout undo deploy api --to-revision=3",
        [("k8s.rollout_restart", "deployment/api", L)],
    ),
    ("kubectl label pods web-1 app=x --overwrite", [("k8s.apply", "pod/web-1", L)]),
    ("kubectl label pods web-1 app-", [("k8s.apply", "pod/web-1", L)]),
    ("kubectl annotate deploy api note=x --overwrite", [("k8s.apply", "deployment/api", L)]),
    ("kubectl exec -it web-1 -c app -- bash", [("k8s.exec", "pod/web-1", L)]),
    ("kubectl exec deploy/api -- ls", [("k8s.exec", "deployment/api", L)]),
    ("kubectl attach -i web-1", [("k8s.exec", "pod/web-1", L)]),
    ("kubectl debug node/node-1 -it --image=busybox", [("k8s.exec", "node/node-1", L)]),
    ("kubectl cp ./fix.sql payments/db-0:/tmp/fix.sql", [("k8s.exec", "pod/db-0", L)]),
    ("kubectl run tmp --rm -it --image=busybox -- sh", [("k8s.apply", "pod/tmp", L)]),
    ("kubectl expose deploy api --port=80", [("k8s.apply", "service/api", L)]),
    ("kubectl certificate approve csr-1", [("k8s.apply", "certificatesigningrequest/csr-1", L)]),
    ("kubectl auth reconcile -f rbac.yaml", [("k8s.apply", "manifests in rbac.yaml", L)]),
    # context switches
    ("kubectl config use-context prod-eu", [("k8s.context_switch", "prod-eu", L)]),
    (
        "kubectl config set-context --current --namespace=billing",
        [("k8s.context_switch", "prod-eu", L)],
    ),
    ("kubectl config set current-context staging", [("k8s.context_switch", "staging", L)]),
    ("kubectx dev", [("k8s.context_switch", "dev", L)]),
    ("kubens billing", [("k8s.context_switch", "prod-eu", L)]),
    ("kubectl ctx staging", [("k8s.context_switch", "staging", L)]),
    ("oc project billing", [("k8s.context_switch", "prod-eu", L)]),
    ("oc login https://api.prod:6443", [("k8s.context_switch", "https://api.prod:6443", L)]),
    ("kubectl $VERB ns payments", [("shell.opaque", "$VERB", L)]),
    # helm
    ("helm uninstall api", [("helm.uninstall", "api", H)]),
    (
        "helm -n payments uninstall api worker",
        [("helm.uninstall", "api", H), ("helm.uninstall", "worker", H)],
    ),
    ("helm delete --purge api", [("helm.uninstall", "api", H)]),
    ("helm upgrade api ./chart", [("helm.upgrade", "api", L)]),
    ("helm upgrade --install api ./chart -f values-prod.yaml", [("helm.upgrade", "api", L)]),
    ("helm upgrade api ./chart --force", [("helm.upgrade", "api", H)]),
    ("helm install api ./chart", [("helm.upgrade", "api", L)]),
    ("helm install ./chart --generate-name", [("helm.upgrade", "(generated)", L)]),
    ("helm rollback api 3", [("helm.rollback", "api", L)]),
    ("helm secrets upgrade api ./chart -f secrets.yaml", [("helm.upgrade", "api", L)]),
    ("helm upgrade api ./chart --dry-run=none", [("helm.upgrade", "api", L)]),
    ("helmfile -e production destroy", [("helm.uninstall", "releases in helmfile.yaml", H)]),
    (
        "helmfile -l name=api apply",
        [("helm.upgrade", "releases in helmfile.yaml (-l name=api)", L)],
    ),
]

QUIET = [
    "kubectl get pods -A",
    "kubectl -n payments get deploy api -o yaml",
    "kubectl describe ns payments",
    "kubectl logs -f api-1 -c app",
    "kubectl logs -p api-1",
    "kubectl top pods",
    "kubectl explain deployment.spec",
    "kubectl diff -f x.yaml",
    "kubectl port-forward svc/api 8080:80",
    "kubectl auth can-i delete pods",
    "kubectl version --client",
    "kubectl api-resources",
    "kubectl config view",
    "kubectl config get-contexts",
    "kubectl config current-context",
    "kubectl delete ns payments --dry-run=client",
    "kubectl delete ns payments --dry-run=server",
    "kubectl delete ns payments --dry-run",
    "kubectl apply -f x.yaml --dry-run=server",
    "kubectl scale deploy api --replicas=0 --dry-run=client -o yaml",
    "kubectl rollout status deploy/api",
    "kubectl rollout history deploy/api",
    "kubectl uncordon node-1",
    "kubectl label pods web-1 team=a",
    "kubectl label pods web-1 --list",
    "kubectl set image deploy/api api=x --local -o yaml",
    "kubectl set env deploy/api --list",
    "kubectl cp db-0:/tmp/dump.sql ./dump.sql",
    "kubectl attach web-1",
    "kubectl wait --for=delete pod/web-1",
    "kubectl create token api-sa",
    "kubectl",
    "kubectl get events --field-selector type=Warning",
    "kubectl --request-timeout 5s get pods",
    "kubectl apply view-last-applied deploy/api",
    "kubectx",
    "kubectx -c",
    "kubens",
    "helm list -A",
    "helm status api",
    "helm get values api",
    "helm template api ./chart",
    "helm diff upgrade api ./chart",
    "helm history api",
    "helm uninstall api --dry-run",
    "helm upgrade --install api ./chart --dry-run=server",
    "helm repo update",
    "helm -n payments show values ./chart",
    "helmfile diff",
    "helmfile -e production template",
]


@pytest.mark.parametrize(("line", "expected"), FIRING, ids=[c[0] for c in FIRING])
def test_fires(line: str, expected: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == expected


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


# ---- targets ----------------------------------------------------------------------------


def test_current_context_resolved_to_server_and_namespace() -> None:
    (f,) = run("kubectl delete deploy api")
    assert f.target.kind == "kube"
    assert tgt(f) == {
        "kube_context": "prod-eu",
        "kube_cluster": "prod-eu-cluster",
        "kube_cluster_server": SERVER,
        "kube_user": "admin",
        "kube_namespace": "payments",
    }
    assert f.target.label() == "k8s:prod-eu/payments"


@pytest.mark.parametrize(
    "line",
    [
        "kubectl --context staging -n web delete deploy api",
        "kubectl --context=staging delete deploy api --namespace=web",
        "kubectl delete deploy api --namespace web --context=staging",
        "kubectl delete -nweb deploy api --context staging",
        "kubectl -v 6 --request-timeout 30s --context staging delete deploy api -n web",
        "kubectl -n=web --context=staging delete deploy api",
    ],
)
def test_flags_anywhere(line: str) -> None:
    (f,) = run(line)
    assert f.object == "deployment/api"
    t = tgt(f)
    assert t["kube_context"] == "staging"
    assert t["kube_namespace"] == "web"
    assert t["kube_cluster_server"] == "https://staging.example.com"


def test_context_without_namespace_defaults() -> None:
    (f,) = run("kubectl --context staging delete deploy api")
    assert tgt(f)["kube_namespace"] == "default"


def test_snapshot_kube_context_overrides_kubeconfig() -> None:
    (f,) = run("kubectl delete deploy api", snapshot_context="dev")
    assert tgt(f)["kube_context"] == "dev" and tgt(f)["kube_namespace"] == "sandbox"
    (f,) = run("kubectl --context staging delete deploy api", snapshot_context="dev")
    assert tgt(f)["kube_context"] == "staging"


def test_unknown_context_omits_what_is_unknown() -> None:
    (f,) = run("kubectl delete deploy api", kube={}, current=None)
    assert tgt(f) == {}
    (f,) = run("kubectl --context ghost delete deploy api -n x")
    assert tgt(f) == {"kube_context": "ghost", "kube_namespace": "x"}
    (f,) = run("kubectl --context $CTX delete deploy api")
    assert "kube_context" not in tgt(f)


def test_cluster_server_user_flags() -> None:
    (f,) = run("kubectl --cluster staging-cluster --user root delete deploy api")
    t = tgt(f)
    assert t["kube_cluster"] == "staging-cluster"
    assert t["kube_cluster_server"] == "https://staging.example.com"
    assert t["kube_user"] == "root"
    (f,) = run("kubectl -s https://10.0.0.1:6443 delete deploy api")
    assert tgt(f)["kube_cluster_server"] == "https://10.0.0.1:6443"


def test_all_namespaces_and_cluster_scoped_kinds() -> None:
    (f,) = run("kubectl delete pods --all -A")
    assert tgt(f)["kube_namespace"] == "*"
    assert {"bulk", "all-namespaces"} <= f.tags
    (f,) = run("kubectl delete node node-1")
    assert "kube_namespace" not in tgt(f) and "node" in f.tags
    (f,) = run("kubectl delete pv pv-1")
    assert "kube_namespace" not in tgt(f) and "pv" in f.tags
    (f,) = run("kubectl delete crd certificates.cert-manager.io")
    assert f.object == "customresourcedefinition/certificates.cert-manager.io" and "crd" in f.tags


def test_namespace_delete_targets_that_namespace() -> None:
    fs = run("kubectl delete ns payments billing")
    assert [(f.object, tgt(f)["kube_namespace"]) for f in fs] == [
        ("namespace/payments", "payments"),
        ("namespace/billing", "billing"),
    ]
    assert all("namespace" in f.tags and f.severity.name == "HIGH" for f in fs)


def test_remote_kubectl_does_not_use_local_kubeconfig() -> None:
    remote = Target("ssh", (("ssh_host", "bastion-prod"),))
    (f,) = run("kubectl delete deploy api", target=remote)
    assert tgt(f) == {"ssh_host": "bastion-prod"}
    (f,) = run("kubectl --context prod-eu -n x delete deploy api", target=remote)
    assert tgt(f) == {"ssh_host": "bastion-prod", "kube_context": "prod-eu", "kube_namespace": "x"}


def test_kubeconfig_flag_recorded_and_resolved_by_injected_loader() -> None:
    (f,) = run("kubectl --kubeconfig ~/.kube/prod delete deploy api")
    assert tgt(f) == {"kube_config": "~/.kube/prod"}
    asked: list[str] = []
    other = KubeConfig(
        current="prod-us",
        contexts={"prod-us": KubeContext("prod-us", "c", "https://us", "u", "billing")},
    )

    def load(path: str) -> KubeConfig:
        asked.append(path)
        return other

    (f,) = run("kubectl --kubeconfig=~/.kube/prod delete deploy api", extra={"kubeconfig": load})
    assert asked == ["/home/ops/.kube/prod"]
    t = tgt(f)
    assert (t["kube_context"], t["kube_cluster_server"], t["kube_namespace"]) == (
        "prod-us",
        "https://us",
        "billing",
    )
    (f,) = run(
        "kubectl delete deploy api", env=(("KUBECONFIG", "conf/us"),), extra={"kubeconfig": load}
    )
    assert asked[-1] == "/srv/deploy/conf/us" and tgt(f)["kube_config"] == "conf/us"


# ---- manifests --------------------------------------------------------------------------

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec: {replicas: 3}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: api}
"""


def test_delete_manifest_names_kinds_names_and_namespaces() -> None:
    fs = run("kubectl delete -f app.yaml", files={"/srv/deploy/app.yaml": MANIFEST})
    got = [(f.object, str(f.severity), tgt(f).get("kube_namespace")) for f in fs]
    assert got == [
        ("namespace/shop", "high", "shop"),
        ("deployment/api,worker", "high", "shop"),
        ("service/api", "high", "payments"),  # no namespace in the manifest: the context's
    ]
    assert "namespace" in fs[0].tags


def test_namespace_flag_wins_over_manifest() -> None:
    fs = run("kubectl -n other apply -f app.yaml", files={"/srv/deploy/app.yaml": MANIFEST})
    assert [tgt(f).get("kube_namespace") for f in fs] == ["shop", "other", "other"]


def test_manifest_from_stdin_and_lists_and_comma_files() -> None:
    pod = '{"kind": "Pod", "metadata": {"name": "%s"}}'
    lst = '{"kind": "List", "items": [' + pod % "a" + ", " + pod % "b" + "]}"
    assert brief(run("kubectl delete -f -", stdin=lst)) == [("k8s.delete", "pod/a,b", "low")]
    fs = run(
        "kubectl delete -f a.yaml,/abs/b.yaml",
        files={
            "/srv/deploy/a.yaml": "kind: Pod\nmetadata: {name: a}\n",
            "/abs/b.yaml": "kind: Secret\nmetadata: {name: s}\n",
        },
    )
    assert brief(fs) == [("k8s.delete", "pod/a", "low"), ("k8s.delete", "secret/s", "high")]


def test_unreadable_or_malformed_manifest_is_unknown() -> None:
    for files in (
        {},
        {"/srv/deploy/bad.yaml": "kind: [unclosed"},
        {"/srv/deploy/bad.yaml": "# nothing\n"},
    ):
        (f,) = run("kubectl delete -f bad.yaml", files=files)
        assert (
            f.object == "manifests in bad.yaml"
            and "unknown-object" in f.tags
            and f.severity.name == "HIGH"
        )
    (f,) = run("kubectl delete -f -")  # stdin not known
    assert "unknown-object" in f.tags


def test_apply_manifest_with_zero_replicas_scales_to_zero() -> None:
    text = "kind: StatefulSet\nmetadata: {name: db}\nspec: {replicas: 0}\n"
    fs = run("kubectl apply -f db.yaml", files={"/srv/deploy/db.yaml": text})
    assert brief(fs) == [
        ("k8s.apply", "statefulset/db", "low"),
        ("k8s.scale_zero", "statefulset/db", "high"),
    ]


def test_patch_file_zero() -> None:
    fs = run(
        "kubectl patch deploy api --patch-file p.yaml",
        files={"/srv/deploy/p.yaml": "spec:\n  replicas: 0\n"},
    )
    assert [f.action for f in fs] == ["k8s.patch", "k8s.scale_zero"]


def test_tags() -> None:
    (f,) = run("kubectl delete pod web-1 --force --grace-period=0")
    assert "force" in f.tags
    (f,) = run("kubectl delete deploy api --cascade=orphan")
    assert "orphan" in f.tags
    (f,) = run("kubectl drain node-1 --delete-emptydir-data --force")
    assert {"node", "emptydir-data", "force"} <= f.tags
    (f,) = run("kubectl taint node node-1 k=v:NoExecute")
    assert "evicts" in f.tags
    (f,) = run("kubectl scale deploy api --replicas=$N")
    assert "unknown-replicas" in f.tags
    (f,) = run("kubectl delete pod web-*")
    assert "unknown-object" in f.tags and f.severity.name == "HIGH"


def test_context_switch_targets_the_new_context() -> None:
    (f,) = run("kubectl config use-context staging")
    assert tgt(f)["kube_context"] == "staging"
    assert tgt(f)["kube_cluster_server"] == "https://staging.example.com"
    (f,) = run("kubectl config set-context --current --namespace=billing")
    assert (tgt(f)["kube_context"], tgt(f)["kube_namespace"]) == ("prod-eu", "billing")
    (f,) = run("kubens billing")
    assert tgt(f)["kube_namespace"] == "billing"
    (f,) = run("kubectx -")
    assert "unknown-object" in f.tags and "kube_context" not in tgt(f)


def test_exec_detail_names_the_command() -> None:
    (f,) = run("kubectl exec -n payments db-0 -- psql -c 'DROP TABLE x'")
    assert f.object == "pod/db-0"
    assert f.detail == "exec pod/db-0: psql -c DROP TABLE x"
    assert tgt(f)["kube_namespace"] == "payments"


def test_cp_namespace_from_pod_spec() -> None:
    (f,) = run("kubectl cp x.sql billing/db-0:/tmp/x.sql")
    assert tgt(f)["kube_namespace"] == "billing"


# ---- helm -------------------------------------------------------------------------------


def test_helm_target() -> None:
    (f,) = run("helm uninstall api")
    assert tgt(f)["kube_context"] == "prod-eu" and tgt(f)["kube_namespace"] == "payments"
    assert tgt(f)["kube_cluster_server"] == SERVER
    (f,) = run("helm --kube-context staging uninstall api -n web")
    assert (tgt(f)["kube_context"], tgt(f)["kube_namespace"]) == ("staging", "web")
    (f,) = run("helm uninstall api --kube-context=staging --namespace=web")
    assert (tgt(f)["kube_context"], tgt(f)["kube_namespace"]) == ("staging", "web")


def test_helm_env_variables() -> None:
    (f,) = run(
        "helm uninstall api", env=(("HELM_KUBECONTEXT", "staging"), ("HELM_NAMESPACE", "web"))
    )
    assert (tgt(f)["kube_context"], tgt(f)["kube_namespace"]) == ("staging", "web")
    (f,) = run("helm uninstall api", variables={"HELM_NAMESPACE": "ops"})
    assert tgt(f)["kube_namespace"] == "ops"


def test_helm_tags() -> None:
    (f,) = run("helm upgrade -i api ./chart --reset-values --force")
    assert {"install", "reset-values", "force"} <= f.tags and f.severity.name == "HIGH"
    (f,) = run("helm delete --purge api")
    assert "purge" in f.tags
    (f,) = run("helm rollback api 3")
    assert f.detail == "helm rollback api to revision 3"
    (f,) = run("helmfile -e production --kube-context prod-eu destroy")
    assert tgt(f)["helmfile_environment"] == "production" and "bulk" in f.tags


def test_helm_opaque_verb() -> None:
    assert brief(run("helm $CMD api")) == [("shell.opaque", "$CMD", "low")]
