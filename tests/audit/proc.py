"""Child processes for the audit tests: real writers and senders.

    python -m tests.audit.proc write PATH N TAG [--collector SOCK] [--queue DIR]
                                                [--fsync] [--syslog] [--result]

prints one line per record: the number `intent()` returned (a seq, or < 0 when queued).
"""

from __future__ import annotations

import argparse
import sys

from guardsh.audit import Session, open_log
from guardsh.model import Decision, Finding, Requirement, Severity, Span, Target, Verdict


def make_decision(
    line: str,
    *,
    env: str | None = "production",
    action: str = "fs.delete_recursive",
    obj: str = "/srv/data",
    severity: Severity = Severity.HIGH,
    requirement: Requirement = Requirement.CONFIRM,
    rules: tuple[str, ...] = ("prod-destructive",),
) -> Decision:
    finding = Finding(
        action,
        obj,
        severity,
        Target("local", (("hostname", "db-1"),)),
        Span(0, len(line)),
        environment=env,
    )
    return Decision(
        line=line,
        verdict=Verdict(requirement, rules=rules),
        environment=env,
        findings=(finding,),
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("path")
    w.add_argument("n", type=int)
    w.add_argument("tag")
    w.add_argument("--collector")
    w.add_argument("--queue", action="append", default=[])
    w.add_argument("--fsync", action="store_true")
    w.add_argument("--syslog", action="store_true")
    w.add_argument("--result", action="store_true", help="also write a result per intent")
    a = ap.parse_args(argv)
    session = Session.current()
    log = open_log(
        None if a.path == "-" else a.path,
        collector=a.collector,
        fsync=a.fsync,
        queue_dirs=a.queue or None,
        syslog=a.syslog,
        warn=lambda m: print(f"WARN {m}", file=sys.stderr, flush=True),
    )
    for i in range(a.n):
        seq = log.intent(make_decision(f"{a.tag} {i}"), reason=f"r{i}", session=session)
        print(seq, flush=True)
        if a.result:
            log.result(seq, 0, 1)
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
