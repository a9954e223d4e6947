"""pipeline.check: pure, decides by policy, and fails safe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from guardsh.analyze import registry
from guardsh.errors import IncompleteError, UserError
from guardsh.model import Facts, Finding, Invocation, Requirement
from guardsh.pipeline import check
from tests.factories import DEFAULT_POLICY, snapshot

NOON = dt.datetime(2026, 1, 14, 12, 0, tzinfo=dt.UTC)


def decide(line: str, **kw: object):  # type: ignore[no-untyped-def]
    return check(line, snapshot(**kw), DEFAULT_POLICY, NOON, Facts())


def test_production_high_requires_typing_the_object() -> None:
    d = decide("rm -rf /var/lib/postgresql/15/main", hostname="prod-db-1")
    assert d.verdict.requirement == Requirement.TYPE
    assert d.verdict.type_word == "/var/lib/postgresql/15/main"
    assert d.environment == "production"


def test_read_only_is_allowed_even_in_production() -> None:
    d = decide("ls -la /var/lib/postgresql", hostname="prod-db-1")
    assert d.verdict.requirement == Requirement.ALLOW and d.findings == ()


def test_as_overrides_every_target() -> None:
    d = decide("ssh dev-box 'rm -rf /srv/x'", as_env="production")
    assert d.environment == "production"
    assert d.verdict.requirement == Requirement.TYPE


def test_most_dangerous_target_wins() -> None:
    d = decide("ssh dev-box 'rm -rf /a'; ssh prod-app-1 'rm -rf /b'")
    assert {f.environment for f in d.findings} == {"development", "production"}
    assert d.environment == "production"


def test_preprod_is_staging_not_production() -> None:
    assert decide("rm -rf /srv/x", hostname="preprod-app-1").environment == "staging"


def test_unknown_host_counts_as_staging() -> None:
    d = decide("rm -rf /srv/x", hostname="host-1")
    assert d.environment == "staging"
    assert d.verdict.requirement == Requirement.CONFIRM


@pytest.fixture
def broken_analyzer() -> Iterator[None]:
    def boom(inv: Invocation, ctx: registry.Context) -> Iterator[Finding]:
        raise RuntimeError("analyzer bug")
        yield  # pragma: no cover

    registry._BY_PROGRAM.setdefault("frobnicate", []).append(boom)
    try:
        yield
    finally:
        registry._BY_PROGRAM["frobnicate"].remove(boom)


@pytest.mark.usefixtures("broken_analyzer")
def test_a_failing_analyzer_asks_in_a_protected_environment() -> None:
    d = decide("frobnicate --all", hostname="prod-app-1")
    assert d.verdict.requirement == Requirement.CONFIRM
    assert "guardsh could not analyze this command" in d.verdict.messages
    assert any("analyzer bug" in n for n in d.notes)


@pytest.mark.usefixtures("broken_analyzer")
def test_a_failing_analyzer_keeps_the_other_findings() -> None:
    d = decide("frobnicate; rm -rf /srv/data", hostname="prod-app-1")
    assert d.verdict.requirement == Requirement.TYPE
    assert [f.action for f in d.findings] == ["fs.delete_recursive"]


@pytest.mark.usefixtures("broken_analyzer")
def test_a_failing_analyzer_only_warns_in_development() -> None:
    d = decide("frobnicate", hostname="dev-box")
    assert d.verdict.requirement == Requirement.WARN


def test_too_deep_input_fails_safe_not_crashes() -> None:
    d = decide("( " * 400 + "ls" + " )" * 400, hostname="prod-app-1")
    assert d.verdict.requirement == Requirement.CONFIRM
    assert any("nested too deeply" in n for n in d.notes)


def test_incomplete_and_binary_input_are_user_errors_with_columns() -> None:
    with pytest.raises(IncompleteError) as e:
        decide("psql -c 'DROP TABLE x")
    assert "column 9" in str(e.value)
    with pytest.raises(UserError, match="NUL byte"):
        decide("rm\0 -rf /")
    with pytest.raises(UserError, match="not valid UTF-8"):
        decide("rm \udcff")


def test_a_huge_line_is_refused_with_a_message() -> None:
    with pytest.raises(UserError, match="at most"):
        decide("echo " + "a" * 1_000_001)


def test_a_large_line_is_analyzed() -> None:
    line = " && ".join(f"echo {i}" for i in range(20_000)) + " && rm -rf /srv/x"
    d = decide(line, hostname="prod-app-1")
    assert [f.object for f in d.findings] == ["/srv/x"]


def test_parse_errors_are_opaque_not_silent() -> None:
    d = decide("ls ) rm -rf /", hostname="prod-app-1")
    assert any(f.action == "shell.opaque" and "parse-error" in f.tags for f in d.findings)
    assert d.verdict.requirement >= Requirement.CONFIRM
