"""The local host's name: its FQDN from /etc/hosts when the node name is
short, so `hostname` matchers see both the short name and the FQDN."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guardsh.facts import gather, host
from guardsh.model import Target
from guardsh.policy.load import default_text, merge
from guardsh.policy.locate import classify

HOSTS = """\
# comments and blank lines are skipped

127.0.0.1   localhost.localdomain localhost db-1
::1         localhost ip6-localhost
10.0.0.7    db-1.core.example.com   db-1  # the canonical name comes first
10.0.0.8    web-2 web-2.eu.example.com
10.0.0.9    Cache-3.Prod.Example.com cache-3
"""

SITE = merge(
    [
        ("<default>", default_text()),
        (
            "site.yaml",
            """
environments:
  - name: production
    match:
      hostname: ["*.core.example.com"]
  - name: development
    match:
      hostname: ["laptop"]
""",
        ),
    ]
)


@pytest.fixture
def hosts(tmp_path: Path) -> str:
    path = tmp_path / "hosts"
    path.write_text(HOSTS)
    return str(path)


@pytest.mark.parametrize(
    ("nodename", "expected"),
    [
        ("db-1", "db-1.core.example.com"),  # not localhost.localdomain: not db-1's FQDN
        ("DB-1", "db-1.core.example.com"),
        ("cache-3", "Cache-3.Prod.Example.com"),
        ("web-2", "web-2"),  # its line's first name has no dot
        ("other", "other"),  # not listed
        ("db-1.core.example.com", "db-1.core.example.com"),  # already an FQDN
        ("db", "db"),  # a prefix of a listed name is not that name
    ],
)
def test_a_short_node_name_takes_its_fqdn_from_the_hosts_file(
    hosts: str, nodename: str, expected: str
) -> None:
    assert host.hostname(hosts=hosts, nodename=nodename) == expected


def test_no_hosts_file_keeps_the_node_name(tmp_path: Path) -> None:
    assert host.hostname(hosts=str(tmp_path / "missing"), nodename="db-1") == "db-1"


def test_the_hosts_file_is_read_again_only_when_it_changes(
    hosts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real = host._read

    def counting(path: str) -> str | None:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(host, "_read", counting)
    assert host.hostname(hosts=hosts, nodename="db-1") == "db-1.core.example.com"
    assert host.hostname(hosts=hosts, nodename="db-1") == "db-1.core.example.com"
    assert len(reads) == 1
    Path(hosts).write_text("10.0.0.7 db-1.staging.example.com db-1\n")
    st = os.stat(hosts)
    os.utime(hosts, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert host.hostname(hosts=hosts, nodename="db-1") == "db-1.staging.example.com"
    assert len(reads) == 2


def test_short_node_name_is_matched_by_an_fqdn_pattern(hosts: str) -> None:
    """Short given -> the FQDN matched: `*.core.example.com` takes `db-1`."""
    snap = gather.snapshot(variables={}, cwd="/", hosts=hosts, nodename="db-1")
    assert snap.hostname == "db-1.core.example.com"
    ev = classify(Target("local", (("hostname", snap.hostname),)), snap, SITE)
    assert (ev.environment, ev.pattern) == ("production", "*.core.example.com")


def test_fqdn_node_name_is_matched_by_a_short_pattern(hosts: str) -> None:
    """FQDN given -> the short name matched: `laptop` takes `laptop.example.org`."""
    snap = gather.snapshot(variables={}, cwd="/", hosts=hosts, nodename="laptop.example.org")
    assert snap.hostname == "laptop.example.org"
    ev = classify(Target("local", (("hostname", snap.hostname),)), snap, SITE)
    assert (ev.environment, ev.value, ev.pattern) == ("development", "laptop", "laptop")


def test_a_given_hostname_is_taken_as_it_is(hosts: str) -> None:
    """`check --hostname H` names a host, maybe not this one: no lookup."""
    snap = gather.snapshot(variables={}, cwd="/", hostname="db-1", hosts=hosts)
    assert snap.hostname == "db-1"
