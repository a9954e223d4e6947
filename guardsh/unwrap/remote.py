"""Remote wrappers: the inner command runs on another host, pod or container.

`ssh HOST CMD` (the target becomes HOST, the command is shell text expanded
by the remote shell), `kubectl exec POD -- CMD` and `docker|podman exec C CMD`
(an argv run in the pod or container). All three are `remote`: a shell
inside expands with the other machine's variables, and the files a script,
`< F` or `cat F` names there are that machine's, never read here.
"""

from __future__ import annotations

from collections.abc import Callable

from guardsh.model import Facts, Snapshot, Target
from guardsh.parse.argv import parse_argv
from guardsh.unwrap import targets
from guardsh.unwrap.wrappers import Argv, Peel

RemotePeeler = Callable[[Argv, Snapshot, Facts], "list[Peel] | None"]
REMOTE: dict[str, RemotePeeler] = {}

_SSH_VALUE = "BbcDEeFIiJLlmOoPpQRSWw"


def ssh(argv: Argv, snapshot: Snapshot, facts: Facts) -> list[Peel] | None:
    p = parse_argv(argv[1:], short_value=_SSH_VALUE, stop_at_operand=True)
    if not p.rest or p.has("-N", "-G", "-V", "-O"):
        return None
    dest = p.rest[0].value
    user_word = p.value("-l")
    user = user_word.value if user_word else None
    if dest.startswith("ssh://"):
        dest = dest[6:].split("/", 1)[0]
    if "@" in dest:
        user, _, dest = dest.rpartition("@")
    if dest.count(":") == 1 and dest.rsplit(":", 1)[1].isdigit():
        dest = dest.rsplit(":", 1)[0]
    alias = facts.extra.get("ssh_hosts", {}).get(dest) if facts.extra else None
    target = targets.ssh(dest, user)
    if alias:
        target = target.with_fields(ssh_hostname=str(alias))
    command = p.rest[1:]
    if not command:
        return None  # an interactive login: no command to analyze here
    return [Peel(via=f"ssh {dest}", text=command, target=target, remote=True)]


def kubectl_exec(argv: Argv, snapshot: Snapshot, facts: Facts) -> list[Peel] | None:
    p = parse_argv(
        argv[1:],
        short_value="cnfvsp",
        long_value={
            "container",
            "namespace",
            "context",
            "kubeconfig",
            "cluster",
            "user",
            "filename",
            "pod-running-timeout",
            "server",
            "token",
            "as",
            "request-timeout",
        },
    )
    ops = [w.value for w in p.operands]
    if len(ops) < 2 or ops[0] != "exec":
        return None
    pod = p.operands[1].value
    dash = next((i for i, w in enumerate(argv) if w.value == "--" and w.known), None)
    inner = argv[dash + 1 :] if dash is not None else tuple(p.operands[2:])
    if not inner:
        return None
    ctx_word = p.value("--context")
    ns_word = p.value("-n", "--namespace")
    target = targets.kube(
        snapshot,
        facts,
        context=ctx_word.value if ctx_word else None,
        namespace=ns_word.value if ns_word else None,
        kube_pod=pod,
    )
    via = f"kubectl exec {pod}"
    return [Peel(via=via, argv=tuple(inner), target=target, keep_self=True, remote=True)]


def docker_exec(argv: Argv, snapshot: Snapshot, facts: Facts) -> list[Peel] | None:
    words = list(argv[1:])
    host = None
    # global options before the subcommand: -H/--host, --context, -c
    g = parse_argv(
        words,
        short_value="Hc",
        long_value={"host", "context", "config", "log-level"},
        stop_at_operand=True,
    )
    host_word = g.value("-H", "--host")
    host = host_word.value if host_word else None
    rest = list(g.rest)
    if rest[:2] and rest[0].value == "compose":
        rest = rest[1:]
    if not rest or rest[0].value != "exec":
        return None
    p = parse_argv(
        rest[1:],
        short_value="euw",
        long_value={"env", "env-file", "user", "workdir", "detach-keys", "index"},
        stop_at_operand=True,
    )
    if len(p.rest) < 2:
        return None
    container = p.rest[0].value
    fields = [("container", container)]
    context = g.value("--context") or g.value("-c")
    if context is not None:
        fields.append(("docker_context", context.value))
    if host:
        h = host.split("://", 1)[-1].split("@")[-1].split(":")[0]
        fields += [("hostname", h), ("docker_host", host)]
    target = Target("container", tuple(fields))
    via = f"{argv[0].value} exec {container}"
    inner = tuple(p.rest[1:])
    return [
        Peel(
            via=via,
            argv=inner,
            target=target,
            keep_self=True,
            inherit_target=not host,
            remote=True,
        )
    ]


REMOTE.update(
    {
        "ssh": ssh,
        "kubectl": kubectl_exec,
        "oc": kubectl_exec,
        "docker": docker_exec,
        "podman": docker_exec,
        "nerdctl": docker_exec,
        "docker-compose": docker_exec,
    }
)
