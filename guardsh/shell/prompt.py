"""The prompt: where you are, unmistakably.

`[PROD] k8s:prod-eu/payments db:prod-db.internal/app bastion-1 ~/ops $`: a
badge in the color of the most dangerous environment among the session's
targets (the local host, the current kube context, the database that
DATABASE_URL / PG* name), then each target in its own environment's color.
The terminal title names the environment too. `NO_COLOR` (in the backing
shell's variables) keeps the text and drops the color.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from guardsh.confirm.card import color_of, short_env
from guardsh.model import Facts, Snapshot, Target
from guardsh.parse import dburl
from guardsh.policy.locate import classify
from guardsh.policy.schema import Policy
from guardsh.unwrap import targets

Fragments = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Place:
    """One target the session points at, and its environment."""

    label: str  # "k8s:prod-eu/payments", "db:prod-db.internal/app", "bastion-1"
    environment: str
    color: str | None
    protected: bool


@dataclass(frozen=True, slots=True)
class Where:
    """Everything the prompt says about the session's location."""

    environment: str
    color: str | None
    protected: bool
    places: tuple[Place, ...]
    kube: str | None  # "prod-eu/payments": for the "changed since" notice
    db: str | None
    host: str
    cwd: str
    root: bool

    @property
    def target_label(self) -> str:
        return " ".join(p.label for p in self.places)


def db_target(snapshot: Snapshot) -> Target | None:
    """The database a bare `psql` would reach: DATABASE_URL, else PG* variables."""
    get = snapshot.variables.get
    url = get("DATABASE_URL")
    machine = targets.local(snapshot)
    if url:
        params = dburl.parse_url(url)
        if params:
            return dburl.db_target(params.get("engine", "postgresql"), params, machine)
    if get("PGHOST") or get("PGDATABASE"):
        return dburl.db_target("postgresql", dburl.env_params(get), machine)
    return None


def _place(label: str, target: Target, snapshot: Snapshot, policy: Policy) -> Place:
    env = classify(target, snapshot, policy).environment
    spec = policy.environment(env)
    return Place(label, env, spec.color if spec else None, policy.protected(env))


def where(snapshot: Snapshot, facts: Facts, policy: Policy) -> Where:
    host = snapshot.hostname.split(".", 1)[0]
    places = []
    kube = None
    if facts.kube_current or snapshot.kube_context:
        t = targets.kube(snapshot, facts)
        kube = t.label().removeprefix("k8s:")
        places.append(_place(t.label(), t, snapshot, policy))
    db = None
    t_db = db_target(snapshot)
    if t_db is not None:
        db = t_db.label().removeprefix("db:")
        places.append(_place(t_db.label(), t_db, snapshot, policy))
    places.append(_place(host, targets.local(snapshot), snapshot, policy))
    worst = min(places, key=lambda p: policy.rank(p.environment))
    home = snapshot.home.rstrip("/")
    cwd = snapshot.cwd
    if home and (cwd == home or cwd.startswith(home + "/")):
        cwd = "~" + cwd[len(home) :]
    return Where(
        worst.environment,
        worst.color,
        worst.protected,
        tuple(places),
        kube,
        db,
        host,
        cwd,
        os.geteuid() == 0,
    )


def unknown(snapshot: Snapshot, policy: Policy) -> Where:
    """The prompt when the targets could not be worked out: the policy's
    unknown environment, shown as such."""
    env = policy.unknown_environment
    spec = policy.environment(env)
    place = Place(snapshot.hostname.split(".", 1)[0], env, spec.color if spec else None, True)
    return Where(env, place.color, True, (place,), None, None, place.label, snapshot.cwd,
                 os.geteuid() == 0)  # fmt: skip


def no_color(snapshot: Snapshot) -> bool:
    """https://no-color.org: present and not empty."""
    return bool(snapshot.variables.get("NO_COLOR"))


def fragments(w: Where, *, color: bool = True, status: int = 0) -> Fragments:
    """The prompt text as (style, text) fragments."""
    badge = f"[{short_env(w.environment)}]"
    c = color_of(w.color) if color else None
    out: Fragments = []
    if c:
        out.append((f"bg:{c} fg:ansiblack bold" if w.protected else f"fg:{c} bold", badge))
    else:
        out.append(("bold" if color else "", badge))
    for p in w.places:
        pc = color_of(p.color) if color else None
        out.append(("", " "))
        out.append((f"fg:{pc}" if pc else "", p.label))
    out.append(("", " "))
    out.append(("fg:ansiblue bold" if color else "", w.cwd))
    if status:
        out.append(("", " "))
        out.append(("fg:ansired" if color else "", f"[{status}]"))
    out.append(("", " # " if w.root else " $ "))
    return out


def title(w: Where) -> str:
    """The terminal title: environment first, so a tab strip shows it."""
    return f"[{short_env(w.environment)}] {w.host}:{w.cwd} — guardsh"


def changes(before: Where | None, now: Where) -> list[str]:
    """Notices for a kube context or DB target that changed between two
    looks (the shell compares where it pointed after its previous command
    with where it points before the next, so only what another tab did,
    such as `kubectl config use-context`, is news)."""
    if before is None:
        return []
    out = []
    if before.kube != now.kube:
        out.append(
            f"kube context changed since your previous command: "
            f"{before.kube or 'none'} → {now.kube or 'none'}"
        )
    if before.db != now.db:
        out.append(
            f"database target changed since your previous command: "
            f"{before.db or 'none'} → {now.db or 'none'}"
        )
    return out
