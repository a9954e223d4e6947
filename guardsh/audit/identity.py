"""Who is at the keyboard: the identity a session's records carry.

Built once per shell session. The *real* user is the person, not the account:
behind `sudo` that is `SUDO_USER`; otherwise the kernel's login uid
(`/proc/self/loginuid`, set by pam_loginuid at login and kept across `su`),
and only then the current uid. A collector does not trust any of this from a
client; it recomputes user and uid from the socket's peer credentials
(see collector.py).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass, replace

UNSET_LOGINUID = 4294967295  # (uid_t)-1: no login session recorded


@dataclass(frozen=True, slots=True)
class Session:
    """The identity part of every record of one shell session."""

    id: str
    user: str
    uid: int
    host: str
    tty: str | None = None
    ssh_client: str | None = None
    cwd: str | None = None
    policy_sha256: str | None = None

    @classmethod
    def current(
        cls,
        *,
        policy_sha256: str | None = None,
        cwd: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Session:
        """The session of this process: real user, uid, tty, ssh client, host."""
        env = os.environ if environ is None else environ
        uid = os.getuid()
        return cls(
            id=new_session_id(),
            user=real_user(env, uid, read_loginuid("self")),
            uid=uid,
            host=os.uname().nodename,
            tty=current_tty(),
            ssh_client=ssh_client(env),
            cwd=cwd if cwd is not None else _getcwd(),
            policy_sha256=policy_sha256,
        )

    @classmethod
    def of_client(
        cls,
        *,
        pid: int,
        tty: str | None,
        cwd: str,
        environ: Mapping[str, str],
        policy_sha256: str | None = None,
    ) -> Session:
        """The session of another process of this user (the analysis server's
        client): its login uid, tty, environment and cwd, this host and uid."""
        uid = os.getuid()
        return cls(
            id=new_session_id(),
            user=real_user(environ, uid, read_loginuid(pid)),
            uid=uid,
            host=os.uname().nodename,
            tty=tty,
            ssh_client=ssh_client(environ),
            cwd=cwd,
            policy_sha256=policy_sha256,
        )

    def with_policy(self, policy_sha256: str | None) -> Session:
        """The same session after the policy was reloaded."""
        return replace(self, policy_sha256=policy_sha256)


def new_session_id() -> str:
    return os.urandom(8).hex()  # secrets.token_hex without importing random


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def read_loginuid(pid: int | str) -> int | None:
    """The kernel's login uid of a process, or None when none was recorded."""
    try:
        with open(f"/proc/{pid}/loginuid", "rb") as f:
            value = int(f.read().strip() or b"-1")
    except (OSError, ValueError):
        return None
    return None if value < 0 or value == UNSET_LOGINUID else value


def real_user(env: Mapping[str, str], uid: int, loginuid: int | None) -> str:
    """The person behind the account: SUDO_USER, then the login uid, then the uid."""
    sudo_user = env.get("SUDO_USER")
    if sudo_user:
        return sudo_user
    if loginuid is not None:
        return user_name(loginuid)
    return user_name(uid)


def current_tty() -> str | None:
    try:
        return os.ttyname(0) if os.isatty(0) else None
    except OSError:
        return None


def ssh_client(env: Mapping[str, str]) -> str | None:
    """The client address of an ssh login (`SSH_CONNECTION`: client port server port)."""
    for name in ("SSH_CONNECTION", "SSH_CLIENT"):
        parts = env.get(name, "").split()
        if parts:
            return parts[0]
    return None


def _getcwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None
