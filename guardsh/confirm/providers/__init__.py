"""Dry-run providers, one module per kind of thing a command destroys.

Each module registers itself with `base.provider(name, *actions)` on import;
`load_all()` imports them (lazily: `guardsh check` without `--dry-run` never
pays for them).
"""

from __future__ import annotations

import importlib

MODULES = ("procs", "files", "sql", "kube", "helm", "terraform", "systemctl", "git", "redis")
_loaded = False


def load_all() -> None:
    global _loaded
    if _loaded:
        return
    for name in MODULES:
        importlib.import_module(f"guardsh.confirm.providers.{name}")
    _loaded = True
