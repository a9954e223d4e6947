"""The prompt's content, without a terminal: environments, targets, colors, notices."""

from __future__ import annotations

from guardsh.model import Facts, KubeContext
from guardsh.shell import prompt
from tests.factories import DEFAULT_POLICY, policy, snapshot


def text(frags: list[tuple[str, str]]) -> str:
    return "".join(t for _, t in frags)


def test_plain_host_prompt() -> None:
    w = prompt.where(
        snapshot(hostname="dev-box-1.example", cwd="/home/op/src", home="/home/op"),
        Facts(),
        DEFAULT_POLICY,
    )
    assert w.environment == "development"
    assert w.host == "dev-box-1"
    assert text(prompt.fragments(w)).startswith("[DEV] dev-box-1 ~/src ")


def test_database_url_makes_the_prompt_production() -> None:
    snap = snapshot(
        hostname="laptop-dev",
        variables={"DATABASE_URL": "postgresql://u:secret@prod-db.internal/app"},
    )
    w = prompt.where(snap, Facts(), DEFAULT_POLICY)
    assert w.environment == "production"
    shown = text(prompt.fragments(w))
    assert shown.startswith("[PROD] db:prod-db.internal/app laptop-dev ")
    assert "secret" not in shown
    badge_style = prompt.fragments(w)[0][0]
    assert "ansired" in badge_style


def test_pg_variables_name_the_database() -> None:
    snap = snapshot(hostname="dev-1", variables={"PGHOST": "staging-db", "PGDATABASE": "shop"})
    w = prompt.where(snap, Facts(), DEFAULT_POLICY)
    assert (w.environment, w.db) == ("staging", "staging-db/shop")


def test_kube_context_and_namespace() -> None:
    facts = Facts(
        kube={"prod-eu": KubeContext("prod-eu", namespace="payments")}, kube_current="prod-eu"
    )
    w = prompt.where(snapshot(hostname="bastion-1"), facts, DEFAULT_POLICY)
    assert w.kube == "prod-eu/payments"
    assert text(prompt.fragments(w)).startswith("[PROD] k8s:prod-eu/payments bastion-1 ")


def test_colors_come_from_the_policy() -> None:
    p = policy(
        "environments:\n  - name: production\n    color: magenta\n    protected: true\n"
        "    match: {hostname: [special-host]}\n"
    )
    w = prompt.where(snapshot(hostname="special-host"), Facts(), p)
    assert "ansimagenta" in prompt.fragments(w)[0][0]


def test_no_color_keeps_the_text_drops_the_styles() -> None:
    snap = snapshot(hostname="prod-1", variables={"NO_COLOR": "1"})
    assert prompt.no_color(snap)
    assert not prompt.no_color(snapshot(variables={"NO_COLOR": ""}))
    w = prompt.where(snap, Facts(), DEFAULT_POLICY)
    frags = prompt.fragments(w, color=False, status=3)
    assert all(style == "" for style, _ in frags)
    assert text(frags).startswith("[PROD] prod-1 /srv [3] ")


def test_title_names_the_environment() -> None:
    w = prompt.where(snapshot(hostname="prod-1"), Facts(), DEFAULT_POLICY)
    assert prompt.title(w).startswith("[PROD] prod-1:")


def test_changes_since_the_previous_command() -> None:
    before = prompt.where(snapshot(hostname="b"), Facts(kube_current="dev"), DEFAULT_POLICY)
    now = prompt.where(
        snapshot(hostname="b", variables={"DATABASE_URL": "postgres://h/x"}),
        Facts(kube_current="prod-eu"),
        DEFAULT_POLICY,
    )
    notes = prompt.changes(before, now)
    assert notes == [
        "kube context changed since your previous command: dev → prod-eu",
        "database target changed since your previous command: none → h/x",
    ]
    assert prompt.changes(None, now) == []
    assert prompt.changes(now, now) == []


def test_unknown_place_is_the_policys_unknown_environment() -> None:
    w = prompt.unknown(snapshot(hostname="box.example"), DEFAULT_POLICY)
    assert (w.environment, w.protected, w.host) == ("staging", True, "box")
    assert text(prompt.fragments(w)).startswith("[STAGING] box /srv ")
