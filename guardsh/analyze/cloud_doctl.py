"""doctl (DigitalOcean): what is deleted, stopped or changed, and in which
doctl context.

The context comes from `--context`, DIGITALOCEAN_CONTEXT or the doctl config
file. `doctl auth switch` changes what later commands hit: a low
`cloud.context_switch` naming the new context.

With no known verb, an unknown group or verb (`doctl compute droplet "$V" 1`)
is `shell.opaque` in the context (see `cloud.unknown_verb`); `doctl auth`
only handles local credentials, so an unknown word after it is quiet.

Anti-pattern / best practice:
  doctl compute droplet delete web-1 --force    -> cloud.delete high
  doctl compute droplet list                    -> nothing (read-only)
"""

from __future__ import annotations

import posixpath
import re

from guardsh.analyze.cloud import (
    DELETE,
    HIGH,
    LOW,
    MODIFY,
    STOP,
    SWITCH,
    Hit,
    cloud_target,
    emit,
    env,
    joined,
    opaque,
    read_local,
    unknown_verb,
    verb_at,
    wordset,
)
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Target, Word
from guardsh.parse.argv import parse_argv

_DOCTL_CONTEXT = re.compile(r"^context:\s*(\S+)", re.M)


_DOCTL_VALUE = wordset(
    "context access-token output format config api-url tag-name region size image count"
    " version spec day hour engine rule db"
)
_DOCTL_DELETE = wordset("delete d rm del")
_DOCTL_STOP = wordset("power-off shutdown reboot power-cycle")
_DOCTL_REBUILD = wordset("rebuild restore")
_DOCTL_MODIFY = wordset("update remove resize migrate")
_DOCTL_READ = wordset("list ls l get g create c cfg save init switch")
_DOCTL_VERBS = _DOCTL_DELETE | _DOCTL_STOP | _DOCTL_REBUILD | _DOCTL_MODIFY | _DOCTL_READ
_DOCTL_DEEP = wordset("compute kubernetes k k8s monitoring serverless sls 1-click")
_DOCTL_LOW_GROUPS = wordset("user u pool p ssh-key tag certificate firewall fw")
_DOCTL_NEUTRAL = wordset("logs connection backups rs")  # an unknown word after them is a name


def _doctl_target(inv: Invocation, ctx: Context, context: Word | None) -> Target:
    """--context, else DIGITALOCEAN_CONTEXT, else the doctl config file's."""
    name = context.value if context is not None else env(inv, ctx, "DIGITALOCEAN_CONTEXT")
    if name is None:
        conf = read_local(inv, ctx, posixpath.join(ctx.snapshot.home, ".config/doctl/config.yaml"))
        m = _DOCTL_CONTEXT.search(conf or "")
        name = m.group(1).strip("\"'") if m else "default"
    return cloud_target(inv, "digitalocean", do_context=name)


@analyzer("doctl")
def doctl(inv: Invocation, ctx: Context) -> list[Finding]:
    """doctl's aliases are short and reused (`doctl compute d d 42` deletes a
    droplet): the verb is searched after the group(s) a top command needs."""
    p = parse_argv(inv.args, short_value="tocu", long_value=_DOCTL_VALUE)
    ops = list(p.operands)
    if p.has("--help", "-h") or not ops:
        return []
    context = p.value("--context")
    i = verb_at(ops, 2 if ops[0].value in _DOCTL_DEEP else 1, _DOCTL_VERBS.__contains__)
    if i is None:
        j = None if ops[0].value == "auth" else unknown_verb(ops, 1, _DOCTL_NEUTRAL)
        return [] if j is None else opaque(inv, ops, j, _doctl_target(inv, ctx, context))
    groups, verb = [w.value for w in ops[:i]], ops[i].value
    if groups == ["auth"]:  # only `auth switch` matters: the rest is local credentials
        if verb != "switch" or context is None:
            return []
        where = cloud_target(inv, "digitalocean", do_context=context.value)
        return [finding(inv, SWITCH, context.value, LOW, target=where, detail="doctl auth switch")]
    obj, unknown = joined(ops[i + 1 :] or p.values("--tag-name"))
    tags = ("no-prompt",) * p.has("--force", "-f") + ("dangerous",) * p.has("--dangerous")
    tags += unknown
    what = "doctl " + " ".join([*groups, verb])
    hits: list[Hit] = []
    if verb in _DOCTL_DELETE:
        hits = [Hit(DELETE, obj, LOW if groups[-1] in _DOCTL_LOW_GROUPS else HIGH, tags, what)]
    elif verb in _DOCTL_STOP:
        hits = [Hit(STOP, obj, LOW, tags, what)]
    elif verb in _DOCTL_REBUILD and groups[-1] in ("droplet-action", "da"):
        hits = [Hit(MODIFY, obj, HIGH, (*tags, "rebuild"), what)]
    elif verb in _DOCTL_MODIFY:
        hits = [Hit(MODIFY, obj, LOW, tags, what)]
    return emit(inv, ctx, hits, lambda: _doctl_target(inv, ctx, context))
