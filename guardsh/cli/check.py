"""`guardsh check`: analysis only, runs nothing. Exit 0 / 10 / 20 / 2."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import click

from guardsh import cases
from guardsh.cli.where import Where, where_options
from guardsh.errors import GuardshError, UserError
from guardsh.exitcodes import Exit
from guardsh.facts import gather
from guardsh.facts.who import who
from guardsh.model import Decision, Facts, Snapshot
from guardsh.pipeline import check as run_check
from guardsh.policy.schema import Policy


def policy_notes(policy: Policy) -> list[str]:
    """The policy's warnings (a skipped user layer, an ignored override), one
    line each: `check` shows them with every answer, as `-c` does on stderr."""
    return [f"policy: {w.splitlines()[0]}" for w in policy.warnings]


def decision_json(d: Decision, notes: Sequence[str] = ()) -> dict[str, Any]:
    v = d.verdict
    return {
        "verdict": str(v.requirement),
        "exit": int(cases.exit_for(d)),
        "environment": d.environment,
        "findings": [f.as_json(d.line) for f in d.findings],
        "rules": list(v.rules),
        "reason": v.reason,
        "reason_pattern": v.reason_pattern,
        "delay": v.delay,
        "break_glass": v.break_glass,
        "type_word": v.type_word,
        "messages": list(v.messages),
        "notes": [*notes, *d.notes],
        "analysis_us": d.analysis_us,
    }


def render(d: Decision, out: TextIO, notes: Sequence[str] = ()) -> None:
    from guardsh.errors import caret_block

    for n in notes:
        out.write(f"warning: {n}\n")
    v = d.verdict
    out.write(f"verdict: {v.requirement}  environment: {d.environment}\n")
    for f in d.findings:
        obj = f" {f.object}" if f.object else ""
        tags = f" [{', '.join(sorted(f.tags))}]" if f.tags else ""
        out.write(f"- {f.action}{obj} ({f.severity}, {f.environment}, {f.target.label()}){tags}\n")
        if f.detail:
            out.write(f"  {f.detail}\n")
        if f.evidence.end > f.evidence.start:
            out.write(caret_block(d.line, f.evidence) + "\n")
    if v.rules:
        out.write(f"rules: {', '.join(v.rules)}\n")
    for m in v.messages:
        out.write(f"note: {m}\n")
    if v.type_word:
        out.write(f"to run it, type: {v.type_word}\n")


def _batch(source: TextIO, policy: Policy, base: Snapshot, base_facts: Facts, out: TextIO) -> None:
    notes = policy_notes(policy)
    for raw in source:
        if not raw.strip():
            continue
        try:
            case = json.loads(raw)
            if not isinstance(case, Mapping):
                raise UserError("each batch line must be a JSON object with `cmd`")
            if "cmd" not in case:
                raise UserError("missing `cmd`")
            mapped = dict(case)
            for key in ("expect",):
                mapped.pop(key, None)
            d = cases.run(mapped, policy, base, base_facts)
            out.write(json.dumps(decision_json(d, notes)) + "\n")
        except (GuardshError, ValueError, TypeError) as e:
            msg = e.show() if isinstance(e, UserError) else str(e)
            out.write(json.dumps({"error": msg}) + "\n")
    out.flush()


@click.command("check")
@where_options
@click.option("--dry-run", is_flag=True, help="Also run the dry-run providers.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option("--batch", metavar="FILE|-", help="JSON Lines of commands; one JSON result per line.")
@click.argument("command", nargs=-1)
def check(
    where: Where,
    dry_run: bool,
    as_json: bool,
    batch: str | None,
    command: tuple[str, ...],
) -> None:
    """Analyze COMMAND_LINE and exit 0 (runs), 10 (asks), 20 (denied) or 2."""
    policy = where.policy()
    base = where.snapshot()
    facts = gather.facts(base)
    if batch is not None:
        if command:
            raise click.UsageError("--batch takes no command line")
        if dry_run:
            raise click.UsageError(
                "--dry-run does not apply to --batch (dry runs read live systems); "
                "check one line at a time"
            )
        if batch == "-":
            _batch(sys.stdin, policy, base, facts, sys.stdout)
        else:
            try:
                with open(batch, encoding="utf-8", errors="surrogateescape") as fh:
                    _batch(fh, policy, base, facts, sys.stdout)
            except OSError as e:
                click.echo(f"guardsh: cannot read {batch}: {e.strerror}", err=True)
                sys.exit(Exit.USAGE)
        sys.exit(Exit.OK)
    if not command:
        raise click.UsageError(
            "give the command line to check, e.g. guardsh check -- 'rm -rf /tmp/x'"
        )
    line = command[0] if len(command) == 1 else " ".join(command)
    try:
        now = dt.datetime.now().astimezone()  # `hours` without a zone mean local time
        decision = run_check(line, base, policy, now, facts, who(base.user))
    except UserError as e:
        click.echo(f"guardsh: {e.show()}", err=True)
        sys.exit(Exit.USAGE)
    code = cases.exit_for(decision)
    results = None
    if dry_run:
        from guardsh.confirm import dryrun

        results = dryrun.run(decision, base, policy, facts=facts)
    if as_json:
        data = decision_json(decision, policy_notes(policy))
        if results is not None:
            data["dry_run"] = [r.as_json() for r in results]
        click.echo(json.dumps(data, indent=None))
    else:
        render(decision, sys.stdout, policy_notes(policy))
        if results is not None:
            from guardsh.confirm import dryrun

            for text in dryrun.card_lines(results):
                sys.stdout.write(f"dry run: {text}\n")
    sys.exit(code)
