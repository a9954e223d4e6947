"""Is a line complete, or does the shell need more input?

A small scanner follows quotes, `$'..'`, backquotes, `$(`..`)`, `$((`..`))`,
heredocs and line continuations the way bash's reader does, and, at top
level, the reserved words of compound commands (`if`..`fi`, `for`/`while`/
`until`/`select`..`done`, `case`..`esac`, `{`..`}`, `(`..`)`, `[[`..`]]`,
`name() {`), and says where the line was left open. `guardsh check` refuses
such a line (exit 2, with the column); the interactive shell asks for a
continuation line instead. A line bash would reject outright (a `fi` with no
`if`) is not incomplete: bash says what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guardsh.model import Span

_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([^\s'\"<>;&|()]+)\2")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_EMPTY_PARENS = re.compile(r"\([ \t]*\)")
_METACHARS = " \t\n;&|()<>"
_SUBST = ("$(", "<(", ">(")  # their `)` ends them; parens inside nest
# bash's reserved_word_acceptable(): right after `)`, `}`, `fi`, `done`, `esac`
_AFTER_CLOSE = frozenset({"fi", "done", "esac", "}", "then", "do", "else", "elif"})
_ARITH = ("$((", "((", "(")  # `(` nests inside arithmetic


@dataclass(frozen=True, slots=True)
class Incomplete:
    what: str  # "an unterminated double quote", ...
    span: Span  # where the open construct starts

    def message(self) -> str:
        return f"incomplete command: {self.what} (column {self.span.start + 1})"


@dataclass(slots=True)
class _Open:
    """A compound command still open: what closes it, and where it began."""

    opener: str
    closer: str
    col: int
    case: str = ""  # for `case`: "subject", "in", "pattern", "pattern)" or "body"


@dataclass(slots=True)
class _Blocks:
    """The compound commands open at top level, fed one token at a time.

    A reserved word counts only where a command may start (bash's rule), so
    `echo if` is a command and `if` is not."""

    open: list[_Open] = field(default_factory=list)
    command: bool = True  # where a command (or a reserved word) may start
    named: bool = False  # a command name was just read: `name ()` defines a function
    assigned: bool = False  # `a=1 if`: after an assignment, `if` is a command's name
    closed: bool = False  # `(..) done`, `{ ..; } fi`: a closer may follow a closer
    after_for: bool = False  # `for ((`
    function: bool = False  # `function` was read: its name comes next
    body: int | None = None  # a function header waiting for its body (the column)
    broken: bool = False  # a closer with nothing to close: bash's syntax error

    @property
    def top(self) -> _Open | None:
        return self.open[-1] if self.open else None

    def _push(self, opener: str, closer: str, col: int, case: str = "") -> None:
        self.open.append(_Open(opener, closer, col, case))

    def _close(self, closer: str) -> None:
        if self.top is not None and self.top.closer == closer:
            self.open.pop()
        else:
            self.broken = True
        self.command = False
        self.closed = True

    def word(self, w: str | None, col: int) -> None:
        """A word: its text when it is plain (unquoted, no expansion), else None."""
        top, command, function, assigned = self.top, self.command, self.function, self.assigned
        command = command or (self.closed and w in _AFTER_CLOSE)
        self.named = self.after_for = self.function = self.assigned = self.closed = False
        self.command = False
        self.body = None
        if top is not None and top.closer == "]]":
            if w == "]]":
                self.open.pop()
            return
        if top is not None and top.case in ("subject", "in", "pattern", "pattern)"):
            if top.case == "subject":
                top.case = "in"
            elif top.case == "in":
                self.broken = self.broken or w != "in"
                top.case = "pattern"
            elif w == "esac" and top.case == "pattern":
                self.open.pop()
                self.closed = True
            else:
                top.case = "pattern)"  # a pattern: its `)` comes next
            return
        if function:  # `function NAME`: `()` or the body may follow
            self.named = self.command = True
            self.body = col
            return
        if not command or w is None:
            return
        if assigned and not _ASSIGNMENT.match(w):
            self.named = True
            return
        if w == "if":
            self._push(w, "fi", col)
        elif w in ("while", "until"):
            self._push(w, "done", col)
        elif w in ("for", "select"):
            self._push(w, "done", col)
            self.after_for = True
            return  # the loop's variable comes next, not a command
        elif w == "case":
            self._push(w, "esac", col, case="subject")
            return
        elif w == "{":
            self._push(w, "}", col)
        elif w == "[[":
            self._push(w, "]]", col)
            return
        elif w in ("fi", "done", "esac", "}"):
            self._close(w)
            return
        elif w == "function":
            self.function = True
            return
        elif w not in ("then", "else", "elif", "do", "!", "time", "coproc"):
            if _ASSIGNMENT.match(w):
                self.command = self.assigned = True  # `a=1 cmd`: the command comes after
            else:
                self.named = True
            return
        self.command = True

    def separator(self, op: str) -> None:
        """`;`, newline, `&`, `|`, `&&`, `||`, `;;`, `;&`, `;;&`, `|&`."""
        top = self.top
        self.named = self.assigned = self.closed = False
        if top is not None and top.case in ("subject", "pattern)") and op == "\n":
            self.broken = True  # `case` or `case x in a` then Enter: bash's syntax error
            return
        if top is not None and (top.closer == "]]" or top.case in ("in", "pattern", "pattern)")):
            return  # `[[ a && b ]]`, `case x in a|b)`, newlines before `in`
        if top is not None and top.case == "body" and op in (";;", ";&", ";;&"):
            top.case = "pattern"
            return
        if self.body is None or op != "\n":
            self.body = None
            self.command = True
        self.after_for = False

    def paren(self, col: int) -> None:
        """A `(` at top level: a subshell, or the start of a case pattern."""
        top = self.top
        if top is not None and (top.closer == "]]" or top.case == "pattern"):
            return
        self.body = None
        self.assigned = self.closed = False
        if self.command:
            self._push("(", ")", col)
        else:
            self.broken = True  # `echo (`

    def close_paren(self) -> None:
        top = self.top
        if top is not None and top.closer == "]]":
            return
        if top is not None and top.case in ("pattern", "pattern)"):
            top.case = "body"
            self.command = True
            return
        self._close(")")

    def function_parens(self, col: int) -> bool:
        """`name ()`: a function definition; its body comes next."""
        if not self.named:
            return False
        self.named = False
        self.command = True
        self.body = col
        return True

    def incomplete(self) -> Incomplete | None:
        """At the end of the text (where Enter adds a newline)."""
        self.separator("\n")
        if self.broken:
            return None
        if self.open:
            o = self.open[-1]
            what = f"`{o.opener}` with no `{o.closer}` yet"
            return Incomplete(what, Span(o.col, o.col + len(o.opener)))
        if self.body is not None:
            return Incomplete("a function with no body yet", Span(self.body, self.body + 1))
        return None


def incomplete(line: str) -> Incomplete | None:
    """Why `line` cannot run as it stands, or None when it is complete."""
    stack: list[tuple[str, int]] = []  # open constructs: quotes, `$(`, `$((`, an array
    heredocs: list[tuple[str, bool, int]] = []  # pending: (delimiter, strip tabs, col)
    blocks = _Blocks()
    i, n = 0, len(line)
    at_word_start = True
    trailing: tuple[str, int] | None = None  # an operator with nothing after it yet
    while i < n:
        c = line[i]
        top = stack[-1][0] if stack else ""
        if top == "'":
            if c == "'":
                stack.pop()
            i += 1
            continue
        if top == "$'":
            if c == "\\":
                i += 2
                continue
            if c == "'":
                stack.pop()
            i += 1
            continue
        if c == "\\":
            if i == n - 1:
                return Incomplete("a line continuation `\\` at the end", Span(i, i + 1))
            if not stack and at_word_start and line[i + 1] != "\n":
                blocks.word(None, i)
            trailing = None
            at_word_start = line[i + 1] == "\n" and at_word_start
            i += 2
            continue
        if top == '"':
            if c == '"':
                stack.pop()
            elif c == "`":
                stack.append(("`", i))
            elif line.startswith("$(", i):
                stack.append(("$((", i) if line.startswith("$((", i) else ("$(", i))
                i += len(stack[-1][0]) - 1
            i += 1
            continue
        if top in _ARITH:  # no words, redirections or heredocs in arithmetic
            if top != "(" and line.startswith("))", i):
                stack.pop()
                i += 2
                at_word_start = False
                continue
            if c in "()":
                if c == "(":
                    stack.append(("(", i))
                elif top == "(":
                    stack.pop()
                i += 1
                continue
            if c not in "'\"`$":
                i += 1
                continue
        # unquoted (top level, inside $(, `, or an array)
        if c == "#" and at_word_start:
            eol = line.find("\n", i)
            i = n if eol == -1 else eol
            continue
        if c == "\n" and heredocs:
            i = _skip_heredocs(line, i + 1, heredocs)
            if heredocs:
                delim, _, col = heredocs[0]
                return Incomplete(f"the heredoc `{delim}` is not closed", Span(col, col + 2))
            if not stack:
                blocks.separator("\n")
            at_word_start = True
            continue
        if not stack:
            step = _top_level(line, i, blocks, stack, at_word_start)
            if step:
                if line[i] not in " \t":
                    trailing = None
                i += step
                at_word_start = line[i - 1] in _METACHARS
                continue
        if c == "'":
            stack.append(("'", i))
        elif c == '"':
            stack.append(('"', i))
        elif c == "`":
            if top == "`":
                stack.pop()
            else:
                stack.append(("`", i))
        elif line.startswith("$'", i):
            stack.append(("$'", i))
            i += 1
        elif line.startswith("${", i):
            stack.append(("${", i))
            i += 1
        elif c == "}" and top == "${":
            stack.pop()
        elif line.startswith("$((", i):
            stack.append(("$((", i))
            i += 2
        elif line.startswith(("$(", "<(", ">("), i):
            stack.append((line[i : i + 2], i))
            i += 1
        elif c == "(" and top in _SUBST:
            stack.append(("$(", i))
        elif c == ")" and top in (*_SUBST, "=(", "@("):
            stack.pop()
        elif line.startswith("<<<", i):
            i += 3
            at_word_start = True
            continue
        elif line.startswith("<<", i):
            m = _HEREDOC.match(line, i)
            if m:
                heredocs.append((m.group(3), m.group(1) == "-", i))
                i = m.end()
                at_word_start = False
                continue
        if not stack and c in "|&" and not (c == "&" and line.startswith("&>", i)):
            op = (
                "||"
                if line.startswith("||", i)
                else "&&"
                if line.startswith("&&", i)
                else ("|&" if line.startswith("|&", i) else c)
            )
            redirect = i > 0 and line[i - 1] in "<>"  # `2>&1`, `>|`
            trailing = (op, i) if op != "&" and not redirect else None
            if not redirect:
                blocks.separator(op)
            at_word_start = True
            i += len(op)
            continue
        if not c.isspace():
            trailing = None
        at_word_start = c in _METACHARS
        i += 1
    if stack:
        kind, col = stack[-1]
        return Incomplete(_NAMES[kind], Span(col, col + len(kind)))
    if heredocs:
        delim, _, col = heredocs[0]
        return Incomplete(f"the heredoc `{delim}` is not closed", Span(col, col + 2))
    if trailing is not None:
        op, col = trailing
        return Incomplete(f"`{op}` at the end, with no command after it", Span(col, col + len(op)))
    return blocks.incomplete()


def _top_level(
    line: str, i: int, blocks: _Blocks, stack: list[tuple[str, int]], at_word_start: bool
) -> int:
    """Feed the compound-command tracker the token at i (top level only);
    how many characters it took, or 0 to let the scanner go on as before."""
    c = line[i]
    if c in "\n;":
        op = next(o for o in (";;&", ";;", ";&", ";", "\n") if line.startswith(o, i))
        blocks.separator(op)
        return len(op)
    if c == "(":
        if i > 0 and line[i - 1] in "@!*+?":
            stack.append(("@(", i))  # an extglob pattern: `rm -- !(*.conf)`
            return 1
        m = _EMPTY_PARENS.match(line, i)
        if m and blocks.function_parens(i):
            return m.end() - i
        if line.startswith("((", i) and (blocks.command or blocks.after_for):
            stack.append(("((", i))
            blocks.word(None, i)
            return 2
        blocks.paren(i)
        return 1
    if c == ")":
        blocks.close_paren()
        return 1
    if not at_word_start or c in _METACHARS:
        return 0
    j = i
    while j < len(line) and line[j] not in _METACHARS and line[j] not in "'\"`\\$":
        j += 1
    if j < len(line) and line[j] not in _METACHARS:  # quoted or expanded: not a reserved word
        blocks.word(None, i)
        return 0
    word = line[i:j]
    if word.endswith("=") and line.startswith("(", j) and _ASSIGNMENT.fullmatch(word):
        stack.append(("=(", j))  # an array: `a=(1 2`
        blocks.word(word, i)
        return j + 1 - i
    blocks.word(word, i)
    return j - i


_NAMES = {
    "'": "an unterminated single quote",
    '"': "an unterminated double quote",
    "$'": "an unterminated $'...' string",
    "`": "an unterminated backquote",
    "$(": "an unclosed `$(`",
    "<(": "an unclosed `<(`",
    ">(": "an unclosed `>(`",
    "$((": "an unclosed `$((`",
    "((": "an unclosed `((`",
    "(": "an unclosed `(`",
    "=(": "an unclosed array `(`",
    "@(": "an unclosed pattern `(`",
    "${": "an unclosed `${`",
}


def _skip_heredocs(line: str, i: int, heredocs: list[tuple[str, bool, int]]) -> int:
    """Consume heredoc bodies starting at i; closed ones leave `heredocs`."""
    n = len(line)
    while heredocs and i < n:
        delim, strip, _ = heredocs[0]
        eol = line.find("\n", i)
        end = n if eol == -1 else eol
        row = line[i:end]
        if (row.lstrip("\t") if strip else row) == delim:
            heredocs.pop(0)
        i = end + 1
    return min(i, n)
