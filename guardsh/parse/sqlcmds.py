"""Where a SQL client's own commands start and end in its input (pure).

psql's backslash commands run to the end of the line (or to `\\\\`); sqlite3's
dot-commands are whole lines; the mysql client's commands (`use db`, `\\u db`,
`source f`, `connect`, `system`, `\\!`) start at a line start or right
after a `;`, and end at the delimiter (outside quotes) or the end of the
line: `use other; DROP TABLE t` runs DROP in `other`. sqllex's scan calls
these where it meets a command outside literals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Where a meta-command may start, per client ("" = none).
META_NONE = ""
META_PSQL = "psql"  # a backslash anywhere outside literals
META_MYSQL = "mysql"  # a backslash command anywhere, a long command at a line start
META_SQLITE = "sqlite"  # a dot-command at a line start

LINE_CMD = {
    META_MYSQL: re.compile(r"(?i)[ \t]*(?:source|use|system|connect|delimiter|exit|quit|go|ego)\b"),
    META_SQLITE: re.compile(r"[ \t]*\.[A-Za-z]"),
}
# mysql: a `;` that ends a statement and starts a client command on the same
# line (`select 1; use other; DROP TABLE t`): the client runs the command.
MYSQL_AFTER_SEMI = r";(?=[ \t]*(?i:use|connect|source|system)\b)"
_NEXT_COMMAND = re.compile(r"[ \t]*(?=(?i:use|connect|source|system)\b)")
_MYSQL_SHELL = re.compile(r"(?i)[ \t]*(?:system\b|\\!)")
# mysql backslash commands that take no argument: the rest of the line is SQL
_MYSQL_NO_ARG = frozenset("gGqcpentsWwx#")


@dataclass(frozen=True, slots=True)
class MetaSpan:
    """A client meta-command found outside literals: its text is [start, end).

    SQL resumes at `resume` when it is set: mysql's `system ls; DROP TABLE t`
    hands the whole line to the shell and still runs the SQL after the `;`.
    """

    start: int
    end: int
    resume: int | None = None

    @property
    def sql_from(self) -> int:
        return self.end if self.resume is None else self.resume


def backslash_command(text: str, s: int, meta: str, delim: str) -> MetaSpan:
    """A backslash meta-command at s: to the line's end, or psql's `\\\\`;
    mysql's end at the delimiter (see _mysql_command)."""
    e = text.find("\n", s)
    e = len(text) if e < 0 else e
    if meta == META_PSQL:
        name = re.match(r"\\[A-Za-z!?;.|]*", text[s:e])
        if name and name.group() not in ("\\!", "\\|"):
            sep = text.find("\\\\", s + 1, e)
            if sep >= 0:
                return MetaSpan(s, sep + 2)
    if meta == META_MYSQL and len(text) > s + 1:
        if text[s + 1] in _MYSQL_NO_ARG:
            return MetaSpan(s, s + 2)  # argument-less: the rest of the line is SQL
        if text[s + 1] != "d":  # `\d //` takes the whole line, as `delimiter` does
            return _mysql_command(text, s, delim)
    return MetaSpan(s, e)


def mysql_commands(text: str, s: int, delim: str) -> list[MetaSpan]:
    """The client commands from s on: `use a; use b; DROP TABLE t` is two."""
    found = [_mysql_command(text, s, delim)]
    while delim == ";" and found[-1].resume is None and text[found[-1].end - 1] == ";":
        nxt = _NEXT_COMMAND.match(text, found[-1].end)
        if nxt is None:
            break
        found.append(_mysql_command(text, nxt.end(), delim))
    return found


def _mysql_command(text: str, s: int, delim: str) -> MetaSpan:
    """A mysql client command at s (`use db`, `\\u db`, `source f`, `system ls`):
    it ends at the first delimiter outside quotes, or at the end of the line,
    and the client runs what follows on the line as the next statement. The
    shell (`system`, `\\!`) is given the whole line all the same."""
    eol = text.find("\n", s)
    eol = len(text) if eol < 0 else eol
    k = _delimiter_at(text, s, eol, delim)
    if k < 0:
        return MetaSpan(s, eol)
    if _MYSQL_SHELL.match(text, s):
        return MetaSpan(s, eol, k + len(delim))
    return MetaSpan(s, k + len(delim))


def _delimiter_at(text: str, s: int, e: int, delim: str) -> int:
    """The first `delim` in text[s:e] outside quotes, or -1."""
    k = text.find(delim, s, e)
    if k < 0 or not any(q in text[s:k] for q in "'\"`"):
        return k
    i = s
    while i < e:
        c = text[i]
        if c in "'\"`":
            i += 1
            while i < e and text[i] != c:
                i += 2 if c != "`" and text[i] == "\\" else 1
        elif text.startswith(delim, i):
            return i
        i += 1
    return -1
