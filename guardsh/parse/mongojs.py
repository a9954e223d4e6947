"""Find destructive MongoDB shell calls in JavaScript text (mongosh, mongo).

Not a JavaScript parser: the tokens of jslex (comments dropped, string
literals kept as single tokens, so `print("db.dropDatabase()")` is inert), and
a walk over member chains that start at `db`, at a variable bound to a
database or collection, or at `connect()`/`Mongo().getDB()`. It follows
`use x`, `db = db.getSiblingDB('x')`, `const c = db.users` and `load('f.js')`.

Filters: a missing filter, `{}` and a few tautologies mean "every document";
any other filter is scoped. A filter that is a variable is scoped too but
tagged `unknown-filter` (its value is not resolved).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from guardsh.parse.jslex import OPEN, Tok, match_brackets, tokenize

# A script that names none of these cannot reach a database.
_ANY = re.compile(r"db|use|connect|Mongo|load")
# Filters that match every document, normalized (no spaces, quotes dropped).
_ALL_FILTERS = frozenset(
    {
        "",
        "{}",
        "{_id:{$exists:true}}",
        "{_id:{$ne:null}}",
        "{$expr:true}",
        "{$where:true}",
    }
)


@dataclass(frozen=True, slots=True)
class MongoOp:
    """One destructive call found in the script.

    kind: drop_database | drop | delete_all | delete | drop_other | shutdown
    | opaque (a `load()`ed file that could not be read).
    """

    kind: str
    db: str
    collection: str | None
    known: bool  # False when a database or collection name is an expression
    start: int
    end: int
    text: str  # the call as written, shortened
    tags: frozenset[str] = frozenset()
    high: bool = True  # for drop_other: dropAllUsers is high, dropIndex low


# Values a chain evaluates to.
@dataclass(frozen=True, slots=True)
class _Db:
    name: str
    known: bool = True


@dataclass(frozen=True, slots=True)
class _Coll:
    db: _Db
    name: str
    known: bool = True


@dataclass(frozen=True, slots=True)
class _Conn:
    pass


_Val = _Db | _Coll | _Conn | None

_DELETE_MANY = frozenset({"deleteMany", "remove"})
_DELETE_ONE = frozenset({"deleteOne", "findOneAndDelete", "findAndRemove"})
_DROP_OTHER_LOW = frozenset({"dropUser", "dropRole", "removeUser"})
_DROP_OTHER_HIGH = frozenset({"dropAllUsers", "dropAllRoles"})
_DECLARE = frozenset({"var", "let", "const"})
_LOADS = 16  # load() calls followed per scan, in all files together

Loader = Callable[[str], str | None]


class _Scan:
    """One pass over one script's tokens, appending to `ops`."""

    def __init__(
        self, js: str, db: _Db, load: Loader | None, budget: list[int], ops: list[MongoOp]
    ) -> None:
        self.js = js
        self.toks = tokenize(js)
        self.close = match_brackets(self.toks)
        self.env: dict[str, _Val] = {"db": db}
        self.load = load
        self.budget = budget  # shared: loads left, so a file loading itself ends
        self.ops = ops

    # -- helpers
    def _tok(self, i: int) -> Tok | None:
        return self.toks[i] if 0 <= i < len(self.toks) else None

    def _is(self, i: int, value: str) -> bool:
        t = self._tok(i)
        return t is not None and t.kind == "p" and t.value == value

    def _args(self, i: int) -> list[list[Tok]]:
        """Top-level comma-separated arguments of the call whose `(` is at i."""
        end = self.close[i]
        args: list[list[Tok]] = [[]]
        j = i + 1
        while j < end:
            t = self.toks[j]
            if t.kind == "p" and t.value == ",":
                args.append([])
                j += 1
                continue
            if t.kind == "p" and t.value in OPEN:
                k = self.close[j]
                args[-1].extend(self.toks[j : min(k + 1, end)])
                j = k + 1
                continue
            args[-1].append(t)
            j += 1
        if args == [[]]:
            return []
        return args

    def _str_arg(self, i: int) -> tuple[str, bool]:
        """The first argument of the call at `(` i: its string value, or its text."""
        args = self._args(i)
        if args and len(args[0]) == 1 and args[0][0].kind == "str":
            return args[0][0].value, True
        if not args or not args[0]:
            return "?", False
        a = args[0]
        return "<" + self.js[a[0].start : a[-1].end] + ">", False

    def _op(
        self,
        kind: str,
        val: _Db | _Coll,
        start: int,
        end_tok: int,
        *,
        tags: frozenset[str] = frozenset(),
        high: bool = True,
    ) -> None:
        end = self.toks[min(end_tok, len(self.toks) - 1)].end
        text = self.js[start:end]
        if len(text) > 80:
            text = text[:77] + "..."
        if isinstance(val, _Coll):
            db, coll, known = val.db.name, val.name, val.known and val.db.known
        else:
            db, coll, known = val.name, None, val.known
        self.ops.append(MongoOp(kind, db, coll, known, start, end, text, tags, high))

    # -- the walk
    def run(self) -> _Db:
        toks = self.toks
        n = len(toks)
        i = 0
        while i < n:
            t = toks[i]
            if t.kind == "use":
                self.env["db"] = _Db(t.value)
                i += 1
                continue
            if t.kind != "id" or (i > 0 and toks[i - 1].value in (".", "?.")):
                i += 1
                continue
            # `[var|let|const] NAME = <chain>`
            if self._is(i + 1, "=") and self._tok(i + 2) is not None:
                name = t.value
                val, j = self._chain(i + 2)
                if val is None:
                    if name == "db":
                        self.env["db"] = _Db("<db>", known=False)
                    else:
                        self.env.pop(name, None)
                else:
                    self.env[name] = val
                i = max(j, i + 2)
                continue
            if t.value in _DECLARE:
                i += 1
                continue
            _, j = self._chain(i)
            i = max(j, i + 1)
        db = self.env.get("db")
        return db if isinstance(db, _Db) else _Db("<db>", known=False)

    def _chain(self, i: int) -> tuple[_Val, int]:
        """Evaluate the member chain starting at token i; return (value, next index)."""
        toks = self.toks
        t = toks[i]
        start = t.start
        if t.kind != "id":
            return None, i
        name = t.value
        val: _Val
        if name == "new" and self._tok(i + 1) is not None:
            i += 1
            name = toks[i].value
        if name in self.env:
            val = self.env[name]
            i += 1
        elif name == "Mongo" and self._is(i + 1, "("):
            val = _Conn()
            i = self.close[i + 1] + 1
        elif name == "connect" and self._is(i + 1, "("):
            s, known = self._str_arg(i + 1)
            val = _Db(_db_from_address(s) if known else s, known)
            i = self.close[i + 1] + 1
        elif name == "load" and self._is(i + 1, "("):
            self._load(i + 1)
            return None, self.close[i + 1] + 1
        else:
            return None, i + 1
        while val is not None and i < len(toks):
            t = toks[i]
            if t.kind == "p" and t.value in (".", "?.") and self._tok(i + 1) is not None:
                m = toks[i + 1]
                if m.kind != "id":
                    return None, i + 1
                if self._is(i + 2, "("):
                    val = self._call(val, m.value, i + 2, start)
                    i = self.close[i + 2] + 1
                    continue
                if isinstance(val, _Db):
                    val = _Coll(val, m.value)
                elif isinstance(val, _Coll):
                    val = _Coll(val.db, f"{val.name}.{m.value}", val.known)
                else:
                    val = None
                i += 2
                continue
            if t.kind == "p" and t.value == "[" and isinstance(val, _Db | _Coll):
                k = self.close[i]
                inner = toks[i + 1 : k]
                if len(inner) == 1 and inner[0].kind == "str":
                    key, known = inner[0].value, True
                elif inner:
                    key, known = "<" + self.js[inner[0].start : inner[-1].end] + ">", False
                else:
                    key, known = "?", False
                if isinstance(val, _Db):
                    val = _Coll(val, key, known)
                else:
                    val = _Coll(val.db, f"{val.name}.{key}", val.known and known)
                i = k + 1
                continue
            break
        return val, i

    def _call(self, val: _Db | _Coll | _Conn, method: str, lp: int, start: int) -> _Val:
        """Apply `.method(...)` (its `(` at token lp) to val."""
        rp = self.close[lp]
        if isinstance(val, _Conn):
            if method in ("getDB", "getSiblingDB"):
                s, known = self._str_arg(lp)
                return _Db(s, known)
            return None
        if isinstance(val, _Db):
            if method in ("getSiblingDB", "getDB"):
                s, known = self._str_arg(lp)
                return _Db(s, known)
            if method == "getCollection":
                s, known = self._str_arg(lp)
                return _Coll(val, s, known)
            if method == "getMongo":
                return _Conn()
            if method == "dropDatabase":
                self._op("drop_database", val, start, rp)
            elif method in _DROP_OTHER_HIGH or method in _DROP_OTHER_LOW:
                self._op(
                    "drop_other",
                    val,
                    start,
                    rp,
                    high=method in _DROP_OTHER_HIGH,
                    tags=frozenset({method}),
                )
            elif method == "shutdownServer":
                self._op("shutdown", val, start, rp)
            elif method in ("runCommand", "adminCommand"):
                self._command(val, lp, start)
            return None
        # a collection
        args = self._args(lp)
        if method == "drop":
            self._op("drop", val, start, rp)
        elif method in _DELETE_MANY:
            one = (
                method == "remove"
                and len(args) > 1
                and _norm(args[1]) in ("true", "{justOne:true}")
            )
            self._filter_op(val, args, start, rp, one=one)
        elif method in _DELETE_ONE:
            self._filter_op(val, args, start, rp, one=True)
        elif method == "updateMany" or (
            method == "update" and len(args) > 2 and "multi:true" in _norm(args[2])
        ):
            if _is_all(args):
                self._op("delete_all", val, start, rp, tags=frozenset({"update"}))
        elif method in ("dropIndex", "dropIndexes"):
            self._op("drop_other", val, start, rp, high=False, tags=frozenset({"index"}))
        elif method == "bulkWrite" and args:
            flat = _norm(args[0])
            if "deleteMany:{filter:{}}" in flat:
                self._op("delete_all", val, start, rp, tags=frozenset({"bulk"}))
            elif "updateMany:{filter:{}" in flat:
                self._op("delete_all", val, start, rp, tags=frozenset({"bulk", "update"}))
        elif method == "renameCollection" and len(args) > 1 and _norm(args[1]) == "true":
            self._op("drop", val, start, rp, tags=frozenset({"rename-drop-target"}))
        return None

    def _filter_op(
        self, val: _Db | _Coll, args: list[list[Tok]], start: int, rp: int, *, one: bool
    ) -> None:
        if not one and _is_all(args):
            self._op("delete_all", val, start, rp)
            return
        tags = {"one"} if one else set()
        if args and len(args[0]) == 1 and args[0][0].kind == "id":
            tags.add("unknown-filter")
        self._op("delete", val, start, rp, tags=frozenset(tags))

    def _command(self, val: _Db | _Coll, lp: int, start: int) -> None:
        """db.runCommand({dropDatabase: 1}) and friends."""
        args = self._args(lp)
        if not args or not args[0] or args[0][0].value != "{" or len(args[0]) < 3:
            return
        key, value = args[0][1], args[0][3] if len(args[0]) > 3 else None
        rp = self.close[lp]
        cmd = key.value
        if not isinstance(val, _Db):
            return
        if cmd == "dropDatabase":
            self._op("drop_database", val, start, rp)
        elif cmd == "drop" and value is not None:
            known = value.kind == "str"
            self._op("drop", _Coll(val, value.value, known), start, rp)
        elif cmd == "shutdown":
            self._op("shutdown", val, start, rp)

    def _load(self, lp: int) -> None:
        path, known = self._str_arg(lp)
        rp = self.close[lp]
        db = self.env.get("db")
        dbv = db if isinstance(db, _Db) else _Db("<db>", known=False)
        text = None
        if known and self.load is not None and self.budget[0] > 0:
            self.budget[0] -= 1
            text = self.load(path)
        if text is None:
            start = self.toks[lp - 1].start
            self._op("opaque", dbv, start, rp, tags=frozenset({"load"}))
            return
        sub = _Scan(text, dbv, self.load, self.budget, self.ops)
        # The loaded file's ops carry offsets into its own text; point them at the call.
        before = len(self.ops)
        after_db = sub.run()
        call = self.toks[lp - 1].start, self.toks[min(rp, len(self.toks) - 1)].end
        for k in range(before, len(self.ops)):
            o = self.ops[k]
            self.ops[k] = MongoOp(
                o.kind,
                o.db,
                o.collection,
                o.known,
                call[0],
                call[1],
                o.text,
                o.tags | {"load"},
                o.high,
            )
        self.env["db"] = after_db


def _norm(toks: list[Tok]) -> str:
    """Tokens joined without spaces; strings lose their quotes."""
    return "".join(t.value for t in toks)


def _is_all(args: list[list[Tok]]) -> bool:
    return not args or _norm(args[0]) in _ALL_FILTERS


def _db_from_address(addr: str) -> str:
    """`connect('host:27017/app')` -> app; `connect('app')` -> app."""
    if "://" in addr:
        rest = addr.split("://", 1)[1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
        return path.split("?", 1)[0] or "test"
    if "/" in addr:
        return addr.rsplit("/", 1)[1] or "test"
    return addr or "test"


def scan(js: str, db: str = "test", load: Loader | None = None) -> tuple[list[MongoOp], str]:
    """Destructive calls in `js`, run against database `db` to start with.

    `load(path)` returns a loaded script's text or None (unreadable); it is
    how `load('x.js')` is followed without this module doing I/O. Returns the
    ops in order and the database `db` names at the end (for the next script).
    """
    if not _ANY.search(js):
        return [], db
    ops: list[MongoOp] = []
    end_db = _Scan(js, _Db(db), load, [_LOADS], ops).run()
    return ops, end_db.name
