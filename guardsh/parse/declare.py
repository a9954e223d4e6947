"""Assignments and what they do to the environment later commands inherit.

`A=1`, `export A=1 B`, `declare -x A`, `declare +x A`, `export -n A`, `local`,
`readonly`, `unset A`, `set -a`/`set +a`: the walker in bash.py hands these
nodes here, and the line's `Scope` follows them (its variables for later
expansions, its `env` for later commands' environment).
"""

from __future__ import annotations

from tree_sitter import Node

from guardsh.model import Word
from guardsh.parse.expand import Scope, expand_one
from guardsh.parse.source import Source


def assignment(node: Node, src: Source, scope: Scope, apply: bool) -> tuple[str, Word] | None:
    """One `NAME=VALUE` node: the name and the expanded value (applied to `scope`)."""
    name_node = node.child_by_field_name("name")
    value_node = node.child_by_field_name("value")
    if name_node is None:
        return None
    name = src.slice(name_node.start_byte, name_node.end_byte)
    if value_node is None:
        value = Word("", src.span(node.start_byte, node.end_byte))
    else:
        value = expand_one(value_node, src, scope)
    if apply:
        scope.assign(name, value)
    return name, value


def declaration(node: Node, src: Source, scope: Scope) -> None:
    """`A=1 B=2` alone, or a declaration command (`export`, `declare`, `local` ...)."""
    if node.type == "declaration_command":
        _declare(node, src, scope)
        return
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "variable_assignment":
            assignment(n, src, scope, apply=True)
        elif n.type == "variable_assignments":
            stack.extend(reversed(n.named_children))


def _declare(node: Node, src: Source, scope: Scope) -> None:
    keyword = src.slice(node.start_byte, node.end_byte).split(None, 1)[0]
    export: bool | None = True if keyword == "export" else None  # None: attribute unchanged
    for child in node.named_children:
        t = child.type
        if t == "word":  # options: -x exports; +x and `export -n` take the attribute away
            flags = src.slice(child.start_byte, child.end_byte)
            if flags[:1] not in ("-", "+"):
                continue
            if "f" in flags or "F" in flags:
                return  # functions, not variables
            unexport = keyword == "export" and "n" in flags
            if "x" in flags or unexport:
                export = flags[0] == "-" and not unexport
            continue
        name = None
        if t == "variable_assignment":
            pair = assignment(child, src, scope, apply=True)
            name = pair[0] if pair is not None else None
        elif t == "variable_name":
            name = src.slice(child.start_byte, child.end_byte)
        if name is None or export is None:
            continue
        if export:
            scope.export(name)
        else:
            scope.unexport(name, unset=False)


def unset(node: Node, src: Source, scope: Scope) -> None:
    """`unset A B`, `unset -v A`; `unset -f f` removes a function, not a variable."""
    for child in node.named_children:
        text = src.slice(child.start_byte, child.end_byte)
        if child.type == "word" and text.startswith("-"):
            if "f" in text:
                return
            continue
        scope.unexport(text, unset=True)


def set_options(words: list[Word], scope: Scope) -> None:
    """`set -a` / `set -o allexport` (and `+a`, `+o allexport`): every later
    assignment is exported."""
    args = [w.value for w in words[1:]]
    for i, a in enumerate(args):
        if a[:1] not in ("-", "+") or a in ("-", "--"):
            return
        on = a[0] == "-"
        if a[1:] == "o":
            if i + 1 < len(args) and args[i + 1] == "allexport":
                scope.allexport = on
        elif "a" in a[1:]:
            scope.allexport = on
