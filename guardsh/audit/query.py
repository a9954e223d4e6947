"""Reading audit trails: tail, search, stats and export over many hosts' files.

Inputs are log files, exported JSON Lines, or syslog/journal text exports
(lines carrying `GUARDSH-AUDIT {...}`); several at once, so one command
answers "who ran what on production last night" across a fleet. Records
from more than one file are merged by time.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from guardsh.audit.record import FIELDS, actions, canonical
from guardsh.audit.ship import QUEUED_TAG, TAG

_REL = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TS = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?)?\s*(Z|[+-]\d\d:?\d\d)?$"
)
RISKY_PHASES = frozenset({"intent", "breakglass", "denied", "declined"})
QUIET_VERDICTS = frozenset({"allow", "warn", None})


def parse_time(text: str, *, now: float | None = None) -> float:
    """`2h`, `30m`, `7d` (ago), `now`, or ISO-8601 (UTC unless an offset is given)."""
    t = time.time() if now is None else now
    text = text.strip()
    if text == "now":
        return t
    m = _REL.match(text)
    if m:
        return t - int(m.group(1)) * _UNITS[m.group(2)]
    parsed = ts_epoch(text)
    if parsed is None:
        raise ValueError(f"not a time: {text!r} (use 2h, 7d, 2024-05-01 or 2024-05-01T03:00Z)")
    return parsed


def ts_epoch(ts: Any) -> float | None:
    if not isinstance(ts, str):
        return None
    m = _TS.match(ts.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0)))
    value = secs + (float(frac) if frac else 0.0)
    if tz and tz != "Z":
        sign = -1 if tz[0] == "+" else 1
        digits = tz[1:].replace(":", "")
        value += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return float(value)


@dataclass(frozen=True, slots=True)
class Filter:
    users: tuple[str, ...] = ()
    envs: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    text: str | None = None

    def match(self, rec: Mapping[str, Any]) -> bool:
        if self.users and rec.get("user") not in self.users:
            return False
        if self.envs and rec.get("environment") not in self.envs:
            return False
        if self.verdicts and rec.get("verdict") not in self.verdicts:
            return False
        if self.hosts and rec.get("host") not in self.hosts:
            return False
        if self.phases and rec.get("phase") not in self.phases:
            return False
        if self.actions and not any(_action_match(a, self.actions) for a in actions(rec)):
            return False
        if self.since is not None or self.until is not None:
            t = ts_epoch(rec.get("ts"))
            if t is None or (self.since is not None and t < self.since):
                return False
            if self.until is not None and t >= self.until:
                return False
        if self.text:
            hay = " ".join(str(rec.get(k) or "") for k in ("line", "reason", "cwd")).lower()
            objects = " ".join(
                str(f.get("object") or "") for f in rec.get("findings") or [] if isinstance(f, dict)
            )
            if self.text.lower() not in hay + " " + objects.lower():
                return False
        return True


def _action_match(action: str, wanted: Sequence[str]) -> bool:
    """`sql.drop_table` matches `sql.drop_table`, `sql` and `sql.*`."""
    for w in wanted:
        w = w.rstrip("*").rstrip(".")
        if action == w or action.startswith(w + "."):
            return True
    return False


def parse_line(line: str) -> dict[str, Any] | None:
    """A record from a JSON line or a syslog line carrying one."""
    s = line.strip()
    if not s:
        return None
    if not s.startswith("{"):
        for tag in (TAG + " ", QUEUED_TAG + " "):
            i = s.find(tag)
            if i != -1:
                s = s[i + len(tag) :]
                break
        else:
            return None
    try:
        rec = json.loads(s)
    except ValueError:
        return None
    if not isinstance(rec, dict) or "phase" not in rec:
        return None
    return rec


def read_file(path: str) -> Iterator[dict[str, Any]]:
    stream: IO[str] = (
        sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    )
    try:
        for line in stream:
            if line.endswith("\n") or path == "-":  # a torn tail is not a record
                rec = parse_line(line)
                if rec is not None:
                    yield rec
    finally:
        if stream is not sys.stdin:
            stream.close()


def read_records(paths: Sequence[str]) -> list[dict[str, Any]]:
    """Every record of every file; merged by time when there are several files."""
    out: list[dict[str, Any]] = []
    for p in paths:
        out.extend(read_file(p))
    if len(paths) > 1:
        out.sort(key=lambda r: ts_epoch(r.get("ts")) or 0.0)
    return out


def search(paths: Sequence[str], flt: Filter) -> list[dict[str, Any]]:
    return [r for r in read_records(paths) if r.get("phase") != "genesis" and flt.match(r)]


# ------------------------------------------------------------------ display
def format_record(rec: Mapping[str, Any]) -> str:
    ts = str(rec.get("ts") or "?")
    ts = ts[:19].replace("T", " ") + "Z" if len(ts) >= 19 else ts
    who = f"{rec.get('user')}@{rec.get('host')}"
    env = rec.get("environment") or "-"
    phase = rec.get("phase")
    parts = [ts, f"#{rec.get('seq')}", who, f"[{env}]", str(phase)]
    if phase == "result":
        parts.append(f"exit={rec.get('exit')} {rec.get('duration_ms')}ms")
    elif rec.get("verdict"):
        parts.append(str(rec.get("verdict")))
    if rec.get("line") is not None:
        parts.append(
            repr(rec.get("line")) if "\n" in str(rec.get("line")) else str(rec.get("line"))
        )
    acts = sorted(set(actions(rec)))
    if acts:
        parts.append("(" + ", ".join(acts) + ")")
    if rec.get("reason"):
        parts.append(f"reason={rec.get('reason')!r}")
    return "  ".join(parts)


def is_risky(rec: Mapping[str, Any]) -> bool:
    if rec.get("phase") not in RISKY_PHASES:
        return False
    if rec.get("verdict") not in QUIET_VERDICTS:
        return True
    return any(
        isinstance(f, dict) and f.get("severity") in ("high", "low")
        for f in rec.get("findings") or []
    )


@dataclass(frozen=True, slots=True)
class Stats:
    records: int
    by_env: Counter[str]
    by_action: Counter[str]
    by_verdict: Counter[str]
    by_user: Counter[str]
    by_phase: Counter[str]
    risky_by_hour: Counter[int]  # epoch hour -> count

    def as_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "environment": dict(self.by_env.most_common()),
            "action": dict(self.by_action.most_common()),
            "verdict": dict(self.by_verdict.most_common()),
            "user": dict(self.by_user.most_common()),
            "phase": dict(self.by_phase.most_common()),
            "risky_per_hour": {hour_label(h): n for h, n in sorted(self.risky_by_hour.items())},
        }


def stats(records: Iterable[Mapping[str, Any]]) -> Stats:
    s = Stats(0, Counter(), Counter(), Counter(), Counter(), Counter(), Counter())
    n = 0
    for r in records:
        if r.get("phase") == "genesis":
            continue
        n += 1
        s.by_phase[str(r.get("phase"))] += 1
        if r.get("phase") in RISKY_PHASES:
            s.by_env[str(r.get("environment") or "-")] += 1
            s.by_verdict[str(r.get("verdict") or "-")] += 1
            s.by_user[str(r.get("user") or "-")] += 1
            for a in set(actions(r)):
                s.by_action[a] += 1
        if is_risky(r):
            t = ts_epoch(r.get("ts"))
            if t is not None:
                s.risky_by_hour[int(t // 3600)] += 1
    return Stats(n, s.by_env, s.by_action, s.by_verdict, s.by_user, s.by_phase, s.risky_by_hour)


def hour_label(hour: int) -> str:
    return time.strftime("%Y-%m-%d %H:00", time.gmtime(hour * 3600))


_EIGHTHS = " ▏▎▍▌▋▊▉"


def chart(by_hour: Mapping[int, int], *, width: int = 40, max_rows: int = 48) -> list[str]:
    """One bar per hour (UTC) from the first to the last risky hour (the last `max_rows`)."""
    if not by_hour:
        return ["(no risky commands)"]
    last = max(by_hour)
    first = max(min(by_hour), last - max_rows + 1)
    peak = max(by_hour[h] for h in by_hour if h >= first)
    rows = []
    for h in range(first, last + 1):
        n = by_hour.get(h, 0)
        eighths = round(n / peak * width * 8) if peak else 0
        bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
        rows.append(f"{hour_label(h)} │{bar:<{width}} {n}")
    return rows


def format_stats(st: Stats, *, top: int = 10) -> str:
    lines = [f"{st.records} records"]
    for title, counter in (
        ("phase", st.by_phase),
        ("environment", st.by_env),
        ("verdict", st.by_verdict),
        ("user", st.by_user),
        ("action", st.by_action),
    ):
        if counter:
            lines.append(f"by {title}:")
            lines += [f"  {k:<28} {v}" for k, v in counter.most_common(top)]
    lines.append("risky commands per hour (UTC):")
    lines += ["  " + row for row in chart(st.risky_by_hour)]
    return "\n".join(lines)


# ------------------------------------------------------------------ export
CSV_COLUMNS = (*FIELDS, "actions")


def export(records: Iterable[Mapping[str, Any]], fmt: str, out: IO[str]) -> int:
    """Write records as canonical JSON Lines (verifiable again) or CSV."""
    n = 0
    if fmt == "jsonl":
        for r in records:
            out.write(canonical(r).decode("utf-8") + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r} (jsonl or csv)")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in records:
        row = [_cell(r.get(k)) for k in FIELDS] + [" ".join(sorted(set(actions(r))))]
        w.writerow(row)
        n += 1
    return n


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return canonical(v).decode("utf-8")
    return str(v)


def to_csv(records: Iterable[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    export(records, "csv", buf)
    return buf.getvalue()
