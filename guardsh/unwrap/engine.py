"""Peel wrappers until the real invocations are reached.

Walks a parsed script in order, feeding each command its stdin, following
`cd`, calling functions defined in the line or the session, and peeling
wrappers (`wrappers.py`, `remote.py`) recursively: `sudo -u postgres bash -c
"psql -c 'DROP ...'"` becomes one `psql` invocation with `via` = (sudo, bash -c).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from guardsh.errors import AnalysisError
from guardsh.model import Facts, Invocation, Snapshot, Span, Stdin, Target, Word
from guardsh.parse.bash import Command, FunctionDef, Script, parse_script
from guardsh.parse.expand import Scope
from guardsh.parse.source import Source
from guardsh.unwrap import fanout, shells, targets  # noqa: F401  (their peelers register on import)
from guardsh.unwrap.remote import REMOTE
from guardsh.unwrap.shells import SHELLS
from guardsh.unwrap.stdin import command_stdin, resolve
from guardsh.unwrap.wrappers import PEELERS, Peel

MAX_DEPTH = 16  # nested wrappers and texts
MAX_ITEMS = 16  # invocations made from xargs -I items


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where the commands of one script run."""

    target: Target
    via: tuple[str, ...]
    user: str | None
    env: tuple[tuple[str, str], ...]
    inherited: Stdin | None
    remote: bool
    depth: int


@dataclass(frozen=True, slots=True)
class _At:
    """One command being unwrapped: where it was written and what it sees."""

    cmd: Command
    stdin: Stdin | None
    frame: _Frame
    cwd: str
    functions: Mapping[str, FunctionDef]


@dataclass(slots=True)
class Unwrapper:
    snapshot: Snapshot
    facts: Facts
    line: str
    parse_errors: list[Span] = field(default_factory=list)
    _calls: set[str] = field(default_factory=set)

    def run(self) -> list[Invocation]:
        snap = self.snapshot
        scope = Scope.of(snap.variables, snap.home)
        script = parse_script(Source.of(self.line), scope, snap.aliases)
        self.parse_errors.extend(script.errors)
        frame = _Frame(targets.local(snap), (), None, (), None, False, 0)
        return list(self.script(script, scope, frame, snap.cwd))

    def run_text(self, text: str, target: Target, span: Span) -> list[Invocation]:
        """Invocations of shell text found inside another tool (psql `\\!`)."""
        snap = self.snapshot
        scope = Scope.of(snap.variables, snap.home)
        script = parse_script(Source.of(text, None, span), scope, snap.aliases)
        frame = _Frame(target, (), None, (), None, target.kind not in ("local", "db"), 1)
        return list(self.script(script, scope, frame, snap.cwd))

    def text(
        self,
        words: Sequence[Word],
        scope: Scope,
        frame: _Frame,
        cwd: str,
        positional: Sequence[str] | None = None,
    ) -> Iterator[Invocation]:
        """Parse and unwrap shell text that arrived as words (bash -c, ssh)."""
        value = " ".join(w.value for w in words)
        outer = Span(words[0].span.start, words[-1].span.end)
        src = Source.of(value, self._shift(words, value), outer)
        inner = (
            scope.remote_child()
            if frame.remote
            else scope.child(list(positional) if positional is not None else None)
        )
        aliases = {} if frame.remote else self.snapshot.aliases
        script = parse_script(src, inner, aliases)
        self.parse_errors.extend(script.errors)
        yield from self.script(script, inner, frame, cwd)

    def _shift(self, words: Sequence[Word], value: str) -> int | None:
        """Where `value` stands verbatim in the line, if it does."""
        first, last = words[0].span, words[-1].span
        line = self.line
        quoted = len(words) == 1 and line[first.start : first.start + 1] in ("'", '"')
        if quoted and line[first.start + 1 : first.end - 1] == value:
            return first.start + 1
        if line[first.start : last.end] == value:
            return first.start
        return None

    def script(self, script: Script, scope: Scope, frame: _Frame, cwd: str) -> Iterator[Invocation]:
        # `ssh h 'psql < F'`, `ssh h 'cat F | psql'`: F is the remote host's file
        read = _no_file if frame.remote else self.facts.read_file
        for cmd in script.commands:
            inherited = frame.inherited if cmd.pipe_from is None and not cmd.nested else None
            stdin = command_stdin(cmd, script, read, cwd, inherited)
            # the outer wrappers' environment, what the line exported before this
            # command, then the command's own `NAME=VALUE` prefix
            env = frame.env + cmd.env + tuple((n, w.value) for n, w in cmd.assigns if w.known)
            at = _At(cmd, stdin, replace(frame, env=env), cwd, script.functions)
            for inv in self.command(cmd.words, at):
                if inv.program == "cd" and inv.depth == frame.depth and not cmd.nested:
                    cwd = _cd(inv, cwd, scope.home)
                yield inv

    def command(self, argv: Sequence[Word], at: _At) -> Iterator[Invocation]:
        frame = at.frame
        if frame.depth > MAX_DEPTH:
            raise AnalysisError("wrappers are nested too deeply to analyze", at.cmd.span)
        argv = tuple(argv)
        if not argv:
            if at.cmd.redirects:
                yield self._inv("", (), at)
            return
        head = argv[0]
        name = head.value.rsplit("/", 1)[-1] if head.known else ""
        inv = self._inv(name, argv, at)
        if not head.known:
            yield inv
            return
        fn = at.functions.get(name)
        if fn is not None or (not frame.remote and name in self.snapshot.functions):
            yield from self._call(fn, name, argv, at, inv)
            return
        peels = self._peel(name, argv)
        if peels is None:
            stdin = at.stdin
            script_in = stdin is not None and stdin.text is not None and not _has_operand(argv)
            if name in SHELLS and script_in:  # `echo 'rm -rf x' | bash`
                assert stdin is not None and stdin.text is not None
                via = (*frame.via, f"{name} <stdin")
                sub = replace(frame, via=via, inherited=None, depth=frame.depth + 1)
                word = Word(stdin.text, stdin.span)
                yield from self.text([word], Scope({}, self.snapshot.home), sub, at.cwd)
                return
            yield inv
            return
        if any(p.keep_self for p in peels):
            yield inv
        for p in peels:
            yield from self._inner(p, at, inv)

    def _peel(self, name: str, argv: tuple[Word, ...]) -> list[Peel] | None:
        remote = REMOTE.get(name)
        if remote is not None:
            return remote(argv, self.snapshot, self.facts)
        peeler = PEELERS.get(name)
        return peeler(argv) if peeler is not None else None

    def _inner(self, p: Peel, at: _At, outer: Invocation) -> Iterator[Invocation]:
        frame = at.frame
        inner_stdin = None if p.consumes_stdin else at.stdin
        target = p.target or frame.target
        if p.target is not None and p.inherit_target:
            own = {k for k, _ in p.target.fields}
            keep = tuple((k, v) for k, v in frame.target.fields if k not in own)
            target = Target(p.target.kind, p.target.fields + keep)
        sub = _Frame(
            target,
            (*frame.via, p.via),
            p.user or frame.user,
            p.env if p.remote else frame.env + p.env,  # ssh/kubectl/docker pass no environment
            inner_stdin if (p.text or p.file) else None,
            frame.remote or p.remote,
            frame.depth + 1,
        )
        cwd = resolve(p.cwd, at.cwd) if p.cwd else at.cwd
        if p.text:
            yield from self.text(p.text, self._scope(), sub, cwd, p.positional)
            return
        if p.file is not None:
            text = None if sub.remote else self.facts.read_file(resolve(p.file.value, cwd))
            if text is None:
                yield outer  # the shell analyzer reports what cannot be read
                return
            src = Source.of(text, None, p.file.span)
            scope = self._scope().child(list(p.positional) if p.positional else None)
            script = parse_script(src, scope, self.snapshot.aliases)
            yield from self.script(script, scope, sub, cwd)
            return
        argvs = _with_items(p, at.stdin, at.cmd.span) if p.stdin_items else [p.argv]
        inner = replace(at, stdin=inner_stdin, frame=sub, cwd=cwd)
        for argv in argvs:
            yield from self.command(argv, inner)

    def _call(
        self, fn: FunctionDef | None, name: str, argv: tuple[Word, ...], at: _At, inv: Invocation
    ) -> Iterator[Invocation]:
        """Run a function's body with $1.. set; recursion is followed once."""
        if name in self._calls:
            return
        if fn is not None:
            body, span = fn.body, fn.span
            shift = span.start if self.line[span.start : span.end] == body else None
        else:
            body, span, shift = self.snapshot.functions.get(name, ""), at.cmd.span, None
        if not body.strip():
            yield inv  # a function we cannot see into: the shell analyzer's opaque
            return
        self._calls.add(name)
        try:
            scope = self._scope().child([w.value for w in argv])
            src = Source.of(body, shift, span if shift is None else at.cmd.span)
            script = parse_script(src, scope, self.snapshot.aliases)
            frame = at.frame
            sub = replace(
                frame,
                via=(*frame.via, f"function {name}"),
                inherited=at.stdin,
                depth=frame.depth + 1,
            )
            merged = {**at.functions, **script.functions}
            body_script = Script(script.commands, merged, script.errors)
            yield from self.script(body_script, scope, sub, at.cwd)
        finally:
            self._calls.discard(name)

    def _scope(self) -> Scope:
        snap = self.snapshot
        return Scope.of(snap.variables, snap.home)

    def _inv(self, name: str, argv: tuple[Word, ...], at: _At) -> Invocation:
        frame = at.frame
        return Invocation(
            program=name,
            argv=argv,
            span=at.cmd.span,
            target=frame.target,
            stdin=at.stdin,
            redirects=at.cmd.redirects,
            env=frame.env,
            user=frame.user,
            via=frame.via,
            cwd=at.cwd,
            depth=frame.depth,
        )


def _no_file(path: str) -> str | None:
    return None


def _has_operand(argv: tuple[Word, ...]) -> bool:
    return any(not w.value.startswith(("-", "+")) for w in argv[1:])


def _cd(inv: Invocation, cwd: str, home: str) -> str:
    args = [w for w in inv.args if not w.value.startswith("-") or w.value == "-"]
    if not args:
        return home
    w = args[0]
    if not w.known or w.value == "-":
        return cwd  # unknown: keep the last known directory
    return resolve(w.value, cwd)


def _with_items(p: Peel, stdin: Stdin | None, span: Span) -> list[tuple[Word, ...]]:
    """xargs/parallel: the inner argv with the items read from stdin."""
    if stdin is None or stdin.text is None:
        where = stdin.source if stdin is not None else "stdin"
        items = [Word(f"{{items from {where}}}", stdin.span if stdin else span, known=False)]
    else:
        sep = p.separator
        raw = stdin.text.split(sep) if sep else stdin.text.split()
        items = [Word(t.strip("\n") if sep else t, stdin.span) for t in raw if t.strip()]
    if p.replace is None:
        return [(*p.argv, *items)]
    out = []
    for item in items[:MAX_ITEMS]:
        out.append(
            tuple(
                Word(w.value.replace(p.replace, item.value), w.span, w.known and item.known)
                if p.replace in w.value
                else w
                for w in p.argv
            )
        )
    return out
