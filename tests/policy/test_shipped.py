"""Every shipped policy (policies/*.yaml) and the built-in ones validate, and
every `tests:` block they carry passes: the same runner `guardsh policy test`
and a team's CI use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guardsh import cases
from guardsh.policy import layers
from guardsh.policy.load import BASELINES, DEFAULT_NAME, baseline_text, default_text, merge

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "policies").glob("*.yaml"))
EXPECTED = {"bastion-strict.yaml", "small-team.yaml", "night-shift.yaml", "k8s-only.yaml"}


def _tests() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in SHIPPED:
        policy = layers.load_files([str(path)])
        own = [t for t in policy.tests if str(t["_origin"]).startswith(str(path) + ":")]
        out += [(path.name, t) for t in own]
    default = merge([(DEFAULT_NAME, default_text())])
    out += [("default.yaml", t) for t in default.tests]
    return out


ALL = _tests()


def test_the_four_policies_are_shipped_with_tests() -> None:
    assert {p.name for p in SHIPPED} >= EXPECTED
    for name in EXPECTED:
        assert sum(1 for n, _ in ALL if n == name) >= 5, name


def test_the_readme_teaches_every_shipped_policy() -> None:
    readme = (ROOT / "policies" / "README.md").read_text()
    for path in SHIPPED:
        assert path.name in readme


@pytest.mark.parametrize("name", BASELINES[1:])
def test_baselines_validate_and_only_add_rules(name: str) -> None:
    base = merge([(DEFAULT_NAME, default_text())])
    ext = merge([(DEFAULT_NAME, default_text()), ("x.yaml", f"extends: {name}\n")])
    assert {r.id for r in base.rules} < {r.id for r in ext.rules}
    assert ext.environments == base.environments
    # distinct ids: extending adds rules and never replaces one (tighten-mode users may extend)
    assert all(
        r.id.startswith(f"{name}-") for r in ext.rules if r.id not in {b.id for b in base.rules}
    )
    assert baseline_text(name).count("- id: ") == len(ext.rules) - len(base.rules)


@pytest.mark.parametrize("item", ALL, ids=[f"{n}:{t['_origin'].rsplit(':', 1)[1]}" for n, t in ALL])
def test_policy_tests(item: tuple[str, dict[str, Any]]) -> None:
    name, case = item
    policy = (
        layers.load_files([str(ROOT / "policies" / name)])
        if name != "default.yaml"
        else (merge([(DEFAULT_NAME, default_text())]))
    )
    problems = cases.run_and_check(case, policy)
    assert not problems, f"{case['_origin']} {case['cmd']!r}\n  " + "\n  ".join(problems)
