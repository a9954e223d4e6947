"""`python -m guardsh.clients [--as ENV] [--] CLIENT ARGS...`: one client under guard.

What the interactive shell does in process, as a command: the policy, the
snapshot (this process's environment and cwd), the facts and the audit trail
are set up as a shell session would, then the client runs under the proxy.
Exit status: the client's; 126 when it cannot be guarded.
"""

from __future__ import annotations

import os
import sys


def main(args: list[str]) -> int:
    as_env = None
    while args and args[0].startswith("-"):
        if args[0] == "--":
            args = args[1:]
            break
        if args[0] == "--as" and len(args) > 1:
            as_env, args = args[1], args[2:]
        elif args[0].startswith("--as="):
            as_env, args = args[0].split("=", 1)[1], args[1:]
        else:
            sys.stderr.write(f"guardsh.clients: unknown option {args[0]}\n")
            return 2
    if not args:
        sys.stderr.write("usage: python -m guardsh.clients [--as ENV] [--] CLIENT [ARGS...]\n")
        return 2
    from guardsh.cli.shell import load_policy
    from guardsh.clients.launch import run_client
    from guardsh.facts import gather
    from guardsh.run.record import Recorder
    from guardsh.run.signals import session

    session()
    policy = load_policy()
    snapshot = gather.snapshot(as_env=as_env)
    facts = gather.facts(snapshot)
    recorder = Recorder(policy)
    try:
        return run_client(args, snapshot, policy, facts, recorder, env=dict(os.environ))
    finally:
        recorder.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
