"""The backing bash without a terminal: the protocol, the state it reports, its edge cases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardsh.run.backing import (
    BackingShell,
    ShellExited,
    command_line,
    parse_functions,
    parse_jobs,
    quote,
)


@pytest.fixture
def sh(tmp_path: Path) -> Iterator[BackingShell]:
    env = dict(os.environ)
    shell = BackingShell(env=env)
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        shell.start()
        shell.wait()
    finally:
        os.chdir(old)
    yield shell
    shell.close()


def test_first_report_is_the_start_state(tmp_path: Path) -> None:
    shell = BackingShell(env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ZED": "z"})
    shell.start()
    st = shell.wait()
    try:
        assert st.status == 0
        assert st.variables["ZED"] == "z"
        assert "ZED" in st.exported
        assert st.environ()["HOME"] == str(tmp_path)
        assert not any(k.startswith("__guardsh") for k in st.variables)
        assert not any(k.startswith("__guardsh") for k in st.functions)
    finally:
        shell.close()


def test_cwd_variables_aliases_functions_persist(sh: BackingShell, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    st = sh.run("cd d; export A=1; B='two words'; alias ll='ls -l'; f() { echo hi; }")
    assert st.cwd == str(tmp_path / "d")
    assert (st.variables["A"], st.variables["B"]) == ("1", "two words")
    assert "A" in st.exported and "B" not in st.exported
    assert st.aliases["ll"] == "ls -l"
    assert "echo hi" in st.functions["f"]
    st = sh.run("unset A; unalias ll; unset -f f")
    assert "A" not in st.variables and "ll" not in st.aliases and "f" not in st.functions


def test_values_with_newlines_quotes_and_bytes(sh: BackingShell) -> None:
    st = sh.run("X=$'line1\\nline2 \\'q\\' \"dq\" \\xff'")
    assert st.variables["X"] == "line1\nline2 'q' \"dq\" \udcff"


def test_status_and_last_argument_carry_over(sh: BackingShell) -> None:
    assert sh.run("false").status == 1
    sh.run('test "$?" = 1 && ok=yes || ok=no')
    assert sh.run(":").variables["ok"] == "yes"
    sh.run("echo one last")
    assert sh.run('u="$_"').variables["u"] == "last"


@pytest.mark.parametrize(
    ("setup", "pipeline", "status", "seen"),
    [
        ("", "false | true | (exit 3)", 3, "1 0 3"),
        ("", "! true | false", 0, "0 1"),
        ("set -o pipefail", "true | (exit 5) | true", 5, "0 5 0"),
        ("set -e", "false | true", 0, "1 0"),  # a restore that fails must not trip errexit
        ("set -e", "! false | false", 0, "1 1"),
        ("IFS=,", "true | false", 1, "0 1"),
        ("", "echo one | cat >/dev/null", 0, "0 0"),
        ("", "(exit 4)", 4, "4"),  # a single command: from $? as before
    ],
)
def test_pipestatus_carries_over_to_the_next_line(
    sh: BackingShell, setup: str, pipeline: str, status: int, seen: str
) -> None:
    sh.run(setup)
    assert sh.run(pipeline).status == status
    st = sh.run('p="${PIPESTATUS[*]}" s=$?')
    assert (st.variables["p"].replace(",", " "), st.variables["s"]) == (seen, str(status))
    assert sh.run("true").status == 0  # and the shell lives on (errexit did not fire)


def test_a_function_defined_earlier_is_analyzed_when_called(sh: BackingShell) -> None:
    """The session's functions reach the analysis as bodies a call runs."""
    import datetime as dt

    from guardsh.facts import gather
    from guardsh.pipeline import check
    from guardsh.policy.load import default_text, merge

    st = sh.run('g() { rm -rf "$1"; }; h() { kubectl delete ns "$@"; }')
    snap = gather.snapshot(functions=st.functions, cwd=st.cwd, variables=st.variables)
    policy = merge([("<default>", default_text())])
    for line, action, obj in (("g /srv/data", "fs.delete_recursive", "/srv/data"),
                              ("h payments", "k8s.delete", "namespace/payments")):  # fmt: skip
        d = check(line, snap, policy, dt.datetime.now(dt.UTC), gather.facts(snap))
        assert [(f.action, f.object) for f in d.findings] == [(action, obj)], line


def test_syntax_error_is_status_2_and_the_shell_lives(sh: BackingShell) -> None:
    assert sh.run("if then fi").status == 2
    assert sh.run("true").status == 0


def test_top_level_break_and_return_are_harmless(sh: BackingShell) -> None:
    assert sh.run("break").status == 0
    assert sh.run("return 3").status != 0
    assert sh.run("echo alive >/dev/null").status == 0


def test_single_quotes_and_heredocs_reach_bash_intact(sh: BackingShell) -> None:
    st = sh.run("v='it'\\''s'; w=$(cat <<'EOF'\na 'b' \"c\" $HOME\nEOF\n)")
    assert st.variables["v"] == "it's"
    assert st.variables["w"] == "a 'b' \"c\" $HOME"


def test_children_do_not_inherit_the_protocol_pipes(sh: BackingShell, tmp_path: Path) -> None:
    out = tmp_path / "fds"
    sh.run(f"ls /proc/self/fd > {out}")
    fds = set(out.read_text().split())
    assert "3" in fds  # ls's own directory handle
    assert "4" not in fds and "255" not in fds


def test_set_status_sets_dollar_question(sh: BackingShell) -> None:
    assert sh.set_status(126).status == 126
    assert sh.run("s=$?").variables["s"] == "126"


def test_exit_raises_with_the_status(sh: BackingShell) -> None:
    with pytest.raises(ShellExited) as e:
        sh.run("exit 9")
    assert e.value.status == 9
    assert not sh.alive


def test_background_jobs_are_listed(sh: BackingShell) -> None:
    st = sh.run("sleep 5 &")
    assert [j.command for j in st.jobs] == ["sleep 5 &"]
    assert st.jobs[0].state == "Running"
    st = sh.run("kill %1; wait")
    assert not [j for j in st.jobs if j.state == "Running"]


def test_set_options_persist(sh: BackingShell) -> None:
    assert "u" in sh.run("set -u").flags
    assert "u" not in sh.run("set +u").flags


def test_login_sources_profile(tmp_path: Path) -> None:
    (tmp_path / ".profile").write_text("export LOGGED_IN=1\n")
    shell = BackingShell(login=True, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    shell.start()
    try:
        st = shell.wait()
        assert st.variables.get("LOGGED_IN") == "1"
        assert shell.run('z="$0"').variables["z"] == "-bash"
    finally:
        shell.close()


def test_rc_is_sourced(tmp_path: Path) -> None:
    rc = tmp_path / "rc.bash"
    rc.write_text("alias from_rc='echo rc'\n")
    shell = BackingShell(env=dict(os.environ), rc=str(rc))
    shell.start()
    try:
        assert shell.wait().aliases["from_rc"] == "echo rc"
    finally:
        shell.close()


def test_quote_and_command_line() -> None:
    assert quote("a'b") == "'a'\\''b'"
    line = command_line("echo 'x'")
    # the report is a line of its own: a Ctrl-C that discards the command's line keeps it
    assert line.endswith("\n") and line.splitlines()[-1].startswith("__guardsh_x=$?")
    assert "eval \"$__guardsh_restore\"'echo '\\''x'\\''" in line


def test_parse_functions() -> None:
    text = (
        "f () \n{ \n    echo a\n}\ndeclare -fx f\n"
        "g () \n{ \n    :\n}\n__guardsh_x () \n{ \n    :\n}\n"
    )
    funcs = parse_functions(text)
    assert list(funcs) == ["f", "g"]
    assert funcs["f"] == "{ \n    echo a\n}"


def test_parse_jobs() -> None:
    jobs = parse_jobs(
        "[1]-  4242 Running                 sleep 5 &\n[2]+  4243 Exit 1                  false\n"
        "[3]+  4245 Stopped (tty input)     cat\n      4246                       | wc\n"
    )
    assert [(j.number, j.pid, j.state, j.command) for j in jobs] == [
        (1, 4242, "Running", "sleep 5 &"),
        (2, 4243, "Exit 1", "false"),
        (3, 4245, "Stopped (tty input)", "cat"),
    ]


def test_nounset_errexit_pipefail_do_not_break_the_report(sh: BackingShell) -> None:
    st = sh.run("set -uo pipefail; declare unset_but_declared; x=1")
    assert "u" in st.flags and st.variables["x"] == "1"
    assert sh.run("false && true").status == 1  # no errexit trap door in the driver
    st = sh.run("set -e; echo ok >/dev/null")
    assert st.status == 0 and "e" in st.flags
    assert sh.run("set +eu +o pipefail").status == 0
