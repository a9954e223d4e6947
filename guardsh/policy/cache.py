"""The compiled-policy cache: `guardsh -c` must not parse YAML on every start.

An entry records every path the policy was built from (layer files, their
folders, the user file even when absent, and guardsh's own policy code) with
its identity, size, times, mode and owner; it is valid only while every one
of them stats the same, so an edit, a new file in policy.d, a chmod or an
upgrade invalidates it. Entries live in `$XDG_CACHE_HOME/guardsh/` and are
read with a restricted unpickler (only the policy's own record types), and
only when owned by the running user and not writable by others, so a cache
file can neither run code nor be planted by someone else.

A file modified within the last two seconds is "racy" (a second edit in the
same clock tick would keep size and mtime): such a policy is not stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import stat
import time
from collections.abc import Mapping, Sequence
from typing import Any

from guardsh.policy.schema import Policy

VERSION = 1
MAX_ENTRIES = 16
RACY_SECONDS = 2.0

StatKey = tuple[int, int, int, int, int, int, int] | None

_ALLOWED = {
    "guardsh.policy.schema": {
        "Pattern",
        "FieldMatch",
        "Environment",
        "Hours",
        "Rule",
        "Settings",
        "LayerInfo",
        "Policy",
    },
    "guardsh.model": {"Requirement", "Severity"},
    "builtins": {"frozenset", "set", "dict", "list", "tuple", "str", "int", "float", "bool"},
    "datetime": {"datetime", "date", "time", "timedelta", "timezone"},
    "copyreg": {"_reconstructor"},
}

# In-process: the last policy per roots, re-validated by stat on every use.
_memo: dict[tuple[object, ...], tuple[tuple[tuple[str, StatKey], ...], Policy]] = {}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a policy cache")


def statkey(path: str) -> StatKey:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid)


def cache_dir(environ: Mapping[str, str]) -> str:
    base = environ.get("XDG_CACHE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "guardsh")


def _entry_path(roots: tuple[object, ...], environ: Mapping[str, str]) -> str:
    key = hashlib.sha256(repr((VERSION, roots)).encode()).hexdigest()[:32]
    return os.path.join(cache_dir(environ), f"policy-{key}.pickle")


def _valid(deps: Sequence[tuple[str, StatKey]]) -> bool:
    return all(statkey(path) == key for path, key in deps)


def load(roots: tuple[object, ...], environ: Mapping[str, str]) -> Policy | None:
    """The cached policy for these roots, if every dependency is unchanged."""
    memo = _memo.get(roots)
    if memo is not None and _valid(memo[0]):
        return memo[1]
    path = _entry_path(roots, environ)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = _Unpickler(io.BytesIO(fh.read())).load()
    except Exception:  # a torn, foreign or stale entry is a miss, never an error
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    if not (isinstance(data, tuple) and len(data) == 4 and data[0] == VERSION):
        return None
    _, recorded, deps, policy = data
    if recorded != roots or not isinstance(policy, Policy) or not _valid(deps):
        return None
    _memo[roots] = (tuple(deps), policy)
    return policy


def store(
    roots: tuple[object, ...], paths: Sequence[str], policy: Policy, environ: Mapping[str, str]
) -> bool:
    """Write the entry (atomically); False when it was not written."""
    deps = tuple((p, statkey(p)) for p in dict.fromkeys(paths))
    now = time.time_ns()
    if any(k is not None and now - k[3] < RACY_SECONDS * 1e9 for _, k in deps):
        return False
    _memo[roots] = (deps, policy)
    folder = cache_dir(environ)
    path = _entry_path(roots, environ)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        data = pickle.dumps((VERSION, roots, deps, policy), protocol=pickle.HIGHEST_PROTOCOL)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        _prune(folder)
    except Exception:  # a read-only or full disk: run uncached
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def _prune(folder: str) -> None:
    entries = [os.path.join(folder, n) for n in os.listdir(folder) if n.startswith("policy-")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda p: os.stat(p).st_mtime_ns)
    for p in entries[: len(entries) - MAX_ENTRIES]:
        with contextlib.suppress(OSError):
            os.unlink(p)


def clear_memo() -> None:
    """Forget the in-process copies (tests, and a shell's explicit reload)."""
    _memo.clear()
