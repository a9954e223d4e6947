"""Wrappers: programs that run another program, each with its real option grammar.

A peeler takes the wrapper's argv and says what runs inside: another argv
(`sudo -u postgres psql`), shell text (`bash -c '...'`, `eval`, `watch 'cmd'`),
or a file (`source x.sh`, `bash x.sh`). It returns None where nothing runs
inside (`sudo -l`, `command -v rm`, interactive `bash`, text that cannot be
known): the wrapper itself is then analyzed, so the shell analyzer can call it
an escape or opaque. Remote wrappers (ssh, kubectl exec, docker exec) live in
`remote.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from guardsh.model import Target, Word
from guardsh.parse.argv import parse_argv

Argv = tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class Peel:
    """What runs inside a wrapper."""

    via: str
    argv: Argv = ()  # the inner argv, or
    text: Sequence[Word] = ()  # shell text (words joined by spaces), or
    file: Word | None = None  # a shell file to read and run
    positional: tuple[str, ...] | None = None  # $0 $1 ... for text/file
    user: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    target: Target | None = None  # the inner command runs there
    remote: bool = False  # runs on another host, pod or container: its shell, its files
    keep_self: bool = False  # analyze the wrapper's own invocation too
    inherit_target: bool = False  # `target` runs on the current host: keep its fields
    stdin_items: bool = False  # append/replace words from stdin (xargs)
    replace: str | None = None  # xargs -I / parallel placeholder
    separator: str | None = None  # xargs -0 / -d: how stdin splits into items
    consumes_stdin: bool = False  # the inner command does not see the stdin
    cwd: str | None = None


Peeler = Callable[[Argv], "list[Peel] | None"]
PEELERS: dict[str, Peeler] = {}


def peeler(*names: str) -> Callable[[Peeler], Peeler]:
    def register(fn: Peeler) -> Peeler:
        for n in names:
            PEELERS[n] = fn
        return fn

    return register


def _split_assignments(words: Sequence[Word]) -> tuple[tuple[tuple[str, str], ...], Argv]:
    """Leading NAME=VALUE words (env) and the argv after them."""
    env: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        name, eq, value = words[i].value.partition("=")
        if eq and name.replace("_", "a").isalnum() and not name[0].isdigit():
            env.append((name, value))
            i += 1
        else:
            break
    return tuple(env), tuple(words[i:])


def _after(parsed_rest: Sequence[Word], via: str, **kw: object) -> list[Peel] | None:
    if not parsed_rest:
        return None
    return [Peel(via=via, argv=tuple(parsed_rest), **kw)]  # type: ignore[arg-type]


_SUDO_SHORT = "ughpCDrtTUa"
_SUDO_LONG = frozenset(
    {"user", "group", "host", "prompt", "close-from", "chdir", "role", "type",
     "command-timeout", "other-user", "auth-type", "login-class", "chroot"}
)  # fmt: skip
# What a login shell still expands in a word sudo -i/-s escaped: `$NAME`, `$1`, `$$`, `$-`.
_SHELL_PARAM = re.compile(r"\$[A-Za-z0-9_$-]")


def _login_shell_words(words: Sequence[Word]) -> Argv:
    """`sudo -i|-s CMD ARGS`: sudo backslash-escapes every character of each
    word but letters, digits, `_`, `-` and `$`, and runs `SHELL -c` on the
    words joined: the words stay words, and only a `$NAME` in them is expanded
    again, by the target user's shell (whose variables are not known here)."""
    return tuple(
        replace(w, known=False) if w.known and _SHELL_PARAM.search(w.value) else w for w in words
    )


@peeler("sudo")
def sudo(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value=_SUDO_SHORT,
        long_value=_SUDO_LONG,
        stop_at_operand=True,
        assignments=True,
    )
    env = tuple((k, v) for w in p.assigns if w.known for k, _, v in [w.value.partition("=")])
    rest = p.rest
    if not rest:
        return None  # `sudo -l`, `sudo -v`, or an interactive shell: the shell analyzer's escape
    user_word = p.value("-u", "--user")
    user = user_word.value if user_word is not None else "root"
    if p.has("-i", "--login", "-s", "--shell"):
        rest = _login_shell_words(rest)
    return _after(rest, "sudo", user=user, env=env)


@peeler("doas")
def doas(argv: Argv) -> list[Peel] | None:
    p = parse_argv(argv[1:], short_value="uC", stop_at_operand=True)
    if p.has("-s") and not p.rest:
        return None
    user_word = p.value("-u")
    return _after(p.rest, "doas", user=user_word.value if user_word else "root")


@peeler("env")
def env_(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value="uCS",
        long_value={
            "unset",
            "chdir",
            "split-string",
            "default-signal",
            "ignore-signal",
            "block-signal",
        },
        stop_at_operand=True,
    )
    split = p.value("-S", "--split-string")
    env, rest = _split_assignments(p.rest)
    if split is not None:
        return [Peel(via="env -S", text=[split, *rest], env=env)]
    chdir = p.value("-C", "--chdir")
    return _after(rest, "env", env=env, cwd=chdir.value if chdir else None)


def _simple(
    name: str,
    short_value: str = "",
    long_value: frozenset[str] = frozenset(),
    skip_operands: int = 0,
) -> None:
    def peel(argv: Argv) -> list[Peel] | None:
        p = parse_argv(
            argv[1:], short_value=short_value, long_value=long_value, stop_at_operand=True
        )
        rest = p.rest[skip_operands:]
        return _after(rest, name)

    PEELERS[name] = peel


_simple("nohup")
_simple("setsid", "")
_simple("time", "fo", frozenset({"format", "output"}))
_simple("timeout", "sk", frozenset({"signal", "kill-after"}), skip_operands=1)
_simple("stdbuf", "ioe", frozenset({"input", "output", "error"}))
_simple("chrt", "", frozenset(), skip_operands=1)
_simple("taskset", "", frozenset(), skip_operands=1)
_simple("flock", "wEc", frozenset({"timeout", "conflict-exit-code", "command"}), skip_operands=1)
_simple("chroot", "", frozenset({"userspec", "groups"}), skip_operands=1)
_simple("unbuffer", "")
_simple("caffeinate", "")
_simple("builtin", "")


@peeler("nice")
def nice(argv: Argv) -> list[Peel] | None:
    words = list(argv[1:])
    if words and words[0].value[:1] == "-" and words[0].value[1:].isdigit():
        words = words[1:]  # `nice -5 cmd`
    p = parse_argv(words, short_value="n", long_value={"adjustment"}, stop_at_operand=True)
    return _after(p.rest, "nice")


@peeler("ionice")
def ionice(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:], short_value="cnp", long_value={"class", "classdata", "pid"}, stop_at_operand=True
    )
    if p.has("-p", "--pid"):
        return None  # changes another process's priority; runs nothing
    return _after(p.rest, "ionice")


@peeler("toybox")
def toybox(argv: Argv) -> list[Peel] | None:
    """Multi-call binaries: `toybox rm -rf x` runs rm."""
    return _after(argv[1:], argv[0].value.rsplit("/", 1)[-1])


@peeler("ip")
def ip_netns(argv: Argv) -> list[Peel] | None:
    """`ip netns exec NS CMD` runs CMD in a network namespace of this host."""
    words = [w.value for w in argv[1:4]]
    if words[:2] != ["netns", "exec"] or len(argv) < 5:
        return None
    return [Peel(via=f"ip netns exec {argv[3].value}", argv=tuple(argv[4:]))]


@peeler("nsenter")
def nsenter(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value="tSGwr",
        long_value={"target", "setuid", "setgid", "wd", "root"},
        stop_at_operand=True,
    )
    return _after(p.rest, "nsenter")


@peeler("exec")
def exec_(argv: Argv) -> list[Peel] | None:
    p = parse_argv(argv[1:], short_value="a", stop_at_operand=True)
    return _after(p.rest, "exec")


@peeler("command")
def command(argv: Argv) -> list[Peel] | None:
    p = parse_argv(argv[1:], stop_at_operand=True)
    if p.has("-v", "-V"):
        return None  # a lookup, not an execution
    return _after(p.rest, "command")
