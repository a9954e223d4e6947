"""`guardsh env [--json]`: the local host, the kube context, the DB variables,
each with its environment and evidence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from guardsh.exitcodes import Exit

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: payments-prd
contexts:
  - name: payments-prd
    context: {cluster: eu1, user: me, namespace: payments}
clusters:
  - name: eu1
    cluster: {server: "https://k8s.eu1.example.com"}
"""


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        k: v for k, v in os.environ.items() if not k.startswith(("PG", "MYSQL", "REDIS", "AWS"))
    }
    return subprocess.run(
        [sys.executable, "-m", "guardsh", "env", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**full, **env},
    )


def env_json(*args: str, **env: str) -> dict[str, Any]:
    r = run("--json", *args, **env)
    assert r.returncode == Exit.OK, r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def by_what(data: dict[str, Any], what: str) -> list[dict[str, Any]]:
    return [t for t in data["targets"] if t["what"] == what]


def test_local_host_with_evidence() -> None:
    data = env_json("--hostname", "db-prd-2")
    (host,) = by_what(data, "local host")
    assert host["environment"] == "production" and host["protected"]
    assert host["evidence"]["field"] == "hostname" and "prd" in host["evidence"]["pattern"]
    assert host["evidence"]["origin"].startswith("<built-in default>:")
    assert host["source"] == "--hostname"
    assert data["environment"] == "production"


def test_the_current_kube_context_from_the_kubeconfig(tmp_path: Path) -> None:
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(KUBECONFIG)
    data = env_json("--hostname", "laptop", KUBECONFIG=str(cfg))
    (kube,) = by_what(data, "kube context")
    assert kube["target"]["kube_context"] == "payments-prd"
    assert kube["target"]["kube_cluster_server"] == "https://k8s.eu1.example.com"
    assert kube["environment"] == "production"
    assert kube["source"] == f"current-context in {cfg}"
    assert data["environment"] == "production"


def test_database_variables_each_with_evidence() -> None:
    data = env_json(
        "--hostname",
        "laptop",
        DATABASE_URL="postgres://app:secret@orders-stg.internal:5433/orders",
        PGHOST="dev-db",
        PGDATABASE="scratch",
        REDIS_URL="redis://cache-prod:6379/0",
        MYSQL_HOST="mysql.uat.example.com",
    )
    dbs = {t["source"]: t for t in by_what(data, "database")}
    url = dbs["variable DATABASE_URL"]
    assert url["target"]["db_host"] == "orders-stg.internal" and url["target"]["db_port"] == "5433"
    assert "secret" not in json.dumps(url)
    assert url["environment"] == "staging" and "stg" in url["evidence"]["pattern"]
    assert dbs["variables PGHOST, PGDATABASE"]["environment"] == "development"
    assert dbs["variable REDIS_URL"]["environment"] == "production"
    assert dbs["variables MYSQL_HOST"]["environment"] == "staging"
    assert data["environment"] == "production"


def test_text_output_shows_evidence_lines() -> None:
    r = run("--hostname", "preprod-api-1", "--kube-context", "kind-dev")
    assert r.returncode == Exit.OK, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "environment: staging (protected, yellow)"
    assert any("host:preprod-api-1" in line and line.rstrip().endswith("staging") for line in lines)
    assert (
        "from --hostname; hostname `preprod-api-1` matches `*preprod*` (<built-in default>:"
        in r.stdout
    )
    assert "from --kube-context; kube_context `kind-dev` matches `re:(^|[^a-z])(dev|" in r.stdout


def test_a_host_that_matches_nothing_says_so() -> None:
    r = run("--hostname", "host-1")
    assert "nothing matched: the policy's unknown_environment" in r.stdout


def test_env_honors_policy_files(tmp_path: Path) -> None:
    pol = tmp_path / "p.yaml"
    pol.write_text("environments:\n  - name: production\n    match:\n      hostname: [frodo]\n")
    data = env_json("--hostname", "frodo", "--policy", str(pol))
    assert data["environment"] == "production"
    assert data["policy"]["sources"] == ["<built-in default>", str(pol)]
