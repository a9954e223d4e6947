"""Cloud CLIs: aws, gcloud, gsutil, az, doctl — what is deleted, stopped or
changed, and in which account, project or subscription.

Each CLI is read with its own option grammar (global options anywhere), so
`aws --profile prod ec2 terminate-instances` and `aws ec2 terminate-instances
--profile prod` read alike. The account is named by flags, then environment
variables, then the CLI's own config file (through `ctx.facts.read_file`, and
only when there is something to report).

Anti-pattern / best practice:
  aws s3 rm s3://prod-data --recursive          -> cloud.delete high
  aws s3 rm s3://prod-data/tmp/one.json         -> cloud.delete low
  aws ec2 terminate-instances --dry-run ...     -> nothing (a dry run)
  gcloud sql instances describe main            -> nothing (read-only)

`gcloud config set project`, `az account set` and `doctl auth switch` change
what later commands hit: a low `cloud.context_switch` naming the new one.
Remote commands (`gcloud compute ssh VM --command`, `az vm run-command invoke
--scripts`, `aws ssm send-command`) are analyzed as shell text on that target.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word
from guardsh.parse.argv import parse_argv

HIGH, LOW = Severity.HIGH, Severity.LOW
DELETE, STOP, MODIFY = "cloud.delete", "cloud.stop", "cloud.modify"
SWITCH = "cloud.context_switch"
Opts = dict[str, list[Word]]
Tags = tuple[str, ...]


class Hit(NamedTuple):
    action: str
    object: str | None  # None: unknown, the invocation's text is shown instead
    severity: Severity
    tags: Tags
    detail: str


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WILDCARD = re.compile(r"[*?\[]")
_OPTION = re.compile(r"--\w|-[A-Za-z]")  # a value may be "-1", never "--x" or "-n"
_ACCOUNT = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):")
_R53_SHORT = re.compile(r"Action\s*=\s*DELETE[^}]*?Name\s*=\s*([^,}\s]+)|Action\s*=\s*DELETE")
_ZERO = re.compile(r"\b(?:desired|max)(?:Size|Capacity|Count)\"?\s*[=:]\s*0\b", re.I)
_SSM_SHORT = re.compile(r"commands=\[(.*)\]", re.S)
_DOCTL_CONTEXT = re.compile(r"^context:\s*(\S+)", re.M)


# ------------------------------------------------------------------- shared
# The session's variables and config files describe this machine only: on a
# remote target (`ssh bastion aws ...`) only the line's own words count, and
# the remote host's fields are kept. A local target's hostname is dropped: the
# account names the environment, not the laptop the command is typed on.
def _env(inv: Invocation, ctx: Context, *names: str) -> str | None:
    for name in names:
        v = inv.env_get(name)
        if v is None and inv.target.kind == "local":
            v = ctx.snapshot.variables.get(name)
        if v:
            return v
    return None


def _read(inv: Invocation, ctx: Context, path: str) -> str | None:
    return ctx.facts.read_file(path) if inv.target.kind == "local" else None


def _target(inv: Invocation, cloud: str, **fields: str | None) -> Target:
    base = () if inv.target.kind == "local" else inv.target.fields
    return Target("cloud", base).with_fields(cloud=cloud, **fields)


def _emit(
    inv: Invocation, ctx: Context, hits: Sequence[Hit], where: Callable[[], Target]
) -> list[Finding]:
    if not hits:
        return []
    target = where()  # config files are read only when there is something to say
    out = []
    for action, obj, sev, tags, detail in hits:
        if not obj:
            obj, tags = inv.span.text(ctx.line) or inv.program, (*tags, "unknown-object")
        on = inv.target if action.startswith("fs.") else target  # `sync --delete` to a dir
        out.append(finding(inv, action, obj, sev, tags=tags, detail=detail, target=on))
    return out


def _joined(words: Sequence[Word]) -> tuple[str | None, Tags]:
    """The words as one object, and an `unknown-object` tag if any is unknown."""
    unknown = ("unknown-object",) if any(not w.known for w in words) else ()
    return (",".join(w.value for w in words) or None), unknown


def _split(args: Sequence[Word], flags: frozenset[str]) -> tuple[Opts, list[Word]]:
    """aws/az grammar: `--name v`, `--name=v`, `-n v`, `--ids a b c` (a plural
    name takes every following word); names in `flags` take none."""
    opts: Opts = {}
    ops: list[Word] = []
    i, n = 0, len(args)
    while i < n:
        w = args[i]
        i += 1
        if not w.known or not w.value.startswith("-") or w.value == "-":
            ops.append(w)
            continue
        if w.value == "--":
            ops.extend(args[i:])
            break
        name, eq, val = w.value.lstrip("-").partition("=")
        vals = opts.setdefault(name, [])
        if eq:
            vals.append(Word(val, w.span, w.known))
            continue
        if name in flags:
            continue
        many = name.endswith("s") and not name.endswith("ss")
        while i < n and not (args[i].known and _OPTION.match(args[i].value)):
            vals.append(args[i])
            i += 1
            if not many:
                break
    return opts, ops


def _last(opts: Opts, *names: str) -> str | None:
    for name in names:
        if opts.get(name):
            return opts[name][-1].value
    return None


def _one(opts: Opts, name: str) -> Word | None:
    vals = opts.get(name)
    return vals[-1] if vals else None


def _ini(text: str | None, section: str) -> dict[str, str]:
    """The keys of one `[section]` of an INI file (aws and gcloud configs)."""
    out: dict[str, str] = {}
    inside = False
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line.startswith("["):
            inside = line == f"[{section}]"
        elif inside and "=" in line:
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def _verb_at(ops: Sequence[Word], start: int, known: Callable[[str], bool]) -> int | None:
    """The first command word that is a verb: the words before it are groups."""
    for i in range(start, len(ops)):
        if ops[i].known and known(ops[i].value):
            return i
    return None


def _store(
    verb: str, paths: Sequence[Word], scheme: str, recursive: bool, tags: Tags, prune: bool
) -> list[Hit]:
    """rm / rb / mv / cp / sync on an object store (s3://, gs://)."""
    if verb == "rm":
        hits = []
        for w in paths:
            wild = w.known and bool(_WILDCARD.search(w.value))
            bulk = ("recursive",) * recursive + ("wildcard",) * wild
            what = "remove every object under it" if bulk else "remove one object"
            unknown = ("unknown-object",) * (not w.known)
            hits.append(Hit(DELETE, w.value, HIGH if bulk else LOW, tags + bulk + unknown, what))
        return hits
    if verb == "rb":
        return [Hit(DELETE, w.value, HIGH, tags, "remove the bucket") for w in paths]
    if len(paths) < 2 or not any(w.value.startswith(scheme) for w in paths):
        return []
    src, dst = paths[0].value, paths[-1].value
    if verb in ("sync", "rsync") and prune:
        tags = (*tags, "sync-delete")
        if dst.startswith(scheme):
            return [Hit(DELETE, dst, HIGH, tags, "sync deletes what the source lacks")]
        return [Hit("fs.delete_recursive", dst, HIGH, tags, "sync deletes local files")]
    if verb == "mv" and src.startswith(scheme):
        return [Hit(MODIFY, src, HIGH if recursive else LOW, tags, "move objects out of it")]
    if dst.startswith(scheme):
        return [Hit(MODIFY, dst, LOW, (*tags, "upload"), f"{verb} writes into it")]
    return []


def _remote(inv: Invocation, ctx: Context, text: str, target: Target) -> list[Finding]:
    return list(ctx.recurse_shell(text, target, inv.span))


# ---------------------------------------------------------------------- aws
_AWS_FLAGS = _words(
    "debug no-verify-ssl no-paginate no-sign-request no-cli-pager cli-auto-prompt version"
    " no-cli-auto-prompt dry-run no-dry-run force skip-final-snapshot no-skip-final-snapshot"
    " delete-automated-backups no-delete-automated-backups force-delete-without-recovery"
    " apply-immediately no-apply-immediately hibernate recursive dryrun quiet only-show-errors"
    " no-progress follow-symlinks no-follow-symlinks no-guess-mime-type delete exact-timestamps"
    " size-only human-readable summarize no-overwrite ignore-glacier-warnings follow"
    " force-glacier-transfer generate-cli-skeleton"
)
_AWS_MODIFY = tuple(
    _words(
        "modify- update- put- set- change- replace- reset- rotate- attach- detach- associate-"
        " disassociate- authorize- revoke- remove- disable- deregister- cancel- apply- untag-"
        " execute-change-set deploy"
    )
)
_AWS_STOP = ("stop-", "reboot-", "failover-", "pause-")
_AWS_DELETE = tuple(
    _words("delete- batch-delete- admin-delete- terminate- purge- schedule-key-deletion release-")
)
_AWS_QUIET = _words(
    "update-kubeconfig put-metric-data put-log-events put-record put-records put-events"
    " put-trace-segments"
)
# small, scoped deletions: one item, one key, a tag, a policy document
_AWS_LOW_NOUNS = _words(
    "tags item message message-batch object alarms dashboards access-key login-profile"
    " ssh-public-key signing-certificate service-specific-credential policy-version parameter"
    " key-pair archive-rule receipt-rule metric-filter subscription-filter network-interface"
    " security-group alias rule image virtual-mfa-device environment-membership user address"
    " launch-template-versions"
)
_OBJ_SUFFIXES = ("-identifier", "-ids", "-id", "-names", "-name", "-arn", "-arns", "-url", "")
_OBJ_EXACT = _words(
    "id ids name names arn cluster resource-arn service bucket function queue stack table"
    " repository group cache-cluster"
)
_NOT_OBJ = _words("profile region output query endpoint-url color ca-bundle")
_ZERO_OPTS = ("desired-count", "desired-capacity", "max-size", "reserved-concurrent-executions")


def _aws_object(service: str, noun: str, opts: Opts) -> tuple[str | None, Tags]:
    """The ids/names the operation acts on: `--db-instance-identifier` for
    `delete-db-instance`, `--instance-ids` for `terminate-instances`, ..."""
    if service == "s3api" and opts.get("bucket"):
        key = _last(opts, "key")
        return f"s3://{_last(opts, 'bucket')}" + (f"/{key}" if key else ""), ()
    stems = (noun, noun[:-1]) if noun.endswith("s") else (noun, noun + "s")
    for stem in stems:  # a bare `--NOUN` only for names (`--bucket`), not `--item JSON`
        for suffix in _OBJ_SUFFIXES if stem in _OBJ_EXACT else _OBJ_SUFFIXES[:-1]:
            if opts.get(stem + suffix) and stem + suffix not in _ZERO_OPTS:
                return _joined(opts[stem + suffix])
    for name, vals in opts.items():
        if not vals or name in _NOT_OBJ or name.startswith(("final-", "new-", "source-")):
            continue
        if name in _OBJ_EXACT or name.endswith(_OBJ_SUFFIXES[:-1]):
            return _joined(vals)
    return None, ()


def _param_text(inv: Invocation, ctx: Context, word: Word | None) -> str | None:
    """A parameter's text: inline, or `file://path` read through the facts."""
    if word is None or not word.known:
        return None
    for prefix in ("file://", "fileb://"):
        if word.value.startswith(prefix):
            path = posixpath.join(inv.cwd or ctx.snapshot.cwd, word.value[len(prefix) :])
            return _read(inv, ctx, posixpath.normpath(path))
    return word.value


def _route53(inv: Invocation, ctx: Context, opts: Opts) -> Hit:
    zone = _last(opts, "hosted-zone-id")
    text = _param_text(inv, ctx, _one(opts, "change-batch"))
    if text is None:
        return Hit(MODIFY, zone, LOW, ("unknown-object",), "change batch not readable")
    names: list[str] = []
    try:
        for ch in json.loads(text).get("Changes", []):
            if str(ch.get("Action", "")).upper() == "DELETE":
                rrs = ch.get("ResourceRecordSet", {})
                names.append(f"{rrs.get('Name', '?')} {rrs.get('Type', '')}".strip())
    except (ValueError, AttributeError, TypeError):  # the CLI's shorthand syntax
        names = [m.group(1) or "?" for m in _R53_SHORT.finditer(text)]
    if names:
        detail = f"DELETE of DNS records in zone {zone or '?'}"
        return Hit(DELETE, ",".join(names), HIGH, ("dns",), detail)
    return Hit(MODIFY, zone, LOW, ("dns",), "DNS record changes (no DELETE)")


def _aws_api(inv: Invocation, ctx: Context, service: str, op: str, opts: Opts) -> list[Hit]:
    if op in _AWS_QUIET or op.startswith(("describe-", "list-", "get-")):
        return []
    if service == "route53" and op == "change-resource-record-sets":
        return [_route53(inv, ctx, opts)]
    tags: Tags = ("force",) if "force" in opts else ()
    what = f"{service} {op}"
    if op.startswith(_AWS_DELETE):
        noun = op.split("-", 2 if op.startswith(("batch-", "admin-")) else 1)[-1]
        obj, unknown = _aws_object(service, noun, opts)
        low = noun in _AWS_LOW_NOUNS or noun.startswith("bucket-")
        low = low or noun.endswith(("-policy", "-tags", "-tagging"))
        tags += unknown + ("no-final-snapshot",) * ("skip-final-snapshot" in opts)
        tags += ("delete-backups",) * ("delete-automated-backups" in opts)
        if op == "delete-secret" and "force-delete-without-recovery" not in opts:
            low, tags = True, (*tags, "recoverable")
        low = low and op not in ("delete-objects", "purge-queue")
        return [Hit(DELETE, obj, LOW if low else HIGH, tags, what)]
    if op.startswith(_AWS_STOP):
        obj, unknown = _aws_object(service, op.split("-", 1)[1], opts)
        return [Hit(STOP, obj, LOW, tags + unknown, what)]
    if op.startswith(_AWS_MODIFY):
        obj, unknown = _aws_object(service, op.split("-", 1)[-1], opts)
        zero = any(_last(opts, z) == "0" for z in _ZERO_OPTS)
        zero = zero or bool(_ZERO.search(_last(opts, "scaling-config") or ""))
        tags += unknown + ("scale-zero",) * zero
        return [Hit(MODIFY, obj, HIGH if zero else LOW, tags, what)]
    return []


def _aws_target(inv: Invocation, ctx: Context, opts: Opts) -> Target:
    profile = _last(opts, "profile") or _env(inv, ctx, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    keys = profile is None and _env(inv, ctx, "AWS_ACCESS_KEY_ID") is not None
    region = _last(opts, "region") or _env(inv, ctx, "AWS_REGION", "AWS_DEFAULT_REGION")
    account = None
    if not keys:  # the profile's section of ~/.aws/config: region, account
        profile = profile or "default"
        home_conf = posixpath.join(ctx.snapshot.home, ".aws/config")
        text = _read(inv, ctx, _env(inv, ctx, "AWS_CONFIG_FILE") or home_conf)
        conf = _ini(text, "default" if profile == "default" else f"profile {profile}")
        region = region or conf.get("region")
        account = conf.get("sso_account_id")
        if account is None and (m := _ACCOUNT.search(conf.get("role_arn", ""))):
            account = m.group(1)
    return _target(
        inv, "aws", aws_profile=profile, aws_region=region, aws_account=account,
        aws_credentials="env" if keys else None, aws_endpoint=_last(opts, "endpoint-url"),
    )  # fmt: skip


def _ssm_commands(text: str | None) -> str | None:
    """The shell lines of `ssm send-command --parameters` (JSON or shorthand)."""
    if not text:
        return None
    try:
        cmds = json.loads(text).get("commands")
    except (ValueError, AttributeError):
        m = _SSM_SHORT.search(text)
        cmds = [c.strip().strip("\"'") for c in m.group(1).split(",")] if m else None
    if isinstance(cmds, str):
        cmds = [cmds]
    return "\n".join(str(c) for c in cmds) if isinstance(cmds, list) else None


def _ssm(inv: Invocation, ctx: Context, opts: Opts) -> list[Finding]:
    ids = _joined(opts.get("instance-ids", []))[0]
    target = _aws_target(inv, ctx, opts).with_fields(aws_instance_ids=ids)
    cmds = _ssm_commands(_param_text(inv, ctx, _one(opts, "parameters")))
    if cmds is None:
        detail = "ssm send-command: commands not readable"
        return [finding(inv, "shell.opaque", ids or "ssm", LOW, target=target, detail=detail)]
    return _remote(inv, ctx, cmds, target)


@analyzer("aws")
def aws(inv: Invocation, ctx: Context) -> list[Finding]:
    opts, ops = _split(inv.args, _AWS_FLAGS)
    if len(ops) < 2 or not ops[0].known or not ops[1].known:
        return []
    service, op = ops[0].value, ops[1].value
    if any(w.value == "help" for w in ops[1:]) or "generate-cli-skeleton" in opts:
        return []
    if "dryrun" in opts or ("dry-run" in opts and "no-dry-run" not in opts):
        return []
    if service == "s3":
        tags = ("force",) if "force" in opts else ()
        hits = _store(op, ops[2:], "s3://", "recursive" in opts, tags, "delete" in opts)
    elif service == "ssm" and op == "send-command":
        return _ssm(inv, ctx, opts)
    else:
        hits = _aws_api(inv, ctx, service, op, opts)
    return _emit(inv, ctx, hits, lambda: _aws_target(inv, ctx, opts))


# ----------------------------------------------------------- gcloud, gsutil
_GCLOUD_VALUE = _words(
    "project zone region format filter account configuration verbosity flags-file limit"
    " impersonate-service-account billing-project trace-token page-size sort-by instance"
    " database cluster location tier num-nodes node-pool machine-type image image-project"
    " keyring key member role service-account network subnet description labels size"
    " update-labels delete-disks keep-disks command max-instances min-instances platform"
    " database-flags activation-policy cluster-version timeout topic backup-instance"
    " iam-account secret dataset zone-name type ttl node-locations backup-id restore-instance"
    " backup-location"
)
_GCLOUD_DELETE = _words("delete destroy")
_GCLOUD_STOP = _words("stop reset restart suspend failover")
_GCLOUD_MODIFY = _words(
    "patch update resize upgrade deploy add-iam-policy-binding remove-iam-policy-binding"
    " import rollback disable promote-replica restore-backup restore"
)
_GCLOUD_READ = _words(
    "describe list ls cat du create ssh scp connect tail read logs info version init help"
    " login start resume wait export print-access-token set activate"
)
_GCLOUD_VERBS = _GCLOUD_DELETE | _GCLOUD_STOP | _GCLOUD_MODIFY | _GCLOUD_READ
_GCLOUD_LOW_GROUPS = _words("keys ssh-keys firewall-rules operations routes hmac tags")
_STORE_VERBS = _words("rm mv cp rsync sync rb")


def _gcloud_is_verb(v: str) -> bool:
    return v in _GCLOUD_VERBS or v in _STORE_VERBS or v.startswith(("set-", "get-", "list-"))


def _gcp_target(
    inv: Invocation, ctx: Context, project: str | None, config: str | None, **more: str | None
) -> Target:
    """--project, else CLOUDSDK_CORE_PROJECT, else the active gcloud config's."""
    project = project or _env(inv, ctx, "CLOUDSDK_CORE_PROJECT")
    if project is None:
        home_root = posixpath.join(ctx.snapshot.home, ".config/gcloud")
        root = _env(inv, ctx, "CLOUDSDK_CONFIG") or home_root
        config = config or _env(inv, ctx, "CLOUDSDK_ACTIVE_CONFIG_NAME")
        active = _read(inv, ctx, posixpath.join(root, "active_config")) or ""
        config = config or active.strip() or "default"
        text = _read(inv, ctx, posixpath.join(root, "configurations", f"config_{config}"))
        project = _ini(text, "core").get("project")
    return _target(inv, "gcp", gcp_project=project, gcp_configuration=config, **more)


def _gcloud_hits(ops: list[Word], has: Callable[..., bool], opts: Opts) -> list[Hit]:
    i = _verb_at(ops, 1, _gcloud_is_verb)
    if i is None or ops[0].value in ("components", "auth", "help", "topic"):  # the CLI itself
        return []
    groups, verb, names = [w.value for w in ops[:i]], ops[i].value, ops[i + 1 :]
    tags: Tags = ("no-prompt",) if has("--quiet", "-q") else ()
    obj, unknown = _joined(names or opts.get("instance", []))
    tags += unknown
    what = " ".join([*groups, verb])
    if groups[:1] == ["storage"] and verb in _STORE_VERBS:
        prune = has("--delete-unmatched-destination-objects")
        return _store(verb, names, "gs://", has("-r", "-R", "--recursive"), tags, prune)
    if verb in _GCLOUD_DELETE:
        sev = LOW if groups[-1] in _GCLOUD_LOW_GROUPS else HIGH
        return [Hit(DELETE, obj, sev, tags + ("project",) * (groups == ["projects"]), what)]
    if verb in _GCLOUD_STOP:
        return [Hit(STOP, obj, LOW, tags, what)]
    if verb in _GCLOUD_MODIFY or verb.startswith("set-"):
        size = _last(opts, "num-nodes", "size", "max-instances")
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
            inv, ctx, project or _last(opts, "project"), config or _last(opts, "configuration"),
            gcp_zone=_last(opts, "zone"), gcp_region=_last(opts, "region"),
        )  # fmt: skip

    cmd = _one(opts, "command")
    if [w.value for w in ops[:2]] == ["compute", "ssh"] and len(ops) > 2 and cmd and cmd.known:
        host = ops[2].value.rpartition("@")[2]
        ssh = Target("ssh", where().fields).with_fields(ssh_host=host)
        return _remote(inv, ctx, cmd.value, ssh)
    hits = _gcloud_hits(ops, p.has, opts)
    if hits and hits[0].action == SWITCH:  # the target is the new project/config
        new = hits[0].object
        if hits[0].detail.endswith("activate"):
            return _emit(inv, ctx, hits, lambda: where(config=new))
        return _emit(inv, ctx, hits, lambda: where(project=new))
    if hits and "project" in hits[0].tags:  # `projects delete P` acts in P
        return _emit(inv, ctx, hits, lambda: where(project=hits[0].object))
    return _emit(inv, ctx, hits, where)


_GSUTIL_CONFIG = _words(
    "acl defacl iam lifecycle versioning retention cors logging web label ubla pap kms"
    " defstorageclass autoclass rpo requesterpays setmeta"
)


@analyzer("gsutil")
def gsutil(inv: Invocation, ctx: Context) -> list[Finding]:
    top = parse_argv(inv.args, short_value="hiou", stop_at_operand=True)
    if not top.operands or not top.operands[0].known:
        return []
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
                return _emit(inv, ctx, [stdin], lambda: _gcp_target(inv, ctx, None, None))
        hits = _store(cmd, paths, "gs://", p.has("-r", "-R"), tags, p.has("-d"))
    elif cmd in _GSUTIL_CONFIG and p.operands and p.operands[0].value != "get":
        obj, unknown = _joined([w for w in p.operands if w.value.startswith("gs://")])
        hits = [Hit(MODIFY, obj, LOW, unknown, f"gsutil {cmd} {p.operands[0].value}")]
    return _emit(inv, ctx, hits, lambda: _gcp_target(inv, ctx, None, None))


# ----------------------------------------------------------------------- az
_AZ_FLAGS = _words("yes y no-wait debug verbose only-show-errors help h force all")
_AZ_DELETE = _words("delete delete-batch purge")
_AZ_STOP = _words("stop deallocate restart redeploy power-off failover suspend")
_AZ_MODIFY = _words(
    "update set patch scale upgrade resize regenerate-key renew reimage swap rotate import restore"
)
_AZ_READ = _words(
    "show list create wait exists login logout start ssh invoke download upload browse tail"
    " check version"
)
_AZ_VERBS = _AZ_DELETE | _AZ_STOP | _AZ_MODIFY | _AZ_READ
_AZ_LOW_GROUPS = _words("lock assignment secret blob file tag key certificate rule entity message")
_AZ_LOCAL = _words("bicep extension config upgrade cloud interactive")  # the CLI itself


def _az_target(inv: Invocation, ctx: Context, opts: Opts) -> Target:
    """--subscription, else AZURE_SUBSCRIPTION_ID, else azureProfile.json's default."""
    sub = _last(opts, "subscription") or _env(inv, ctx, "AZURE_SUBSCRIPTION_ID")
    sub_id = None
    if sub is None:
        root = _env(inv, ctx, "AZURE_CONFIG_DIR") or posixpath.join(ctx.snapshot.home, ".azure")
        text = _read(inv, ctx, posixpath.join(root, "azureProfile.json")) or "{}"
        try:
            subs = json.loads(text.lstrip("\ufeff")).get("subscriptions", [])
            default = next(s for s in subs if s.get("isDefault"))
            sub, sub_id = default.get("name"), default.get("id")
        except (ValueError, AttributeError, StopIteration):
            pass
    group = _last(opts, "resource-group", "g") or _env(inv, ctx, "AZURE_DEFAULTS_GROUP")
    fields = {"azure_subscription_id": sub_id, "azure_resource_group": group}
    return _target(inv, "azure", azure_subscription=sub, **fields)


def _az_object(groups: list[str], opts: Opts) -> tuple[str | None, Tags]:
    named = opts.get("name") or opts.get("n") or opts.get("ids") or opts.get("id")
    obj, unknown = _joined(named or [])
    if obj is None and groups == ["group"]:
        obj, unknown = _joined(opts.get("resource-group") or opts.get("g") or [])
    if obj is None:  # `storage blob delete-batch --account-name st -s container`
        named = next((v for k, v in opts.items() if k.endswith("-name") and v), [])
        obj, unknown = _joined([*named, *(opts.get("source") or opts.get("s") or [])])
        obj = obj and obj.replace(",", "/")
    return obj, unknown


@analyzer("az")
def az(inv: Invocation, ctx: Context) -> list[Finding]:
    opts, ops = _split(inv.args, _AZ_FLAGS)
    i = _verb_at(ops, 1, lambda v: v in _AZ_VERBS or v.startswith(("show-", "list-", "get-")))
    if i is None or "help" in opts or "h" in opts:
        return []
    groups, verb = [w.value for w in ops[:i]], ops[i].value
    if groups[0] in _AZ_LOCAL:
        return []
    obj, unknown = _az_object(groups, opts)
    tags = ("no-prompt",) * ("yes" in opts or "y" in opts) + unknown
    what = "az " + " ".join([*groups, verb])
    hits: list[Hit] = []
    if verb in _AZ_DELETE:
        low = groups[-1] in _AZ_LOW_GROUPS and verb == "delete"
        tags += ("resource-group",) * (groups == ["group"]) + ("purge",) * (verb == "purge")
        hits = [Hit(DELETE, obj, LOW if low else HIGH, tags, what)]
        if groups == ["group"] and obj:  # the group deleted is where it acts
            opts = {**opts, "resource-group": [Word(obj, inv.span)]}
    elif verb in _AZ_STOP:
        hits = [Hit(STOP, obj, LOW, tags, what)]
    elif groups == ["account"] and verb == "set":
        new = _last(opts, "subscription", "s", "name", "n")
        where = _target(inv, "azure", azure_subscription=new)
        return [finding(inv, SWITCH, new, LOW, target=where, detail="az account set")]
    elif verb in _AZ_MODIFY:
        zero = _last(opts, "node-count", "c", "instance-count", "min-count") == "0"
        hits = [Hit(MODIFY, obj, HIGH if zero else LOW, tags + ("scale-zero",) * zero, what)]
    elif "deployment" in groups and verb == "create" and _last(opts, "mode") in ("Complete",):
        group = _last(opts, "resource-group", "g")
        hits = [Hit(DELETE, group, HIGH, (*tags, "complete-mode"), f"{what} --mode Complete")]
    elif verb == "invoke" and "run-command" in groups and opts.get("scripts"):
        scripts = "\n".join(w.value for w in opts["scripts"])
        vm = Target("ssh", _az_target(inv, ctx, opts).fields).with_fields(ssh_host=obj)
        return _remote(inv, ctx, scripts, vm)
    return _emit(inv, ctx, hits, lambda: _az_target(inv, ctx, opts))


# -------------------------------------------------------------------- doctl
_DOCTL_VALUE = _words(
    "context access-token output format config api-url tag-name region size image count"
    " version spec day hour engine rule db"
)
_DOCTL_DELETE = _words("delete d rm del")
_DOCTL_STOP = _words("power-off shutdown reboot power-cycle")
_DOCTL_REBUILD = _words("rebuild restore")
_DOCTL_MODIFY = _words("update remove resize migrate")
_DOCTL_READ = _words("list ls l get g create c cfg save init switch")
_DOCTL_VERBS = _DOCTL_DELETE | _DOCTL_STOP | _DOCTL_REBUILD | _DOCTL_MODIFY | _DOCTL_READ
_DOCTL_DEEP = _words("compute kubernetes k k8s monitoring serverless sls 1-click")
_DOCTL_LOW_GROUPS = _words("user u pool p ssh-key tag certificate firewall fw")


@analyzer("doctl")
def doctl(inv: Invocation, ctx: Context) -> list[Finding]:
    """doctl's aliases are short and reused (`doctl compute d d 42` deletes a
    droplet): the verb is searched after the group(s) a top command needs."""
    p = parse_argv(inv.args, short_value="tocu", long_value=_DOCTL_VALUE)
    ops = list(p.operands)
    if p.has("--help", "-h") or not ops:
        return []
    i = _verb_at(ops, 2 if ops[0].value in _DOCTL_DEEP else 1, _DOCTL_VERBS.__contains__)
    if i is None:
        return []
    groups, verb = [w.value for w in ops[:i]], ops[i].value
    context = p.value("--context")
    if groups == ["auth"]:  # only `auth switch` matters: the rest is local credentials
        if verb != "switch" or context is None:
            return []
        where = _target(inv, "digitalocean", do_context=context.value)
        return [finding(inv, SWITCH, context.value, LOW, target=where, detail="doctl auth switch")]
    obj, unknown = _joined(ops[i + 1 :] or p.values("--tag-name"))
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

    def where_() -> Target:
        name = context.value if context is not None else _env(inv, ctx, "DIGITALOCEAN_CONTEXT")
        if name is None:
            conf = _read(inv, ctx, posixpath.join(ctx.snapshot.home, ".config/doctl/config.yaml"))
            m = _DOCTL_CONTEXT.search(conf or "")
            name = m.group(1).strip("\"'") if m else "default"
        return _target(inv, "digitalocean", do_context=name)

    return _emit(inv, ctx, hits, where_)
