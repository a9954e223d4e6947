"""The real user's POSIX groups, for `users`/`groups` rules."""

from __future__ import annotations

import grp
import os
import pwd

from guardsh.facts import who


def test_groups_come_from_the_group_database() -> None:
    me = pwd.getpwuid(os.getuid())
    expected = {grp.getgrgid(g).gr_name for g in os.getgrouplist(me.pw_name, me.pw_gid)}
    w = who.who(me.pw_name)
    assert w.user == me.pw_name
    assert w.groups == frozenset(expected)
    assert grp.getgrgid(me.pw_gid).gr_name in w.groups


def test_an_unknown_user_has_no_groups() -> None:
    assert who.who("no-such-user-guardsh").groups == frozenset()


def test_sudo_user_is_the_real_user(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = pwd.getpwuid(0).pw_name
    monkeypatch.setenv("SUDO_USER", root)
    assert who.who().user == root
