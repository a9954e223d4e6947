"""kubectl, helm, terraform and systemctl dry runs, against stub executables.

No Kubernetes cluster, no cloud account and no systemd (PID 1 here is not
systemd) are available to these tests. So each test writes a stub program
onto PATH (tests/confirm/dryrun_support.stub) that accepts only the exact
argument lists the provider is documented to send and prints output recorded
from the real tools (formats of kubectl 1.29-1.32 `-o name` and
custom-columns, helm 3 `status -o json`/`get manifest`, terraform 1.11
`plan -json`, systemd 252 `show`/`list-dependencies --plain`). Any other
argument list makes the stub exit 99, so the test fails. A real terraform
run (no cloud: the built-in `terraform_data` resource) is in
test_dryrun_real.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from guardsh.confirm.providers import kube
from tests.confirm.dryrun_support import calls, dry, one, path_with, stub

NS_LIST = """pod/api-7d9c6b5f4-2xk8p
pod/api-7d9c6b5f4-9fq2m
service/api
deployment.apps/api
replicaset.apps/api-7d9c6b5f4
statefulset.apps/ledger
persistentvolumeclaim/data-ledger-0
configmap/kube-root-ca.crt
secret/api-tls
ingress.networking.k8s.io/api
serviceaccount/default
"""


def test_kubectl_delete_namespace(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    stub(bin_dir, "kubectl", [
        (["--context", "prod-eu", "delete", "namespace", "payments", "--dry-run=server",
          "-o", "name"], "namespace/payments\n", 0),
        (["--context", "prod-eu", "get", kube.NS_KINDS, "-n", "payments", "-o", "name"],
         NS_LIST, 0),
    ])  # fmt: skip
    _, results = dry("kubectl --context prod-eu delete ns payments", variables=path_with(bin_dir))
    r = one(results, "k8s.delete")
    assert r.status == "ok", r.lines
    assert r.data["deleted"] == ["namespace/payments"]
    assert r.data["contents"] == {"payments": {
        "pod": 2, "service": 1, "deployment": 1, "replicaset": 1, "statefulset": 1,
        "persistentvolumeclaim": 1, "configmap": 1, "secret": 1, "ingress": 1,
        "serviceaccount": 1}}  # fmt: skip
    assert r.lines[0] == "the API server would delete 1 object (server-side dry run):"
    assert r.lines[-1].startswith("namespace payments holds 11 objects: 2 pod, 1 service")
    assert len(calls(bin_dir, "kubectl")) == 2


def test_kubectl_delete_named_objects_and_a_selector(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    stub(bin_dir, "kubectl", [
        (["--context", "prod-eu", "-n", "app", "delete", "deployment", "web", "api",
          "--dry-run=server", "-o", "name"], "deployment.apps/web\ndeployment.apps/api\n", 0),
        (["--context", "prod-eu", "-n", "app", "delete", "pods", "-l", "app=web",
          "--dry-run=server", "-o", "name"], "pod/web-1\npod/web-2\npod/web-3\n", 0),
    ])  # fmt: skip
    env = path_with(bin_dir)
    r = one(dry("kubectl --context prod-eu -n app delete deploy web api", variables=env)[1],
            "k8s.delete")  # fmt: skip
    assert r.data["deleted"] == ["deployment.apps/web", "deployment.apps/api"]
    line = "kubectl --context prod-eu -n app delete pods -l app=web --wait=false -o json"
    r = one(dry(line, variables=env)[1], "k8s.delete")
    assert r.status == "ok", r.lines
    assert r.data["deleted"] == ["pod/web-1", "pod/web-2", "pod/web-3"]


def test_kubectl_errors_are_shown_not_hidden(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    stub(bin_dir, "kubectl", [
        (["--context", "prod-eu", "delete", "namespace", "nope", "--dry-run=server", "-o",
          "name"], 'Error from server (NotFound): namespaces "nope" not found\n', 1),
    ])  # fmt: skip
    r = one(dry("kubectl --context prod-eu delete ns nope", variables=path_with(bin_dir))[1],
            "k8s.delete")  # fmt: skip
    assert r.status == "failed"
    assert r.lines[0] == 'kubectl failed: Error from server (NotFound): namespaces "nope" not found'


def test_kubectl_scale_and_drain(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    stub(bin_dir, "kubectl", [
        (["--context", "prod-eu", "-n", "app", "get", "deployment", "web", "-o", kube.REPLICAS,
          "--no-headers"], "Deployment   web   3          3\n", 0),
        (["--context", "prod-eu", "get", "pods", "--all-namespaces", "--field-selector",
          "spec.nodeName=node-1", "-o", kube.PODS, "--no-headers"],
         "app           web-5f7c-abcde     ReplicaSet\n"
         "kube-system   fluentd-x2k9q      DaemonSet\n"
         "default       debug              <none>\n", 0),
    ])  # fmt: skip
    env = path_with(bin_dir)
    line = "kubectl --context prod-eu -n app scale deploy web --replicas=0"
    r = one(dry(line, variables=env)[1], "k8s.scale_zero")
    assert r.data["objects"] == [{"kind": "Deployment", "name": "web", "replicas": 3, "ready": 3}]
    assert r.lines == ("deployment/web: 3 replicas now (3 ready)",)
    line = "kubectl --context prod-eu drain node-1 --ignore-daemonsets"
    r = one(dry(line, variables=env)[1], "k8s.drain")
    assert r.lines[0] == "node node-1: 2 pods would be evicted from 2 namespaces"
    assert r.lines[1] == "1 pod without a controller would not come back"


HELM_STATUS = {
    "name": "shop",
    "info": {"first_deployed": "2025-01-20T05:01:57.370835613Z",
             "last_deployed": "2025-02-11T09:13:02.112233445Z", "deleted": "",
             "description": "Upgrade complete", "status": "deployed", "notes": ""},
    "chart": {"metadata": {"name": "shop", "version": "1.4.2", "appVersion": "2.0"}},
    "manifest": "", "version": 7, "namespace": "app",
}  # fmt: skip
HELM_MANIFEST = """---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
---
# Source: shop/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: shop-db
---
# Source: shop/templates/pvc.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: shop-uploads
"""


def test_helm_uninstall(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    scope = ["-n", "app", "--kube-context", "prod-eu"]
    stub(bin_dir, "helm", [
        (["status", "shop", *scope, "-o", "json"], json.dumps(HELM_STATUS), 0),
        (["get", "manifest", "shop", *scope], HELM_MANIFEST, 0),
    ])  # fmt: skip
    line = "helm uninstall shop -n app --kube-context prod-eu"
    r = one(dry(line, variables=path_with(bin_dir))[1], "helm.uninstall")
    assert r.status == "ok", r.lines
    assert r.lines[0] == ("release shop, in app, revision 7, chart shop-1.4.2, status deployed, "
                          "last deployed 2025-02-11T09:13:02")  # fmt: skip
    assert r.lines[1] == ("4 resources: 1 Service, 1 Deployment, 1 StatefulSet, "
                          "1 PersistentVolumeClaim")  # fmt: skip
    assert "holds data: PersistentVolumeClaim/shop-uploads" in r.lines
    assert any("volumeClaimTemplates" in ln for ln in r.lines)
    assert r.data["resources"] == ["Service/shop", "Deployment/shop-web", "StatefulSet/shop-db",
                                   "PersistentVolumeClaim/shop-uploads"]  # fmt: skip


def test_helm_release_not_found(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    stub(bin_dir, "helm", [
        (["status", "gone", "-n", "app", "--kube-context", "prod-eu", "-o", "json"],
         "Error: release: not found\n", 1),
    ])  # fmt: skip
    line = "helm uninstall gone -n app --kube-context prod-eu"
    r = one(dry(line, variables=path_with(bin_dir))[1], "helm.uninstall")
    assert (r.status, r.lines[0]) == ("failed", "helm failed: Error: release: not found")


# Recorded from terraform 1.11.4 (`plan -destroy -json`), trimmed to the message types read.
TF_DESTROY = "\n".join(json.dumps(m) for m in [
    {"@level": "info", "@message": "Terraform 1.11.4", "type": "version", "terraform": "1.11.4"},
    {"@level": "info", "@message": "aws_db_instance.main: Plan to delete", "type": "planned_change",
     "change": {"resource": {"addr": "aws_db_instance.main"}, "action": "delete"}},
    {"@level": "info", "@message": "aws_s3_bucket.assets: Plan to delete",
     "type": "planned_change",
     "change": {"resource": {"addr": "aws_s3_bucket.assets"}, "action": "delete"}},
    {"@level": "info", "@message": "Plan: 0 to add, 0 to change, 2 to destroy.",
     "type": "change_summary",
     "changes": {"add": 0, "change": 0, "import": 0, "remove": 2, "operation": "plan"}},
]) + "\n"  # fmt: skip


def test_terraform_destroy_plan(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    (tmp_path / "infra").mkdir()
    stub(bin_dir, "terraform", [
        (["plan", "-destroy", "-input=false", "-lock=false", "-no-color", "-json",
          "-var-file=prod.tfvars", "-target=module.db"], TF_DESTROY, 0),
    ])  # fmt: skip
    line = "terraform -chdir=infra destroy -var-file prod.tfvars -target=module.db -auto-approve"
    r = one(dry(line, cwd=tmp_path, variables=path_with(bin_dir))[1], "terraform.destroy")
    assert r.status == "ok", r.lines
    assert r.lines[0] == "Plan: 0 to add, 0 to change, 2 to destroy (in infra)"
    assert r.lines[1] == "destroyed or replaced: aws_db_instance.main, aws_s3_bucket.assets"
    assert (r.data["destroy"], r.data["add"]) == (2, 0)
    ((_, cwd),) = calls(bin_dir, "terraform")
    assert cwd == str(tmp_path / "infra")


def test_terraform_plan_failure(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    err = json.dumps({"@level": "error", "@message": "Error: No configuration files",
                      "type": "diagnostic"})  # fmt: skip
    stub(bin_dir, "terraform", [
        (["plan", "-input=false", "-lock=false", "-no-color", "-json"], err + "\n", 1),
    ])  # fmt: skip
    r = one(dry("terraform apply", cwd=tmp_path, variables=path_with(bin_dir))[1],
            "terraform.apply")  # fmt: skip
    assert (r.status, r.lines[0]) == (
        "failed",
        "terraform plan failed: Error: No configuration files",
    )


SHOW = """Id=postgresql@15-main.service
Description=PostgreSQL Cluster 15-main
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled
MainPID={pid}
ActiveEnterTimestamp=Tue 2025-03-04 02:11:09 UTC
"""
RDEPS = """postgresql@15-main.service
  postgresql.service
    multi-user.target
      graphical.target
"""


def test_systemctl_stop(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        unit = "postgresql@15-main"
        stub(bin_dir, "systemctl", [
            (["show", unit, f"--property={'Id,Description,LoadState,ActiveState,SubState,'}"
              "UnitFileState,MainPID,ActiveEnterTimestamp"], SHOW.format(pid=sleeper.pid), 0),
            (["list-dependencies", "--reverse", "--plain", "--no-pager", unit], RDEPS, 0),
        ])  # fmt: skip
        r = one(dry(f"sudo systemctl stop {unit}", variables=path_with(bin_dir))[1],
                "service.stop")  # fmt: skip
        assert r.status == "ok", r.lines
        assert r.lines[0] == "postgresql@15-main.service: active (running), enabled at boot"
        assert r.lines[3].startswith(f"main process: sleep (pid {sleeper.pid}")
        assert r.lines[4] == ("3 units depend on it: postgresql.service, multi-user.target, "
                              "graphical.target")  # fmt: skip
        assert r.data["reverse_dependencies"] == ["postgresql.service", "multi-user.target",
                                                  "graphical.target"]  # fmt: skip
    finally:
        sleeper.kill()
        sleeper.wait()
    r = one(dry("ssh db-1 'systemctl stop nginx'", variables=path_with(bin_dir))[1],
            "service.stop")  # fmt: skip
    assert r.status == "unavailable"


def test_missing_tool_is_unavailable(tmp_path: Path) -> None:
    r = one(dry("helm uninstall shop -n app --kube-context prod-eu",
                variables={"PATH": str(tmp_path)})[1], "helm.uninstall")  # fmt: skip
    assert (r.status, r.lines[0]) == ("unavailable", "helm is not installed here (not on PATH)")
