"""sshd starts a login shell as `-guardsh`; the `-` does not survive the
installed script's shebang, so guardsh recognises the parent instead."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.shell.term import REPO, Term, term_env

pytestmark = pytest.mark.pty
SCRIPT = Path(sys.executable).parent / "guardsh"  # the console script pip installed
FAKE_PARENT = REPO / "tests" / "shell" / "fakeparent.py"


def _started_by(parent: str, work: Path, argv0: str = "-guardsh") -> Term:
    if not SCRIPT.exists():
        pytest.skip(f"no installed guardsh script at {SCRIPT}")
    argv = [sys.executable, str(FAKE_PARENT), parent, "/bin/bash", "-c"]
    t = Term([*argv, f"exec -a {argv0} {SCRIPT}"], env=term_env(), cwd=str(work))
    try:
        t.prompt(timeout=30)
    except BaseException:
        t.close()
        raise
    return t


@pytest.mark.parametrize("parent", ["sshd", "sshd-session", "login"])
def test_dash_guardsh_started_by_sshd_is_a_login_shell(parent: str, work: Path) -> None:
    home = Path(os.environ["HOME"])
    (home / ".bash_profile").write_text("export FROM_PROFILE=profile-$((2+3))\n")
    t = _started_by(parent, work)
    try:
        t.run('echo "[${FROM_PROFILE-none}]"', "[profile-5]")
        t.run('echo "[$0]"', "[-bash]")
    finally:
        t.close()


def test_a_shell_started_by_anything_else_is_not(work: Path) -> None:
    home = Path(os.environ["HOME"])
    (home / ".bash_profile").write_text("export FROM_PROFILE=profile-$((2+3))\n")
    t = _started_by("xterm", work, argv0="guardsh")
    try:
        t.run('echo "[${FROM_PROFILE-none}]"', "[none]")
    finally:
        t.close()
