"""unwrap: wrappers are peeled with their real option grammar."""

from __future__ import annotations

import pytest

from tests.factories import invocations


def progs(line: str, **kw: object) -> list[tuple[str, list[str]]]:
    return [(i.program, [w.value for w in i.args]) for i in invocations(line, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "program", "args"),
    [
        ("sudo -u postgres -E rm -rf /x", "rm", ["-rf", "/x"]),
        ("sudo --user=postgres rm /x", "rm", ["/x"]),
        ("sudo -u postgres -i rm /x", "rm", ["/x"]),
        ("env -i A=1 B=2 rm /x", "rm", ["/x"]),
        ("env -u HOME -C /srv rm x", "rm", ["x"]),
        ("timeout -s KILL 10 rm /x", "rm", ["/x"]),
        ("timeout --kill-after=5 30s rm /x", "rm", ["/x"]),
        ("nice -n 5 rm /x", "rm", ["/x"]),
        ("nice -5 rm /x", "rm", ["/x"]),
        ("ionice -c3 rm /x", "rm", ["/x"]),
        ("nohup rm /x", "rm", ["/x"]),
        ("time rm /x", "rm", ["/x"]),
        ("stdbuf -oL rm /x", "rm", ["/x"]),
        ("exec rm /x", "rm", ["/x"]),
        ("command rm /x", "rm", ["/x"]),
        ("builtin cd /x", "cd", ["/x"]),
        ("watch -n1 'rm /x'", "rm", ["/x"]),
        ("watch -n 1 rm /x", "rm", ["/x"]),
        ("bash -c 'rm /x'", "rm", ["/x"]),
        ("bash -lc 'rm /x'", "rm", ["/x"]),
        ("sh -c 'rm \"$1\"' sh /x", "rm", ["/x"]),
        ("sh -c 'rm $0' /x", "rm", ["/x"]),
        ("su - postgres -c 'rm /x'", "rm", ["/x"]),
        ("su -c 'rm /x' postgres", "rm", ["/x"]),
        ("eval 'rm /x'", "rm", ["/x"]),
        ("ssh -p 2222 -i key -o StrictHostKeyChecking=no prod-db-1 rm /x", "rm", ["/x"]),
        ("ssh prod-db-1 'sudo rm /x'", "rm", ["/x"]),
        ("kubectl exec -it api-0 -c app -- rm /x", "rm", ["/x"]),
        ("docker exec -u root db rm /x", "rm", ["/x"]),
        ("podman exec -it db rm /x", "rm", ["/x"]),
        ("echo /x | xargs rm", "rm", ["/x"]),
        ("printf '/a\\0/b' | xargs -0 rm", "rm", ["/a", "/b"]),
        ("chroot /mnt rm /x", "rm", ["/x"]),
        ("flock /tmp/l rm /x", "rm", ["/x"]),
        ("doas -u root rm /x", "rm", ["/x"]),
    ],
)
def test_wrapper_is_peeled(line: str, program: str, args: list[str]) -> None:
    found = progs(line)
    assert (program, args) in found, found


@pytest.mark.parametrize(
    "line",
    ["sudo -l", "command -v rm", "sudo -i", "su -", "bash", "ionice -p 123", "ssh prod-db-1"],
)
def test_nothing_runs_inside(line: str) -> None:
    assert [p for p, _ in progs(line)] == [line.split()[0]]


def test_sudo_records_the_user_and_via() -> None:
    inv = invocations("sudo -u postgres bash -c 'psql -c \"select 1\"'")[-1]
    assert inv.program == "psql"
    assert inv.user == "postgres"
    assert inv.via == ("sudo", "bash -c")


def test_ssh_target_and_remote_variables_stay_unknown() -> None:
    inv = invocations("ssh deploy@prod-db-1 'rm -rf $HOME/data'", variables={"HOME": "/home/op"})[
        -1
    ]
    assert inv.target.kind == "ssh"
    assert inv.target.get("ssh_host") == "prod-db-1"
    assert inv.target.get("ssh_user") == "deploy"
    assert not inv.args[-1].known  # the remote $HOME is not ours


def test_kubectl_exec_target_names_the_pod_and_keeps_kubectl() -> None:
    invs = invocations("kubectl --context prod-eu -n payments exec api-0 -- psql -c 'DROP TABLE t'")
    assert [i.program for i in invs] == ["kubectl", "psql"]
    t = invs[1].target
    assert (t.kind, t.get("kube_context"), t.get("kube_namespace"), t.get("kube_pod")) == (
        "kube",
        "prod-eu",
        "payments",
        "api-0",
    )


def test_find_exec_runs_the_command_and_keeps_find() -> None:
    invs = invocations("find /var/log -name '*.gz' -exec rm -f {} \\;")
    assert [i.program for i in invs] == ["find", "rm"]
    assert not invs[1].args[-1].known
    assert "/var/log" in invs[1].args[-1].value


def test_xargs_with_unknown_items_marks_them_unknown() -> None:
    inv = invocations("find . -name '*.tmp' | xargs rm -f")[-1]
    assert inv.program == "rm"
    assert not inv.args[-1].known


def test_xargs_replace_makes_one_invocation_per_item() -> None:
    invs = invocations("printf 'a\\nb\\n' | xargs -I{} rm -rf /srv/{}")
    assert [w.value for i in invs if i.program == "rm" for w in i.args] == [
        "-rf",
        "/srv/a",
        "-rf",
        "/srv/b",
    ]


def test_stdin_from_echo_cat_file_heredoc_and_redirect() -> None:
    files = {"/srv/q.sql": "TRUNCATE t;\n"}
    assert invocations("echo 'DROP TABLE t' | psql")[-1].stdin.text == "DROP TABLE t\n"
    assert invocations("cat q.sql | psql", files=files)[-1].stdin.text == "TRUNCATE t;\n"
    assert invocations("psql < q.sql", files=files)[-1].stdin.text == "TRUNCATE t;\n"
    assert invocations("psql < missing.sql", files=files)[-1].stdin.text is None
    assert invocations("pg_dump db | psql")[-1].stdin.source == "pipe:pg_dump"
    assert invocations("cat <<EOF | sudo psql\nDROP x;\nEOF\n")[-1].stdin.text == "DROP x;\n"


def test_stdin_reaches_commands_through_wrappers() -> None:
    inv = invocations("echo FLUSHALL | sudo -u redis redis-cli")[-1]
    assert inv.program == "redis-cli" and inv.stdin.text == "FLUSHALL\n"
    inv = invocations("ssh prod psql < q.sql", files={"/srv/q.sql": "DROP TABLE t;"})[-1]
    assert inv.program == "psql" and inv.stdin.text == "DROP TABLE t;"


def test_piped_script_into_a_shell_is_analyzed() -> None:
    assert ("rm", ["-rf", "/x"]) in progs("echo 'rm -rf /x' | bash")


def test_cd_is_followed_for_relative_files() -> None:
    invs = invocations("cd /opt/app && psql -f drop.sql")
    assert invs[-1].cwd == "/opt/app"
    invs = invocations("cd sub; cd ..; ls")
    assert invs[-1].cwd == "/srv"


def test_source_reads_the_file_through_facts() -> None:
    found = progs(". ./ops.sh", files={"/srv/ops.sh": "kubectl delete ns x\n"})
    assert found == [("kubectl", ["delete", "ns", "x"])]


def test_functions_get_positional_arguments_and_recursion_stops() -> None:
    assert ("rm", ["-rf", "/a"]) in progs('f() { rm -rf "$1"; }; f /a')
    assert progs("f() { f; }; f") == []


def test_session_functions_come_from_the_snapshot() -> None:
    found = progs("cleanup /srv", functions={"cleanup": 'rm -rf "$1"/tmp'})
    assert found == [("rm", ["-rf", "/srv/tmp"])]


def test_nested_text_evidence_points_into_the_quoted_string() -> None:
    line = "sudo bash -c 'rm -rf /var/lib/x'"
    inv = invocations(line)[-1]
    assert line[inv.span.start : inv.span.end] == "rm -rf /var/lib/x"


def test_docker_exec_keeps_the_host_it_runs_on() -> None:
    inv = invocations("ssh prod-1 docker exec db reboot")[-1]
    assert inv.program == "reboot"
    assert (inv.target.kind, inv.target.get("container"), inv.target.get("ssh_host")) == (
        "container",
        "db",
        "prod-1",
    )
    local = invocations("docker --context prod exec db reboot")[-1]
    assert local.target.get("docker_context") == "prod"
    assert local.target.get("hostname") == "host-1"


def test_namespace_runners_are_peeled() -> None:
    assert progs("ip netns exec blue rm -rf /x")[-1] == ("rm", ["-rf", "/x"])
    assert progs("nsenter -t 1 -m -u rm /x")[-1] == ("rm", ["/x"])
    assert progs("ip netns list") == [("ip", ["netns", "list"])]


def test_multi_call_binaries_run_their_applet() -> None:
    assert progs("busybox rm -rf /x") == [("rm", ["-rf", "/x"])]
    assert progs("toybox rm /x") == [("rm", ["/x"])]
    assert progs("busybox sh -c 'rm /x'") == [("rm", ["/x"])]


@pytest.mark.parametrize(
    "line",
    [
        "sudo -iu postgres psql -c 'DROP DATABASE app'",
        "sudo -i -u postgres psql -c 'DROP DATABASE app'",
        "sudo -u postgres -i psql -c 'DROP DATABASE app'",
        "sudo --login --user=postgres psql -c 'DROP DATABASE app'",
        "sudo -su postgres psql -c 'DROP DATABASE app'",
    ],
)
def test_sudo_login_shell_keeps_the_words(line: str) -> None:
    """sudo -i/-s escapes each word for the login shell's `-c`: words stay words."""
    inv = invocations(line)[-1]
    assert (inv.program, [w.value for w in inv.args]) == ("psql", ["-c", "DROP DATABASE app"])
    assert inv.user == "postgres" and inv.via == ("sudo",)
    assert all(w.known for w in inv.args)


def test_sudo_login_shell_command_is_peeled_again() -> None:
    assert progs("sudo -i bash -c 'rm -rf /x'")[-1] == ("rm", ["-rf", "/x"])
    inv = invocations("sudo -i psql -c 'DELETE FROM t'")[-1]
    assert [w.value for w in inv.args] == ["-c", "DELETE FROM t"] and inv.user == "root"


def test_sudo_login_shell_expands_dollar_names_again() -> None:
    """Only `$NAME` survives sudo's escaping, and the target user's shell expands it."""
    inv = invocations("sudo -i psql -c 'DROP TABLE $T'", variables={"T": "mine"})[-1]
    assert inv.args[-1].value == "DROP TABLE $T" and not inv.args[-1].known
    plain = invocations("sudo psql -c 'DROP TABLE $T'")[-1]  # no shell in between
    assert plain.args[-1].known
    escaped = invocations("sudo -s psql -c 'SELECT ${x} $(y) $'")[-1]  # `$\{`, `$\(`: literal
    assert escaped.args[-1].known


def test_sudo_without_a_command_runs_nothing_inside() -> None:
    for line in ("sudo -i", "sudo -s", "sudo -u postgres -i", "sudo PGHOST=x -i", "sudo -l"):
        assert [p for p, _ in progs(line)] == ["sudo"], line


@pytest.mark.parametrize(
    "line",
    [
        "sudo PGHOST=prod-pg -u postgres psql",
        "sudo -u postgres PGHOST=prod-pg psql",
        "sudo -E PGHOST=prod-pg -u postgres -- psql",
        "sudo PGHOST=prod-pg -i -u postgres psql",
    ],
)
def test_sudo_reads_assignments_among_its_options(line: str) -> None:
    inv = invocations(line)[-1]
    assert (inv.program, inv.user, inv.env) == ("psql", "postgres", (("PGHOST", "prod-pg"),))


def test_sudo_options_end_at_double_dash() -> None:
    """After `--` a NAME=VALUE word is the command sudo looks for, not an assignment."""
    assert progs("sudo -- A=b rm -rf /x") == [("A=b", ["rm", "-rf", "/x"])]
    assert progs("sudo /opt/a=b/run x")[-1] == ("run", ["x"])  # a path, not an assignment


def test_env_and_doas_forms_keep_their_environment() -> None:
    inv = invocations("env -i PGHOST=prod-pg psql")[-1]
    assert (inv.program, inv.env) == ("psql", (("PGHOST", "prod-pg"),))
    inv = invocations("sudo --preserve-env=PGHOST -u postgres psql")[-1]
    assert (inv.program, inv.user) == ("psql", "postgres")
    inv = invocations("doas -u postgres psql")[-1]
    assert (inv.program, inv.user) == ("psql", "postgres")


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        ("export PGHOST=prod-pg; psql -c 'DROP TABLE y'", "PGHOST", "prod-pg"),
        ("export MYSQL_HOST=m1; sudo mysql -e 'DROP TABLE t'", "MYSQL_HOST", "m1"),
        (
            "export KUBECONFIG=/etc/kube/prod.conf; kubectl delete ns x",
            "KUBECONFIG",
            "/etc/kube/prod.conf",
        ),
        ("export AWS_PROFILE=prod && aws s3 rb s3://x", "AWS_PROFILE", "prod"),
        ("export PGHOST=a; bash -c 'psql'", "PGHOST", "a"),
        ("export PGHOST=a; PGHOST=b psql", "PGHOST", "b"),  # the command's own prefix wins
        ("export PGHOST=a; env PGHOST=b psql", "PGHOST", "b"),
        ("export PGHOST=a; bash -c 'export PGHOST=b; psql'", "PGHOST", "b"),
        ("export PGHOST=a; unset PGHOST; psql", "PGHOST", ""),
    ],
)
def test_exported_variables_reach_later_invocations(line: str, name: str, value: str) -> None:
    assert invocations(line)[-1].env_get(name) == value


def test_a_session_variable_set_again_reaches_later_invocations() -> None:
    inv = invocations("PGHOST=prod-pg; psql", variables={"PGHOST": "dev-db"})[-1]
    assert inv.env_get("PGHOST") == "prod-pg"
    assert invocations("PGHOST=prod-pg; psql")[-1].env_get("PGHOST") is None  # not exported


@pytest.mark.parametrize(
    "line",
    [
        "ssh h 'psql < q.sql'",
        "ssh h 'cat q.sql | psql'",
        "kubectl exec -i pg-0 -- sh -c 'psql < q.sql'",
        "docker exec -i db sh -c 'cat q.sql | psql'",
    ],
)
def test_remote_shells_read_no_local_files(line: str) -> None:
    """The file a remote shell redirects or cats is that machine's, not ours."""
    inv = invocations(line, files={"/srv/q.sql": "DROP TABLE t;"})[-1]
    assert inv.program == "psql" and inv.stdin is not None
    assert inv.stdin.text is None


def test_pod_and_container_scripts_are_not_read_here() -> None:
    files = {"/srv/x.sh": "rm -rf /x\n"}
    assert [p for p, _ in progs("kubectl exec pg-0 -- bash x.sh", files=files)] == [
        "kubectl",
        "bash",
    ]
    assert [p for p, _ in progs("docker exec db bash x.sh", files=files)] == ["docker", "bash"]
    assert progs("bash x.sh", files=files) == [("rm", ["-rf", "/x"])]


def test_pod_shells_expand_their_own_variables() -> None:
    inv = invocations("kubectl exec pg-0 -- sh -c 'rm -rf $HOME/x'", variables={"HOME": "/h"})[-1]
    assert inv.args[-1].value == "$HOME/x" and not inv.args[-1].known


@pytest.mark.parametrize(
    "line",
    [
        "export PGHOST=a; ssh h psql",
        "PGHOST=a ssh h psql",
        "sudo PGHOST=a ssh h psql",
        "PGHOST=a kubectl exec pg-0 -- psql",
        "env PGHOST=a docker exec db psql",
    ],
)
def test_remote_commands_get_no_environment_from_here(line: str) -> None:
    """ssh, kubectl exec and docker exec pass none of this shell's environment."""
    inv = invocations(line)[-1]
    assert inv.program == "psql" and inv.env_get("PGHOST") is None


def test_a_remote_commands_own_assignments_count() -> None:
    assert invocations("ssh h PGHOST=b psql")[-1].env_get("PGHOST") == "b"
    assert invocations("ssh h 'export PGHOST=b; psql'")[-1].env_get("PGHOST") == "b"
