"""terraform / tofu / terragrunt: what a run changes, and in which workspace.

The workspace is what names the environment (`prod`, `staging`), and it does
not appear on the command line: it comes from `TF_WORKSPACE`, else from the
file `.terraform/environment` under the working directory (`-chdir=DIR`,
`TF_DATA_DIR`), else it is `default`. That file is read through
`ctx.facts.read_file`, never directly.

Anti-pattern / best practice:
  terraform -chdir=infra/prod destroy -auto-approve   -> terraform.destroy high
  terraform apply tfplan                              -> terraform.apply low
  terraform plan -destroy                             -> nothing (a plan changes nothing)

`workspace select NAME` changes what later runs hit; it is reported as a low
`terraform.workspace_switch` naming the new workspace (as `kubectl config
use-context` is), so `terraform workspace select prod && terraform destroy`
shows `prod` on the line even though the destroy reads the old file.

A subcommand not known statically (`terraform $CMD`, `terragrunt run-all
"$VERB"`), or the operation of `state`/`workspace` (`terraform state $OP
addr`), is `shell.opaque` in the workspace, so a production workspace asks.
With `-help` or `-version` anywhere it stays quiet, unknown subcommand or
not: terraform then prints help or its version and runs nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator

from guardsh.analyze.registry import Context, analyzer, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word
from guardsh.parse.argv import Opt, Parsed, parse_argv

HIGH, LOW = Severity.HIGH, Severity.LOW


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Options that take the next word (Go's flag package: `-var-file x` == `-var-file=x`).
# The same set serves `-name` and `--name` (Go accepts both), and terragrunt's own.
_VALUE = _words(
    "chdir var var-file target replace state state-out backup lock-timeout parallelism out"
    " config backend-config plugin-dir from-module generate-config-out provider id"
    " terragrunt-working-dir working-dir terragrunt-config terragrunt-download-dir download-dir"
    " terragrunt-source source terragrunt-iam-role iam-assume-role terragrunt-include-dir"
    " terragrunt-exclude-dir queue-include-dir queue-exclude-dir terragrunt-tfpath tf-path"
    " log-level filter terragrunt-log-level terragrunt-parallelism"
)
_NON_INTERACTIVE = frozenset({"terragrunt-non-interactive", "non-interactive"})
_ALL = frozenset({"all", "terragrunt-all"})
_HELP = frozenset({"help", "h", "version", "v"})
_RUN_ALL = {"run-all": "", "destroy-all": "destroy", "apply-all": "apply"}
_DECIDING_OP = frozenset({"state", "workspace"})  # their first operand picks read or write


def _flag(p: Parsed, name: str) -> bool:
    """A boolean flag, honouring Go's `-flag=false`."""
    on = False
    for o in p.opts:
        if o.name.lstrip("-") == name:
            on = o.value is None or o.value.value.lower() not in ("false", "0")
    return on


def _values(p: Parsed, name: str) -> list[Word]:
    return [o.value for o in p.opts if o.name.lstrip("-") == name and o.value is not None]


def _extra_args(inv: Invocation, ctx: Context, sub: str) -> list[Word]:
    """`TF_CLI_ARGS` / `TF_CLI_ARGS_apply` add flags nobody sees on the line."""
    words: list[Word] = []
    for var in ("TF_CLI_ARGS", f"TF_CLI_ARGS_{sub}"):
        text = _env(inv, ctx, var)
        if text:
            words.extend(Word(t, inv.span) for t in text.split())
    return words


def _env(inv: Invocation, ctx: Context, name: str) -> str | None:
    """The line's own assignment, else (on this machine only) the session's."""
    v = inv.env_get(name)
    if v is None and inv.target.kind == "local":
        v = ctx.snapshot.variables.get(name)
    return v


def _target(inv: Invocation, ctx: Context, p: Parsed) -> tuple[Target, list[str]]:
    """The terraform target: workspace, working dir and var files."""
    tags: list[str] = []
    base = inv.cwd or ctx.snapshot.cwd
    chdir = None
    for name in ("chdir", "terragrunt-working-dir", "working-dir"):
        for w in _values(p, name):
            chdir = w
    workdir: str | None = base
    if chdir is not None:
        workdir = posixpath.normpath(posixpath.join(base, chdir.value)) if chdir.known else None
    workspace = _env(inv, ctx, "TF_WORKSPACE")
    if workspace is None and workdir is not None and inv.target.kind == "local":
        data_dir = _env(inv, ctx, "TF_DATA_DIR") or ".terraform"
        text = ctx.facts.read_file(posixpath.join(workdir, data_dir, "environment"))
        workspace = (text or "").strip() or "default"
    if workspace is None:
        tags.append("unknown-workspace")
    var_files = ",".join(w.value for w in _values(p, "var-file")) or None
    if chdir is not None and not chdir.known:
        workdir = chdir.value  # shown as written
    host = inv.target.fields if inv.target.kind != "local" else ()
    fields = {"terraform_workspace": workspace, "terraform_dir": workdir, "tf_var_file": var_files}
    return Target("terraform", host).with_fields(**fields), tags


def _addresses(p: Parsed, *names: str) -> str | None:
    """What a run acts on: its `-target`/`-replace` addresses (None: everything)."""
    addrs = [w.value for n in names for w in _values(p, n)]
    return ",".join(addrs) if addrs else None


Classified = tuple[str, str | None, Severity, tuple[str, ...], str]


def _classify(sub: str, p: Parsed, ops: list[Word]) -> Iterator[Classified]:
    """(action, object, severity, tags, detail) for one subcommand; an object
    of None means "the whole workspace" and is named once it is known."""
    auto = ("auto-approve",) if _flag(p, "auto-approve") else ()
    first = ops[0].value if ops else "?"
    if sub == "destroy" or (sub == "apply" and _flag(p, "destroy")):
        verb = "destroy" if sub == "destroy" else "apply -destroy"
        yield "terraform.destroy", _addresses(p, "target"), HIGH, auto, verb
    elif sub == "apply":
        obj = _addresses(p, "target", "replace")
        tags = auto + (("replace",) if _values(p, "replace") else ())
        if ops:
            yield "terraform.apply", first, LOW, ("planfile",), "apply a saved (reviewed) plan"
        elif _flag(p, "refresh-only"):
            yield "terraform.apply", obj, LOW, (*auto, "refresh-only"), "apply -refresh-only"
        elif auto:
            yield "terraform.apply", obj, HIGH, tags, "apply -auto-approve: no plan review"
        else:
            yield "terraform.apply", obj, LOW, tags, "apply (terraform shows the plan and asks)"
    elif sub == "refresh":
        yield "terraform.apply", None, LOW, ("refresh-only",), "refresh rewrites the state"
    elif sub == "import":
        yield "terraform.apply", first, LOW, (), "import into the state"
    elif sub == "taint":
        yield "terraform.taint", first, LOW, (), "taint: the next apply replaces it"
    elif sub == "force-unlock":
        yield "terraform.state_rm", first, LOW, ("force",), "force-unlock the state lock"
    elif sub == "state" and first in ("rm", "mv", "push", "replace-provider"):
        if _flag(p, "dry-run"):
            return
        obj = ",".join(w.value for w in ops[1:]) or "?"
        sev = HIGH if first in ("rm", "push") else LOW
        tags = ("force",) if _flag(p, "force") else ()
        yield "terraform.state_rm", obj, sev, tags, f"state {first}"
    elif sub == "workspace" and first in ("delete", "select"):
        name = ops[1].value if len(ops) > 1 else "?"
        if first == "delete":
            tags = ("force",) if _flag(p, "force") else ()
            yield "terraform.state_rm", name, HIGH, tags, "workspace delete"
        else:
            yield "terraform.workspace_switch", name, LOW, (), "workspace select: later runs hit it"


def _parse(args: Iterable[Word]) -> Parsed:
    """Options in Go's style; `-chdir=$DIR` (an unknown word) is still an option."""
    p = parse_argv(tuple(args), long_value=_VALUE, single_dash_long=True)
    if all(w.known or not w.value.startswith("-") for w in p.operands):
        return p
    opts = list(p.opts)
    operands = []
    for w in p.operands:
        if w.known or not w.value.startswith("-"):
            operands.append(w)
            continue
        name, eq, val = w.value.partition("=")
        opts.append(Opt("-" + name.lstrip("-"), Word(val, w.span, False) if eq else None, w))
    return Parsed(tuple(opts), tuple(operands))


def _opaque(
    inv: Invocation, ctx: Context, p: Parsed, at: int, tags: tuple[str, ...]
) -> list[Finding]:
    """The subcommand (`at` 0) or its operation (`at` 1) is not known statically."""
    target, ttags = _target(inv, ctx, p)
    ops, word = p.operands, p.operands[at]
    if at and ops[0].value == "workspace" and len(ops) > 2:  # `workspace $OP prod`: prod
        target = target.with_fields(terraform_workspace=ops[2].value)
    where = " ".join([inv.program, *(w.value for w in ops[:at])])
    auto = ("auto-approve",) if _flag(p, "auto-approve") else ()
    evidence = word.span if word.span.end > word.span.start else inv.span
    all_tags = ("unknown-object", *auto, *tags, *ttags)
    detail = f"{where}: the {'operation' if at else 'subcommand'} is not known statically"
    return [
        finding(inv, "shell.opaque", word.value, LOW, evidence=evidence, tags=all_tags,
                detail=detail, target=target)
    ]  # fmt: skip


def _analyze(
    inv: Invocation, ctx: Context, args: list[Word], tags: tuple[str, ...]
) -> list[Finding]:
    p = _parse(args)
    if not p.operands or any(o.name.lstrip("-") in _HELP for o in p.opts):
        return []
    head, ops = p.operands[0], list(p.operands[1:])
    if not head.known:
        return _opaque(inv, ctx, p, 0, tags)
    if head.value in _DECIDING_OP and ops and not ops[0].known:
        return _opaque(inv, ctx, p, 1, tags)
    sub = head.value
    extra = _extra_args(inv, ctx, sub)
    if extra:
        p = _parse([*args, *extra])
    out: list[Finding] = []
    target: Target | None = None
    ttags: list[str] = []
    for action, obj, sev, own_tags, detail in _classify(sub, p, ops):
        if target is None:  # the workspace costs a file read: only when needed
            target, ttags = _target(inv, ctx, p)
        where = target
        if sub == "workspace":  # the workspace deleted or selected is the one it acts on
            where = target.with_fields(terraform_workspace=obj)
        ws = target.get("terraform_workspace") or "?"
        if obj is None:
            obj, detail = ws, f"{detail}: every resource in workspace {ws}"
        if "run-all" in tags:
            sev = HIGH
            detail += " (every module below the working dir)"
        all_tags = (*own_tags, *tags, *ttags)
        out.append(finding(inv, action, obj, sev, tags=all_tags, detail=detail, target=where))
    return out


@analyzer("terraform", "tofu", "opentofu")
def terraform(inv: Invocation, ctx: Context) -> list[Finding]:
    return _analyze(inv, ctx, list(inv.args), ())


@analyzer("terragrunt")
def terragrunt(inv: Invocation, ctx: Context) -> list[Finding]:
    """`terragrunt destroy` wraps terraform; `run-all X`, `run --all X` and
    `stack run X` fan it out over every module below, so those are always high."""
    args = list(inv.args)
    p = _parse(args)
    if not p.operands:
        return []
    head = p.operands[0]
    tags: list[str] = []
    if any(o.name.lstrip("-") in _NON_INTERACTIVE for o in p.opts):
        tags.append("no-prompt")
    if head.value in _RUN_ALL or head.value in ("run", "stack"):
        idx = next(i for i, w in enumerate(args) if w is head)
        rest = args[idx + 1 :]
        fan_out = head.value != "run" or any(o.name.lstrip("-") in _ALL for o in p.opts)
        if head.value == "stack":  # `stack run X`; an unknown `stack $OP` may be a run
            if rest and rest[0].value == "run":
                rest = rest[1:]
            elif not rest or rest[0].known:
                rest = []
        if _RUN_ALL.get(head.value):
            rest = [Word(_RUN_ALL[head.value], head.span), *rest]
        args = [
            w for w in (*args[:idx], *rest)
            if not (w.known and (w.value == "--" or w.value.lstrip("-") in _ALL))
        ]  # fmt: skip
        if fan_out:
            tags.append("run-all")
    return _analyze(inv, ctx, args, tuple(tags))
