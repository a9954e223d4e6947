"""The real user and their POSIX groups, for policy rules with `users`/`groups`.

The user is the person behind the session (SUDO_USER when run through sudo,
see `host.real_user`); the groups are that user's primary and supplementary
groups from the system's group database, as names. Read once per process.
"""

from __future__ import annotations

import functools
import grp
import os
import pwd

from guardsh.facts import host
from guardsh.policy.decide import Who


@functools.lru_cache(maxsize=8)
def groups_of(user: str) -> frozenset[str]:
    """Group names of `user` (empty when the user is unknown to the system)."""
    try:
        gid = pwd.getpwnam(user).pw_gid
    except KeyError:
        return frozenset()
    try:
        gids = os.getgrouplist(user, gid)
    except OSError:
        gids = [gid]
    names = set()
    for g in gids:
        try:
            names.add(grp.getgrgid(g).gr_name)
        except KeyError:
            names.add(str(g))
    return frozenset(names)


def who(user: str | None = None) -> Who:
    """`Who` for `user` (default: the real user of this process)."""
    name = user or host.real_user()
    return Who(name, groups_of(name))
