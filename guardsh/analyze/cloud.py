"""What the cloud CLI families share: the finding record, option grammar, account
resolution and object-store verbs (a helper module, not a family; it registers
nothing).

The analyzers themselves live in one family module per CLI: cloud_aws (aws),
cloud_gcp (gcloud, gsutil), cloud_azure (az) and cloud_doctl (doctl). Each CLI
is read with its own option grammar (global options anywhere), so `aws
--profile prod ec2 terminate-instances` and `aws ec2 terminate-instances
--profile prod` read alike. The account is named by flags, then environment
variables, then the CLI's own config file (through `ctx.facts.read_file`, and
only when there is something to report: `emit` builds the target lazily).

A word that decides what a command does (aws's service or operation, the
verb or a group of gcloud, gsutil, az and doctl) but is not known statically
(`az vm $OP -n x`) is `shell.opaque` on the account the command would act in
(`opaque`), so a production account asks. `unknown_verb` tells that word from
an unknown resource name: once a known word that reads as a verb
(`add-metadata`, `call`) precedes it, the unknown word is an operand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from guardsh.analyze.registry import Context, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word

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


def wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WILDCARD = re.compile(r"[*?\[]")
_OPTION = re.compile(r"--\w|-[A-Za-z]")  # a value may be "-1", never "--x" or "-n"


# The session's variables and config files describe this machine only: on a
# remote target (`ssh bastion aws ...`) only the line's own words count, and
# the remote host's fields are kept. A local target's hostname is dropped: the
# account names the environment, not the laptop the command is typed on.
def env(inv: Invocation, ctx: Context, *names: str) -> str | None:
    for name in names:
        v = inv.env_get(name)
        if v is None and inv.target.kind == "local":
            v = ctx.snapshot.variables.get(name)
        if v:
            return v
    return None


def read_local(inv: Invocation, ctx: Context, path: str) -> str | None:
    return ctx.facts.read_file(path) if inv.target.kind == "local" else None


def cloud_target(inv: Invocation, cloud: str, **fields: str | None) -> Target:
    base = () if inv.target.kind == "local" else inv.target.fields
    return Target("cloud", base).with_fields(cloud=cloud, **fields)


def emit(
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


def joined(words: Sequence[Word]) -> tuple[str | None, Tags]:
    """The words as one object, and an `unknown-object` tag if any is unknown."""
    unknown = ("unknown-object",) if any(not w.known for w in words) else ()
    return (",".join(w.value for w in words) or None), unknown


def split_args(args: Sequence[Word], flags: frozenset[str]) -> tuple[Opts, list[Word]]:
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


def last(opts: Opts, *names: str) -> str | None:
    for name in names:
        if opts.get(name):
            return opts[name][-1].value
    return None


def one(opts: Opts, name: str) -> Word | None:
    vals = opts.get(name)
    return vals[-1] if vals else None


def ini(text: str | None, section: str) -> dict[str, str]:
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


# Verbs the families do not classify, and the heads of `verb-noun` compounds
# (`attach-disk`, `get-credentials`, `power-on`): with one before it, an
# unknown word is an operand (a name), not the verb. Words that also name
# groups (`run`, `test`, `transfer`, `snapshot`) are not here: a verb missed
# is at worst one opaque finding, a group taken for a verb a silent pass.
_VERB_HEADS = wordset(
    "add remove attach detach get set list describe show create update delete import export"
    " enable disable start stop reset abandon recreate simulate change power open sign generate"
    " move copy"
)
_NEUTRAL_VERBS = wordset(
    "add remove attach detach assign unassign get set unset append reset upgrade call publish"
    " pull ack submit proxy access encrypt decrypt sign verify copy move clone rename execute"
    " cancel apply deploy print browse open query search analyze generate approve reject lookup"
    " validate install invoke ssh scp upload download login logout"
)


def _compound(word: str) -> bool:
    head, dash, _ = word.partition("-")
    return bool(dash) and head in _VERB_HEADS


def unknown_verb(ops: Sequence[Word], start: int, more: frozenset[str] = frozenset()) -> int | None:
    """With no known verb among the command words (groups then a verb): where
    the first unknown word is, unless a known word from `start` on reads as a
    verb (or is one of the family's `more`), which makes the unknown word
    after it an operand (None: quiet)."""
    for i, w in enumerate(ops):
        if not w.known:
            return i
        if i >= start and (w.value in _NEUTRAL_VERBS or w.value in more or _compound(w.value)):
            return None
    return None


def opaque(inv: Invocation, ops: Sequence[Word], i: int, target: Target) -> list[Finding]:
    """`shell.opaque` naming the unknown command word `ops[i]` (also the
    evidence), on the account the command would act in."""
    word = ops[i]
    evidence = word.span if word.span.end > word.span.start else inv.span
    where = " ".join([inv.program, *(w.value for w in ops[:i])])
    return [
        finding(inv, "shell.opaque", word.value, LOW, evidence=evidence,
                tags=("unknown-object",), target=target,
                detail=f"{where}: the verb is not known statically")
    ]  # fmt: skip


def verb_at(ops: Sequence[Word], start: int, known: Callable[[str], bool]) -> int | None:
    """The first command word that is a verb: the words before it are groups."""
    for i in range(start, len(ops)):
        if ops[i].known and known(ops[i].value):
            return i
    return None


def store(
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


def remote(inv: Invocation, ctx: Context, text: str, target: Target) -> list[Finding]:
    return list(ctx.recurse_shell(text, target, inv.span))
