"""kubectl `-k DIR`: the objects a kustomization names, without running
kustomize (a helper module, not a family; it registers nothing).

DIR's kustomization.yaml (or .yml, or Kustomization) is read through
`Facts.read_file`; its `resources:` (and the legacy `bases:`) that are local
files are read as manifests, those that are local directories as nested
kustomizations (kustomize requires one there), to a depth of MAX_DEPTH and
never around a cycle. Then, as kustomize does, inner before outer:
`namespace:` sets the namespace of every namespaced object and renames a
Namespace object, `namePrefix`/`nameSuffix` wrap every name but those of
Namespaces, CRDs and APIServices, and `replicas:` with `count: 0` scales an
object to zero.

What cannot be evaluated here keeps the group `kustomization DIR`, marked
unknown, beside whatever was named: a remote resource (a URL, `github.com/…`,
`git@…`), an unreadable or malformed file, generators, patches,
transformers, components, replacements, vars, helm charts, or any field not
known to leave the set of objects and their names alone.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from guardsh.analyze.k8s_manifests import Obj, Sources, group, load_yaml_all, objects_in
from guardsh.analyze.kube import CLUSTER_SCOPED, SCALABLE, Group
from guardsh.model import Word

FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_DEPTH = 10
# Fields that neither add objects nor change their kinds, names, namespaces or replicas
# (or that are evaluated below).
_UNDERSTOOD = frozenset(
    """apiVersion kind metadata resources bases namespace namePrefix nameSuffix replicas
    commonLabels labels commonAnnotations images buildMetadata sortOptions openapi crds
    generatorOptions""".split()  # noqa: SIM905
)
_NOT_PREFIXED = frozenset({"namespace", "customresourcedefinition", "apiservice"})
_REMOTE = ("git@", "git::", "github.com/", "gitlab.com/", "bitbucket.org/")


def kustomize_groups(src: Sources, dirs: Iterable[Word]) -> list[Group]:
    """Objects named by each `-k DIR`, plus `kustomization DIR` (unknown) where
    some of them could not be named (or none were)."""
    out: list[Group] = []
    for w in dirs:
        objs: list[Obj] = []
        whole = False
        if w.known and w.value and not remote(w.value):
            objs, whole = _build(src, src.path(w.value), 0, ())
        out.extend(group(objs))
        if not (whole and objs):
            out.append(Group(f"kustomization {w.value}", unknown=True))
    return out


def remote(ref: str) -> bool:
    """A resource kustomize would fetch: a URL or a git repository."""
    return "://" in ref or ref.startswith(_REMOTE)


def _build(src: Sources, d: str, depth: int, stack: tuple[str, ...]) -> tuple[list[Obj], bool]:
    """The objects of the kustomization in directory `d`, and whether that is all."""
    if depth > MAX_DEPTH or d in stack:
        return [], False
    text = None
    for name in FILES:
        text = src.read(posixpath.join(d, name))
        if text is not None:
            break
    doc = _document(text) if text is not None else None
    if doc is None:
        return [], False
    whole = set(doc) <= _UNDERSTOOD
    objs: list[Obj] = []
    for key in ("resources", "bases"):
        entries = doc.get(key) or []
        if not isinstance(entries, list):
            whole = False
            continue
        for ref in entries:
            if not isinstance(ref, str) or remote(ref):
                whole = False
                continue
            path = posixpath.normpath(posixpath.join(d, ref))
            more, ok = _resource(src, path, depth, (*stack, d))
            objs.extend(more)
            whole = whole and ok
    objs, ok = _transform(doc, objs)
    return objs, whole and ok


def _resource(
    src: Sources, path: str, depth: int, stack: tuple[str, ...]
) -> tuple[list[Obj], bool]:
    """A local resource: a manifest file, else a directory holding a kustomization."""
    text = src.read(path)
    if text is not None:
        found = objects_in(text)
        return (found, True) if found is not None else ([], False)
    return _build(src, path, depth + 1, stack)


def _document(text: str) -> Mapping[str, Any] | None:
    try:
        docs = [d for d in load_yaml_all(text) if d is not None]
    except Exception:  # malformed: kustomize refuses it; we cannot name objects
        return None
    return docs[0] if len(docs) == 1 and isinstance(docs[0], dict) else None


def _transform(doc: Mapping[str, Any], objs: list[Obj]) -> tuple[list[Obj], bool]:
    """namespace, replicas, namePrefix/nameSuffix; False if one cannot be read."""
    ns = doc.get("namespace")
    prefix = doc.get("namePrefix") or ""
    suffix = doc.get("nameSuffix") or ""
    if not all(isinstance(v, str) for v in (ns or "", prefix, suffix)):
        return objs, False
    zero, ok = _zeroed(doc.get("replicas"))
    out: list[Obj] = []
    for o in objs:
        if ns and o.kind == "namespace":
            o = replace(o, name=ns)
        elif ns and o.kind not in CLUSTER_SCOPED:
            o = replace(o, namespace=ns)
        named = o.name
        if o.kind not in _NOT_PREFIXED:
            o = replace(o, name=f"{prefix}{o.name}{suffix}")
        if o.kind in SCALABLE and (named in zero or o.name in zero):
            o = replace(o, zero=True)
        out.append(o)
    return out, ok


def _zeroed(entries: Any) -> tuple[set[str], bool]:
    """The names `replicas:` scales to zero; False if an entry cannot be read."""
    if entries is None:
        return set(), True
    if not isinstance(entries, list):
        return set(), False
    names: set[str] = set()
    ok = True
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            ok = False
        elif e.get("count") == 0 or not isinstance(e.get("count"), int):
            names.add(e["name"])
    return names, ok
