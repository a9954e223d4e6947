"""Layers -> one Policy: refine in order, honor the system layer's locks, fail closed.

Order: the built-in default, then system files, team files, the user file
(or the override files of GUARDSH_POLICY / `--policy`). A later layer refines
an earlier one: an environment it names again keeps what it does not restate
(`match`/`except` are replaced field by field); a rule with the same id is
replaced. The system layer decides what a user file may do:

- `loosen`: anything but the system-only settings;
- `tighten`: only what cannot make any verdict weaker: new rules (strictest
  wins, so an added rule never lowers a requirement), new patterns for
  environments at least as dangerous as `unknown_environment`, `protected:
  true`, and a more dangerous `unknown_environment`;
- `ignore`: the user file is not read.

A broken system or team (or override) layer fails closed: the result is the
built-in default with `errors` set, so protected environments ask for every
finding and show the error. A broken user layer is skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from guardsh.errors import PolicyError
from guardsh.policy import migrate
from guardsh.policy.load import (
    BASELINES,
    DEFAULT_NAME,
    EnvPart,
    Part,
    baseline_text,
    default_text,
    parse_layer,
)
from guardsh.policy.schema import Environment, FieldMatch, LayerInfo, Policy, Rule, Settings

SYSTEM_ONLY = frozenset({"user_layer", "allow_overrides", "team_files"})
NOT_FOR_USERS = SYSTEM_ONLY | {"audit_required"}
NOT_FOR_TIGHTEN = NOT_FOR_USERS | {"timezone", "dry_run_timeout", "client_proxy"}
_SYSTEM_KINDS = frozenset({"system", "override"})


@dataclass(frozen=True, slots=True)
class Source:
    """One policy file's text and the layer it belongs to."""

    name: str
    text: str
    kind: str = "override"  # builtin | system | team | user | override
    problem: str | None = None  # refused before reading (owner, mode, unreadable)


@dataclass
class _State:
    envs: list[Environment] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)
    unknown: str = "staging"
    settings: dict[str, Any] = field(default_factory=dict)
    tests: list[dict[str, Any]] = field(default_factory=list)
    baselines: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)

    def copy(self) -> _State:
        return _State(
            list(self.envs),
            dict(self.rules),
            self.unknown,
            dict(self.settings),
            list(self.tests),
            set(self.baselines),
            list(self.sources),
        )

    def rank(self, name: str) -> int:
        for i, e in enumerate(self.envs):
            if e.name == name:
                return i
        return len(self.envs)


def _replace_fields(
    old: tuple[FieldMatch, ...], new: tuple[FieldMatch, ...], append: bool
) -> tuple[FieldMatch, ...]:
    """Field by field: a restated field replaces (or, appending, extends) the old one."""
    out = list(old)
    for fm in new:
        for i, o in enumerate(out):
            if o.field == fm.field:
                out[i] = dataclasses.replace(o, patterns=o.patterns + fm.patterns) if append else fm
                break
        else:
            out.append(fm)
    return tuple(out)


def _tighten_env(part: Part, ep: EnvPart, st: _State) -> None:
    f = part.file
    existing = next((e for e in st.envs if e.name == ep.name), None)
    why = "the system policy sets user_layer: tighten"
    if existing is None:
        raise f.error(
            ep.keys["name"],
            f"a user file cannot add environment `{ep.name}`: {why} (it may add rules, and "
            f"patterns to existing environments at least as dangerous as `{st.unknown}`)",
        )
    if ep.exclude is not None:
        raise f.error(
            ep.keys["except"],
            f"a user file cannot add exceptions to `{ep.name}`: {why}, "
            "and an exception moves targets out of an environment",
        )
    if ep.protected is False and existing.protected:
        raise f.error(ep.keys["protected"], f"a user file cannot unprotect `{ep.name}`: {why}")
    if ep.match is not None and st.rank(ep.name) > st.rank(st.unknown):
        raise f.error(
            ep.keys["match"],
            f"a user file can only add patterns to environments at least as dangerous as "
            f"`{st.unknown}` (the unknown environment): {why}, and `{ep.name}` is less "
            "dangerous",
        )
    env = dataclasses.replace(
        existing,
        color=ep.color or existing.color,
        protected=existing.protected or bool(ep.protected),
        match=_replace_fields(existing.match, ep.match or (), append=True),
    )
    st.envs = [env if e.name == env.name else e for e in st.envs]


def _refine_env(ep: EnvPart, st: _State, order: list[str]) -> None:
    existing = next((e for e in st.envs if e.name == ep.name), None)
    if existing is not None:
        env = dataclasses.replace(
            existing,
            color=ep.color if ep.color is not None else existing.color,
            protected=ep.protected if ep.protected is not None else existing.protected,
            description=ep.description if ep.description is not None else existing.description,
            match=_replace_fields(existing.match, ep.match or (), append=False),
            exclude=_replace_fields(existing.exclude, ep.exclude or (), append=False),
            origin=f"{existing.origin}, {ep.origin}",
        )
        st.envs = [env if e.name == env.name else e for e in st.envs]
        return
    env = Environment(
        name=ep.name,
        color=ep.color or "default",
        protected=True if ep.protected is None else ep.protected,  # fail safe: say `false`
        match=ep.match or (),
        exclude=ep.exclude or (),
        origin=ep.origin,
        description=ep.description or "",
    )
    after = order[order.index(ep.name) + 1 :]
    for i, e in enumerate(st.envs):
        if e.name in after:
            st.envs.insert(i, env)
            return
    st.envs.append(env)


def _check_env_names(part: Part, st: _State) -> None:
    names = [e.name for e in st.envs]
    for rp in part.rules:
        for text, node in rp.in_nodes:
            if text not in names:
                raise part.file.error(
                    node,
                    migrate.unknown_word(
                        "environment", text, names, f"defined: {', '.join(sorted(names))}"
                    ),
                )


def _apply(st: _State, src: Source, part: Part, mode: str) -> None:
    """Apply one parsed layer to the state (mutates it; callers pass a copy)."""
    f = part.file
    tighten = src.kind == "user" and mode == "tighten"
    for name, node in part.extends:
        if name not in BASELINES:
            raise f.error(
                node,
                migrate.unknown_word(
                    "baseline", name, BASELINES, f"built-in baselines: {', '.join(BASELINES)}"
                ),
            )
        if name != "default" and name not in st.baselines:
            st.baselines.add(name)
            bname = f"<baseline {name}>"
            _apply(st, Source(bname, "", src.kind), parse_layer(bname, baseline_text(name)), mode)
            st.sources.append(bname)
    order = [ep.name for ep in part.environments]
    for ep in part.environments:
        if tighten:
            _tighten_env(part, ep, st)
        else:
            _refine_env(ep, st, order)
    if part.unknown_environment is not None:
        name, node = part.unknown_environment
        names = [e.name for e in st.envs]
        if name not in names:
            raise f.error(
                node,
                migrate.unknown_word(
                    "environment", name, names, f"defined: {', '.join(sorted(names))}"
                ),
            )
        if tighten and st.rank(name) > st.rank(st.unknown):
            raise f.error(
                node,
                "a user file cannot make the unknown environment less dangerous than "
                f"`{st.unknown}`: the system policy sets user_layer: tighten",
            )
        st.unknown = name
    _check_env_names(part, st)
    for rp in part.rules:
        old = st.rules.get(rp.rule.id)
        if tighten and old is not None:
            raise f.error(
                rp.node,
                f"a user file cannot replace rule `{rp.rule.id}` (from {old.origin}): the system "
                "policy sets user_layer: tighten; add a rule with a new id instead",
            )
        st.rules[rp.rule.id] = rp.rule
    for key, (value, node) in part.settings.items():
        if src.kind == "team" and key in SYSTEM_ONLY:
            raise f.error(
                node, f"only the system layer (policy.d) may set `{key}`, not a team file"
            )
        if src.kind == "user" and key in (NOT_FOR_TIGHTEN if tighten else NOT_FOR_USERS):
            raise f.error(node, f"a user file cannot set `{key}`: that is the system layer's call")
        st.settings[key] = value
    for case in part.tests:
        if case not in st.tests:
            st.tests.append(case)


def _policy(
    st: _State,
    digest: str,
    infos: list[LayerInfo],
    errors: list[str],
    warnings: list[str],
    has_system: bool,
) -> Policy:
    s = dict(st.settings)
    s.setdefault("user_layer", "tighten" if has_system else "loosen")
    s.setdefault("allow_overrides", not has_system)
    return Policy(
        environments=tuple(st.envs),
        rules=tuple(st.rules.values()),
        unknown_environment=st.unknown,
        settings=Settings(**s),
        tests=tuple(st.tests),
        sha256=digest,
        sources=tuple(st.sources),
        errors=tuple(errors),
        warnings=tuple(warnings),
        layers=tuple(infos),
    )


def _builtin(default: Source) -> _State:
    st = _State()
    _apply(st, default, parse_layer(default.name, default.text), "loosen")
    st.sources.append(default.name)
    return st


def compile_layers(
    sources: Sequence[Source], *, strict: bool = False, warnings: Sequence[str] = ()
) -> Policy:
    """Merge the layers; the first source is the built-in default.

    With `strict`, the first broken layer raises PolicyError (for `check
    --policy` and `policy check FILE`). Otherwise a broken system, team or
    override layer fails closed and a broken user layer is skipped.
    """
    digest = hashlib.sha256()
    for src in sources:
        digest.update(f"{src.kind}\0{src.name}\0".encode() + src.text.encode() + b"\0")
    base = _builtin(sources[0])
    st = base.copy()
    has_system = any(s.kind == "system" for s in sources)
    infos = [LayerInfo(sources[0].name, "builtin")]
    errors: list[str] = []
    notes = list(warnings)
    for src in sources[1:]:
        mode = st.settings.get("user_layer", "tighten" if has_system else "loosen")
        if src.kind == "user" and (errors or mode == "ignore"):
            why = (
                "the system policy sets user_layer: ignore"
                if not errors
                else "a system layer is broken"
            )
            notes.append(f"{src.name}: not used: {why}")
            infos.append(LayerInfo(src.name, src.kind, "ignored", why))
            continue
        try:
            if src.problem is not None:
                raise PolicyError(src.problem)
            part = parse_layer(src.name, src.text)
            new = st.copy()
            _apply(new, src, part, mode)
        except PolicyError as e:
            if strict:
                raise
            if src.kind == "user":
                notes.append(f"your policy file was skipped: {e}")
            else:
                errors.append(str(e))
            infos.append(LayerInfo(src.name, src.kind, "broken", str(e)))
            continue
        new.sources.append(src.name)
        st = new
        infos.append(
            LayerInfo(src.name, src.kind, "ok", f"user_layer: {mode}" if src.kind == "user" else "")
        )
    if errors:
        digest.update(b"\0fail-closed")
        return _policy(base, digest.hexdigest(), infos, errors, notes, has_system)
    return _policy(st, digest.hexdigest(), infos, errors, notes, has_system)


def merge(layers: Sequence[tuple[str, str] | Source]) -> Policy:
    """Merge layers in order, raising on the first error. Plain (name, text)
    pairs are override layers; the first one stands for the built-in default."""
    sources = [s if isinstance(s, Source) else Source(s[0], s[1]) for s in layers]
    if not sources:
        sources = [Source(DEFAULT_NAME, default_text(), "builtin")]
    return compile_layers(sources, strict=True)
