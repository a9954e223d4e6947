"""Builders for the frozen records tests need (STYLE: "Inject the world")."""

from __future__ import annotations

from typing import Any

from guardsh.model import Facts, Invocation, Snapshot
from guardsh.parse.bash import Script, parse_script
from guardsh.parse.expand import Scope
from guardsh.parse.source import Source
from guardsh.policy.load import default_text, merge
from guardsh.policy.schema import Policy
from guardsh.unwrap.engine import Unwrapper

DEFAULT_POLICY = merge([("<default>", default_text())])


def snapshot(**kw: Any) -> Snapshot:
    base: dict[str, Any] = {"hostname": "host-1", "cwd": "/srv", "home": "/home/op", "user": "op"}
    base.update(kw)
    return Snapshot(**base)


def script(
    line: str, variables: dict[str, str] | None = None, aliases: dict[str, str] | None = None
) -> Script:
    return parse_script(Source.of(line), Scope(dict(variables or {}), "/home/op"), aliases or {})


def argvs(line: str, **kw: Any) -> list[list[str]]:
    """The words of each command the line runs, in order."""
    return [[w.value for w in c.words] for c in script(line, **kw).commands]


def invocations(line: str, files: dict[str, str] | None = None, **kw: Any) -> list[Invocation]:
    files = files or {}
    facts = Facts(read_file=files.get)
    return Unwrapper(snapshot(**kw), facts, line).run()


def policy(text: str) -> Policy:
    return merge([("<default>", default_text()), ("test.yaml", text)])
