"""One SQL statement's token walk: what it destroys, changes or locks.

The walk looks past the first keyword: DML inside CTEs and `COPY (...)`, the
statement behind `EXPLAIN ANALYZE`, WHERE clauses that are always true or only
sit in a subquery, every object of a multi-object DROP. Literals never count:
they are single tokens (see sqllex).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from guardsh.model import Severity
from guardsh.parse.sqllex import Dialect, Tok, literal

HIGH = Severity.HIGH
LOW = Severity.LOW


@dataclass(frozen=True, slots=True)
class SqlOp:
    """One destructive or changing operation found in SQL text."""

    action: str  # sql.drop_table, ...
    objects: tuple[str, ...]
    severity: Severity
    start: int  # offsets in the analyzed text
    end: int
    detail: str  # plain words: "DROP TABLE users"
    tags: frozenset[str] = frozenset()


DYN = "__dyn__"  # stands for a run-time value inside generated SQL
DML = frozenset({"DELETE", "UPDATE", "INSERT", "MERGE", "UPSERT"})
_CLAUSE_END = frozenset({"RETURNING", "ORDER", "LIMIT", "SETTINGS", "OFFSET"})
_CMP = frozenset({"=", "==", "<>", "!=", "<", ">", "<=", ">=", "IS", "LIKE", "ILIKE"})
_FUNCS = frozenset(
    {"PG_TERMINATE_BACKEND", "PG_CANCEL_BACKEND", "PG_DROP_REPLICATION_SLOT", "DBLINK_EXEC"}
)

_PASSWORD = re.compile(
    r"""(?i)\b(PASSWORD|IDENTIFIED\s+(?:WITH\s+\w+\s+)?BY)\s*(?:'(?:[^']|'')*'?|"[^"]*"?|\S+)"""
)


def snippet(text: str, start: int, end: int, limit: int = 100) -> str:
    cut = min(end, start + 4 * limit)
    s = " ".join(text[start:cut].split())
    return s if len(s) <= limit and cut == end else s[: limit - 1] + "…"


def src_text(text: str, start: int, end: int) -> str:
    """text[start:end] for a detail: whitespace folded, long text cut, passwords blanked."""
    out = snippet(text, start, end)
    if _SECRET.search(out):
        out = _PASSWORD.sub(r"\1 '***'", out)
    return out


_SECRET = re.compile(r"(?i)PASSWORD|IDENTIFIED")


class Stmt:
    """The tokens of one statement and the walk over them."""

    __slots__ = ("close", "d", "masked", "prepared", "stop", "sub", "text", "toks")

    def __init__(
        self,
        text: str,
        toks: list[Tok],
        d: Dialect,
        prepared: dict[str, list[SqlOp]] | None = None,
        sub: Callable[[str, bool], tuple[SqlOp, ...]] | None = None,
        masked: str = "",
        stop: int = 0,
    ) -> None:
        self.text = text
        self.toks = toks
        self.d = d
        self.prepared = {} if prepared is None else prepared
        self.sub = sub  # analyzes nested SQL text (DO bodies, EXECUTE literals)
        self.masked = masked  # the masked text and where this statement ends in it
        self.stop = stop
        n = len(toks)
        close = list(range(n))
        stack: list[int] = []
        for k, t in enumerate(toks):
            u = t.up
            if u == "(":
                stack.append(k)
            elif u == ")" and stack:
                close[stack.pop()] = k
        for k in stack:  # unbalanced: the group runs to the end
            close[k] = n - 1
        self.close = close

    # ------------------------------------------------------------ helpers
    def w(self, i: int) -> str:
        return self.toks[i].up if 0 <= i < len(self.toks) else ""

    def src(self, i: int, j: int) -> str:
        """The statement text of tokens [i, j) for a detail, passwords blanked."""
        if j <= i:
            return ""
        return src_text(self.text, self.toks[i].start, self.toks[j - 1].end)

    def op(
        self,
        action: str,
        objs: list[str] | tuple[str, ...],
        sev: Severity,
        i: int,
        j: int,
        detail: str,
        *tags: str,
    ) -> SqlOp:
        t = self.toks
        j = max(min(j, len(t)), i + 1)
        objs = tuple(o for o in objs if o) or ("?",)
        if any(DYN in o for o in objs):
            objs = tuple(o.replace(DYN, "?") for o in objs)
            tags = (*tags, "unknown-object")
        return SqlOp(action, objs, sev, t[i].start, t[j - 1].end, detail, frozenset(tags))

    def skip(self, i: int, *words: str) -> int:
        while self.w(i) in words:
            i += 1
        return i

    def ident(self, i: int) -> str | None:
        if i >= len(self.toks):
            return None
        t = self.toks[i]
        k = t.kind
        if k == "word":
            return self.text[t.start : t.end]
        if k == "qid" or (k == "str" and self.d.dq_string and self.text[t.start] == '"'):
            return literal(self.text, t)
        return None

    def name(self, i: int) -> tuple[str | None, int]:
        """A qualified name at i (`ONLY` and a trailing `*` skipped); MySQL
        accounts (`'bob'@'%'`) and grant targets (`shop.*`, `*.*`) too."""
        i = self.skip(i, "ONLY")
        part = self.ident(i)
        if part is None and i < len(self.toks):
            t = self.toks[i]
            if t.up == "*" and self.w(i + 1) == ".":
                part = "*"
            elif t.kind == "str" and self.w(i + 1) == "@":
                part = literal(self.text, t)
        if part is None:
            return None, i
        parts = [part]
        i += 1
        while self.w(i) == ".":
            nxt = self.ident(i + 1) or ("*" if self.w(i + 1) == "*" else None)
            if nxt is None:
                break
            parts.append(nxt)
            i += 2
        if self.w(i) == "*":
            i += 1
        out = ".".join(parts)
        if self.w(i) == "@" and i + 1 < len(self.toks):  # 'bob'@'localhost'
            host = self.toks[i + 1]
            out += "@" + (literal(self.text, host) if host.kind != "word" else host.up.lower())
            i += 2
        return out, i

    def names(self, i: int, end: int) -> tuple[list[str], int]:
        """A comma-separated name list; `(args)` after a name are skipped."""
        out: list[str] = []
        while i < end:
            nm, i = self.name(i)
            if nm is None:
                break
            out.append(nm)
            if self.w(i) == "(":
                i = self.close[i] + 1
            if self.w(i) != ",":
                break
            i += 1
        return out, i

    def find(self, words: frozenset[str] | str, i: int, end: int) -> int:
        """The first of `words` at depth 0 in [i, end), or -1."""
        toks = self.toks
        while i < end:
            u = toks[i].up
            if u == "(":
                i = self.close[i] + 1
                continue
            if u == words if isinstance(words, str) else u in words:
                return i
            i += 1
        return -1

    def split(self, a: int, b: int, word: str) -> list[tuple[int, int]]:
        parts: list[tuple[int, int]] = []
        s = a
        k = self.find(word, a, b)
        while k >= 0:
            parts.append((s, k))
            s = k + 1
            k = self.find(word, s, b)
        parts.append((s, b))
        return parts

    # ------------------------------------------------------ WHERE clauses
    def always(self, a: int, b: int, want: bool = True) -> bool:
        """True when the condition in [a, b) is constantly `want`."""
        if b <= a:
            return False
        ors = self.split(a, b, "OR")
        if len(ors) > 1:
            if want:
                return any(self.always(x, y, True) for x, y in ors)
            return all(self.always(x, y, False) for x, y in ors)
        ands = self.split(a, b, "AND")
        if len(ands) > 1:
            if want:
                return all(self.always(x, y, True) for x, y in ands)
            return any(self.always(x, y, False) for x, y in ands)
        toks = self.toks
        if toks[a].up == "(" and self.close[a] == b - 1:
            return self.always(a + 1, b - 1, want)
        if toks[a].up == "NOT":
            return self.always(a + 1, b, not want)
        if b - a == 1:
            v = self.value(a)
            return v is not None and bool(v) == want
        k = self.find(_CMP, a, b)
        if k <= a:
            return False
        op = toks[k].up
        r = k + 1
        if op == "IS":
            neg = self.w(r) == "NOT"
            r += neg
            if r == b - 1 and self.w(r) in ("NULL", "TRUE", "FALSE"):
                lv = self.value(a) if k - a == 1 else "?"
                if lv == "?" or (lv is not None and self.w(r) == "NULL"):
                    return False
                res = (lv is None) if self.w(r) == "NULL" else (lv == (self.w(r) == "TRUE"))
                return (res != neg) == want
            return False
        if op in ("LIKE", "ILIKE"):
            return want and b - r == 1 and self.value(r) in ("%", "%%")
        if k - a == 1 and b - r == 1:
            lv, rv = self.value(a), self.value(r)
            if lv is not None and rv is not None and type(lv) is type(rv):
                return _compare(lv, op, rv) == want
        same = self._norm(a, k) == self._norm(r, b)
        if same and self._norm(a, k):
            return (op in ("=", "==", "<=", ">=")) == want
        return False

    def _norm(self, a: int, b: int) -> str:
        return "".join(self.text[t.start : t.end].lower() for t in self.toks[a:b])

    def value(self, i: int) -> bool | float | str | None:
        t = self.toks[i]
        if t.up in ("TRUE", "FALSE"):
            return t.up == "TRUE"
        k = t.kind
        if k == "num":
            try:
                return float(t.up)
            except ValueError:
                return None
        if k == "str":
            return literal(self.text, t)
        return None

    def where_verdict(self, j: int, end: int) -> tuple[bool, str]:
        """(all rows, why) for a DELETE/UPDATE whose WHERE is searched from j."""
        k = self.find("WHERE", j, end)
        if k < 0:
            nested = any(t.up == "WHERE" for t in self.toks[j:end])
            return True, "WHERE only in a subquery" if nested else "no WHERE"
        if self.w(k + 1) == "CURRENT":
            return False, ""
        stop = self.find(_CLAUSE_END, k + 1, end)
        stop = end if stop < 0 else stop
        if self.always(k + 1, stop):
            return True, "WHERE is always true"
        return False, ""


def _compare(a: bool | float | str, op: str, b: bool | float | str) -> bool:
    """A comparison of two literals of the same type."""
    if op in ("=", "=="):
        return a == b
    if op in ("<>", "!="):
        return a != b
    if isinstance(a, str) or isinstance(b, str):
        return _order(str(a), op, str(b))
    return _order(float(a), op, float(b))


def _order(x: str | float, op: str, y: str | float) -> bool:
    if op == "<":
        return x < y  # type: ignore[operator]
    if op == ">":
        return x > y  # type: ignore[operator]
    if op == "<=":
        return x <= y  # type: ignore[operator]
    if op == ">=":
        return x >= y  # type: ignore[operator]
    return False


def tag(op: SqlOp, *tags: str) -> SqlOp:
    return replace(op, tags=op.tags | frozenset(tags))
