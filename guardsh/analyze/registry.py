"""The analyzer registry: program name -> analyzers.

Each family module registers its analyzers with `@analyzer("rm", "unlink")`.
An analyzer is a pure function of an `Invocation` and a `Context` that yields
`Finding`s; it never imports another family's module. Where an invocation
carries text in another language (a psql `\\!` shell escape, a `find -exec`
command), the analyzer hands it back through `Context.recurse_shell`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from guardsh.model import Facts, Finding, Invocation, Severity, Snapshot, Span, Target

Analyzer = Callable[[Invocation, "Context"], Iterable[Finding]]

_BY_PROGRAM: dict[str, list[Analyzer]] = {}
_FALLBACK: list[Analyzer] = []


@dataclass(frozen=True, slots=True)
class Context:
    """What an analyzer may consult besides the invocation itself."""

    line: str
    snapshot: Snapshot
    facts: Facts
    # Analyze shell text (e.g. psql `\\!`) as if typed on `target`; the
    # findings' evidence is `span` of the outer line.
    recurse_shell: Callable[[str, Target, Span], list[Finding]]


def analyzer(*programs: str) -> Callable[[Analyzer], Analyzer]:
    """Register a function for the given program names (basenames)."""

    def register(fn: Analyzer) -> Analyzer:
        for p in programs:
            _BY_PROGRAM.setdefault(p, []).append(fn)
        return fn

    return register


def fallback(fn: Analyzer) -> Analyzer:
    """Register a function that sees every invocation (e.g. redirections)."""
    _FALLBACK.append(fn)
    return fn


def analyzers_for(program: str) -> Iterator[Analyzer]:
    yield from _BY_PROGRAM.get(program, ())
    yield from _FALLBACK


def known_programs() -> frozenset[str]:
    return frozenset(_BY_PROGRAM)


def by_program() -> dict[str, list[Analyzer]]:
    """A copy of the program -> analyzers table (for the generated index)."""
    return {p: list(fns) for p, fns in _BY_PROGRAM.items()}


def fallbacks() -> list[Analyzer]:
    return list(_FALLBACK)


def finding(
    inv: Invocation,
    action: str,
    obj: str | None,
    severity: Severity,
    *,
    evidence: Span | None = None,
    tags: Iterable[str] = (),
    detail: str = "",
    target: Target | None = None,
) -> Finding:
    """A finding on `inv`'s target with `inv`'s span as default evidence."""
    return Finding(
        action=action,
        object=obj,
        severity=severity,
        target=target or inv.target,
        evidence=evidence or inv.span,
        tags=frozenset(tags),
        detail=detail,
        program=inv.program,
    )
