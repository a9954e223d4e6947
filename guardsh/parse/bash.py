"""Shell text -> the simple commands it will run, with expanded words.

tree-sitter-bash gives the tree; this module walks it in execution order:
lists, pipelines (who feeds whose stdin), subshells, groups, `if/for/while/
case`, command and process substitution (their commands run first), heredocs
and herestrings, redirections, assignments (which change later expansions),
function definitions (recorded, run when called) and aliases (first word,
recursive, loop-safe). It knows nothing of what any program does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from tree_sitter import Language, Node, Parser

from guardsh.errors import AnalysisError
from guardsh.model import Redirect, Span, Stdin, Word
from guardsh.parse import declare
from guardsh.parse import redirects as redir
from guardsh.parse.expand import Scope, expand
from guardsh.parse.source import Source

MAX_DEPTH = 150  # tree nesting; deeper input is refused, not recursed into

_parser: Parser | None = None


def _bash_language() -> object:
    """tree_sitter_bash's compiled grammar. Its package `__init__` imports
    importlib.resources (for highlight queries guardsh never reads), which
    costs every `guardsh -c` about 3 ms; load the extension module directly."""
    import importlib.machinery
    import importlib.util

    spec = importlib.util.find_spec("tree_sitter_bash")
    for folder in (spec and spec.submodule_search_locations) or ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = f"{folder}/_binding{suffix}"
            loader = importlib.machinery.ExtensionFileLoader("tree_sitter_bash._binding", path)
            binding = importlib.util.spec_from_file_location(
                "tree_sitter_bash._binding", path, loader=loader
            )
            if binding is not None and os.path.exists(path):
                module = importlib.util.module_from_spec(binding)
                loader.exec_module(module)
                return module.language()
    import tree_sitter_bash  # an unusual layout: the ordinary import

    return tree_sitter_bash.language()


def parser() -> Parser:
    global _parser
    if _parser is None:
        _parser = Parser(Language(_bash_language()))
    return _parser


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command as the shell will run it (before wrappers are peeled)."""

    words: tuple[Word, ...]
    assigns: tuple[tuple[str, Word], ...]
    redirects: tuple[Redirect, ...]
    span: Span
    stdin: Stdin | None = None  # heredoc / herestring
    pipe_from: int | None = None  # index of the command feeding stdin
    nested: bool = False  # inside $( ), <( ) or backquotes
    env: tuple[tuple[str, str], ...] = ()  # what the line exported (or unset) before it


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    body: str
    span: Span  # of the body


@dataclass(frozen=True, slots=True)
class Script:
    commands: tuple[Command, ...]
    functions: Mapping[str, FunctionDef]
    errors: tuple[Span, ...] = ()  # where the parser could not follow the grammar


@dataclass(slots=True)
class _Cmd:
    words: list[Word]
    assigns: list[tuple[str, Word]]
    redirects: list[Redirect]
    span: Span
    end_byte: int
    src: Source
    stdin: Stdin | None = None
    pipe_from: int | None = None
    nested: bool = False
    env: tuple[tuple[str, str], ...] = ()


_SUBST = (b"$(", b"`", b"<(", b">(")
_CONTAINERS = frozenset(
    {
        "program",
        "compound_statement",
        "subshell",
        "do_group",
        "else_clause",
        "elif_clause",
        "negated_command",
        "if_statement",
        "while_statement",
        "case_statement",
        "case_item",
        "c_style_for_statement",
        "ERROR",
    }
)


@dataclass(slots=True)
class _Walker:
    aliases: Mapping[str, str]
    scope: Scope
    cmds: list[_Cmd] = field(default_factory=list)
    functions: dict[str, FunctionDef] = field(default_factory=dict)
    errors: list[Span] = field(default_factory=list)
    expanding: frozenset[str] = frozenset()
    nested: int = 0

    # -- structure ---------------------------------------------------------

    def walk(self, node: Node, src: Source, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise AnalysisError(
                "the command is nested too deeply to analyze",
                src.span(node.start_byte, node.end_byte),
            )
        t = node.type
        if t == "command":
            self.command(node, src, depth)
        elif t == "pipeline":
            self.pipeline(node, src, depth)
        elif t == "redirected_statement":
            self.redirected(node, src, depth)
        elif t in ("variable_assignment", "variable_assignments", "declaration_command"):
            self.declaration(node, src, depth)
        elif t == "unset_command":
            declare.unset(node, src, self.scope)
        elif t == "function_definition":
            self.function(node, src)
        elif t == "for_statement":
            self.for_loop(node, src, depth)
        elif t == "list":
            for child in _flatten_list(node):
                self.walk(child, src, depth + 1)
        elif t in _CONTAINERS:
            if t == "ERROR" or node.is_missing:
                self.errors.append(src.span(node.start_byte, node.end_byte))
            for child in node.named_children:
                self.walk(child, src, depth + 1)
        elif t == "comment":
            return
        else:
            # words, test commands, case values ...: only their substitutions run
            self.substitutions(node, src, depth)
        if node.has_error and t not in _CONTAINERS:
            self._missing(node, src)

    def _missing(self, node: Node, src: Source) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            if n.is_missing or n.type == "ERROR":
                self.errors.append(src.span(n.start_byte, n.end_byte))
            elif n.has_error:
                stack.extend(n.children)

    def pipeline(self, node: Node, src: Source, depth: int) -> None:
        prev: int | None = None
        for child in node.named_children:
            first = len(self.cmds)
            self.walk(child, src, depth + 1)
            if prev is not None:
                self._feed(first, prev)
            prev = self._last_top(first)

    def _feed(self, first: int, producer: int) -> None:
        for cmd in self.cmds[first:]:
            if not cmd.nested:
                if cmd.pipe_from is None:
                    cmd.pipe_from = producer
                return

    def _last_top(self, first: int) -> int | None:
        for i in range(len(self.cmds) - 1, first - 1, -1):
            if not self.cmds[i].nested:
                return i
        return None

    def redirected(self, node: Node, src: Source, depth: int) -> None:
        body = node.child_by_field_name("body")
        first = len(self.cmds)
        if body is not None:
            self.walk(body, src, depth + 1)
        else:  # `> file` alone: a command with no words that still truncates
            span = src.span(node.start_byte, node.end_byte)
            self.cmds.append(_Cmd([], [], [], span, node.start_byte, src, nested=self.nested > 0))
        for child in node.named_children:
            if child is body or child == body:
                continue
            if child.type == "heredoc_redirect":
                self.heredoc(child, src, depth, first)
            elif child.type in ("file_redirect", "herestring_redirect"):
                self._attach(child, src, first, depth)
            else:
                self.walk(child, src, depth + 1)

    def _owner(self, first: int, before: int) -> _Cmd | None:
        """The command a redirect written at byte `before` belongs to."""
        owner = None
        for cmd in self.cmds[first:]:
            if not cmd.nested and cmd.end_byte <= before:
                owner = cmd
        if owner is None:
            for cmd in self.cmds[first:]:
                if not cmd.nested:
                    return cmd
        return owner

    def _attach(self, node: Node, src: Source, first: int, depth: int) -> None:
        owner = self._owner(first, node.start_byte)
        self.substitutions(node, src, depth)
        if owner is None:
            return
        if node.type == "herestring_redirect":
            owner.stdin = redir.herestring(node, src, self.scope)
        else:
            redirect = redir.file_redirect(node, src, self.scope, owner.words)
            if redirect is not None:
                owner.redirects.append(redirect)

    def heredoc(self, node: Node, src: Source, depth: int, first: int) -> None:
        owner = self._owner(first, node.start_byte)
        if owner is not None:
            self._recover_gap(owner, node, src)
        start = body = end = None
        strip_tabs = False
        slipped = False
        pipe_next = False
        for child in node.children:
            t = child.type
            if t == "<<-":
                strip_tabs = True
            elif t == "heredoc_start":
                start = child
            elif t == "heredoc_body":
                body = child
            elif t in ("file_redirect", "herestring_redirect"):
                self._attach(child, src, first, depth)
            elif t == "heredoc_end":
                end = child
            elif child.type == "word":
                slipped = True  # a grammar slip over a body line starting with `\\`
            elif not child.is_named:
                continue
            else:
                cont_first = len(self.cmds)
                pipe_next = t == "pipeline"
                self.walk(child, src, depth + 1)
                if pipe_next and owner is not None:
                    self._feed(cont_first, self.cmds.index(owner))
        if owner is None:
            return
        if body is not None and not redir.quoted_delimiter(start, src):
            self.substitutions(body, src, depth)
        owner.stdin = redir.heredoc_stdin(
            node, start, body, end, strip_tabs, src, self.scope, slipped
        )

    def _recover_gap(self, owner: _Cmd, node: Node, src: Source) -> None:
        """tree-sitter-bash drops a lone `-` written right before `<<` (`cat - <<EOF`,
        `kubectl apply -f - <<EOF`); put the skipped words back on the command."""
        gap = src.data[owner.end_byte : node.start_byte]
        if not gap.strip() or owner.end_byte > node.start_byte:
            return
        pos = owner.end_byte
        for raw in gap.split():
            start = src.data.index(raw, pos)
            pos = start + len(raw)
            text = raw.decode("utf-8", "surrogateescape")
            owner.words.append(Word(text, src.span(start, pos), known=True))
        owner.end_byte = pos

    def declaration(self, node: Node, src: Source, depth: int) -> None:
        self.substitutions(node, src, depth)
        declare.declaration(node, src, self.scope)

    def function(self, node: Node, src: Source) -> None:
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        if name_node is None or body is None:
            return
        name = src.slice(name_node.start_byte, name_node.end_byte)
        text = src.slice(body.start_byte, body.end_byte)
        self.functions[name] = FunctionDef(name, text, src.span(body.start_byte, body.end_byte))

    def for_loop(self, node: Node, src: Source, depth: int) -> None:
        var = node.child_by_field_name("variable")
        for child in node.named_children:
            if child.type == "do_group":
                if var is not None:
                    self.scope.assign(
                        src.slice(var.start_byte, var.end_byte), Word("", known=False)
                    )
                self.walk(child, src, depth + 1)
            elif child is not var:
                self.substitutions(child, src, depth)

    # -- substitutions -----------------------------------------------------

    def substitutions(self, node: Node, src: Source, depth: int) -> None:
        """Walk the commands of `$(...)`, backquotes and `<(...)` inside node."""
        chunk = src.data[node.start_byte : node.end_byte]
        if not any(s in chunk for s in _SUBST):
            return
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type in ("command_substitution", "process_substitution"):
                self.nested += 1
                try:
                    for child in n.named_children:
                        self.walk(child, src, depth + 1)
                finally:
                    self.nested -= 1
            else:
                stack.extend(reversed(n.named_children))

    # -- simple commands ---------------------------------------------------

    def command(self, node: Node, src: Source, depth: int) -> None:
        self.substitutions(node, src, depth)
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        stdin: Stdin | None = None
        name_node: Node | None = None
        for child in node.named_children:
            t = child.type
            if t == "variable_assignment":
                pair = declare.assignment(child, src, self.scope, apply=False)
                if pair is not None:
                    assigns.append(pair)
            elif t == "command_name":
                name_node = child
                inner = child.named_children
                if inner:
                    words.extend(expand(inner[0], src, self.scope))
            elif t == "file_redirect":
                r = redir.file_redirect(child, src, self.scope, words)
                if r is not None:
                    redirects.append(r)
            elif t == "herestring_redirect":
                stdin = redir.herestring(child, src, self.scope)
            elif t == "heredoc_redirect":
                continue
            else:
                words.extend(expand(child, src, self.scope))
        if name_node is not None and self._alias(name_node, node, src, depth):
            return
        span = src.span(node.start_byte, node.end_byte)
        if not words:
            for name, value in assigns:  # `A=1` alone sets a shell variable
                self.scope.assign(name, value)
            if not redirects:
                return
        elif words[0].value == "read" and words[0].known:
            for w in words[1:]:
                if not w.value.startswith("-"):
                    self.scope.assign(w.value, Word("", known=False))
        elif words[0].value == "set" and words[0].known:
            declare.set_options(words, self.scope)
        env = tuple(self.scope.env.items()) if self.scope.env else ()
        nested = self.nested > 0
        cmd = _Cmd(words, assigns, redirects, span, node.end_byte, src, stdin, None, nested, env)
        self.cmds.append(cmd)

    def _alias(self, name_node: Node, node: Node, src: Source, depth: int) -> bool:
        """Expand an alias in command position; True when it was expanded."""
        inner = name_node.named_children
        if not self.aliases or len(inner) != 1 or inner[0].type != "word":
            return False
        name = src.slice(inner[0].start_byte, inner[0].end_byte)
        value = self.aliases.get(name)
        if value is None or name in self.expanding:
            return False
        rest = src.slice(name_node.end_byte, node.end_byte)
        name_span = src.span(name_node.start_byte, name_node.end_byte)
        shift = None
        if src.shift is not None and src.char(name_node.start_byte) >= src.exact_from:
            shift = src.shift + src.char(name_node.end_byte) - len(value)
        sub = Source.of(value + rest, shift, name_span, exact_from=len(value))
        saved = self.expanding
        self.expanding = saved | {name}
        try:
            self.walk(parser().parse(sub.data).root_node, sub, depth + 1)
        finally:
            self.expanding = saved
        return True

    def freeze(self) -> Script:
        commands = tuple(
            Command(
                tuple(c.words),
                tuple(c.assigns),
                tuple(c.redirects),
                c.span,
                c.stdin,
                c.pipe_from,
                c.nested,
                c.env,
            )
            for c in self.cmds
        )
        return Script(commands, dict(self.functions), tuple(self.errors))


def _flatten_list(node: Node) -> list[Node]:
    """`a && b || c` nests to the left; walk it as a flat chain (no deep recursion)."""
    chain: list[Node] = []
    n: Node | None = node
    while n is not None and n.type == "list":
        kids = n.named_children
        chain.extend(reversed(kids[1:]))
        n = kids[0] if kids else None
    if n is not None:
        chain.append(n)
    chain.reverse()
    return chain


def parse_script(src: Source, scope: Scope, aliases: Mapping[str, str] | None = None) -> Script:
    """Parse shell text into the commands it runs, in order."""
    tree = parser().parse(src.data)
    walker = _Walker(aliases or {}, scope)
    walker.walk(tree.root_node, src, 0)
    return walker.freeze()
