"""Which policy files apply, in which order.

Built-in default, then GUARDSH_POLICY (colon-separated files or folders) or
`--policy` files; the system/team/user layers and their locking grow here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from guardsh.errors import PolicyError
from guardsh.policy.load import default_text, merge
from guardsh.policy.schema import Policy


def _expand(entries: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for entry in entries:
        if not entry:
            continue
        p = Path(entry)
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")) + sorted(p.glob("*.yml")))
        else:
            out.append(p)
    return out


def load_files(paths: Sequence[str]) -> Policy:
    """The built-in default with `paths` (files or folders) layered on top."""
    layers = [("<built-in default>", default_text())]
    for path in _expand(paths):
        try:
            layers.append((str(path), path.read_text()))
        except OSError as e:
            raise PolicyError(f"{path}: cannot read the policy file: {e.strerror}") from None
    return merge(layers)


def effective(policy_args: Sequence[str] = ()) -> Policy:
    """The policy a command is checked against: `--policy` files, else
    GUARDSH_POLICY, else the built-in default."""
    if policy_args:
        return load_files(policy_args)
    env = os.environ.get("GUARDSH_POLICY")
    if env:
        return load_files(env.split(":"))
    return load_files([])
