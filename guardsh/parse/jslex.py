"""A JavaScript lexer for mongosh scripts (not a parser): tokens, and which
bracket closes which.

Comments and whitespace are dropped; a string literal is a single `str`
token holding its unescaped value (so `print("db.dropDatabase()")` stays
inert), a regular expression literal is one `re` token (a `/` after a value
divides, elsewhere it starts a literal), and the mongosh helper `use NAME` at
the start of a line is one `use` token. Unclosed strings, comments and
brackets end at the end of the text instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LEX = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*.*?(?:\*/|\Z))
  | (?P<str>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)
  | (?P<tpl>`(?:[^`\\]|\\.)*`?)
  | (?P<num>\d[\w.]*)
  | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<p>\?\.|=>|===|!==|==|!=|<=|>=|&&|\|\||[-+*/%=<>!&|^~?:;,.(){}\[\]])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_REGEX_LIT = re.compile(r"/(?:[^/\\\n\[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[a-z]*")
_USE = re.compile(r"[ \t]+([^\s;'\"]+)")
_ESC = re.compile(r"\\(.)")
# After these a `/` divides; elsewhere it starts a regular expression literal.
_VALUE_END = frozenset({")", "]", "}"})

OPEN = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # id | str | num | p | use | tpl | re
    value: str
    start: int
    end: int


def tokenize(js: str) -> list[Tok]:
    """Split JS into tokens; comments and whitespace are dropped."""
    toks: list[Tok] = []
    pos = 0
    n = len(js)
    line_start = True  # no token yet on the current line
    while pos < n:
        m = _LEX.match(js, pos)
        assert m is not None  # `other` matches any character
        kind = m.lastgroup or "other"
        end = m.end()
        if kind in ("ws", "lc", "bc"):
            if "\n" in m.group():
                line_start = True
            pos = end
            continue
        text = m.group()
        if text == "/" and (not toks or not _divides_after(toks[-1])):
            r = _REGEX_LIT.match(js, pos)
            if r:
                toks.append(Tok("re", r.group(), pos, r.end()))
                pos = r.end()
                line_start = False
                continue
        if kind == "str":
            closed = len(text) > 1 and text[-1] == text[0]
            value = _ESC.sub(r"\1", text[1:-1] if closed else text[1:])
            toks.append(Tok("str", value, pos, end))
        elif kind == "id" and text == "use" and line_start:
            u = _USE.match(js, end)
            if u:
                toks.append(Tok("use", u.group(1), pos, u.end()))
                pos = u.end()
                line_start = False
                continue
            toks.append(Tok("id", text, pos, end))
        else:
            toks.append(Tok(kind, text, pos, end))
        line_start = False
        pos = end
    return toks


def _divides_after(t: Tok) -> bool:
    return t.kind in ("id", "num", "str", "tpl", "re") or t.value in _VALUE_END


def match_brackets(toks: list[Tok]) -> list[int]:
    """For each opening bracket, the index of its closing one (or len)."""
    close = [-1] * len(toks)
    stack: list[int] = []
    for i, t in enumerate(toks):
        if t.kind != "p":
            continue
        if t.value in OPEN:
            stack.append(i)
        elif t.value in (")", "]", "}"):
            while stack:
                j = stack.pop()
                if OPEN[toks[j].value] == t.value:
                    close[j] = i
                    break
                close[j] = i  # unbalanced: close it here
    for j in stack:
        close[j] = len(toks)
    return close
