"""Firewall analyzers: iptables (and its variants), iptables-restore, nft, ufw,
firewalld (links and routes are net_links').

Severity choices:
- net.firewall_flush HIGH: `iptables -F` (any table/chain), `-P CHAIN
  DROP|REJECT` (tag `lockout`), `nft flush ruleset|table|chain`, `nft
  delete|destroy table|chain`, `ufw disable|reset`, firewalld moving an
  interface or the default zone to drop/block, `iptables-restore` of a known
  empty rule set. LOW: one rule removed (`iptables -D`, `nft delete rule`,
  `ufw delete`, `firewall-cmd --remove-*`), `iptables -X` (only empty,
  unreferenced chains can go), `-P CHAIN ACCEPT` (tag `open`), `nft flush
  set`, `iptables-restore`/`nft -f` of a file we cannot read (tag `replace`).
- `firewall-cmd --panic-on` drops every packet: net.link_down HIGH.
- rules and policies that drop traffic are net.firewall_flush too (as `-P
  INPUT DROP` is), HIGH with tag `lockout` when they can cut off ssh to this
  host: a DROP/REJECT rule added (`iptables -A|-I|-R`, `nft add|insert rule
  ... drop|reject`) to INPUT (nft: a chain named `input`) unless it is
  limited to destination ports that leave 22 out or to a protocol other than
  tcp (net_rules), or to OUTPUT with no match at all (sshd's replies leave
  there); `ufw deny|reject` of ssh/22 or of every port; `ufw enable` (its
  rules and default policy take effect); `ufw default deny|reject
  [incoming]`. LOW (tag `rule`): the same on other chains, for other ports
  or protocols, outbound (`ufw deny out`, `ufw route`), and the other `ufw
  default` policies. Checks (`iptables -C`, `nft -c`, `ufw --dry-run`),
  ACCEPT rules and `ufw allow|limit` stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from guardsh.analyze.net_rules import iptables_rule, nft_drop_rule, reaches_ssh, ufw_block_rule
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Span, Word
from guardsh.parse.argv import parse_argv

_LOCKOUT_TARGETS = frozenset({"DROP", "REJECT"})
_LOCKOUT_ZONES = frozenset({"drop", "block"})


def _span(inv: Invocation, *words: Word | None) -> Span:
    """Evidence from the first to the last given word, or the invocation."""
    spans = [w.span for w in words if w is not None and w.span.end > w.span.start]
    if not spans:
        return inv.span
    return Span(min(s.start for s in spans), max(s.end for s in spans))


def _fw(
    inv: Invocation, obj: str, sev: Severity, ev: Span, detail: str, tags: Sequence[str] = ()
) -> Finding:
    return finding(inv, "net.firewall_flush", obj, sev, evidence=ev, tags=tags, detail=detail)


def _block(
    inv: Invocation, obj: str, lockout: bool, ev: Span, detail: str, kind: str = "rule"
) -> Finding:
    """A rule or policy that drops traffic: HIGH (`lockout`) when it can cut off ssh."""
    if lockout:
        return _fw(inv, obj, Severity.HIGH, ev, f"{detail}: ssh to this host can be cut off",
                   [kind, "lockout"])  # fmt: skip
    return _fw(inv, obj, Severity.LOW, ev, detail, [kind])


# --- iptables family -------------------------------------------------------

_IPT_LONG = {
    "flush": "F", "delete-chain": "X", "policy": "P", "delete": "D", "list": "L",
    "list-rules": "S", "zero": "Z", "append": "A", "insert": "I", "replace": "R",
    "check": "C", "new-chain": "N", "rename-chain": "E",
}  # fmt: skip
_IPT_COMMANDS = frozenset("ADIRLSFZNXPEC")
_IPT_SHORT_VALUE = frozenset("jgpsdiomcW")


@analyzer(
    "iptables", "ip6tables", "iptables-legacy", "iptables-nft", "ip6tables-legacy",
    "ip6tables-nft", "ebtables", "arptables",
)  # fmt: skip
def iptables(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = inv.args
    table = "filter"
    cmds: list[tuple[str, int]] = []
    i = 0
    while i < len(args):
        t = args[i].value
        if t in ("-t", "--table") and i + 1 < len(args):
            table = args[i + 1].value
            i += 2
            continue
        if t.startswith("--table="):
            table = t[8:]
        elif t.startswith("--"):
            letter = _IPT_LONG.get(t[2:])
            if letter:
                cmds.append((letter, i))
        elif t.startswith("-") and len(t) > 1 and args[i].known:
            for j, c in enumerate(t[1:], 1):
                if c == "t":
                    table = t[j + 1 :] or (args[i + 1].value if i + 1 < len(args) else table)
                    break
                if c in _IPT_SHORT_VALUE:  # `-jDROP`, `-ptcp`: the rest is a value
                    break
                if c in _IPT_COMMANDS:
                    cmds.append((c, i))
        i += 1
    for letter, at in cmds:
        after = list(args[at + 1 : at + 3])
        chain = after[0] if after and not after[0].value.startswith("-") else None
        name = chain.value if chain is not None else "*"
        obj = f"{table}/{name}"
        ev = _span(inv, args[at], chain)
        if letter == "F":
            yield _fw(inv, obj, Severity.HIGH, ev, f"every rule of {obj} is removed", ["flush"])
        elif letter == "X":
            yield _fw(inv, obj, Severity.LOW, ev, f"user chain {obj} deleted", ["delete-chain"])
        elif letter == "D" and chain is not None:
            yield _fw(inv, obj, Severity.LOW, ev, f"a rule of {obj} is deleted", ["rule"])
        elif letter == "P" and chain is not None and len(after) == 2:
            verdict = after[1].value.upper()
            if verdict in _LOCKOUT_TARGETS:
                yield _fw(
                    inv, obj, Severity.HIGH, _span(inv, args[at], after[1]),
                    f"default policy of {obj} set to {verdict}: unmatched traffic is dropped",
                    ["policy", "lockout"],
                )  # fmt: skip
            else:
                yield _fw(
                    inv, obj, Severity.LOW, _span(inv, args[at], after[1]),
                    f"default policy of {obj} set to {after[1].value}", ["policy", "open"],
                )  # fmt: skip
        elif letter in "AIR" and chain is not None:
            rule = iptables_rule(args)
            verdict = rule.jump.value.upper() if rule.jump is not None else ""
            if verdict in _LOCKOUT_TARGETS:
                lockout = (name == "INPUT" and reaches_ssh(rule.ports, rule.tcp)) or (
                    name == "OUTPUT" and not rule.matched
                )
                yield _block(
                    inv, obj, lockout, _span(inv, args[at], chain, rule.jump),
                    f"a {verdict} rule is added to {obj}",
                )  # fmt: skip


@analyzer(
    "iptables-restore", "ip6tables-restore", "iptables-legacy-restore",
    "iptables-nft-restore", "ip6tables-legacy-restore", "ip6tables-nft-restore",
)  # fmt: skip
def iptables_restore(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value="TMW", long_value={"table", "modprobe"})
    if p.has("-n", "--noflush", "-t", "--test", "-h", "--help"):
        return
    src = p.operands[0] if p.operands else None
    if src is not None:
        text = ctx.facts.read_file(src.value) if src.known else None
        name = src.value
    else:
        text = inv.stdin.text if inv.stdin is not None else None
        name = "stdin"
    rules = None if text is None else sum(
        1 for ln in text.splitlines() if ln.lstrip().startswith(("-A", "-I", "--append"))
    )  # fmt: skip
    if rules == 0:
        yield _fw(
            inv, name, Severity.HIGH, _span(inv, src), f"the rule set is replaced by {name}, "
            "which holds no rules", ["replace", "empty"],
        )  # fmt: skip
    else:
        yield _fw(
            inv, name, Severity.LOW, _span(inv, src),
            f"every table in {name} replaces the live rules", ["replace"],
        )  # fmt: skip


# --- nftables ---------------------------------------------------------------

_NFT_HIGH_OBJECTS = frozenset({"ruleset", "table", "chain"})


def _nft_statements(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for stmt in line.split(";"):
            toks = stmt.split()
            if toks:
                yield toks


def _nft_findings(inv: Invocation, text: str, ev: Span, source: str) -> Iterator[Finding]:
    for toks in _nft_statements(text):
        verb = toks[0]
        kind = toks[1] if len(toks) > 1 else ""
        rest = toks[2:]
        if "{" in rest:
            rest = rest[: rest.index("{")]
        obj = f"{kind} {' '.join(rest)}".strip()
        if verb == "flush" and kind in _NFT_HIGH_OBJECTS:
            yield _fw(inv, obj, Severity.HIGH, ev, f"nft flush {obj}{source}", ["flush"])
        elif verb in ("delete", "destroy") and kind in ("table", "chain"):
            yield _fw(inv, obj, Severity.HIGH, ev, f"nft {verb} {obj}{source}", ["delete-chain"])
        elif verb == "flush" and kind in ("set", "map", "meter"):
            yield _fw(inv, obj, Severity.LOW, ev, f"nft flush {obj}{source}", ["flush"])
        elif verb in ("delete", "destroy") and kind in ("rule", "set", "map", "element"):
            yield _fw(inv, obj, Severity.LOW, ev, f"nft {verb} {obj}{source}", ["rule"])
        elif (rule := nft_drop_rule(toks)) is not None:
            name = rule.name.lower()
            lockout = (name == "input" and reaches_ssh(rule.ports, rule.tcp)) or (
                name == "output" and not rule.matched
            )
            yield _block(
                inv, rule.chain, lockout, ev, f"a drop rule is added to {rule.chain}{source}"
            )


@analyzer("nft")
def nft(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(
        inv.args, short_value="fIDd", long_value={"file", "includepath", "define", "debug"}
    )
    if p.has("-c", "--check", "-i", "--interactive", "-h", "--help", "-v", "--version"):
        return
    f = p.value("-f", "--file")
    if f is not None:
        if f.value == "-":
            text = inv.stdin.text if inv.stdin is not None else None
        else:
            text = ctx.facts.read_file(f.value) if f.known else None
        if text is None:
            yield _fw(
                inv, f.value, Severity.LOW, _span(inv, f),
                f"rules loaded from {f.value}, which could not be read",
                ["replace", "unknown-object"],
            )  # fmt: skip
        else:
            yield from _nft_findings(inv, text, _span(inv, f), f" (in {f.value})")
        return
    if p.operands and all(w.known for w in p.operands):
        text = " ".join(w.value for w in p.operands)
        yield from _nft_findings(inv, text, _span(inv, *p.operands), "")


# --- ufw, firewalld ---------------------------------------------------------


@analyzer("ufw")
def ufw(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    if p.has("--dry-run") or not p.operands:
        return
    verb = p.operands[0]
    if verb.value in ("disable", "reset"):
        yield _fw(
            inv, "ufw", Severity.HIGH, _span(inv, verb),
            f"ufw {verb.value}: the firewall is off", [verb.value],
        )  # fmt: skip
    elif verb.value == "enable":
        yield _fw(
            inv, "ufw", Severity.HIGH, _span(inv, verb), "ufw enable: its rules and default "
            "policy take effect; ssh is cut off unless a rule allows it", ["enable", "lockout"],
        )  # fmt: skip
    elif (block := ufw_block_rule(p.operands)) is not None:
        text = " ".join(w.value for w in block.words)
        lockout = block.inbound and reaches_ssh(block.ports, block.tcp)
        ev = _span(inv, verb, *block.words)
        yield _block(inv, text, lockout, ev, f"ufw {block.verb.value} {text}")
    elif verb.value == "delete" and len(p.operands) > 1:
        rule = " ".join(w.value for w in p.operands[1:])
        yield _fw(inv, rule, Severity.LOW, _span(inv, *p.operands), f"ufw rule {rule} deleted",
                  ["rule"])  # fmt: skip
    elif verb.value == "default" and len(p.operands) > 1:
        policy = p.operands[1].value
        where = " ".join(w.value for w in p.operands[2:]) or "incoming"
        ev, detail = _span(inv, *p.operands), f"ufw default policy set to {policy}"
        if policy in ("deny", "reject"):
            yield _block(inv, where, where in ("incoming", "in"), ev, detail, "policy")
        else:
            yield _fw(inv, where, Severity.LOW, ev, detail, ["policy", "open"])


_FIREWALLD_LONG = frozenset(
    {"zone", "change-interface", "add-interface", "set-default-zone", "policy", "service",
     "ipset", "helper", "icmptype", "direct", "permanent-zone"}
    | {f"{verb}-{what}" for verb in ("add", "remove", "query")
       for what in ("service", "port", "source", "rich-rule", "interface", "forward-port",
                    "protocol", "source-port", "icmp-block", "lockdown-whitelist-command",
                    "lockdown-whitelist-context", "lockdown-whitelist-uid",
                    "lockdown-whitelist-user")}
)  # fmt: skip


@analyzer("firewall-cmd")
def firewall_cmd(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, long_value=_FIREWALLD_LONG)
    if p.has("--panic-on"):
        yield finding(
            inv, "net.link_down", "all", Severity.HIGH, tags=["panic"],
            detail="panic mode: every packet in and out is dropped",
        )  # fmt: skip
    zone = p.value("--zone")
    for opt in p.opts:
        if opt.name in ("--change-interface", "--add-interface") and zone is not None:
            if zone.value in _LOCKOUT_ZONES and opt.value is not None:
                yield _fw(
                    inv, opt.value.value, Severity.HIGH, _span(inv, opt.word, opt.value),
                    f"interface {opt.value.value} moved to zone {zone.value}: traffic dropped",
                    ["lockout"],
                )  # fmt: skip
        elif opt.name == "--set-default-zone" and opt.value is not None:
            if opt.value.value in _LOCKOUT_ZONES:
                yield _fw(
                    inv, opt.value.value, Severity.HIGH, _span(inv, opt.word, opt.value),
                    f"default zone set to {opt.value.value}: traffic dropped", ["lockout"],
                )  # fmt: skip
        elif opt.name.startswith("--remove-"):
            what = opt.value.value if opt.value is not None else opt.name[9:]
            yield _fw(
                inv, what, Severity.LOW, _span(inv, opt.word, opt.value),
                f"{opt.name[9:]} {what} removed from the firewall", ["rule"],
            )  # fmt: skip
        elif opt.name == "--complete-reload":
            yield _fw(inv, "firewalld", Severity.LOW, _span(inv, opt.word),
                      "complete reload: connection state is lost", ["reload"])  # fmt: skip
