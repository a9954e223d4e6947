"""Exit statuses of guardsh itself, in one place (DESIGN.md "Contracts")."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0  # check: runs without asking (allow / warn)
    FAILURE = 1  # policy test failures, audit verify found damage
    USAGE = 2  # usage, policy or input error
    NEEDS_CONFIRMATION = 10  # check: confirm, type, dry-run, reason or delay
    DENIED = 20  # check: denied by policy
    REFUSED = 126  # the shell refused to run a command (no terminal, declined, denied)
