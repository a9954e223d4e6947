"""parse/bash.py: the commands a line runs, in order, with expanded words."""

from __future__ import annotations

import pytest

from guardsh.errors import AnalysisError
from guardsh.parse.bash import parse_script
from guardsh.parse.expand import Scope
from guardsh.parse.source import Source
from tests.factories import argvs, script


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ls -la", [["ls", "-la"]]),
        ("a && b || c; d & e", [["a"], ["b"], ["c"], ["d"], ["e"]]),
        ("a | b | c", [["a"], ["b"], ["c"]]),
        ("(cd /x && rm -r y) | tee log", [["cd", "/x"], ["rm", "-r", "y"], ["tee", "log"]]),
        ("{ a; b; } > out", [["a"], ["b"]]),
        (
            "if test -f x; then rm x; elif y; then z; else w; fi",
            [["test", "-f", "x"], ["rm", "x"], ["y"], ["z"], ["w"]],
        ),
        ('while read l; do rm "$l"; done < list', [["read", "l"], ["rm", "$l"]]),
        ("case $x in a) rm y;; *) z;; esac", [["rm", "y"], ["z"]]),
        ("! rm x", [["rm", "x"]]),
        ("[[ -f x ]] && rm x", [["rm", "x"]]),
        ("kill -9 $(cat /run/x.pid)", [["cat", "/run/x.pid"], ["kill", "-9", "$(cat /run/x.pid)"]]),
        ("echo `pidof y`", [["pidof", "y"], ["echo", "`pidof y`"]]),
        ("diff <(ls a) <(ls b)", [["ls", "a"], ["ls", "b"], ["diff", "<(ls a)", "<(ls b)"]]),
        ("ls # rm -rf /", [["ls"]]),
        ("f() { rm -rf /; }", []),
        ("for i in a b; do rm $i; done", [["rm", "$i"]]),
        ('echo "$(rm -rf /tmp/x)"', [["rm", "-rf", "/tmp/x"], ["echo", "$(rm -rf /tmp/x)"]]),
    ],
)
def test_commands_in_execution_order(line: str, expected: list[list[str]]) -> None:
    assert argvs(line) == expected


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("r''m", "rm"),
        ('"r""m"', "rm"),
        ("\\r\\m", "rm"),
        ("$'\\x72\\x6d'", "rm"),
        ("$'\\162\\155'", "rm"),
        ("'a b'", "a b"),
        ('"a\\"b"', 'a"b'),
        ("${X:-/tmp}", "/tmp"),
        ("${Y:-/tmp}", "set"),
        ("${Y:+alt}", "alt"),
        ("${X:+alt}", ""),
        ("~/x", "/home/op/x"),
        ('"$Y/data"', "set/data"),
        ("pre$Y", "preset"),
    ],
)
def test_word_expansion(line: str, word: str) -> None:
    words = script(f"cmd {line}", variables={"Y": "set"}).commands[0].words
    assert [w.value for w in words[1:]] == ([word] if word else [])
    assert all(w.known for w in words)


def test_unknown_parts_are_marked_not_guessed() -> None:
    words = script("rm -rf $UNSET/data $(pwd) $((1+2)) $@").commands[-1].words
    assert [w.known for w in words] == [True, True, False, False, False, False]
    assert words[2].value == "$UNSET/data"


def test_unquoted_expansion_splits_into_words() -> None:
    words = script("psql $ARGS", variables={"ARGS": "-h prod-db -d app"}).commands[0].words
    assert [w.value for w in words] == ["psql", "-h", "prod-db", "-d", "app"]


def test_glob_is_marked_only_when_unquoted() -> None:
    words = script("rm *.log '*.txt' \\*.bak").commands[0].words
    assert [w.glob for w in words[1:]] == [True, False, False]


def test_assignments_earlier_in_the_line_are_followed() -> None:
    assert argvs("D=/srv/data; rm -rf $D") == [["rm", "-rf", "/srv/data"]]
    assert argvs('export D=/srv/x && rm -rf "$D"') == [["rm", "-rf", "/srv/x"]]
    assert argvs("D=$(mktemp); rm -rf $D")[-1] == ["rm", "-rf", "$D"]
    assert argvs("unset HOME2; rm -rf ${HOME2:-/srv}")[-1] == ["rm", "-rf", "/srv"]


def test_prefix_assignment_does_not_change_the_same_commands_words() -> None:
    cmd = script("D=/a rm -rf $D", variables={"D": "/b"}).commands[0]
    assert [w.value for w in cmd.words] == ["rm", "-rf", "/b"]
    assert [(n, w.value) for n, w in cmd.assigns] == [("D", "/a")]


def _env(line: str, **kw: dict[str, str]) -> dict[str, str]:
    """The environment changes the line made before its last command."""
    variables = kw.get("variables")
    scope = Scope.of(variables or {}, "/home/op")
    return dict(parse_script(Source.of(line), scope).commands[-1].env)


@pytest.mark.parametrize(
    ("line", "env"),
    [
        ("export PGHOST=prod-pg; psql", {"PGHOST": "prod-pg"}),
        ("export PGHOST=prod-pg PGPORT=6432 && psql", {"PGHOST": "prod-pg", "PGPORT": "6432"}),
        ("PGHOST=prod-pg; export PGHOST; psql", {"PGHOST": "prod-pg"}),
        ("A=x; B=y; export A B; psql", {"A": "x", "B": "y"}),
        ("export A; A=later; psql", {"A": "later"}),
        ("declare -x PGHOST=prod-pg; psql", {"PGHOST": "prod-pg"}),
        ("typeset -x PGHOST=prod-pg; psql", {"PGHOST": "prod-pg"}),
        ("H=prod-pg; export PGHOST=$H; psql", {"PGHOST": "prod-pg"}),
        ("set -a; PGHOST=prod-pg; set +a; B=1; psql", {"PGHOST": "prod-pg"}),
        ("set -o allexport; PGHOST=prod-pg; psql", {"PGHOST": "prod-pg"}),
        ("export PGHOST=prod-pg; unset PGHOST; psql", {"PGHOST": ""}),
        ("export PGHOST=prod-pg; unset -v PGHOST; psql", {"PGHOST": ""}),
        ("export PGHOST=prod-pg; export -n PGHOST; psql", {"PGHOST": ""}),
        ("export PGHOST=prod-pg; declare +x PGHOST; psql", {"PGHOST": ""}),
        ("export PGHOST=prod-pg; unset -f PGHOST; psql", {"PGHOST": "prod-pg"}),
        ("export PGHOST=$(pick-host); psql", {}),
        ("PGHOST=prod-pg; psql", {}),  # a shell variable: psql does not see it
        ("declare PGHOST=prod-pg; psql", {}),
        ("export -f PGHOST; psql", {}),
        ("PGHOST=prod-pg psql", {}),  # a prefix: the command's own assigns, not the line's
    ],
)
def test_exports_reach_the_environment_of_later_commands(line: str, env: dict[str, str]) -> None:
    assert _env(line) == env


def test_a_session_variable_assigned_again_stays_in_the_environment() -> None:
    """Analysis reads the session's variables as the environment, so a new
    value for one of them is what later commands see."""
    assert _env("PGHOST=prod-pg; psql", variables={"PGHOST": "dev-db"}) == {"PGHOST": "prod-pg"}
    assert _env("unset PGHOST; psql", variables={"PGHOST": "dev-db"}) == {"PGHOST": ""}
    assert _env("export -n PGHOST; PGHOST=x; psql", variables={"PGHOST": "dev-db"}) == {
        "PGHOST": ""
    }


def test_exports_apply_in_execution_order() -> None:
    commands = script("psql; export PGHOST=prod-pg; psql").commands
    assert [dict(c.env) for c in commands] == [{}, {"PGHOST": "prod-pg"}]


def test_aliases_expand_recursively_and_stop_at_loops() -> None:
    aliases = {"k": "kubectl -n prod", "kd": "k delete", "ls": "ls --color", "a": "b", "b": "a"}
    assert argvs("kd pod x", aliases=aliases) == [["kubectl", "-n", "prod", "delete", "pod", "x"]]
    assert argvs("ls /", aliases=aliases) == [["ls", "--color", "/"]]
    assert argvs("a", aliases=aliases) == [["a"]]
    assert argvs("'k' get", aliases=aliases) == [["k", "get"]]


def test_alias_evidence_maps_back_to_the_typed_line() -> None:
    line = "kd pod x"
    cmd = script(line, aliases={"kd": "kubectl delete"}).commands[0]
    assert [line[w.span.start : w.span.end] for w in cmd.words[2:]] == ["pod", "x"]


def test_pipes_record_who_feeds_whom() -> None:
    s = script("echo a | grep a | psql")
    assert [c.pipe_from for c in s.commands] == [None, 0, 1]


def test_heredoc_and_herestring_become_stdin() -> None:
    s = script("psql <<EOF\nDROP TABLE $T;\nEOF\n", variables={"T": "users"})
    assert s.commands[0].stdin is not None
    assert s.commands[0].stdin.text == "DROP TABLE users;\n"
    quoted = script("psql <<'EOF'\nDROP TABLE $T;\nEOF\n", variables={"T": "users"})
    assert quoted.commands[0].stdin.text == "DROP TABLE $T;\n"
    tabs = script("psql <<-EOF\n\t\tDROP x;\n\tEOF\n")
    assert tabs.commands[0].stdin.text == "DROP x;\n"
    here = script("psql <<< 'TRUNCATE t'")
    assert here.commands[0].stdin.text == "TRUNCATE t\n"


def test_heredoc_then_pipe_feeds_the_next_command() -> None:
    s = script("cat <<EOF | psql && rm x\nDROP TABLE t;\nEOF\n")
    cat, psql, rm = s.commands
    assert cat.stdin.text == "DROP TABLE t;\n"
    assert psql.pipe_from == 0
    assert rm.pipe_from is None


def test_redirect_of_a_pipeline_belongs_to_its_last_command() -> None:
    s = script("a | b > out")
    assert not s.commands[0].redirects
    assert [r.target.value for r in s.commands[1].redirects] == ["out"]


def test_functions_are_recorded_not_run() -> None:
    s = script("cleanup() { rm -rf /srv; }")
    assert s.commands == ()
    assert s.functions["cleanup"].body.strip() == "{ rm -rf /srv; }"


def test_spans_point_into_the_line() -> None:
    line = "echo ok && rm -rf /var/lib/x"
    cmd = script(line).commands[1]
    assert line[cmd.span.start : cmd.span.end] == "rm -rf /var/lib/x"


def test_non_ascii_spans_are_character_offsets() -> None:
    line = "echo 'héllo ünïcode' && rm -rf /srv/dätä"
    cmd = script(line).commands[1]
    assert line[cmd.span.start : cmd.span.end] == "rm -rf /srv/dätä"


def test_syntax_errors_are_reported_with_a_span() -> None:
    s = script("ls ) rm x")
    assert s.errors


def test_deep_nesting_is_refused_not_recursed() -> None:
    with pytest.raises(AnalysisError):
        script("( " * 400 + "ls" + " )" * 400)


def test_a_dash_before_a_heredoc_is_kept() -> None:
    # tree-sitter-bash drops the `-` in `cat - <<EOF`; the walker puts it back
    assert argvs("cat - <<EOF\nx\nEOF\n") == [["cat", "-"]]
    assert argvs("kubectl apply -f - <<EOF\nkind: Namespace\nEOF\n") == [
        ["kubectl", "apply", "-f", "-"]
    ]


def test_words_after_a_redirect_target_belong_to_the_command() -> None:
    assert argvs("sudo sfdisk < /srv/app/file.dump /dev/sdb") == [["sudo", "sfdisk", "/dev/sdb"]]
    assert argvs("echo a > out b | cat") == [["echo", "a", "b"], ["cat"]]


def test_a_bare_redirect_is_a_command_with_no_words() -> None:
    cmds = script("> /etc/passwd").commands
    assert [(c.words, [r.target.value for r in c.redirects]) for c in cmds] == [
        ((), ["/etc/passwd"])
    ]


def test_a_heredoc_body_starting_with_a_backslash_is_kept() -> None:
    # tree-sitter-bash reads a first body line `\i x.sql` as words and loses the body
    s = script("psql app <<'EOF'\n\\i x.sql\n\\! rm -rf /srv\nEOF\n")
    assert s.commands[0].stdin.text == "\\i x.sql\n\\! rm -rf /srv\n"
    assert [[w.value for w in c.words] for c in s.commands] == [["psql", "app"]]


def test_a_backslash_first_line_before_sql_is_kept() -> None:
    s = script("psql <<'EOF'\n\\c prod-db\nDROP TABLE users;\nEOF\n")
    assert s.commands[0].stdin.text == "\\c prod-db\nDROP TABLE users;\n"
