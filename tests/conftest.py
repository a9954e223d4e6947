"""Hermetic tests: HOME, XDG dirs and guardsh's config, policy and audit paths
point at a temporary folder for every test."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.servers"]


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_STATE_HOME", ".local/state"),
                     ("XDG_DATA_HOME", ".local/share"), ("XDG_CACHE_HOME", ".cache")):  # fmt: skip
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("GUARDSH_CONFIG_DIR", str(tmp_path / "etc-guardsh"))
    monkeypatch.setenv("GUARDSH_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    # No analysis server unless a test starts one (tests/run/test_fastpath.py):
    # a guardsh -c must not leave servers behind in every test's folder.
    monkeypatch.setenv("GUARDSH_SERVER", "off")
    monkeypatch.setenv("GUARDSH_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("GUARDSH_POLICY", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for var in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    return home
