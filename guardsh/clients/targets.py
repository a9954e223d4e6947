"""A typed statement as the analyzers see it, and the client's real target (pure).

A statement typed into `psql -h db-1 app` is analyzed as the shell line
`psql -h db-1 app <<'GUARDSH_EOF' ... GUARDSH_EOF`: the client's own
analyzer reads its argv, the session's variables (PGHOST, DATABASE_URL, the
service file, my.cnf) and the statement on stdin, exactly as it would for
`echo 'DROP TABLE users;' | psql -h db-1 app`. Database switches typed
earlier in the session (`\\c other`, `use other`, `.open f.db`, `SELECT 2`)
are replayed in front of the statement, so the analyzer follows them too.

The target without any statement comes from a probe: a statement that every
analyzer reports (`DROP TABLE guardsh_probe;`, `FLUSHALL`), analyzed and
never sent; its finding's target is where the client is connected.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from guardsh.clients.kinds import Kind
from guardsh.model import Facts, Snapshot, Target

TAG = "GUARDSH_EOF"


def heredoc_line(argv: Sequence[str], text: str) -> tuple[str, int]:
    """`argv <<'TAG'` + text: the shell line, and where `text` starts in it."""
    tag = TAG
    lines = set(text.splitlines())
    while tag in lines:
        tag += "_"
    head = " ".join(shlex.quote(a) for a in argv) + f" <<'{tag}'\n"
    return f"{head}{text}\n{tag}", len(head)


# tree-sitter-bash drops a heredoc's first lines when they start with a
# backslash (`\\c other`): a comment line first keeps them.
_FIRST = "-- guardsh\n"


def replay(switches: Sequence[str], pending: str, text: str) -> str:
    """What the client will have read when `text` runs."""
    head = "".join(s if s.endswith("\n") else s + "\n" for s in switches)
    body = head + pending + text
    return _FIRST + body if body.lstrip().startswith("\\") else body


def probe_target(
    kind: Kind, argv: Sequence[str], switches: Sequence[str], snapshot: Snapshot, facts: Facts
) -> Target | None:
    """Where the client is connected after `switches` (None: no analyzer says)."""
    from guardsh.pipeline import analyze_line

    line, start = heredoc_line(argv, replay(switches, "", kind.probe))
    try:
        findings, _ = analyze_line(line, snapshot, facts)
    except Exception:  # no target is an answer: the caller fails safe
        return None
    hits = [f for f in findings if f.target.kind == "db" and f.evidence.end > start]
    return hits[-1].target if hits else None


def switches_in(kind: Kind, text: str) -> list[str]:
    """The database switches in `text`, in order (`\\c other`, `use other`)."""
    return [m.group(0).strip() for m in kind.switches.finditer(text)]
