"""Fixtures for the shell's pty tests: a policy that makes this very host
production, and guardsh started on a real terminal."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.shell.term import Term, guardsh_argv, term_env

PROD_POLICY = """\
environments:
  - name: production
    color: red
    protected: true
    match:
      hostname: ["{host}"]
rules:
  - id: prod-kill
    match: {{actions: [process.kill]}}
    in: [production]
    require: type
    message: "Killing a process in production."
"""


@pytest.fixture
def prod_policy(tmp_path: Path) -> Path:
    """A policy layer under which the machine running the tests is production."""
    path = tmp_path / "prod.yaml"
    path.write_text(PROD_POLICY.format(host=socket.gethostname()))
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


@pytest.fixture
def shell(work: Path) -> Iterator[Callable[..., Term]]:
    """Start guardsh on a pty: shell(*args, policy=path, **env)."""
    started: list[Term] = []

    def start(*args: str, policy: Path | None = None, cwd: Path | None = None, **env: str) -> Term:
        extra = dict(env)
        if policy is not None:
            extra["GUARDSH_POLICY"] = str(policy)
        t = Term(guardsh_argv(*args), env=term_env(**extra), cwd=str(cwd or work))
        started.append(t)
        t.prompt(timeout=30)
        return t

    yield start
    for t in started:
        t.close()
