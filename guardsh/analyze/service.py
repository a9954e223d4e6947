"""Service and system analyzers: systemd, SysV/OpenRC scripts, shutdown (cron
is service_cron's).

Severity choices (policies refine them through tags):
- stopping, killing, freezing or masking a unit is LOW, HIGH with tag
  `critical` when the unit looks like something a host cannot lose (a
  database, sshd, the container runtime, the network, systemd itself) or when
  a unit pattern matches everything (tag `all`). `--user` units stay LOW.
- restart/reload is LOW (tag `critical` kept for policies), except restarting
  the network stack, which is HIGH: a broken network config leaves a remote
  host unreachable.
- disable is LOW (plus a stop finding with `--now`); mask is stop + disable.
- shutdown, halt, poweroff, suspend/hibernate, `isolate rescue|emergency`,
  `init 0|1`: system.shutdown HIGH. reboot, kexec, soft-reboot, `init 6`:
  system.reboot HIGH. Their object is the host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from guardsh.analyze.registry import Context, analyzer, fallback, finding
from guardsh.model import Finding, Invocation, Severity, Span, Target, Word
from guardsh.parse.argv import Parsed, parse_argv

_CRITICAL = re.compile(
    r"""^(postgres[\w.-]*|pgbouncer|patroni|mysql[\w.-]*|mariadb[\w.-]*|redis[\w.-]*|valkey[\w.-]*
    |mongod[\w.-]*|memcached|cassandra|elasticsearch|opensearch|clickhouse[\w.-]*
    |rabbitmq[\w.-]*|kafka|zookeeper|etcd|consul|vault|ssh|sshd|openssh[\w.-]*
    |docker|containerd|crio|cri-o|podman|kubelet|kube-[\w.-]+|k3s[\w.-]*|rke2[\w.-]*
    |nginx|haproxy|apache2|httpd|envoy|traefik|keepalived|pacemaker|corosync
    |network[\w.-]*|NetworkManager|wpa_supplicant|firewalld|nftables|iptables|ufw
    |dbus|cron|crond|rsyslog|systemd-.*|dnsmasq|named|bind9|unbound|chronyd?|ntpd?)$""",
    re.VERBOSE | re.IGNORECASE,
)
_NETWORK = re.compile(
    r"^(network\w*|NetworkManager|systemd-networkd|systemd-resolved|wpa_supplicant)$",
    re.IGNORECASE,
)
_UNIT_SUFFIX = re.compile(
    r"\.(service|socket|target|timer|mount|automount|path|slice|scope|swap|device)$"
)

# systemctl's options that take a value (short letters, long names).
_SYSTEMCTL_SHORT = "tpsHMnoPC"
_SYSTEMCTL_LONG = frozenset(
    {
        "type", "property", "signal", "host", "machine", "lines", "output",
        "state", "kill-whom", "kill-who", "job-mode", "root", "image",
        "preset-mode", "when", "what", "timestamp", "message", "drop-in",
        "boot-loader-entry", "boot-loader-menu", "reboot-argument",
        "check-inhibitors", "image-policy", "kill-value", "legend", "capsule",
    }
)  # fmt: skip

_STOP_VERBS = frozenset({"stop", "kill", "freeze", "mask"})
_RESTART_VERBS = frozenset(
    {
        "restart", "reload", "try-restart", "reload-or-restart",
        "try-reload-or-restart", "condrestart", "force-reload", "reload-or-try-restart",
    }
)  # fmt: skip
_SHUTDOWN_VERBS = {
    "poweroff": "system.shutdown",
    "halt": "system.shutdown",
    "suspend": "system.shutdown",
    "hibernate": "system.shutdown",
    "hybrid-sleep": "system.shutdown",
    "suspend-then-hibernate": "system.shutdown",
    "rescue": "system.shutdown",
    "emergency": "system.shutdown",
    "reboot": "system.reboot",
    "kexec": "system.reboot",
    "soft-reboot": "system.reboot",
}
# `systemctl isolate X`: targets that take the machine down (or nearly).
_ISOLATE = {
    "rescue": "system.shutdown",
    "emergency": "system.shutdown",
    "runlevel0": "system.shutdown",
    "runlevel1": "system.shutdown",
    "poweroff": "system.shutdown",
    "halt": "system.shutdown",
    "shutdown": "system.shutdown",
    "runlevel6": "system.reboot",
    "reboot": "system.reboot",
    "kexec": "system.reboot",
}
# Signals that ask a daemon to reload or report rather than to exit.
_GENTLE_SIGNALS = frozenset({"HUP", "USR1", "USR2", "WINCH", "CONT", "0", "1", "10", "12"})

# `service NAME VERB`, `/etc/init.d/NAME VERB`, `rc-service NAME VERB`, ...
_SCRIPT_STOP = frozenset({"stop", "force-stop", "zap", "kill"})
_SCRIPT_RESTART = frozenset(
    {"restart", "reload", "force-reload", "try-restart", "condrestart", "--full-restart"}
)
_INIT_DIRS = ("/etc/init.d/", "/etc/rc.d/init.d/", "/etc/rc.d/")


def _base(unit: str) -> str:
    name = _UNIT_SUFFIX.sub("", unit)
    return name.split("@", 1)[0]


def _span(inv: Invocation, *words: Word | None) -> Span:
    """Evidence from the first to the last given word, or the invocation."""
    spans = [w.span for w in words if w is not None and w.span.end > w.span.start]
    if not spans:
        return inv.span
    return Span(min(s.start for s in spans), max(s.end for s in spans))


def _host(inv: Invocation, target: Target) -> str:
    """What goes down: the remote host, the pod or container, else this host."""
    get = target.get
    return get("ssh_host") or get("kube_pod") or get("container") or get("hostname") or "localhost"


_PATTERN = re.compile(r"[*?\[]")


def _unit_severity(unit: Word, user_mode: bool) -> tuple[Severity, list[str]]:
    """LOW, or HIGH for a critical-looking unit or a pattern matching all."""
    if not unit.known:
        return Severity.LOW, ["unknown-object"]
    if user_mode:
        return Severity.LOW, ["user"]
    name = _base(unit.value)
    m = _PATTERN.search(name)  # systemctl matches unit patterns itself, quoted or not
    probe = name[: m.start()] if m else name
    if m and not probe:
        return Severity.HIGH, ["all"]
    if _CRITICAL.match(probe):
        return Severity.HIGH, ["critical"]
    return Severity.LOW, []


def _systemctl_target(inv: Invocation, p: Parsed) -> Target:
    """`-H [USER@]HOST` acts on another host over ssh; `-M` on a local container."""
    target = inv.target
    host = p.value("-H", "--host")
    if host is not None:
        text = host.value
        user, _, rest = text.rpartition("@")
        name = re.split(r"[:/]", rest, maxsplit=1)[0] if host.known else text
        target = Target("ssh", (("ssh_host", name),) + ((("ssh_user", user),) if user else ()))
    machine = p.value("-M", "--machine")
    if machine is not None:
        target = target.with_fields(machine=machine.value)
    return target


@analyzer("systemctl")
def systemctl(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value=_SYSTEMCTL_SHORT, long_value=_SYSTEMCTL_LONG)
    if not p.operands or p.has("-h", "--help", "--version", "--dry-run"):
        return
    verb_word, units = p.operands[0], p.operands[1:]
    target = _systemctl_target(inv, p)
    user_mode = p.has("--user", "--global")
    if not verb_word.known:
        yield finding(
            inv, "service.stop", " ".join(w.value for w in p.operands), Severity.LOW,
            evidence=_span(inv, verb_word), tags=["unknown-object"], target=target,
            detail="the systemctl command is not known statically",
        )  # fmt: skip
        return
    verb = verb_word.value
    if verb in _SHUTDOWN_VERBS:
        if (when := p.value("--when")) is not None and when.value == "cancel":
            return
        yield _system(inv, target, _SHUTDOWN_VERBS[verb], verb_word, p, user_mode)
        return
    if verb == "isolate":
        for unit in units:
            action = _ISOLATE.get(_base(unit.value)) if unit.known else None
            if action:
                yield _system(inv, target, action, unit, p, user_mode, f"isolate {unit.value}")
            else:
                yield finding(
                    inv, "service.stop", unit.value, Severity.LOW,
                    evidence=_span(inv, verb_word, unit), tags=["isolate"], target=target,
                    detail=f"every unit not needed by {unit.value} is stopped",
                )  # fmt: skip
        return
    if verb in _STOP_VERBS:
        yield from _stop_units(inv, target, verb_word, units, p, user_mode)
    elif verb in _RESTART_VERBS:
        for unit in units:
            _, tags = _unit_severity(unit, user_mode)
            sev = Severity.LOW  # a restart comes back; tags still say what it was
            if unit.known and not user_mode and _NETWORK.match(_base(unit.value)):
                sev, tags = Severity.HIGH, ["critical", "network"]
            yield finding(
                inv, "service.restart", unit.value, sev, evidence=_span(inv, verb_word, unit),
                tags=tags, target=target, detail=f"systemctl {verb} {unit.value}",
            )  # fmt: skip
    elif verb == "disable":
        for unit in units:
            _, tags = _unit_severity(unit, user_mode)
            yield finding(
                inv, "service.disable", unit.value, Severity.LOW,
                evidence=_span(inv, verb_word, unit), tags=tags, target=target,
                detail=f"{unit.value} no longer starts at boot",
            )  # fmt: skip
        if p.has("--now"):
            yield from _stop_units(inv, target, verb_word, units, p, user_mode)


def _stop_units(
    inv: Invocation,
    target: Target,
    verb_word: Word,
    units: Iterable[Word],
    p: Parsed,
    user_mode: bool,
) -> Iterator[Finding]:
    verb = verb_word.value
    for unit in units:
        sev, tags = _unit_severity(unit, user_mode)
        if verb == "kill":
            sig = p.value("-s", "--signal")
            if sig is not None and sig.value.upper().removeprefix("SIG") in _GENTLE_SIGNALS:
                yield finding(
                    inv, "service.restart", unit.value, Severity.LOW,
                    evidence=_span(inv, verb_word, unit), tags=tags, target=target,
                    detail=f"signal {sig.value} sent to {unit.value}",
                )  # fmt: skip
                continue
        if verb == "mask" and not p.has("--now"):
            detail = f"{unit.value} can no longer be started (masked)"
        else:
            detail = f"systemctl {verb} {unit.value}"
        yield finding(
            inv, "service.stop", unit.value, sev, evidence=_span(inv, verb_word, unit),
            tags=tags, target=target, detail=detail,
        )  # fmt: skip
        if verb == "mask":
            yield finding(
                inv, "service.disable", unit.value, sev, evidence=_span(inv, verb_word, unit),
                tags=tags, target=target, detail=f"{unit.value} masked: never starts",
            )  # fmt: skip


def _system(
    inv: Invocation,
    target: Target,
    action: str,
    word: Word | None,
    p: Parsed | None,
    user_mode: bool = False,
    detail: str = "",
) -> Finding:
    """The host (or pod, or container) goes down; `word` None: the whole command."""
    tags = ["force"] if p is not None and p.has("-f", "--force") else []
    return finding(
        inv, action, _host(inv, target), Severity.LOW if user_mode else Severity.HIGH,
        evidence=_span(inv, word), tags=tags, target=target,
        detail=detail or f"{word.value if word else inv.program}: the host goes down",
    )  # fmt: skip


def _script(inv: Invocation, name: Word, verb: Word) -> Iterator[Finding]:
    """One SysV/OpenRC-style `NAME VERB` pair."""
    if not verb.known:
        yield finding(
            inv, "service.stop", name.value, Severity.LOW, evidence=_span(inv, name, verb),
            tags=["unknown-object"], detail="the service command is not known statically",
        )  # fmt: skip
        return
    if verb.value in _SCRIPT_STOP:
        sev, tags = _unit_severity(name, False)
        yield finding(
            inv, "service.stop", name.value, sev, evidence=_span(inv, name, verb),
            tags=tags, detail=f"{name.value} {verb.value}",
        )  # fmt: skip
    elif verb.value in _SCRIPT_RESTART:
        _, tags = _unit_severity(name, False)
        sev = Severity.LOW
        if name.known and _NETWORK.match(name.value):
            sev, tags = Severity.HIGH, ["critical", "network"]
        yield finding(
            inv, "service.restart", name.value, sev, evidence=_span(inv, name, verb),
            tags=tags, detail=f"{name.value} {verb.value}",
        )  # fmt: skip


@analyzer("service")
def service(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    args = inv.args
    if not args or args[0].value.startswith("-"):
        return  # --status-all, --help, --version
    if len(args) >= 2:
        yield from _script(inv, args[0], args[1])


@analyzer("invoke-rc.d")
def invoke_rc_d(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    if p.has("--query", "--help") or len(p.operands) < 2:
        return
    yield from _script(inv, p.operands[0], p.operands[1])


@analyzer("rc-service")
def rc_service(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args, short_value="r", long_value={"resolve"})
    if p.has("-Z", "--dry-run", "-l", "--list", "-r", "--resolve", "-e", "--exists"):
        return
    if len(p.operands) >= 2:
        yield from _script(inv, p.operands[0], p.operands[1])


@analyzer("rc-update", "update-rc.d", "chkconfig")
def rc_update(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`rc-update del NAME`, `update-rc.d NAME disable|remove`, `chkconfig NAME off`."""
    p = parse_argv(inv.args)
    ops = p.operands
    name: Word | None = None
    if inv.program == "rc-update":
        if len(ops) >= 2 and ops[0].value in ("del", "delete"):
            name = ops[1]
    elif inv.program == "update-rc.d":
        if len(ops) >= 2 and ops[1].value in ("disable", "remove"):
            name = ops[0]
    elif (len(ops) >= 2 and ops[1].value == "off") or p.has("--del"):
        name = ops[0] if ops else None
    if name is not None:
        _, tags = _unit_severity(name, False)
        yield finding(
            inv, "service.disable", name.value, Severity.LOW, evidence=_span(inv, name),
            tags=tags, detail=f"{name.value} no longer starts at boot",
        )  # fmt: skip


@fallback
def init_script(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    """`/etc/init.d/NAME stop`: the program is the script, so match its path."""
    if len(inv.argv) < 2:
        return  # also a bare `> file`, which has no words
    head = inv.argv[0].value
    if head.startswith(_INIT_DIRS):
        yield from _script(inv, Word(inv.program, inv.argv[0].span), inv.argv[1])


_SHUTDOWN_KIND = {"shutdown": None, "poweroff": "poweroff", "halt": "halt", "reboot": "reboot"}


@analyzer("shutdown")
def shutdown(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    if p.has("-c", "-k", "--show", "--help"):
        return  # cancel, warn only, show
    action = "system.reboot" if p.has("-r", "--reboot") else "system.shutdown"
    when = p.operands[0].value if p.operands else "+1"
    yield _system(
        inv, inv.target, action, None, p,
        detail=f"{'reboot' if action == 'system.reboot' else 'shutdown'} at {when}",
    )  # fmt: skip


@analyzer("reboot", "halt", "poweroff")
def reboot(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    if p.has("-w", "--wtmp-only", "--help"):
        return
    kind = inv.program
    if p.has("--reboot"):
        kind = "reboot"
    elif p.has("-p", "--poweroff"):
        kind = "poweroff"
    elif p.has("--halt"):
        kind = "halt"
    action = "system.reboot" if kind == "reboot" else "system.shutdown"
    yield _system(inv, inv.target, action, None, p, detail=f"{kind}: the host goes down")


_RUNLEVEL = {"0": "system.shutdown", "1": "system.shutdown", "s": "system.shutdown",
             "6": "system.reboot"}  # fmt: skip


@analyzer("init", "telinit")
def init(inv: Invocation, ctx: Context) -> Iterator[Finding]:
    p = parse_argv(inv.args)
    if not p.operands:
        return
    level = p.operands[0]
    action = _RUNLEVEL.get(level.value.lower()) if level.known else None
    if action:
        details = {"0": "runlevel 0: the host powers off", "6": "runlevel 6: the host reboots"}
        detail = details.get(level.value, "single-user mode: every service stops")
        yield _system(inv, inv.target, action, level, None, detail=detail)
