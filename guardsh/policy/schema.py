"""The compiled policy: environments with matchers, rules, tests, settings."""

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
    "terraform_workspace",
    "docker_host",
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
}


@dataclass(frozen=True, slots=True)
class Pattern:
    """A glob (case-insensitive) or a `re:` regular expression."""

    text: str
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, text: str) -> Pattern:
        if text.startswith("re:"):
            return cls(text, re.compile(text[3:], re.IGNORECASE))
        return cls(text, re.compile(fnmatch.translate(text), re.IGNORECASE))

    def match(self, value: str) -> bool:
        if self.text.startswith("re:"):
            return self.regex.search(value) is not None
        return self.regex.match(value) is not None


@dataclass(frozen=True, slots=True)
class FieldMatch:
    field: str  # a target field, "names", "var:NAME" or "cwd"
    patterns: tuple[Pattern, ...]


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    color: str = "default"
    protected: bool = False
    match: tuple[FieldMatch, ...] = ()
    exclude: tuple[FieldMatch, ...] = ()
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Hours:
    start: int  # minutes after midnight
    end: int  # may be < start: wraps midnight
    tz: str | None = None

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


@dataclass(frozen=True, slots=True)
class Settings:
    user_layer: str = "loosen"  # loosen | tighten | ignore
    allow_overrides: bool = True  # GUARDSH_POLICY / _AUDIT_LOG / _CONFIG_DIR honored
    audit_required: bool = False
    dry_run_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Policy:
    environments: tuple[Environment, ...]
    rules: tuple[Rule, ...]
    unknown_environment: str = "staging"
    settings: Settings = Settings()
    tests: tuple[dict[str, Any], ...] = ()
    sha256: str = ""
    sources: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # a broken layer: fail closed (see decide)
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
