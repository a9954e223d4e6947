"""`guardsh policy check|test|explain|show|actions` as programs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from guardsh.exitcodes import Exit

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guardsh", "policy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


GOOD = """\
rules:
  - id: no-force-push
    match: {actions: [git.force_push]}
    in: [production]
    require: deny
tests:
  - cmd: git push --force origin main
    hostname: prod-ci-1
    expect: {require: deny, exit: 20}
  - cmd: git status
    hostname: prod-ci-1
    expect: {require: allow}
"""


def test_check_accepts_good_files_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    r = run("check", str(tmp_path / "good.yaml"), "policies/small-team.yaml")
    assert r.returncode == Exit.OK, r.stderr
    assert f"ok  {tmp_path}/good.yaml: 3 environments, 5 rules, 2 tests" in r.stdout
    assert "ok  policies/small-team.yaml" in r.stdout


def test_check_names_file_line_and_expectation_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: x\n    in: [prod]\n    require: type\n")
    r = run("check", str(tmp_path / "bad.yaml"), str(tmp_path / "good.yaml"))
    assert r.returncode == Exit.USAGE
    assert f"{tmp_path}/bad.yaml:3:10: unknown environment `prod`" in r.stderr
    assert "      in: [prod]\n           ^^^^" in r.stderr
    assert "good.yaml" in r.stdout  # the other files are still checked


def test_check_without_files_checks_the_layers_in_effect() -> None:
    r = run("check")
    assert r.returncode == Exit.OK, r.stderr
    assert "builtin  <built-in default>" in r.stdout and "policy in effect:" in r.stdout


def test_check_without_files_reports_a_broken_user_layer(tmp_path: Path) -> None:
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "guardsh" / "policy.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("rules: {}\n")
    r = run("check")
    assert r.returncode == Exit.USAGE
    assert f"{user}:1:8: expected a list of rules" in r.stderr


def test_test_passes_and_summarizes(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    r = run("test", "-v", str(tmp_path / "good.yaml"))
    assert r.returncode == Exit.OK, r.stdout + r.stderr
    assert r.stdout.splitlines()[-1] == "2 passed, 0 failed"
    assert f"ok   {tmp_path}/good.yaml:7  git push --force origin main" in r.stdout


def test_test_shows_expected_and_actual_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        GOOD.replace("expect: {require: allow}", "expect: {require: warn, environment: staging}")
    )
    r = run("test", str(tmp_path / "p.yaml"))
    assert r.returncode == Exit.FAILURE
    assert f"FAIL {tmp_path}/p.yaml:10  git status" in r.stdout
    assert "     require: expected warn, got allow" in r.stdout
    assert "     environment: expected staging, got production" in r.stdout
    assert r.stdout.splitlines()[-1] == "1 passed, 1 failed"


def test_test_exits_2_on_a_broken_policy(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("rules:\n  - id: x\n")
    r = run("test", str(tmp_path / "p.yaml"))
    assert r.returncode == Exit.USAGE
    assert "p.yaml:2:5: a rule needs `require`" in r.stderr


def test_test_runs_the_shipped_policies() -> None:
    r = run("test", *sorted(str(p) for p in (ROOT / "policies").glob("*.yaml")))
    assert r.returncode == Exit.OK, r.stdout
    passed = int(r.stdout.splitlines()[-1].split()[0])
    assert passed >= 20


TIGHTER = """\
rules:
  - id: staging-high
    match: {severity: high}
    in: [staging]
    require: type
"""
SITE_TEST = """\
tests:
  - cmd: rm -rf /srv/cache
    hostname: preprod-app-1
    expect: {environment: staging, require: type}
"""
USER = """\
rules:
  - id: my-force-push
    match: {actions: [git.force_push]}
    require: confirm
tests:
  - cmd: git push --force origin main
    hostname: web-1
    expect: {require: type}
"""


def layer(kind: str, text: str) -> Path:
    """A system layer (under conftest's GUARDSH_CONFIG_DIR) or the user file."""
    if kind == "system":
        path = Path(os.environ["GUARDSH_CONFIG_DIR"]) / "policy.d" / "10-site.yaml"
    else:
        path = Path(os.environ["XDG_CONFIG_HOME"]) / "guardsh" / "policy.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_test_without_layers_runs_the_defaults_own_tests() -> None:
    r = run("test", "-v")
    assert r.returncode == Exit.OK, r.stdout
    assert "ok   <built-in default>:" in r.stdout
    assert int(r.stdout.splitlines()[-1].split()[0]) >= 10


def test_test_a_layer_that_tightens_skips_the_defaults_tests() -> None:
    """The default's tests say what the default does; a system layer that asks
    more in staging is meant to fail them, and is not a broken policy."""
    system = layer("system", TIGHTER)
    r = run("test", "-v")
    assert r.returncode == Exit.OK, r.stdout
    assert "ok   <built-in default>" not in r.stdout and "FAIL" not in r.stdout
    note = r.stdout.splitlines()[0]
    assert note.startswith("not run: ")
    assert note.endswith(
        f"tests of <built-in default>: they describe the default, and {system} changes it"
    )
    assert r.stdout.splitlines()[-1] == "0 passed, 0 failed (no tests found)"


def test_test_runs_each_layers_tests_against_the_merged_policy() -> None:
    system = layer("system", TIGHTER + SITE_TEST)
    user = layer("user", USER)
    r = run("test", "-v")
    assert r.returncode == Exit.OK, r.stdout
    assert f"ok   {system}:7  rm -rf /srv/cache" in r.stdout
    # the user's own rule asks only confirm: `type` comes from the system layer
    assert f"ok   {user}:6  git push --force origin main" in r.stdout
    assert r.stdout.splitlines()[-1] == "2 passed, 0 failed"
    layer("system", SITE_TEST)  # without the system layer's rule, the user's test fails
    r = run("test")
    assert r.returncode == Exit.FAILURE, r.stdout
    assert f"FAIL {user}:6  git push --force origin main" in r.stdout
    assert "require: expected type, got confirm" in r.stdout


def test_test_a_layer_that_changes_nothing_keeps_the_defaults_tests() -> None:
    layer("system", "settings: {audit_required: true}\n" + SITE_TEST.replace("type}", "confirm}"))
    r = run("test")
    assert r.returncode == Exit.OK, r.stdout
    assert "not run" not in r.stdout
    assert int(r.stdout.splitlines()[-1].split()[0]) >= 11


def test_explain_says_why(tmp_path: Path) -> None:
    r = run("explain", "--kube-context", "prod-eu", "--", "kubectl delete namespace payments")
    assert r.returncode == Exit.NEEDS_CONFIRMATION, r.stderr
    out = r.stdout
    assert "finding 1: k8s.delete namespace/payments (high)" in out
    assert (
        "environment: production, because kube_context `prod-eu` matches `*prod*`, "
        "<built-in default>:" in out
    )
    assert "rules that matched:\n    production-high -> type  (<built-in default>:" in out
    assert "      + environment production in [production]\n      + severity high in [high]" in out
    assert "nearest rules that did not match:\n    production-low -> confirm" in out
    assert "      - severity high not in [low]" in out
    assert (
        "requirement: type; type `namespace/payments` to run it (exit 10; rules: production-high)"
        in out
    )


def test_explain_names_the_environment_that_did_not_take_it() -> None:
    r = run("explain", "--hostname", "preprod-app-1", "--", "rm -rf /srv/cache")
    assert "environment: staging, because hostname `preprod-app-1` matches `*preprod*`" in r.stdout
    assert (
        "not production: hostname `preprod-app-1` matched `*prod*` but `except` has `*preprod*`"
        in r.stdout
    )


def test_explain_with_time_user_and_groups() -> None:
    r = run(
        "explain",
        "--policy",
        "policies/small-team.yaml",
        "--hostname",
        "app-p-1",
        "--user",
        "kim",
        "--group",
        "interns",
        "--time",
        "2026-01-14T12:00:00Z",
        "--",
        "systemctl restart nginx",
    )
    assert r.returncode == Exit.DENIED, r.stdout + r.stderr
    assert "+ group interns in [interns]" in r.stdout
    assert "interns-stay-out-of-production -> deny" in r.stdout


def test_explain_a_quiet_command() -> None:
    r = run("explain", "--hostname", "prod-1", "--", "ls -la")
    assert r.returncode == Exit.OK
    assert (
        "no findings" in r.stdout
        and "environment: production (hostname `prod-1` matches `*prod*`" in r.stdout
    )


def test_show_lists_rules_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    r = run("show", "--policy", str(tmp_path / "good.yaml"))
    assert r.returncode == Exit.OK, r.stderr
    assert (
        f"  no-force-push  {tmp_path}/good.yaml:2\n    actions git.force_push in production -> deny"
        in r.stdout
    )
    assert "  production  [red, protected]  <built-in default>:" in r.stdout
    assert "    except names: *preprod*" in r.stdout
    data = json.loads(run("show", "--json", "--policy", str(tmp_path / "good.yaml")).stdout)
    rule = next(x for x in data["rules"] if x["id"] == "no-force-push")
    assert rule == {
        "id": "no-force-push",
        "origin": f"{tmp_path}/good.yaml:2",
        "match": {"actions": ["git.force_push"]},
        "in": ["production"],
        "require": "deny",
    }
    assert len(data["sha256"]) == 64


def test_actions_lists_the_taxonomy() -> None:
    r = run("actions")
    assert r.returncode == Exit.OK
    assert any(line.startswith("sql.drop_table ") for line in r.stdout.splitlines())
