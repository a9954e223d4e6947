"""Redirections, heredocs and herestrings: what a command reads and writes."""

from __future__ import annotations

from tree_sitter import Node

from guardsh.model import Redirect, Stdin, Word
from guardsh.parse.expand import Scope, expand, expand_one
from guardsh.parse.source import Source


def file_redirect(node: Node, src: Source, scope: Scope, words: list[Word]) -> Redirect | None:
    """The redirect of a `file_redirect` node. Words the grammar files after
    the target (`cmd < in more args`) are appended to `words`, as bash does."""
    fd: int | None = None
    op = ""
    dest: Word | None = None
    for child in node.children:
        if child.type == "file_descriptor":
            fd = int(src.slice(child.start_byte, child.end_byte) or 0)
        elif not child.is_named:
            op = op or child.type
        elif dest is None:
            dest = expand_one(child, src, scope)
        else:
            words.extend(expand(child, src, scope))
    if dest is None or (op in (">&", "<&") and dest.value.isdigit()) or dest.value == "-":
        return None
    return Redirect(op, fd, dest)


def herestring(node: Node, src: Source, scope: Scope) -> Stdin:
    """`<<< word`: the word and a newline, when it is known."""
    words = [expand_one(c, src, scope) for c in node.named_children]
    text = " ".join(w.value for w in words) + "\n"
    known = all(w.known for w in words)
    return Stdin(text if known else None, "herestring", src.span(node.start_byte, node.end_byte))


def quoted_delimiter(start: Node | None, src: Source) -> bool:
    """`<<'EOF'`, `<<"EOF"` and `<<\\EOF` turn expansion in the body off."""
    if start is None:
        return False
    delim = src.slice(start.start_byte, start.end_byte)
    return any(q in delim for q in "'\"\\")


def heredoc_stdin(
    node: Node,
    start: Node | None,
    body: Node | None,
    end: Node | None,
    strip_tabs: bool,
    src: Source,
    scope: Scope,
    slipped: bool = False,
) -> Stdin:
    """The text a heredoc feeds: expanded unless its delimiter is quoted,
    leading tabs stripped for `<<-`. `slipped`: the grammar read body lines
    as words (see `_lost_body`)."""
    lost = _lost_body(start, body, end, src, slipped)
    if lost is not None:
        lo, hi = lost
        text = src.slice(lo, hi)
    elif body is None:
        return Stdin("", "heredoc", src.span(node.start_byte, node.end_byte))
    elif quoted_delimiter(start, src):
        lo, hi = body.start_byte, body.end_byte
        text = src.slice(lo, hi)
    else:
        lo, hi = body.start_byte, body.end_byte
        text = _expanded_body(body, src, scope)
    if strip_tabs:
        text = "\n".join(ln.lstrip("\t") for ln in text.split("\n"))
    return Stdin(text, "heredoc", src.span(lo, hi))


def _lost_body(
    start: Node | None, body: Node | None, end: Node | None, src: Source, slipped: bool
) -> tuple[int, int] | None:
    """tree-sitter-bash loses a body whose first line starts with a backslash
    (`<<'EOF'` then `\\i x.sql`): it reads that line as words and starts the
    body after it (or leaves it empty). Then the bytes between the delimiter's
    line and the end marker are the body (taken as written: its expansions,
    if any, are not expanded)."""
    if start is None or end is None:
        return None
    if not slipped and body is not None and body.end_byte > body.start_byte:
        return None
    eol = src.data.find(b"\n", start.end_byte)
    if eol == -1 or eol + 1 >= end.start_byte:
        return None
    return eol + 1, end.start_byte


def _expanded_body(body: Node, src: Source, scope: Scope) -> str:
    """An unquoted heredoc body: literal text between the expansions. An
    expansion that cannot be known keeps its source text."""
    parts: list[str] = []
    pos = body.start_byte
    for child in body.named_children:
        if child.start_byte > pos:
            parts.append(src.slice(pos, child.start_byte))
        if child.type == "heredoc_content":
            parts.append(src.slice(child.start_byte, child.end_byte))
        else:
            parts.append(expand_one(child, src, scope).value)
        pos = max(pos, child.end_byte)
    if body.end_byte > pos:
        parts.append(src.slice(pos, body.end_byte))
    return "".join(parts)
