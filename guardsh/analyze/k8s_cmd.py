"""One kubectl command, parsed: the record every verb handler reads (a helper
module, not a family; it registers nothing).

`Cmd.find` turns a group of objects into a finding: the kind's tags
(namespace, pvc, pv, crd, node), `unknown-object` when the objects cannot be
named, `all-namespaces` with `-A`, and a target naming the cluster, namespace
and object (`kube.where`). `Cmd.dry`, `Cmd.scope` and `Cmd.groups` answer what
every verb asks: is this a dry run, which objects are chosen without names,
and which objects the manifests or resource arguments name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from guardsh.analyze.k8s_kustomize import kustomize_groups
from guardsh.analyze.k8s_manifests import Sources, manifest_groups
from guardsh.analyze.kube import Group, Where, resources
from guardsh.analyze.registry import Context, finding
from guardsh.model import Finding, Invocation, Severity, Target, Word
from guardsh.parse.argv import Parsed

KIND_TAGS = {
    "namespace": "namespace",
    "project": "namespace",
    "persistentvolumeclaim": "pvc",
    "persistentvolume": "pv",
    "customresourcedefinition": "crd",
    "node": "node",
}


@dataclass(frozen=True, slots=True)
class Cmd:
    """One kubectl command, parsed: what every verb handler needs."""

    inv: Invocation
    ctx: Context
    p: Parsed
    verb: str
    ops: tuple[Word, ...]  # operands after the verb, before `--`
    tail: tuple[Word, ...]  # words after `--`
    where: Where

    def find(
        self, action: str, group: Group | None, sev: Severity, tags: Iterable[str] = (),
        detail: str = "", obj: str | None = None, target: Target | None = None,
    ) -> Finding:  # fmt: skip
        """A finding on `group` (its kind's tags; its namespace in the target)."""
        all_tags = set(tags)
        if group is not None:
            tag = KIND_TAGS.get(group.kind)
            if tag:
                all_tags.add(tag)
            if group.unknown:
                all_tags.add("unknown-object")
            if self.where.all_ns:
                all_tags.update(("all-namespaces", "bulk"))
        one = group is not None and len(group.names) == 1 and not group.unknown
        name = group.names[0] if group is not None and one else None
        if target is None:
            target = self.where.at(
                group.kind if group else None, group.namespace if group else None, name
            )
        if obj is None and group is not None:
            obj = group.object
        return finding(
            self.inv, action, obj, sev, tags=all_tags, target=target,
            detail=detail or f"{self.inv.program} {self.verb} {obj or ''}".rstrip(),
        )  # fmt: skip

    @property
    def dry(self) -> bool:
        """`--dry-run` (bare = client), `=client`, `=server`, `=true`: nothing changes."""
        v = None
        seen = False
        for o in self.p.opts:
            if o.name == "--dry-run":
                seen, v = True, o.value
        if not seen:
            return False
        if v is None:
            return True
        return v.known and v.value.lower() not in ("none", "false", "")

    @property
    def scope(self) -> str | None:
        """How objects are chosen without names: `all`, `-l SEL`, `--field-selector F`."""
        p = self.p
        if p.has("--all"):
            return "all"
        sel = p.value("-l", "--selector")
        if sel is not None:
            return f"-l {sel.value}"
        fs = p.value("--field-selector")
        if fs is not None:
            return f"--field-selector {fs.value}"
        return None

    @property
    def recursive(self) -> bool:
        """`-R`, `--recursive` (`=false` turns it off; an unknown value may be on)."""
        on = False
        for o in self.p.opts:
            if o.name in ("-R", "--recursive"):
                v = o.value
                on = v is None or not v.known or v.value.lower() not in ("false", "f", "0")
        return on

    def groups(self, words: Iterable[Word] | None = None) -> list[Group]:
        """The objects named by -f/-k manifests (`-R`: in subdirectories too), else
        by resource arguments."""
        p = self.p
        files = p.values("-f", "--filename")
        kust = p.values("-k", "--kustomize")
        if files or kust:
            src = Sources(self.inv, self.ctx)
            return [*manifest_groups(src, files, self.recursive), *kustomize_groups(src, kust)]
        if p.has("-f", "--filename", "-k", "--kustomize"):  # the flag's value is missing
            return [Group("manifests", unknown=True)]
        return resources(tuple(self.ops if words is None else words), self.scope)


Handler = Callable[[Cmd], Iterator[Finding]]
