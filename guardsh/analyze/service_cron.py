"""crontab: removing or replacing a user's whole cron table.

`crontab -r`: system.crontab_remove HIGH (`-i` asks first: LOW); installing
a crontab from a file or stdin replaces every job: LOW (HIGH when the new
table is known to be empty). Listing (`-l`), editing (`-e`) and checking
(`-T`) stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Span, Word
from guardsh.parse.argv import parse_argv


def _span(inv: Invocation, *words: Word | None) -> Span:
    """Evidence from the first to the last given word, or the invocation."""
    spans = [w.span for w in words if w is not None and w.span.end > w.span.start]
    if not spans:
        return inv.span
    return Span(min(s.start for s in spans), max(s.end for s in spans))


@analyzer("crontab")
def crontab(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value="usT")
    if p.has("-l", "-e", "-T", "--help", "-V"):
        return
    user = p.value("-u")
    who = user.value if user is not None else (inv.user or ctx.snapshot.user)
    if p.has("-r"):
        interactive = p.has("-i")
        yield finding(
            inv, "system.crontab_remove", who, Severity.LOW if interactive else Severity.HIGH,
            tags=["interactive"] if interactive else [],
            detail=f"every cron job of {who} is removed",
        )  # fmt: skip
        return
    src = p.operands[0] if p.operands else None
    if src is None and inv.stdin is not None:
        src = Word("-", inv.span)  # no file: the new table is read from stdin
    if src is not None:
        text: str | None = None
        if src.value == "-":
            text = inv.stdin.text if inv.stdin is not None else None
        elif src.known:
            text = ctx.facts.read_file(src.value)
        empty = text is not None and not any(
            ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines()
        )
        yield finding(
            inv, "system.crontab_remove", who, Severity.HIGH if empty else Severity.LOW,
            evidence=_span(inv, src), tags=["replace"] + (["empty"] if empty else []),
            detail=f"every cron job of {who} is replaced by {src.value}",
        )  # fmt: skip
