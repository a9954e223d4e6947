"""Shared helpers for the analyzer tests: words and invocations built by hand,
the registered analyzers run on them, their findings in brief, and
`guardsh check` / bash run for real (the tests against real servers)."""

from __future__ import annotations

import io
import json
import os
import posixpath
import shlex
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from guardsh.analyze.registry import Context, analyzers_for
from guardsh.model import Facts, Finding, Invocation, Snapshot, Span, Stdin, Target, Word
from guardsh.parse.bash import Command, parse_script
from guardsh.parse.expand import Scope
from guardsh.parse.source import Source

REPO = Path(__file__).resolve().parents[2]
LOCAL = Target("local", (("hostname", "web-1"),))

# ------------------------------------------------------------------ words


def words(line: str) -> list[Word]:
    """shlex words with approximate spans; `$` marks a word unknown."""
    stream = io.StringIO(line)
    lex = shlex.shlex(stream, posix=True, punctuation_chars=False)
    lex.whitespace_split = True
    out: list[Word] = []
    start = 0
    while True:
        while start < len(line) and line[start] == " ":
            start += 1
        tok = lex.get_token()
        if tok is None:
            return out
        end = stream.tell()
        raw = line[start:end].rstrip()
        unquoted = not any(q in raw for q in "'\"")
        out.append(
            Word(
                tok,
                Span(start, start + len(raw)),
                known="$" not in raw,
                glob=unquoted and any(c in raw for c in "*?["),
                quoted=not unquoted,
            )
        )
        start = end


def spaced_words(line: str) -> list[Word]:
    """shlex words laid one space apart; a word starting with `$` is unknown."""
    out: list[Word] = []
    pos = 0
    for tok in shlex.split(line):
        out.append(Word(tok, Span(pos, pos + len(tok)), known=not tok.startswith("$")))
        pos += len(tok) + 1
    return out


def found_words(line: str) -> list[Word]:
    """shlex words spanning where each is found in `line`; `$` marks a word unknown."""
    out: list[Word] = []
    pos = 0
    for tok in shlex.split(line):
        start = max(line.find(tok, pos), pos)
        pos = start + len(tok)
        out.append(Word(tok, Span(start, pos), known="$" not in tok))
    return out


def split_env(ws: list[Word]) -> tuple[tuple[tuple[str, str], ...], list[Word]]:
    """The leading NAME=VALUE words as an environment, and the words after them."""
    env: list[tuple[str, str]] = []
    rest = list(ws)
    while rest and rest[0].value.partition("=")[0].isidentifier() and "=" in rest[0].value:
        name, _, value = rest.pop(0).value.partition("=")
        env.append((name, value))
    return tuple(env), rest


def first_command(line: str, home: str) -> Command:
    """The first top-level command of `line` (words from the real parser)."""
    return next(c for c in parse_script(Source.of(line), Scope({}, home)).commands if not c.nested)


# ------------------------------------------------------------------ analysis


def findings(
    inv: Invocation, ctx: Context, modules: Collection[str] | None = None
) -> list[Finding]:
    """What the analyzers registered for `inv.program` find, in their order;
    with `modules`, only the analyzers defined in those modules."""
    return [
        f
        for fn in analyzers_for(inv.program)
        if modules is None or fn.__module__ in modules
        for f in fn(inv, ctx)
    ]


def run(
    line: str,
    *,
    target: Target = LOCAL,
    stdin: str | None = None,
    files: dict[str, str] | None = None,
    user: str | None = None,
    env: tuple[tuple[str, str], ...] = (),
    variables: dict[str, str] | None = None,
    recursed: list[str] | None = None,
) -> list[Finding]:
    """Findings for `line` as one invocation of its `words`, typed by deploy in
    /srv/app: `stdin` is piped from echo, `files` are the files that exist, `user`
    is whom it runs as, and shell text analyzed recursively goes to `recursed`."""
    argv = tuple(words(line))
    inv = Invocation(
        program=posixpath.basename(argv[0].value),
        argv=argv,
        span=Span(0, len(line)),
        target=target,
        stdin=Stdin(stdin, "pipe:echo") if stdin is not None else None,
        user=user,
        env=env,
    )
    table = files or {}

    def recurse(text: str, target: Target, span: Span) -> list[Finding]:
        if recursed is not None:
            recursed.append(text)
        return []

    ctx = Context(
        line=line,
        snapshot=Snapshot(cwd="/srv/app", user="deploy", variables=variables or {}),
        facts=Facts(read_file=table.get),
        recurse_shell=recurse,
    )
    return findings(inv, ctx)


def brief(fs: list[Finding]) -> list[tuple[str, str | None, str]]:
    """Action, object and severity of each finding."""
    return [(f.action, f.object, str(f.severity)) for f in fs]


def brief_tagged(fs: list[Finding]) -> list[tuple[str, str | None, str, list[str]]]:
    """Action, object, severity and sorted tags of each finding."""
    return [(f.action, f.object, str(f.severity), sorted(f.tags)) for f in fs]


# ------------------------------------------------------------------ for real


def check(line: str, *opts: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`guardsh check --json [OPTS] -- LINE` in a fresh interpreter; its JSON result."""
    proc = subprocess.run(
        [sys.executable, "-m", "guardsh", "check", "--json", *opts, "--", line],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode in (0, 10, 20), f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(proc.stdout)
    assert result["exit"] == proc.returncode
    return result


def bash(line: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run LINE for real in bash; its stdout."""
    proc = subprocess.run(
        ["bash", "-c", line],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, f"{line!r} exited {proc.returncode}: {proc.stderr}"
    return proc.stdout


def only(result: dict[str, Any], action: str) -> dict[str, Any]:
    """The one finding with `action` in a `guardsh check --json` result."""
    found: list[dict[str, Any]] = [f for f in result["findings"] if f["action"] == action]
    assert len(found) == 1, result["findings"]
    return found[0]
