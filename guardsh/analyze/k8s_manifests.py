"""Manifests named by kubectl `-f FILE|DIR|URL|-` and `-k DIR`: the objects
they hold, grouped by kind and namespace (a helper module, not a family; it
registers nothing: k8s_cmd and k8s_verbs read manifests and patches through it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from guardsh.analyze.kube import SCALABLE, Group, abspath, canon_kind
from guardsh.analyze.registry import Context
from guardsh.model import Invocation, Stdin, Word


def manifest_groups(
    inv: Invocation, ctx: Context, filenames: Iterable[Word], kustomize: Iterable[Word] = ()
) -> list[Group]:
    """Objects named by -f/-k, grouped by kind and namespace.

    Local files are read through `ctx.facts.read_file`, `-` from the known
    stdin; a URL, a directory, an unreadable or malformed file and every
    kustomization give one group marked unknown.
    """
    out: list[Group] = []
    for w in filenames:
        for part in w.value.split(",") if w.known else [w.value]:
            objs = _read_manifest(inv, ctx, part) if w.known and part else None
            if objs is None:
                out.append(Group(f"manifests in {part}", unknown=True))
            else:
                out.extend(objs)
    for w in kustomize:
        out.append(Group(f"kustomization {w.value}", unknown=True))
    return out


def read_text(inv: Invocation, ctx: Context, part: str) -> str | None:
    """`-` (known stdin) or a local file; None for a URL or anything unreadable."""
    if part == "-":
        stdin: Stdin | None = inv.stdin
        return stdin.text if stdin is not None else None
    if "://" in part:
        return None
    return ctx.facts.read_file(abspath(inv, ctx, part))


def _read_manifest(inv: Invocation, ctx: Context, part: str) -> list[Group] | None:
    text = read_text(inv, ctx, part)
    if text is None:
        return None
    try:
        docs = load_yaml_all(text)
    except Exception:  # malformed YAML: the tool will refuse it; we cannot name objects
        return None
    found: dict[tuple[str, str | None], tuple[list[str], bool]] = {}
    for doc in _flatten(docs):
        meta = doc.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        kind = canon_kind(str(doc.get("kind") or "?"))
        gen = meta.get("generateName")
        name = meta.get("name") or (f"{gen}*" if gen else "?")
        ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
        spec = doc.get("spec")
        zero = kind in SCALABLE and isinstance(spec, dict) and spec.get("replicas") == 0
        names, z = found.setdefault((kind, ns), ([], False))
        names.append(str(name))
        found[(kind, ns)] = (names, z or zero)
    if not found:
        return None
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
