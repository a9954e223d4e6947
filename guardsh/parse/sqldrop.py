"""DROP in every dialect's forms, each naming its object the way the form does.

Most forms are `DROP kind [IF EXISTS] name [, ...] [CASCADE]`. Some name
their object otherwise, and a name walk would report a keyword:

    DROP USER MAPPING FOR bob SERVER s           -> bob@s
    DROP TRANSFORM FOR int LANGUAGE plpgsql      -> int
    DROP CAST (bigint AS int4)                   -> bigint AS int4
    DROP OPERATOR ^ (integer, integer)           -> ^
    DROP TRIGGER t ON tab, DROP INDEX i ON t     -> tab.t, t.i
    DROP DICTIONARY d ON CLUSTER c (ClickHouse)  -> d

A bare DROP (`TRUNCATE t; DROP`) is an incomplete statement: a drop of an
unknown object, never an error. Importing this module registers the handler
in sqlverbs.VERBS.
"""

from __future__ import annotations

from collections.abc import Callable

from guardsh.parse.sqlstmt import HIGH, LOW, SqlOp, Stmt
from guardsh.parse.sqlverbs import verb

# DROP kinds: keyword sequence -> action; longest sequences first.
_KINDS: list[tuple[tuple[str, ...], str]] = sorted(
    (
        (tuple(k.split()), a)
        for k, a in {
            "DATABASE": "sql.drop_database",
            "SCHEMA": "sql.drop_schema",
            "TABLE": "sql.drop_table",
            "TEMPORARY TABLE": "sql.drop_table",
            "TEMP TABLE": "sql.drop_table",
            "OWNED BY": "sql.drop_schema",
            "MATERIALIZED VIEW": "sql.drop_other",
            "FOREIGN TABLE": "sql.drop_other",
            "FOREIGN DATA WRAPPER": "sql.drop_other",
            "EVENT TRIGGER": "sql.drop_other",
            "ACCESS METHOD": "sql.drop_other",
            "USER MAPPING": "sql.drop_other",
            "TEXT SEARCH CONFIGURATION": "sql.drop_other",
            "TEXT SEARCH DICTIONARY": "sql.drop_other",
            "TEXT SEARCH PARSER": "sql.drop_other",
            "TEXT SEARCH TEMPLATE": "sql.drop_other",
            "OPERATOR CLASS": "sql.drop_other",
            "OPERATOR FAMILY": "sql.drop_other",
            "PROCEDURAL LANGUAGE": "sql.drop_other",
            # MySQL
            "SPATIAL REFERENCE SYSTEM": "sql.drop_other",
            "RESOURCE GROUP": "sql.drop_other",
            "LOGFILE GROUP": "sql.drop_other",
            "UNDO TABLESPACE": "sql.drop_other",
            # ClickHouse
            "ROW POLICY": "sql.drop_other",
            "SETTINGS PROFILE": "sql.drop_other",
            "NAMED COLLECTION": "sql.drop_other",
        }.items()
    ),
    key=lambda kv: -len(kv[0]),
)
# Other objects whose drop is high even without CASCADE: who may log in, where
# data lives, what replicates it.
_HIGH = frozenset(
    {"USER", "ROLE", "GROUP", "TABLESPACE", "UNDO TABLESPACE", "EXTENSION", "SERVER"}
    | {"PUBLICATION", "SUBSCRIPTION", "DICTIONARY", "REPLICA"}
)
# `DROP USER MAPPING FOR <role>`: the role can be one of these keywords.
_ROLE_WORDS = frozenset({"USER", "CURRENT_ROLE", "CURRENT_USER", "SESSION_USER", "PUBLIC"})

Objects = Callable[[Stmt, int, int], tuple[list[str], int, str]]


@verb("DROP")
def drop(st: Stmt, i: int, end: int) -> list[SqlOp]:
    j = i + 1
    kind: tuple[str, ...] = ()
    action = "sql.drop_other"
    for words, act in _KINDS:
        if all(st.w(j + n) == w for n, w in enumerate(words)):
            kind, action = words, act
            break
    if not kind:
        if j >= end or st.toks[j].kind != "word":
            # `DROP` with no object kind (`TRUNCATE t; DROP`, `DROP -- x`): an
            # incomplete statement; what it would drop cannot be known.
            detail = st.src(i, end) or "DROP"
            return [
                st.op("sql.drop_other", ["?"], LOW, i, end, detail, "incomplete", "unknown-object")
            ]
        kind = (st.w(j),)
    j += len(kind)
    j = st.skip(j, "CONCURRENTLY")
    if st.w(j) == "IF" and st.w(j + 1) in ("EXISTS", "EMPTY"):  # EMPTY: ClickHouse
        j += 2
    kind_s = " ".join(kind)
    objs, k, extra = _OBJECTS.get(kind_s, _names)(st, j, end)
    if st.w(k) == "ON" and st.w(k + 1) != "CLUSTER" and action == "sql.drop_other":
        on, _ = st.name(k + 1)  # DROP INDEX i ON t, DROP TRIGGER t ON x, DROP POLICY p ON t
        objs = [f"{on}.{o}" if on else o for o in objs]
    objs = list(dict.fromkeys(objs))  # DROP FUNCTION f(int), f(text): one f
    cascade = st.find("CASCADE", k, end) >= 0
    if kind == ("SCHEMA",) and st.d.name == "mysql":
        action = "sql.drop_database"  # a schema is a database in MySQL
    tags = ["cascade"] if cascade else []
    if action == "sql.drop_other":
        sev = HIGH if cascade or kind_s in _HIGH else LOW
        tags.append(kind_s.lower().replace(" ", "-"))
    else:
        sev = HIGH
    if kind == ("OWNED", "BY"):
        tags.append("owned-by")
    detail = f"DROP {kind_s} {', '.join(objs)}{extra}" + (" CASCADE" if cascade else "")
    return [st.op(action, objs, sev, i, end, detail, *tags)]


def _names(st: Stmt, j: int, end: int) -> tuple[list[str], int, str]:
    """`name [(signature)] [, ...]`; a number where a name is due (MySQL's
    `DROP SPATIAL REFERENCE SYSTEM 4120`) is the name."""
    objs, k = st.names(j, end)
    if not objs and j < end and st.toks[j].kind == "num":
        return [st.toks[j].up], j + 1, ""
    return objs, k, ""


def _user_mapping(st: Stmt, j: int, end: int) -> tuple[list[str], int, str]:
    """`FOR role SERVER server` -> role@server."""
    j = st.skip(j, "FOR")
    if j >= end:
        return [], j, ""
    t = st.toks[j]
    who = t.up.lower() if t.kind == "word" and t.up in _ROLE_WORDS else st.ident(j)
    k = j + 1
    server = st.ident(k + 1) if st.w(k) == "SERVER" else None
    if server is not None:
        k += 2
    if who is None:
        return [], j, ""
    return [f"{who}@{server}" if server else who], k, ""


def _transform(st: Stmt, j: int, end: int) -> tuple[list[str], int, str]:
    """`FOR type LANGUAGE lang` -> the type (`double precision` included)."""
    j = st.skip(j, "FOR")
    k = st.find("LANGUAGE", j, end)
    stop = end if k < 0 else k
    stop = _before_option(st, j, stop)
    typ = st.src(j, stop)
    if k < 0:
        return ([typ] if typ else []), stop, ""
    lang = st.ident(k + 1)
    return ([typ] if typ else []), k + 2, f" (LANGUAGE {lang})" if lang else ""


def _cast(st: Stmt, j: int, end: int) -> tuple[list[str], int, str]:
    """`(source AS target)` -> `source AS target`."""
    if st.w(j) != "(":
        return [], j, ""
    c = st.close[j]
    inner = st.src(j + 1, c)
    return ([inner] if inner else []), c + 1, ""


def _operators(st: Stmt, j: int, end: int) -> tuple[list[str], int, str]:
    """`op (left, right) [, ...]` -> each operator as written (`^`, `public.===`)."""
    objs: list[str] = []
    k = j
    while k < end:
        a = k
        while k < end and st.w(k) not in ("(", ",", "CASCADE", "RESTRICT"):
            k += 1
        if k > a:
            objs.append(st.text[st.toks[a].start : st.toks[k - 1].end])
        if st.w(k) == "(":
            k = st.close[k] + 1
        if st.w(k) != ",":
            break
        k += 1
    return objs, k, ""


def _before_option(st: Stmt, a: int, b: int) -> int:
    """The end of [a, b) without a trailing CASCADE/RESTRICT."""
    while b > a and st.w(b - 1) in ("CASCADE", "RESTRICT"):
        b -= 1
    return b


_OBJECTS: dict[str, Objects] = {
    "USER MAPPING": _user_mapping,
    "TRANSFORM": _transform,
    "CAST": _cast,
    "OPERATOR": _operators,
}
