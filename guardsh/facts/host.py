"""The local host and user, as the snapshot sees them."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

HOSTS = "/etc/hosts"
# path -> ((device, inode, size, mtime), short name -> its FQDN or None)
_FQDNS: dict[str, tuple[tuple[int, int, int, int], dict[str, str | None]]] = {}


def hostname(hosts: str = HOSTS, nodename: str | None = None) -> str:
    """The local host's name: the node name (what gethostname() returns,
    without importing socket), or its FQDN when the node name is short and
    `hosts` has a line listing it whose canonical (first) name is that name
    plus a domain. No DNS and no subprocess: this runs for every command."""
    name = nodename if nodename is not None else os.uname().nodename
    if "." in name or not name:
        return name
    return fqdn(name, hosts) or name


def fqdn(short: str, hosts: str = HOSTS) -> str | None:
    """The FQDN of `short` from the first hosts line whose canonical name is
    `short.domain` and which lists `short` too (`10.0.0.7 db-1.example.com
    db-1`): a line such as `127.0.0.1 localhost.localdomain localhost db-1`
    names no FQDN of db-1. Cached by the file's identity, size and mtime."""
    try:
        st = os.stat(hosts)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    hit = _FQDNS.get(hosts)
    if hit is None or hit[0] != key:
        hit = _FQDNS[hosts] = (key, {})
    short = short.lower()
    if short not in hit[1]:
        hit[1][short] = _scan(_read(hosts) or "", short)
    return hit[1][short]


def _scan(text: str, short: str) -> str | None:
    """Only the lines that contain `short.` are split (a hosts file that
    blocks ads can have 100,000 lines)."""
    low, needle = text.lower(), short + "."
    at = low.find(needle)
    while at >= 0:
        start = low.rfind("\n", 0, at) + 1
        end = low.find("\n", at)
        end = len(low) if end < 0 else end
        names = text[start:end].partition("#")[0].split()[1:]
        canonical = names[0] if names else ""
        if canonical.lower().startswith(needle) and short in (n.lower() for n in names[1:]):
            return canonical
        at = low.find(needle, end)
    return None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


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
