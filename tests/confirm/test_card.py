"""The confirmation card as text: environment, target, marked evidence, plain words, rules."""

from __future__ import annotations

import dataclasses

from guardsh.confirm.card import as_text, card, color_of, requirement_text
from guardsh.model import Decision, Finding, Requirement, Severity, Span, Target, Verdict

LINE = "psql \"$DATABASE_URL\" -c 'DROP TABLE users'"
DB = Target("db", (("db_host", "prod-db.internal"), ("db_name", "app")))


def drop(req: Requirement = Requirement.TYPE, **kw: object) -> Decision:
    start = LINE.index("DROP")
    f = Finding(
        "sql.drop_table",
        "users",
        Severity.HIGH,
        DB,
        Span(start, start + len("DROP TABLE users")),
        detail="DROP TABLE users",
        environment="production",
    )
    v = Verdict(
        req,
        rules=("production-high",),
        messages=("This destroys something in production.",),
        type_word="users",
        **kw,
    )  # type: ignore[arg-type]
    return Decision(LINE, v, "production", (f,))


def test_card_says_where_what_and_why() -> None:
    text = as_text(
        card(
            drop(),
            target="db:prod-db.internal/app bastion-1",
            rule_messages={"production-high": "This destroys something in production."},
        )
    )
    lines = text.splitlines()
    assert lines[0].startswith("━━ guardsh ━ PRODUCTION ━ db:prod-db.internal/app bastion-1 ━")
    assert lines[1] == f"  $ {LINE}"
    col = lines[1].index("DROP")
    assert lines[2] == " " * col + "^" * len("DROP TABLE users")
    assert "  • DROP TABLE users on db:prod-db.internal/app — production (high)" in lines
    assert "  rule production-high: This destroys something in production." in lines
    assert lines[-1].startswith("━━ type `users` to run it ━")


def test_the_target_is_named_once() -> None:
    """The SQL analyzers put the target in their own words already."""
    named = drop()
    f = named.findings[0]
    f = dataclasses.replace(f, detail="DROP TABLE users on prod-db.internal/app")
    text = as_text(card(dataclasses.replace(named, findings=(f,))))
    assert "  • DROP TABLE users on prod-db.internal/app — production (high)\n" in text
    assert "on db:" not in text


def test_what_and_where() -> None:
    f = drop().findings[0]
    kube = Target("kube", (("kube_context", "prod-eu"), ("kube_namespace", "payments")))
    host = Target("local", (("hostname", "prod"),))
    cases = [
        (f, "DROP TABLE users on db:prod-db.internal/app"),
        (dataclasses.replace(f, detail=""), "sql.drop_table users on db:prod-db.internal/app"),
        (dataclasses.replace(f, detail="DROP TABLE users on db:prod-db.internal/app"),
         "DROP TABLE users on db:prod-db.internal/app"),
        (dataclasses.replace(f, detail="vacuumdb on prod-db.internal/app: exclusive locks"),
         "vacuumdb on prod-db.internal/app: exclusive locks"),
        (dataclasses.replace(f, target=kube, detail="kubectl delete namespace/payments"),
         "kubectl delete namespace/payments on k8s:prod-eu/payments"),
        # a near miss is not the target: "on production" does not name host `prod`
        (dataclasses.replace(f, target=host, detail="rm -rf /srv on production"),
         "rm -rf /srv on production on host:prod"),
    ]  # fmt: skip
    for finding, said in cases:
        assert finding.what_and_where() == said


def test_dry_run_slot() -> None:
    text = as_text(card(drop(Requirement.DRY_RUN), dry_run=["would drop 1 table (3,412 rows)"]))
    assert "  dry run:\n    would drop 1 table (3,412 rows)\n" in text
    assert "read the dry run, then type `users`" in text


def test_requirement_words() -> None:
    assert requirement_text(drop(Requirement.CONFIRM)) == "confirm to run it"
    assert requirement_text(drop(delay=10, reason=True, reason_pattern="^OPS-")) == (
        "type `users` to run it; after a 10-second cooling-off; give a reason matching `^OPS-`"
    )
    assert requirement_text(drop(Requirement.DENY, break_glass=True)).startswith(
        "denied by policy; break-glass"
    )


def test_no_color_has_no_color_styles() -> None:
    frags = card(drop(), env_color="red", color=False)
    assert all("ansi" not in style and "#" not in style for style, _ in frags)
    assert any("ansired" in style for style, _ in card(drop(), env_color="red"))


def test_colors() -> None:
    assert color_of("red") == "ansired"
    assert color_of("#123456") == "#123456"
    assert color_of("default") is None


def test_line_without_evidence_and_notes() -> None:
    d = Decision(
        "$cmd --force",
        Verdict(Requirement.CONFIRM, messages=("guardsh could not analyze this command",)),
        "production",
        (),
        notes=("guardsh could not analyze this command: boom",),
    )
    text = as_text(card(d))
    assert "  $ $cmd --force\n" in text
    assert "note: guardsh could not analyze this command\n" in text
    assert "note: guardsh could not analyze this command: boom" in text


def test_a_multi_line_statement_is_shown_whole_and_marked_where_it_acts() -> None:
    line = "psql> SELECT 1;\nDROP TABLE\n  users;"
    start = line.index("DROP")
    f = Finding("sql.drop_table", "users", Severity.HIGH, DB, Span(start, len(line)),
                detail="DROP TABLE users", environment="production")  # fmt: skip
    d = Decision(line, Verdict(Requirement.TYPE, type_word="users"), "production", (f,))
    rows = as_text(card(d)).splitlines()[1:6]
    assert rows == [
        "  $ psql> SELECT 1;",
        "  > DROP TABLE",
        "    ^^^^^^^^^^",
        "  >   users;",
        "      ^^^^^^",
    ]
