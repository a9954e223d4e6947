"""The compiled policy: environments with matchers, rules, tests, settings.

These records are what `load` builds from YAML, what the cache pickles, and
what `locate` and `decide` read. They are small and immutable; a `Pattern`
compiles its regular expression only when it is first used, so a policy
loaded from the cache costs no regex compilation until a target is matched.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from guardsh.model import Requirement, Severity

# Target fields that `names:` stands for.
NAME_FIELDS = (
    "hostname",
    "ssh_host",
    "ssh_hostname",
    "kube_context",
    "kube_cluster",
    "kube_cluster_server",
    "db_host",
    "db_name",
    "aws_profile",
    "gcp_project",
    "azure_subscription",
    "azure_resource_group",
    "gcp_configuration",
    "do_context",
    "terraform_workspace",
    "tf_var_file",  # `-var-file=prod.tfvars` names the environment as surely as a workspace
    "docker_host",
    "docker_context",
    "helmfile_environment",
    "container",
)

MATCH_FIELDS = frozenset(NAME_FIELDS) | {
    "names",
    "kube_namespace",
    "kube_user",
    "db_url",
    "db_port",
    "db_user",
    "db_engine",
    "aws_region",
    "ssh_user",
    "cwd",
    "var",
    "tf_var_file",
    "terraform_dir",
    "aws_account",
    "cloud",
    "gcp_zone",
    "gcp_region",
    "kube_pod",
    "db_via",
}

USER_LAYER_MODES = ("loosen", "tighten", "ignore")
CLIENT_PROXY_MODES = ("protected", "always", "never")


class Pattern:
    """A glob (case-insensitive) or a `re:` regular expression (searched).

    Globs made only of `*` and literal text are matched with string
    operations; anything else compiles a regex on first use.
    """

    __slots__ = ("_parts", "_rx", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._rx: re.Pattern[str] | None = None
        self._parts: tuple[str, ...] | None = None
        if not text.startswith("re:") and not any(c in text for c in "?[]"):
            self._parts = tuple(p.lower() for p in text.split("*"))

    @classmethod
    def compile(cls, text: str) -> Pattern:
        """A pattern whose regex (if any) is compiled now, so errors show."""
        p = cls(text)
        if p._parts is None:
            p.regex  # noqa: B018  (compile now: raises re.error at load)
        return p

    @property
    def is_regex(self) -> bool:
        return self.text.startswith("re:")

    @property
    def regex(self) -> re.Pattern[str]:
        if self._rx is None:
            src = self.text[3:] if self.is_regex else fnmatch.translate(self.text)
            self._rx = re.compile(src, re.IGNORECASE)
        return self._rx

    def match(self, value: str) -> bool:
        parts = self._parts
        if parts is not None:
            if len(parts) == 1:
                return value.lower() == parts[0]
            v = value.lower()
            first, last = parts[0], parts[-1]
            if not v.startswith(first) or not v.endswith(last) or len(v) < len(first) + len(last):
                return False
            pos, end = len(first), len(v) - len(last)
            for mid in parts[1:-1]:
                i = v.find(mid, pos, end)
                if i < 0:
                    return False
                pos = i + len(mid)
            return True
        if self.is_regex:
            return self.regex.search(value) is not None
        return self.regex.match(value) is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("Pattern", self.text))

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Pattern, (self.text,))


@dataclass(frozen=True, slots=True)
class FieldMatch:
    field: str  # a target field, "names", "var:NAME" or "cwd"
    patterns: tuple[Pattern, ...]
    origin: str = ""  # file:line where these patterns were written


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    color: str = "default"
    protected: bool = False
    match: tuple[FieldMatch, ...] = ()
    exclude: tuple[FieldMatch, ...] = ()
    origin: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Hours:
    start: int  # minutes after midnight
    end: int  # may be < start: wraps midnight
    tz: str | None = None
    text: str = ""

    def contains(self, minute: int) -> bool:
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    require: Requirement
    actions: tuple[Pattern, ...] = ()
    tags: frozenset[str] = frozenset()
    severities: frozenset[Severity] = frozenset()
    objects: tuple[Pattern, ...] = ()
    programs: tuple[Pattern, ...] = ()
    environments: frozenset[str] = frozenset()  # empty: every environment
    hours: tuple[Hours, ...] = ()
    days: frozenset[int] = frozenset()  # 0 = Monday
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    reason: bool = False
    reason_pattern: str | None = None
    delay: int = 0
    break_glass: bool = False
    message: str = ""
    origin: str = ""  # file:line
    description: str = ""


@dataclass(frozen=True, slots=True)
class Settings:
    user_layer: str = "loosen"  # loosen | tighten | ignore
    allow_overrides: bool = True  # GUARDSH_POLICY / _AUDIT_LOG / _CONFIG_DIR honored
    audit_required: bool = False
    dry_run_timeout: float = 10.0
    team_files: tuple[str, ...] = ()
    timezone: str | None = None  # for `hours` written without a zone; None: the clock's
    analysis_server: bool = True  # `guardsh -c` may use (and start) this user's analysis server
    client_proxy: str = "protected"  # DB clients under the statement guard: protected|always|never


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """One file that went into the policy, and what became of it."""

    name: str
    kind: str  # builtin | baseline | system | team | user | override
    status: str = "ok"  # ok | broken | skipped | ignored | refused
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    environments: tuple[Environment, ...]
    rules: tuple[Rule, ...]
    unknown_environment: str = "staging"
    settings: Settings = Settings()
    tests: tuple[dict[str, Any], ...] = ()
    sha256: str = ""
    sources: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # a broken system/team layer: fail closed (see decide)
    warnings: tuple[str, ...] = ()  # a skipped user layer, an ignored override
    layers: tuple[LayerInfo, ...] = ()
    _rank: dict[str, int] = field(default_factory=dict, compare=False)

    def rank(self, env: str | None) -> int:
        """Lower is more dangerous; unknown names sort last."""
        if not self._rank:
            self._rank.update({e.name: i for i, e in enumerate(self.environments)})
        return self._rank.get(env or "", len(self.environments))

    def environment(self, name: str | None) -> Environment | None:
        for e in self.environments:
            if e.name == name:
                return e
        return None

    def protected(self, name: str | None) -> bool:
        env = self.environment(name)
        return env.protected if env is not None else True

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None
