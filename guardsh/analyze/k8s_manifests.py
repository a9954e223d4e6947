"""Manifests named by kubectl `-f FILE|DIR|URL|-`: the objects they hold,
grouped by kind and namespace (a helper module, not a family; it registers
nothing: k8s_cmd and k8s_verbs read manifests and patches through it, and
k8s_kustomize builds on it for `-k DIR`).

`-f DIR` reads the *.json, *.yaml and *.yml files directly in DIR, and with
`-R` those in its subdirectories too (kubectl's rule: the extension matters
only for files found in a directory; a symlinked subdirectory is not entered).
Directories are listed through `Facts.extra["list_dir"]` and files read
through `Facts.read_file`: the analysis itself does no I/O. The work for one
command is capped (`Sources`); beyond the cap, and for a URL, an unreadable
or malformed file or a directory that cannot be listed, the objects that
could be named are kept and one group marked unknown (`manifests in PART`)
stands for the rest, so nothing is under-reported. On an ssh host or in a
pod the files are not ours: nothing is read there, and every part is opaque
(but `-`, a known stdin).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from guardsh.analyze.kube import SCALABLE, Group, abspath, canon_kind
from guardsh.analyze.registry import Context
from guardsh.model import Invocation, Stdin, Word

MAX_FILES = 200  # files read from directories and kustomizations, per command
MAX_BYTES = 5 * 1024 * 1024  # their text, in all
MAX_DIRS = 100  # directories listed
MAX_DEPTH = 16  # below the directory named by -f
EXTENSIONS = (".json", ".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Obj:
    """One object a manifest names."""

    kind: str  # canonical: `deployment`
    name: str
    namespace: str | None = None
    zero: bool = False  # a scalable kind with `replicas: 0`


class Sources:
    """The files and directories one kubectl command reads, within one budget.

    Files named on the command line are read as they are (the reader's own
    size cap applies); files found by listing a directory or through a
    kustomization count against MAX_FILES and MAX_BYTES, listings against
    MAX_DIRS. Once over, every further read or listing answers None.
    """

    __slots__ = ("bytes", "ctx", "dirs", "files", "inv", "over")

    def __init__(self, inv: Invocation, ctx: Context) -> None:
        self.inv, self.ctx = inv, ctx
        self.files = self.bytes = self.dirs = 0
        self.over = False

    def path(self, part: str) -> str:
        """A path from the command line or a manifest, absolute and normalized."""
        return posixpath.normpath(abspath(self.inv, self.ctx, part))

    def read(self, path: str, size: int = 0) -> str | None:
        """A file found by a walk or a kustomization (`size`: as listed, if known)."""
        if self.inv.target.kind != "local":
            return None
        if self.over or self.files >= MAX_FILES or self.bytes + size > MAX_BYTES:
            self.over = True
            return None
        self.files += 1
        text = self.ctx.facts.read_file(path)
        if text is not None:
            self.bytes += len(text)
            if self.bytes > MAX_BYTES:
                self.over = True
                return None
        return text

    def listing(self, path: str) -> Sequence[tuple[str, bool, int]] | None:
        """A directory's entries (name, is_dir, size); None if unknown or over budget."""
        lister = self.ctx.facts.extra.get("list_dir")
        if not callable(lister) or self.inv.target.kind != "local":
            return None
        if self.over or self.dirs >= MAX_DIRS:
            self.over = True
            return None
        self.dirs += 1
        entries: Sequence[tuple[str, bool, int]] | None = lister(path)
        return entries


def manifest_groups(
    src: Sources, filenames: Iterable[Word], recursive: bool = False
) -> list[Group]:
    """Objects named by `-f` (comma-separated parts too), grouped by kind and namespace.

    A part whose objects cannot all be named adds `manifests in PART`, marked
    unknown; so does a part that names no object at all (an empty file or
    directory: kubectl would find nothing, and we cannot tell why).
    """
    out: list[Group] = []
    for w in filenames:
        for part in w.value.split(",") if w.known else [w.value]:
            objs, whole = _manifests(src, part, recursive) if w.known and part else ([], False)
            out.extend(group(objs))
            if not (whole and objs):
                out.append(Group(f"manifests in {part}", unknown=True))
    return out


def _manifests(src: Sources, part: str, recursive: bool) -> tuple[list[Obj], bool]:
    """The objects in one -f part, and whether that is all of them."""
    text = read_text(src.inv, src.ctx, part)
    if text is not None:
        objs = objects_in(text)
        return (objs or [], objs is not None)
    if part == "-" or "://" in part:
        return [], False
    return _walk(src, src.path(part), recursive, 0)


def _walk(src: Sources, top: str, recursive: bool, depth: int) -> tuple[list[Obj], bool]:
    entries = src.listing(top)
    if entries is None:
        return [], False
    objs: list[Obj] = []
    whole = True
    for name, is_dir, size in entries:
        path = posixpath.join(top, name)
        if is_dir:
            if recursive and depth < MAX_DEPTH:
                more, ok = _walk(src, path, True, depth + 1)
                objs.extend(more)
                whole = whole and ok
            elif recursive:
                whole = False
            continue
        if not name.endswith(EXTENSIONS):
            continue
        text = src.read(path, size)
        found = objects_in(text) if text is not None else None
        if found is None:
            whole = False
        else:
            objs.extend(found)
        if src.over:
            break
    return objs, whole


def read_text(inv: Invocation, ctx: Context, part: str) -> str | None:
    """`-` (known stdin) or a local file; None for a URL or anything unreadable."""
    if part == "-":
        stdin: Stdin | None = inv.stdin
        return stdin.text if stdin is not None else None
    if "://" in part or inv.target.kind != "local":
        return None  # on an ssh host or in a pod, our files are not the ones it reads
    return ctx.facts.read_file(posixpath.normpath(abspath(inv, ctx, part)))


def objects_in(text: str) -> list[Obj] | None:
    """The objects a manifest's documents name (`kind: List` items too); None if malformed."""
    try:
        docs = load_yaml_all(text)
    except Exception:  # malformed YAML: the tool will refuse it; we cannot name objects
        return None
    out: list[Obj] = []
    for doc in _flatten(docs):
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        kind = canon_kind(str(doc.get("kind") or "?"))
        gen = meta.get("generateName")
        name = meta.get("name") or (f"{gen}*" if gen else "?")
        ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        spec = doc.get("spec")
        zero = kind in SCALABLE and isinstance(spec, dict) and spec.get("replicas") == 0
        out.append(Obj(kind, str(name), ns, zero))
    return out


def group(objs: Iterable[Obj]) -> list[Group]:
    """Objects by kind and namespace, in the order first seen; a name once."""
    found: dict[tuple[str, str | None], tuple[dict[str, None], bool]] = {}
    for o in objs:
        names, zero = found.get((o.kind, o.namespace), ({}, False))
        names[o.name] = None
        found[(o.kind, o.namespace)] = (names, zero or o.zero)
    return [Group(k, tuple(n), namespace=ns, zero=z) for (k, ns), (n, z) in found.items()]


def _flatten(docs: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        items = doc.get("items")
        if isinstance(items, list) and str(doc.get("kind", "")).endswith("List"):
            yield from _flatten(items)
        else:
            yield doc


def load_yaml_all(text: str) -> list[Any]:
    """The documents of a YAML stream; a JSON document (YAML's subset) parsed as JSON,
    which is many times faster than through the YAML loader."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            return [json.loads(text)]
        except ValueError:
            pass  # not plain JSON after all: YAML decides
    import yaml  # only when a manifest or patch is read

    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def patch_zeroes(text: str) -> bool:
    """Does a strategic/merge (`{"spec":{"replicas":0}}`) or JSON patch scale to zero?"""
    try:
        docs = load_yaml_all(text)
    except Exception:
        return False
    for doc in docs:
        spec = doc.get("spec") if isinstance(doc, dict) else None
        if isinstance(spec, dict) and spec.get("replicas") == 0:
            return True
        if isinstance(doc, list):
            for op in doc:
                if (
                    isinstance(op, dict)
                    and op.get("path") == "/spec/replicas"
                    and op.get("op") in ("replace", "add")
                    and op.get("value") == 0
                ):
                    return True
    return False
