"""Option grammar for argument vectors: getopt with long options.

A tool's analyzer (or a wrapper's unwrapper) declares which options take a
value; `parse_argv` splits the words into options and operands the way the
tool itself would, so `kubectl -n prod delete` and `rm -r -f` and `rm -rf`
read the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from guardsh.model import Word


@dataclass(frozen=True, slots=True)
class Opt:
    name: str  # "-r", "--force"
    value: Word | None
    word: Word  # the word the option was written in


@dataclass(frozen=True, slots=True)
class Parsed:
    opts: tuple[Opt, ...]
    operands: tuple[Word, ...]
    rest: tuple[Word, ...] = ()  # words after the first operand when stop_at_operand
    assigns: tuple[Word, ...] = ()  # NAME=VALUE words among the options (`assignments`)

    def has(self, *names: str) -> bool:
        return any(o.name in names for o in self.opts)

    def value(self, *names: str) -> Word | None:
        """The last value given for any of `names` (later options win)."""
        found = None
        for o in self.opts:
            if o.name in names:
                found = o.value
        return found

    def values(self, *names: str) -> list[Word]:
        return [o.value for o in self.opts if o.name in names and o.value is not None]


def parse_argv(
    args: Sequence[Word],
    *,
    short_value: str = "",
    long_value: Iterable[str] = (),
    stop_at_operand: bool = False,
    single_dash_long: bool = False,
    assignments: bool = False,
) -> Parsed:
    """Split `args` (without argv[0]) into options and operands.

    short_value: letters whose option takes a value (`-u root`, `-uroot`).
    long_value: long names (without dashes) that take a value (`--user root`,
    `--user=root`); any other long option takes a value only with `=`.
    stop_at_operand: the first operand ends option parsing (sudo, ssh, env);
    the operand and everything after it go to `rest` (operands holds it too).
    single_dash_long: `-name value` style (find, terraform): `-x` words are
    long names; a name in long_value takes the next word.
    assignments: a word with `=` in operand position (not starting with `/` or
    `=`) sets the command's environment and option parsing goes on, as sudo
    reads `sudo PGHOST=h -u postgres psql`; after `--` it is an operand.
    """
    long_value = frozenset(long_value)
    opts: list[Opt] = []
    operands: list[Word] = []
    assigns: list[Word] = []
    i = 0
    n = len(args)
    while i < n:
        w = args[i]
        t = w.value
        if t == "--" and w.known:
            operands.extend(args[i + 1 :])
            if stop_at_operand:
                return Parsed(tuple(opts), tuple(operands), tuple(args[i + 1 :]), tuple(assigns))
            break
        if t.startswith("--") and len(t) > 2 and w.known:
            name, eq, val = t[2:].partition("=")
            if eq:
                opts.append(Opt("--" + name, Word(val, w.span, w.known), w))
            elif name in long_value and i + 1 < n:
                opts.append(Opt("--" + name, args[i + 1], w))
                i += 1
            else:
                opts.append(Opt("--" + name, None, w))
            i += 1
            continue
        if t.startswith("-") and len(t) > 1 and w.known:
            if single_dash_long:
                name, eq, val = t[1:].partition("=")
                if eq:
                    opts.append(Opt("-" + name, Word(val, w.span, w.known), w))
                elif name in long_value and i + 1 < n:
                    opts.append(Opt("-" + name, args[i + 1], w))
                    i += 1
                else:
                    opts.append(Opt("-" + name, None, w))
                i += 1
                continue
            j = 1
            while j < len(t):
                c = t[j]
                if c in short_value:
                    rest = t[j + 1 :]
                    if rest:
                        opts.append(Opt("-" + c, Word(rest, w.span, w.known), w))
                    elif i + 1 < n:
                        opts.append(Opt("-" + c, args[i + 1], w))
                        i += 1
                    else:
                        opts.append(Opt("-" + c, None, w))
                    break
                opts.append(Opt("-" + c, None, w))
                j += 1
            i += 1
            continue
        if assignments and "=" in t and not t.startswith(("/", "=")):
            assigns.append(w)
            i += 1
            continue
        operands.append(w)
        if stop_at_operand:
            operands.extend(args[i + 1 :])
            return Parsed(tuple(opts), tuple(operands), tuple(args[i:]), tuple(assigns))
        i += 1
    return Parsed(tuple(opts), tuple(operands), (), tuple(assigns))
