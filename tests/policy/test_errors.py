"""Policy errors point at the text: file:line:col, the line, carets, what was
expected. Golden strings, one per error class (STYLE: "Errors point at the text")."""

from __future__ import annotations

import pytest

from guardsh.errors import PolicyError
from guardsh.policy.load import default_text, merge

RULE_KEYS = (
    "break_glass, days, delay, description, groups, hours, id, in, match, message, reason, "
    "require, users"
)


def error_of(text: str) -> str:
    with pytest.raises(PolicyError) as e:
        merge([("<default>", default_text()), ("team.yaml", text)])
    return str(e.value)


def test_unknown_key() -> None:
    assert error_of("rules:\n  - id: x\n    require: type\n    colour: red\n") == (
        f"team.yaml:4:5: unknown key `colour` in a rule (expected one of: {RULE_KEYS})\n"
        "      colour: red\n"
        "      ^^^^^^"
    )


def test_unknown_key_that_was_renamed_gets_a_migration_message() -> None:
    assert error_of("rules:\n  - id: x\n    requires: type\n") == (
        "team.yaml:3:5: unknown key `requires` in a rule; did you mean `require`? "
        f"(`requires` is an old name) (expected one of: {RULE_KEYS})\n"
        "      requires: type\n"
        "      ^^^^^^^^"
    )


def test_a_key_that_moved_says_where_it_lives_now() -> None:
    assert error_of("rules:\n  - id: x\n    severity: high\n    require: type\n") == (
        "team.yaml:3:5: unknown key `severity` in a rule; write `match: {severity: ...}` "
        f"instead (expected one of: {RULE_KEYS})\n"
        "      severity: high\n"
        "      ^^^^^^^^"
    )


def test_wrong_type() -> None:
    assert error_of("rules:\n  - id: x\n    require: type\n    delay: soon\n") == (
        "team.yaml:4:12: expected a whole number for delay (seconds), got `soon`\n"
        "      delay: soon\n"
        "             ^^^^"
    )


def test_wrong_type_of_a_section() -> None:
    assert error_of("rules: {id: x}\n") == (
        "team.yaml:1:8: expected a list of rules\n  rules: {id: x}\n         ^^^^^^^"
    )


def test_bad_glob() -> None:
    text = 'environments:\n  - name: lab\n    match:\n      hostname: ["lab-[0-9"]\n'
    assert error_of(text) == (
        "team.yaml:4:18: bad pattern in match hostname: unclosed `[` in glob `lab-[0-9` "
        "(write `[[]` for a literal `[`)\n"
        '        hostname: ["lab-[0-9"]\n'
        "                   ^^^^^^^^^^"
    )


def test_bad_regex() -> None:
    text = 'environments:\n  - name: lab\n    match:\n      hostname: ["re:lab-("]\n'
    assert error_of(text) == (
        "team.yaml:4:18: bad regular expression in match hostname: missing ), "
        "unterminated subpattern at position 4\n"
        '        hostname: ["re:lab-("]\n'
        "                   ^^^^^^^^^^"
    )


def test_unknown_action() -> None:
    assert error_of(
        "rules:\n  - id: x\n    match: {actions: [sql.drop_tabel]}\n    require: type\n"
    ) == (
        "team.yaml:3:23: unknown action `sql.drop_tabel`; did you mean `sql.drop_table`? "
        "(see `guardsh policy actions` for the list)\n"
        "      match: {actions: [sql.drop_tabel]}\n"
        "                        ^^^^^^^^^^^^^^"
    )


def test_unknown_environment() -> None:
    assert error_of("rules:\n  - id: x\n    in: [prodution]\n    require: type\n") == (
        "team.yaml:3:10: unknown environment `prodution`; did you mean `production`? "
        "(defined: development, production, staging)\n"
        "      in: [prodution]\n"
        "           ^^^^^^^^^"
    )


def test_impossible_hour_range() -> None:
    assert error_of('rules:\n  - id: x\n    hours: "22:00-25:00"\n    require: type\n') == (
        "team.yaml:3:12: impossible hour range `22:00-25:00` "
        "(hours run from 00:00 to 24:00, minutes 00-59)\n"
        '      hours: "22:00-25:00"\n'
        "             ^^^^^^^^^^^^^"
    )


def test_an_empty_hour_range_is_impossible_too() -> None:
    assert "impossible hour range `06:00-06:00`: it starts where it ends" in error_of(
        'rules:\n  - id: x\n    hours: "06:00-06:00"\n    require: type\n'
    )


def test_unknown_requirement_suggests_the_name() -> None:
    assert error_of("rules:\n  - id: x\n    require: block\n") == (
        "team.yaml:3:14: unknown requirement `block`; did you mean `deny`? "
        "(expected one of: allow, warn, confirm, type, dry-run, deny)\n"
        "      require: block\n"
        "               ^^^^^"
    )


def test_yaml_syntax_error_points_at_the_line() -> None:
    assert error_of("rules:\n  - id: x\n   require: type\n") == (
        "team.yaml:3:4: YAML syntax error: did not find expected '-' indicator\n"
        "     require: type\n"
        "     ^"
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "environments:\n  - name: lab\n    protected: maybe\n",
            "expected true or false for protected",
        ),
        (
            'rules:\n  - id: x\n    hours: "10pm-6am"\n    require: type\n',
            "expected hours as HH:MM-HH:MM",
        ),
        (
            'rules:\n  - id: x\n    hours: "00:00-06:00 Mars/Olympus"\n    require: type\n',
            "unknown time zone `Mars/Olympus`",
        ),
        (
            "environments:\n  - name: lab\n    match:\n      hostnam: [lab-*]\n",
            "unknown matcher `hostnam`; did you mean `hostname`?",
        ),
        ("extends: strickt\n", "unknown baseline `strickt`; did you mean `strict`?"),
        ("version: 2\n", "unsupported policy version `2`"),
        (
            "tests:\n  - cmd: ls\n    hostnme: x\n",
            "unknown key `hostnme` in a test; did you mean `hostname`?",
        ),
        ("tests:\n  - hostname: x\n", "a test needs `cmd`"),
        ("settings:\n  user_layer: lax\n", "unknown user_layer `lax`"),
        (
            "rules:\n  - id: x\n    require: type\n  - id: x\n    require: warn\n",
            "rule `x` is defined twice",
        ),
        ("rules:\n  - require: type\n", "a rule needs `id`"),
        (
            'environments:\n  - name: lab\n    match: {hostname: [""]}\n',
            "an empty pattern matches nothing",
        ),
        ("environments:\n  - name: lab\n    color: purple\n", "unknown color `purple`"),
        (
            "rules:\n  - id: x\n    require: type\n    reason: '(?P<t>[A-Z]+)-[0-9]+'\n",
            "a reason pattern cannot name a group or refer back to one",
        ),
        (
            "rules:\n  - id: x\n    require: type\n    reason: '([A-Z]+)-\\1'\n",
            "a reason pattern cannot name a group or refer back to one",
        ),
    ],
)
def test_other_errors_name_what_was_expected(text: str, fragment: str) -> None:
    msg = error_of(text)
    assert msg.startswith("team.yaml:"), msg
    assert fragment in msg
    assert "^" in msg.splitlines()[-1]


def test_analysis_server_is_a_boolean_setting() -> None:
    policy = merge(
        [("<default>", default_text()), ("team.yaml", "settings:\n  analysis_server: false\n")]
    )
    assert policy.settings.analysis_server is False
    assert merge([("<default>", default_text())]).settings.analysis_server is True
    assert error_of("settings:\n  analysis_server: sometimes\n").startswith("team.yaml:2:20: ")
