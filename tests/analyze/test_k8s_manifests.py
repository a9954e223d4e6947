"""kubectl -f DIR (-R) and -k DIR on hand-built invocations: exactly which
objects are named, and when the opaque object stays.

Directories come from the paths of `files` (through the case runner's lister,
as in the YAML cases); no cluster and no kustomize binary run here.
"""

from __future__ import annotations

import posixpath

import pytest

import guardsh.analyze.k8s  # noqa: F401
from guardsh import cases
from guardsh.analyze import k8s_manifests
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Invocation, KubeContext, Snapshot, Span, Target
from tests.analyze.support import findings, words

KUBE = {"prod-eu": KubeContext("prod-eu", "c", "https://k", "admin", "payments")}


def run(line: str, files: dict[str, str], *, lister: bool = True) -> list[tuple[str, str, str]]:
    """(action, object, namespace) of each finding; the cwd is /srv/deploy."""
    argv = tuple(words(line))
    inv = Invocation(
        program=posixpath.basename(argv[0].value),
        argv=argv,
        span=Span(0, len(line)),
        target=Target("local", (("hostname", "bastion-1"),)),
    )
    base = cases.facts_for({"files": files})
    facts = Facts(
        read_file=base.read_file,
        kube=KUBE,
        kube_current="prod-eu",
        extra=base.extra if lister else {},
    )
    ctx = Context(
        line=line,
        snapshot=Snapshot(cwd="/srv/deploy", home="/home/ops"),
        facts=facts,
        recurse_shell=lambda text, tgt, span: [],
    )
    return [
        (f.action, f.object or "", dict(f.target.fields).get("kube_namespace", ""))
        for f in findings(inv, ctx)
    ]


def doc(kind: str, name: str, ns: str | None = None) -> str:
    meta = f"{{name: {name}" + (f", namespace: {ns}}}" if ns else "}")
    return f"kind: {kind}\nmetadata: {meta}\n"


D = "k8s.delete"
TREE = {
    "/srv/deploy/m/a.yaml": doc("Deployment", "api", "shop") + "---\n" + doc("Service", "api"),
    "/srv/deploy/m/b.yml": doc("Deployment", "worker", "shop"),
    "/srv/deploy/m/c.json": '{"kind": "Secret", "metadata": {"name": "s"}}',
    "/srv/deploy/m/notes.txt": doc("Namespace", "nope"),
    "/srv/deploy/m/x.YAML": doc("Namespace", "nope"),  # kubectl's extensions are exact
    "/srv/deploy/m/sub/pvc.yaml": doc("PersistentVolumeClaim", "data"),
    "/srv/deploy/m/sub/deeper/ns.yaml": doc("Namespace", "shop"),
}


def test_directory_reads_manifest_files_directly_in_it() -> None:
    assert run("kubectl delete -f m", TREE) == [
        (D, "deployment/api,worker", "shop"),
        (D, "service/api", "payments"),
        (D, "secret/s", "payments"),
    ]


def test_recursive_walks_subdirectories() -> None:
    got = run("kubectl delete -R -f ./m/", TREE)
    assert got == [
        (D, "deployment/api,worker", "shop"),
        (D, "service/api", "payments"),
        (D, "secret/s", "payments"),
        (D, "namespace/shop", "shop"),  # lexical order, as kubectl walks: sub/deeper/ first
        (D, "persistentvolumeclaim/data", "payments"),
    ]
    assert run("kubectl delete -f m --recursive", TREE) == got
    assert run("kubectl delete -f m --recursive=false", TREE) == run("kubectl delete -f m", TREE)
    assert run("kubectl delete -f m -R=false", TREE) == run("kubectl delete -f m", TREE)


def test_files_and_directories_mix_in_one_flag() -> None:
    files = {**TREE, "/srv/deploy/one.yaml": doc("ConfigMap", "c")}
    assert run("kubectl delete -f one.yaml,m/sub", files) == [
        (D, "configmap/c", "payments"),
        (D, "persistentvolumeclaim/data", "payments"),
    ]


def test_without_a_lister_a_directory_stays_opaque() -> None:
    assert run("kubectl delete -f m", TREE, lister=False) == [(D, "manifests in m", "payments")]


def test_empty_or_manifestless_directory_is_opaque() -> None:
    files = {"/srv/deploy/e/": "", "/srv/deploy/t/readme.md": "x"}
    assert run("kubectl delete -f e", files) == [(D, "manifests in e", "payments")]
    assert run("kubectl delete -f t", files) == [(D, "manifests in t", "payments")]


def test_unreadable_file_in_a_directory_keeps_the_rest_and_adds_opaque() -> None:
    files = {**TREE, "/srv/deploy/m/bad.yaml": "kind: [unclosed"}
    assert run("kubectl delete -f m", files)[-1] == (D, "manifests in m", "payments")
    assert len(run("kubectl delete -f m", files)) == 4


def test_the_work_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    many = {f"/srv/deploy/big/p{i:03}.yaml": doc("Pod", f"p{i}") for i in range(12)}
    monkeypatch.setattr(k8s_manifests, "MAX_FILES", 5)
    got = run("kubectl delete -f big", many)
    assert got == [(D, "pod/p0,p1,p2,p3,p4", "payments"), (D, "manifests in big", "payments")]
    monkeypatch.setattr(k8s_manifests, "MAX_FILES", 200)
    monkeypatch.setattr(k8s_manifests, "MAX_BYTES", 3 * len(doc("Pod", "p10")))
    assert run("kubectl delete -f big", many)[-1] == (D, "manifests in big", "payments")
    monkeypatch.setattr(k8s_manifests, "MAX_BYTES", 5 * 1024 * 1024)
    monkeypatch.setattr(k8s_manifests, "MAX_DEPTH", 1)
    got = run("kubectl delete -R -f m", TREE)
    assert (D, "namespace/shop", "shop") not in got and got[-1] == (D, "manifests in m", "payments")


# ---- -k DIR ---------------------------------------------------------------------------

BASE = {
    "/srv/deploy/base/kustomization.yaml": "resources: [app.yaml, ns.yaml]\n",
    "/srv/deploy/base/app.yaml": doc("Deployment", "api", "dev")
    + "---\n"
    + doc("ClusterRole", "r"),
    "/srv/deploy/base/ns.yaml": doc("Namespace", "app"),
}


def test_kustomization_names_its_resources() -> None:
    assert run("kubectl delete -k base", BASE) == [
        (D, "deployment/api", "dev"),
        (D, "clusterrole/r", ""),
        (D, "namespace/app", "app"),
    ]


def test_outer_namespace_and_affixes_apply_after_the_inner_ones() -> None:
    files = {
        **BASE,
        "/srv/deploy/mid/kustomization.yaml": "namespace: mid\nnamePrefix: m-\nbases: [../base]\n",
        "/srv/deploy/top/kustomization.yml": (
            "namespace: prod\nnamePrefix: p-\nnameSuffix: '-1'\nresources: [../mid]\n"
        ),
    }
    assert run("kubectl delete -k top", files) == [
        (D, "deployment/p-m-api-1", "prod"),
        (D, "clusterrole/p-m-r-1", ""),  # cluster-scoped: no namespace, but the name changes
        (D, "namespace/prod", "prod"),  # a Namespace takes the kustomization's namespace
    ]


def test_kustomization_file_names_and_precedence() -> None:
    files = {
        "/srv/deploy/k/Kustomization": "resources: [a.yaml]\n",
        "/srv/deploy/k/a.yaml": doc("Service", "a"),
        "/srv/deploy/k/b.yaml": doc("Service", "b"),
    }
    assert run("kubectl delete -k k", files) == [(D, "service/a", "payments")]
    files["/srv/deploy/k/kustomization.yml"] = "resources: [b.yaml]\n"
    assert run("kubectl delete -k k", files) == [(D, "service/b", "payments")]


@pytest.mark.parametrize(
    "extra",
    [
        "configMapGenerator: [{name: c, literals: [a=b]}]\n",
        "patches: [{path: p.yaml}]\n",
        "components: [../comp]\n",
        "helmCharts: [{name: x}]\n",
        "resources: [github.com/org/repo//deploy?ref=v1]\n",
        "resources: [missing.yaml]\n",
        "namePrefix: [not, a, string]\n",
    ],
)
def test_what_cannot_be_evaluated_keeps_the_opaque_kustomization(extra: str) -> None:
    files = {
        **BASE,
        "/srv/deploy/o/kustomization.yaml": "bases: [../base]\n" + extra,
    }
    got = run("kubectl delete -k o", files)
    assert got[0][:2] == (D, "deployment/api") or "namePrefix" in extra
    assert got[-1] == (D, "kustomization o", "payments")


def test_cycles_depth_and_malformed_kustomizations_are_opaque() -> None:
    loop = {"/srv/deploy/l/kustomization.yaml": "resources: [../l]\n"}
    assert run("kubectl delete -k l", loop) == [(D, "kustomization l", "payments")]
    bad = {"/srv/deploy/b/kustomization.yaml": "resources: [unclosed\n"}
    assert run("kubectl delete -k b", bad) == [(D, "kustomization b", "payments")]
    chain = {
        f"/srv/deploy/c{i}/kustomization.yaml": f"resources: [../c{i + 1}]\n" for i in range(15)
    }
    chain["/srv/deploy/c15/kustomization.yaml"] = "resources: [s.yaml]\n"
    chain["/srv/deploy/c15/s.yaml"] = doc("Service", "s")
    assert run("kubectl delete -k c0", chain) == [(D, "kustomization c0", "payments")]
    assert run("kubectl delete -k c10", chain) == [(D, "service/s", "payments")]


POD_A = '{"kind": "Pod", "metadata": {"name": "a"}}'


def test_json_is_read_fast_and_flow_yaml_still_reads() -> None:
    files = {
        "/srv/deploy/j/a.json": '{"kind": "List", "items": [' + POD_A + "]}",
        "/srv/deploy/j/b.yaml": "{kind: Pod, metadata: {name: b}}",  # YAML flow style, not JSON
        "/srv/deploy/j/c.json": '{"kind": "Pod", "metadata": {"name": "c"}} trailing',
    }
    assert run("kubectl delete -f j", files) == [
        (D, "pod/a,b", "payments"),
        (D, "manifests in j", "payments"),  # neither JSON nor YAML: kubectl refuses it too
    ]
