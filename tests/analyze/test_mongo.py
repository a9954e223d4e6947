"""Unit tables for the mongosh/mongo analyzers and the JS scanner."""

from __future__ import annotations

import posixpath

import pytest

import guardsh.analyze.mongo  # noqa: F401  (registers the analyzers)
from guardsh.analyze.registry import Context
from guardsh.model import Facts, Finding, Invocation, Snapshot, Span, Stdin, Target
from guardsh.parse.jslex import tokenize
from guardsh.parse.mongojs import scan
from tests.analyze.support import brief, findings, spaced_words

LOCAL = Target("local", (("hostname", "db-1"),))
KUBE = Target("kube", (("kube_context", "prod-eu"), ("kube_namespace", "data")))


def run(
    line: str,
    *,
    target: Target = LOCAL,
    stdin: str | None = None,
    stdin_unknown: bool = False,
    files: dict[str, str] | None = None,
    cwd: str | None = None,
) -> list[Finding]:
    argv = tuple(spaced_words(line))
    if stdin_unknown:
        st: Stdin | None = Stdin(None, "pipe")
    else:
        st = Stdin(stdin, "heredoc") if stdin is not None else None
    inv = Invocation(
        program=posixpath.basename(argv[0].value),
        argv=argv,
        span=Span(0, len(line)),
        target=target,
        stdin=st,
        cwd=cwd,
    )
    ctx = Context(
        line=line,
        snapshot=Snapshot(cwd="/srv/app"),
        facts=Facts(read_file=(files or {}).get),
        recurse_shell=lambda text, tgt, span: [],
    )
    return findings(inv, ctx)


H, L = "high", "low"

FIRING = [
    ("mongosh --eval 'db.dropDatabase()'", [("mongo.drop_database", "test", H)]),
    ("mongosh app --eval 'db.dropDatabase()'", [("mongo.drop_database", "app", H)]),
    ("mongo app --eval 'db.users.drop()'", [("mongo.drop", "app.users", H)]),
    ("mongosh app --eval \"db.getCollection('a-b').drop()\"", [("mongo.drop", "app.a-b", H)]),
    ("mongosh app --eval 'db.system.profile.drop()'", [("mongo.drop", "app.system.profile", H)]),
    ("mongosh app --eval 'db.users.deleteMany({})'", [("mongo.delete_all", "app.users", H)]),
    ("mongosh app --eval 'db.users.deleteMany()'", [("mongo.delete_all", "app.users", H)]),
    ("mongosh app --eval 'db.users.remove({ })'", [("mongo.delete_all", "app.users", H)]),
    (
        "mongosh app --eval 'db.users.updateMany({}, {$set: {x: 1}})'",
        [("mongo.delete_all", "app.users", H)],
    ),
    (
        "mongosh app --eval 'db.users.deleteMany({_id: {$exists: true}})'",
        [("mongo.delete_all", "app.users", H)],
    ),
    ("mongosh app --eval 'db.users.deleteMany({age: 3})'", [("mongo.delete", "app.users", L)]),
    ("mongosh app --eval 'db.users.deleteOne({})'", [("mongo.delete", "app.users", L)]),
    (
        "mongosh app --eval \"db.getSiblingDB('billing').dropDatabase()\"",
        [("mongo.drop_database", "billing", H)],
    ),
    (
        "mongosh app --eval \"db = db.getSiblingDB('billing'); db.invoices.drop()\"",
        [("mongo.drop", "billing.invoices", H)],
    ),
    (
        "mongosh --eval 'use billing' --eval 'db.dropDatabase()'",
        [("mongo.drop_database", "billing", H)],
    ),
    (
        "mongosh mongodb://u:p@h:27017/shop --eval 'db.dropDatabase()'",
        [("mongo.drop_database", "shop", H)],
    ),
    ("mongosh host:27018/shop --eval 'db.orders.drop()'", [("mongo.drop", "shop.orders", H)]),
    ("mongosh --eval 'db.runCommand({dropDatabase: 1})' app", [("mongo.drop_database", "app", H)]),
    ("mongosh app --eval 'db.users.dropIndexes()'", [("mongo.drop_other", "app.users", L)]),
    ("mongosh app --eval 'db.dropAllUsers()'", [("mongo.drop_other", "app users/roles", H)]),
    ("mongosh admin --eval 'db.shutdownServer()'", [("mongo.shutdown", "admin", H)]),
    ("mongosh app gone.js", [("shell.opaque", "gone.js", L)]),
    ("mongosh app --eval $JS", [("shell.opaque", "$JS", L)]),
    ("mongorestore --drop --db app /srv/dump/app", [("mongo.drop", "app.*", H)]),
    (
        "mongorestore --drop --nsInclude 'app.users' --uri mongodb://h/app dump/",
        [("mongo.drop", "app.users", H)],
    ),
    ("mongorestore --drop dump/", [("mongo.drop", "*.*", H)]),
    ("mongoimport --drop -d app -c users --file users.json", [("mongo.drop", "app.users", H)]),
    ("mongoimport --drop --db app /srv/data/people.json", [("mongo.drop", "app.people", H)]),
    (
        "mongoimport --file /srv/app/file.json --mode delete --upsertFields 'a,b' -c t",
        [("mongo.delete", "test.t", L)],
    ),
]

QUIET = [
    "mongosh",
    "mongo --host web-1.example.internal --port 8080 appdb",
    "mongosh --eval 'JSON.stringify(db.foo.findOne())' appdb",
    "mongosh app --eval 'db.users.find({}).count()'",
    "mongosh app --eval 'print(\"db.dropDatabase()\")'",
    "mongosh app --eval '// db.users.drop()\ndb.users.stats()'",
    "mongosh app --eval 'db.users.updateMany({a: 1}, {$set: {b: 2}})'",
    "mongosh app --eval 'db.users.insertMany([{}, {}])'",
    "mongosh app --eval 'db.getCollectionNames()'",
    "mongodump --db appdb",
    "mongorestore --db appdb /srv/app/directory",
    "mongoimport --type csv --file /srv/app/file.csv --db appdb --collection myapp",
    "mongosh --help",
]


@pytest.mark.parametrize(("line", "expected"), FIRING)
def test_fires(line: str, expected: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == expected


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_uri_target_drops_credentials() -> None:
    uri = "mongodb://admin:s3cret@m1:27017,m2:27017/shop?replicaSet=rs0"
    line = f"mongosh '{uri}' --eval 'db.x.drop()'"
    (f,) = run(line)
    t = f.target
    assert (t.get("db_engine"), t.get("db_host"), t.get("db_port"), t.get("db_name")) == (
        "mongodb",
        "m1",
        "27017",
        "shop",
    )
    assert t.get("db_url") == "mongodb://m1:27017,m2:27017/shop?replicaSet=rs0"
    assert "s3cret" not in repr(t)


def test_srv_uri_has_no_port() -> None:
    (f,) = run(
        "mongosh 'mongodb+srv://u:p@cluster0.abc.mongodb.net/app' --eval 'db.dropDatabase()'"
    )
    assert f.target.get("db_host") == "cluster0.abc.mongodb.net"
    assert f.target.get("db_port") is None
    assert f.target.get("db_url") == "mongodb+srv://cluster0.abc.mongodb.net/app"


def test_host_and_port_options() -> None:
    (f,) = run("mongosh --host rs0/m1:27017,m2:27017 --port 27019 app --eval 'db.a.drop()'")
    assert (f.target.get("db_host"), f.target.get("db_port"), f.target.get("db_name")) == (
        "m1",
        "27019",
        "app",
    )


def test_bare_password_flag_does_not_eat_next_option() -> None:
    (f,) = run("mongosh -u admin -p --eval 'db.dropDatabase()' app")
    assert (f.object, f.target.get("db_name")) == ("app", "app")


def test_sibling_db_sets_finding_db_name() -> None:
    (f,) = run("mongosh app --eval \"db.getSiblingDB('billing').dropDatabase()\"")
    assert f.target.get("db_name") == "billing"


def test_local_server_keeps_remote_context() -> None:
    (f,) = run("mongosh --eval 'db.dropDatabase()'", target=KUBE)
    assert f.target.get("kube_context") == "prod-eu"
    assert f.target.get("db_host") == "localhost"
    (g,) = run("mongosh db.prod.internal/app --eval 'db.dropDatabase()'", target=KUBE)
    assert g.target.get("kube_context") is None
    assert g.target.get("db_host") == "db.prod.internal"


def test_script_file_resolved_against_cwd() -> None:
    files = {"/srv/app/cleanup.js": "use shop\ndb.carts.deleteMany({})\n"}
    assert brief(run("mongosh cleanup.js", files=files)) == [("mongo.delete_all", "shop.carts", H)]
    files = {"/work/x.js": "db.a.drop()"}
    assert brief(run("mongosh app x.js", files=files, cwd="/work")) == [("mongo.drop", "app.a", H)]
    assert brief(run("mongosh -f /work/x.js app", files=files)) == [("mongo.drop", "app.a", H)]


def test_stdin_script() -> None:
    fs = run("mongosh app", stdin="use logs\ndb.events.remove({})\n")
    assert brief(fs) == [("mongo.delete_all", "logs.events", H)]


def test_stdin_unknown_is_opaque() -> None:
    assert brief(run("mongosh app", stdin_unknown=True)) == [("shell.opaque", "script on stdin", L)]


def test_stdin_ignored_with_eval() -> None:
    assert run("mongosh app --eval 'db.a.find()'", stdin="db.dropDatabase()") == []


def test_unknown_collection_is_flagged() -> None:
    line = "mongosh app --eval 'db.getCollectionNames().forEach(c => db[c].drop())'"
    (f,) = run(line)
    assert (f.action, f.object, "unknown-object" in f.tags) == ("mongo.drop", "app.<c>", True)


def test_load_follows_files() -> None:
    files = {"/srv/app/a.js": "load('b.js')", "/srv/app/b.js": "db.q.drop()"}
    (f,) = run("mongosh app a.js", files=files)
    assert (f.action, f.object, "load" in f.tags) == ("mongo.drop", "app.q", True)
    (g,) = run("mongosh app --eval \"load('missing.js')\"")
    assert (g.action, str(g.severity)) == ("shell.opaque", "low")


# ---------------------------------------------------------------- the JS scanner


def ops(js: str, db: str = "app") -> list[tuple[str, str, str | None]]:
    return [(o.kind, o.db, o.collection) for o in scan(js, db)[0]]


SCAN = [
    ("db.dropDatabase()", [("drop_database", "app", None)]),
    ("db.users?.drop()", [("drop", "app", "users")]),
    ("db['users'].drop()", [("drop", "app", "users")]),
    ("db.getSiblingDB('x').getCollection('y').drop()", [("drop", "x", "y")]),
    ("db.getMongo().getDB('x').dropDatabase()", [("drop_database", "x", None)]),
    ("new Mongo('h:1').getDB('x').y.drop()", [("drop", "x", "y")]),
    ("const d = connect('h:27017/shop'); d.carts.drop()", [("drop", "shop", "carts")]),
    ("var c = db.users; c.deleteMany({})", [("delete_all", "app", "users")]),
    ("let o = db.getSiblingDB('o'); o.dropDatabase()", [("drop_database", "o", None)]),
    ("use other\ndb.x.drop()", [("drop", "other", "x")]),
    ("db.users.remove({}, {justOne: true})", [("delete", "app", "users")]),
    ("db.users.findOneAndDelete({a: 1})", [("delete", "app", "users")]),
    ("db.users.bulkWrite([{deleteMany: {filter: {}}}])", [("delete_all", "app", "users")]),
    ("db.users.renameCollection('old', true)", [("drop", "app", "users")]),
    ("printjson(db.users.deleteMany({}))", [("delete_all", "app", "users")]),
    ("x = y / 2; z = /a'b/; db.t.drop()", [("drop", "app", "t")]),
    ("'use x'\ndb.a.drop()", [("drop", "app", "a")]),
    ("/* db.a.drop() */", []),
    ("// db.a.drop()", []),
    ("`db.a.drop()`", []),
    ("db.users.update({}, {$set: {a: 1}})", []),
    ("db.users.find({}).forEach(d => print(d))", []),
    ("users.drop()", []),
    ("var username = 'x'; print(username)", []),
]


@pytest.mark.parametrize(("js", "expected"), SCAN)
def test_scan(js: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert ops(js) == expected


def test_scan_returns_final_db() -> None:
    assert scan("use a\nuse b\n", "test")[1] == "b"
    assert scan("print(1)", "keep")[1] == "keep"


def test_tokenize_drops_comments_keeps_strings() -> None:
    toks = tokenize("a /* x */ 'b\\'c' // d\n")
    assert [(t.kind, t.value) for t in toks] == [("id", "a"), ("str", "b'c")]


def test_scan_is_linear_enough() -> None:
    js = "db.users.find({a: 1});\n" * 5000 + "db.users.drop()\n"
    assert ops(js) == [("drop", "app", "users")]


def test_unknown_address_is_not_a_database_name() -> None:
    (f,) = run("mongosh $MONGO_URL --eval 'db.dropDatabase()'")
    assert (f.target.get("db_host"), f.target.get("hostname")) == ("$MONGO_URL", None)
    assert f.object == "test"
