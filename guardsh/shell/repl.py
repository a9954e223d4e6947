"""The interactive loop: prompt, analyze, confirm, run in the backing bash.

Each turn: the prompt is drawn from the backing shell's real state (so a
`source prod.env` turns it red at once); Enter on a complete line analyzes
it against that state; what the verdict asks is asked on a card; the line
runs in the backing bash while the front end ignores Ctrl-C; the state that
comes back is the next snapshot. A refused or declined line runs nothing and
sets `$?` to 126.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.input import Input
from prompt_toolkit.output import ColorDepth, Output

from guardsh.confirm.card import card
from guardsh.errors import UserError
from guardsh.facts import gather
from guardsh.model import Decision, Facts, Requirement, Snapshot
from guardsh.policy.schema import Policy
from guardsh.run import signals, tty
from guardsh.run.backing import BackingShell, Job, ShellExited, State
from guardsh.run.record import Recorder
from guardsh.shell import escape, keys, notify, prompt
from guardsh.shell.complete import ShellCompleter
from guardsh.shell.dryslot import dry_run
from guardsh.shell.history import open_history

REFUSED = 126
_CLIENTS = ("psql", "mysql", "mariadb", "sqlite3", "redis-cli", "mongosh")


def warm_up() -> None:
    """Load the analyzers and the bash grammar while the user reads the first prompt."""
    from guardsh import analyze
    from guardsh.parse.bash import parser

    analyze.load_all()
    parser()
    import guardsh.confirm.prompt
    import guardsh.pipeline  # noqa: F401


class Repl:
    def __init__(
        self,
        shell: BackingShell,
        policy: Callable[[], Policy],
        *,
        recorder: Recorder | None = None,
        inp: Input | None = None,
        out: Output | None = None,
        tty: bool = True,
    ) -> None:
        self.shell = shell
        self.policy_loader = policy
        self.policy = policy()
        self.recorder = recorder or Recorder(self.policy)
        self.inp = inp
        self.out = out
        self.tty = tty
        self.state: State = State(0, os.getcwd())
        # Where this terminal pointed after its previous command: a change
        # found before the next one runs was made by someone else.
        self.last_where: prompt.Where | None = None
        self._ran = False  # a command ran since `last_where` was taken
        self.nested = escape.guardsh_command()
        self._warned_stopped = False
        self._policy_said: tuple[str, ...] = ()
        self.session: PromptSession[str] = PromptSession(
            history=open_history(),
            completer=ShellCompleter(lambda: self.state),
            complete_while_typing=False,
            key_bindings=keys.bindings(),
            multiline=True,
            prompt_continuation=lambda width, line, wrap: "> ".rjust(width) if width > 2 else "> ",
            enable_suspend=False,
            input=inp,
            output=out,
        )

    # ------------------------------------------------------------ state
    def snapshot(self) -> Snapshot:
        st = self.state
        return gather.snapshot(
            variables=st.variables, aliases=st.aliases, functions=st.functions, cwd=st.cwd
        )

    def reload_policy(self) -> None:
        try:
            policy = self.policy_loader()
        except Exception as e:
            notify.show([f"policy not reloaded: {e}"])
            return
        if policy.sha256 != self.policy.sha256:
            self.policy = policy
            self.recorder.set_policy(policy)

    # ------------------------------------------------------------ loop
    def run(self) -> int:
        """The session; its exit status (the last command's, as bash does)."""
        try:
            self.state = self.shell.wait()
        except ShellExited as e:
            return e.status
        warm = threading.Timer(0.05, warm_up)
        warm.daemon = True
        warm.start()
        try:
            return self._loop()
        except ShellExited as e:
            return e.status
        except signals.HangUp:
            self._hang_up_jobs(running=True)  # the terminal is gone: as bash does on SIGHUP
            raise
        finally:
            self._hang_up_jobs(running=False)
            self.shell.close()
            self.recorder.close()
            if self.tty:
                tty.take()

    def _loop(self) -> int:
        while True:
            line = self.read()
            if line is None:
                if self._stopped_warning():
                    continue
                if self.tty:
                    sys.stdout.write("exit\n")
                return self.state.status
            if not line.strip():
                self._refresh_jobs()
                continue
            try:
                self.execute(line)
            except ShellExited:
                raise
            except Exception as e:
                sys.stderr.write(f"guardsh: internal error: {e!r}\n")

    def _stopped_warning(self) -> bool:
        """bash's "There are stopped jobs.": the first Ctrl-D only warns."""
        stopped = [j for j in self.state.jobs if j.state.startswith("Stopped")]
        if stopped and not self._warned_stopped:
            self._warned_stopped = True
            notify.show(
                [
                    f"there are stopped jobs ({', '.join(j.command for j in stopped)}); "
                    "Ctrl-D again to exit and end them"
                ],
                color=False,
            )
            return True
        return False

    def _hang_up_jobs(self, *, running: bool) -> None:
        """Stopped jobs would stay stopped forever: hang them up and continue
        them. When the terminal hung up, the running ones too (bash's
        hangup_all_jobs; a `disown`ed job is not in the list, as in bash).
        Each job is a process group of its own, led by the pid `jobs` lists."""
        for j in self.state.jobs:
            stopped = j.state.startswith("Stopped")
            if stopped or (running and j.state.startswith("Running")):
                for sig in (signal.SIGHUP, signal.SIGCONT) if stopped else (signal.SIGHUP,):
                    with contextlib.suppress(OSError):
                        os.killpg(j.pid, sig)

    def read(self) -> str | None:
        """One complete line from the user; None at Ctrl-D."""
        self.reload_policy()
        snap = self.snapshot()
        try:
            where = prompt.where(snap, gather.facts(snap), self.policy)
        except Exception as e:  # a broken kubeconfig or policy must not cost the prompt
            notify.show([f"could not work out where this shell points: {e!r}"])
            where = prompt.unknown(snap, self.policy)
        color = not prompt.no_color(snap)
        # After a command of this terminal, its own `export DATABASE_URL=…` or
        # `kubectl config use-context` is no news: the prompt shows it.
        changed = [] if self._ran else prompt.changes(self.last_where, where)
        self.last_where, self._ran = where, False
        notify.show(self._policy_notices() + changed, color=color)
        if self.tty:
            tty.take()
            self._prepare_terminal(where, color)
        text = self.session.prompt(
            FormattedText(prompt.fragments(where, color=color, status=self.state.status)),
            color_depth=ColorDepth.MONOCHROME if not color else None,
        )
        if text == "\x04":
            return None
        if text == "\x03":
            before = self.state.jobs
            self.state = self._set_status(130)
            self._job_news(before, "")
            return ""
        return text

    def _policy_notices(self) -> list[str]:
        """The policy's warnings (a skipped user layer, an ignored override):
        above the first prompt, and again only when they change."""
        said = self.policy.warnings
        if said == self._policy_said:
            return []
        self._policy_said = said
        return [f"policy: {w.splitlines()[0]}" for w in said]

    def _prepare_terminal(self, where: prompt.Where, color: bool) -> None:
        """Title, and a fresh line when the last output did not end with one (zsh's PROMPT_SP)."""
        try:
            cols = os.get_terminal_size(sys.stdout.fileno()).columns
        except OSError:
            return
        mark = "\x1b[7m%\x1b[0m" if color else "%"
        title = (
            f"\x1b]0;{prompt.title(where)}\x07" if os.environ.get("TERM", "dumb") != "dumb" else ""
        )
        sys.stdout.write(f"{title}{mark}{' ' * (cols - 1)}\r\x1b[K")
        sys.stdout.flush()

    # ------------------------------------------------------------ one line
    def decide(self, line: str, snap: Snapshot, facts: Facts) -> Decision:
        from guardsh.pipeline import check

        return check(line, snap, self.policy, dt.datetime.now(dt.UTC), facts)

    def _changed_meanwhile(self, snap: Snapshot, facts: Facts) -> prompt.Where | None:
        """Say what another terminal switched (the kube context) since this
        one's previous command, before the line runs and before its card:
        that is the moment it matters. Where the session points now."""
        try:
            where = prompt.where(snap, facts, self.policy)
        except Exception:  # read() has said so above the prompt
            return None
        notify.show(prompt.changes(self.last_where, where), color=not prompt.no_color(snap))
        self.last_where = where
        return where

    def execute(self, line: str) -> None:
        before_jobs = self.state.jobs
        snap = self.snapshot()
        facts = gather.facts(snap)
        where = self._changed_meanwhile(snap, facts)
        try:
            decision = self.decide(line, snap, facts)
        except UserError as e:
            sys.stderr.write(f"guardsh: {e.show()}\n")
            self.state = self._set_status(2)
            return
        decision = self._nest(decision, snap, facts)
        v = decision.verdict
        reason: str | None = None
        phase = "approved"
        audit_dry_run = None
        if v.requirement == Requirement.DENY or v.needs_user:
            outcome, audit_dry_run = self.confirm(decision, snap, facts, where)
            if not outcome.run:
                if outcome.phase == "denied":
                    self.recorder.denied(decision, reason=outcome.why, cwd=snap.cwd)
                else:
                    self.recorder.declined(decision, reason=outcome.why, cwd=snap.cwd)
                sys.stderr.write(f"guardsh: not run ({outcome.why}); $? = {REFUSED}\n")
                self.state = self._set_status(REFUSED)
                return
            reason, phase = outcome.reason, outcome.phase
        elif v.requirement == Requirement.WARN:
            what = "; ".join(f.detail or f"{f.action} {f.object or ''}" for f in decision.findings)
            notify.show([f"warning ({', '.join(v.rules) or 'policy'}): {what}"])
        if phase == "breakglass":
            token = self.recorder.breakglass(decision, reason=reason, cwd=snap.cwd)
        else:
            token = self.recorder.intent(
                decision, reason=reason, cwd=snap.cwd, dry_run=audit_dry_run
            )
        if self.recorder.blocks:
            self.recorder.denied(decision, reason="audit trail unavailable", cwd=snap.cwd)
            sys.stderr.write(
                "guardsh: refused: the audit trail cannot be written and the policy "
                f"requires it; $? = {REFUSED}\n"
            )
            self.state = self._set_status(REFUSED)
            return
        self._warned_stopped = False
        self._ran = True
        t0 = time.monotonic()
        client = self._client(decision, snap, facts)
        if client is not None:
            status = client()
            self.recorder.result(token, status, int((time.monotonic() - t0) * 1000))
            self.state = self._set_status(status)
            return
        try:
            with signals.command_running():
                if self.tty:
                    tty.hand_to(self.shell.pgid)
                self.shell.send(decision.line)
                self.state = self.shell.wait()
        except ShellExited as e:
            self.recorder.result(token, e.status, int((time.monotonic() - t0) * 1000))
            raise
        self.recorder.result(token, self.state.status, int((time.monotonic() - t0) * 1000))
        if self.tty and self.state.status in (130, 131, 148):
            sys.stdout.write("\n")  # after the terminal's `^C` / `^Z`, as bash does
        self._job_news(before_jobs, decision.line)

    def _job_news(self, before: tuple[Job, ...], line: str) -> None:
        """What happened to the jobs during the last line (or since the last prompt)."""
        st = self.state
        notify.show(
            notify.finished_jobs(before, st.jobs, st.status)
            + notify.stopped_jobs(before, st.jobs, st.status, line),
            color=False,
        )

    def _refresh_jobs(self) -> None:
        """Enter on an empty line runs nothing, but a background job that has
        finished is said before the next prompt, as bash does: the backing
        bash reports again (keeping `$?`, `$_` and `${PIPESTATUS[@]}`)."""
        before = self.state.jobs
        if not any(j.state.startswith("Running") for j in before):
            return
        self.state = self.shell.run("")
        self._job_news(before, "")

    def _client(self, decision: Decision, snap: Snapshot, facts: Facts) -> Callable[[], int] | None:
        """An interactive psql/mysql/sqlite3/redis-cli/mongosh against a protected
        target runs under the statement-guarding proxy (guardsh/clients), in the
        front end, instead of in bash; None for everything else."""
        if not self.tty or not any(name in decision.line for name in _CLIENTS):
            return None
        try:
            from guardsh.clients import launch

            plan = launch.plan(decision.line, snap, facts)
            if plan is None or not launch.should_proxy(
                plan.invocation, decision, self.policy, snapshot=snap, facts=facts
            ):
                return None
        except Exception as e:  # the normal path still guards the line itself
            notify.show([f"interactive client not guarded ({e!r}); running it as typed"])
            return None
        env = {**self.state.environ(), **plan.env}

        def run() -> int:
            return launch.run_client(
                plan.argv, snap, self.policy, facts, self.recorder, env=env, cwd=snap.cwd
            )

        return run

    def _nest(self, decision: Decision, snap: Snapshot, facts: Facts) -> Decision:
        """`bash`, `sudo -i`, `su -` in a protected environment: a nested guardsh."""
        if not any(f.action == "shell.escape" for f in decision.findings):
            return decision
        if not self.policy.protected(decision.environment):
            return decision
        guardsh, shared = self.nested
        line = escape.nested(decision.line, guardsh, shared)
        if line is None:
            return decision
        notify.show(
            [f"starting a nested guardsh in {decision.environment} (`{decision.line.strip()}`)"],
            color=False,
        )
        return self.decide(line, snap, facts)

    def confirm(
        self, decision: Decision, snap: Snapshot, facts: Facts, where: prompt.Where | None = None
    ) -> tuple[Any, Any]:
        """The card and its questions; (outcome, the dry run for the audit)."""
        from guardsh.confirm.prompt import ask

        where = where or prompt.where(snap, facts, self.policy)
        env = self.policy.environment(decision.environment)
        color = not prompt.no_color(snap)
        try:
            width = os.get_terminal_size(sys.stdout.fileno()).columns
        except OSError:
            width = 80
        lines, audit = dry_run(decision, snap, self.policy, facts)
        fragments = card(
            decision,
            target=where.target_label,
            env_color=env.color if env else None,
            rule_messages={r.id: r.message for r in self.policy.rules},
            dry_run=lines,
            color=color,
            width=min(width, 100),
        )
        outcome = ask(
            decision, fragments, inp=self.session.input, out=self.session.output, color=color
        )
        return outcome, audit

    def _set_status(self, status: int) -> State:
        """`$?` without running anything (a refusal, Ctrl-C at the prompt)."""
        return self.shell.set_status(status)
