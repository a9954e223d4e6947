"""Dry-run providers: show what a command would do before asking.

The providers (processes, files, SQL counts, kubectl server-side dry runs,
terraform plans, ...) are not built yet; every result says so, so a caller
can show "dry run unavailable" and never mistake it for permission.
"""

from __future__ import annotations

from typing import Any

from guardsh.model import Decision, Snapshot
from guardsh.policy.schema import Policy


def run_providers(decision: Decision, snapshot: Snapshot, policy: Policy) -> list[dict[str, Any]]:
    return [
        {"action": f.action, "object": f.object, "status": "unavailable",
         "text": "no dry-run provider for this action yet"}
        for f in decision.findings
    ]  # fmt: skip
