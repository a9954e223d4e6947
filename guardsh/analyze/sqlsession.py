"""One SQL client run: its current database, the scripts it reads, the findings.

A `Session` follows a client's script pieces in order (see parse/psqlmeta):
SQL is analyzed by parse/sql.py, included files are read through the facts
adapter (only for a client on this machine: on an ssh host, in a pod or a
container the file is that machine's, so it is opaque), shell escapes go back
to the shell analyzers, and `\\c`/`use`/`.open` switch the target for what
follows.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from guardsh.analyze import sqltarget as tg
from guardsh.analyze.registry import Context, finding
from guardsh.model import Finding, Invocation, Severity, Span, Target, Word
from guardsh.parse.argv import Opt, Parsed
from guardsh.parse.psqlmeta import Script
from guardsh.parse.sql import SqlOp, analyze_generated, analyze_sql
from guardsh.parse.sqlstmt import DYN

HIGH, LOW = Severity.HIGH, Severity.LOW
# What a shell word keeps of what it could not expand: `$name`, `${...}`, `$(...)`,
# backquotes, and unwrap's `{items from X}` (xargs -I{} items read at run time).
_SHELL_EXPANSION = re.compile(
    r"\$\{[^}]*\}|\$\(\(?[^)]*\)?\)|\$\w+|\$[@*#?$!-]|`[^`]*`|\{items from [^}]*\}"
)
MAX_DEPTH = 8  # nested \i / source / .read files


def opaque(inv: Invocation, span: Span, obj: str, detail: str) -> Finding:
    return finding(inv, "shell.opaque", obj, LOW, evidence=span, tags=("sql",), detail=detail)


@dataclass
class Session:
    """One client run: the current target (switched by `\\c`, `use`, `.open`)
    and the scripts it reads, in order."""

    inv: Invocation
    ctx: Context
    dialect: str  # postgres | mysql | sqlite | clickhouse
    split: Callable[[str], Script]
    params: tg.Params
    make_target: Callable[[tg.Params], Target]
    connect: Callable[[tg.Params, tuple[str, ...]], tg.Params]
    quiet_sql: bool = False  # sqlite3 :memory: / -readonly: statements change nothing lasting
    extra_tags: tuple[str, ...] = ()
    safe_updates: bool = False  # mysql --safe-updates refuses DELETE/UPDATE without a key
    cwd: str | None = None
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.target = self.make_target(self.params)

    # ---------------------------------------------------------------- sources
    def text(
        self, text: str, span: Span, base: str | None = None, depth: int = 0
    ) -> Iterator[Finding]:
        """Findings of a script given as text (an argument, stdin or a file)."""
        for piece in self.split(text).pieces:
            if piece.sql is not None:
                if not self.quiet_sql:
                    yield from self.ops(analyze_sql(piece.sql, self.dialect), span)
                continue
            yield from self.meta(piece.meta or "", piece.args, piece.raw, span, base, depth)

    def word(self, w: Word) -> Iterator[Finding]:
        """SQL given as one argument word; when part of it is not known
        (`-c "DROP TABLE $t"`), the known part is analyzed with the rest
        standing in as an unknown object, and the word is also opaque."""
        if w.known:
            yield from self.text(w.value, w.span)
            return
        guess = _SHELL_EXPANSION.sub(DYN, w.value)
        if guess != w.value and guess.strip() != DYN:
            for f in self.text(guess, w.span):
                yield replace(f, tags=f.tags | {"partly-unknown"})
        yield opaque(self.inv, w.span, w.value, f"SQL {w.value} cannot be known statically")

    def file(
        self, word: Word, span: Span, base: str | None = None, depth: int = 0
    ) -> Iterator[Finding]:
        inv = self.inv
        if not word.known or word.glob:
            yield opaque(inv, span, word.value, f"cannot read {word.value}: not known statically")
            return
        if word.value in ("-", "/dev/stdin"):
            yield from self.stdin()
            return
        if not tg.here(inv):
            # on an ssh host, in a pod or a container the client reads its own
            # file, not the one of that name here
            where = inv.target.label()
            yield opaque(inv, span, word.value, f"{word.value} is read on {where}: not known here")
            return
        path = tg.resolve(inv, self.ctx, word.value, base or self.cwd)
        if depth > MAX_DEPTH or path in self.seen:
            return
        text = self.ctx.facts.read_file(path)
        if text is None:
            yield opaque(inv, span, path, f"cannot read {path}")
            return
        self.seen.add(path)
        yield from self.text(text, span, posixpath.dirname(path), depth + 1)

    def stdin(self) -> Iterator[Finding]:
        s = self.inv.stdin
        if s is None:
            return
        if s.text is None:
            what = s.source.split(":", 1)[-1] if s.source.startswith("file:") else s.source
            yield opaque(self.inv, s.span, what, f"SQL on stdin from {what} cannot be known")
            return
        yield from self.text(s.text, s.span)

    # ------------------------------------------------------------ meta-commands
    def meta(
        self, kind: str, args: tuple[str, ...], raw: str, span: Span, base: str | None, depth: int
    ) -> Iterator[Finding]:
        inv, ctx = self.inv, self.ctx
        if kind in ("include", "include_relative"):
            if args:
                where = base if kind == "include_relative" else None
                yield from self.file(Word(args[0], span), span, where, depth)
        elif kind == "shell":
            if args and args[0].strip():
                yield from ctx.recurse_shell(args[0], inv.target, span)
        elif kind in ("connect", "use"):
            if kind == "use":
                self.params = tg.Params({**self.params, "dbname": args[0]}) if args else self.params
            else:
                self.params = self.connect(self.params, args)
                if self.dialect == "sqlite":
                    self.quiet_sql = not args or args[0] in ("", ":memory:")
            self.target = self.make_target(self.params)
        elif kind == "gexec":
            made = analyze_generated(args[0], self.dialect) if args and args[0] else ()
            yield self.finding(
                SqlOp(
                    "sql.dynamic",
                    ("query output",),
                    LOW,
                    0,
                    0,
                    f"{raw}: query output run as SQL",
                    frozenset({"dynamic", "gexec"}),
                ),
                "query output",
                span,
            )
            yield from self.ops(made, span)
        elif kind == "import" and len(args) >= 2 and not self.quiet_sql:
            op = SqlOp("sql.write", (args[1],), LOW, 0, 0, raw, frozenset({"import"}))
            yield self.finding(op, args[1], span)
        elif kind == "restore" and args:
            name = self.target.get("db_name") or "?"
            op = SqlOp("sql.write", (name,), HIGH, 0, 0, raw, frozenset({"restore"}))
            yield self.finding(op, name, span)
        elif kind == "cd" and args:
            self.cwd = tg.resolve(inv, ctx, args[0], self.cwd)

    # ----------------------------------------------------------------- findings
    def ops(self, ops: tuple[SqlOp, ...], span: Span) -> Iterator[Finding]:
        for op in ops:
            for obj in op.objects:
                yield self.finding(op, obj, span)

    def finding(self, op: SqlOp, obj: str, span: Span) -> Finding:
        sev = op.severity
        tags = set(op.tags) | set(self.extra_tags)
        if self.safe_updates and op.action in ("sql.delete_all", "sql.update_all"):
            sev = min(sev, LOW)
            tags.add("safe-updates")
        if self.params.unknown:
            tags.add("unknown-target")
        return finding(
            self.inv,
            op.action,
            obj,
            sev,
            evidence=span,
            tags=tags,
            detail=f"{op.detail} on {tg.label(self.target)}",
            target=self.target,
        )


def opt_span(o: Opt) -> Span:
    """The words of an option and its value: `-f drop.sql`."""
    if o.value is None or o.value.span.end <= o.word.span.start:
        return o.word.span
    return Span(o.word.span.start, max(o.word.span.end, o.value.span.end))


def sources(
    s: Session, p: Parsed, commands: frozenset[str], files: frozenset[str]
) -> Iterator[Finding]:
    """`-c`/`-f` style sources in the order given; stdin when there are none."""
    any_source = False
    for o in p.opts:
        if o.name in commands and o.value is not None:
            any_source = True
            yield from s.word(o.value)
        elif o.name in files and o.value is not None:
            any_source = True
            yield from s.file(o.value, opt_span(o))
    if not any_source:
        yield from s.stdin()
