"""One guarded client session: what each submitted statement requires (pure).

The Guard keeps what the client has been told that changes how the next
statement must be read: database switches (`\\c other`, `use other`,
`SELECT 2`), the SQL left in the client's query buffer, and mysql's
delimiter. `judge()` turns a statement into a Decision through the same
pipeline as a shell line (`pipeline.check`), against the client's real
target; the Decision's line is the statement as typed, so the card and the
audit trail show what the user typed and where it went.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from guardsh.clients import passwords, targets
from guardsh.clients.kinds import Kind
from guardsh.clients.statements import Grammar
from guardsh.model import (
    Decision,
    Facts,
    Finding,
    Requirement,
    Severity,
    Snapshot,
    Span,
    Target,
    Verdict,
)
from guardsh.policy.schema import Policy

COULD_NOT = "guardsh could not analyze this statement"
MAX_PIECES = 12  # statements in one submission marked one by one; more: all of it
_VARIABLE = re.compile(r""":(?:'[A-Za-z0-9_]+'|"[A-Za-z0-9_]+"|[A-Za-z_][A-Za-z0-9_]*)""")
Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Place:
    """Where the client is: its target, environment and the badge's color."""

    target: Target | None
    label: str  # "db:prod-db.internal/app"
    environment: str
    color: str | None
    protected: bool


class Guard:
    def __init__(
        self,
        kind: Kind,
        argv: Sequence[str],
        snapshot: Snapshot,
        policy: Policy,
        facts: Facts,
        *,
        clock: Clock = _now,
    ) -> None:
        self.kind = kind
        self.argv = list(argv)
        self.snapshot = snapshot
        self.policy = policy
        self.facts = facts
        self.clock = clock
        self.grammar = Grammar(kind.name)
        self.switches: list[str] = []
        self.settings: dict[str, str] = {}  # variable -> the command that set it
        self.pending = ""
        self._last_switch: list[str] | None = None
        self._places: dict[tuple[str, ...], Place] = {}

    # ------------------------------------------------------------ where
    def place(self) -> Place:
        key = tuple(self.switches)
        got = self._places.get(key)
        if got is None:
            got = self._places[key] = self._place(key)
        return got

    def _place(self, switches: tuple[str, ...]) -> Place:
        from guardsh.policy.locate import classify

        t = targets.probe_target(self.kind, self.argv, switches, self.snapshot, self.facts)
        if t is None:
            from guardsh.unwrap.targets import local

            env = classify(local(self.snapshot), self.snapshot, self.policy).environment
            label = f"{self.kind.name}:?"
        else:
            env = classify(t, self.snapshot, self.policy).environment
            label = t.label()
        spec = self.policy.environment(env)
        return Place(t, label, env, spec.color if spec else None, self.policy.protected(env))

    # ------------------------------------------------------------ statements
    def complete(self, text: str) -> bool:
        return self.grammar.complete(text)

    def judge(self, text: str) -> Decision:
        """What running `text` in the client requires. Never raises. The
        decision shows passwords in `text` as `***` (its line, the findings'
        details), for the card and the audit trail."""
        d = self._judge(text)
        where = passwords.spans(self.kind.name, text.rstrip())
        if not where:
            return d
        start = len(self.argv_program()) + 2
        line, edits = passwords.redact(d.line, [(start + a, start + b) for a, b in where])
        findings = tuple(
            dataclasses.replace(
                f,
                evidence=passwords.remap(f.evidence, edits),
                detail=passwords.redact(f.detail, passwords.spans(self.kind.name, f.detail))[0],
            )
            for f in d.findings
        )
        return dataclasses.replace(d, line=line, findings=findings)

    def _judge(self, text: str) -> Decision:
        from guardsh.pipeline import check

        context = [*self.switches, *self.settings.values()]
        body = targets.replay(context, self.pending, text)
        line, _ = targets.heredoc_line(self.argv, body)
        shown = self.display(text)
        try:
            d = check(line, self.snapshot, self.policy, self.clock(), self.facts)
        except Exception as e:  # fail safe: ask where it matters
            return self._failed(shown, str(e))
        whole = Span(len(self.argv_program()) + 2, len(shown))
        spans = self._evidence(text, context, d.findings, whole)
        findings = tuple(self._unknown(dataclasses.replace(f, evidence=span), text)
                         for f, span in zip(d.findings, spans, strict=True))  # fmt: skip
        environment = d.environment if d.findings else self.place().environment
        blind = self.kind.blind.search(text)
        if blind is not None:
            return self._redecide(shown, (*findings, self._blind(blind.group(0), whole)), d.notes)
        if any(f.tags != g.tags for f, g in zip(findings, d.findings, strict=True)):
            got = self._redecide(shown, findings, d.notes)
            if got.verdict.requirement in (Requirement.TYPE, Requirement.DRY_RUN):
                # one object unknown: its name cannot be asked for, even beside known ones
                verdict = dataclasses.replace(got.verdict, type_word=got.environment)
                got = dataclasses.replace(got, verdict=verdict)
            return got
        return dataclasses.replace(d, line=shown, findings=findings, environment=environment)

    def _evidence(
        self, text: str, context: Sequence[str], findings: Sequence[Finding], whole: Span
    ) -> list[Span]:
        """Where in the shown statement each finding comes from (the analysis
        marks the whole client input): the piece of `text` after which it
        first appears, found by analyzing growing prefixes of `text`. A
        finding of the client's buffer, or one no prefix explains, gets
        `whole` (the text after `psql> `)."""
        from guardsh.pipeline import analyze_line

        pieces = self.grammar.statements(text)

        def at(piece: tuple[int, int]) -> Span:
            return Span(whole.start + piece[0], min(whole.start + piece[1], whole.end))

        if not findings or not pieces or len(pieces) > MAX_PIECES:
            return [whole] * len(findings)
        if len(pieces) == 1:
            return [at(pieces[0])] * len(findings)
        owner: dict[tuple[str, str | None], list[int]] = {}
        prev: Counter[tuple[str, str | None]] = Counter()
        ends = ([(-1, 0)] if self.pending.strip() else []) + [
            (k, b) for k, (_, b) in enumerate(pieces)
        ]
        for k, end in ends:
            body = targets.replay(context, self.pending, text[:end])
            try:
                got, _ = analyze_line(targets.heredoc_line(self.argv, body)[0], self.snapshot,
                                      self.facts)  # fmt: skip
            except Exception:  # no marks is an answer: the whole statement
                return [whole] * len(findings)
            cur = Counter((f.action, f.object) for f in got)
            for key, n in (cur - prev).items():
                owner.setdefault(key, []).extend([k] * n)
            prev = cur
        out = []
        for f in findings:
            ks = owner.get((f.action, f.object))
            k = ks.pop(0) if ks else -1
            out.append(at(pieces[k]) if k >= 0 else whole)
        return out

    def _unknown(self, f: Finding, text: str) -> Finding:
        """A finding whose object the analysis could not name (a psql variable
        set where guardsh did not see it: `\\gset`, psqlrc, `-v` of another
        session) is tagged `unknown-object`, so the policy asks for the
        environment's name instead of a meaningless `?`."""
        if f.object not in ("?", "") or "unknown-object" in f.tags:
            return f
        ref = _VARIABLE.search(text)
        detail = f.detail.replace("  ", f" {ref.group(0) if ref else '?'} ", 1)
        return dataclasses.replace(f, tags=f.tags | {"unknown-object"}, detail=detail)

    def display(self, text: str) -> str:
        """The statement as the card and the audit trail show it."""
        prog = self.argv_program()
        return f"{prog}> {text.rstrip()}"

    def argv_program(self) -> str:
        for a in self.argv:
            base = a.rsplit("/", 1)[-1]
            if base in self.kind.programs:
                return base
        return self.kind.name

    def sent(self, text: str) -> None:
        """The client received `text`: follow switches, its buffer and delimiter."""
        self.grammar.sent(text)
        for m in self.kind.settings.finditer(text):
            self.settings.pop(m.group(2), None)
            if m.group(1) != "unset":
                self.settings[m.group(2)] = m.group(0).strip()
        new = targets.switches_in(self.kind, text)
        if new:
            self._last_switch = list(self.switches)
            self.switches.extend(new)
        self.pending = self.grammar.pending(self.pending + text)

    def switch_failed(self) -> None:
        """The client said the last switch did not happen ("Previous connection kept")."""
        if self._last_switch is not None:
            self.switches = self._last_switch
            self._last_switch = None

    def cancelled(self) -> None:
        """Ctrl-C: the client dropped its query buffer."""
        self.pending = ""

    # ------------------------------------------------------------ helpers
    def _blind(self, what: str, span: Span) -> Finding:
        place = self.place()
        target = place.target or Target("db")
        return Finding(
            "shell.opaque",
            what.strip(),
            Severity.LOW,
            target,
            span,
            frozenset({"editor", "unknown-object"}),
            f"{what.strip()}: text written in an editor runs without guardsh seeing it",
        )

    def _redecide(self, shown: str, findings: Sequence[Finding], notes: Sequence[str]) -> Decision:
        from guardsh.policy.decide import Who, decide
        from guardsh.policy.locate import classify

        located = [
            dataclasses.replace(
                f, environment=classify(f.target, self.snapshot, self.policy).environment
            )
            for f in findings
        ]
        environment = min((f.environment for f in located), key=self.policy.rank)
        protected = self.policy.protected(environment)
        verdict = decide(
            located, self.policy, self.clock(), Who(self.snapshot.user), protected=protected
        )
        if verdict.requirement in (Requirement.TYPE, Requirement.DRY_RUN) and not verdict.type_word:
            verdict = dataclasses.replace(verdict, type_word=environment)
        return Decision(shown, verdict, environment, tuple(located), tuple(notes))

    def _failed(self, shown: str, why: str) -> Decision:
        place = self.place()
        req = Requirement.CONFIRM if place.protected else Requirement.WARN
        verdict = Verdict(req, messages=(f"{COULD_NOT}: {why}",))
        return Decision(shown, verdict, place.environment, (), (f"{COULD_NOT}: {why}",))
