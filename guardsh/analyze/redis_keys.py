"""Key-level redis commands for the redis analyzer: what deletes keys and what
renames them. Registers nothing.

- DEL, UNLINK, GETDEL: redis.delete, LOW for named keys, HIGH when the keys
  come from a pattern or are not known (`$(redis-cli KEYS ...)`, xargs).
- EXPIRE/PEXPIRE with a TTL of 0 or less, EXPIREAT/PEXPIREAT with a time in
  the past, delete the key at once: reported as a DEL of that key (tag
  `expire`). Analysis has no clock, so "past" is before 2023-11-14
  (1.7e9 s, 1.7e12 ms): 0, 1 and any old timestamp are caught; a recent past
  one is not. A TTL not known statically, and `GT` (never sooner than now),
  stay quiet.
- RENAME a b replaces b's value if b exists (an implicit DEL of b):
  redis.rename LOW on b, tag `overwrite`. RENAMENX never replaces b: NONE
  (recorded, asks nothing by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from guardsh.model import Severity, Word

# (action, object, severity, tags, detail) before it becomes a Finding.
Hit = tuple[str, str, Severity, frozenset[str], str]

_INT = re.compile(r"^(0|-?[1-9]\d*)$")  # what redis reads as an integer: no `+`, no `00`
_PAST_S = 1_700_000_000  # 2023-11-14T22:13:20Z
_EXPIRES = {"EXPIRE": 0, "PEXPIRE": 0, "EXPIREAT": _PAST_S, "PEXPIREAT": _PAST_S * 1000}


def _unknown(keys: Sequence[Word]) -> bool:
    return any(not w.known or w.glob for w in keys)


def delete_hits(
    name: str,
    keys: Sequence[Word],
    text: str,
    *,
    from_xargs: bool = False,
    tags: frozenset[str] = frozenset(),
) -> Iterator[Hit]:
    """DEL (and what deletes like it) of `keys`."""
    if _unknown(keys) or (not keys and from_xargs):
        raw = " ".join(w.value for w in keys) or "keys from stdin"
        tags = tags | {"pattern", "unknown-object"}
        yield (
            "redis.delete",
            raw,
            Severity.HIGH,
            tags,
            f"{name} of keys from a pattern/unknown: {text}",
        )
    elif keys:
        yield ("redis.delete", " ".join(w.value for w in keys), Severity.LOW, tags, text)


def expire_hits(name: str, args: Sequence[Word], text: str, *, from_xargs: bool) -> Iterator[Hit]:
    """EXPIRE-family commands whose time has already come: the key is deleted now."""
    if len(args) < 2 or not args[1].known or not _INT.match(args[1].value):
        return
    if any(w.value.upper() == "GT" for w in args[2:]):
        return  # only a later expiry than the key's (none: infinite) is set
    if int(args[1].value) <= _EXPIRES[name]:
        detail = f"{text} (the key is deleted now)"
        yield from delete_hits(
            name, args[:1], detail, from_xargs=from_xargs, tags=frozenset({"expire"})
        )


def rename_hits(name: str, args: Sequence[Word], text: str) -> Iterator[Hit]:
    """RENAME|RENAMENX a b: named by b, the key that may lose its value."""
    if len(args) < 2:
        return
    new = args[1]
    tags = {"rename"} | (set() if new.known else {"unknown-object"})
    if name == "RENAME":
        detail = f"{text} ({new.value}'s value, if any, is replaced)"
        yield ("redis.rename", new.value, Severity.LOW, frozenset(tags | {"overwrite"}), detail)
    else:
        yield ("redis.rename", new.value, Severity.NONE, frozenset(tags | {"nx"}), text)


EXPIRES = frozenset(_EXPIRES)
RENAMES = frozenset({"RENAME", "RENAMENX"})
