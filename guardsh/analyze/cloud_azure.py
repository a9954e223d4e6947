"""az: what is deleted, stopped or changed, and in which subscription and
resource group.

az commands are groups then a verb (`az group delete -n rg`); the
subscription comes from `--subscription`, AZURE_SUBSCRIPTION_ID or the
default in azureProfile.json.

Anti-pattern / best practice:
  az group delete -n prod-rg --yes              -> cloud.delete high
  az vm show -n web-1                           -> nothing (read-only)

`az account set` changes what later commands hit: a low
`cloud.context_switch` naming the new subscription. `az vm run-command
invoke --scripts` is analyzed as shell text on that VM.

With no known verb, an unknown group or verb (`az vm $OP -n x`) is
`shell.opaque` in the subscription (see `cloud.unknown_verb`).
"""

from __future__ import annotations

import json
import posixpath

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
    joined,
    last,
    opaque,
    read_local,
    remote,
    split_args,
    unknown_verb,
    verb_at,
    wordset,
)
from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Target, Word

_AZ_FLAGS = wordset("yes y no-wait debug verbose only-show-errors help h force all")
_AZ_DELETE = wordset("delete delete-batch purge")
_AZ_STOP = wordset("stop deallocate restart redeploy power-off failover suspend")
_AZ_MODIFY = wordset(
    "update set patch scale upgrade resize regenerate-key renew reimage swap rotate import restore"
)
_AZ_READ = wordset(
    "show list create wait exists login logout start ssh invoke download upload browse tail"
    " check version"
)
_AZ_VERBS = _AZ_DELETE | _AZ_STOP | _AZ_MODIFY | _AZ_READ
_AZ_LOW_GROUPS = wordset("lock assignment secret blob file tag key certificate rule entity message")
_AZ_LOCAL = wordset("bicep extension config upgrade cloud interactive")  # the CLI itself


def _az_target(inv: Invocation, ctx: Context, opts: Opts) -> Target:
    """--subscription, else AZURE_SUBSCRIPTION_ID, else azureProfile.json's default."""
    sub = last(opts, "subscription") or env(inv, ctx, "AZURE_SUBSCRIPTION_ID")
    sub_id = None
    if sub is None:
        root = env(inv, ctx, "AZURE_CONFIG_DIR") or posixpath.join(ctx.snapshot.home, ".azure")
        text = read_local(inv, ctx, posixpath.join(root, "azureProfile.json")) or "{}"
        try:
            subs = json.loads(text.lstrip("\ufeff")).get("subscriptions", [])
            default = next(s for s in subs if s.get("isDefault"))
            sub, sub_id = default.get("name"), default.get("id")
        except (ValueError, AttributeError, StopIteration):
            pass
    group = last(opts, "resource-group", "g") or env(inv, ctx, "AZURE_DEFAULTS_GROUP")
    fields = {"azure_subscription_id": sub_id, "azure_resource_group": group}
    return cloud_target(inv, "azure", azure_subscription=sub, **fields)


def _az_object(groups: list[str], opts: Opts) -> tuple[str | None, Tags]:
    named = opts.get("name") or opts.get("n") or opts.get("ids") or opts.get("id")
    obj, unknown = joined(named or [])
    if obj is None and groups == ["group"]:
        obj, unknown = joined(opts.get("resource-group") or opts.get("g") or [])
    if obj is None:  # `storage blob delete-batch --account-name st -s container`
        named = next((v for k, v in opts.items() if k.endswith("-name") and v), [])
        obj, unknown = joined([*named, *(opts.get("source") or opts.get("s") or [])])
        obj = obj and obj.replace(",", "/")
    return obj, unknown


@analyzer("az")
def az(inv: Invocation, ctx: Context) -> list[Finding]:
    opts, ops = split_args(inv.args, _AZ_FLAGS)
    i = verb_at(ops, 1, lambda v: v in _AZ_VERBS or v.startswith(("show-", "list-", "get-")))
    if "help" in opts or "h" in opts or (ops and ops[0].value in _AZ_LOCAL):
        return []
    if i is None:
        j = unknown_verb(ops, 1)
        return [] if j is None else opaque(inv, ops, j, _az_target(inv, ctx, opts))
    groups, verb = [w.value for w in ops[:i]], ops[i].value
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
        new = last(opts, "subscription", "s", "name", "n")
        where = cloud_target(inv, "azure", azure_subscription=new)
        return [finding(inv, SWITCH, new, LOW, target=where, detail="az account set")]
    elif verb in _AZ_MODIFY:
        zero = last(opts, "node-count", "c", "instance-count", "min-count") == "0"
        hits = [Hit(MODIFY, obj, HIGH if zero else LOW, tags + ("scale-zero",) * zero, what)]
    elif "deployment" in groups and verb == "create" and last(opts, "mode") in ("Complete",):
        group = last(opts, "resource-group", "g")
        hits = [Hit(DELETE, group, HIGH, (*tags, "complete-mode"), f"{what} --mode Complete")]
    elif verb == "invoke" and "run-command" in groups and opts.get("scripts"):
        scripts = "\n".join(w.value for w in opts["scripts"])
        vm = Target("ssh", _az_target(inv, ctx, opts).fields).with_fields(ssh_host=obj)
        return remote(inv, ctx, scripts, vm)
    return emit(inv, ctx, hits, lambda: _az_target(inv, ctx, opts))
