"""A skipped user policy file is said above the first prompt, once."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.shell.term import Term

pytestmark = pytest.mark.pty


def test_a_skipped_user_file_is_said_once_at_start(shell: Callable[..., Term]) -> None:
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "guardsh" / "policy.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("rules: {}\n")
    t = shell()
    said = f"guardsh: policy: your policy file was skipped: {user}:1:8: expected a list of rules"
    assert said in t.text
    t.run("echo one", "one")
    t.run("echo two", "two")
    assert t.text.count(said) == 1
    t.exit()
