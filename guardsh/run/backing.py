"""The persistent backing bash that runs every interactive command.

One bash child per session, started `--noprofile --norc` (a login session
sources the profiles itself), with the user's terminal as its stdin, stdout
and stderr. It reads its *script* from a pipe (fd 3 at start, then bash's own
close-on-exec fd 255): guardsh writes one line per command, and bash parses
and runs it at top level, so `declare`, `local` errors, `break` and `return`
behave as at a bash prompt. After each command the driver writes the exit
status and the shell's state (cwd, variables with their export flag, aliases,
function bodies, jobs, `$-`) to fd 4 as NUL-separated records; that state is
the snapshot the next analysis sees.

Each command runs as `while :; do ...; eval '<line>' 4>&-; ...; break; done`:
the status pipe is closed for the command (bash's saved copy is
close-on-exec, so no child inherits it), and `trap ... INT QUIT` ends with
`break 9999`, so Ctrl-C aborts the rest of the line and every loop in it,
the way an interactive bash discards the line, while bash itself lives. A
handled trap (not an ignored signal) gives children default signal handling.
`$?`, `$_` and `${PIPESTATUS[@]}` are carried from one command to the next.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from guardsh.run.signals import CHILD_DEFAULT

BASH = "/bin/bash"
_PREFIXES = " ".join(f"${{!{c}*}}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
TRAP = (
    "trap -- '[[ -n $__guardsh_run ]] && { __guardsh_st=130; break 9999; }' INT; "
    "trap -- '[[ -n $__guardsh_run ]] && { __guardsh_st=131; break 9999; }' QUIT"
)

# The driver: defines the report, closes fd 3 (bash reads the script on its
# own fd), sets the traps, loads profiles/rc, and reports the first state.
DRIVER = r"""exec 3<&-
__guardsh_ret() { return "$1"; }
# After a pipeline, a pipeline with the same statuses that the next line's
# eval runs first, so that line sees ${PIPESTATUS[@]} as bash would show it
# (a negated pipeline keeps its `!`; `&& :` keeps errexit quiet).
__guardsh_pipe() {
  local -a __guardsh_p=("${__guardsh_ps[@]}")
  local __guardsh_s __guardsh_nat=0 __guardsh_t
  __guardsh_restore=
  (( ${#__guardsh_p[@]} > 1 )) || return 0
  if (( __guardsh_pf )); then
    for __guardsh_s in "${__guardsh_p[@]}"; do (( __guardsh_s )) && __guardsh_nat=$__guardsh_s; done
  else
    __guardsh_nat=${__guardsh_p[${#__guardsh_p[@]}-1]}
  fi
  __guardsh_t="__guardsh_ret ${__guardsh_p[0]}"
  for __guardsh_s in "${__guardsh_p[@]:1}"; do __guardsh_t+=" | __guardsh_ret $__guardsh_s"; done
  if (( __guardsh_nat != $1 )); then
    (( (__guardsh_nat == 0) == ($1 == 1) )) || return 0
    __guardsh_t="! $__guardsh_t"
  fi
  (( $1 )) && __guardsh_t+=" && :"
  __guardsh_restore=": \"\$__guardsh_lu\"; $__guardsh_t"$'\n'
}
__guardsh_report() {
  local __guardsh_f=$- __guardsh_n __guardsh_pf=0
  [[ -o pipefail ]] && __guardsh_pf=1
  local -
  set +eux +o pipefail
  __guardsh_ls=$1 __guardsh_lu=$2
  __guardsh_pipe "$1"
  {
    printf 'S%s\0P%s\0O%s\0' "$1" "$PWD" "$__guardsh_f"
    for __guardsh_n in @PREFIXES@; do
      case $__guardsh_n in __guardsh_*) continue ;; esac
      if [[ ${!__guardsh_n@a} == *x* ]]; then
        printf 'X%s=%s\0' "$__guardsh_n" "${!__guardsh_n}"
      else
        printf 'V%s=%s\0' "$__guardsh_n" "${!__guardsh_n}"
      fi
    done
    for __guardsh_n in "${!BASH_ALIASES[@]}"; do
      printf 'A%s=%s\0' "$__guardsh_n" "${BASH_ALIASES[$__guardsh_n]}"
    done
    printf 'J'; jobs -l; printf '\0F'; declare -f; printf '\0E\0'
  } >&4
  @TRAP@
  return "$1"
}
@TRAP@
@MODE@
shopt -s expand_aliases
BASH_ARGV0=@ARGV0@
__guardsh_ls=0 __guardsh_lu= __guardsh_u= __guardsh_st= __guardsh_e= __guardsh_run=
__guardsh_ps=() __guardsh_restore=
@SETUP@
__guardsh_report 0 ""
""".replace("@PREFIXES@", _PREFIXES)

# An interactive bash (`-i`, only on a terminal) behaves as at a bash prompt
# where a script would not: an expansion error (`${x:?}`, `set -u`) abandons
# the line instead of exiting the shell, Ctrl-C abandons the line (in `read`
# too), and job control is on: each job gets its own process group and the
# terminal, Ctrl-Z stops it, bash announces it, `fg`/`bg`/`jobs` work. bash
# takes the terminal for its own process group; the front end takes it back
# to draw the prompt and hands it over before each command (run/tty.py).
# No history of its own: guardsh keeps the history.
INTERACTIVE = "set +o history; unset HISTFILE"

LOGIN_PROFILES = r"""if [ -r /etc/profile ]; then . /etc/profile; fi
for __guardsh_f in ~/.bash_profile ~/.bash_login ~/.profile; do
  if [ -r "$__guardsh_f" ]; then . "$__guardsh_f"; break; fi
done
unset __guardsh_f
"""


def quote(text: str) -> str:
    """Single-quote text for bash; every byte but `'` stands for itself."""
    return "'" + text.replace("'", "'\\''") + "'"


def command_line(line: str) -> str:
    """The driver line that runs `line` at top level and reports afterwards."""
    # The status and `$_` are taken inside the eval, after the line's last
    # command; a syntax error (the eval stops early) falls back to eval's status.
    # `${PIPESTATUS[*]}` is taken there too; a pipeline's statuses come back
    # through `__guardsh_restore`, run first inside the next eval.
    body = quote(line + '\n__guardsh_st=$? __guardsh_ps=("${PIPESTATUS[@]}") __guardsh_u=$_')
    return (
        "__guardsh_e= __guardsh_st= __guardsh_ps=(); while :; do __guardsh_run=1; "
        '__guardsh_ret $__guardsh_ls "$__guardsh_lu" && __guardsh_ret 0 "$__guardsh_lu"; '
        f'eval "$__guardsh_restore"{body} 4>&-; __guardsh_e=$?; break; done\n'
        "__guardsh_x=$?; __guardsh_run=; "
        '__guardsh_report ${__guardsh_st:-${__guardsh_e:-$__guardsh_x}} "$__guardsh_u"\n'
    )


@dataclass(frozen=True, slots=True)
class Job:
    """One background job as `jobs -l` lists it."""

    number: int
    pid: int
    state: str  # Running | Stopped | ...
    command: str


_JOB = re.compile(r"^\[(\d+)\][+\- ]?\s+(\d+)\s+(\S.*?)\s{2,}(.*)$")


def parse_jobs(text: str) -> tuple[Job, ...]:
    out = []
    for row in text.splitlines():
        m = _JOB.match(row)
        if m:
            out.append(Job(int(m.group(1)), int(m.group(2)), m.group(3), m.group(4).strip()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class State:
    """The backing shell after a command: the next snapshot's raw material."""

    status: int
    cwd: str
    variables: Mapping[str, str] = field(default_factory=dict)
    exported: frozenset[str] = frozenset()
    aliases: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()
    flags: str = ""

    def environ(self) -> dict[str, str]:
        """The exported variables: what a child of the shell would see."""
        return {k: v for k, v in self.variables.items() if k in self.exported}


_FUNC_HEAD = re.compile(r"^(\S+) \(\) \n", re.MULTILINE)
_FUNC_EXPORT = re.compile(r"^declare -f\w* \S+\n?", re.MULTILINE)


def parse_functions(text: str) -> dict[str, str]:
    """`declare -f` output -> {name: body} (the body as bash prints it, e.g.
    `{ ...; }`, without the `name () ` header: what a call runs, which is
    what the analysis needs); guardsh's own are left out."""
    text = _FUNC_EXPORT.sub("", text)
    heads = list(_FUNC_HEAD.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        name = m.group(1)
        if not name.startswith("__guardsh_"):
            out[name] = text[m.end() : end].rstrip("\n")
    return out


def parse_report(records: Sequence[bytes]) -> State:
    """Decode the NUL-separated records of one report (without the `E`)."""
    status, cwd, flags = 0, "/", ""
    variables: dict[str, str] = {}
    exported: set[str] = set()
    aliases: dict[str, str] = {}
    functions: dict[str, str] = {}
    jobs: tuple[Job, ...] = ()
    for raw in records:
        if not raw:
            continue
        kind, body = raw[:1], raw[1:].decode("utf-8", "surrogateescape")
        if kind in (b"V", b"X"):
            name, _, value = body.partition("=")
            variables[name] = value
            if kind == b"X":
                exported.add(name)
        elif kind == b"A":
            name, _, value = body.partition("=")
            aliases[name] = value
        elif kind == b"S":
            status = int(body or 0)
        elif kind == b"P":
            cwd = body
        elif kind == b"O":
            flags = body
        elif kind == b"J":
            jobs = parse_jobs(body)
        elif kind == b"F":
            functions = parse_functions(body)
    return State(status, cwd, variables, frozenset(exported), aliases, functions, jobs, flags)


class ShellExited(Exception):
    """The backing bash is gone (`exit`, `exec`, killed); `status` is its exit status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the backing shell exited with status {status}")
        self.status = status


def _high(fd: int) -> int:
    """A close-on-exec copy of fd numbered >= 10 (so dup2 to 3/4 never hits itself)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class BackingShell:
    """One bash child. `start()`, then `send(line)` + `wait()` per command."""

    def __init__(
        self,
        *,
        login: bool = False,
        env: Mapping[str, str] | None = None,
        rc: str | None = None,
        bash: str = BASH,
        setup: str = "",
        interactive: bool = False,
    ) -> None:
        self.login = login
        self.env = dict(os.environ if env is None else env)
        self.rc = rc
        self.bash = bash
        self.setup = setup
        self.interactive = interactive
        self.pid = -1
        self._cmd_w = -1
        self._st_r = -1
        self._buf = b""
        self.exit_status: int | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Spawn bash and hand it the driver; the first report is read by `wait()`."""
        cmd_r, cmd_w = os.pipe()
        st_r, st_w = os.pipe()
        cmd_r, st_w = _high(cmd_r), _high(st_w)
        argv = [os.path.basename(self.bash), "--noprofile", "--norc"]
        argv += ["-i", "/dev/fd/3"] if self.interactive else ["/dev/fd/3"]
        try:
            self.pid = os.posix_spawn(
                self.bash,
                argv,
                self.env,
                file_actions=[(os.POSIX_SPAWN_DUP2, cmd_r, 3), (os.POSIX_SPAWN_DUP2, st_w, 4)],
                setsigdef=CHILD_DEFAULT,
                setsigmask=(),
            )
        finally:
            os.close(cmd_r)
            os.close(st_w)
        self._cmd_w, self._st_r = cmd_w, st_r
        # Without the traps, a Ctrl-C'd job ends even an interactive bash
        # that reads its commands from a file.
        driver = DRIVER.replace("@TRAP@", TRAP).replace(
            "@MODE@", INTERACTIVE if self.interactive else ""
        )
        self._write(
            driver.replace("@SETUP@", self._setup()).replace(
                "@ARGV0@", "-bash" if self.login else "bash"
            )
        )

    def _setup(self) -> str:
        parts = [self.setup]
        if self.login:
            parts.append(LOGIN_PROFILES)
        if self.rc:
            parts.append(f"if [ -r {quote(self.rc)} ]; then . {quote(self.rc)}; fi")
        return "\n".join(p for p in parts if p)

    @property
    def pgid(self) -> int:
        """bash's process group (its own when interactive: job control)."""
        try:
            return os.getpgid(self.pid)
        except OSError:
            return os.getpgrp()

    @property
    def alive(self) -> bool:
        return self.exit_status is None and self.pid > 0

    def close(self, timeout: float = 1.0) -> int:
        """End the shell (EOF on its script, then SIGHUP/SIGKILL); its status."""
        if self.exit_status is not None:
            return self.exit_status
        for fd in (self._cmd_w, self._st_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._cmd_w = self._st_r = -1
        deadline = time.monotonic() + timeout
        for sig in (None, signal.SIGHUP, signal.SIGKILL):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, sig)
                deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                done, status = os.waitpid(self.pid, os.WNOHANG)
                if done:
                    self.exit_status = os.waitstatus_to_exitcode(status)
                    return self.exit_status
                time.sleep(0.005)
        return self.exit_status if self.exit_status is not None else -1

    # ------------------------------------------------------------ commands
    def send(self, line: str) -> None:
        """Start running `line` (already analyzed and approved)."""
        self._write(command_line(line))

    def set_status(self, status: int) -> State:
        """Make `$?` be `status` without running anything (a refused line)."""
        self._write(f'__guardsh_ps=(); __guardsh_report {int(status)} "$__guardsh_lu"\n')
        return self.wait()

    def run(self, line: str) -> State:
        self.send(line)
        return self.wait()

    def wait(self) -> State:
        """Block until the current command has finished; its report.

        Raises ShellExited when bash ended (the line ran `exit` or `exec`).
        """
        records: list[bytes] = []
        while True:
            nul = self._buf.find(b"\0")
            if nul == -1:
                chunk = self._read()
                if not chunk:
                    raise ShellExited(self._reap())
                self._buf += chunk
                continue
            rec, self._buf = self._buf[:nul], self._buf[nul + 1 :]
            if rec == b"E":
                return parse_report(records)
            records.append(rec)

    # ------------------------------------------------------------ internals
    def _write(self, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        try:
            while data:
                n = os.write(self._cmd_w, data)
                data = data[n:]
        except (BrokenPipeError, OSError):
            raise ShellExited(self._reap()) from None

    def _read(self) -> bytes:
        while True:
            try:
                return os.read(self._st_r, 1 << 16)
            except InterruptedError:
                continue
            except OSError:
                return b""

    def _reap(self) -> int:
        if self.exit_status is None:
            while True:
                try:
                    _, status = os.waitpid(self.pid, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    status = 0
                    break
            self.exit_status = os.waitstatus_to_exitcode(status)
            if self.exit_status < 0:
                self.exit_status = 128 - self.exit_status
            for fd in (self._cmd_w, self._st_r):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._cmd_w = self._st_r = -1
        return self.exit_status
