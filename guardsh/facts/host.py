"""The local host and user, as the snapshot sees them."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping


def hostname() -> str:
    return os.uname().nodename  # what gethostname() returns, without importing socket


def real_user(environ: Mapping[str, str] | None = None) -> str:
    """The person behind the session: SUDO_USER when run through sudo."""
    sudo = (os.environ if environ is None else environ).get("SUDO_USER")
    if sudo:
        return sudo
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def home() -> str:
    return os.environ.get("HOME") or os.path.expanduser("~")
