"""A login shell is recognised by who started it (the `-` of `-guardsh` is
lost in the script's shebang): the rule, case by case."""

from __future__ import annotations

import os

import pytest

from guardsh.cli.login import parent_starts_login, started_by_login_parent


@pytest.mark.parametrize(
    ("comm", "cmdline"),
    [
        ("sshd", ["sshd: alice@pts/0"]),
        ("sshd-session", ["sshd-session: alice@pts/0"]),
        ("login", ["/bin/login", "-p", "--"]),
        ("dropbear", ["dropbear", "-R"]),
        ("mosh-server", ["mosh-server", "new"]),
        ("tmux: server", ["tmux", "new", "-s", "ops"]),
        ("su", ["su", "-"]),
        ("su", ["su", "-", "alice"]),
        ("su", ["su", "-l", "alice"]),
        ("su", ["su", "--login", "alice"]),
        ("su", ["su", "-s", "/usr/local/bin/guardsh", "-", "alice"]),
        ("su", ["su", "-ls", "/usr/local/bin/guardsh", "alice"]),
        ("runuser", ["runuser", "-l", "app"]),
        ("sudo", ["sudo", "-i"]),
        ("sudo", ["sudo", "--login"]),
        ("sudo", ["sudo", "-u", "app", "-i"]),
        ("sudo", ["sudo", "-iu", "app"]),
        ("sudo", ["sudo", "--user", "app", "-i"]),
    ],
)
def test_parents_that_start_login_shells(comm: str, cmdline: list[str]) -> None:
    assert parent_starts_login(comm, cmdline)


@pytest.mark.parametrize(
    ("comm", "cmdline"),
    [
        ("bash", ["bash"]),
        ("gnome-terminal-", ["/usr/libexec/gnome-terminal-server"]),
        ("screen", ["screen"]),
        ("python3", ["python3", "-m", "pexpect"]),
        ("su", ["su", "alice"]),
        ("su", ["su", "-s", "/usr/local/bin/guardsh", "alice"]),
        ("su", ["su", "-c", "echo -l", "alice"]),
        ("su", ["su", "alice", "-"]),  # util-linux: `-` counts only before the user
        ("sudo", ["sudo", "-s"]),
        ("sudo", ["sudo", "guardsh"]),
        ("sudo", ["sudo", "-i", "guardsh"]),  # runs `SHELL -c guardsh`
        ("sudo", ["sudo", "-u", "-i"]),  # -i is the user's name here
        ("sudo", ["sudo", "--", "-i"]),
    ],
)
def test_parents_that_do_not(comm: str, cmdline: list[str]) -> None:
    assert not parent_starts_login(comm, cmdline)


def test_the_parent_is_read_from_proc() -> None:
    # pytest's parent is a shell or CI runner, never sshd/login itself.
    assert started_by_login_parent(os.getpid()) is False  # python
    assert started_by_login_parent(1) is False
    assert started_by_login_parent(2**22 + 1) is False  # no such process


def test_an_unreadable_parent_is_not_a_login(monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError("hidepid")

    monkeypatch.setattr("builtins.open", denied)
    assert started_by_login_parent(os.getppid()) is False
