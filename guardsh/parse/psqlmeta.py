"""Client scripts -> SQL pieces and meta-commands, in order (pure).

psql (and `cockroach sql`) backslash commands, the mysql/mariadb client's
commands (`source`, `system`, `use`, `connect`, `delimiter`, `\\.`, `\\!`) and
sqlite3 dot-commands (`.read`, `.shell`, `.open`, `.import`) are not SQL: they
include files, run shell commands or switch the database for what follows.
The split keeps their order, so the analyzer can follow each one; SQL between
them is handed to `analyze_sql` as one piece (statement order and transactions
stay intact within a piece).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from guardsh.parse.sqlcmds import META_MYSQL, META_PSQL, META_SQLITE
from guardsh.parse.sqllex import MYSQL, POSTGRES, SQLITE, mask


@dataclass(frozen=True, slots=True)
class Piece:
    """Either SQL text (`sql`) or one meta-command (`meta` with its `args`).

    meta kinds: include, include_relative (a file of more script), shell (a
    command line), connect (args as the client takes them), use (a database
    name), gexec (SQL whose output is run), import (file, table), restore
    (file), cd (directory).
    """

    sql: str | None = None
    meta: str | None = None
    args: tuple[str, ...] = ()
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Script:
    pieces: tuple[Piece, ...]
    dialect: str


CACHE_LIMIT = 64 * 1024  # longer scripts are split without being kept in the cache


_ARG = re.compile(r"""'(?:[^'\\]|''|\\.)*'?|`[^`]*`?|"(?:[^"]|"")*"?|[^\s'`"]+""")
_PSQL_NAME = re.compile(r"\\([A-Za-z_]+\+?|[!|;?.]|\\)")
_VAR = re.compile(r"""(?<![:\w]):(?:([A-Za-z_]\w*)|'(_+)'|"(_+)")""")


def _words(text: str) -> list[str]:
    """Meta-command arguments: whitespace-separated, quotes removed."""
    out = []
    for m in _ARG.finditer(text):
        w = m.group()
        if w[0] == "'":
            w = w[1:-1] if len(w) > 1 and w.endswith("'") else w[1:]
            w = w.replace("''", "'")
        elif w[0] == '"' and w.endswith('"') and len(w) > 1:
            w = w[1:-1]
        out.append(w)
    return out


class _Builder:
    def __init__(self, dialect: str, variables: Mapping[str, str] | None = None) -> None:
        self.pieces: list[Piece] = []
        self.buf: list[str] = []
        self.dialect = dialect
        self.vars = dict(variables or {})

    def sql(self, text: str) -> None:
        if text:
            self.buf.append(text)

    def flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        if text.strip():
            if self.vars and ":" in text:
                text = _interpolate(text, self.vars)
            self.pieces.append(Piece(sql=text))

    def meta(self, kind: str, args: list[str] | tuple[str, ...], raw: str) -> None:
        self.flush()
        self.pieces.append(Piece(meta=kind, args=tuple(args), raw=raw.strip()))

    def current(self) -> str:
        """The statement in progress (after the last `;`) removed from the buffer."""
        text = "".join(self.buf)
        masked, _ = mask(text, POSTGRES)
        k = masked.rfind(";")
        self.buf = [text[: k + 1]] if k >= 0 else []
        return text[k + 1 :]

    def script(self) -> Script:
        self.flush()
        return Script(tuple(self.pieces), self.dialect)


def _interpolate(text: str, variables: Mapping[str, str]) -> str:
    """psql variables: `:name`, `:'name'` (a literal), `:"name"` (an identifier)."""
    masked, _ = mask(text, POSTGRES)
    out = []
    pos = 0
    for m in _VAR.finditer(masked):
        if m.group(1):
            name = m.group(1)
        else:
            g = 2 if m.group(2) else 3
            name = text[m.start(g) : m.end(g)]
        value = variables.get(name)
        if value is None:
            continue
        if m.group(2):
            value = "'" + value.replace("'", "''") + "'"
        elif m.group(3):
            value = '"' + value.replace('"', '""') + '"'
        out.append(text[pos : m.start()])
        out.append(value)
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_PSQL_GO = {"g", "gx", "gset", "gdesc", "watch", ";", "crosstabview"}
_PSQL_INCLUDE = {"i": "include", "include": "include", "ir": "include_relative"}
_PSQL_INCLUDE["include_relative"] = "include_relative"


def split_psql(text: str, variables: tuple[tuple[str, str], ...] = ()) -> Script:
    """psql (and `cockroach sql`) input: SQL plus backslash meta-commands."""
    if len(text) > CACHE_LIMIT:
        return _split_psql.__wrapped__(text, variables)
    return _split_psql(text, variables)


@lru_cache(maxsize=128)
def _split_psql(text: str, variables: tuple[tuple[str, str], ...]) -> Script:
    _, metas = mask(text, POSTGRES, META_PSQL)
    b = _Builder("postgres", dict(variables))
    pos = 0
    for ms in metas:
        b.sql(text[pos : ms.start])
        pos = ms.end
        raw = text[ms.start : ms.end]
        m = _PSQL_NAME.match(raw)
        if m is None:
            continue
        name = m.group(1).rstrip("+")
        rest = raw[m.end() :]
        if rest.endswith("\\\\"):
            rest = rest[:-2]
        if name in ("!", "|"):
            b.meta("shell", [rest.strip()], raw)
            if name == "|":  # cockroach: the command's output is run as SQL
                b.meta("gexec", [""], raw)
            continue
        args = _words(rest)
        for a in re.findall(r"`([^`]*)`", rest):  # backquotes run a shell command
            b.meta("shell", [a], raw)
        if name in _PSQL_INCLUDE:
            b.meta(_PSQL_INCLUDE[name], args[:1], raw)
        elif name in ("c", "connect"):
            b.meta("connect", args, raw)
        elif name == "gexec":
            stmt = b.current()
            b.meta("gexec", [stmt], raw)
        elif name in _PSQL_GO:
            b.sql(";")
            if args and args[0].startswith("|"):
                b.meta("shell", [rest.strip()[1:]], raw)
        elif name in ("o", "out", "w", "write") and rest.strip().startswith("|"):
            b.meta("shell", [rest.strip()[1:]], raw)
        elif name in ("q", "quit"):
            return b.script()
        elif name in ("r", "reset"):
            b.current()
        elif name == "copy" and re.search(r"(?i)\bfrom\b", rest):
            b.sql(f";\nCOPY {rest.strip()};\n")
        elif name == "set" and args:
            b.flush()
            b.vars[args[0]] = "".join(args[1:])
        elif name == "unset" and args:
            b.flush()
            b.vars.pop(args[0], None)
        elif name == "cd":
            b.meta("cd", args[:1], raw)
    b.sql(text[pos:])
    return b.script()


_MYSQL_SHORT = re.compile(r"\\(.)")
_MYSQL_LONG = re.compile(r"(?i)(source|use|system|connect|delimiter|exit|quit|go|ego)\b")


def split_mysql(text: str) -> Script:
    """mysql/mariadb client input: SQL plus client commands."""
    return _split_mysql.__wrapped__(text) if len(text) > CACHE_LIMIT else _split_mysql(text)


@lru_cache(maxsize=128)
def _split_mysql(text: str) -> Script:
    _, metas = mask(text, MYSQL, META_MYSQL)
    b = _Builder("mysql")
    pos = 0
    delim = ";"
    for ms in metas:
        b.sql(_redelimit(text[pos : ms.start], delim))
        pos = ms.sql_from
        raw = text[ms.start : ms.end]
        short = _MYSQL_SHORT.match(raw)
        if short:
            cmd = {".": "source", "!": "system", "u": "use", "r": "connect", "d": "delimiter"}.get(
                short.group(1), short.group(1)
            )
            rest = raw[2:]
        else:
            long = _MYSQL_LONG.match(raw)
            if long is None:
                continue
            cmd = long.group(1).lower()
            rest = raw[long.end() :]
        rest = rest.strip()
        if cmd != "delimiter" and rest.endswith(delim):
            rest = rest[: -len(delim)].rstrip()
        if cmd == "source":
            b.meta("include", [rest], raw)
        elif cmd == "system":
            b.meta("shell", [rest], raw)
        elif cmd == "use":
            b.meta("use", _mysql_words(rest)[:1], raw)
        elif cmd == "connect":
            b.meta("connect", _mysql_words(rest), raw)
        elif cmd == "delimiter":
            delim = rest.split()[0] if rest.split() else ";"
        elif cmd in ("go", "ego", "g", "G"):
            b.sql(";")
        elif cmd in ("exit", "quit", "q"):
            return b.script()
        elif cmd == "c":  # \c clears the statement in progress
            b.current()
    b.sql(_redelimit(text[pos:], delim))
    return b.script()


def _mysql_words(text: str) -> list[str]:
    """The mysql client's command arguments: `'db'`, `"db"` and `` `db` `` unquoted."""
    return [w[1:-1] if len(w) > 1 and w[0] == w[-1] == "`" else w for w in _words(text)]


def _redelimit(seg: str, delim: str) -> str:
    """Under `delimiter //`, `;` is plain text and `//` ends a statement."""
    if delim == ";" or not seg:
        return seg
    masked, _ = mask(seg, MYSQL)
    out = list(seg)
    for k, c in enumerate(masked):
        if c == ";":
            out[k] = " "
    k = masked.find(delim)
    while k >= 0:
        out[k : k + len(delim)] = ";" + " " * (len(delim) - 1)
        k = masked.find(delim, k + len(delim))
    return "".join(out)


def split_sqlite(text: str) -> Script:
    """sqlite3 shell input: SQL plus dot-commands at line starts."""
    return _split_sqlite.__wrapped__(text) if len(text) > CACHE_LIMIT else _split_sqlite(text)


@lru_cache(maxsize=128)
def _split_sqlite(text: str) -> Script:
    _, metas = mask(text, SQLITE, META_SQLITE)
    b = _Builder("sqlite")
    pos = 0
    for ms in metas:
        b.sql(text[pos : ms.start])
        pos = ms.end
        raw = text[ms.start : ms.end]
        parts = raw[1:].split(None, 1)
        if not parts:
            continue
        cmd = parts[0].lower()
        rest = parts[1] if len(parts) > 1 else ""
        args = [a for a in _words(rest) if not a.startswith("-")]
        if cmd == "read":
            if rest.strip().startswith("|"):
                b.meta("shell", [rest.strip()[1:]], raw)
                b.meta("gexec", [""], raw)
            else:
                b.meta("include", args[:1], raw)
        elif cmd in ("shell", "system"):
            b.meta("shell", [rest.strip()], raw)
        elif cmd == "open":
            b.meta("connect", args[-1:], raw)
        elif cmd == "import" and len(args) >= 2:
            b.meta("import", args[:2], raw)
        elif cmd == "restore" and args:
            b.meta("restore", args[-1:], raw)
        elif cmd in ("output", "once") and rest.strip().startswith("|"):
            b.meta("shell", [rest.strip()[1:]], raw)
        elif cmd in ("quit", "exit"):
            return b.script()
        elif cmd == "cd":
            b.meta("cd", args[:1], raw)
    b.sql(text[pos:])
    return b.script()
