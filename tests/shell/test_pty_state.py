"""The backing bash keeps its state across commands, and the prompt shows it.

Real guardsh on a real pseudo-terminal, real bash behind it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.shell.term import CTRL_C, Term

pytestmark = pytest.mark.pty
Shell = Callable[..., Term]


def test_cd_pushd_popd(shell: Shell, work: Path) -> None:
    (work / "sub" / "deeper").mkdir(parents=True)
    t = shell()
    t.run("cd sub")
    t.run('echo "at=$PWD"', f"at={work}/sub")
    t.run("pushd deeper >/dev/null")
    t.run('echo "at=$PWD"', f"at={work}/sub/deeper")
    t.run("popd >/dev/null")
    t.run('echo "at=$PWD"', f"at={work}/sub")
    t.run("cd - >/dev/null")  # OLDPWD is where popd came from
    t.run('echo "at=$PWD"', f"at={work}/sub/deeper\n")


def test_variables_export_unset(shell: Shell) -> None:
    t = shell()
    t.run("export APPX=one; LOCALX=two")
    t.run('echo "[$APPX|$LOCALX]"; bash -c \'echo "child=[$APPX|$LOCALX]"\'', "child=[one|]")
    t.run("unset APPX")
    t.run('echo "after=[${APPX-unset}]"', "after=[unset]")
    t.run("declare -A m=([k]=v$((1+1)))")
    t.run('echo "m=${m[k]}"', "m=v2")


def test_source_and_venv_activate(shell: Shell, work: Path) -> None:
    (work / "app.env").write_text("export FROM_SOURCE=sourced-$((40+2))\n")
    venv = work / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "activate").write_text(
        f'VIRTUAL_ENV="{work}/venv"\nexport VIRTUAL_ENV\n'
        'PATH="$VIRTUAL_ENV/bin:$PATH"\nexport PATH\n'
        'deactivate() { PATH="${PATH#*:}"; unset VIRTUAL_ENV; unset -f deactivate; }\n'
    )
    (venv / "hello-venv").write_text("#!/bin/sh\necho hello from the venv\n")
    (venv / "hello-venv").chmod(0o755)
    t = shell()
    t.run("source app.env")
    t.run('echo "$FROM_SOURCE"', "sourced-42")
    t.run(". venv/bin/activate")
    t.run("hello-venv", "hello from the venv")
    t.run("deactivate")
    t.run('echo "venv=[${VIRTUAL_ENV-}]"; type hello-venv 2>&1 | head -1', "not found")


def test_alias_and_function(shell: Shell) -> None:
    t = shell()
    t.run("alias hi='echo alias-says'")
    t.run("hi $((3*3))", "alias-says 9")
    t.run('greet() { echo "function-says $(( $1 * 2 ))"; }')
    t.run("greet 21", "function-says 42")
    t.run("unalias hi; type hi 2>&1", "not found")


def test_status_last_arg_and_background_pid(shell: Shell) -> None:
    t = shell()
    t.run("false")
    t.run('echo "status=$?"', "status=1")
    t.run("(exit 7)")
    t.run('echo "status=$?"', "status=7")
    t.run("echo first last-word-$((1))")
    t.run('echo "underscore=$_"', "underscore=last-word-1")
    t.run("sleep 30 &")
    out = t.run('echo "bang=$!"; jobs -l', re.compile(r"Running\s+sleep 30"))
    m = re.search(r"bang=(\d+)", out)
    assert m is not None, out
    pid = int(m.group(1))
    os.kill(pid, 0)  # the background job is a real, running process
    t.run("kill %1; wait")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_set_o_persists(shell: Shell) -> None:
    t = shell()
    t.run("set -o noclobber")
    t.run('echo x > f1; echo y > f1; echo "rc=$?"', "rc=1")
    t.run("set +o noclobber; echo y > f1; cat f1", "y")


def test_multiline_input_continues(shell: Shell) -> None:
    t = shell()
    t.line('echo "one')
    t.expect_exact(">")
    t.line('two"')
    t.expect_exact("one\ntwo")
    t.prompt()
    t.line("cat <<EOF")
    t.line("heredoc $((5+5))")
    t.line("EOF")
    t.expect_exact("heredoc 10")
    t.prompt()
    t.line("echo back\\")
    t.line("slash")
    t.expect_exact("backslash")
    t.prompt()
    t.line("true &&")
    t.line("echo and-$((1+1))")
    t.expect_exact("and-2")
    t.prompt()
    t.line("printf 'p%s\\n' 1 2 3 |")
    t.line("wc -l | sed 's/^/lines=/'")
    t.expect_exact("lines=3")
    t.prompt()


def test_compound_commands_continue_on_a_second_line(shell: Shell) -> None:
    t = shell()
    for first, rest, shown in [
        ("if true; then", ["echo in-if-$((2+2))", "fi"], "in-if-4"),
        ("for i in 1 2; do", ["echo it-$((i*10))", "done"], "it-10\nit-20"),
        ("while [ -z ${w-} ]; do", ["w=1; echo in-while-$((3+3))", "done"], "in-while-6"),
        ("case abc in", ["a*) echo in-case-$((1+6));;", "esac"], "in-case-7"),
        ("g() {", ['echo "in-g-$(( $1 * 9 ))"', "}"], None),
        ("{", ["echo in-group-$((4+4))", "}"], "in-group-8"),
    ]:
        t.line(first)
        for row in rest:
            t.expect(r"\n *>")  # the continuation prompt
            t.line(row)
        if shown is not None:
            t.expect_exact(shown)
        t.prompt()
        t.run('echo "status=$?"', "status=0")
    t.run("g 1", "in-g-9")
    assert "syntax error" not in t.text


def test_expansion_errors_abandon_the_line_not_the_shell(shell: Shell) -> None:
    t = shell()
    t.run('echo "${nope:?is not set}"; echo same-line', "nope: is not set")
    t.run("set -u; echo $undefined_here; echo same-line-2", "undefined_here: unbound variable")
    t.run("set +u; echo still-$((9*9))", "still-81")
    assert "same-line" not in t.text.replace("echo same-line", "")


def test_ctrl_c_at_the_prompt_discards_the_line(shell: Shell) -> None:
    t = shell()
    t.send("echo should-not-run")
    t.send(CTRL_C)
    t.prompt()
    t.run('echo "status=$?"', "status=130")
    assert not re.search(r"^should-not-run$", t.text, re.MULTILINE)


def test_source_prod_env_turns_the_prompt_production(shell: Shell, work: Path) -> None:
    (work / "prod.env").write_text(
        "export DATABASE_URL=postgresql://app@prod-db.internal:5432/app\n"
    )
    t = shell()
    first = t.text
    assert "[PROD]" not in first
    t.line("source prod.env")
    m = t.expect(r"\[PROD\][^\n]*db:prod-db\.internal/app[^\n]* [$#]")
    assert m
    # and the badge is red: the color of `production` in the default policy
    assert b"\x1b[0;30;41;1m[PROD]" in t.raw or b"41" in t.raw.split(b"[PROD]")[-2][-20:]


def test_no_color_keeps_the_text(shell: Shell) -> None:
    t = shell()
    assert re.search(rb"\x1b\[[0-9;]*4[1-7]", t.raw), "the badge has a background color by default"
    mark = len(t.raw)
    t.run("export NO_COLOR=1")
    t.line("echo after-$((7*6))")
    t.expect_exact("after-42")
    t.prompt()
    tail = t.raw[mark:]
    after_prompt = tail[tail.rfind(b"after-42") :]
    assert b"[STAGING]" in after_prompt or b"[DEV]" in after_prompt or b"[PROD]" in after_prompt
    assert not re.search(rb"\x1b\[[0-9;]*(?:3[1-7]|4[1-7])m", after_prompt), after_prompt


def test_history_persists_across_sessions(shell: Shell) -> None:
    t = shell()
    t.run("echo remembered-$((20+1))", "remembered-21")
    assert t.exit() == 0
    state = Path(os.environ["XDG_STATE_HOME"]) / "guardsh" / "history"
    assert "echo remembered-$((20+1))" in state.read_text()
    assert state.stat().st_mode & 0o077 == 0
    t2 = shell()
    t2.send("\x1b[A")  # Up
    t2.send("\r")
    t2.expect_exact("remembered-21")
    t2.prompt()


def test_ctrl_r_searches_history(shell: Shell) -> None:
    t = shell()
    t.run("echo needle-$((2*50))", "needle-100")
    t.run("echo other")
    t.send("\x12")  # Ctrl-R
    t.send("needle")
    t.send("\r")  # accept the search
    t.send("\r")  # run it
    t.expect_exact("needle-100")
    t.prompt()


def test_tab_completes_commands_and_paths(shell: Shell, work: Path) -> None:
    (work / "some-unique-dir").mkdir()
    t = shell()
    t.send("ech\t")
    time.sleep(0.5)  # completion runs in the background
    t.send(" x$((1+1))\r")
    t.expect_exact("x2")
    t.prompt()
    t.send("cd some-uni\t")
    time.sleep(0.5)
    t.send("\r")
    t.prompt()
    t.run('echo "at=$PWD"', f"at={work}/some-unique-dir")


def test_login_shell_sources_the_profile(shell: Shell) -> None:
    home = Path(os.environ["HOME"])
    (home / ".profile").write_text("export FROM_PROFILE=profile-$((1+1))\n")
    t = shell("-l")
    t.run('echo "$FROM_PROFILE"', "profile-2")
    t2 = shell()
    t2.run('echo "[${FROM_PROFILE-none}]"', "[none]")


def test_rc_file_is_sourced(shell: Shell) -> None:
    rc = Path(os.environ["XDG_CONFIG_HOME"]) / "guardsh" / "rc.bash"
    rc.parent.mkdir(parents=True)
    rc.write_text("alias rcalias='echo from-rc'\n")
    t = shell()
    t.run("rcalias $((4+4))", "from-rc 8")


def test_kube_context_change_is_announced(shell: Shell, tmp_path: Path) -> None:
    cfg = tmp_path / "kubeconfig"

    def write(ctx: str) -> None:
        cfg.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"current-context: {ctx}\n"
            "contexts:\n"
            "- name: dev-local\n  context: {cluster: c1, namespace: web}\n"
            "- name: prod-eu\n  context: {cluster: c2, namespace: payments}\n"
            "clusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:6443'}\n"
            "- name: c2\n  cluster: {server: 'https://k8s.prod.example'}\n"
        )

    write("dev-local")
    t = shell(KUBECONFIG=str(cfg))
    assert "k8s:dev-local/web" in t.text
    write("prod-eu")  # as if another tab ran `kubectl config use-context prod-eu`
    t.line("true")
    t.expect_exact(
        "kube context changed since your previous command: dev-local/web → prod-eu/payments"
    )
    t.expect(r"\[PROD\][^\n]*k8s:prod-eu/payments")


def test_exit_status_of_the_session(shell: Shell) -> None:
    t = shell()
    t.line("exit 5")
    while t._pump(0.1):
        pass
    t.child.close()
    assert t.child.exitstatus == 5
