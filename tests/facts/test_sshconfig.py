"""~/.ssh/config: alias -> HostName as ssh resolves it, cached by mtime, lazy."""

from __future__ import annotations

import os
from pathlib import Path

from guardsh.facts import sshconfig

CONFIG = """\
# a comment
Host orders orders-db
    HostName db-7.eu.internal
    User postgres

Host *.corp !bastion.corp
    HostName %h.example.com

Host bastion.corp
    HostName 10.0.0.1

Match host foo exec "true"
    HostName never-used

Host = quoted
    HostName = "spaced.example.com"

Include conf.d/*
"""


def write(home: Path, text: str = CONFIG) -> Path:
    ssh = home / ".ssh"
    (ssh / "conf.d").mkdir(parents=True, exist_ok=True)
    (ssh / "conf.d" / "team").write_text("Host team-*\n  HostName team-gw.internal\n")
    cfg = ssh / "config"
    cfg.write_text(text)
    return cfg


def test_aliases_resolve_like_ssh(tmp_path: Path) -> None:
    cfg = sshconfig.load(str(write(tmp_path)))
    assert cfg.resolve("orders") == "db-7.eu.internal"
    assert cfg.resolve("ORDERS-db") == "db-7.eu.internal"
    assert cfg.resolve("web.corp") == "web.corp.example.com"  # %h is the name as typed
    assert cfg.resolve("bastion.corp") == "10.0.0.1"  # the negated pattern skips the wildcard block
    assert cfg.resolve("quoted") == "spaced.example.com"
    assert cfg.resolve("team-a") == "team-gw.internal"  # from an Include
    assert cfg.resolve("foo") is None  # Match blocks are not evaluated
    assert cfg.resolve("elsewhere") is None
    assert cfg.evidence("orders") == f"{tmp_path}/.ssh/config:3"


def test_the_first_hostname_wins(tmp_path: Path) -> None:
    cfg = sshconfig.load(str(write(tmp_path, "Host a\n  HostName one\nHost *\n  HostName two\n")))
    assert (cfg.resolve("a"), cfg.resolve("b")) == ("one", "two")


def test_cached_by_mtime_and_reread_on_change(tmp_path: Path) -> None:
    path = write(tmp_path)
    first = sshconfig.load(str(path))
    assert sshconfig.load(str(path)) is first
    path.write_text("Host orders\n  HostName moved.internal\n")
    os.utime(path, ns=(1, 1))
    assert sshconfig.load(str(path)).resolve("orders") == "moved.internal"


def test_an_included_file_change_invalidates_too(tmp_path: Path) -> None:
    path = write(tmp_path)
    assert sshconfig.load(str(path)).resolve("team-x") == "team-gw.internal"
    inc = tmp_path / ".ssh" / "conf.d" / "team"
    inc.write_text("Host team-*\n  HostName gw2.internal\n")
    os.utime(inc, ns=(1, 1))
    assert sshconfig.load(str(path)).resolve("team-x") == "gw2.internal"


def test_the_mapping_is_lazy_and_resolves_wildcards(tmp_path: Path) -> None:
    write(tmp_path)
    hosts = sshconfig.for_home(str(tmp_path))
    assert hosts._cfg is None  # nothing read yet
    assert hosts.get("orders") == "db-7.eu.internal"
    assert hosts.get("x.corp") == "x.corp.example.com"
    assert hosts.get("nothing") is None
    assert "orders" in list(hosts) and "bastion.corp" in list(hosts)


def test_a_missing_config_is_empty(tmp_path: Path) -> None:
    hosts = sshconfig.for_home(str(tmp_path / "nohome"))
    assert hosts.get("x") is None and len(hosts) == 0
