"""The commonest statement shapes, classified without a token walk.

A dense file of one statement per line (10,000 seed INSERTs, 10,000 scoped
UPDATEs) spends its time tokenizing: ~0.4 µs a token is 50 ms for a file
of short statements. These shapes are recognized by one anchored regex on
the masked statement instead, and give exactly the operation the token walk
gives (tests/parse compares the two):

    INSERT|REPLACE|UPSERT INTO name ...
    UPDATE name SET <no parentheses> WHERE column op literal [AND ...]
    DELETE FROM name WHERE column op literal [AND ...]

`op` is a comparison and `literal` a number or a string, so the condition
can never be always true. Anything else (a quoted name, an alias, a
parenthesis in the SET list, OR, RETURNING, LIMIT, ...) returns None and
takes the token walk.
"""

from __future__ import annotations

import re

from guardsh.parse.sqlstmt import DYN, LOW, SqlOp, src_text

# A plain, possibly qualified name; not one of the words the token walk skips
# before a name (`INSERT INTO TABLE t`, `UPDATE LOW_PRIORITY t SET`).
_NAME = (
    r"(?!(?:ONLY|INTO|OVERWRITE|TABLE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE|QUICK|OR"
    r"|FROM|SET|WHERE)(?![\w$]))"
    r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)*(?![\w$.])"
)
_COND = r"[A-Za-z_][\w$.]*\s*(?:<>|!=|<=|>=|=|<|>)\s*(?:\d+(?:\.\d+)?(?![\w.])|'_*')"
_WHERE = rf"\s+WHERE\s+(?P<cond>{_COND}(?:\s+AND\s+{_COND})*)\s*\Z"
_INSERT = re.compile(rf"(?i)\s*(INSERT|REPLACE|UPSERT)\s+INTO\s+({_NAME})(?!\s*[.*@])")
_UPDATE = re.compile(rf"(?i)\s*(UPDATE)\s+({_NAME})\s+SET\s+([^()]*?){_WHERE}")
_DELETE = re.compile(rf"(?i)\s*(DELETE)\s+FROM\s+({_NAME}){_WHERE}")
_UPSERT = re.compile(r"(?i)\bON\s+(?:CONFLICT|DUPLICATE\s+KEY)\b[^;]*\bUPDATE\b")
_WHERE_WORD = re.compile(r"(?i)\bWHERE\b")
SHAPES = frozenset({"INSERT", "REPLACE", "UPSERT", "UPDATE", "DELETE"})
_NONE: frozenset[str] = frozenset()
_REPLACE = frozenset({"replace"})
_UPSERT_TAG = frozenset({"upsert"})


def fast(
    text: str,
    masked: str,
    s: int,
    e: int,
    first: str,
    upserts: bool = True,
    secrets: bool = True,
) -> SqlOp | None:
    """The operation of statement [s, e) when it has a simple shape, else None.

    first: the statement's first word, upper-cased (one of SHAPES). The
    caller checks once for the whole text whether it holds an ON CONFLICT /
    ON DUPLICATE KEY (`upserts`) or a PASSWORD / IDENTIFIED (`secrets`,
    blanked in details); False skips that work for each statement.
    """
    if first == "UPDATE":
        m = _UPDATE.match(masked, s, e)
        if m is None or _WHERE_WORD.search(m.group(3)):
            return None
    elif first == "DELETE":
        m = _DELETE.match(masked, s, e)
    else:
        m = _INSERT.match(masked, s, e)
    if m is None:
        return None
    name = m.group(2)
    if DYN in name:
        return None
    start = m.start(1)
    if first == "UPDATE" or first == "DELETE":
        end = m.end("cond")
        if end - start <= 100 and not secrets:
            detail = " ".join(text[start:end].split())  # what src_text gives, for less
        else:
            detail = src_text(text, start, end)
        action = "sql.update" if first == "UPDATE" else "sql.delete"
        return SqlOp(action, (name,), LOW, start, end, detail)
    end = start + len(masked[start:e].rstrip())
    tags = _REPLACE if first == "REPLACE" else _NONE
    if upserts and _UPSERT.search(masked, start, e):
        tags = tags | _UPSERT_TAG
    return SqlOp("sql.write", (name,), LOW, start, end, f"{first} INTO {name}", tags)
