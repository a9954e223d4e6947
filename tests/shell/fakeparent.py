"""Run a command as the child of a process named NAME (its /proc/PID/comm),
the way sshd, login or `su -` start a login shell:

    python tests/shell/fakeparent.py sshd /bin/bash -c 'exec -a -guardsh guardsh'
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_NAME = 15


def main() -> int:
    name, argv = sys.argv[1], sys.argv[2:]
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, name.encode(), 0, 0, 0)
    pid = os.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)  # the terminal's keys are for the child
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) % 256


if __name__ == "__main__":
    sys.exit(main())
