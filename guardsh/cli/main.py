"""The `guardsh` command: dispatch by mode, importing only what the mode needs.

`guardsh -c CMD` (sshd, scp, rsync, cron), `guardsh SCRIPT` and the
interactive shell take paths with no click; `-c` also has no prompt_toolkit
(unless a terminal confirmation is needed). Subcommands load click lazily.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guardsh.run.oneshot import Step

SUBCOMMANDS = {
    "check": ("guardsh.cli.check", "check", "Analyze a command line; run nothing."),
    "env": ("guardsh.cli.env", "env", "Show the detected environment(s) and their evidence."),
    "policy": ("guardsh.cli.policy", "policy", "Check, test and explain policy files."),
    "audit": ("guardsh.cli.audit", "audit", "Verify and read the audit trail."),
}
# bash options a caller may pass to a login shell; accepted and ignored.
_IGNORED = frozenset({"-i", "--noprofile", "--norc", "--noediting", "-s"})


def _is_c_flag(arg: str) -> bool:
    """`-c`, or bundled short flags containing c (`-lc`, `-ic`)."""
    return arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:] and arg[1:].isalpha()


def _click(argv: list[str]) -> None:
    import importlib

    import click

    class LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted(SUBCOMMANDS)

        def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
            spec = SUBCOMMANDS.get(name)
            if spec is None:
                return None
            cmd: click.Command = getattr(importlib.import_module(spec[0]), spec[1])
            return cmd

    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
    def cli() -> None:
        """guardsh: a shell that knows which environment a command touches and
        what it destroys there, and asks before it runs. Without a subcommand:
        the interactive shell (`-l`: login shell; `-c CMD`: run one command)."""

    cli.main(args=argv, prog_name="guardsh")


def _ask_on_terminal(*args: object) -> tuple[object, object]:
    """Loaded only when a `-c` command needs a card on a terminal."""
    from guardsh.cli.shell import ask_on_terminal

    return ask_on_terminal(*args)  # type: ignore[arg-type]


def _guarded_client(step: Step) -> Callable[[], int] | None:
    """Loaded only when a `-c` command on a terminal may be a database client;
    the step's decision becomes the one to record for starting it."""
    from guardsh.clients.launch import command_runner

    got = command_runner(step.decision, step.policy, step.snap, step.facts, step.recorder)
    if got is None:
        return None
    step.decision, run = got
    return run


def _client_on_terminal(text: str) -> bool:
    """`guardsh -c 'psql ...'` on a terminal may run the client under guard,
    which only this process can do: no analysis server for it."""
    if not all(os.isatty(fd) for fd in (0, 1, 2)):
        return False
    from guardsh.clients.kinds import BY_PROGRAM

    return any(name in text for name in BY_PROGRAM)


def main() -> None:
    argv = sys.argv[1:]
    login = sys.argv[0].startswith("-")  # lost on the way through the script's shebang
    if not argv and not login:
        from guardsh.cli.login import started_by_login_parent  # sshd, login, su -, ...

        login = started_by_login_parent()
    while argv and (argv[0] in ("-l", "--login") or argv[0] in _IGNORED):
        login = login or argv[0] in ("-l", "--login")
        argv = argv[1:]
    if argv and _is_c_flag(argv[0]):
        login = login or "l" in argv[0][1:]
        if len(argv) >= 2 and not _client_on_terminal(argv[1]):
            from guardsh.run import fastpath  # the analysis server, when one answers

            status = fastpath.run(argv[1], argv[2:], login)
            if status is not None:
                sys.exit(status)
        from guardsh.run.oneshot import main as oneshot

        sys.exit(oneshot(argv, login=login, ask=_ask_on_terminal, client=_guarded_client))
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        if not sys.stdin.isatty():
            from guardsh.run.oneshot import stdin_script

            sys.exit(stdin_script(login=login))  # no terminal: nothing to ask on
        from guardsh.cli.shell import start

        sys.exit(start(login=login))
    if argv[0] not in SUBCOMMANDS and not argv[0].startswith("-") and os.path.isfile(argv[0]):
        from guardsh.run.oneshot import script

        sys.exit(script(argv, login=login, ask=_ask_on_terminal))
    _click(argv)
