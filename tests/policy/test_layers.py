"""Layers and locking: built-in default -> system -> team -> user; the system
layer decides what users and the GUARDSH_* hooks may do; broken layers fail
closed (system, team) or are skipped (user)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guardsh.errors import PolicyError
from guardsh.model import Requirement
from guardsh.policy import layers
from guardsh.policy.decide import POLICY_BROKEN
from guardsh.policy.load import default_text, merge
from tests.policy.conftest import World, decide

TIGHTEN = "settings:\n  user_layer: tighten\n"
LOOSEN_PROD = (
    "rules:\n  - id: production-high\n    match: {severity: high}\n    in: [production]\n"
    "    require: allow\n"
)


def test_layers_apply_in_order_with_their_kinds(world: World) -> None:
    world.system(
        "10-site.yaml",
        "settings:\n  user_layer: loosen\n  team_files: [team.yaml]\n"
        "rules:\n  - id: site\n    match: {actions: [git.force_push]}\n    require: confirm\n",
    )
    world.team(
        "team.yaml",
        "rules:\n  - id: site\n    match: {actions: [git.force_push]}\n    require: type\n",
    )
    world.user("rules:\n  - id: mine\n    match: {actions: [git.clean]}\n    require: warn\n")
    p = world.load()
    assert [(i.kind, i.status) for i in p.layers] == [
        ("builtin", "ok"),
        ("system", "ok"),
        ("team", "ok"),
        ("user", "ok"),
    ]
    site = p.rule("site")
    assert site is not None and site.require == Requirement.TYPE  # the team refined it
    assert site.origin.endswith("team.yaml:2")
    assert p.rule("mine") is not None
    assert not p.errors and not p.warnings


def test_a_user_file_cannot_loosen_a_tighten_only_system_policy(world: World) -> None:
    world.system("10-site.yaml", TIGHTEN)
    world.user(LOOSEN_PROD)
    p = world.load()
    assert p.rule("production-high").require == Requirement.TYPE  # type: ignore[union-attr]
    assert len(p.warnings) == 1
    assert "cannot replace rule `production-high`" in p.warnings[0]
    assert "user_layer: tighten" in p.warnings[0]
    d = decide(p, "rm -rf /srv/data", hostname="prod-app-1")
    assert d.verdict.requirement == Requirement.TYPE


@pytest.mark.parametrize(
    ("user_text", "why"),
    [
        (
            "environments:\n  - name: production\n    except:\n      hostname: [prod-app-1]\n",
            "cannot add exceptions to `production`",
        ),
        (
            "environments:\n  - name: lab\n    protected: false\n    match: {hostname: ['*']}\n",
            "cannot add environment `lab`",
        ),
        (
            "environments:\n  - name: development\n    match:\n      hostname: [prod-app-1]\n",
            "only add patterns to environments at least as dangerous as `staging`",
        ),
        (
            "environments:\n  - name: production\n    protected: false\n",
            "cannot unprotect `production`",
        ),
        (
            "unknown_environment: development\n",
            "cannot make the unknown environment less dangerous",
        ),
        ("settings:\n  timezone: Pacific/Kiritimati\n", "cannot set `timezone`"),
        ("settings:\n  user_layer: loosen\n", "cannot set `user_layer`"),
    ],
)
def test_tighten_refuses_every_way_to_loosen(world: World, user_text: str, why: str) -> None:
    world.system("10-site.yaml", TIGHTEN)
    world.user(user_text)
    p = world.load()
    assert p.warnings and why in p.warnings[0], p.warnings
    assert [i.status for i in p.layers if i.kind == "user"] == ["broken"]
    assert (
        decide(p, "rm -rf /srv/data", hostname="prod-app-1").verdict.requirement == Requirement.TYPE
    )


def test_tighten_accepts_what_only_makes_verdicts_stricter(world: World) -> None:
    world.system("10-site.yaml", TIGHTEN)
    world.user(
        "extends: strict\n"
        "environments:\n  - name: production\n    match:\n      hostname: [frodo]\n"
        "rules:\n  - id: my-staging\n    match: {severity: low}\n    in: [staging]\n"
        "    require: confirm\n"
    )
    p = world.load()
    assert not p.warnings, p.warnings
    # frodo is now production as well; the default's *prod* patterns are kept
    assert decide(p, "rm -rf /x", hostname="frodo").environment == "production"
    assert decide(p, "rm -rf /x", hostname="prod-1").environment == "production"
    assert (
        decide(p, "systemctl restart nginx", hostname="host-1").verdict.requirement
        == Requirement.CONFIRM
    )
    assert p.rule("strict-production-high") is not None


def test_loosen_lets_the_user_replace_a_rule(world: World) -> None:
    world.system("10-site.yaml", "settings:\n  user_layer: loosen\n")
    world.user(LOOSEN_PROD)
    p = world.load()
    assert not p.warnings
    assert (
        decide(p, "rm -rf /srv/data", hostname="prod-app-1").verdict.requirement
        == Requirement.ALLOW
    )


def test_ignore_does_not_read_the_user_file(world: World) -> None:
    world.system("10-site.yaml", "settings:\n  user_layer: ignore\n")
    world.user("this is: [not even valid")
    p = world.load()
    assert [i.status for i in p.layers if i.kind == "user"] == ["ignored"]
    assert "user_layer: ignore" in p.warnings[0]


def test_a_silent_system_layer_means_tighten_and_no_overrides(world: World) -> None:
    world.system("00-default.yaml", "version: 1\n")
    world.user(LOOSEN_PROD)
    p = world.load()
    assert p.settings.user_layer == "tighten" and not p.settings.allow_overrides
    assert "cannot replace rule" in p.warnings[0]


def test_no_system_layer_means_a_user_install(world: World) -> None:
    world.user(LOOSEN_PROD)
    p = world.load()
    assert p.settings.user_layer == "loosen" and p.settings.allow_overrides
    assert not p.warnings


def test_a_world_writable_system_file_is_refused_and_fails_closed(world: World) -> None:
    path = world.system("10-site.yaml", "settings:\n  user_layer: loosen\n", mode=0o666)
    world.user(LOOSEN_PROD)
    p = world.load()
    assert p.errors == (
        f"{path}: refused: it is group- or world-writable (mode 0666), so anyone could loosen "
        f"the policy; run: chmod go-w {path}",
    )
    assert [i.status for i in p.layers] == ["ok", "broken", "ignored"]
    d = decide(p, "systemctl restart nginx", hostname="host-1")  # staging: low asks now
    assert d.verdict.requirement == Requirement.CONFIRM
    assert any(m.startswith(POLICY_BROKEN) and "world-writable" in m for m in d.verdict.messages)
    assert decide(p, "ls -la", hostname="prod-1").verdict.requirement == Requirement.ALLOW


def test_a_group_writable_policy_folder_is_refused(world: World) -> None:
    world.system("10-site.yaml", "version: 1\n")
    (world.etc / "policy.d").chmod(0o775)
    p = world.load()
    assert (
        p.errors and "policy.d: refused: it is group- or world-writable (mode 0775)" in p.errors[0]
    )


def test_a_file_not_owned_by_root_is_refused() -> None:
    st = os.stat_result((0o100644, 1, 1, 1, 1000, 1000, 10, 0, 0, 0))
    assert layers._trust_problem("/etc/guardsh/policy.d/x.yaml", st, frozenset({0})) == (
        "/etc/guardsh/policy.d/x.yaml: refused: owned by uid 1000, not root; a system policy "
        "file must be owned by root (chown root:root)"
    )
    root = os.stat_result((0o100644, 1, 1, 1, 0, 0, 10, 0, 0, 0))
    assert layers._trust_problem("/x", root, frozenset({0})) is None


def test_a_broken_system_file_fails_closed_and_skips_the_user_layer(world: World) -> None:
    world.system("10-site.yaml", "rules:\n  - id: x\n    require: sometimes\n")
    world.system(
        "20-ok.yaml", "rules:\n  - id: y\n    match: {severity: low}\n    require: allow\n"
    )
    world.user(LOOSEN_PROD)
    p = world.load()
    assert (
        len(p.errors) == 1 and "10-site.yaml:3:14: unknown requirement `sometimes`" in p.errors[0]
    )
    assert p.rule("y") is None  # fail closed: the built-in default only
    assert p.rule("production-high").require == Requirement.TYPE  # type: ignore[union-attr]
    assert not p.settings.allow_overrides
    d = decide(p, "rm -rf build", hostname="staging-1")
    assert d.verdict.requirement == Requirement.CONFIRM
    assert any("unknown requirement" in m for m in d.verdict.messages)


def test_a_broken_team_file_fails_closed(world: World) -> None:
    world.system("10-site.yaml", "settings:\n  team_files: [team.d]\n")
    world.team("team.d/a.yaml", "settings:\n  user_layer: loosen\n")
    p = world.load()
    assert p.errors and "only the system layer (policy.d) may set `user_layer`" in p.errors[0]


def test_a_missing_team_file_fails_closed(world: World) -> None:
    world.system("10-site.yaml", "settings:\n  team_files: [missing.yaml]\n")
    p = world.load()
    assert p.errors and "missing.yaml: cannot read the policy file" in p.errors[0]


def test_a_broken_user_file_is_reported_and_skipped(world: World) -> None:
    world.system("10-site.yaml", "settings:\n  user_layer: loosen\n")
    world.user("rules:\n  - id: x\n    require: typo\n")
    p = world.load()
    assert not p.errors
    assert p.warnings[0].startswith("your policy file was skipped: ")
    assert "policy.yaml:3:14: unknown requirement `typo`" in p.warnings[0]
    assert p.rule("x") is None


def test_a_user_cannot_set_system_settings_even_when_loosening(world: World) -> None:
    world.user("settings:\n  allow_overrides: false\n")
    p = world.load()
    assert "a user file cannot set `allow_overrides`" in p.warnings[0]


# ---------------------------------------------------------------- the GUARDSH_* hooks
def test_overrides_work_in_a_user_install(world: World, tmp_path: Path) -> None:
    pol = world.write(tmp_path / "p.yaml", "rules:\n  - id: from-env\n    require: warn\n")
    world.user("this file is: [broken")  # replaced by GUARDSH_POLICY, so never read
    p = world.load(GUARDSH_POLICY=str(pol), GUARDSH_AUDIT_LOG="/tmp/a.jsonl")
    assert p.rule("from-env") is not None and not p.warnings
    assert (
        layers.override("GUARDSH_AUDIT_LOG", p, {"GUARDSH_AUDIT_LOG": "/tmp/a.jsonl"})
        == "/tmp/a.jsonl"
    )


def test_a_system_layer_can_turn_the_overrides_off(world: World, tmp_path: Path) -> None:
    world.system("10-site.yaml", "settings:\n  allow_overrides: false\n")
    pol = world.write(tmp_path / "p.yaml", "rules:\n  - id: from-env\n    require: allow\n")
    world.write(
        world.override / "policy.d" / "x.yaml", "rules:\n  - id: from-dir\n    require: allow\n"
    )
    p = world.load(GUARDSH_POLICY=str(pol), GUARDSH_CONFIG_DIR=str(world.override))
    assert p.rule("from-env") is None and p.rule("from-dir") is None
    assert any("GUARDSH_POLICY=" in w and "does not allow overrides" in w for w in p.warnings)
    assert any("GUARDSH_CONFIG_DIR=" in w for w in p.warnings)
    assert layers.override("GUARDSH_AUDIT_LOG", p, {"GUARDSH_AUDIT_LOG": "/tmp/a"}) is None


def test_guardsh_config_dir_replaces_etc_when_allowed(world: World) -> None:
    world.write(
        world.override / "policy.d" / "x.yaml",
        "rules:\n  - id: from-dir\n    match: {severity: low}\n    require: confirm\n",
    )
    p = world.load(GUARDSH_CONFIG_DIR=str(world.override))
    assert p.rule("from-dir") is not None
    assert [i.kind for i in p.layers] == ["builtin", "system"]


def test_a_broken_guardsh_policy_file_fails_closed(world: World, tmp_path: Path) -> None:
    pol = world.write(tmp_path / "p.yaml", "rules: nope\n")
    p = world.load(GUARDSH_POLICY=str(pol))
    assert p.errors and "expected a list of rules" in p.errors[0]


def test_policy_arguments_raise_on_a_broken_file(world: World, tmp_path: Path) -> None:
    pol = world.write(tmp_path / "p.yaml", "rules: nope\n")
    with pytest.raises(PolicyError, match=r"p\.yaml:1:8: expected a list of rules"):
        world.load(args=(str(pol),))


def test_override_only_knows_the_three_hooks() -> None:
    with pytest.raises(ValueError):
        layers.override("HOME", layers.load_files([]), {})


# ---------------------------------------------------------------- identity of the merged policy
def test_the_merged_sha256_changes_with_any_layer(world: World) -> None:
    world.system("10-site.yaml", "settings:\n  user_layer: loosen\n")
    a = world.load().sha256
    assert world.load().sha256 == a
    world.user("rules:\n  - id: mine\n    require: warn\n")
    b = world.load().sha256
    world.system("10-site.yaml", "settings:\n  user_layer: loosen\n# a comment\n")
    c = world.load().sha256
    assert len({a, b, c}) == 3 and all(len(x) == 64 for x in (a, b, c))


def test_environments_refine_field_by_field(world: World) -> None:
    world.user("environments:\n  - name: production\n    match:\n      hostname: [frodo]\n")
    p = world.load()
    prod = p.environment("production")
    assert prod is not None and prod.protected and prod.color == "red"
    assert [fm.field for fm in prod.match] == ["names", "hostname"]
    assert [fm.field for fm in prod.exclude] == ["names"]


def order_after(text: str) -> list[str]:
    policy = merge([("<default>", default_text()), ("site.yaml", text)])
    return [e.name for e in policy.environments]


def test_a_new_environment_goes_before_the_first_existing_one_listed_after_it() -> None:
    """The rule policies/README.md states: a new environment is placed just
    before the first existing environment that the same file lists after it;
    when none follows it, it is appended (least dangerous)."""
    lab = "  - name: lab\n    match: {hostname: [lab-*]}\n"
    assert order_after(f"environments:\n{lab}  - name: development\n") == [
        "production", "staging", "lab", "development",
    ]  # fmt: skip
    assert order_after(f"environments:\n{lab}  - name: production\n") == [
        "lab", "production", "staging", "development",
    ]  # fmt: skip
    # an existing environment listed *before* it places nothing: appended
    assert order_after(f"environments:\n  - name: staging\n{lab}") == [
        "production", "staging", "development", "lab",
    ]  # fmt: skip
    # two new ones keep the file's order, both before development
    two = f"environments:\n{lab}  - name: ci\n  - name: development\n"
    assert order_after(two) == ["production", "staging", "lab", "ci", "development"]
    # and order decides: `lab-dev-1` is lab, not development, once lab comes first
    before = f"environments:\n{lab}  - name: development\n"
    p = merge([("<default>", default_text()), ("site.yaml", before)])
    assert decide(p, "rm -rf /srv/x", hostname="lab-dev-1").environment == "lab"
    p = merge([("<default>", default_text()), ("site.yaml", f"environments:\n{lab}")])
    assert decide(p, "rm -rf /srv/x", hostname="lab-dev-1").environment == "development"


def test_a_new_environment_is_protected_unless_it_says_not(world: World) -> None:
    world.user("environments:\n  - name: lab\n    match: {hostname: [lab-*]}\n")
    p = world.load()
    assert [e.name for e in p.environments] == ["production", "staging", "development", "lab"]
    assert p.protected("lab")
