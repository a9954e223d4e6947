"""Build the Snapshot and Facts that the pure core is handed.

The adapters here do the I/O (files, kubeconfig, processes) lazily: a fact is
read only when an analyzer asks for it, and cached by file identity.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from guardsh.facts import files, host, sshconfig
from guardsh.facts.kubeconfig import load_from_environ, loader
from guardsh.model import Facts, ProcInfo, Snapshot


def snapshot(
    *,
    variables: Mapping[str, str] | None = None,
    aliases: Mapping[str, str] | None = None,
    functions: Mapping[str, str] | None = None,
    cwd: str | None = None,
    hostname: str | None = None,
    as_env: str | None = None,
    kube_context: str | None = None,
    hosts: str = host.HOSTS,
    nodename: str | None = None,
) -> Snapshot:
    """`hostname` given (`check --hostname`) is taken as it is; otherwise it
    is this host's node name, or its FQDN from `hosts` (see host.hostname)."""
    variables = dict(os.environ if variables is None else variables)
    return Snapshot(
        variables=variables,
        aliases=dict(aliases or {}),
        functions=dict(functions or {}),
        cwd=cwd or os.getcwd(),
        hostname=hostname or host.hostname(hosts, nodename),
        user=host.real_user(variables),
        home=variables.get("HOME") or host.home(),
        as_env=as_env,
        kube_context=kube_context,
    )


def facts(snap: Snapshot) -> Facts:
    """Facts for a snapshot: files and directories under its cwd, its
    kubeconfig, processes."""
    kube = load_from_environ(snap.variables, snap.home)
    extra: dict[str, object] = {}
    extra.update(
        kube_errors=kube.errors,
        kubeconfig=loader(snap.cwd),
        # `kubectl -f DIR`: a directory's entries, relative to the snapshot's cwd
        list_dir=files.lister(snap.cwd),
        # ssh alias -> HostName; ~/.ssh/config is read only when ssh is analyzed
        ssh_hosts=sshconfig.for_home(snap.home),
        # `$(pgrep X)`, `$(cat pidfile)`: evaluated only for these read-only forms
        resolve_pids=_pid_resolver(snap.cwd, extra),
    )
    return Facts(
        read_file=files.reader(snap.cwd),
        proc=_proc_reader(extra),
        kube=kube.contexts,
        kube_current=kube.current,
        extra=extra,
    )


def _proc_reader(extra: dict[str, object]) -> Callable[[int], ProcInfo | None]:
    """Process facts are read lazily: psutil is imported only when a kill is
    analyzed. `processes_read` tells the analysis server that the answer
    depended on who asked (guardsh itself and its ancestors are "your shell")."""

    def read(pid: int) -> ProcInfo | None:
        from guardsh.facts import procs

        extra["processes_read"] = True
        return procs.info(pid)

    return read


def _pid_resolver(cwd: str, extra: dict[str, object]) -> Callable[[str], list[int] | None]:
    def resolve(expr: str) -> list[int] | None:
        from guardsh.facts import pids

        extra["processes_read"] = True
        return pids.resolve_pids(expr, cwd)

    return resolve
