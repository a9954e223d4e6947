"""Analyzers: one module per tool family, each registering itself on import.

Helper modules shared by families (kube, cloud, fs_paths, disk_devices,
process_severity, k8s_cmd, k8s_verbs, k8s_manifests, git_repo, git_local,
net_rules, redis_keys, the sql* modules) register nothing and are not listed;
they are imported by the families that need them.

`load_for(program)` imports only the families that register `program` (from
the generated `index`) plus the ones with fallback analyzers, so `guardsh -c`
pays for what the line uses; `load_all()` imports every family (the
interactive shell does it while the first prompt is read). `analyzers_for`
yields in FAMILIES order whatever order the families were loaded in.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from guardsh.analyze import registry
from guardsh.analyze.registry import Analyzer

FAMILIES = (
    "process",
    "process_byname",
    "fs",
    "fs_write",
    "disk",
    "disk_partition",
    "service",
    "service_cron",
    "git",
    "container",
    "net",
    "net_links",
    "shell",
    "sql",
    "redis",
    "mongo",
    "k8s",
    "helm",
    "terraform",
    "cloud_aws",
    "cloud_gcp",
    "cloud_azure",
    "cloud_doctl",
)

_RANK = {f"guardsh.analyze.{name}": i for i, name in enumerate(FAMILIES)}
_imported: set[str] = set()


def _load(names: Iterable[str]) -> None:
    for name in names:
        if name not in _imported:
            importlib.import_module(f"guardsh.analyze.{name}")
            _imported.add(name)


def load_all() -> None:
    """Import every family module once, so their analyzers register."""
    _load(FAMILIES)


def load_for(program: str) -> None:
    """Import the families that analyze `program`, and the fallback families."""
    from guardsh.analyze import index

    _load(index.FALLBACK)
    _load(index.PROGRAMS.get(program, ()))


def _rank(fn: Analyzer) -> int:
    return _RANK.get(fn.__module__, len(_RANK))  # analyzers from elsewhere (tests) last


def analyzers_for(program: str) -> list[Analyzer]:
    """Every analyzer that sees an invocation of `program`, loading what it needs."""
    load_for(program)
    return sorted(registry.analyzers_for(program), key=_rank)
