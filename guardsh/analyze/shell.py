"""Shells: escapes from the guard, and what cannot be known statically.

`shell.escape`: an interactive shell that would run unguarded (`bash`,
`sudo -i`, `sudo -s`, `su -`). `shell.opaque`: a program or text whose
content is only known at run time: `$cmd args`, `eval "$x"`, `bash -c "$x"`,
`curl ... | bash`, `base64 -d | sh`, a sourced file that cannot be read, a
function whose body guardsh cannot see. The unwrapper has already followed
everything it could; what reaches these analyzers is what it could not.

Anti-patterns (fire): `sudo -i`, `su - postgres`, `curl -s https://x/i.sh | sh`,
`$CMD --force`, `eval "$(cat cmds)"`, `source ./unreadable.env`.
Near misses (quiet): `bash -c 'ls'`, `sh ./script.sh` (a readable script),
`su -c 'ls' postgres`, `sudo -l`, `bash --version`, `command -v bash`.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardsh.analyze.registry import Context, analyzer, fallback, finding
from guardsh.model import Finding, Invocation, Severity, Stdin
from guardsh.parse.argv import parse_argv

_SHELLS = ("bash", "sh", "dash", "zsh", "ksh", "ash", "mksh", "fish", "busybox")
_REMOTE_PRODUCERS = frozenset({"curl", "wget", "fetch", "http", "nc", "ncat", "socat"})
_DECODERS = frozenset({"base64", "base32", "xxd", "openssl", "gunzip", "zcat", "rev", "tr"})
_INFO_FLAGS = frozenset({"--version", "--help", "-h", "-V"})


def _opaque(inv: Invocation, obj: str | None, detail: str, *tags: str) -> Finding:
    return finding(inv, "shell.opaque", obj, Severity.LOW, tags=tags, detail=detail)


def _stdin_finding(inv: Invocation, stdin: Stdin) -> Finding:
    producer = stdin.source.removeprefix("pipe:")
    tags = []
    if producer in _REMOTE_PRODUCERS:
        tags.append("remote-script")
    elif producer in _DECODERS:
        tags.append("decoded")
    return _opaque(
        inv,
        stdin.source,
        f"{inv.program} runs commands read from `{producer}`, "
        "which are only known when they arrive",
        *tags,
    )


@analyzer(*_SHELLS)
def shell(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = inv.args
    if any(w.value in _INFO_FLAGS for w in args[:1]):
        return
    words = [w for w in args if not w.value.startswith(("-", "+"))]
    flags = "".join(
        w.value[1:] for w in args if w.value.startswith("-") and not w.value.startswith("--")
    )
    if "c" in flags:
        text = next((w for w in words), None)
        shown = text.value if text is not None else ""
        yield _opaque(
            inv,
            shown or None,
            f"{inv.program} -c runs text that is only known at run time: {shown}",
        )
        return
    if words:
        script = words[0]
        yield _opaque(
            inv,
            script.value,
            f"{inv.program} runs the script {script.value}, which guardsh cannot read",
        )
        return
    if inv.stdin is not None:
        if inv.stdin.text is None:
            yield _stdin_finding(inv, inv.stdin)
        return
    yield finding(
        inv,
        "shell.escape",
        inv.program,
        Severity.LOW,
        tags=("interactive",),
        detail=f"an interactive {inv.program} runs its commands without guardsh",
    )


@analyzer("sudo")
def sudo(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(
        inv.args,
        short_value="ughpCDrtTUa",
        long_value={"user", "group", "host", "prompt", "chdir", "role", "type"},
        stop_at_operand=True,
        assignments=True,  # `sudo PGHOST=h -i`: NAME=VALUE words sit among the options
    )
    if p.rest:
        return
    if p.has("-i", "--login", "-s", "--shell"):
        user = p.value("-u", "--user")
        who = user.value if user is not None else "root"
        yield finding(
            inv,
            "shell.escape",
            who,
            Severity.LOW,
            tags=("interactive", "sudo"),
            detail=f"an interactive shell as {who} runs its commands without guardsh",
        )


@analyzer("su", "runuser")
def su(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(
        inv.args,
        short_value="cgGsuw",
        long_value={"command", "group", "supp-group", "shell", "session-command", "user"},
    )
    command = p.value("-c", "--command", "--session-command")
    if command is not None:
        if not command.known:
            yield _opaque(inv, command.value, f"{inv.program} -c runs text only known at run time")
        return
    if p.has("--help", "--version", "-V"):
        return
    users = [w.value for w in p.operands if w.value != "-"]
    who = users[0] if users else "root"
    yield finding(
        inv,
        "shell.escape",
        who,
        Severity.LOW,
        tags=("interactive",),
        detail=f"an interactive shell as {who} runs its commands without guardsh",
    )


@analyzer("eval")
def eval_(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    if inv.args:
        text = " ".join(w.value for w in inv.args)
        yield _opaque(inv, text, f"eval runs text only known at run time: {text}")


@analyzer("source", ".")
def source(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    if inv.args:
        path = inv.args[0].value
        yield _opaque(
            inv, path, f"{inv.program} {path}: guardsh cannot read the file to see what it runs"
        )


@fallback
def opaque_program(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """A command name that is only known at run time, or a function we cannot see."""
    if not inv.argv:
        return
    head = inv.argv[0]
    if not head.known:
        yield _opaque(inv, head.value, f"the program `{head.value}` is only known at run time")
    elif inv.program in ctx.snapshot.functions and not ctx.snapshot.functions[inv.program].strip():
        yield _opaque(
            inv, inv.program, f"the shell function `{inv.program}` has a body guardsh cannot see"
        )
