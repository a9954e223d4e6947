"""The card's dry-run slot: run the providers when the verdict asks for a
dry run, and hand back the card lines and the audit field. A failing dry run
is shown as such; it never crashes the shell and never grants anything."""

from __future__ import annotations

from typing import Any

from guardsh.model import Decision, Facts, Requirement, Snapshot
from guardsh.policy.schema import Policy


def dry_run(
    decision: Decision, snap: Snapshot, policy: Policy, facts: Facts | None = None
) -> tuple[list[str], dict[str, Any] | None]:
    """(card lines, audit `dry_run` field); nothing unless the verdict is `dry-run`."""
    if decision.verdict.requirement != Requirement.DRY_RUN:
        return [], None
    try:
        from guardsh.confirm import dryrun

        results = dryrun.run(decision, snap, policy, facts=facts)
        return dryrun.card_lines(results), dryrun.for_audit(results)
    except Exception as e:
        return [f"dry run failed: {e!r} — not a permission"], {"error": repr(e)}
