"""`guardsh audit verify|tail|search|stats|export|serve`.

Every reading command takes any number of files (log files, exported JSON
Lines, syslog/journal text exports); without one, the file this user's
sessions write to: `GUARDSH_AUDIT_LOG` where the policy honours it, else the
system log (if readable) and the user's own log. `verify` exits 0 when every chain is
intact, 1 when something was edited, removed, reordered, inserted or torn,
and 2 on usage errors.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from guardsh.audit.log import SYSTEM_LOG, SYSTEM_SOCKET, default_log_path
from guardsh.exitcodes import Exit

F = TypeVar("F", bound=Callable[..., Any])


def _session_log() -> str | None:
    """GUARDSH_AUDIT_LOG when the policy honours it, as sessions do (`log_target`)."""
    from guardsh.errors import PolicyError
    from guardsh.policy.layers import effective
    from guardsh.run.record import log_target

    try:
        policy = effective(environ=os.environ)
    except PolicyError:
        return None  # a broken policy: no session honours the override either
    return log_target(policy, os.environ)[0]


def _default_files() -> list[str]:
    own = _session_log()
    candidates = [own] if own else [SYSTEM_LOG, default_log_path()]
    found = [p for p in candidates if os.access(p, os.R_OK)]
    if not found:
        raise click.UsageError(
            f"no audit log found ({', '.join(candidates)}); name the file(s) to read"
        )
    return found


def _files(files: Sequence[str]) -> list[str]:
    if not files:
        return _default_files()
    for f in files:
        if f != "-" and not os.path.isfile(f):
            raise click.UsageError(f"{f}: no such file")
    return list(files)


def _filter_options(fn: F) -> F:
    opts = [
        click.option("--user", "users", multiple=True, help="Only this (real) user; repeatable."),
        click.option("--env", "envs", multiple=True, help="Only this environment; repeatable."),
        click.option(
            "--action", "actions", multiple=True, help="An action or family (sql, sql.drop_table)."
        ),
        click.option(
            "--verdict",
            "verdicts",
            multiple=True,
            help="allow, warn, confirm, type, dry-run, deny.",
        ),
        click.option("--host", "hosts", multiple=True, help="Only records from this host."),
        click.option(
            "--phase", "phases", multiple=True, help="intent, result, declined, denied, breakglass."
        ),
        click.option("--since", help="2h, 7d, 2024-05-01, 2024-05-01T03:00Z."),
        click.option("--until", help="Same forms as --since."),
        click.option("--text", "-t", help="Text in the command line, reason, cwd or objects."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _make_filter(kw: dict[str, Any]) -> Any:
    from guardsh.audit.query import Filter, parse_time

    try:
        since = parse_time(kw["since"]) if kw.get("since") else None
        until = parse_time(kw["until"]) if kw.get("until") else None
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    return Filter(
        users=tuple(kw["users"]),
        envs=tuple(kw["envs"]),
        actions=tuple(kw["actions"]),
        verdicts=tuple(kw["verdicts"]),
        hosts=tuple(kw["hosts"]),
        phases=tuple(kw["phases"]),
        since=since,
        until=until,
        text=kw.get("text"),
    )


@click.group("audit")
def audit() -> None:
    """Read, verify and collect the audit trail."""


@audit.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--anchors",
    "anchor_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Syslog/journal export holding GUARDSH-AUDIT-ANCHOR lines; repeatable.",
)
@click.option(
    "--by-host", is_flag=True, help="The files mix hosts: verify each host's chain apart."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON report per chain.")
@click.pass_context
def verify(
    ctx: click.Context,
    files: tuple[str, ...],
    anchor_files: tuple[str, ...],
    by_host: bool,
    as_json: bool,
) -> None:
    """Check hash chains: edits, deletions, reordering, insertions, torn tails."""
    from guardsh.audit.verify import describe, load_anchors, verify_file

    anchors = load_anchors(anchor_files)
    ok = True
    for path in _files(files):
        try:
            reports = verify_file(path, anchors=anchors, by_host=by_host)
        except OSError as e:
            raise click.UsageError(f"{path}: {e.strerror}") from e
        for r in reports:
            ok = ok and r.ok
            click.echo(json.dumps(r.as_json(), sort_keys=True) if as_json else describe(r))
    ctx.exit(Exit.OK if ok else Exit.FAILURE)


@audit.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("-n", "--lines", "count", default=10, show_default=True, help="How many records.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing records as they are written.")
@click.option("--json", "as_json", is_flag=True, help="Records as JSON lines.")
@click.option("--interval", default=0.5, hidden=True, type=float)
def tail(files: tuple[str, ...], count: int, follow: bool, as_json: bool, interval: float) -> None:
    """The last records (of all files, merged by time)."""
    from guardsh.audit.query import format_record, read_records

    paths = _files(files)
    show = _printer(as_json, format_record)
    for rec in read_records(paths)[-count:] if count > 0 else []:
        show(rec)
    if follow:
        _follow([p for p in paths if p != "-"], show, interval)


def _printer(as_json: bool, fmt: Callable[[Any], str]) -> Callable[[Any], None]:
    def show(rec: Any) -> None:
        click.echo(json.dumps(rec, sort_keys=True, ensure_ascii=False) if as_json else fmt(rec))

    return show


def _follow(paths: Sequence[str], show: Callable[[Any], None], interval: float) -> None:
    """Poll for complete new lines; reopen a file that was rotated or truncated."""
    from guardsh.audit.query import parse_line

    state: dict[str, tuple[int, int]] = {}
    for p in paths:
        st = os.stat(p)
        state[p] = (st.st_ino, st.st_size)
    pending: dict[str, bytes] = {p: b"" for p in paths}
    while True:
        time.sleep(interval)
        for p in paths:
            try:
                st = os.stat(p)
            except FileNotFoundError:
                continue
            ino, pos = state[p]
            if st.st_ino != ino or st.st_size < pos:
                pos, pending[p] = 0, b""
            if st.st_size == pos:
                state[p] = (st.st_ino, pos)
                continue
            with open(p, "rb") as f:
                f.seek(pos)
                data = pending[p] + f.read()
                pos = f.tell()
            *complete, pending[p] = data.split(b"\n")
            state[p] = (st.st_ino, pos)
            for raw in complete:
                rec = parse_line(raw.decode("utf-8", "replace"))
                if rec is not None:
                    show(rec)
        sys.stdout.flush()


@audit.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="Records as JSON lines.")
def search(files: tuple[str, ...], as_json: bool, **kw: Any) -> None:
    """Records matching every given filter."""
    from guardsh.audit.query import format_record
    from guardsh.audit.query import search as run_search

    show = _printer(as_json, format_record)
    for rec in run_search(_files(files), _make_filter(kw)):
        show(rec)


@audit.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="Counts as one JSON object.")
def stats(files: tuple[str, ...], as_json: bool, **kw: Any) -> None:
    """Counts per environment, action, verdict and user; risky commands per hour."""
    from guardsh.audit.query import format_stats
    from guardsh.audit.query import search as run_search
    from guardsh.audit.query import stats as count

    st = count(run_search(_files(files), _make_filter(kw)))
    click.echo(json.dumps(st.as_json(), sort_keys=True) if as_json else format_stats(st))


@audit.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@_filter_options
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout."
)
def export(files: tuple[str, ...], fmt: str, output: str | None, **kw: Any) -> None:
    """Records as JSON Lines (verifiable when unfiltered) or CSV."""
    from guardsh.audit.query import export as run_export
    from guardsh.audit.query import read_records
    from guardsh.audit.query import search as run_search

    paths = _files(files)
    flt = _make_filter(kw)
    records = run_search(paths, flt) if flt != type(flt)() else read_records(paths)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as out:
            run_export(records, fmt, out)
    else:
        run_export(records, fmt, sys.stdout)


@audit.command()
@click.option("--socket", "socket_path", default=SYSTEM_SOCKET, show_default=True)
@click.option("--log", "log_path", default=SYSTEM_LOG, show_default=True)
@click.option(
    "--anchor-interval",
    default=300.0,
    show_default=True,
    type=float,
    help="Seconds between chain-head anchors written to syslog.",
)
@click.option("--fsync/--no-fsync", default=True, show_default=True)
@click.option("--socket-mode", default="0666", show_default=True, help="Octal mode of the socket.")
def serve(
    socket_path: str, log_path: str, anchor_interval: float, fsync: bool, socket_mode: str
) -> None:
    """Run the root collector: sessions send records, it owns the log."""
    from guardsh.audit.collector import Collector, systemd_listen_fd
    from guardsh.errors import AuditError

    if os.geteuid() != 0:
        click.echo(
            "guardsh audit serve: warning: not root; users may be able to edit the log", err=True
        )
    try:
        collector = Collector(
            log_path,
            socket_path=socket_path,
            listen_fd=systemd_listen_fd(),
            fsync=fsync,
            anchor_interval=anchor_interval,
            socket_mode=int(socket_mode, 8),
        )
        collector.serve_forever()
    except (AuditError, OSError, ValueError) as e:
        raise click.ClickException(str(e)) from e
