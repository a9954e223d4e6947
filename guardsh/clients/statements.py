"""When is what the user typed into a client a complete statement? (pure)

guardsh holds the user's input until the client would act on it, so the
analysis sees the whole statement before the client sees its Enter:

- SQL (psql, mysql/mariadb, sqlite3): a `;` outside quotes, comments and
  dollar quotes ends a statement; so do psql's `\\g`-style commands and any
  backslash command (it ends at its newline), mysql's `\\g`/`\\G`, its custom
  `delimiter`, and its line commands (`use`, `quit`, ...); sqlite3's
  dot-commands end at their newline, and `CREATE TRIGGER ... END;` at its END.
- redis-cli: one command per line.
- mongosh: a complete JavaScript statement: brackets balanced, no open string,
  template or comment, and no trailing operator.

`pending()` is what the client keeps in its query buffer after a send (psql
`SELECT 1` followed by `\\dt` runs `\\dt` and keeps `SELECT 1`), so the next
statement is analyzed together with it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from guardsh.parse.sqlcmds import META_MYSQL, META_PSQL, META_SQLITE
from guardsh.parse.sqllex import MYSQL, POSTGRES, SQLITE, mask

# psql commands that execute (or discard) the query buffer.
_PSQL_FLUSH = re.compile(r"\\(?:g[a-z]*|;|r|reset|watch|crosstabview|q|quit)\b|\\;")
_MYSQL_LINE = re.compile(
    r"(?i)^\s*(?:use|quit|exit|source|system|connect|delimiter|help|status|tee|notee|charset"
    r"|warnings|nowarning|rehash|prompt|pager|nopager|print|clear|go|ego|edit)\b"
)
_MYSQL_SHORT = re.compile(r"\\[a-zA-Z#.!]")
_TRIGGER = re.compile(r"(?is)^\s*create\s+(?:temp\w*\s+)?trigger\b")
_TRIGGER_END = re.compile(r"(?is)\bend\s*;\s*$")
_MONGO_LINE = re.compile(r"^\s*(?:use|show|exit|quit|it|help|cls)\b(?!\s*[.(=])")
_JS_TRAILING_OP = frozenset(".,+-*/%=&|^!?:<>~")


def _last_line(text: str) -> tuple[int, str]:
    k = text.rstrip("\n").rfind("\n")
    return k + 1, text[k + 1 :]


@dataclass
class Grammar:
    """Statement completion for one client session (mysql's `delimiter` is state)."""

    kind: str  # psql | mysql | sqlite | redis | mongo
    delimiter: str = ";"
    _seen: list[str] = field(default_factory=list)

    def complete(self, text: str) -> bool:
        if not text.strip():
            return True
        return {
            "psql": self._psql,
            "mysql": self._mysql,
            "sqlite": self._sqlite,
            "redis": lambda t: True,
            "mongo": _mongo_complete,
        }.get(self.kind, lambda t: True)(text)

    def sent(self, text: str) -> None:
        """The client received `text`: follow what changes the grammar."""
        if self.kind == "mysql":
            for line in text.splitlines():
                m = re.match(r"(?i)^\s*(?:delimiter|\\d)\s*(\S+)", line)
                if m:
                    self.delimiter = m.group(1)

    def pending(self, text: str) -> str:
        """The SQL the client keeps in its buffer after receiving `text`."""
        if self.kind == "psql":
            masked, metas = mask(text, POSTGRES, META_PSQL)
            cut = masked.rfind(";") + 1
            for m in metas:
                if _PSQL_FLUSH.match(text, m.start):
                    cut = max(cut, m.end)
            rest = [
                c if not any(m.start <= i < m.end for m in metas) else " "
                for i, c in enumerate(text[cut:], cut)
            ]
            out = "".join(rest)
        elif self.kind in ("mysql", "sqlite"):
            d, meta = (MYSQL, META_MYSQL) if self.kind == "mysql" else (SQLITE, META_SQLITE)
            masked, metas = mask(text, d, meta)
            cut = masked.rfind(self.delimiter if self.kind == "mysql" else ";")
            cut = cut + len(self.delimiter) if cut >= 0 else 0
            for m in metas:
                cut = max(cut, m.end)
            out = text[cut:]
        else:
            return ""
        return out if out.strip() else ""

    def statements(self, text: str) -> list[tuple[int, int]]:
        """Where each statement of `text` is (start, end), without the blanks
        and comments around it: SQL split at its delimiter and around client
        commands, redis by line; a mongosh text is one piece."""
        if self.kind not in ("psql", "mysql", "sqlite"):
            lines = text.split("\n") if self.kind == "redis" else [text]
            out, at = [], 0
            for line in lines:
                out.append((at, at + len(line)))
                at += len(line) + 1
            return [p for p in (_trim(text, a, b) for a, b in out) if p is not None]
        d, meta = {"psql": (POSTGRES, META_PSQL), "mysql": (MYSQL, META_MYSQL),
                   "sqlite": (SQLITE, META_SQLITE)}[self.kind]  # fmt: skip
        masked, metas = mask(text, d, meta)
        visible = list(masked)  # the client commands back in the masked copy
        for m in metas:
            visible[m.start : m.end] = text[m.start : m.end]
        seen = "".join(visible)
        if self.kind == "sqlite" and _TRIGGER.match(masked):
            cuts = {0, len(text)}
        else:
            delim = self.delimiter if self.kind == "mysql" else ";"
            cuts = {0, len(text)}
            at = masked.find(delim)
            while at >= 0:
                cuts.add(at + len(delim))
                at = masked.find(delim, at + len(delim))
            for m in metas:
                cuts.update((m.start, m.end))
        bounds = sorted(cuts)
        pieces = (_trim(seen, a, b) for a, b in itertools.pairwise(bounds))
        return [p for p in pieces if p is not None]

    # ------------------------------------------------------------------ SQL
    def _psql(self, text: str) -> bool:
        masked, metas = mask(text, POSTGRES, META_PSQL)
        start, _ = _last_line(text)
        if any(m.start >= start or m.end > start for m in metas):
            return True  # a backslash command ends at its newline
        return masked.rstrip().endswith(";")

    def _mysql(self, text: str) -> bool:
        first = text.lstrip("\n")
        if "\n" not in first.strip() and _MYSQL_LINE.match(first):
            return True
        masked, metas = mask(text, MYSQL, META_MYSQL)
        start, _ = _last_line(text)
        for m in metas:
            if m.start >= start and _MYSQL_SHORT.match(text, m.start):
                return True
        if any(m.start >= start for m in metas):
            return True
        return masked.rstrip().endswith(self.delimiter)

    def _sqlite(self, text: str) -> bool:
        if text.lstrip().startswith("."):
            return True
        masked, _ = mask(text, SQLITE, META_SQLITE)
        body = masked.rstrip()
        if not body.endswith(";"):
            return False
        if _TRIGGER.match(masked):
            return _TRIGGER_END.search(body) is not None
        return True


def _trim(text: str, a: int, b: int) -> tuple[int, int] | None:
    """(a, b) without the blanks at either end; None when nothing is left."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if a < b else None


def _mongo_complete(text: str) -> bool:
    """A complete JavaScript statement (the REPL's own test is "does it parse")."""
    if _MONGO_LINE.match(text) and "\n" not in text.strip():
        return True
    depth = 0
    i, n = 0, len(text)
    last = ""
    while i < n:
        c = text[i]
        if c in "\"'`":
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif c != "`" and text[j] == "\n":
                    break
                j += 1
            if j >= n or text[j] != c:
                return False  # an open string or template
            i = j + 1
            last = c
            continue
        if text.startswith("//", i):
            k = text.find("\n", i)
            i = n if k < 0 else k
            continue
        if text.startswith("/*", i):
            k = text.find("*/", i + 2)
            if k < 0:
                return False
            i = k + 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if not c.isspace():
            last = c
        i += 1
    if depth > 0:
        return False
    return last not in _JS_TRAILING_OP
