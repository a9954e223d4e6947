"""Start the interactive guarded shell: `guardsh`, `guardsh -l`, `-guardsh`.

The backing bash is spawned first so it starts while prompt_toolkit loads;
the analyzers load in the background after the first prompt is drawn.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guardsh.confirm.prompt import Outcome
    from guardsh.model import Decision, Facts, Snapshot
    from guardsh.policy.schema import Policy


def rc_path() -> str:
    """The user's guardsh rc (sourced by the backing bash of every interactive session)."""
    home = os.environ.get("HOME") or os.path.expanduser("~")
    conf = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(conf, "guardsh", "rc.bash")


def load_policy() -> Policy:
    """The effective policy; a broken one is reported and fails closed (the
    built-in default, with every finding asking), never locking a user out."""
    import dataclasses

    from guardsh.errors import PolicyError
    from guardsh.policy.layers import effective, load_files

    try:
        return effective()
    except PolicyError as e:
        sys.stderr.write(
            f"guardsh: policy error: {e}\nguardsh: every finding asks until it is fixed\n"
        )
        return dataclasses.replace(load_files([]), errors=(str(e),))


def start(login: bool) -> int:
    from guardsh.run import signals
    from guardsh.run.backing import BackingShell

    signals.session()
    env = dict(os.environ)
    env["GUARDSH_LEVEL"] = str(int(env.get("GUARDSH_LEVEL", "0") or 0) + 1)
    shell = BackingShell(login=login, env=env, rc=rc_path(), interactive=os.isatty(0))
    shell.start()
    signals.hang_up_with(shell.pid)
    try:
        from guardsh.shell.repl import Repl

        repl = Repl(shell, load_policy, tty=sys.stdout.isatty())
        return repl.run()
    except signals.HangUp:
        return 128 + signal.SIGHUP
    finally:
        shell.close()


def ask_on_terminal(
    decision: Decision, policy: Policy, snap: Snapshot, facts: Facts
) -> tuple[Outcome, dict[str, Any] | None]:
    """`-c` / scripts on a terminal (`ssh -t`): the card and its questions on
    stderr (stdout stays the command's data); (outcome, audit dry run)."""
    from prompt_toolkit.input import create_input
    from prompt_toolkit.output import create_output

    from guardsh.confirm.card import card
    from guardsh.confirm.prompt import ask
    from guardsh.shell.dryslot import dry_run

    lines, audit = dry_run(decision, snap, policy, facts)
    env = policy.environment(decision.environment)
    color = not os.environ.get("NO_COLOR")
    fragments = card(
        decision,
        env_color=env.color if env else None,
        color=color,
        dry_run=lines,
        rule_messages={r.id: r.message for r in policy.rules},
    )
    out = create_output(stdout=sys.stderr)
    return ask(decision, fragments, inp=create_input(sys.stdin), out=out, color=color), audit
