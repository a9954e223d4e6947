"""`guardsh audit verify`: prove a log was not edited, or say exactly where it was.

Checks, per chain: each record hashes to its own `sha256` (an edit), each
record's `prev_sha256` is the `sha256` of the record with the previous seq (a
rewritten-and-rehashed record), seqs are contiguous from the genesis (deleted
records), in file order (reordered lines), and unique (an inserted copy);
lines that are no record at all (inserted text) and bytes after the last
newline (a torn tail) are reported with the seq they follow. Links are
checked by seq, not by position, so one reorder or one insertion is reported
once, at its seq, not as a cascade.

What a chain alone cannot show: records cut from the end, or a file rewritten
and rehashed from some point on. Anchors (the collector's chain heads in
syslog) close that gap: `--anchors FILE` checks the file against them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from guardsh.audit.record import PHASES, ZERO_SHA, canonical, digest
from guardsh.audit.ship import TAG, parse_anchors

_SHIPPED = (TAG + " ").encode()


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # torn garbage edited chain missing reordered inserted genesis truncated anchor
    seq: int | None
    line: int  # 1-based line of the file; 0 when the problem is not one line
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "line": self.line, "detail": self.detail}


@dataclass(slots=True)
class Report:
    name: str
    records: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_sha256: str | None = None
    chain: str | None = None  # the genesis record's sha256: the chain's identity
    problems: list[Problem] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    anchors_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "ok": self.ok,
            "records": self.records,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_sha256": self.head_sha256,
            "chain": self.chain,
            "first_broken_seq": self.first_broken,
            "problems": [p.as_json() for p in self.problems],
            "repairs": self.repairs,
            "anchors_checked": self.anchors_checked,
        }


@dataclass(frozen=True, slots=True)
class Entry:
    line: int
    rec: dict[str, Any]
    raw: bytes

    @property
    def seq(self) -> int:
        return int(self.rec["seq"])

    @property
    def sha(self) -> str:
        return str(self.rec.get("sha256"))


def read_locked(path: str) -> bytes:
    """The file's bytes, read under a shared lock so no append is seen half-done."""
    with open(path, "rb") as f:
        with contextlib.suppress(OSError):  # e.g. a pipe: read what is there
            fcntl.flock(f.fileno(), fcntl.LOCK_SH)
        return f.read()


def verify_file(
    path: str, *, anchors: Sequence[Mapping[str, Any]] = (), by_host: bool = False
) -> list[Report]:
    data = read_locked(path)
    return verify_bytes(data, path, anchors=anchors, by_host=by_host)


def verify_bytes(
    data: bytes, name: str, *, anchors: Sequence[Mapping[str, Any]] = (), by_host: bool = False
) -> list[Report]:
    entries, problems, foreign = parse(data)
    if not by_host:
        report = Report(name, problems=problems)
        check_chain(entries, report, foreign)
        check_anchors(report, entries, anchors)
        return [report]
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        groups.setdefault(str(e.rec.get("host")), []).append(e)
    reports = []
    for host, group in sorted(groups.items()):
        report = Report(f"{name}#{host}")
        check_chain(group, report, foreign)
        check_anchors(report, group, anchors)
        reports.append(report)
    if problems or not reports:
        reports.append(Report(name, problems=problems))
    return reports


def parse(data: bytes) -> tuple[list[Entry], list[Problem], set[str]]:
    """Split into records; lines that are not records become problems here.

    Also returns the sha256 of each such line: a writer that found one at the
    end of the file chained the next record to it (already reported here).
    A file whose first line is not JSON is read as a syslog/journal export:
    only `GUARDSH-AUDIT {...}` lines count, other lines are skipped.
    """
    entries: list[Entry] = []
    problems: list[Problem] = []
    foreign: set[str] = set()
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    export = bool(data.strip()) and not data.lstrip().startswith(b"{")
    after: int | None = None
    for n, line in enumerate(lines, 1):
        raw = _shipped(line) if export else line
        if raw is None:
            continue
        rec = _record(raw)
        if rec is None:
            problems.append(
                Problem("garbage", after, n, f"line {n} is not an audit record{_after(after)}")
            )
            foreign.add(hashlib.sha256(raw).hexdigest())
            continue
        entries.append(Entry(n, rec, raw))
        after = int(rec["seq"])
    if tail and not export:
        offset = len(data) - len(tail)
        problems.append(
            Problem(
                "torn",
                after,
                len(lines) + 1,
                f"torn tail: {len(tail)} bytes at offset {offset}{_after(after)} "
                "(a writer was killed mid-append; the next append repairs it)",
            )
        )
    return entries, problems, foreign


def _shipped(line: bytes) -> bytes | None:
    """The record in a syslog line (`... GUARDSH-AUDIT {...}`), else None."""
    i = line.find(_SHIPPED)
    return line[i + len(_SHIPPED) :].rstrip(b"\r") if i != -1 else None


def _after(seq: int | None) -> str:
    return f" after seq {seq}" if seq is not None else " before any record"


def _record(raw: bytes) -> dict[str, Any] | None:
    try:
        rec = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("seq"), int):
        return None
    if not isinstance(rec.get("sha256"), str) or not isinstance(rec.get("prev_sha256"), str):
        return None
    return rec


def check_chain(
    entries: Sequence[Entry], report: Report, foreign: AbstractSet[str] = frozenset()
) -> None:
    out = report.problems
    if not entries:
        return
    by_seq: dict[int, list[Entry]] = {}
    for e in entries:
        by_seq.setdefault(e.seq, []).append(e)
    report.records = len(entries)
    report.first_seq, report.last_seq = min(by_seq), max(by_seq)

    for e in entries:  # each record against its own hash
        if e.rec.get("truncated") is True:
            pass  # a syslog copy trimmed to fit a message: its sha256 still links the chain
        elif digest(e.rec) != e.sha:
            out.append(
                Problem(
                    "edited", e.seq, e.line, f"seq {e.seq} was edited: it does not match its sha256"
                )
            )
        elif canonical(e.rec) != e.raw:
            out.append(
                Problem(
                    "edited",
                    e.seq,
                    e.line,
                    f"seq {e.seq} was reformatted: its bytes are not canonical",
                )
            )
        elif e.rec.get("phase") not in PHASES:
            out.append(Problem("edited", e.seq, e.line, f"seq {e.seq} has an unknown phase"))
        if e.rec.get("phase") == "repair":
            report.repairs.append(f"seq {e.seq}: {e.rec.get('reason')}")

    genuine = _pick_genuine(by_seq, out)
    first = entries[0]
    if report.first_seq > 0:
        out.append(
            Problem(
                "missing",
                0,
                0,
                f"seq 0-{report.first_seq - 1} missing: the file does not start at its genesis",
            )
        )
    elif (
        first.seq != 0
        or first.rec.get("phase") != "genesis"
        or first.rec.get("prev_sha256") != ZERO_SHA
    ):
        out.append(
            Problem(
                "genesis", 0, first.line, "the chain does not start with a genesis record on line 1"
            )
        )
    g = genuine.get(0)
    report.chain = g.sha if g is not None and g.rec.get("phase") == "genesis" else None

    for a, b in _ranges(s for s in range(report.first_seq, report.last_seq + 1) if s not in by_seq):
        span = f"seq {a}" if a == b else f"seq {a}-{b}"
        out.append(Problem("missing", a, 0, f"{span} missing (deleted)"))

    highest = -1
    for e in entries:  # file order
        if e.seq < highest and by_seq[e.seq][0] is e:
            out.append(
                Problem(
                    "reordered",
                    e.seq,
                    e.line,
                    f"seq {e.seq} on line {e.line} comes after seq {highest}",
                )
            )
        highest = max(highest, e.seq)

    for s in sorted(genuine):  # links, by seq
        prev = genuine.get(s - 1)
        if s == 0 or prev is None:
            continue
        cur = genuine[s]
        if cur.rec.get("prev_sha256") != prev.sha and cur.rec.get("prev_sha256") not in foreign:
            out.append(
                Problem(
                    "chain",
                    s - 1,
                    prev.line,
                    f"seq {s - 1} was rewritten: seq {s} chained to a different record",
                )
            )
    last = genuine.get(report.last_seq)
    report.head_sha256 = last.sha if last is not None else None
    out.sort(key=lambda p: (p.seq if p.seq is not None else -1, p.line))


def _pick_genuine(by_seq: dict[int, list[Entry]], out: list[Problem]) -> dict[int, Entry]:
    """One entry per seq; copies that the chain does not use are reported as inserted."""
    genuine: dict[int, Entry] = {}
    for s in sorted(by_seq):
        cands = by_seq[s]
        if len(cands) == 1:
            genuine[s] = cands[0]
            continue
        succ = {c.rec.get("prev_sha256") for c in by_seq.get(s + 1, [])}
        pred = genuine.get(s - 1)
        keep = next((c for c in cands if c.sha in succ), None)
        if keep is None and pred is not None:
            keep = next((c for c in cands if c.rec.get("prev_sha256") == pred.sha), None)
        keep = keep or cands[0]
        genuine[s] = keep
        for c in cands:
            if c is not keep:
                out.append(
                    Problem(
                        "inserted",
                        s,
                        c.line,
                        f"line {c.line} claims seq {s}, which line {keep.line} holds; "
                        "the chain does not go through it",
                    )
                )
    return genuine


def _ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s in seqs:
        if out and out[-1][1] == s - 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def check_anchors(
    report: Report, entries: Sequence[Entry], anchors: Sequence[Mapping[str, Any]]
) -> None:
    """Compare the file with the chain heads a collector sent to syslog."""
    if report.chain is None:
        return
    by_seq = {e.seq: e for e in entries}
    for a in anchors:
        if a.get("chain") != report.chain:
            continue
        report.anchors_checked += 1
        seq, sha, when = int(a["seq"]), str(a["sha256"]), a.get("ts", "?")
        e = by_seq.get(seq)
        if e is None and report.last_seq is not None and seq > report.last_seq:
            report.problems.append(
                Problem(
                    "truncated",
                    report.last_seq + 1,
                    0,
                    f"seq {report.last_seq + 1}-{seq} missing from the end: the anchor of {when} "
                    f"says the chain reached seq {seq}",
                )
            )
        elif e is not None and e.sha != sha:
            report.problems.append(
                Problem(
                    "anchor",
                    seq,
                    e.line,
                    f"seq {seq} differs from the anchor of {when}: the file was rewritten",
                )
            )


def load_anchors(paths: Iterable[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            found.extend(parse_anchors(f))
    return found


def describe(report: Report) -> str:
    """Human lines for one report."""
    span = (
        f"seq {report.first_seq}-{report.last_seq}"
        if report.first_seq is not None
        else "no records"
    )
    head = f", head {report.head_sha256[:12]}" if report.head_sha256 else ""
    anchors = f", {report.anchors_checked} anchor(s) checked" if report.anchors_checked else ""
    if report.ok:
        lines = [f"{report.name}: OK: {report.records} records, {span}{head}{anchors}"]
    else:
        lines = [
            f"{report.name}: BROKEN: {len(report.problems)} problem(s), first broken seq "
            f"{report.first_broken if report.first_broken is not None else '?'} "
            f"({report.records} records, {span}{anchors})"
        ]
        lines += [
            f"  {p.kind}: {p.detail}" + (f" [line {p.line}]" if p.line else "")
            for p in report.problems
        ]
    lines += [f"  repaired: {r}" for r in report.repairs]
    return "\n".join(lines)
