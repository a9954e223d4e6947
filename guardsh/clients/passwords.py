"""Passwords typed into a client (pure): where they are, and the text without them.

`AUTH alice s3cret` in redis-cli, `ALTER ROLE app PASSWORD 'x'` in psql,
`IDENTIFIED BY 'x'` in mysql, `db.auth("u", "p")` in mongosh: such a line
never goes to the client's history file, and the audit trail and the card
show it with `***` in the password's place. Password prompts (psql
`\\password`, a login) are not lines guardsh edits: they pass through.

Each rule is a gate (the command that carries a password, searched on the
line) and a pattern whose group 1 is the password, found from the gate on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from guardsh.model import Span

_W = r"""(?:"[^"]*"|'[^']*'|[^\s"']+)"""  # a redis word
_S = r"""(?:'(?:[^']|'')*'|"[^"]*")"""  # an SQL string
_J = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)"""  # a JavaScript string

Rule = tuple[re.Pattern[str], re.Pattern[str]]


def _rule(gate: str, secret: str) -> Rule:
    return re.compile(gate, re.I | re.M), re.compile(secret, re.I | re.M)


_REDIS = (
    _rule(r"^\s*AUTH\b", rf"^\s*AUTH(?:\s+{_W})?\s+({_W})\s*$"),
    _rule(r"^\s*HELLO\b", rf"\bAUTH\s+{_W}\s+({_W})"),
    _rule(r"^\s*CONFIG\s+SET\b", rf"\b(?:requirepass|masterauth)\s+({_W})"),
    _rule(r"^\s*ACL\s+SETUSER\b", rf"(?<=\s)[<>#!]({_W})"),
    _rule(r"^\s*MIGRATE\b", rf"\bAUTH\s+({_W})|\bAUTH2\s+{_W}\s+({_W})"),
)
_PSQL = (_rule(r"\b(?:ROLE|USER)\b", rf"\bPASSWORD\s+({_S})"),)
_MYSQL = (
    _rule(
        r"\bIDENTIFIED\b",
        rf"\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s+(?:PASSWORD\s+)?({_S})",
    ),
    _rule(r"\bSET\s+PASSWORD\b", rf"=\s*(?:PASSWORD\s*\(\s*)?({_S})"),
)
_MONGO = (
    _rule(r"\bpwd\s*:", rf"\bpwd\s*:\s*({_J})"),
    _rule(r"\.auth\s*\(", rf"\.auth\s*\(\s*{_J}\s*,\s*({_J})"),
    _rule(r"\.changeUserPassword\s*\(", rf"\.changeUserPassword\s*\(\s*{_J}\s*,\s*({_J})"),
)
RULES: dict[str, tuple[Rule, ...]] = {
    "redis": _REDIS,
    "psql": _PSQL,
    "mysql": _PSQL + _MYSQL,
    "mongo": _MONGO,
}
HIDDEN = "***"


def spans(kind: str, text: str) -> list[tuple[int, int]]:
    """Where the passwords in `text` are (start, end), in order."""
    found: set[tuple[int, int]] = set()
    for gate, secret in RULES.get(kind, ()):
        for g in gate.finditer(text):
            line_start = text.rfind("\n", 0, g.start()) + 1
            for m in secret.finditer(text, line_start):
                for i in range(1, (secret.groups or 0) + 1):
                    if m.group(i) is not None and m.start(i) >= g.start():
                        found.add((m.start(i), m.end(i)))
    return sorted(found)


def redact(text: str, where: Sequence[tuple[int, int]]) -> tuple[str, list[tuple[int, int, int]]]:
    """`text` with each span replaced by `***`; the edits (start, end, new
    length) for `remap`."""
    out, at, edits = [], 0, []
    for a, b in sorted(where):
        if a < at:
            continue
        out.append(text[at:a] + HIDDEN)
        edits.append((a, b, len(HIDDEN)))
        at = b
    out.append(text[at:])
    return "".join(out), edits


def remap(span: Span, edits: Sequence[tuple[int, int, int]]) -> Span:
    """Where `span` of the text is in the redacted text."""

    def moved(pos: int, end: bool) -> int:
        shift = 0
        for a, b, n in edits:
            if pos >= b:
                shift += n - (b - a)
            elif pos > a:  # inside a password: the edge of its `***`
                return a + shift + (n if end else 0)
        return pos + shift

    return Span(moved(span.start, False), moved(span.end, True))
