"""Small frozen records that cross the pipeline's stage boundaries.

parse -> unwrap -> analyze -> locate -> decide pass these and nothing else:
no session object, no terminal, no I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    NONE = 0
    LOW = 1
    HIGH = 2

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class Requirement(enum.IntEnum):
    """What a verdict asks of the user, ordered from least to most strict."""

    ALLOW = 0
    WARN = 1
    CONFIRM = 2
    TYPE = 3
    DRY_RUN = 4
    DENY = 5

    def __str__(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, text: str) -> Requirement:
        return cls[text.upper().replace("-", "_")]


@dataclass(frozen=True, slots=True)
class Span:
    """Character offsets [start, end) into the command line as typed."""

    start: int
    end: int

    def text(self, line: str) -> str:
        return line[self.start : self.end]


NO_SPAN = Span(0, 0)


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word after expansion.

    `value` is the expanded text where it is known; where a part cannot be
    known statically (`$(...)`, an unset variable, `$@`) that part keeps its
    source text and `known` is False. `glob` marks unquoted pattern characters.
    """

    value: str
    span: Span = NO_SPAN
    known: bool = True
    glob: bool = False
    quoted: bool = False

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Target:
    """Where an invocation acts. `fields` are the policy's matcher keys."""

    kind: str  # local | ssh | kube | db | cloud | terraform | container
    fields: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str | None:
        for k, v in self.fields:
            if k == key:
                return v
        return None

    def with_fields(self, **extra: str | None) -> Target:
        keep = tuple((k, v) for k, v in self.fields if k not in extra)
        add = tuple((k, v) for k, v in extra.items() if v is not None)
        return Target(self.kind, keep + add)

    def label(self) -> str:
        """A short human label: `host:db-1`, `k8s:prod-eu/payments`, `db:h/app`."""
        get = self.get
        if self.kind == "kube":
            ctx = get("kube_context") or "?"
            ns = get("kube_namespace")
            return f"k8s:{ctx}/{ns}" if ns else f"k8s:{ctx}"
        if self.kind == "db":
            host = get("db_host") or "local"
            name = get("db_name")
            if name and name.startswith("/"):  # a database file: host:path, as scp writes it
                return f"db:{host}:{name}"
            return f"db:{host}/{name}" if name else f"db:{host}"
        if self.kind == "ssh":
            return f"ssh:{get('ssh_host') or '?'}"
        if self.kind == "local":
            return f"host:{get('hostname') or '?'}"
        parts = ",".join(f"{k}={v}" for k, v in self.fields)
        return f"{self.kind}:{parts}"

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, **dict(self.fields)}


@dataclass(frozen=True, slots=True)
class Stdin:
    """What an invocation reads on standard input, when it is known."""

    text: str | None  # None: the source is known but its content is not
    source: str  # "pipe:echo", "heredoc", "herestring", "file:/path", "pipe"
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Redirect:
    """An output or input redirection of an invocation."""

    op: str  # ">", ">>", "<", ">|", "&>", "&>>", "<>"
    fd: int | None
    target: Word


@dataclass(frozen=True, slots=True)
class Invocation:
    """One program about to run, after wrappers are peeled off.

    `argv[0]` is the program word as written; `program` is its basename.
    `via` lists the wrappers that were peeled to reach it, outermost first.
    """

    program: str
    argv: tuple[Word, ...]
    span: Span
    target: Target
    stdin: Stdin | None = None
    redirects: tuple[Redirect, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    via: tuple[str, ...] = ()
    cwd: str | None = None
    depth: int = 0

    @property
    def args(self) -> tuple[Word, ...]:
        return self.argv[1:]

    def env_get(self, name: str) -> str | None:
        for k, v in reversed(self.env):
            if k == name:
                return v
        return None


@dataclass(frozen=True, slots=True)
class Finding:
    """One destructive (or notable) operation that a command will perform."""

    action: str
    object: str | None
    severity: Severity
    target: Target
    evidence: Span
    tags: frozenset[str] = frozenset()
    detail: str = ""  # plain words: "DROP TABLE users"
    environment: str | None = None  # filled by locate
    program: str = ""  # the invocation it came from (`psql`), for `match: programs`

    def what_and_where(self) -> str:
        """What it does and where, naming the target once: "kubectl delete
        namespace/payments on k8s:prod-eu/payments", and just the detail when
        it names the target itself ("DROP TABLE users on prod-db.internal/app")."""
        what = self.detail or " ".join(p for p in (self.action, self.object) if p)
        label = self.target.label()
        bare = label.partition(":")[2] or label
        names = "|".join(re.escape(n) for n in {label, bare})
        if re.search(rf" on (?:{names})(?![\w./-])", what):
            return what
        return f"{what} on {label}"

    def as_json(self, line: str) -> dict[str, Any]:
        return {
            "action": self.action,
            "object": self.object,
            "severity": str(self.severity),
            "target": self.target.as_json(),
            "environment": self.environment,
            "evidence": {
                "start": self.evidence.start,
                "end": self.evidence.end,
                "text": self.evidence.text(line),
            },
            "tags": sorted(self.tags),
            "detail": self.detail,
            "program": self.program,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The session state analysis sees: the backing shell's real state, or
    what `guardsh check` was told. Built by a factory in tests."""

    variables: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)  # name -> body source
    cwd: str = "/"
    hostname: str = "localhost"
    user: str = "user"
    home: str = "/root"
    as_env: str | None = None  # `--as ENV`: every target counts as ENV
    kube_context: str | None = None  # `--kube-context`: overrides kubeconfig


@dataclass(frozen=True, slots=True)
class KubeContext:
    """The parts of a kubeconfig context that name an environment."""

    name: str
    cluster: str | None = None
    server: str | None = None
    user: str | None = None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class ProcInfo:
    pid: int
    name: str
    cmdline: str
    user: str | None = None
    role: str | None = None  # "postgres-postmaster", "init", ...
    tags: frozenset[str] = frozenset()
    detail: str = ""


def _no_file(path: str) -> str | None:
    return None


def _no_proc(pid: int) -> ProcInfo | None:
    return None


@dataclass(frozen=True, slots=True)
class Facts:
    """Evidence gathered by I/O adapters and handed to the pure core.

    The readers are injected: the CLI passes adapters from `facts/`, tests pass
    dictionaries. The core never opens a file or a process itself.
    """

    read_file: Callable[[str], str | None] = _no_file
    proc: Callable[[int], ProcInfo | None] = _no_proc
    kube: Mapping[str, KubeContext] = field(default_factory=dict)
    kube_current: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def kube_context(self, name: str | None) -> KubeContext | None:
        name = name or self.kube_current
        if name is None:
            return None
        return self.kube.get(name) or KubeContext(name=name)


@dataclass(frozen=True, slots=True)
class Verdict:
    requirement: Requirement
    reason: bool = False
    reason_pattern: str | None = None  # every matching rule's, as one regex (decide.all_of)
    delay: int = 0
    break_glass: bool = False
    rules: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    type_word: str | None = None  # what `type` asks the user to type

    @property
    def needs_user(self) -> bool:
        """True when running needs a confirmation of any kind."""
        return (
            Requirement.CONFIRM <= self.requirement < Requirement.DENY
            or self.reason
            or self.delay > 0
        )


@dataclass(frozen=True, slots=True)
class Decision:
    line: str
    verdict: Verdict
    environment: str | None
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()  # analysis notes: "could not analyze", ...
    analysis_us: int = 0
