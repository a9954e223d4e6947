"""mongosh under guard (lines on a pipe), with `--nodb`: no MongoDB server can
be installed here, so this checks the proxy, the grammar and the card only.
mongosh comes from npm (`npm install mongosh`); GUARDSH_TEST_MONGOSH names it."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from tests.clients.conftest import Start
from tests.shell.term import CTRL_C, Term

pytestmark = pytest.mark.pty
MONGOSH = os.environ.get("GUARDSH_TEST_MONGOSH") or shutil.which("mongosh")
PROMPT = re.compile(r"\[PROD\] db:localhost/test ?>")


def prompt(t: Term) -> None:
    t.expect(PROMPT, timeout=30)
    time.sleep(0.2)


@pytest.mark.skipif(MONGOSH is None, reason="mongosh not installed (npm install mongosh)")
def test_mongosh_statements(client: Start, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("environments:\n  - name: production\n    color: red\n    protected: true\n"
                      "    match:\n      db_engine: [mongodb]\n")  # fmt: skip
    assert MONGOSH is not None
    t = client([MONGOSH, "--nodb", "--quiet"], policy=policy)
    prompt(t)
    t.line("1 + 41")
    t.expect(r"\n42\n")
    prompt(t)
    t.line("function f() {")  # incomplete JavaScript: the editor waits
    time.sleep(0.2)
    t.line("  return 5 }")
    t.expect_exact("[Function: f]")
    prompt(t)
    t.line("db.dropDatabase()")
    t.expect_exact("Type `test` to run it:")
    time.sleep(0.2)
    t.send(CTRL_C)
    t.expect_exact("not sent")
    prompt(t)
