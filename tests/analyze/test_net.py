"""Unit tables for the network analyzers, on hand-built invocations."""

from __future__ import annotations

import pytest

import guardsh.analyze.net
import guardsh.analyze.net_links  # noqa: F401  (registers the analyzers)
from guardsh.model import Severity
from tests.analyze.support import brief, run

H, L = "high", "low"

FIRING = [
    ("iptables -F", [("net.firewall_flush", "filter/*", H)]),
    ("iptables --flush INPUT", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -t nat -F", [("net.firewall_flush", "nat/*", H)]),
    ("iptables -F -t nat", [("net.firewall_flush", "nat/*", H)]),
    ("iptables --table=mangle --flush", [("net.firewall_flush", "mangle/*", H)]),
    ("ip6tables -vF", [("net.firewall_flush", "filter/*", H)]),
    ("iptables-nft -F FORWARD", [("net.firewall_flush", "filter/FORWARD", H)]),
    ("iptables -X", [("net.firewall_flush", "filter/*", L)]),
    ("iptables --delete-chain DOCKER-USER", [("net.firewall_flush", "filter/DOCKER-USER", L)]),
    ("iptables -P INPUT DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables --policy FORWARD REJECT", [("net.firewall_flush", "filter/FORWARD", H)]),
    ("iptables -P INPUT ACCEPT", [("net.firewall_flush", "filter/INPUT", L)]),
    ("iptables -D INPUT 5", [("net.firewall_flush", "filter/INPUT", L)]),
    (
        "iptables -t nat -D PREROUTING -p tcp --dport 80 -j DNAT --to 10.0.0.1",
        [("net.firewall_flush", "nat/PREROUTING", L)],
    ),
    ("iptables -w -F", [("net.firewall_flush", "filter/*", H)]),
    (
        "iptables-restore /etc/iptables/rules.v4",
        [("net.firewall_flush", "/etc/iptables/rules.v4", L)],
    ),
    ("nft flush ruleset", [("net.firewall_flush", "ruleset", H)]),
    ("nft 'flush ruleset'", [("net.firewall_flush", "ruleset", H)]),
    ("nft flush table inet filter", [("net.firewall_flush", "table inet filter", H)]),
    ("nft flush chain inet filter input", [("net.firewall_flush", "chain inet filter input", H)]),
    ("nft delete table inet filter", [("net.firewall_flush", "table inet filter", H)]),
    (
        "nft destroy chain ip nat postrouting",
        [("net.firewall_flush", "chain ip nat postrouting", H)],
    ),
    (
        "nft delete rule inet filter input handle 3",
        [("net.firewall_flush", "rule inet filter input handle 3", L)],
    ),
    (
        "nft flush set inet filter blocklist",
        [("net.firewall_flush", "set inet filter blocklist", L)],
    ),
    ("nft -f /etc/nftables.conf", [("net.firewall_flush", "/etc/nftables.conf", L)]),
    ("ufw disable", [("net.firewall_flush", "ufw", H)]),
    ("ufw reset", [("net.firewall_flush", "ufw", H)]),
    ("ufw --force reset", [("net.firewall_flush", "ufw", H)]),
    ("ufw delete 5", [("net.firewall_flush", "5", L)]),
    ("ufw delete allow 80/tcp", [("net.firewall_flush", "allow 80/tcp", L)]),
    ("ufw default deny incoming", [("net.firewall_flush", "incoming", L)]),
    ("firewall-cmd --panic-on", [("net.link_down", "all", H)]),
    (
        "firewall-cmd --permanent --zone block --change-interface enp1s0",
        [("net.firewall_flush", "enp1s0", H)],
    ),
    ("firewall-cmd --set-default-zone=drop", [("net.firewall_flush", "drop", H)]),
    (
        "firewall-cmd --permanent --zone public --remove-service http",
        [("net.firewall_flush", "http", L)],
    ),
    ("firewall-cmd --remove-port=22/tcp", [("net.firewall_flush", "22/tcp", L)]),
    ("firewall-cmd --complete-reload", [("net.firewall_flush", "firewalld", L)]),
    ("ip link set eth0 down", [("net.link_down", "eth0", H)]),
    ("ip link set dev bond0 down", [("net.link_down", "bond0", H)]),
    ("ip l s ens3 down", [("net.link_down", "ens3", H)]),
    ("ip -n blue link set veth1 down", [("net.link_down", "veth1", L)]),
    ("ip link set lo down", [("net.link_down", "lo", L)]),
    ("ip link set docker0 down", [("net.link_down", "docker0", L)]),
    ("ip link delete dev br-1234", [("net.link_down", "br-1234", L)]),
    ("ip link del br0", [("net.link_down", "br0", H)]),
    ("ip address flush dev eth0", [("net.link_down", "eth0", H)]),
    ("ip a f ethx scope global", [("net.link_down", "ethx", H)]),
    ("ip a d 10.0.0.12/24 dev ethx", [("net.link_down", "10.0.0.12/24", L)]),
    ("ip route del default", [("net.link_down", "default", H)]),
    ("ip -6 r d default via fe80::1 dev eth0", [("net.link_down", "default", H)]),
    ("ip route flush table main", [("net.link_down", "routes", H)]),
    ("ip route flush dev eth0", [("net.link_down", "routes", H)]),
    ("ip route flush 10.0.0.0/8", [("net.link_down", "10.0.0.0/8", L)]),
    ("ip r delete 10.0.0.12 dev ethx", [("net.link_down", "10.0.0.12", L)]),
    ("route del default", [("net.link_down", "default", H)]),
    ("route del -net 0.0.0.0 gw 10.0.0.1", [("net.link_down", "0.0.0.0", H)]),
    ("route del -net 10.0.0.0 netmask 255.0.0.0 dev eth0", [("net.link_down", "10.0.0.0", L)]),
    ("ifdown eth0", [("net.link_down", "eth0", H)]),
    ("ifdown --force eth0 wlan0", [("net.link_down", "eth0", H), ("net.link_down", "wlan0", L)]),
    ("ifdown -a", [("net.link_down", "all", H)]),
    ("ifconfig eth0 down", [("net.link_down", "eth0", H)]),
    ("ifconfig $IFACE down", [("net.link_down", "$IFACE", H)]),
    ("wg-quick down wg0", [("net.link_down", "wg0", L)]),
    ("nmcli con down 'Wired connection 1'", [("net.link_down", "Wired connection 1", H)]),
    ("nmcli c down uuid 5f3c-77", [("net.link_down", "5f3c-77", H)]),
    ("nmcli connection delete id office-wifi", [("net.link_down", "office-wifi", L)]),
    ("nmcli device disconnect eth0", [("net.link_down", "eth0", H)]),
    ("nmcli d down enp0s3", [("net.link_down", "enp0s3", H)]),
    ("nmcli networking off", [("net.link_down", "all", H)]),
    ("nmcli n off", [("net.link_down", "all", H)]),
    ("nmcli radio all off", [("net.link_down", "radio all", L)]),
]

QUIET = [
    "iptables -L",
    "iptables -nvL",
    "iptables -S",
    "iptables --verbose --numeric --list --line-numbers",
    "iptables -t nat -L -n",
    "iptables -A INPUT -p tcp --dport 22 -j ACCEPT",
    "iptables -I INPUT 1 -s 10.0.0.0/8 -j DROP",
    "iptables -Z",
    "iptables -N LOGGING",
    "iptables -C INPUT -j DROP",
    "iptables-save",
    "iptables-save -t nat",
    "iptables-restore -t /etc/iptables/rules.v4",
    "iptables-restore --noflush /etc/iptables/extra.v4",
    "nft list ruleset",
    "nft add table inet filter",
    "nft add rule inet filter input tcp dport 22 accept",
    "nft -c -f /etc/nftables.conf",
    "nft --json monitor",
    "ufw status",
    "ufw status numbered",
    "ufw allow 22",
    "ufw deny 8080",
    "ufw enable",
    "ufw --dry-run disable",
    "firewall-cmd --list-all-zones",
    "firewall-cmd --reload",
    "firewall-cmd --permanent --zone public --add-service https",
    "firewall-cmd --zone public --change-interface enp1s0",
    "firewall-cmd --panic-off",
    "ip link show",
    "ip l",
    "ip addr",
    "ip a s up",
    "ip link set eth0 up",
    "ip link set eth0 mtu 9000",
    "ip a add 10.0.0.12/24 dev eth0",
    "ip route",
    "ip r list table all",
    "ip route add default via 10.0.0.1",
    "ip route get 1.1.1.1",
    "ip route flush cache",
    "ip -br -c a",
    "route -n",
    "route add -net 10.0.0.0 netmask 255.0.0.0 gw 10.0.0.1",
    "ifconfig",
    "ifconfig -a",
    "ifconfig eth0 up",
    "ifconfig eth0 10.0.0.12",
    "ifdown -n eth0",
    "ifup eth0",
    "wg-quick up wg0",
    "nmcli connection",
    "nmcli c up uuid 5f3c-77",
    "nmcli d",
    "nmcli d wifi connect office-wifi",
    "nmcli networking on",
    "nmcli r w on",
    "nmcli g hostname web-1",
]


@pytest.mark.parametrize(("line", "expected"), FIRING)
def test_fires(line: str, expected: list[tuple[str, str, str]]) -> None:
    assert brief(run(line)) == expected


@pytest.mark.parametrize("line", QUIET)
def test_quiet(line: str) -> None:
    assert run(line) == []


def test_lockout_and_open_tags() -> None:
    (f,) = run("iptables -P INPUT DROP")
    assert "lockout" in f.tags
    (g,) = run("iptables -P OUTPUT ACCEPT")
    assert "open" in g.tags


def test_iptables_restore_of_known_empty_rules_is_high() -> None:
    empty = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n"
    (f,) = run("iptables-restore /tmp/r", files={"/tmp/r": empty})
    assert f.severity is Severity.HIGH and "empty" in f.tags
    (g,) = run("iptables-restore", stdin="*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n")
    assert g.severity is Severity.LOW and g.object == "stdin"


def test_nft_file_read_through_facts() -> None:
    conf = (
        "#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n  chain input {\n"
        "    type filter hook input priority 0; policy drop;\n  }\n}\n"
    )
    (f,) = run("nft -f /etc/nftables.conf", files={"/etc/nftables.conf": conf})
    assert (f.object, f.severity) == ("ruleset", Severity.HIGH)
    assert (
        run("nft -f /etc/add.nft", files={"/etc/add.nft": "add rule inet filter input accept\n"})
        == []
    )


def test_nft_statements_split_on_semicolons() -> None:
    fs = run("nft 'add table ip t; delete table ip old'")
    assert brief(fs) == [("net.firewall_flush", "table ip old", "high")]


def test_virtual_interface_tag_and_unknown_tag() -> None:
    (f,) = run("ip link set lo down")
    assert "virtual" in f.tags
    (g,) = run("ifconfig $IFACE down")
    assert "unknown-object" in g.tags


def test_evidence_points_at_the_command() -> None:
    line = "iptables -t nat -A POSTROUTING -j MASQUERADE -F PREROUTING"
    (f,) = run(line)
    assert f.evidence.text(line) == "-F PREROUTING"
