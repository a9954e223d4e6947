"""Commands run once per item: `xargs`, `parallel`, `find -exec`.

The items come from stdin (xargs, parallel without `:::`) or from the file
system (find); where they cannot be known the inner argv gets an unknown word
that names where they come from.
"""

from __future__ import annotations

from guardsh.model import Word
from guardsh.parse.argv import parse_argv
from guardsh.unwrap.wrappers import Argv, Peel, peeler


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
