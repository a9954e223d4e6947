"""Every case in tests/analyze/cases/*.yaml runs through the real pipeline.

One runner (guardsh.cases) serves these tests, `guardsh policy test` and
`guardsh check --batch`. A registry test checks that every documented action
has at least one case that fires it and one near-miss that stays quiet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from guardsh import analyze, cases
from guardsh.analyze.actions import ACTIONS
from guardsh.policy.load import default_text, merge

CASES = Path(__file__).parent / "cases"
POLICY = merge([("<default>", default_text())])


def _load() -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        for i, case in enumerate(data.get("cases", [])):
            out.append((path.stem, i, case))
    return out


ALL = _load()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize(
            "case",
            [c for _, _, c in ALL],
            ids=[f"{fam}-{i}-{str(c.get('cmd'))[:40]}" for fam, i, c in ALL],
        )


def test_case(case: dict[str, Any]) -> None:
    problems = cases.run_and_check(case, POLICY)
    assert not problems, f"{case['cmd']!r}\n  " + "\n  ".join(problems)


def _mentioned(case: dict[str, Any]) -> tuple[set[str], set[str]]:
    expect = case.get("expect") or {}
    firing = set(expect.get("actions", ())) | {f.get("action") for f in expect.get("findings", ())}
    quiet = set(expect.get("not_actions", ()))
    return firing, quiet


def test_every_case_file_has_enough_cases() -> None:
    counts: dict[str, int] = {}
    for fam, _, _ in ALL:
        counts[fam] = counts.get(fam, 0) + 1
    assert counts, "no case files found"
    small = {fam: n for fam, n in counts.items() if n < 40}
    assert not small, f"families with fewer than 40 cases: {small}"


def test_every_action_is_documented_and_has_firing_and_quiet_cases() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for _, _, case in ALL:
        f, q = _mentioned(case)
        firing |= f
        quiet |= q
    undocumented = (firing | quiet) - set(ACTIONS) - {None}
    assert not undocumented, f"actions used in cases but not documented: {sorted(undocumented)}"
    assert not set(ACTIONS) - firing, (
        f"actions with no firing case: {sorted(set(ACTIONS) - firing)}"
    )
    assert not set(ACTIONS) - quiet, f"actions with no quiet case: {sorted(set(ACTIONS) - quiet)}"


def test_analyzers_only_emit_documented_actions() -> None:
    """Every finding any case produces names an action from the taxonomy."""
    analyze.load_all()
    emitted: set[str] = set()
    for _, _, case in ALL:
        try:
            decision = cases.run(case, POLICY)
        except Exception:
            continue
        emitted |= {f.action for f in decision.findings}
    assert not emitted - set(ACTIONS), (
        f"undocumented actions emitted: {sorted(emitted - set(ACTIONS))}"
    )
