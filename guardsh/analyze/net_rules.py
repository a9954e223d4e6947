"""Firewall rule helpers for net: can a DROP/REJECT rule cut off ssh?

A rule on the inbound path reaches ssh (tcp/22) unless it is limited to
destination ports that leave 22 out, or to a protocol other than tcp (`-p
icmp`, `udp dport 53`, `proto udp`). Source addresses never narrow it: the
operator may well be inside that range. A port spec is `22`, `ssh`,
`OpenSSH` (the ufw application), a range (`20:30` for iptables and ufw,
`20-30` for nft), a comma list or an nft set `{ 80, 443 }`, with an optional
`/tcp` or `/udp` (ufw). A port that cannot be read counts as 22; ssh on
another port is not known statically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from guardsh.model import Word

_SSH_NAMES = frozenset({"ssh", "openssh"})
_SPLIT = re.compile(r"[,\s{}]+")


def port_spec_has_ssh(spec: str, known: bool = True) -> bool:
    """Whether a destination-port spec admits tcp/22."""
    if not known:
        return True
    ports, _, proto = spec.partition("/")
    if proto and proto.lower() != "tcp":
        return False
    for item in _SPLIT.split(ports):
        if not item:
            continue
        lo, sep, hi = item.replace("-", ":").partition(":")
        if lo.isdigit() and (not sep or hi.isdigit()):
            if int(lo) <= 22 <= int(hi if sep else lo):
                return True
        elif item.lower() in _SSH_NAMES:
            return True
    return False


def reaches_ssh(ports: Sequence[tuple[str, bool, bool]], tcp: bool = True) -> bool:
    """A rule that admits tcp, and whose every port condition (spec, known,
    negated) admits port 22."""
    return tcp and all(port_spec_has_ssh(spec, known) != negated for spec, known, negated in ports)


_TCP_NAMES = frozenset({"tcp", "6", "all", "0", "any"})


def admits_tcp(proto: Word | None, negated: bool = False) -> bool:
    """Whether a protocol match (`-p udp`, `! -p tcp`, ufw `proto`) lets tcp through."""
    if proto is None or not proto.known:
        return True
    return (proto.value.lower() in _TCP_NAMES) != negated


# --- iptables ---------------------------------------------------------------

_IPT_DPORT = frozenset({"--dport", "--destination-port", "--dports", "--destination-ports"})
_IPT_MATCH = frozenset(
    {"-s", "--source", "--src", "-d", "--destination", "--dst", "-p", "--protocol", "-i",
     "--in-interface", "-o", "--out-interface", "-m", "--match", "-f", "--fragment",
     "--sport", "--source-port", "--sports", "--source-ports"} | _IPT_DPORT
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class IptRule:
    """What an iptables rule specification says about its reach."""

    jump: Word | None  # the -j/--jump target
    ports: tuple[tuple[str, bool, bool], ...]  # destination ports: (spec, known, negated)
    tcp: bool  # the protocol match (if any) lets tcp through
    matched: bool  # any match at all (address, protocol, interface, port, module)


def iptables_rule(args: Sequence[Word]) -> IptRule:
    jump: Word | None = None
    ports: list[tuple[str, bool, bool]] = []
    tcp = True
    matched = False
    for i, w in enumerate(args):
        t = w.value
        nxt = args[i + 1] if i + 1 < len(args) else None
        if t in ("-j", "--jump") and nxt is not None:
            jump = nxt
        elif t.startswith("--jump="):
            jump = Word(t[7:], w.span, w.known)
        elif t.startswith("-j") and len(t) > 2 and w.known:
            jump = Word(t[2:], w.span, w.known)
        name = t.partition("=")[0]
        if name in _IPT_MATCH:
            matched = True
        if name in ("-p", "--protocol"):
            proto = Word(t[len(name) + 1 :], w.span, w.known) if "=" in t else nxt
            tcp = tcp and admits_tcp(proto, i > 0 and args[i - 1].value == "!")
        if name in _IPT_DPORT:
            neg = i > 0 and args[i - 1].value == "!"
            val: Word | None = Word(t[len(name) + 1 :], w.span, w.known) if "=" in t else nxt
            if val is not None and val.value == "!" and i + 2 < len(args):  # `--dport ! 22`
                neg, val = True, args[i + 2]
            if val is not None:
                ports.append((val.value, val.known, neg))
    return IptRule(jump, tuple(ports), tcp, matched)


# --- nft ----------------------------------------------------------------------

_NFT_FAMILIES = frozenset({"ip", "ip6", "inet", "arp", "bridge", "netdev"})
_NFT_DPORT = re.compile(r"\bdport\s+(!=\s*)?(\{[^}]*\}|\S+)")
_NFT_BARE = frozenset({"counter", "log", "drop", "reject", "position", "handle", "index"})
_NFT_NOT_TCP = frozenset(
    {"udp", "udplite", "icmp", "icmpv6", "sctp", "dccp", "igmp", "esp", "ah", "gre", "arp"}
)


@dataclass(frozen=True, slots=True)
class NftRule:
    """An `add|insert|replace rule` statement whose verdict is drop or reject."""

    chain: str  # as written: [family] table chain
    name: str  # the chain's own name
    ports: tuple[tuple[str, bool, bool], ...]
    tcp: bool  # no match on another protocol (udp, icmp, ...)
    matched: bool


def nft_drop_rule(toks: Sequence[str]) -> NftRule | None:
    """The rule an nft statement adds, if it drops or rejects; else None."""
    if len(toks) < 4 or toks[0] not in ("add", "insert", "replace", "create") or toks[1] != "rule":
        return None
    n = 3 if toks[2] in _NFT_FAMILIES else 2
    if len(toks) <= n + 1:
        return None
    body = toks[n + 2 :]
    if not {"drop", "reject"} & set(body):
        return None
    text = " ".join(body)
    ports = tuple(
        (m.group(2), True, bool(m.group(1))) for m in _NFT_DPORT.finditer(text)
    )  # fmt: skip
    matched = any(t not in _NFT_BARE and not t.isdigit() for t in body)
    tcp = "tcp" in body or not _NFT_NOT_TCP & set(body)
    return NftRule("chain " + " ".join(toks[2 : n + 2]), toks[n + 1], ports, tcp, matched)


# --- ufw ----------------------------------------------------------------------

_UFW_SKIP_ONE = frozenset({"on", "comment"})
_UFW_FLAGS = frozenset({"log", "log-all", "in"})


@dataclass(frozen=True, slots=True)
class UfwRule:
    """A `ufw [insert N|prepend] [route] deny|reject ...` rule."""

    verb: Word
    words: tuple[Word, ...]  # after the verb
    inbound: bool  # not `out`, not `route`
    ports: tuple[tuple[str, bool, bool], ...]  # destination ports (none: every port)
    tcp: bool  # no `proto` other than tcp


def ufw_block_rule(ops: Sequence[Word]) -> UfwRule | None:
    i = 0
    if ops and ops[0].value == "insert":
        i = 2
    elif ops and ops[0].value == "prepend":
        i = 1
    route = i < len(ops) and ops[i].value == "route"
    i += route
    if i >= len(ops) or ops[i].value not in ("deny", "reject"):
        return None
    verb, rest = ops[i], tuple(ops[i + 1 :])
    if not rest:
        return None
    inbound = not route
    tcp = True
    ports: list[tuple[str, bool, bool]] = []
    values = [w.value for w in rest]
    full = "from" in values or "to" in values
    side = ""
    j = 0
    while j < len(rest):
        v = values[j]
        if v == "out":
            inbound = False
        elif v in _UFW_SKIP_ONE:
            j += 1
        elif v == "proto" and j + 1 < len(rest):
            tcp = admits_tcp(rest[j + 1])
            j += 1
        elif v in ("from", "to"):
            side = v
        elif v in ("port", "app") and side == "to" and j + 1 < len(rest):
            ports.append((values[j + 1], rest[j + 1].known, False))
            j += 1
        elif not full and v not in _UFW_FLAGS:
            ports.append((v, rest[j].known, False))
        j += 1
    return UfwRule(verb, rest, inbound, tuple(ports), tcp)
