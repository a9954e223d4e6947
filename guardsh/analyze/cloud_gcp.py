"""gcloud and gsutil: what is deleted, stopped or changed, and in which project.

gcloud commands are groups then a verb (`gcloud sql instances delete main`):
the verb is the first command word in the verb lists, and the project comes
from `--project`, CLOUDSDK_CORE_PROJECT or the active gcloud configuration.

Anti-pattern / best practice:
  gcloud sql instances delete main              -> cloud.delete high
  gcloud sql instances describe main            -> nothing (read-only)
  gsutil -m rm -r gs://prod-data                -> cloud.delete high

`gcloud config set project` and `gcloud config configurations activate`
change what later commands hit: a low `cloud.context_switch` naming the new
one. `gcloud compute ssh VM --command` is analyzed as shell text on that VM.

With no known verb, an unknown word among the groups or in the verb's place
(`gcloud compute instances $OP vm-1`, `gsutil $CMD gs://b`) is `shell.opaque`
in the project; an unknown name after a verb we do not classify
(`gcloud functions call $F`) is not (see `cloud.unknown_verb`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from guardsh.analyze.cloud import (
    DELETE,
    HIGH,
    LOW,
    MODIFY,
    STOP,
    SWITCH,
    Hit,
    Opts,
    Tags,
    cloud_target,
    emit,
    env,
    ini,
    joined,
    last,
    one,
    opaque,
    read_local,
    remote,
    store,
    unknown_verb,
    verb_at,
    wordset,
)
from guardsh.analyze.registry import Context, analyzer
from guardsh.model import Finding, Invocation, Target, Word
from guardsh.parse.argv import parse_argv

_GCLOUD_VALUE = wordset(
    "project zone region format filter account configuration verbosity flags-file limit"
    " impersonate-service-account billing-project trace-token page-size sort-by instance"
    " database cluster location tier num-nodes node-pool machine-type image image-project"
    " keyring key member role service-account network subnet description labels size"
    " update-labels delete-disks keep-disks command max-instances min-instances platform"
    " database-flags activation-policy cluster-version timeout topic backup-instance"
    " iam-account secret dataset zone-name type ttl node-locations backup-id restore-instance"
    " backup-location"
)
_GCLOUD_DELETE = wordset("delete destroy")
_GCLOUD_STOP = wordset("stop reset restart suspend failover")
_GCLOUD_MODIFY = wordset(
    "patch update resize upgrade deploy add-iam-policy-binding remove-iam-policy-binding"
    " import rollback disable promote-replica restore-backup restore"
)
_GCLOUD_READ = wordset(
    "describe list ls cat du create ssh scp connect tail read logs info version init help"
    " login start resume wait export print-access-token set activate"
)
_GCLOUD_VERBS = _GCLOUD_DELETE | _GCLOUD_STOP | _GCLOUD_MODIFY | _GCLOUD_READ
_GCLOUD_LOW_GROUPS = wordset("keys ssh-keys firewall-rules operations routes hmac tags")
_STORE_VERBS = wordset("rm mv cp rsync sync rb")
_GCLOUD_LOCAL = wordset("components auth help topic")  # the CLI itself
_GCLOUD_NEUTRAL = wordset("snapshot")  # `compute disks snapshot NAME` (doctl's is a group)


def _gcloud_is_verb(v: str) -> bool:
    return v in _GCLOUD_VERBS or v in _STORE_VERBS or v.startswith(("set-", "get-", "list-"))


def _gcp_target(
    inv: Invocation, ctx: Context, project: str | None, config: str | None, **more: str | None
) -> Target:
    """--project, else CLOUDSDK_CORE_PROJECT, else the active gcloud config's."""
    project = project or env(inv, ctx, "CLOUDSDK_CORE_PROJECT")
    if project is None:
        home_root = posixpath.join(ctx.snapshot.home, ".config/gcloud")
        root = env(inv, ctx, "CLOUDSDK_CONFIG") or home_root
        config = config or env(inv, ctx, "CLOUDSDK_ACTIVE_CONFIG_NAME")
        active = read_local(inv, ctx, posixpath.join(root, "active_config")) or ""
        config = config or active.strip() or "default"
        text = read_local(inv, ctx, posixpath.join(root, "configurations", f"config_{config}"))
        project = ini(text, "core").get("project")
    return cloud_target(inv, "gcp", gcp_project=project, gcp_configuration=config, **more)


def _gcloud_hits(ops: list[Word], i: int, has: Callable[..., bool], opts: Opts) -> list[Hit]:
    groups, verb, names = [w.value for w in ops[:i]], ops[i].value, ops[i + 1 :]
    tags: Tags = ("no-prompt",) if has("--quiet", "-q") else ()
    obj, unknown = joined(names or opts.get("instance", []))
    tags += unknown
    what = " ".join([*groups, verb])
    if groups[:1] == ["storage"] and verb in _STORE_VERBS:
        prune = has("--delete-unmatched-destination-objects")
        return store(verb, names, "gs://", has("-r", "-R", "--recursive"), tags, prune)
    if verb in _GCLOUD_DELETE:
        sev = LOW if groups[-1] in _GCLOUD_LOW_GROUPS else HIGH
        return [Hit(DELETE, obj, sev, tags + ("project",) * (groups == ["projects"]), what)]
    if verb in _GCLOUD_STOP:
        return [Hit(STOP, obj, LOW, tags, what)]
    if verb in _GCLOUD_MODIFY or verb.startswith("set-"):
        size = last(opts, "num-nodes", "size", "max-instances")
        if verb == "resize" and size == "0":
            return [Hit(MODIFY, obj, HIGH, (*tags, "scale-zero"), what)]
        if verb.startswith("restore"):  # overwrites the instance's data
            return [Hit(MODIFY, obj, HIGH, (*tags, "restore"), what)]
        return [Hit(MODIFY, obj, LOW, tags, what)]
    key = names[0].value if names else ""
    if groups == ["config"] and verb == "set" and key in ("project", "core/project", "account"):
        new = names[1].value if len(names) > 1 else None
        return [Hit(SWITCH, new, LOW, (), f"gcloud config set {key}")]
    if groups == ["config", "configurations"] and verb == "activate":
        return [Hit(SWITCH, obj, LOW, (), "gcloud config configurations activate")]
    return []


@analyzer("gcloud")
def gcloud(inv: Invocation, ctx: Context) -> list[Finding]:
    p = parse_argv(inv.args, long_value=_GCLOUD_VALUE)
    if p.has("--help", "-h") or not p.operands:
        return []
    ops = list(p.operands)
    opts: Opts = {}
    for o in p.opts:
        if o.value is not None:
            opts.setdefault(o.name.lstrip("-"), []).append(o.value)

    def where(project: str | None = None, config: str | None = None) -> Target:
        return _gcp_target(
            inv, ctx, project or last(opts, "project"), config or last(opts, "configuration"),
            gcp_zone=last(opts, "zone"), gcp_region=last(opts, "region"),
        )  # fmt: skip

    cmd = one(opts, "command")
    if [w.value for w in ops[:2]] == ["compute", "ssh"] and len(ops) > 2 and cmd and cmd.known:
        host = ops[2].value.rpartition("@")[2]
        ssh = Target("ssh", where().fields).with_fields(ssh_host=host)
        return remote(inv, ctx, cmd.value, ssh)
    if ops[0].value in _GCLOUD_LOCAL:
        return []
    i = verb_at(ops, 1, _gcloud_is_verb)
    if i is None:
        j = unknown_verb(ops, 1, _GCLOUD_NEUTRAL)
        return [] if j is None else opaque(inv, ops, j, where())
    hits = _gcloud_hits(ops, i, p.has, opts)
    if hits and hits[0].action == SWITCH:  # the target is the new project/config
        new = hits[0].object
        if hits[0].detail.endswith("activate"):
            return emit(inv, ctx, hits, lambda: where(config=new))
        return emit(inv, ctx, hits, lambda: where(project=new))
    if hits and "project" in hits[0].tags:  # `projects delete P` acts in P
        return emit(inv, ctx, hits, lambda: where(project=hits[0].object))
    return emit(inv, ctx, hits, where)


_GSUTIL_CONFIG = wordset(
    "acl defacl iam lifecycle versioning retention cors logging web label ubla pap kms"
    " defstorageclass autoclass rpo requesterpays setmeta"
)


@analyzer("gsutil")
def gsutil(inv: Invocation, ctx: Context) -> list[Finding]:
    top = parse_argv(inv.args, short_value="hiou", stop_at_operand=True)
    if not top.operands:
        return []
    if not top.operands[0].known:
        return opaque(inv, top.operands, 0, _gcp_target(inv, ctx, None, None))
    cmd, rest = top.operands[0].value, top.rest[1:]
    p = parse_argv(rest, short_value="xajyzLs" if cmd in ("rsync", "cp", "mv") else "")
    hits: list[Hit] = []
    if cmd in _STORE_VERBS and not (cmd == "rsync" and p.has("-n")):
        paths = list(p.operands)
        tags = ("force",) if p.has("-f") else ()
        if cmd == "rm" and p.has("-I"):  # the URLs come on stdin
            text = inv.stdin.text if inv.stdin else None
            paths = [Word(s, inv.span) for s in (text or "").split()]
            if not paths:
                stdin = Hit(DELETE, None, HIGH, tags, "remove the objects listed on stdin")
                return emit(inv, ctx, [stdin], lambda: _gcp_target(inv, ctx, None, None))
        hits = store(cmd, paths, "gs://", p.has("-r", "-R"), tags, p.has("-d"))
    elif cmd in _GSUTIL_CONFIG and p.operands and p.operands[0].value != "get":
        obj, unknown = joined([w for w in p.operands if w.value.startswith("gs://")])
        hits = [Hit(MODIFY, obj, LOW, unknown, f"gsutil {cmd} {p.operands[0].value}")]
    return emit(inv, ctx, hits, lambda: _gcp_target(inv, ctx, None, None))
