"""aws: what is deleted, stopped or changed, and in which account and region.

Operations are read by their verb prefix (`delete-`, `terminate-`, `stop-`,
`modify-` ...) and their object from the matching `--NOUN-id(s)/-name(s)`
option; the account comes from `--profile`, AWS_PROFILE or ~/.aws/config.

Anti-pattern / best practice:
  aws s3 rm s3://prod-data --recursive          -> cloud.delete high
  aws s3 rm s3://prod-data/tmp/one.json         -> cloud.delete low
  aws ec2 terminate-instances --dry-run ...     -> nothing (a dry run)

`aws ssm send-command` is analyzed as shell text on the instances it names.

An operation not known statically (`aws --profile prod ec2 $ACTION ...`) is
`shell.opaque` in that account. A service not known statically is opaque
only where the operation's meaning depends on it (`aws $SVC rm ...`);
otherwise the operation's own prefix decides (`aws $SVC describe-x` is
quiet, `aws $SVC delete-x` a deletion), and the words after it are read as
a call too, in case the unknown word was options (`aws $OPTS s3 rm ...`).
"""

from __future__ import annotations

import json
import posixpath
import re

from guardsh.analyze.cloud import (
    DELETE,
    HIGH,
    LOW,
    MODIFY,
    STOP,
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
    split_args,
    store,
    wordset,
)
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Target, Word

_ACCOUNT = re.compile(r"arn:aws[\w-]*:iam::(\d{12}):")
_R53_SHORT = re.compile(r"Action\s*=\s*DELETE[^}]*?Name\s*=\s*([^,}\s]+)|Action\s*=\s*DELETE")
_ZERO = re.compile(r"\b(?:desired|max)(?:Size|Capacity|Count)\"?\s*[=:]\s*0\b", re.I)
_SSM_SHORT = re.compile(r"commands=\[(.*)\]", re.S)


_AWS_FLAGS = wordset(
    "debug no-verify-ssl no-paginate no-sign-request no-cli-pager cli-auto-prompt version"
    " no-cli-auto-prompt dry-run no-dry-run force skip-final-snapshot no-skip-final-snapshot"
    " delete-automated-backups no-delete-automated-backups force-delete-without-recovery"
    " apply-immediately no-apply-immediately hibernate recursive dryrun quiet only-show-errors"
    " no-progress follow-symlinks no-follow-symlinks no-guess-mime-type delete exact-timestamps"
    " size-only human-readable summarize no-overwrite ignore-glacier-warnings follow"
    " force-glacier-transfer generate-cli-skeleton"
)
_AWS_MODIFY = tuple(
    wordset(
        "modify- update- put- set- change- replace- reset- rotate- attach- detach- associate-"
        " disassociate- authorize- revoke- remove- disable- deregister- cancel- apply- untag-"
        " execute-change-set deploy"
    )
)
_AWS_STOP = ("stop-", "reboot-", "failover-", "pause-")
_AWS_DELETE = tuple(
    wordset("delete- batch-delete- admin-delete- terminate- purge- schedule-key-deletion release-")
)
_AWS_QUIET = wordset(
    "update-kubeconfig put-metric-data put-log-events put-record put-records put-events"
    " put-trace-segments"
)
# small, scoped deletions: one item, one key, a tag, a policy document
_AWS_LOW_NOUNS = wordset(
    "tags item message message-batch object alarms dashboards access-key login-profile"
    " ssh-public-key signing-certificate service-specific-credential policy-version parameter"
    " key-pair archive-rule receipt-rule metric-filter subscription-filter network-interface"
    " security-group alias rule image virtual-mfa-device environment-membership user address"
    " launch-template-versions"
)
_OBJ_SUFFIXES = ("-identifier", "-ids", "-id", "-names", "-name", "-arn", "-arns", "-url", "")
_OBJ_EXACT = wordset(
    "id ids name names arn cluster resource-arn service bucket function queue stack table"
    " repository group cache-cluster"
)
_NOT_OBJ = wordset("profile region output query endpoint-url color ca-bundle")
_SERVICE_DECIDES = wordset("rm rb mv cp sync send-command")  # s3 and ssm verbs
_AWS_LOCAL = wordset("configure help history")  # the CLI itself
_ZERO_OPTS = ("desired-count", "desired-capacity", "max-size", "reserved-concurrent-executions")


def _aws_object(service: str, noun: str, opts: Opts) -> tuple[str | None, Tags]:
    """The ids/names the operation acts on: `--db-instance-identifier` for
    `delete-db-instance`, `--instance-ids` for `terminate-instances`, ..."""
    if service == "s3api" and opts.get("bucket"):
        key = last(opts, "key")
        return f"s3://{last(opts, 'bucket')}" + (f"/{key}" if key else ""), ()
    stems = (noun, noun[:-1]) if noun.endswith("s") else (noun, noun + "s")
    for stem in stems:  # a bare `--NOUN` only for names (`--bucket`), not `--item JSON`
        for suffix in _OBJ_SUFFIXES if stem in _OBJ_EXACT else _OBJ_SUFFIXES[:-1]:
            if opts.get(stem + suffix) and stem + suffix not in _ZERO_OPTS:
                return joined(opts[stem + suffix])
    for name, vals in opts.items():
        if not vals or name in _NOT_OBJ or name.startswith(("final-", "new-", "source-")):
            continue
        if name in _OBJ_EXACT or name.endswith(_OBJ_SUFFIXES[:-1]):
            return joined(vals)
    return None, ()


def _param_text(inv: Invocation, ctx: Context, word: Word | None) -> str | None:
    """A parameter's text: inline, or `file://path` read through the facts."""
    if word is None or not word.known:
        return None
    for prefix in ("file://", "fileb://"):
        if word.value.startswith(prefix):
            path = posixpath.join(inv.cwd or ctx.snapshot.cwd, word.value[len(prefix) :])
            return read_local(inv, ctx, posixpath.normpath(path))
    return word.value


def _route53(inv: Invocation, ctx: Context, opts: Opts) -> Hit:
    zone = last(opts, "hosted-zone-id")
    text = _param_text(inv, ctx, one(opts, "change-batch"))
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
        zero = any(last(opts, z) == "0" for z in _ZERO_OPTS)
        zero = zero or bool(_ZERO.search(last(opts, "scaling-config") or ""))
        tags += unknown + ("scale-zero",) * zero
        return [Hit(MODIFY, obj, HIGH if zero else LOW, tags, what)]
    return []


def _aws_target(inv: Invocation, ctx: Context, opts: Opts) -> Target:
    profile = last(opts, "profile") or env(inv, ctx, "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
    keys = profile is None and env(inv, ctx, "AWS_ACCESS_KEY_ID") is not None
    region = last(opts, "region") or env(inv, ctx, "AWS_REGION", "AWS_DEFAULT_REGION")
    account = None
    if not keys:  # the profile's section of ~/.aws/config: region, account
        profile = profile or "default"
        home_conf = posixpath.join(ctx.snapshot.home, ".aws/config")
        text = read_local(inv, ctx, env(inv, ctx, "AWS_CONFIG_FILE") or home_conf)
        conf = ini(text, "default" if profile == "default" else f"profile {profile}")
        region = region or conf.get("region")
        account = conf.get("sso_account_id")
        if account is None and (m := _ACCOUNT.search(conf.get("role_arn", ""))):
            account = m.group(1)
    return cloud_target(
        inv, "aws", aws_profile=profile, aws_region=region, aws_account=account,
        aws_credentials="env" if keys else None, aws_endpoint=last(opts, "endpoint-url"),
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
    ids = joined(opts.get("instance-ids", []))[0]
    target = _aws_target(inv, ctx, opts).with_fields(aws_instance_ids=ids)
    cmds = _ssm_commands(_param_text(inv, ctx, one(opts, "parameters")))
    if cmds is None:
        detail = "ssm send-command: commands not readable"
        return [finding(inv, "shell.opaque", ids or "ssm", LOW, target=target, detail=detail)]
    return remote(inv, ctx, cmds, target)


def _unknown(ops: list[Word]) -> int | None:
    """Where the unknown word is that decides what the call does."""
    if ops and not ops[0].known:
        if len(ops) < 2 or not ops[1].known or ops[1].value in _SERVICE_DECIDES:
            return 0
    elif len(ops) > 1 and not ops[1].known and ops[0].value not in _AWS_LOCAL:
        return 1
    return None


def _call(inv: Invocation, ctx: Context, ops: list[Word], opts: Opts) -> list[Finding]:
    """SERVICE OPERATION ARGS..."""
    unknown = _unknown(ops)
    if unknown is not None:
        return opaque(inv, ops, unknown, _aws_target(inv, ctx, opts))
    if len(ops) < 2 or not ops[1].known:
        return []
    service, op = ops[0].value, ops[1].value
    if service == "s3":
        tags = ("force",) if "force" in opts else ()
        hits = store(op, ops[2:], "s3://", "recursive" in opts, tags, "delete" in opts)
    elif service == "ssm" and op == "send-command":
        return _ssm(inv, ctx, opts)
    else:
        hits = _aws_api(inv, ctx, service, op, opts)
    return emit(inv, ctx, hits, lambda: _aws_target(inv, ctx, opts))


@analyzer("aws")
def aws(inv: Invocation, ctx: Context) -> list[Finding]:
    opts, ops = split_args(inv.args, _AWS_FLAGS)
    if any(w.value == "help" for w in ops[1:]) or "generate-cli-skeleton" in opts:
        return []
    if "dryrun" in opts or ("dry-run" in opts and "no-dry-run" not in opts):
        return []
    found = _call(inv, ctx, ops, opts)
    if not found and len(ops) > 2 and not ops[0].known:  # `aws $OPTS ec2 terminate-...`
        found = _call(inv, ctx, ops[1:], opts)
    return found
