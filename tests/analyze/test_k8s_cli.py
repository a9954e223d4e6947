"""`guardsh check --json` reads the real kubeconfig named by KUBECONFIG.

The issue's done-when: with KUBECONFIG pointing at a kubeconfig whose current
context is prod-eu, `kubectl delete deploy api` reports kube_context prod-eu,
the cluster's server URL and the context's namespace. No Kubernetes API server
runs here and none is needed: the kubeconfig fixtures stand in for a real
cluster's, and guardsh never contacts a server (nor spawns kubectl) to learn
a context.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.analyze.support import only

REPO = Path(__file__).parents[2]
FIXTURES = REPO / "tests" / "facts" / "kubeconfigs"
SERVER = "https://prod-eu.k8s.example.com:6443"


def check(
    line: str, tmp_path: Path, kubeconfig: str | None, *extra: str
) -> tuple[int, dict[str, Any]]:
    # HOME, XDG and GUARDSH_* paths are already temporary (tests/conftest.py).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "HELM_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if kubeconfig is not None:
        env["KUBECONFIG"] = kubeconfig
    proc = subprocess.run(
        [sys.executable, "-m", "guardsh", "check", "--json", *extra, "--", line],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=60,
    )
    assert proc.stdout.strip(), f"no output; exit {proc.returncode}; stderr:\n{proc.stderr}"
    data: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, data


def test_done_when_current_context_prod_eu(tmp_path: Path) -> None:
    code, data = check("kubectl delete deploy api", tmp_path, str(FIXTURES / "main.yaml"))
    f = only(data, "k8s.delete")
    assert f["object"] == "deployment/api"
    assert f["severity"] == "high"
    assert f["target"]["kind"] == "kube"
    assert f["target"]["kube_context"] == "prod-eu"
    assert f["target"]["kube_cluster_server"] == SERVER
    assert f["target"]["kube_namespace"] == "payments"
    assert data["environment"] == "production"
    assert code == 10  # the default policy asks before a production delete


def test_merged_kubeconfig_list(tmp_path: Path) -> None:
    files = [str(FIXTURES / n) for n in ("extra.yaml", "main.yaml", "clusters-only.yaml")]
    _, data = check("kubectl --context prod-us delete deploy api", tmp_path, os.pathsep.join(files))
    t = only(data, "k8s.delete")["target"]
    assert t["kube_context"] == "prod-us"
    assert t["kube_cluster_server"] == "https://prod-us.k8s.example.com"  # from a third file
    assert t["kube_namespace"] == "billing"
    _, data = check("kubectl delete deploy api", tmp_path, os.pathsep.join(files))
    t = only(data, "k8s.delete")["target"]
    assert t["kube_context"] == "dev"  # extra.yaml comes first: its current-context wins
    assert data["environment"] == "development"


def test_default_path_under_home(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text((FIXTURES / "main.yaml").read_text())
    _, data = check("helm uninstall api", tmp_path, None)
    t = only(data, "helm.uninstall")["target"]
    assert (t["kube_context"], t["kube_namespace"], t["kube_cluster_server"]) == (
        "prod-eu",
        "payments",
        SERVER,
    )


def test_kube_context_option_overrides_kubeconfig(tmp_path: Path) -> None:
    _, data = check(
        "kubectl delete deploy api",
        tmp_path,
        str(FIXTURES / "main.yaml"),
        "--kube-context",
        "staging",
    )
    t = only(data, "k8s.delete")["target"]
    assert (t["kube_context"], t["kube_namespace"]) == ("staging", "web")
    assert data["environment"] == "staging"


@pytest.mark.parametrize("name", ["broken.yaml", "missing.yaml", "empty.yaml"])
def test_broken_or_missing_kubeconfig_is_unknown_not_a_crash(tmp_path: Path, name: str) -> None:
    code, data = check("kubectl delete deploy api", tmp_path, str(FIXTURES / name))
    f = only(data, "k8s.delete")
    assert "kube_context" not in f["target"]
    assert code in (10, 20)  # unknown environment: never a silent allow of a HIGH delete
