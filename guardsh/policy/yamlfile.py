"""One policy file as YAML nodes, with typed accessors whose errors point at the text.

Files are composed into nodes (which keep their marks) rather than loaded into
plain data, so a wrong key or type is reported as `file:line:col`, the line,
carets under the offending value, and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from guardsh.errors import PolicyError
from guardsh.policy import migrate
from guardsh.policy.schema import Pattern

Node = yaml.Node
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PolicyFile:
    """A policy file being converted; knows its text for error carets."""

    def __init__(self, name: str, text: str):
        self.name = name
        self.lines = text.splitlines()

    def where(self, node: Node) -> str:
        return f"{self.name}:{node.start_mark.line + 1}"

    def error(self, node: Node | yaml.Mark | None, message: str) -> PolicyError:
        mark = node.start_mark if isinstance(node, Node) else node
        if mark is None:
            return PolicyError(f"{self.name}: {message}")
        line, col = mark.line, mark.column
        text = self.lines[line] if line < len(self.lines) else ""
        width = 1
        if isinstance(node, Node) and node.end_mark.line == line:
            width = max(1, node.end_mark.column - col)
        return PolicyError(
            f"{self.name}:{line + 1}:{col + 1}: {message}\n  {text}\n  {' ' * col}{'^' * width}"
        )

    # -- typed accessors ---------------------------------------------------

    def mapping(self, node: Node, what: str) -> list[tuple[yaml.ScalarNode, Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"expected a mapping for {what}")
        return node.value  # type: ignore[no-any-return]

    def keys(self, node: Node, allowed: frozenset[str], what: str) -> dict[str, Node]:
        out: dict[str, Node] = {}
        for k, v in self.mapping(node, what):
            key = str(k.value)
            if key not in allowed:
                raise self.error(k, migrate.unknown_key(key, allowed, what))
            if key in out:
                raise self.error(k, f"`{key}` appears twice in {what}")
            out[key] = v
        return out

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, f"expected a single value for {what}, not a list or mapping")
        return str(node.value)

    def strings(self, node: Node, what: str) -> list[tuple[str, Node]]:
        if isinstance(node, yaml.ScalarNode):
            return [(str(node.value), node)]
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"expected a string or a list of strings for {what}")
        return [(self.scalar(item, what), item) for item in node.value]

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"expected a list of {what}")
        return list(node.value)

    def boolean(self, node: Node, what: str) -> bool:
        v = self.scalar(node, what).lower()
        if v in ("true", "yes", "on"):
            return True
        if v in ("false", "no", "off"):
            return False
        raise self.error(node, f"expected true or false for {what}")

    def number(self, node: Node, what: str, conv: Callable[[str], Any] = int) -> Any:
        v = self.scalar(node, what)
        try:
            n = conv(v)
        except ValueError:
            kind = "a whole number" if conv is int else "a number"
            raise self.error(node, f"expected {kind} for {what}, got `{v}`") from None
        if n < 0:
            raise self.error(node, f"expected a number >= 0 for {what}, got `{v}`")
        return n

    def patterns(self, node: Node, what: str) -> tuple[Pattern, ...]:
        out = []
        for text, item in self.strings(node, what):
            problem = glob_problem(text)
            if problem:
                raise self.error(item, f"bad pattern in {what}: {problem}")
            try:
                out.append(Pattern.compile(text))
            except re.error as e:
                raise self.error(item, f"bad regular expression in {what}: {e}") from None
        return tuple(out)


def glob_problem(text: str) -> str | None:
    """What is wrong with a glob (None: fine). `re:` patterns are checked by re."""
    if text.startswith("re:"):
        return "empty regular expression after `re:`" if text == "re:" else None
    if not text:
        return "an empty pattern matches nothing (use `*` for anything)"
    i = 0
    while i < len(text):
        if text[i] == "[":
            j = i + 1
            if j < len(text) and text[j] == "!":
                j += 1
            if j < len(text) and text[j] == "]":
                j += 1
            j = text.find("]", j)
            if j < 0:
                return f"unclosed `[` in glob `{text}` (write `[[]` for a literal `[`)"
            i = j
        i += 1
    return None


def compose(name: str, text: str) -> tuple[PolicyFile, Node | None]:
    f = PolicyFile(name, text)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        raise f.error(e.problem_mark, f"YAML syntax error: {e.problem}") from None
    except yaml.YAMLError as e:
        raise PolicyError(f"{name}: YAML error: {e}") from None
    return f, node


def plain(node: Node) -> Any:
    """A node's plain data (for `tests:` blocks, which keep the case schema)."""
    return yaml.load(yaml.serialize(node), Loader=_LOADER)
