"""pkill, skill, killall, killall5 and `fuser -k`: signals to every process
matching a name, a pattern, a user or a file/port in use.

A pattern is matched against the critical process names (pgrep/pkill
patterns are regular expressions searched in the name, killall names are
exact unless -r); a user or a well-known port names a service too. Severity
follows process_severity's table; all are `process.kill_by_name`.

Anti-pattern / best practice:
  pkill -9 postgres                             -> process.kill_by_name high
  killall -HUP nginx                            -> process.kill_by_name low (reload)
  killall -l                                    -> nothing (lists signals)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from guardsh.analyze.process_severity import (
    PGREP_VALUES,
    PORTS,
    critical_matches,
    kill_finding,
    name_tags,
    path_names,
    severity,
    sig_text,
    signal_name,
    user_names,
)
from guardsh.analyze.registry import Context, analyzer
from guardsh.model import Finding, Invocation, Severity, Word
from guardsh.parse.argv import parse_argv


def _leading_signal(args: Sequence[Word]) -> tuple[str | None, list[Word]]:
    """pkill/killall/fuser accept `-9`/`-KILL`/`-SIGKILL` anywhere before `--`."""
    sig: str | None = None
    rest: list[Word] = []
    found = False
    for i, w in enumerate(args):
        t = w.value
        if w.known and t == "--":
            rest.extend(args[i:])
            break
        if not found and w.known and t.startswith("-") and len(t) > 1 and t[1] != "-":
            spec = t[1:]
            if (spec.isdigit() or spec.isupper()) and signal_name(spec) is not None:
                sig = signal_name(spec)
                found = True
                continue
        rest.append(w)
    return sig, rest


def _by_name(inv: Invocation, sig: str, obj: str, names: set[str], how: str) -> Finding:
    tags = name_tags(names)
    return kill_finding(
        inv,
        obj,
        severity(sig, tags, True),
        f"{sig_text(sig)} to {how}",
        tags,
        "process.kill_by_name",
    )


def _help(args: Sequence[Word]) -> bool:
    return any(w.value in ("--help", "--version", "-V") for w in args if w.known)


@analyzer("pkill", "skill")
def pkill(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`pkill [-SIG] [-f] [-x] [-u USER] PATTERN`: a regex over names (or cmdlines)."""
    if _help(inv.args):
        return
    lead, rest = _leading_signal(inv.args)
    sig = lead or "TERM"
    p = parse_argv(rest, short_value="dgGPstuUFLr", long_value=PGREP_VALUES)
    spec = p.value("--signal")
    if spec is not None:
        sig = (signal_name(spec.value) or "?") if spec.known else "?"
    if sig == "0" or p.has("-l", "--list-name", "-c", "--count"):
        return
    pidfile = p.value("-F", "--pidfile")
    users = p.values("-u", "-U", "--euid", "--uid")
    if pidfile is not None:
        names = path_names(pidfile.value)
        yield _by_name(inv, sig, f"pid in {pidfile.value}", names, f"the pid in {pidfile.value}")
        return
    full = p.has("-f", "--full")
    for w in p.operands[:1]:
        pat = w.value
        names = critical_matches(
            pat, exact=p.has("-x", "--exact"), icase=p.has("-i", "--ignore-case")
        )
        names |= user_names(users)
        what = "command lines" if full else "names"
        yield _by_name(inv, sig, pat, names, f"every process whose {what} match {pat!r}")
    if not p.operands and users:
        who = ",".join(w.value for w in users)
        yield _by_name(inv, sig, f"user {who}", user_names(users), f"every process of {who}")


@analyzer("killall")
def killall(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`killall [-SIG] [-r] [-u USER] NAME...`: exact names unless -r."""
    if _help(inv.args):
        return
    lead, rest = _leading_signal(inv.args)
    sig = lead or "TERM"
    p = parse_argv(
        rest,
        short_value="sunoyZ",
        long_value={"signal", "user", "ns", "older-than", "younger-than", "context"},
    )
    if p.has("-l", "--list"):
        return
    spec = p.value("-s", "--signal")
    if spec is not None:
        sig = (signal_name(spec.value) or "?") if spec.known else "?"
    if sig == "0":
        return
    users = p.values("-u", "--user")
    regex = p.has("-r", "--regexp")
    icase = p.has("-I", "--ignore-case")
    for w in p.operands:
        names = critical_matches(w.value, regex=regex, exact=False, icase=icase)
        names |= user_names(users)
        yield _by_name(inv, sig, w.value, names, f"every process named {w.value}")
    if not p.operands and users:
        who = ",".join(w.value for w in users)
        yield _by_name(inv, sig, f"user {who}", user_names(users), f"every process of {who}")


@analyzer("killall5")
def killall5(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """killall5 signals every process but the kernel's and its own session."""
    sig = _leading_signal(inv.args)[0] or "TERM"
    if sig == "0":
        return
    yield kill_finding(
        inv,
        "all processes",
        Severity.HIGH,
        f"{sig_text(sig)} to every process outside this session",
        {"all"},
        "process.kill_by_name",
    )


@analyzer("fuser")
def fuser(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`fuser -k FILE|PORT/tcp`: SIGKILL (by default) to every process using it."""
    if _help(inv.args):
        return
    lead, rest = _leading_signal(inv.args)
    sig = lead or "KILL"
    p = parse_argv(rest, short_value="n", long_value={"namespace"})
    if not p.has("-k", "--kill") or p.has("-l", "--list-signals"):
        return
    for w in p.operands:
        spec = w.value
        names = path_names(spec)
        port = re.match(r"(\d+)/(?:tcp|udp)", spec)
        if port and port.group(1) in PORTS:
            names.add(PORTS[port.group(1)])
        yield _by_name(inv, sig, f"processes using {spec}", names, f"every process using {spec}")
