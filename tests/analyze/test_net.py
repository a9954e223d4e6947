"""Unit tables for the network analyzers, on hand-built invocations."""

from __future__ import annotations

import pytest

import guardsh.analyze.net
import guardsh.analyze.net_links  # noqa: F401  (registers the analyzers)
from guardsh.analyze.net_rules import port_spec_has_ssh
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
    ("iptables -A INPUT -j DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -I INPUT 1 -s 10.0.0.0/8 -j DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables --insert INPUT --jump=REJECT", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -j DROP -A INPUT -p tcp", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -A INPUT -jDROP", [("net.firewall_flush", "filter/INPUT", H)]),
    (
        "iptables -R INPUT 2 -p tcp --dport 22 -j REJECT",
        [("net.firewall_flush", "filter/INPUT", H)],
    ),
    ("ip6tables -A INPUT -p tcp --dport ssh -j DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    (
        "iptables -A INPUT -p tcp -m multiport --dports 20:30,80 -j DROP",
        [("net.firewall_flush", "filter/INPUT", H)],
    ),
    ("iptables -A INPUT -p tcp --dport 80 -j DROP", [("net.firewall_flush", "filter/INPUT", L)]),
    ("iptables -A INPUT -p tcp ! --dport 22 -j DROP", [("net.firewall_flush", "filter/INPUT", L)]),
    ("iptables -A INPUT -p tcp --dport ! 22 -j DROP", [("net.firewall_flush", "filter/INPUT", L)]),
    ("iptables -A INPUT -p tcp ! --dport 80 -j DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -A INPUT -p tcp --dport $P -j DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -A INPUT -p icmp -j DROP", [("net.firewall_flush", "filter/INPUT", L)]),
    ("iptables -A INPUT --protocol=udp -j DROP", [("net.firewall_flush", "filter/INPUT", L)]),
    ("iptables -A INPUT ! -p tcp -j DROP", [("net.firewall_flush", "filter/INPUT", L)]),
    ("iptables -A INPUT ! -p udp -j DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -A INPUT -p all -j DROP", [("net.firewall_flush", "filter/INPUT", H)]),
    ("iptables -A OUTPUT -j DROP", [("net.firewall_flush", "filter/OUTPUT", H)]),
    ("iptables -A OUTPUT -d 10.9.9.9 -j DROP", [("net.firewall_flush", "filter/OUTPUT", L)]),
    ("iptables -A FORWARD -j REJECT", [("net.firewall_flush", "filter/FORWARD", L)]),
    (
        "iptables -I DOCKER-USER -s 1.2.3.4 -j DROP",
        [("net.firewall_flush", "filter/DOCKER-USER", L)],
    ),
    ("iptables -t raw -A PREROUTING -j DROP", [("net.firewall_flush", "raw/PREROUTING", L)]),
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
    ("nft add rule inet filter input drop", [("net.firewall_flush", "chain inet filter input", H)]),
    (
        "nft insert rule filter INPUT counter reject",
        [("net.firewall_flush", "chain filter INPUT", H)],
    ),
    (
        "nft add rule inet filter input tcp dport 22 drop",
        [("net.firewall_flush", "chain inet filter input", H)],
    ),
    (
        "nft add rule inet filter input ip saddr 10.0.0.0/8 drop",
        [("net.firewall_flush", "chain inet filter input", H)],
    ),
    (
        "nft add rule inet filter input tcp dport != 22 drop",
        [("net.firewall_flush", "chain inet filter input", L)],
    ),
    (
        "nft 'add rule inet filter input tcp dport { 80, 443 } drop'",
        [("net.firewall_flush", "chain inet filter input", L)],
    ),
    (
        "nft add rule inet filter input tcp dport 1-1024 drop",
        [("net.firewall_flush", "chain inet filter input", H)],
    ),
    (
        "nft add rule inet filter input icmp type echo-request drop",
        [("net.firewall_flush", "chain inet filter input", L)],
    ),
    (
        "nft add rule inet filter input meta l4proto tcp drop",
        [("net.firewall_flush", "chain inet filter input", H)],
    ),
    ("nft add rule ip filter output drop", [("net.firewall_flush", "chain ip filter output", H)]),
    (
        "nft add rule ip filter output ip daddr 1.2.3.4 drop",
        [("net.firewall_flush", "chain ip filter output", L)],
    ),
    (
        "nft add rule inet filter forward drop",
        [("net.firewall_flush", "chain inet filter forward", L)],
    ),
    ("ufw disable", [("net.firewall_flush", "ufw", H)]),
    ("ufw reset", [("net.firewall_flush", "ufw", H)]),
    ("ufw --force reset", [("net.firewall_flush", "ufw", H)]),
    ("ufw delete 5", [("net.firewall_flush", "5", L)]),
    ("ufw delete allow 80/tcp", [("net.firewall_flush", "allow 80/tcp", L)]),
    ("ufw default deny incoming", [("net.firewall_flush", "incoming", H)]),
    ("ufw default reject", [("net.firewall_flush", "incoming", H)]),
    ("ufw default deny outgoing", [("net.firewall_flush", "outgoing", L)]),
    ("ufw default allow incoming", [("net.firewall_flush", "incoming", L)]),
    ("ufw enable", [("net.firewall_flush", "ufw", H)]),
    ("ufw --force enable", [("net.firewall_flush", "ufw", H)]),
    ("ufw deny 22", [("net.firewall_flush", "22", H)]),
    ("ufw reject ssh", [("net.firewall_flush", "ssh", H)]),
    ("ufw deny 20:30/tcp", [("net.firewall_flush", "20:30/tcp", H)]),
    ("ufw deny 22/udp", [("net.firewall_flush", "22/udp", L)]),
    ("ufw deny 8080", [("net.firewall_flush", "8080", L)]),
    ("ufw deny log 80,443/tcp", [("net.firewall_flush", "log 80,443/tcp", L)]),
    ("ufw deny $PORT", [("net.firewall_flush", "$PORT", H)]),
    ("ufw prepend deny from 203.0.113.7", [("net.firewall_flush", "from 203.0.113.7", H)]),
    (
        "ufw insert 1 reject proto tcp from any to any port 22",
        [("net.firewall_flush", "proto tcp from any to any port 22", H)],
    ),
    (
        "ufw deny from 10.0.0.0/8 port 22 to any port 443",
        [("net.firewall_flush", "from 10.0.0.0/8 port 22 to any port 443", L)],
    ),
    (
        "ufw deny in on eth0 to any app OpenSSH",
        [("net.firewall_flush", "in on eth0 to any app OpenSSH", H)],
    ),
    ("ufw deny out 22", [("net.firewall_flush", "out 22", L)]),
    (
        "ufw deny proto udp from any to any port 22",
        [("net.firewall_flush", "proto udp from any to any port 22", L)],
    ),
    (
        "ufw deny in on eth0 to 10.0.0.1 proto igmp",
        [("net.firewall_flush", "in on eth0 to 10.0.0.1 proto igmp", L)],
    ),
    ("ufw route deny 22", [("net.firewall_flush", "22", L)]),
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
    "iptables -Z",
    "iptables -N LOGGING",
    "iptables -C INPUT -j DROP",
    "iptables --check INPUT -p tcp --dport 22 -j REJECT",
    "iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    "iptables -A INPUT -j LOG",
    "iptables -I INPUT -j f2b-sshd",
    "iptables -N DROP_LOG",
    "nft add rule inet filter input ct state established accept",
    "nft add rule inet filter input tcp dport 22 counter",
    "nft add chain inet filter drop",
    "ufw allow ssh",
    "ufw limit 22/tcp",
    "ufw allow from 10.0.0.0/8 to any port 22",
    "ufw --dry-run deny 22",
    "ufw --dry-run enable",
    "ufw deny",
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


@pytest.mark.parametrize(
    ("spec", "has_ssh"),
    [
        ("22", True), ("ssh", True), ("OpenSSH", True), ("22/tcp", True), ("22/udp", False),
        ("20:30", True), ("1-1024", True), ("23:30", False), ("80,443", False),
        ("{ 80, 22 }", True), ("http", False), ("8022", False), ("a:b", False),
    ],
)  # fmt: skip
def test_port_spec_has_ssh(spec: str, has_ssh: bool) -> None:
    assert port_spec_has_ssh(spec) is has_ssh
    assert port_spec_has_ssh(spec, known=False)


def test_lockout_rule_tags_and_evidence() -> None:
    line = "iptables -w -I INPUT 1 -s 10.0.0.0/8 -j DROP"
    (f,) = run(line)
    assert {"rule", "lockout"} <= f.tags
    assert f.evidence.text(line) == "-I INPUT 1 -s 10.0.0.0/8 -j DROP"
    (g,) = run("iptables -A INPUT -p udp --dport 53 -j DROP")
    assert g.tags == {"rule"}
    (h,) = run("ufw enable")
    assert {"enable", "lockout"} <= h.tags


def test_nft_file_with_a_drop_rule() -> None:
    conf = "add rule inet filter input tcp dport 443 accept\nadd rule inet filter input drop\n"
    (f,) = run("nft -f /etc/nft.d/lock.nft", files={"/etc/nft.d/lock.nft": conf})
    assert (f.object, f.severity) == ("chain inet filter input", Severity.HIGH)
