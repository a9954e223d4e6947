"""Layer fixtures: a fake /etc/guardsh, a user config dir, and a loader."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guardsh import cases
from guardsh.model import Decision
from guardsh.policy import cache, layers
from guardsh.policy.schema import Policy

OLD = 1_600_000_000  # an mtime far in the past: not "racy" for the cache


class World:
    """A sandbox with an /etc/guardsh, a home, and the environment guardsh reads."""

    def __init__(self, root: Path):
        self.etc = root / "etc-guardsh-real"
        self.override = root / "etc-guardsh"  # conftest's GUARDSH_CONFIG_DIR
        self.home = root / "home"
        self.env: dict[str, str] = {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
        }

    def write(self, path: Path, text: str, mode: int = 0o644) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_text(text)
        path.chmod(mode)
        os.utime(path, (OLD, OLD))
        os.utime(path.parent, (OLD, OLD))  # a new file changes its folder's mtime too
        return path

    def system(self, name: str, text: str, mode: int = 0o644) -> Path:
        return self.write(self.etc / "policy.d" / name, text, mode)

    def team(self, name: str, text: str) -> Path:
        return self.write(self.etc / name, text)

    def user(self, text: str) -> Path:
        return self.write(self.home / ".config" / "guardsh" / "policy.yaml", text)

    def load(self, use_cache: bool = False, args: tuple[str, ...] = (), **env: str) -> Policy:
        cache.clear_memo()
        return layers.effective(
            args, environ={**self.env, **env}, etc_dir=str(self.etc), use_cache=use_cache
        )


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """/etc files owned by whoever runs the tests count as root's."""
    monkeypatch.setattr(layers, "system_owners", lambda: frozenset({0, os.geteuid()}))
    return World(tmp_path)


def decide(policy: Policy, cmd: str, **context: Any) -> Decision:
    return cases.run({"cmd": cmd, **context}, policy)


NOON = dt.datetime(2026, 1, 14, 12, 0, tzinfo=dt.UTC)
Decider = Callable[..., Decision]
