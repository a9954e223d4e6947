"""Stdin provenance: what a command reads, when it can be known statically.

Known: a heredoc or herestring, `< FILE` (read through the facts adapter),
and a pipe from `echo`, `printf` or `cat FILE...` (also `cat` fed by its own
heredoc). Anything else is a pipe of unknown content.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from guardsh.model import Stdin, Word
from guardsh.parse.bash import Command, Script
from guardsh.parse.expand import ansi_c

_PRINTF_SPEC = re.compile(r"%(?:%|[-+ #0]*\d*(?:\.\d+)?[sdqbixXfgeEc])")


def echo_text(args: list[Word]) -> str | None:
    newline = True
    escapes = False
    i = 0
    while i < len(args) and re.fullmatch(r"-[neE]+", args[i].value):
        newline = newline and "n" not in args[i].value
        escapes = "e" in args[i].value or (escapes and "E" not in args[i].value)
        i += 1
    words = args[i:]
    if not all(w.known for w in words):
        return None
    text = " ".join(w.value for w in words)
    if escapes:
        text = ansi_c(text)
    return text + ("\n" if newline else "")


def printf_text(args: list[Word]) -> str | None:
    if args and args[0].value == "-v":
        return ""  # assigns a variable, prints nothing
    if not args or not all(w.known for w in args):
        return None
    fmt, values = args[0].value, [w.value for w in args[1:]]
    out: list[str] = []
    while True:
        text, consumed = _printf_once(fmt, values)
        out.append(text)
        values = values[consumed:]
        if not values or consumed == 0:
            break
    return "".join(out)


def _printf_once(fmt: str, values: list[str]) -> tuple[str, int]:
    """One pass of the format over `values`; how many values it took."""
    it = iter(values)
    consumed = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal consumed
        if m.group(0) == "%%":
            return "%"
        consumed += 1
        return next(it, "")

    return ansi_c(_PRINTF_SPEC.sub(repl, fmt)), consumed


def resolve(path: str, cwd: str) -> str:
    """`path` made absolute against `cwd`, normalized (`./x`, `a/../b`)."""
    return posixpath.normpath(posixpath.join(cwd, path))


def command_stdin(
    cmd: Command,
    script: Script,
    read_file: Callable[[str], str | None],
    cwd: str,
    inherited: Stdin | None = None,
    depth: int = 0,
) -> Stdin | None:
    """The stdin of `cmd`: its own heredoc/redirect, its pipe, or `inherited`."""
    if cmd.stdin is not None:
        return cmd.stdin
    for r in cmd.redirects:
        if r.op == "<" and (r.fd in (None, 0)):
            if not r.target.known:
                return Stdin(None, f"file:{r.target.value}", r.target.span)
            path = resolve(r.target.value, cwd)
            return Stdin(read_file(path), f"file:{path}", r.target.span)
    if cmd.pipe_from is not None:
        producer = script.commands[cmd.pipe_from]
        return Stdin(
            _output(producer, script, read_file, cwd, depth), _source(producer), producer.span
        )
    return inherited


def _source(cmd: Command) -> str:
    head = cmd.words[0].value.rsplit("/", 1)[-1] if cmd.words else "?"
    return f"pipe:{head}"


def _output(
    cmd: Command, script: Script, read_file: Callable[[str], str | None], cwd: str, depth: int
) -> str | None:
    """What a producer writes to stdout, for echo/printf/cat; None otherwise."""
    if not cmd.words or depth > 8:
        return None
    head = cmd.words[0]
    if not head.known:
        return None
    name = head.value.rsplit("/", 1)[-1]
    args = list(cmd.words[1:])
    if name == "echo":
        return echo_text(args)
    if name == "printf":
        return printf_text(args)
    if name == "cat":
        files = [w for w in args if not w.value.startswith("-") or w.value == "-"]
        if not files:
            own = command_stdin(cmd, script, read_file, cwd, None, depth + 1)
            return own.text if own is not None else None
        parts = []
        for w in files:
            if not w.known or w.glob:
                return None
            if w.value == "-":
                own = command_stdin(cmd, script, read_file, cwd, None, depth + 1)
                text = own.text if own is not None else None
            else:
                text = read_file(resolve(w.value, cwd))
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None
