"""kubeconfig facts: merging, current context, caching, broken files.

No Kubernetes API server runs here and none is needed: the adapter only reads
files (it never spawns kubectl). The fixtures under kubeconfigs/ stand in for
a team's real kubeconfig files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from guardsh.facts import kubeconfig as kc
from guardsh.facts.kubeconfig import (
    KubeConfig,
    kubeconfig_paths,
    load_from_environ,
    load_kubeconfig,
)
from guardsh.model import Facts, KubeContext

HERE = Path(__file__).parent / "kubeconfigs"
MAIN, EXTRA, CLUSTERS, BROKEN = (
    str(HERE / n) for n in ("main.yaml", "extra.yaml", "clusters-only.yaml", "broken.yaml")
)


def test_single_file_current_context_resolves_cluster_server_user_namespace() -> None:
    cfg = load_kubeconfig([MAIN])
    assert cfg.current == "prod-eu"
    assert cfg.errors == ()
    assert cfg.files == (MAIN,)
    assert cfg.context() == KubeContext(
        name="prod-eu",
        cluster="prod-eu-cluster",
        server="https://prod-eu.k8s.example.com:6443",
        user="admin@prod-eu",
        namespace="payments",
    )
    assert cfg.contexts["staging"].namespace == "web"
    assert cfg.contexts["prod-eu-nons"].namespace is None


def test_credentials_are_not_kept() -> None:
    cfg = load_kubeconfig([MAIN])
    assert "not-a-real-token" not in repr(cfg)


def test_first_file_wins_per_key() -> None:
    cfg = load_kubeconfig([MAIN, EXTRA])
    assert cfg.current == "prod-eu"  # main.yaml sets it first
    prod = cfg.contexts["prod-eu"]
    assert prod.namespace == "payments" and prod.cluster == "prod-eu-cluster"
    assert prod.server == "https://prod-eu.k8s.example.com:6443"  # not the shadowed one
    assert cfg.contexts["dev"].server == "https://127.0.0.1:6443"  # only in extra.yaml


def test_order_matters() -> None:
    cfg = load_kubeconfig([EXTRA, MAIN])
    assert cfg.current == "dev"
    assert cfg.contexts["prod-eu"].namespace == "shadowed"
    assert cfg.contexts["prod-eu"].server == "https://127.0.0.1:6443"


def test_cluster_defined_in_another_file() -> None:
    cfg = load_kubeconfig(os.pathsep.join([MAIN, EXTRA, CLUSTERS]))
    us = cfg.contexts["prod-us"]
    assert us.cluster == "prod-us-cluster"
    assert us.server == "https://prod-us.k8s.example.com"
    assert us.namespace == "billing"


def test_environ_kubeconfig_list_and_default_path(tmp_path: Path) -> None:
    env = {"KUBECONFIG": os.pathsep.join([EXTRA, "", MAIN, EXTRA])}
    assert kubeconfig_paths(env, "/home/u") == (EXTRA, MAIN)
    assert kubeconfig_paths({}, "/home/u") == ("/home/u/.kube/config",)
    assert kubeconfig_paths({"KUBECONFIG": ""}, "/home/u") == ("/home/u/.kube/config",)
    (tmp_path / ".kube").mkdir()
    shutil.copy(MAIN, tmp_path / ".kube" / "config")
    assert load_from_environ({}, str(tmp_path)).current == "prod-eu"
    assert load_from_environ({"KUBECONFIG": EXTRA}, str(tmp_path)).current == "dev"


def test_missing_file_is_unknown_not_an_error(tmp_path: Path) -> None:
    cfg = load_from_environ({}, str(tmp_path))
    assert cfg.current is None and dict(cfg.contexts) == {}
    assert len(cfg.errors) == 1 and "no such file" in cfg.errors[0]
    assert cfg.context() is None
    # a missing file in a list does not hide the others
    cfg = load_kubeconfig([str(tmp_path / "nope"), MAIN])
    assert cfg.current == "prod-eu" and cfg.files == (MAIN,)
    assert any("nope" in e for e in cfg.errors)


def test_broken_file_reports_and_keeps_the_rest() -> None:
    cfg = load_kubeconfig([BROKEN, MAIN])
    assert cfg.current == "prod-eu"  # broken.yaml's current-context is not read
    assert "broken" not in cfg.contexts
    assert len(cfg.errors) == 1
    assert cfg.errors[0].startswith(BROKEN) and "not valid YAML" in cfg.errors[0]
    only = load_kubeconfig([BROKEN])
    assert only.current is None and only.files == ()


def test_odd_shapes_are_reported_entry_by_entry() -> None:
    cfg = load_kubeconfig([str(HERE / "odd-shapes.yaml")])
    assert cfg.current == "ok"
    assert set(cfg.contexts) == {"ok"}
    assert cfg.contexts["ok"].namespace == "ns1" and cfg.contexts["ok"].server is None
    text = "\n".join(cfg.errors)
    assert "contexts[1] has no name" in text
    assert "scalar-body" in text
    assert "contexts[3] has no name" in text
    assert "`clusters` is not a list" in text


def test_empty_and_non_mapping_files(tmp_path: Path) -> None:
    assert load_kubeconfig([str(HERE / "empty.yaml")]) == KubeConfig(
        files=(str(HERE / "empty.yaml"),)
    )
    p = tmp_path / "list.yaml"
    p.write_text("- a\n- b\n")
    cfg = load_kubeconfig([str(p)])
    assert cfg.current is None and "not a kubeconfig mapping" in cfg.errors[0]
    p.write_bytes(b"\xff\xfe\x00bad")
    assert load_kubeconfig([str(p)]).errors  # undecodable: reported, no exception


def test_current_context_not_defined_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "c"
    p.write_text("current-context: ghost\ncontexts: []\n")
    cfg = load_kubeconfig([str(p)])
    assert cfg.current == "ghost"
    assert cfg.context() == KubeContext(name="ghost")
    assert any("ghost" in e for e in cfg.errors)


def test_unreadable_file(tmp_path: Path) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    cfg = load_kubeconfig([str(d)])  # a directory: stat works, open fails
    assert cfg.current is None and cfg.errors


def test_cache_follows_file_identity_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "config"
    shutil.copy(MAIN, p)
    calls: list[bytes] = []
    real = kc._parse

    def counting(path: str, data: bytes) -> kc._FileConfig:
        calls.append(data)
        return real(path, data)

    monkeypatch.setattr(kc, "_parse", counting)
    first = load_kubeconfig([str(p)])
    assert load_kubeconfig([str(p)]) is first  # same stat key: no read, no parse
    assert len(calls) == 1
    text = p.read_text().replace("current-context: prod-eu", "current-context: staging")
    p.write_text(text)
    os.utime(p, ns=(1, 1_000_000_000))  # a different mtime whatever the clock's resolution
    assert load_kubeconfig([str(p)]).current == "staging"
    assert len(calls) == 2
    # the file's own cache is shared by every list that names it
    q = tmp_path / "other"
    shutil.copy(EXTRA, q)
    merged = load_kubeconfig([str(p), str(q)])
    assert len(calls) == 3  # only q is parsed; p comes from the cache
    assert merged.current == "staging" and "dev" in merged.contexts


def test_loader_for_command_line_files(tmp_path: Path) -> None:
    shutil.copy(EXTRA, tmp_path / "dev.yaml")
    load = kc.loader(str(tmp_path))
    assert load("dev.yaml").current == "dev"
    assert load(MAIN).current == "prod-eu"  # absolute stays absolute


def test_feeds_facts() -> None:
    cfg = load_kubeconfig([MAIN])
    facts = Facts(kube=cfg.contexts, kube_current=cfg.current)
    ctx = facts.kube_context(None)
    assert ctx is not None and ctx.server == "https://prod-eu.k8s.example.com:6443"
    staging = facts.kube_context("staging")
    assert staging is not None and staging.namespace == "web"
