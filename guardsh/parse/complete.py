"""Is a line complete, or does the shell need more input?

A small scanner follows quotes, `$'..'`, backquotes, `$(`..`)`, heredocs and
line continuations the way bash's reader does, and says where the line was
left open. `guardsh check` refuses such a line (exit 2, with the column); the
interactive shell asks for a continuation line instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardsh.model import Span

_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([^\s'\"<>;&|()]+)\2")


@dataclass(frozen=True, slots=True)
class Incomplete:
    what: str  # "an unterminated double quote", ...
    span: Span  # where the open construct starts

    def message(self) -> str:
        return f"incomplete command: {self.what} (column {self.span.start + 1})"


def incomplete(line: str) -> Incomplete | None:
    """Why `line` cannot run as it stands, or None when it is complete."""
    stack: list[tuple[str, int]] = []  # open constructs: quote kinds and `$(`
    heredocs: list[tuple[str, bool, int]] = []  # pending: (delimiter, strip tabs, col)
    i, n = 0, len(line)
    at_word_start = True
    trailing: tuple[str, int] | None = None  # an operator with nothing after it yet
    while i < n:
        c = line[i]
        top = stack[-1][0] if stack else ""
        if top == "'":
            if c == "'":
                stack.pop()
            i += 1
            continue
        if top == "$'":
            if c == "\\":
                i += 2
                continue
            if c == "'":
                stack.pop()
            i += 1
            continue
        if c == "\\":
            if i == n - 1:
                return Incomplete("a line continuation `\\` at the end", Span(i, i + 1))
            trailing = None
            i += 2
            continue
        if top == '"':
            if c == '"':
                stack.pop()
            elif c == "`":
                stack.append(("`", i))
            elif line.startswith("$(", i):
                stack.append(("$(", i))
                i += 1
            i += 1
            continue
        # unquoted (top level, inside $( or `)
        if c == "#" and at_word_start:
            eol = line.find("\n", i)
            i = n if eol == -1 else eol
            continue
        if c == "\n" and heredocs:
            i = _skip_heredocs(line, i + 1, heredocs)
            if heredocs:
                delim, _, col = heredocs[0]
                return Incomplete(f"the heredoc `{delim}` is not closed", Span(col, col + 2))
            at_word_start = True
            continue
        if c == "'":
            stack.append(("'", i))
        elif c == '"':
            stack.append(('"', i))
        elif c == "`":
            if top == "`":
                stack.pop()
            else:
                stack.append(("`", i))
        elif line.startswith("$'", i):
            stack.append(("$'", i))
            i += 1
        elif line.startswith("$(", i) or (c == "(" and top == "$("):
            stack.append(("$(", i))
            i += 1 if c == "$" else 0
        elif c == ")" and top == "$(":
            stack.pop()
        elif line.startswith("<<<", i):
            i += 3
            at_word_start = True
            continue
        elif line.startswith("<<", i):
            m = _HEREDOC.match(line, i)
            if m:
                heredocs.append((m.group(3), m.group(1) == "-", i))
                i = m.end()
                at_word_start = False
                continue
        if not stack and c in "|&":
            op = (
                "||"
                if line.startswith("||", i)
                else "&&"
                if line.startswith("&&", i)
                else ("|&" if line.startswith("|&", i) else c)
            )
            trailing = (op, i) if op != "&" else None
            at_word_start = True
            i += len(op)
            continue
        if not c.isspace():
            trailing = None
        at_word_start = c in " \t\n;&|()"
        i += 1
    if stack:
        kind, col = stack[-1]
        return Incomplete(_NAMES[kind], Span(col, col + len(kind)))
    if heredocs:
        delim, _, col = heredocs[0]
        return Incomplete(f"the heredoc `{delim}` is not closed", Span(col, col + 2))
    if trailing is not None:
        op, col = trailing
        return Incomplete(f"`{op}` at the end, with no command after it", Span(col, col + len(op)))
    return None


_NAMES = {
    "'": "an unterminated single quote",
    '"': "an unterminated double quote",
    "$'": "an unterminated $'...' string",
    "`": "an unterminated backquote",
    "$(": "an unclosed `$(`",
}


def _skip_heredocs(line: str, i: int, heredocs: list[tuple[str, bool, int]]) -> int:
    """Consume heredoc bodies starting at i; closed ones leave `heredocs`."""
    n = len(line)
    while heredocs and i < n:
        delim, strip, _ = heredocs[0]
        eol = line.find("\n", i)
        end = n if eol == -1 else eol
        row = line[i:end]
        if (row.lstrip("\t") if strip else row) == delim:
            heredocs.pop(0)
        i = end + 1
    return min(i, n)
