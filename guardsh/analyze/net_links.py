"""Link and route analyzers: ip, route, ifconfig, ifdown, wg-quick, nmcli
(firewalls are net's).

net.link_down: an interface taken down or deleted, its addresses flushed, a
default route deleted or the routing table flushed, `nmcli networking off`.
Which interface carries the host's own traffic cannot be known statically,
so it is HIGH unless the name looks loopback, virtual, wireless or VPN (lo,
docker*, veth*, br-*, wg*, tun*, wlan*, ...), which is LOW. Deleting one
address or one non-default route is LOW.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Span, Word
from guardsh.parse.argv import parse_argv

_SOFT_IFACE = re.compile(
    r"""^(lo|docker\d*|veth\S*|virbr\S*|br-\S+|tun\d*|tap\S*|wg\S*|dummy\S*|cni\S*
    |flannel\S*|cali\S*|vxlan\S*|kube-\S+|lxc\S*|lxdbr\S*|vnet\S*|wlan\S*|wlp\S*
    |ppp\d*|tailscale\S*|zt\S*|vboxnet\S*|podman\S*)$|wi-?fi|wlan|vpn|wireguard""",
    re.VERBOSE | re.IGNORECASE,
)


def _span(inv: Invocation, *words: Word | None) -> Span:
    """Evidence from the first to the last given word, or the invocation."""
    spans = [w.span for w in words if w is not None and w.span.end > w.span.start]
    if not spans:
        return inv.span
    return Span(min(s.start for s in spans), max(s.end for s in spans))


def _link(inv: Invocation, iface: Word, ev: Span, detail: str, tags: Sequence[str] = ()) -> Finding:
    """One interface losing connectivity; severity by how it is named."""
    t = list(tags)
    if not iface.known:
        sev = Severity.HIGH
        t.append("unknown-object")
    elif _SOFT_IFACE.search(iface.value):
        sev = Severity.LOW
        t.append("virtual")
    else:
        sev = Severity.HIGH
    return finding(inv, "net.link_down", iface.value, sev, evidence=ev, tags=t, detail=detail)


# iproute2 resolves abbreviations by the first match in its own command order.
_IP_OBJECTS = ("address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour",
               "ntable", "ntbl", "link")  # fmt: skip
_IP_VERBS = {
    "link": ("add", "set", "change", "replace", "delete", "show", "list"),
    "address": ("add", "change", "replace", "delete", "show", "list", "flush"),
    "route": ("add", "change", "replace", "prepend", "append", "test", "delete", "show",
              "list", "get", "flush"),
}  # fmt: skip
_IP_VALUE_OPTS = frozenset({"-n", "-netns", "-b", "-batch", "-f", "-family", "-l", "-loops",
                            "-rc", "-rcvbuf"})  # fmt: skip
_ROUTE_KEYWORDS = frozenset(
    {"table", "dev", "via", "proto", "scope", "type", "metric", "src", "root", "match", "exact",
     "tos", "realm", "oif", "iif", "vrf"}
)  # fmt: skip


def _resolve(word: str, names: Sequence[str]) -> str | None:
    if not word:
        return None
    return next((n for n in names if n.startswith(word)), None)


@analyzer("ip")
def ip(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = inv.args
    i = 0
    while i < len(args) and args[i].value.startswith("-"):
        i += 2 if args[i].value in _IP_VALUE_OPTS else 1
    if i + 1 >= len(args):
        return
    obj = _resolve(args[i].value, _IP_OBJECTS)
    verbs = _IP_VERBS.get(obj or "")
    verb = _resolve(args[i + 1].value, verbs) if verbs else None
    rest = args[i + 2 :]
    vw = args[i + 1]
    if obj == "link" and verb == "set":
        words = [w.value for w in rest]
        dev = rest[words.index("dev") + 1] if "dev" in words[:-1] else (rest[0] if rest else None)
        if dev is not None and "down" in words:
            yield _link(inv, dev, _span(inv, vw, *rest), f"interface {dev.value} taken down")
    elif obj == "link" and verb == "delete" and rest:
        dev = rest[1] if rest[0].value == "dev" and len(rest) > 1 else rest[0]
        yield _link(inv, dev, _span(inv, vw, dev), f"interface {dev.value} deleted", ["delete"])
    elif obj == "address" and verb == "flush" and rest:
        dev = rest[1] if rest[0].value == "dev" and len(rest) > 1 else rest[0]
        yield _link(inv, dev, _span(inv, vw, *rest), f"every address of {dev.value} removed",
                    ["flush"])  # fmt: skip
    elif obj == "address" and verb == "delete" and rest:
        words = [w.value for w in rest]
        on = f" dev {words[words.index('dev') + 1]}" if "dev" in words[:-1] else ""
        yield finding(
            inv, "net.link_down", rest[0].value, Severity.LOW, evidence=_span(inv, vw, *rest),
            tags=["address"], detail=f"address {rest[0].value}{on} removed",
        )  # fmt: skip
    elif obj == "route" and verb in ("delete", "flush"):
        yield from _route(inv, verb, vw, rest)


def _route(inv: Invocation, verb: str, vw: Word, rest: Sequence[Word]) -> Iterator[Finding]:
    words = [w.value for w in rest]
    if verb == "flush" and "cache" in words:
        return
    prefix = next(
        (w for k, w in enumerate(words) if w not in _ROUTE_KEYWORDS
         and (k == 0 or words[k - 1] not in _ROUTE_KEYWORDS)), None,
    )  # fmt: skip
    ev = _span(inv, vw, *rest)
    if prefix in (None, "default", "0.0.0.0/0", "::/0", "all"):
        what = "default route" if prefix == "default" or verb == "delete" else "routing table"
        yield finding(
            inv, "net.link_down", prefix or "routes", Severity.HIGH, evidence=ev,
            tags=["route"], detail=f"the {what} is removed: the host may become unreachable",
        )  # fmt: skip
    else:
        yield finding(
            inv, "net.link_down", prefix, Severity.LOW, evidence=ev, tags=["route"],
            detail=f"route {prefix} removed",
        )  # fmt: skip


@analyzer("route")
def route(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    words = [w.value for w in inv.args]
    if "del" not in words:
        return
    after = [w for w in words[words.index("del") + 1 :] if w not in ("-net", "-host")]
    dest = after[0] if after else "default"
    mask = after[after.index("netmask") + 1] if "netmask" in after[:-1] else None
    high = dest == "default" or (dest == "0.0.0.0" and mask in (None, "0.0.0.0"))
    yield finding(
        inv, "net.link_down", dest, Severity.HIGH if high else Severity.LOW, tags=["route"],
        detail="the default route is removed" if high else f"route {dest} removed",
    )  # fmt: skip


@analyzer("ifconfig")
def ifconfig(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    ops = p.operands
    if len(ops) >= 2 and any(w.value == "down" for w in ops[1:]):
        yield _link(inv, ops[0], _span(inv, *ops), f"interface {ops[0].value} taken down")


@analyzer("ifdown", "wg-quick")
def ifdown(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(
        inv.args, short_value="iXo",
        long_value={"interfaces", "exclude", "option", "allow", "state-dir"},
    )  # fmt: skip
    if p.has("-n", "--no-act", "-h", "--help"):
        return
    ops = list(p.operands)
    if inv.program == "wg-quick":
        if len(ops) < 2 or ops[0].value != "down":
            return
        ops = ops[1:]
    if p.has("-a", "--all"):
        yield finding(inv, "net.link_down", "all", Severity.HIGH, tags=["all"],
                      detail="every configured interface taken down")  # fmt: skip
    for w in ops:
        if inv.program == "wg-quick":
            yield finding(
                inv, "net.link_down", w.value, Severity.LOW, evidence=_span(inv, w),
                tags=["vpn"], detail=f"WireGuard tunnel {w.value} taken down",
            )  # fmt: skip
        else:
            yield _link(inv, w, _span(inv, w), f"interface {w.value} taken down")


_NMCLI_OBJECTS = ("general", "networking", "radio", "connection", "device", "agent", "monitor")
_NMCLI_VERBS = {
    "connection": ("show", "up", "down", "add", "edit", "delete", "monitor", "reload", "load",
                   "modify", "clone", "import", "export", "migrate"),
    "device": ("status", "show", "set", "connect", "reapply", "modify", "disconnect", "delete",
               "monitor", "wifi", "lldp", "up", "down"),
    "networking": ("on", "off", "connectivity"),
    "radio": ("all", "wifi", "wwan"),
}  # fmt: skip
_NMCLI_ID_KEYWORDS = frozenset({"id", "uuid", "path", "apath", "ifname"})


@analyzer("nmcli")
def nmcli(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    g = parse_argv(
        inv.args, short_value="mcfgew", stop_at_operand=True,
        long_value={"mode", "colors", "fields", "get-values", "escape", "wait"},
    )  # fmt: skip
    rest = g.rest
    if len(rest) < 2 or g.has("-h", "--help"):
        return
    obj = _resolve(rest[0].value, _NMCLI_OBJECTS)
    verb = _resolve(rest[1].value, _NMCLI_VERBS.get(obj or "", ()))
    names = [w for w in rest[2:] if w.value not in _NMCLI_ID_KEYWORDS]
    vw = rest[1]
    if obj == "networking" and verb == "off":
        yield finding(inv, "net.link_down", "all", Severity.HIGH, evidence=_span(inv, *rest),
                      tags=["all"], detail="NetworkManager takes every interface down")  # fmt: skip
    elif obj == "radio" and len(rest) > 2 and rest[-1].value == "off":
        yield finding(inv, "net.link_down", f"radio {verb or rest[1].value}", Severity.LOW,
                      evidence=_span(inv, *rest), tags=["radio"],
                      detail="wireless radios switched off")  # fmt: skip
    elif (obj, verb) in (("connection", "down"), ("connection", "delete")):
        for w in names:
            yield _link(inv, w, _span(inv, vw, w), f"connection {w.value}: {verb}", [verb or ""])
    elif (obj, verb) in (("device", "disconnect"), ("device", "down"), ("device", "delete")):
        for w in names:
            yield _link(inv, w, _span(inv, vw, w), f"device {w.value}: {verb}", [verb or ""])
