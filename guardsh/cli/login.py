"""Was guardsh started as a login shell?

sshd, login and `su -` start a login shell with argv[0] `-guardsh`. That `-`
never reaches guardsh: the installed `guardsh` is a script (`#!.../python`),
and the kernel's shebang handling drops the caller's argv[0] and passes the
script's path instead (it is not in `sys.argv`, `sys.orig_argv` or
`/proc/self/cmdline` either). And no login program sets anything in the
environment that says "login" and is not inherited by every later shell.

So guardsh asks who started it. With no arguments at all, it is a login shell
when its parent process is one that runs a shell with no arguments only as a
login shell:

- sshd (`sshd`, `sshd-session`), dropbear, mosh-server, login, and the tmux
  server (a pane without a command is a login shell there, for bash too);
- `su`/`runuser` only with `-`, `-l` or `--login`; `sudo` only with `-i` or
  `--login` and no command.

Anything else (a terminal emulator, `bash`, `sudo -s`, plain `su`, screen)
starts a non-login shell; `-l`/`--login` says so explicitly. A parent whose
name or command line cannot be read counts as not a login.
"""

from __future__ import annotations

import os

# Parents that start a shell with no arguments only as a login shell (by /proc/PID/comm).
ALWAYS_LOGIN = frozenset(
    {"sshd", "sshd-session", "dropbear", "mosh-server", "login", "tmux: server", "tmux"}
)
# Options taking a value (as the next word when not attached): su/runuser, sudo.
_SU_VALUE = frozenset("cCgGsw")
_SU_LONG_VALUE = frozenset(
    {
        "--command",
        "--session-command",
        "--group",
        "--supp-group",
        "--shell",
        "--whitelist-environment",
    }
)
_SUDO_VALUE = frozenset("aCcDgpRrTtUu")
_SUDO_LONG_VALUE = frozenset(
    [
        "--auth-type",
        "--login-class",
        "--close-from",
        "--chdir",
        "--group",
        "--host",
        "--prompt",
        "--chroot",
        "--role",
        "--type",
        "--command-timeout",
        "--other-user",
        "--user",
    ]
)


def _scan(
    args: list[str], flag: str, long: str, value: frozenset[str], long_value: frozenset[str]
) -> tuple[bool, list[str]]:
    """(was `-flag`/`long` given, the positional words) of a getopt-style command line."""
    found = False
    positional: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            positional += args[i:]
            break
        if a.startswith("--"):
            found = found or a == long
            if a in long_value:
                i += 1
        elif a.startswith("-") and a != "-":
            for j, letter in enumerate(a[1:]):
                if letter == flag:
                    found = True
                elif letter in value:
                    i += 1 if j == len(a) - 2 else 0  # `-u alice`, not `-ualice`
                    break
        else:
            positional.append(a)
    return found, positional


def parent_starts_login(comm: str, cmdline: list[str]) -> bool:
    """Would this parent (its /proc comm and argv) start a no-argument shell
    only as a login shell?"""
    if comm in ALWAYS_LOGIN:
        return True
    args = cmdline[1:]
    if comm in ("su", "runuser"):
        found, positional = _scan(args, "l", "--login", _SU_VALUE, _SU_LONG_VALUE)
        return found or positional[:1] == ["-"]
    if comm == "sudo":
        found, positional = _scan(args, "i", "--login", _SUDO_VALUE, _SUDO_LONG_VALUE)
        return found and not positional  # `sudo -i CMD` runs `SHELL -c CMD`
    return False


def started_by_login_parent(ppid: int | None = None) -> bool:
    """Is guardsh's parent process one that starts login shells (see above)?"""
    ppid = os.getppid() if ppid is None else ppid
    if ppid <= 1:
        return False
    try:
        with open(f"/proc/{ppid}/comm", encoding="utf-8", errors="replace") as f:
            comm = f.read().rstrip("\n")
        with open(f"/proc/{ppid}/cmdline", "rb") as fb:
            raw = fb.read()
    except OSError:
        return False
    cmdline = [w.decode("utf-8", "surrogateescape") for w in raw.split(b"\0")[:-1]]
    return parent_starts_login(comm, cmdline)
