"""kubeconfig facts: which context, cluster, server and namespace kubectl will use.

Read directly from the files (never by spawning `kubectl`), merged the way
client-go merges a `KUBECONFIG` list: files in order, the first file that
names a context, a cluster or `current-context` wins. Each file is parsed once
and cached by its identity and mtime, so a check costs one `stat` per file.

A missing or malformed file is evidence of "unknown", not an error: the loader
returns whatever it could read and says what it could not in `errors`.
Credentials (`users:` entries) are never kept: a context's user *name* is all
that names an environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from guardsh.model import KubeContext

_NO_CONTEXTS: Mapping[str, KubeContext] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class KubeConfig:
    """The merged view of one or more kubeconfig files."""

    current: str | None = None
    contexts: Mapping[str, KubeContext] = field(default_factory=lambda: _NO_CONTEXTS)
    files: tuple[str, ...] = ()  # the files that were read, in merge order
    errors: tuple[str, ...] = ()  # "path: what was wrong", one per problem

    def context(self, name: str | None = None) -> KubeContext | None:
        """The named context (default: the current one), resolved if known."""
        name = name or self.current
        if name is None:
            return None
        return self.contexts.get(name) or KubeContext(name=name)


@dataclass(frozen=True, slots=True)
class _FileConfig:
    """What one file says, before merging."""

    current: str | None
    contexts: Mapping[str, tuple[str | None, str | None, str | None]]  # cluster, user, ns
    servers: Mapping[str, str | None]  # cluster name -> server URL
    errors: tuple[str, ...]


_StatKey = tuple[int, int, int, int]
_file_cache: dict[str, tuple[_StatKey, _FileConfig]] = {}
_merge_cache: dict[tuple[tuple[str, _StatKey | None], ...], KubeConfig] = {}


def kubeconfig_paths(environ: Mapping[str, str], home: str) -> tuple[str, ...]:
    """The files kubectl would read: the `KUBECONFIG` list or ~/.kube/config."""
    spec = environ.get("KUBECONFIG", "")
    if spec:
        seen: list[str] = []
        for part in spec.split(os.pathsep):
            if part and part not in seen:
                seen.append(part)
        if seen:
            return tuple(seen)
    return (os.path.join(home, ".kube", "config"),)


def load_kubeconfig(paths: Sequence[str] | str) -> KubeConfig:
    """Merge the given kubeconfig files (a list, or a colon-separated string).

    Never raises: unreadable or malformed files are reported in `errors`.
    """
    if isinstance(paths, str):
        paths = [p for p in paths.split(os.pathsep) if p]
    keys: list[tuple[str, _StatKey | None]] = []
    for p in paths:
        try:
            st = os.stat(p)
            keys.append((p, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)))
        except OSError:
            keys.append((p, None))
    merge_key = tuple(keys)
    cached = _merge_cache.get(merge_key)
    if cached is not None:
        return cached
    result = _merge([(p, _read_file(p, k)) for p, k in keys])
    if len(_merge_cache) > 64:
        _merge_cache.clear()
    _merge_cache[merge_key] = result
    return result


def load_from_environ(
    environ: Mapping[str, str] | None = None, home: str | None = None
) -> KubeConfig:
    """The kubeconfig kubectl would use in this environment."""
    env = os.environ if environ is None else environ
    home = home if home is not None else env.get("HOME") or os.path.expanduser("~")
    return load_kubeconfig(kubeconfig_paths(env, home))


def loader(cwd: str | None = None) -> Callable[[str], KubeConfig]:
    """A reader for `--kubeconfig FILE` / `KUBECONFIG=...` named on a command
    line, to hand to the core as `Facts.extra["kubeconfig"]`."""

    def load(spec: str) -> KubeConfig:
        parts = [p for p in spec.split(os.pathsep) if p]
        if cwd:
            parts = [os.path.join(cwd, os.path.expanduser(p)) for p in parts]
        return load_kubeconfig(parts)

    return load


def _read_file(path: str, key: _StatKey | None) -> _FileConfig:
    if key is None:
        return _FileConfig(None, {}, {}, (f"{path}: no such file",))
    hit = _file_cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        parsed = _FileConfig(None, {}, {}, (f"{path}: {exc.strerror or exc}",))
    else:
        parsed = _parse(path, data)
    _file_cache[path] = (key, parsed)
    return parsed


def _yaml_load(data: bytes) -> Any:
    import yaml

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(data, Loader=loader_cls)


def _parse(path: str, data: bytes) -> _FileConfig:
    """One file's contexts, cluster servers and current-context."""
    errors: list[str] = []
    try:
        doc = _yaml_load(data)
    except Exception as exc:  # yaml.YAMLError, UnicodeDecodeError, ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _FileConfig(None, {}, {}, (f"{path}: not valid YAML ({first})",))
    if doc is None:
        return _FileConfig(None, {}, {}, ())
    if not isinstance(doc, dict):
        return _FileConfig(None, {}, {}, (f"{path}: not a kubeconfig mapping",))
    current = doc.get("current-context")
    current = current if isinstance(current, str) and current else None
    contexts: dict[str, tuple[str | None, str | None, str | None]] = {}
    for name, body in _named(path, doc, "contexts", "context", errors):
        if name not in contexts:
            contexts[name] = (_str(body, "cluster"), _str(body, "user"), _str(body, "namespace"))
    servers: dict[str, str | None] = {}
    for name, body in _named(path, doc, "clusters", "cluster", errors):
        servers.setdefault(name, _str(body, "server"))
    return _FileConfig(current, contexts, servers, tuple(errors))


def _named(
    path: str, doc: dict[Any, Any], section: str, inner: str, errors: list[str]
) -> list[tuple[str, dict[Any, Any]]]:
    items = doc.get(section)
    if items is None:
        return []
    if not isinstance(items, list):
        errors.append(f"{path}: `{section}` is not a list")
        return []
    out: list[tuple[str, dict[Any, Any]]] = []
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        body = item.get(inner) if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            errors.append(f"{path}: {section}[{i}] has no name")
            continue
        if body is None:
            body = {}
        if not isinstance(body, dict):
            errors.append(f"{path}: {section}[{i}] ({name}) has no `{inner}` mapping")
            continue
        out.append((name, body))
    return out


def _str(body: dict[Any, Any], key: str) -> str | None:
    v = body.get(key)
    return v if isinstance(v, str) and v else None


def _merge(files: list[tuple[str, _FileConfig]]) -> KubeConfig:
    current: str | None = None
    raw: dict[str, tuple[str | None, str | None, str | None]] = {}
    servers: dict[str, str | None] = {}
    errors: list[str] = []
    read: list[str] = []
    for path, fc in files:
        errors.extend(fc.errors)
        if not fc.errors or fc.contexts or fc.servers or fc.current:
            read.append(path)
        if current is None:
            current = fc.current
        for name, ctx in fc.contexts.items():
            raw.setdefault(name, ctx)
        for name, server in fc.servers.items():
            servers.setdefault(name, server)
    contexts = {
        name: KubeContext(
            name=name,
            cluster=cluster,
            server=servers.get(cluster) if cluster else None,
            user=user,
            namespace=ns,
        )
        for name, (cluster, user, ns) in raw.items()
    }
    if current is not None and current not in contexts:
        errors.append(f"current-context {current!r} is not defined in any kubeconfig file")
    return KubeConfig(
        current=current,
        contexts=MappingProxyType(contexts),
        files=tuple(read),
        errors=tuple(errors),
    )
