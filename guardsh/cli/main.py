"""The `guardsh` command: dispatch by mode, importing only what the mode needs.

`guardsh -c CMD` (sshd, scp, rsync, cron) takes a fast path with no click and
no prompt_toolkit; subcommands load lazily.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

SUBCOMMANDS = {
    "check": ("guardsh.cli.check", "check", "Analyze a command line; run nothing."),
    "env": ("guardsh.cli.env", "env", "Show the detected environment(s) and their evidence."),
    "policy": ("guardsh.cli.policy", "policy", "Check, test and explain policy files."),
    "audit": ("guardsh.cli.audit", "audit", "Verify and read the audit trail."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        spec = SUBCOMMANDS.get(name)
        if spec is None:
            return None
        module = importlib.import_module(spec[0])
        cmd: click.Command = getattr(module, spec[1])
        return cmd


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})  # fmt: skip
@click.pass_context
def cli(ctx: click.Context) -> None:
    """guardsh: a shell that knows which environment a command touches and
    what it destroys there, and asks before it runs."""
    if ctx.invoked_subcommand is None:
        from guardsh.cli.shell import start

        sys.exit(start(login=False))


def main() -> None:
    argv = sys.argv[1:]
    login = sys.argv[0].startswith("-") or (argv[:1] in (["-l"], ["--login"]))
    if argv[:1] in (["-l"], ["--login"]):
        argv = argv[1:]
    if argv[:1] == ["-c"] or (argv[:1] and argv[0].startswith("-") and "c" in argv[0][1:] and argv[0][1:].isalpha()):
        from guardsh.run.oneshot import main as oneshot

        sys.exit(oneshot(argv, login=login))
    if login and not argv:
        from guardsh.cli.shell import start

        sys.exit(start(login=True))
    if argv and not argv[0].startswith("-") and argv[0] not in SUBCOMMANDS and os.path.isfile(argv[0]):
        from guardsh.run.oneshot import script

        sys.exit(script(argv))
    cli.main(args=argv, prog_name="guardsh")
