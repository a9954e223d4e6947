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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
    remote: bool = False  # the text is expanded by another host's shell
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
    """Leading NAME=VALUE words (env, sudo) and the argv after them."""
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


@peeler("sudo")
def sudo(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value="ughpCDrtTUa",
        long_value={
            "user",
            "group",
            "host",
            "prompt",
            "close-from",
            "chdir",
            "role",
            "type",
            "command-timeout",
            "other-user",
            "auth-type",
            "login-class",
            "chroot",
        },
        stop_at_operand=True,
    )
    if (
        p.has(
            "-l",
            "--list",
            "-v",
            "--validate",
            "-k",
            "--reset-timestamp",
            "-K",
            "--remove-timestamp",
            "-V",
            "--version",
            "-h",
            "--help",
            "-e",
            "--edit",
        )
        and not p.rest
    ):
        return None
    env, rest = _split_assignments(p.rest)
    user_word = p.value("-u", "--user")
    user = user_word.value if user_word is not None else "root"
    if p.has("-i", "--login", "-s", "--shell"):
        if not rest:
            return None  # an interactive root shell: the shell analyzer's escape
        return [Peel(via="sudo", text=rest, user=user, env=env)]
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


_SHELLS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "ash", "mksh", "fish", "busybox"})


@peeler(*_SHELLS)
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


@peeler("xargs")
def xargs(argv: Argv) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value="adEILnPs",
        long_value={
            "arg-file",
            "delimiter",
            "eof",
            "replace",
            "max-lines",
            "max-args",
            "max-procs",
            "max-chars",
            "process-slot-var",
        },
        stop_at_operand=True,
    )
    replace = p.value("-I", "--replace")
    if replace is None and p.has("-i"):
        replace = Word("{}")
    sep = None
    if p.has("-0", "--null"):
        sep = "\0"
    delim = p.value("-d", "--delimiter")
    if delim is not None:
        sep = delim.value.encode().decode("unicode_escape") if "\\" in delim.value else delim.value
    inner = tuple(p.rest) or (Word("echo"),)
    return [
        Peel(
            via="xargs",
            argv=inner,
            stdin_items=True,
            consumes_stdin=True,
            replace=replace.value if replace else None,
            separator=sep,
        )
    ]


@peeler("parallel")
def parallel(argv: Argv) -> list[Peel] | None:
    words = list(argv[1:])
    cut = next((i for i, w in enumerate(words) if w.value in (":::", "::::")), len(words))
    cmd, items = words[:cut], words[cut + 1 :]
    p = parse_argv(
        cmd, short_value="jSI", long_value={"jobs", "sshlogin", "joblog"}, stop_at_operand=True
    )
    inner = tuple(p.rest)
    if not inner:
        return None
    if cut < len(words):
        peels = []
        for item in items[:16]:
            if "{}" in " ".join(w.value for w in inner):
                args = tuple(
                    Word(w.value.replace("{}", item.value), w.span, w.known and item.known)
                    for w in inner
                )
            else:
                args = (*inner, item)
            peels.append(Peel(via="parallel", argv=args))
        return peels or None
    return [Peel(via="parallel", argv=inner, stdin_items=True, consumes_stdin=True, replace="{}")]


_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


@peeler("find")
def find(argv: Argv) -> list[Peel] | None:
    """`find ... -exec CMD {} ;|+`: CMD runs on every file found."""
    words = argv[1:]
    roots = []
    for w in words:
        if w.value.startswith(("-", "(", "!")):
            break
        roots.append(w.value)
    found = f"{{files found under {' '.join(roots) or '.'}}}"
    peels: list[Peel] = []
    i = 0
    while i < len(words):
        if words[i].value in _FIND_EXEC:
            j = i + 1
            inner: list[Word] = []
            while j < len(words) and words[j].value not in (";", "+"):
                w = words[j]
                if "{}" in w.value:
                    w = Word(w.value.replace("{}", found), w.span, known=False)
                inner.append(w)
                j += 1
            if inner:
                peels.append(Peel(via=f"find {words[i].value}", argv=tuple(inner), keep_self=True))
            i = j
        i += 1
    return peels or None
