"""Analyzers: one module per tool family, each registering itself on import.

Helper modules shared by families (kube, cloud, fs_paths, disk_devices,
process_severity, k8s_cmd, k8s_verbs, the sql* modules) register nothing and
are not listed; they are imported by the families that need them.
"""

from __future__ import annotations

import importlib

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

_loaded = False


def load_all() -> None:
    """Import every family module once, so their analyzers register."""
    global _loaded
    if _loaded:
        return
    for name in FAMILIES:
        importlib.import_module(f"guardsh.analyze.{name}")
    _loaded = True
