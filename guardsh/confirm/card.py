"""The confirmation card: what will be destroyed, where, and what the policy asks.

Built as a list of (style, text) fragments, the form prompt_toolkit prints,
without importing it: the card is plain data, testable as text. Content, in
order: the environment and target; the command line with each evidence span
marked by carets; the findings in plain words, the target named once ("DROP
TABLE users on prod-db.internal/app — production"); the rule ids with their messages;
the dry-run results (a list of lines filled by `confirm/dryrun.py` when that
lands); and what is required to run it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from guardsh.errors import caret_block
from guardsh.model import Decision, Finding, Requirement, Severity, Span

Fragments = list[tuple[str, str]]

# Policy colors -> prompt_toolkit color names.
_COLORS = {
    "red": "ansired",
    "yellow": "ansiyellow",
    "green": "ansigreen",
    "blue": "ansiblue",
    "magenta": "ansimagenta",
    "cyan": "ansicyan",
    "white": "ansiwhite",
    "orange": "#ff8700",
}
MAX_SPANS = 4
MAX_ROWS = 12  # a multi-line command up to this long is shown whole, marks under its rows


def color_of(name: str | None) -> str | None:
    """A policy color as a prompt_toolkit color, or None for `default`."""
    if not name or name == "default":
        return None
    if name.startswith("#"):
        return name
    return _COLORS.get(name)


def short_env(name: str | None) -> str:
    """The badge text of an environment: PROD, STAGING, DEV, or the name."""
    name = name or "unknown"
    return {"production": "PROD", "development": "DEV"}.get(name, name.upper())


def plain_words(f: Finding) -> str:
    """One finding as a sentence: what, on which target, in which environment."""
    env = f" — {f.environment}" if f.environment else ""
    tags = f" [{', '.join(sorted(f.tags))}]" if f.tags else ""
    return f"{f.what_and_where()}{env} ({f.severity}){tags}"


def requirement_text(decision: Decision) -> str:
    v = decision.verdict
    word = v.type_word or decision.environment or "?"
    parts = {
        Requirement.ALLOW: "",
        Requirement.WARN: "",
        Requirement.CONFIRM: "confirm to run it",
        Requirement.TYPE: f"type `{word}` to run it",
        Requirement.DRY_RUN: f"read the dry run, then type `{word}` to run it",
        Requirement.DENY: "denied by policy"
        + ("; break-glass override possible, with a reason" if v.break_glass else ""),
    }
    out = [parts[v.requirement]] if parts[v.requirement] else []
    if v.delay and v.requirement != Requirement.DENY:
        out.append(f"after a {v.delay}-second cooling-off")
    if v.reason and v.requirement != Requirement.DENY:
        out.append(
            "give a reason" + (f" matching `{v.reason_pattern}`" if v.reason_pattern else "")
        )
    if not out:
        out.append("confirm to run it")
    return "; ".join(out)


def _spans(findings: Sequence[Finding]) -> list[Span]:
    seen: list[Span] = []
    for f in findings:
        if f.evidence.end > f.evidence.start and f.evidence not in seen:
            seen.append(f.evidence)
    return seen[:MAX_SPANS]


def _marked_rows(line: str, spans: Sequence[Span], width: int, style: str) -> Fragments:
    """Every row of a multi-line command (`$ ` then `> `), each followed by
    carets under the parts of it the spans cover (blanks at their ends not
    marked); rows longer than `width` are cut with `…`."""
    out: Fragments = []
    at = 0
    for i, row in enumerate(line.split("\n")):
        marks = [" "] * len(row)
        for span in spans:
            a, b = max(span.start, at) - at, min(span.end, at + len(row)) - at
            while a < b and row[a].isspace():
                a += 1
            while b > a and row[b - 1].isspace():
                b -= 1
            marks[a:b] = "^" * max(0, b - a)
        shown = row if len(row) <= width else row[: width - 1] + "…"
        mark = "".join(marks)[: len(shown)].rstrip()
        out.append(("", f"  {'$' if i == 0 else '>'} {shown}\n"))
        if mark:
            out.append((style, f"    {mark}\n"))
        at += len(row) + 1
    return out


def card(
    decision: Decision,
    *,
    target: str | None = None,
    env_color: str | None = None,
    rule_messages: Mapping[str, str] | None = None,
    dry_run: Sequence[str] | None = None,
    color: bool = True,
    width: int = 80,
) -> Fragments:
    """The card for one decision. `target` names where the session is (the
    prompt's targets); `dry_run` is the slot for dry-run result lines."""
    accent = color_of(env_color) if color else None
    strong = f"fg:{accent} bold" if accent else "bold"
    border = f"fg:{accent}" if accent else ""
    width = max(40, width)
    env = decision.environment or "unknown"
    where = target or (decision.findings[0].target.label() if decision.findings else "")
    head = f"━━ guardsh ━ {env.upper()} " + (f"━ {where} " if where else "")
    out: Fragments = [(border, head + "━" * max(2, width - len(head) - 1) + "\n")]
    line = decision.line
    spans = _spans(decision.findings)
    if spans and 1 < len(line.rstrip("\n").split("\n")) <= MAX_ROWS:
        out.extend(_marked_rows(line.rstrip("\n"), spans, width - 8, strong))
    elif spans:
        for span in spans:
            block = caret_block(line, span, width=width - 8)
            text, marks = block.split("\n", 1)
            out.append(("", f"  $ {text[2:]}\n"))
            out.append((strong, f"    {marks[2:]}\n"))
    else:
        shown = line if len(line) <= width * 3 else line[: width * 3] + "…"
        out.append(("", "".join(f"  $ {row}\n" for row in shown.splitlines() or [""])))
    for f in decision.findings:
        out.append((strong if f.severity >= Severity.HIGH else "", f"  • {plain_words(f)}\n"))
    messages = dict(rule_messages or {})
    v = decision.verdict
    shown_messages = set()
    for rid in v.rules:
        msg = messages.get(rid, "")
        shown_messages.add(msg)
        out.append(("", f"  rule {rid}" + (f": {msg}" if msg else "") + "\n"))
    for msg in v.messages:
        if msg not in shown_messages:
            out.append(("", f"  note: {msg}\n"))
    for note in decision.notes:
        if note not in v.messages:
            out.append(("", f"  note: {note}\n"))
    if dry_run:
        out.append(("bold", "  dry run:\n"))
        out.extend(("", f"    {row}\n") for row in dry_run)
    tail = f"━━ {requirement_text(decision)} "
    out.append((border, tail + "━" * max(2, width - len(tail) - 1) + "\n"))
    return out


def as_text(fragments: Fragments) -> str:
    return "".join(text for _, text in fragments)
