"""Shells and shell text: `bash -c`, `su -c`, `eval`, `source`, `watch 'cmd'`.

A peeler returns shell text (or a file) to parse and unwrap in turn; it
returns None where the text cannot be known (`bash -c "$X"`) or nothing runs
inside (interactive `bash`), so the shell analyzer can call it opaque or an
escape.
"""

from __future__ import annotations

from guardsh.parse.argv import parse_argv
from guardsh.unwrap.wrappers import Argv, Peel, _after, peeler


@peeler("watch")
def watch(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value="nqs",
        long_value={"interval", "differences", "equexit", "errexit"},
        stop_at_operand=True,
    )
    if not p.rest:
        return None
    if p.has("-x", "--exec"):
        return [Peel(via="watch", argv=tuple(p.rest))]
    return [Peel(via="watch", text=p.rest)]


SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "ash", "mksh", "fish", "busybox"})


@peeler(*SHELLS)
def shell(argv: Argv) -> list[Peel] | None:
    words = argv[1:]
    if argv[0].value.rsplit("/", 1)[-1] == "busybox":
        if not words:
            return None
        if words[0].value not in ("sh", "ash", "bash"):
            return _after(words, "busybox")  # a multi-call applet: busybox rm -rf x
        words = words[1:]
    command_mode = False
    i = 0
    while i < len(words):
        v = words[i].value
        if v == "--" or not v.startswith(("-", "+")) or v in ("-", "+"):
            if v == "--":
                i += 1
            break
        if v.startswith("--"):
            if v in ("--rcfile", "--init-file"):
                i += 1
        elif v[0] == "-" and "c" in v[1:]:
            command_mode = True
        elif v[0] in "-+" and v[1:] == "o":
            i += 1
        i += 1
    operands = words[i:]
    if command_mode:
        if not operands or not operands[0].known:
            return None
        positional = tuple(w.value for w in operands[1:]) or None
        if positional is not None and not all(w.known for w in operands[1:]):
            positional = None
        return [Peel(via=f"{argv[0].value} -c", text=[operands[0]], positional=positional)]
    if operands:
        if not operands[0].known:
            return None
        return [
            Peel(via=argv[0].value, file=operands[0], positional=tuple(w.value for w in operands))
        ]
    return None  # reads commands from stdin or the terminal: see the engine


@peeler("su", "runuser")
def su(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value="cgGsuw",
        long_value={
            "command",
            "group",
            "supp-group",
            "shell",
            "session-command",
            "user",
            "whitelist-environment",
        },
    )
    text = p.value("-c", "--command", "--session-command")
    operands = [w for w in p.operands if w.value != "-"]
    user_word = p.value("-u", "--user")
    user = user_word.value if user_word else (operands[0].value if operands else "root")
    if text is None or not text.known:
        return None
    return [Peel(via=argv[0].value, text=[text], user=user)]


@peeler("eval")
def eval_(argv: Argv) -> list[Peel] | None:
    words = argv[1:]
    if not words or not all(w.known for w in words):
        return None
    return [Peel(via="eval", text=words)]


@peeler("source", ".")
def source(argv: Argv) -> list[Peel] | None:
    if len(argv) < 2 or not argv[1].known:
        return None
    return [Peel(via="source", file=argv[1], positional=tuple(w.value for w in argv[1:]))]
