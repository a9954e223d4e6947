"""The interactive database clients guardsh can guard, and how each is tamed.

guardsh must see each line before the client does, so the client's own line
editor has to be off and the pseudo-terminal left in canonical (cooked) mode:

- psql: `-n` (no readline). Prompts are its own.
- mysql/mariadb: libedit's `edit off` through an `EDITRC` file of guardsh's
  (Debian's clients are built with libedit; the prompt stays the client's).
- sqlite3: it has no switch for readline, so it runs with `-batch`: it reads
  lines and prints no prompt; guardsh shows `sqlite> ` and learns that a
  statement has finished from a `.print` mark sent after it.
- redis-cli: linenoise falls back to plain line reading for `TERM=dumb`.
- mongosh: its Node REPL puts a terminal in raw mode, so it reads lines from a
  pipe (its output still goes to the pty, where it prints its prompt and
  echoes each line; the echo is dropped). Tested with `--nodb` only: no
  MongoDB server can be installed here.

`interactive()` says whether an invocation is an interactive session at all
(no `-c`, `-f`, command words, or stdin): the others are analyzed at the shell
prompt like any command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from guardsh.model import Invocation
from guardsh.parse.argv import parse_argv


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # psql | mysql | sqlite | redis | mongo (also the statement grammar)
    programs: frozenset[str]
    mode: str  # "prompt": the client prints its prompts; "batch": guardsh shows `prompt`
    probe: str  # a statement every analyzer reports: how guardsh learns the target
    flags: tuple[str, ...] = ()  # inserted after the program word
    env: Mapping[str, str] = field(default_factory=dict)
    prompt: str = ""  # batch mode's prompt
    errors: re.Pattern[str] = re.compile(r"^(?:ERROR|Error|FATAL)\b", re.M)
    # a line the client prints when a database switch did not happen
    switch_failed: re.Pattern[str] | None = None
    # client commands that change the database for what follows
    switches: re.Pattern[str] = re.compile(r"(?!)")
    # commands whose text runs without guardsh seeing it (an external editor)
    blind: re.Pattern[str] = re.compile(r"(?!)")
    # client commands that set a variable later statements use (psql `\set t users`
    # for `DROP TABLE :t;`): group 1 the command, group 2 the variable's name
    settings: re.Pattern[str] = re.compile(r"(?!)")

    stdin_pipe: bool = False  # lines arrive on a pipe (the client would go raw on a tty)
    echoes: bool = False  # the client prints each line it reads (mongosh)
    password: re.Pattern[str] | None = None  # a prompt for a secret read as a line

    def ready_line(self, mark: str) -> str | None:
        """Batch mode: a line the client answers by printing `mark`."""
        return f".print {mark}" if self.name == "sqlite" else None


PSQL = Kind(
    "psql",
    frozenset({"psql"}),
    "prompt",
    "DROP TABLE guardsh_probe;",
    flags=("-n",),
    errors=re.compile(r"^(?:ERROR|FATAL|PANIC):", re.M),
    switch_failed=re.compile(r"Previous connection kept"),
    switches=re.compile(r"^\s*\\(?:c|connect)\b.*$", re.M),
    blind=re.compile(r"\\(?:e|edit|ef|ev)\b"),
    settings=re.compile(r"(?m)^\s*\\(set|unset)[ \t]+([A-Za-z0-9_]+).*$"),
)
MYSQL = Kind(
    "mysql",
    frozenset({"mysql", "mariadb"}),
    "prompt",
    "DROP TABLE guardsh_probe;",
    errors=re.compile(r"^ERROR \d+", re.M),
    switch_failed=re.compile(r"^ERROR (?:1044|1049|2002|2003|2005)\b", re.M),
    switches=re.compile(r"(?im)^\s*(?:use|connect|\\u|\\r)\b[^;\n]*;?"),
    blind=re.compile(r"(?im)^\s*(?:edit\b|\\e\b)"),
)
SQLITE = Kind(
    "sqlite",
    frozenset({"sqlite3", "sqlite"}),
    "batch",
    "DROP TABLE guardsh_probe;",
    flags=("-batch",),
    prompt="sqlite> ",
    errors=re.compile(r"^(?:Parse error|Runtime error|Error)\b", re.M),
    switch_failed=re.compile(r"^Error: unable to open database", re.M),
    switches=re.compile(r"(?m)^\s*\.open\b.*$"),
    blind=re.compile(r"(?m)^\s*\.(?:edit|excel|once\s+-[ex])\b"),
)
REDIS = Kind(
    "redis",
    frozenset({"redis-cli", "valkey-cli", "keydb-cli"}),
    "prompt",
    "FLUSHALL",
    env={"TERM": "dumb"},
    errors=re.compile(r"^\(error\)", re.M),
    switch_failed=re.compile(r"^\(error\) ERR (?:DB index|invalid DB)", re.M),
    switches=re.compile(r"(?im)^\s*select\s+\d+\s*$"),
)
MONGO = Kind(
    "mongo",
    frozenset({"mongosh", "mongo"}),
    "prompt",
    "db.dropDatabase()",
    stdin_pipe=True,
    echoes=True,
    password=re.compile(r"(?i)password:\s*$"),
    errors=re.compile(r"^(?:MongoServerError|Uncaught|SyntaxError)", re.M),
    switches=re.compile(r"(?m)^\s*use\s+\S+\s*;?\s*$"),
)
KINDS = (PSQL, MYSQL, SQLITE, REDIS, MONGO)
BY_PROGRAM = {p: k for k in KINDS for p in k.programs}


def kind_of(program: str) -> Kind | None:
    return BY_PROGRAM.get(program)


# ---------------------------------------------------------------- interactivity
# Option grammars: only what it takes to find the words that make a session
# non-interactive, and to skip option values.
_PSQL_SHORT = "cdfFhLopPRTUv"
_PSQL_LONG = frozenset(
    {"command", "dbname", "file", "field-separator", "host", "log-file", "output", "port",
     "pset", "record-separator", "table-attr", "username", "set", "variable"}
)  # fmt: skip
_MYSQL_SHORT = "eDhPuSO"
_MYSQL_LONG = frozenset(
    {"execute", "database", "host", "port", "user", "socket", "defaults-file",
     "defaults-extra-file", "init-command", "protocol", "default-character-set", "delimiter",
     "pager", "prompt", "tee", "login-path", "connect-timeout"}
)  # fmt: skip
_REDIS_SHORT = "hpsaurindDX"
_REDIS_LONG = frozenset(
    {"user", "pass", "sni", "cacert", "cacertdir", "cert", "key", "tls-ciphers",
     "tls-ciphersuites", "show-pushes", "pattern", "count", "quoted-pattern", "eval",
     "cluster", "rdb", "functions-rdb", "pipe-timeout", "memkeys-samples", "lru-test",
     "intrinsic-latency"}
)  # fmt: skip
_REDIS_MODES = (
    "--scan", "--bigkeys", "--memkeys", "--hotkeys", "--stat", "--latency", "--latency-history",
    "--latency-dist", "--rdb", "--functions-rdb", "--replica", "--lru-test", "--pipe",
    "--intrinsic-latency", "--help", "--version", "--eval", "--cluster", "-v",
)  # fmt: skip
_MONGO_LONG = frozenset(
    {"eval", "file", "host", "port", "username", "password", "authenticationDatabase",
     "authenticationMechanism", "apiVersion", "tlsCAFile", "tlsCertificateKeyFile"}
)  # fmt: skip


def interactive(inv: Invocation) -> bool:
    """True when `inv` starts an interactive session of a known client."""
    kind = kind_of(inv.program)
    if kind is None or inv.stdin is not None:
        return False
    if any(r.op in ("<", "<>") or (r.fd == 0) for r in inv.redirects):
        return False
    args = inv.args
    if kind is PSQL:
        p = parse_argv(args, short_value=_PSQL_SHORT, long_value=_PSQL_LONG)
        batch = (
            "-c",
            "--command",
            "-f",
            "--file",
            "-l",
            "--list",
            "-V",
            "--version",
            "-?",
            "--help",
        )
        return not p.has(*batch)
    if kind is MYSQL:
        args = tuple(w for w in args if not w.value.startswith("-p"))  # -pSECRET
        p = parse_argv(args, short_value=_MYSQL_SHORT, long_value=_MYSQL_LONG)
        return not p.has("-e", "--execute", "-V", "--version", "-?", "--help", "-B", "--batch")
    if kind is SQLITE:
        values = {"-cmd", "-init", "-separator", "-newline", "-nullvalue", "-vfs", "-maxsize",
                  "-mmap", "-lookaside", "-pagecache", "-heap", "-nonce", "-A"}  # fmt: skip
        skip = {i + 1 for i, w in enumerate(args) if w.value.lstrip("-") in {v[1:] for v in values}}
        sql = [w for i, w in enumerate(args) if not w.value.startswith("-") and i not in skip]
        flags = {w.value.lstrip("-") for w in args}
        return len(sql) <= 1 and not flags & {"version", "help", "batch", "A"}
    if kind is REDIS:
        p = parse_argv(args, short_value=_REDIS_SHORT, long_value=_REDIS_LONG, stop_at_operand=True)
        return not p.operands and not p.has(*_REDIS_MODES)
    p = parse_argv(args, short_value="upf", long_value=_MONGO_LONG)
    files = [w for w in p.operands if w.value.endswith(".js")]
    return not files and not p.has("--eval", "-f", "--file", "--help", "-h", "--version")
