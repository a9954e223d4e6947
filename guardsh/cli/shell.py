"""Start the interactive guarded shell."""

from __future__ import annotations

import sys


def start(login: bool) -> int:
    sys.stderr.write(
        "guardsh: the interactive shell is not built yet.\n"
        "Try: guardsh check --as production -- 'kubectl delete ns payments'\n"
    )
    return 2
