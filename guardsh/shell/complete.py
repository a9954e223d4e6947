"""Tab completion: commands in the first word (PATH executables, aliases,
functions, builtins), paths everywhere else, relative to the backing shell's
cwd, with `~` and `$HOME` understood."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from guardsh.run.backing import State

BUILTINS = (  # noqa: SIM905 - a word list reads better as text
    "alias bg bind break builtin caller cd command compgen complete continue declare dirs "
    "disown echo enable eval exec exit export false fc fg getopts hash help history jobs kill "
    "let local logout mapfile popd printf pushd pwd read readarray readonly return set shift "
    "shopt source suspend test times trap true type typeset ulimit umask unalias unset wait"
).split()
_SEPARATORS = (";", "|", "&", "(", "`", "$(", "{", "!")
_WORD_BREAKS = " \t\n;|&<>()`\"'"


def _current_word(before: str) -> tuple[str, bool]:
    """The word under the cursor and whether it is in command position."""
    i = len(before)
    while i > 0 and before[i - 1] not in _WORD_BREAKS:
        i -= 1
    word = before[i:]
    head = before[:i].rstrip()
    first = not head or head.endswith(_SEPARATORS) or head.endswith(("then", "do", "else", "sudo"))
    return word, first


class _PathCache:
    """Executables per PATH directory, re-listed when a directory's mtime changes."""

    def __init__(self) -> None:
        self._dirs: dict[str, tuple[float, list[str]]] = {}

    def names(self, path: str) -> set[str]:
        out: set[str] = set()
        for d in path.split(":"):
            if not d:
                continue
            try:
                mtime = os.stat(d).st_mtime
            except OSError:
                continue
            cached = self._dirs.get(d)
            if cached is None or cached[0] != mtime:
                try:
                    entries = [e.name for e in os.scandir(d) if _executable(e)]
                except OSError:
                    entries = []
                cached = (mtime, entries)
                self._dirs[d] = cached
            out.update(cached[1])
        return out


def _executable(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file() and os.access(entry.path, os.X_OK)
    except OSError:
        return False


class ShellCompleter(Completer):
    def __init__(self, state: Callable[[], State]) -> None:
        self.state = state
        self.paths = _PathCache()

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        word, first = _current_word(document.text_before_cursor)
        st = self.state()
        if first and "/" not in word and not word.startswith(("~", "$", ".")):
            yield from self._commands(word, st)
            return
        yield from self._paths(word, st)

    def _commands(self, word: str, st: State) -> Iterable[Completion]:
        names = self.paths.names(st.variables.get("PATH", os.defpath))
        names.update(st.aliases)
        names.update(st.functions)
        names.update(BUILTINS)
        for name in sorted(n for n in names if n.startswith(word)):
            yield Completion(name, start_position=-len(word))

    def _paths(self, word: str, st: State) -> Iterable[Completion]:
        home = st.variables.get("HOME", "")
        expanded = word
        if word.startswith("~"):
            expanded = home + word[1:]
        elif word.startswith("$HOME"):
            expanded = home + word[5:]
        directory, prefix = os.path.split(expanded)
        base = os.path.join(st.cwd, directory) if not os.path.isabs(directory) else directory
        try:
            entries = sorted(os.scandir(base or "."), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            if not e.name.startswith(prefix) or (
                e.name.startswith(".") and not prefix.startswith(".")
            ):
                continue
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            text = e.name + ("/" if is_dir else "")
            yield Completion(_escape(text), start_position=-len(prefix), display=text)


def _escape(name: str) -> str:
    """Backslash the characters bash would split or expand."""
    return "".join("\\" + c if c in " \t'\"\\$`&;|<>()*?[]!{}#" else c for c in name)
