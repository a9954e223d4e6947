"""~/.ssh/config facts: which real host an ssh alias names.

`ssh prod-db` may reach `db-7.eu.internal` through a `Host prod-db` /
`HostName db-7.eu.internal` block; the policy's `ssh_host` matchers see both
names. Resolution follows ssh: blocks in file order, the first `HostName`
from a block whose patterns match wins, `!pattern` vetoes a block, `%h` is
the name as typed, `Include` is followed (relative to ~/.ssh). `Match`
blocks cannot be evaluated without running ssh and are skipped.

Files are parsed once and cached by identity and mtime; the mapping handed
to the core is lazy, so a command that does not use ssh reads nothing.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_MAX_DEPTH = 16
_StatKey = tuple[int, int, int, int] | None


@dataclass(frozen=True, slots=True)
class Block:
    patterns: tuple[str, ...]  # () : applies to every host (before any Host line)
    hostname: str | None
    origin: str  # file:line


@dataclass(frozen=True, slots=True)
class SshConfig:
    blocks: tuple[Block, ...] = ()
    files: tuple[tuple[str, _StatKey], ...] = ()

    def resolve(self, host: str) -> str | None:
        """The HostName ssh would connect to for `host` (None: no HostName)."""
        h = host.lower()
        for b in self.blocks:
            if b.hostname is not None and _matches(b.patterns, h):
                return b.hostname.replace("%h", host).replace("%%", "%")
        return None

    def evidence(self, host: str) -> str | None:
        """file:line of the block that names the HostName for `host`."""
        h = host.lower()
        for b in self.blocks:
            if b.hostname is not None and _matches(b.patterns, h):
                return b.origin
        return None


def _matches(patterns: tuple[str, ...], host: str) -> bool:
    if not patterns:
        return True
    hit = False
    for p in patterns:
        neg = p.startswith("!")
        if fnmatch.fnmatchcase(host, (p[1:] if neg else p).lower()):
            if neg:
                return False
            hit = True
    return hit


def _statkey(path: str) -> _StatKey:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


_LINE = re.compile(r"^\s*(\w+)\s*(?:=\s*|\s+)(.*?)\s*$")


def _parse(
    path: str,
    ssh_dir: str,
    cond: tuple[str, ...] | None,
    depth: int,
    blocks: list[Block],
    files: list[tuple[str, _StatKey]],
) -> tuple[str, ...] | None:
    """Append the file's blocks; returns the condition in force at its end."""
    files.append((path, _statkey(path)))
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return cond
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2)
        try:
            args = shlex.split(value, comments=True)
        except ValueError:
            args = value.split()
        if key == "host":
            cond = tuple(args)
        elif key == "match":
            cond = None  # cannot evaluate: its settings are skipped
        elif key == "include" and depth < _MAX_DEPTH:
            for arg in args:
                pattern = os.path.join(ssh_dir, os.path.expanduser(arg))
                for inc in sorted(glob.glob(pattern)):
                    _parse(inc, ssh_dir, cond, depth + 1, blocks, files)
        elif key == "hostname" and cond is not None and args:
            blocks.append(Block(cond, args[0], f"{path}:{no}"))
    return cond


_cache: dict[str, SshConfig] = {}


def load(path: str) -> SshConfig:
    """The parsed config at `path`, re-read only when a file it read changed."""
    hit = _cache.get(path)
    if hit is not None and all(_statkey(p) == k for p, k in hit.files):
        return hit
    blocks: list[Block] = []
    files: list[tuple[str, _StatKey]] = []
    if _statkey(path) is not None:
        _parse(path, os.path.dirname(path), (), 0, blocks, files)
    else:
        files.append((path, None))
    cfg = SshConfig(tuple(blocks), tuple(files))
    _cache[path] = cfg
    return cfg


class SshHosts(Mapping[str, str]):
    """alias -> HostName, read lazily from ~/.ssh/config on first lookup.

    `get(alias)` resolves any name, wildcard blocks included; iteration lists
    the literal aliases that name a HostName.
    """

    def __init__(self, path: str):
        self.path = path
        self._cfg: SshConfig | None = None

    @property
    def config(self) -> SshConfig:
        if self._cfg is None:
            self._cfg = load(self.path)
        return self._cfg

    def __getitem__(self, host: str) -> str:
        found = self.config.resolve(host)
        if found is None:
            raise KeyError(host)
        return found

    def __iter__(self) -> Iterator[str]:
        seen = []
        for b in self.config.blocks:
            for p in b.patterns:
                if not p.startswith("!") and not any(c in p for c in "*?") and p not in seen:
                    seen.append(p)
        return iter(seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def for_home(home: str) -> SshHosts:
    return SshHosts(os.path.join(home, ".ssh", "config"))
