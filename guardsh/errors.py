"""One exception root. Only `cli/` turns these into messages and exit codes."""

from __future__ import annotations

from guardsh.model import Span


class GuardshError(Exception):
    """Base of every error guardsh raises on purpose."""


class UserError(GuardshError):
    """Bad input from the user: usage, an incomplete or undecodable line."""

    def __init__(self, message: str, *, line: str | None = None, span: Span | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.span = span

    def show(self) -> str:
        """The message, and the line with carets under the span when known."""
        if self.line is None or self.span is None:
            return self.message
        return self.message + "\n" + caret_block(self.line, self.span)


class IncompleteError(UserError):
    """The line ends inside a quote, a heredoc, or after `|`/`&&`/`\\`."""


class PolicyError(GuardshError):
    """A policy file is broken. The message names file, line and expectation."""


class AuditError(GuardshError):
    """The audit trail cannot be written or read."""


class AnalysisError(GuardshError):
    """Analysis refused the input (too deep, too large): the fail-safe applies."""

    def __init__(self, message: str, span: Span | None = None):
        super().__init__(message)
        self.span = span


def caret_block(line: str, span: Span, width: int = 100) -> str:
    """The line (or the window of it around span) with `^^^` under span."""
    start = max(0, min(span.start, len(line)))
    end = max(start + 1, min(span.end, len(line) + 1))
    row_start = line.rfind("\n", 0, start) + 1
    row_end = line.find("\n", start)
    row = line[row_start : row_end if row_end != -1 else len(line)]
    col = start - row_start
    length = max(1, min(end, row_start + len(row) + 1) - start)
    lo = max(0, col - width // 2) if len(row) > width else 0
    shown = row[lo : lo + width]
    prefix = "…" if lo > 0 else ""
    marks = " " * (col - lo + len(prefix)) + "^" * max(1, min(length, width - (col - lo)))
    return f"  {prefix}{shown}\n  {marks}"
