"""Word expansion against the session snapshot, the way bash would do it.

Quoting (`'..'`, `".."`, `$'\\x72'`, `\\r\\m`, `r''m`), `~`, `$X`, `${X:-d}` and
word splitting of unquoted expansions are done here. What cannot be known
statically (`$(...)`, arithmetic, unset variables, `$@`) keeps its source text
and marks the word unknown: it is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tree_sitter import Node

from guardsh.model import Word
from guardsh.parse.source import Source

_GLOB = re.compile(r"[*?\[]")
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_ANSI = re.compile(
    r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)", re.S
)
_DQ_ESCAPE = re.compile(r'\\([$`"\\\n])')
_SPECIAL = frozenset("@*#?$!-")
_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(?:(:?[-=+])(.*))?$", re.S)


@dataclass(slots=True)
class Scope:
    """Variables visible to the text being expanded.

    `variables` starts as the snapshot's and follows assignments made earlier
    in the same line; `unknown` holds names whose value cannot be known.

    `env` is what the line changed in the environment its later commands
    inherit: an exported assignment (`export`, `declare -x`, `set -a`, or a
    name the session already has: analysis reads the session's variables as
    the environment) sets a value, `unset`/`export -n` an empty one (which
    hides the session's value). A value that cannot be known drops the name.
    """

    variables: dict[str, str]
    home: str
    positional: list[str] | None = None  # $0 $1 ...; None: unknown
    unknown: set[str] = field(default_factory=set)
    remote: bool = False  # variables of another host: unset means unknown
    session: Mapping[str, str] = field(default_factory=dict)  # the session's own variables
    exported: set[str] = field(default_factory=set)  # exported by this line
    unexported: set[str] = field(default_factory=set)  # unset or `export -n` by this line
    env: dict[str, str] = field(default_factory=dict)  # environment changes
    allexport: bool = False  # `set -a`

    @classmethod
    def of(cls, variables: Mapping[str, str], home: str) -> Scope:
        """The scope of a line typed in a session with these variables."""
        return cls(dict(variables), home, session=variables)

    def child(self, positional: list[str] | None = None) -> Scope:
        return Scope(
            dict(self.variables),
            self.home,
            positional,
            set(self.unknown),
            self.remote,
            self.session,
            set(self.exported),
            set(self.unexported),
            dict(self.env),
            self.allexport,
        )

    def remote_child(self) -> Scope:
        return Scope({}, "~", None, set(), remote=True)

    def is_unset(self, name: str) -> bool:
        """True when `name` is known to have no value here."""
        if self.remote or name in self.unknown or name in _SPECIAL or name.isdigit():
            return False
        return name not in self.variables

    def lookup(self, name: str) -> str | None:
        if name.isdigit():
            pos = self.positional
            i = int(name)
            return pos[i] if pos is not None and i < len(pos) else None
        if name in ("@", "*", "#") and self.positional is not None:  # inside a called function
            args = self.positional[1:]
            return str(len(args)) if name == "#" else " ".join(args)
        if name in _SPECIAL or name in self.unknown:
            return None
        value = self.variables.get(name)
        if value is None and name == "HOME" and not self.remote:
            return self.home
        return value

    def assign(self, name: str, value: Word) -> None:
        if value.known:
            self.variables[name] = value.value
            self.unknown.discard(name)
        else:
            self.unknown.add(name)
            self.variables.pop(name, None)
        if self.allexport:
            self.export(name)
        elif name in self.exported or (name in self.session and name not in self.unexported):
            self._to_env(name)

    def export(self, name: str) -> None:
        """`export NAME`: the variable (and later values) reach the environment."""
        self.exported.add(name)
        self.unexported.discard(name)
        if name in self.variables or name in self.unknown:
            self._to_env(name)

    def unexport(self, name: str, unset: bool) -> None:
        """`unset NAME` or `export -n NAME`: later commands do not see it."""
        self.exported.discard(name)
        self.unexported.add(name)
        self.env[name] = ""
        if unset:
            self.variables.pop(name, None)
            self.unknown.discard(name)

    def _to_env(self, name: str) -> None:
        value = self.variables.get(name)
        if value is None or name in self.unknown:
            self.env.pop(name, None)
        else:
            self.env[name] = value


@dataclass(slots=True)
class _Acc:
    parts: list[str] = field(default_factory=list)
    known: bool = True
    glob: bool = False
    quoted: bool = False

    def add(self, text: str, known: bool = True) -> None:
        self.parts.append(text)
        self.known = self.known and known


def ansi_c(body: str) -> str:
    """Decode the body of a `$'...'` string."""

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        head = esc[0]
        if head in "xuU":
            return chr(int(esc[1:], 16))
        if head.isdigit():
            return chr(int(esc, 8) & 0xFF)
        if head == "c" and len(esc) == 2:
            return chr(ord(esc[1]) & 0x1F)
        return _ANSI_SIMPLE.get(head, "\\" + esc)

    return _ANSI.sub(repl, body)


def _unescape_bare(text: str) -> str:
    """Remove unquoted backslashes: `\\r\\m` -> `rm`, `\\<newline>` -> ``."""
    if "\\" not in text:
        return text
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _bare_glob(text: str) -> bool:
    """True when `text` (unquoted source) has an unescaped glob character."""
    if not _GLOB.search(text):
        return False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c in "*?[":
            return True
        i += 1
    return False


def _param(node: Node, src: Source, scope: Scope, acc: _Acc) -> None:
    """`${...}`: plain, `:-`, `-`, `:=`, `=`, `:+`, `+`; other forms are unknown.

    An unset variable is unknown as `$X`, but `${X:-word}` is the idiom for a
    default, so there an unset local variable takes the word; a remote or
    unknowable one stays unknown.
    """
    raw = src.slice(node.start_byte, node.end_byte)
    m = _PARAM.match(raw, 2, len(raw) - 1)
    if m is None:
        acc.add(raw, known=False)
        return
    name, op = m.group(1), m.group(2)
    value = scope.lookup(name)
    if op is None:
        acc.add(value if value is not None else raw, known=value is not None)
        return
    if value is None and not scope.is_unset(name):
        acc.add(raw, known=False)
        return
    empty = value is None or (op.startswith(":") and value == "")
    if op.endswith("+"):
        if not empty:
            _default_text(node, src, scope, acc, m.group(3))
        return
    if empty:
        _default_text(node, src, scope, acc, m.group(3))
    else:
        acc.add(value or "")


def _default_text(node: Node, src: Source, scope: Scope, acc: _Acc, arg: str) -> None:
    """The word of a `${X:-word}`: expand its children when it has structure."""
    parts = [c for c in node.named_children[1:] if c.type != "regex"]
    if not parts:
        acc.add(_unescape_bare(arg))
        return
    for child in parts:
        _expand_into(child, src, scope, acc, quoted=True)


def _expand_into(node: Node, src: Source, scope: Scope, acc: _Acc, quoted: bool) -> None:
    t = node.type
    if t in ("word", "number", "string_content", "heredoc_content", "extglob_pattern"):
        raw = src.slice(node.start_byte, node.end_byte)
        if quoted:
            acc.add(_DQ_ESCAPE.sub(r"\1", raw).replace("\\\n", ""))
        else:
            acc.glob = acc.glob or _bare_glob(raw)
            text = _unescape_bare(raw)
            if not acc.parts and text.startswith("~"):
                text = _tilde(text, scope)
            acc.add(text)
    elif t == "raw_string":
        acc.quoted = True
        acc.add(src.slice(node.start_byte + 1, node.end_byte - 1))
    elif t == "ansi_c_string":
        acc.quoted = True
        acc.add(ansi_c(src.slice(node.start_byte + 2, node.end_byte - 1)))
    elif t in ("string", "translated_string"):
        acc.quoted = True
        _expand_string(node, src, scope, acc)
    elif t == "simple_expansion":
        name = src.slice(node.start_byte + 1, node.end_byte)
        value = scope.lookup(name)
        acc.add(value if value is not None else "$" + name, known=value is not None)
    elif t == "expansion":
        _param(node, src, scope, acc)
    elif t == "concatenation":
        for child in node.named_children:
            _expand_into(child, src, scope, acc, quoted)
    else:
        # command/process substitution, arithmetic, brace ranges ...: unknown
        acc.add(src.slice(node.start_byte, node.end_byte), known=False)


def _expand_string(node: Node, src: Source, scope: Scope, acc: _Acc) -> None:
    """A double-quoted string: literal gaps between the expansion children."""
    pos = node.start_byte + (2 if src.data[node.start_byte : node.start_byte + 1] == b"$" else 1)
    end = node.end_byte - 1
    for child in node.named_children:
        if child.start_byte > pos:
            acc.add(_DQ_ESCAPE.sub(r"\1", src.slice(pos, child.start_byte)))
        _expand_into(child, src, scope, acc, quoted=True)
        pos = max(pos, child.end_byte)
    if end > pos:
        acc.add(_DQ_ESCAPE.sub(r"\1", src.slice(pos, end)))


def _tilde(text: str, scope: Scope) -> str:
    head, sep, rest = text.partition("/")
    if head == "~":
        home = scope.variables.get("HOME", scope.home)
        return home + sep + rest
    return text  # ~user: left as written


_ALL_ARGS = frozenset({'"$@"', '"${@}"'})


def expand(node: Node, src: Source, scope: Scope) -> list[Word]:
    """Expand one argument node into zero or more words (word splitting)."""
    span = src.span(node.start_byte, node.end_byte)
    t = node.type
    args = scope.positional
    text = src.slice(node.start_byte, node.end_byte) if t == "string" else ""
    if args is not None and text in _ALL_ARGS:
        return [Word(a, span, True, False, True) for a in args[1:]]  # one word per argument
    if t in ("simple_expansion", "expansion"):
        acc = _Acc()
        _expand_into(node, src, scope, acc, quoted=False)
        value = "".join(acc.parts)
        if acc.known:
            fields = value.split()
            return [Word(f, span, True, bool(_GLOB.search(f))) for f in fields]
        return [Word(value, span, False)]
    if (
        t == "word"
        and b"\\" not in src.data[node.start_byte : node.end_byte]
        and src.data[node.start_byte : node.start_byte + 1] != b"~"
    ):
        raw = src.slice(node.start_byte, node.end_byte)
        return [Word(raw, span, True, _bare_glob(raw))]
    acc = _Acc()
    _expand_into(node, src, scope, acc, quoted=False)
    return [Word("".join(acc.parts), span, acc.known, acc.glob, acc.quoted)]


def expand_one(node: Node, src: Source, scope: Scope) -> Word:
    """Expand a node that stays one word (assignment values, redirect targets)."""
    acc = _Acc()
    _expand_into(node, src, scope, acc, quoted=False)
    span = src.span(node.start_byte, node.end_byte)
    return Word("".join(acc.parts), span, acc.known, acc.glob, acc.quoted)
