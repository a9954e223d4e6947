"""The options that say where a command line is judged: the environment,
host, kube context, variables, aliases, cwd and policy files.

`guardsh check` and `guardsh policy explain` take the same options and must
build the same snapshot from them, so both use `where_options`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click

from guardsh.errors import PolicyError
from guardsh.exitcodes import Exit
from guardsh.model import Snapshot
from guardsh.policy.schema import Policy


def pairs(values: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        name, eq, value = v.partition("=")
        if not eq or not name:
            raise click.UsageError(f"{what} takes NAME=VALUE, got {v!r}")
        out[name] = value
    return out


@dataclass(frozen=True, slots=True)
class Where:
    as_env: str | None
    hostname: str | None
    kube_context: str | None
    variables: tuple[str, ...]
    aliases: tuple[str, ...]
    cwd: str | None
    policies: tuple[str, ...]

    def policy(self) -> Policy:
        """The effective policy; a broken `--policy` file exits 2 with its message."""
        from guardsh.policy.layers import effective

        try:
            return effective(self.policies)
        except PolicyError as e:
            click.echo(f"guardsh: policy error: {e}", err=True)
            sys.exit(Exit.USAGE)

    def snapshot(self) -> Snapshot:
        """Without any --var, the caller's environment is the snapshot."""
        from guardsh.facts import gather

        return gather.snapshot(
            variables=pairs(self.variables, "--var") if self.variables else dict(os.environ),
            aliases=pairs(self.aliases, "--alias"),
            cwd=self.cwd,
            hostname=self.hostname,
            as_env=self.as_env,
            kube_context=self.kube_context,
        )


_OPTIONS = (
    click.option("--as", "as_env", metavar="ENV", help="Every target counts as ENV."),
    click.option("--hostname", metavar="H", help="The local host's name."),
    click.option("--kube-context", metavar="C", help="The current kube context."),
    click.option(
        "--var", "variables", multiple=True, metavar="NAME=VALUE",
        help="A shell variable (repeatable).",
    ),
    click.option(
        "--alias", "aliases", multiple=True, metavar="NAME=VALUE", help="An alias (repeatable)."
    ),
    click.option("--cwd", metavar="DIR", help="Where relative files are read."),
    click.option(
        "--policy", "policies", multiple=True, metavar="FILE", help="Policy file (repeatable)."
    ),
)  # fmt: skip


def where_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options and hand the command one `where: Where` argument."""

    @functools.wraps(fn)
    def command(*args: Any, **kw: Any) -> Any:
        where = Where(*(kw.pop(name) for name in Where.__dataclass_fields__))
        return fn(*args, where=where, **kw)

    for option in reversed(_OPTIONS):
        command = option(command)
    return command
