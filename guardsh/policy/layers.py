"""Which policy files apply, in which order, and whether they may be trusted.

This is the policy package's I/O edge (the rest of it is pure): it lists
directories, stats and reads files, and reads the hooks in the environment.

    built-in default
    -> system  $CONFIG_DIR/policy.d/*.yaml   (CONFIG_DIR: /etc/guardsh)
    -> team    files the system layer names in `settings.team_files`
    -> user    $XDG_CONFIG_HOME/guardsh/policy.yaml

A system or team file must be owned by root (or, under a GUARDSH_CONFIG_DIR
override, by the user running guardsh) and must not be group- or
world-writable; otherwise it is refused, which fails closed like a broken file.
GUARDSH_CONFIG_DIR (replaces /etc/guardsh), GUARDSH_POLICY (replaces the
system, team and user layers) and GUARDSH_AUDIT_LOG are honored only where
the system layer allows overrides: a user install (no system layer) does; a
system layer allows them only if it says `allow_overrides: true`.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guardsh.policy import cache
from guardsh.policy.schema import Policy

if TYPE_CHECKING:
    from guardsh.policy.merge import Source

ETC_DIR = "/etc/guardsh"
HOOKS = ("GUARDSH_POLICY", "GUARDSH_AUDIT_LOG", "GUARDSH_CONFIG_DIR")
_NO_OVERRIDES = "the system policy does not allow overrides"
_HERE = os.path.dirname(os.path.abspath(__file__))
# The files whose change changes what a policy compiles to.
CODE_FILES = tuple(
    os.path.join(_HERE, n)
    for n in (
        "schema.py",
        "load.py",
        "rules.py",
        "merge.py",
        "yamlfile.py",
        "migrate.py",
        "default.yaml",
        "baseline-strict.yaml",
        "baseline-night-shift.yaml",
        "../analyze/actions.py",
        "../cases.py",
    )
)


@dataclass
class Plan:
    """The sources of one policy, the paths they depend on, and notes."""

    sources: list[Source] = field(default_factory=list)
    deps: list[str] = field(default_factory=list)  # files and folders to stat for the cache
    warnings: list[str] = field(default_factory=list)
    config_dir: str = ETC_DIR


def _yaml_files(folder: str) -> list[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [
        os.path.join(folder, n)
        for n in sorted(names)
        if n.endswith((".yaml", ".yml")) and not n.startswith(".")
    ]


def _trust_problem(path: str, st: os.stat_result, owners: frozenset[int]) -> str | None:
    """Why a system/team file or folder may not be trusted (None: it may)."""
    if st.st_uid not in owners:
        who = "root" if owners == {0} else "root or you"
        return (
            f"{path}: refused: owned by uid {st.st_uid}, not {who}; a system policy file "
            "must be owned by root (chown root:root)"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = stat.S_IMODE(st.st_mode)
        return (
            f"{path}: refused: it is group- or world-writable (mode {mode:04o}), so anyone "
            f"could loosen the policy; run: chmod go-w {path}"
        )
    return None


def _read(path: str, kind: str, owners: frozenset[int] | None) -> Source:
    from guardsh.policy.merge import Source

    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            problem = _trust_problem(path, st, owners) if owners is not None else None
            if problem:
                return Source(path, "", kind, problem)
            if stat.S_ISDIR(st.st_mode):
                return Source(path, "", kind, f"{path}: is a folder, expected a policy file")
            data = fh.read()
    except OSError as e:
        return Source(path, "", kind, f"{path}: cannot read the policy file: {e.strerror}")
    try:
        return Source(path, data.decode("utf-8"), kind)
    except UnicodeDecodeError as e:
        return Source(path, "", kind, f"{path}: not UTF-8 text (byte {e.start})")


def _layer_dir(folder: str, kind: str, owners: frozenset[int] | None, plan: Plan) -> list[Source]:
    from guardsh.policy.merge import Source

    plan.deps.append(folder)
    if owners is not None:
        try:
            st = os.stat(folder)
        except OSError:
            return []
        problem = _trust_problem(folder, st, owners)
        if problem:
            return [Source(folder, "", kind, problem)]
    out = []
    for path in _yaml_files(folder):
        plan.deps.append(path)
        out.append(_read(path, kind, owners))
    return out


def _entries(
    entries: Sequence[str], kind: str, owners: frozenset[int] | None, plan: Plan, base: str = ""
) -> list[Source]:
    out: list[Source] = []
    for entry in entries:
        if not entry:
            continue
        path = os.path.join(base, os.path.expanduser(entry)) if base else entry
        if os.path.isdir(path):
            out.extend(_layer_dir(path, kind, owners, plan))
        else:
            plan.deps.append(path)
            out.append(_read(path, kind, owners))
    return out


def _settings(sources: Sequence[Source]) -> tuple[dict[str, object], bool]:
    """The settings the system files state, and whether all of them are sound."""
    from guardsh.errors import PolicyError
    from guardsh.policy.load import parse_layer

    out: dict[str, object] = {}
    sound = True
    for src in sources:
        if src.problem is not None:
            sound = False
            continue
        try:
            part = parse_layer(src.name, src.text)
        except PolicyError:
            sound = False
            continue
        out.update({k: v for k, (v, _) in part.settings.items()})
    return out, sound


def user_file(environ: Mapping[str, str]) -> str:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".config"
    )
    return os.path.join(base, "guardsh", "policy.yaml")


def system_owners() -> frozenset[int]:
    """Who may own /etc/guardsh files: root (tests monkeypatch this)."""
    return frozenset({0})


def plan(
    environ: Mapping[str, str], policy_args: Sequence[str] = (), etc_dir: str = ETC_DIR
) -> Plan:
    """Decide the layers. Reads the system files' settings (for the overrides
    and the team files), so it parses YAML: the cache sits in front of it."""
    from guardsh.policy.load import DEFAULT_NAME, default_text
    from guardsh.policy.merge import Source

    p = Plan(sources=[Source(DEFAULT_NAME, default_text(), "builtin")], deps=list(CODE_FILES))
    if policy_args:
        p.sources += _entries(policy_args, "override", None, p)
        return p
    root = system_owners()
    system = _layer_dir(os.path.join(etc_dir, "policy.d"), "system", root, p)
    settings, sound = _settings(system)
    allowed = bool(settings.get("allow_overrides", not system)) and sound
    config_dir = environ.get("GUARDSH_CONFIG_DIR")
    if config_dir and os.path.abspath(config_dir) != os.path.abspath(etc_dir):
        if allowed:
            p.config_dir = config_dir
            system = _layer_dir(
                os.path.join(config_dir, "policy.d"), "system", root | {os.geteuid()}, p
            )
            settings, sound = _settings(system)
            allowed = bool(settings.get("allow_overrides", not system)) and sound
        else:
            p.warnings.append(f"GUARDSH_CONFIG_DIR={config_dir} is ignored: {_NO_OVERRIDES}")
    else:
        p.config_dir = etc_dir
    owners = root if p.config_dir == etc_dir else root | {os.geteuid()}
    override = environ.get("GUARDSH_POLICY")
    if override:
        if allowed:
            p.sources += _entries(override.split(":"), "override", None, p)
            return p
        p.warnings.append(f"GUARDSH_POLICY={override} is ignored: {_NO_OVERRIDES}")
    p.sources += system
    team = settings.get("team_files", ())
    if isinstance(team, tuple):
        p.sources += _entries([str(t) for t in team], "team", owners, p, base=p.config_dir)
    upath = user_file(environ)
    p.deps.append(upath)
    if os.path.lexists(upath):
        p.sources.append(_read(upath, "user", None))
    return p


def _roots(
    environ: Mapping[str, str], policy_args: Sequence[str], etc_dir: str
) -> tuple[object, ...]:
    """What, besides the files' stats, decides the policy."""
    return (
        tuple(os.path.abspath(a) for a in policy_args),
        environ.get("GUARDSH_POLICY"),
        environ.get("GUARDSH_CONFIG_DIR"),
        user_file(environ),
        etc_dir,
        os.geteuid(),
        sys.version_info[:2],
        _HERE,
    )


def build(
    environ: Mapping[str, str], policy_args: Sequence[str] = (), etc_dir: str = ETC_DIR
) -> tuple[Policy, list[str]]:
    """Plan and compile (no cache): the policy and the paths it depends on."""
    from guardsh.policy.merge import compile_layers

    p = plan(environ, policy_args, etc_dir)
    policy = compile_layers(p.sources, strict=bool(policy_args), warnings=p.warnings)
    return policy, p.deps


def effective(
    policy_args: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    etc_dir: str = ETC_DIR,
    use_cache: bool = True,
) -> Policy:
    """The policy a command is checked against.

    `policy_args` (`check --policy`, repeatable) replace the system, team and
    user layers, and a broken one raises PolicyError. Otherwise the layers
    are found as the module docstring says; a broken system/team layer fails
    closed (`Policy.errors`) and a broken user layer is skipped
    (`Policy.warnings`). The compiled result is cached by every file's
    identity, size and times, so a warm start parses no YAML.
    """
    env = os.environ if environ is None else environ
    roots = _roots(env, policy_args, etc_dir)
    if use_cache:
        hit = cache.load(roots, env)
        if hit is not None:
            return hit
    policy, deps = build(env, policy_args, etc_dir)
    if use_cache:
        cache.store(roots, deps, policy, env)
    return policy


def load_files(paths: Sequence[str]) -> Policy:
    """The built-in default with `paths` (files or folders) layered on top;
    raises PolicyError for the first broken file."""
    return effective(paths, use_cache=False)


def override(name: str, policy: Policy, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of a GUARDSH_* hook, or None when the policy does not allow
    overrides (e.g. `override("GUARDSH_AUDIT_LOG", policy)` for the audit path)."""
    if name not in HOOKS:
        raise ValueError(f"{name} is not a guardsh override hook")
    env = os.environ if environ is None else environ
    value = env.get(name)
    return value if value and policy.settings.allow_overrides and not policy.errors else None
