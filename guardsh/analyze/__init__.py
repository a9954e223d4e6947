"""Analyzers: one module per tool family, each registering itself on import."""

from __future__ import annotations

import importlib

FAMILIES = (
    "process",
    "fs",
    "disk",
    "service",
    "git",
    "container",
    "net",
    "shell",
    "sql",
    "redis",
    "mongo",
    "k8s",
    "helm",
    "terraform",
    "cloud",
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
