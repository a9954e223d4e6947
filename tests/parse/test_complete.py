"""parse/complete.py: where a line was left open, as bash's reader sees it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from guardsh.parse.complete import incomplete


@pytest.mark.parametrize(
    ("line", "what", "col"),
    [
        ('echo "abc', "double quote", 5),
        ("echo 'abc", "single quote", 5),
        ("echo $'abc", "$'...'", 5),
        ("echo `date", "backquote", 5),
        ("echo $(date", "$(", 5),
        ("cat <<EOF\nbody\n", "heredoc `EOF`", 4),
        ("cat <<-'END' | psql\nx\n", "heredoc `END`", 4),
        ("ls \\", "continuation", 3),
        ("ls |", "`|`", 3),
        ("ls &&", "`&&`", 3),
        ("ls ||  ", "`||`", 3),
        ("if true; then", "`if` with no `fi`", 0),
        ("if true", "`if`", 0),
        ("if true; then echo; else", "`if`", 0),
        ("for i in 1 2; do", "`for` with no `done`", 0),
        ("for ((i=0; i<2; i++)); do", "`for`", 0),
        ("while true; do", "`while` with no `done`", 0),
        ("until false; do", "`until`", 0),
        ("select x in a b; do", "`select`", 0),
        ("case x in", "`case` with no `esac`", 0),
        ("case $1 in a|b) echo;;", "`case`", 0),
        ("g() {", "`{` with no `}`", 4),
        ("function g {", "`{`", 11),
        ("g()", "function with no body", 1),
        ("{", "`{`", 0),
        ("{ echo }", "`{`", 0),  # `}` is an argument of echo here
        ("( cd /tmp", "`(` with no `)`", 0),
        ("[[ -n $x", "`[[`", 0),
        ("ls && if true; then", "`if`", 6),
        ("if true; then\n  for i in 1; do", "`for`", 16),
        ("case x in a) if true; then", "`if`", 13),
        ("echo $((1 << 2", "`$((`", 5),
        ("a=(1 2", "array", 2),
        ("echo ${x//a/b", "`${`", 5),
    ],
)
def test_open_constructs_are_found_with_their_column(line: str, what: str, col: int) -> None:
    gap = incomplete(line)
    assert gap is not None
    assert what in gap.what
    assert gap.span.start == col


@pytest.mark.parametrize(
    "line",
    [
        "ls",
        'echo "a\\"b"',
        "echo 'it'\\''s'",
        'echo "$(date "+%F")"',
        "cat <<EOF\nbody\nEOF",
        "cat <<EOF\nbody\nEOF\n",
        "cat <<-EOF\n\tbody\n\tEOF\n",
        "ls <<< hello",
        "ls # it's a comment",
        "echo a\\|",
        "echo '|'",
        "a | b",
        "echo $((1 + (2 * 3)))",
        "echo $((1 << 2))",
        "(( x = 1 << 3 ))",
        "if true; then echo; elif false; then :; else echo no; fi",
        "for i in 1 2; do echo $i; done",
        "for ((i=0; i<2; i++)); do echo $i; done",
        'while read -r l; do echo "$l"; done < f',
        "case x in a|b) echo;; *) :;; esac",
        "case x in\na) echo a;;\nesac",
        "g() { echo; }",
        "function g { echo; }",
        "g()\n{\n  echo\n}",
        "{ echo a; echo b; } > out",
        "(cd /tmp && ls)",
        'for p in */; do (cd "$p") done',
        "echo if then fi done esac { }",
        "echo $(if true; then echo x; fi)",
        "a=(1 2); echo ${a[@]}",
        "echo ${x:-(}",
        "rm -- !(*.conf)",
        "[[ $a == @(x|y)* && -n $b ]]",
        "ls 2>&1 | grep done",
        # bash rejects these outright; it says why, no continuation line
        "fi",
        "echo )",
        "x=1 if true; then",
        "case x in a",
        "if true; then echo; fi; done",
    ],
)
def test_complete_lines(line: str) -> None:
    assert incomplete(line) is None


OPEN_COMPOUND = [
    "if true; then",
    "for i in 1 2; do",
    "while true; do",
    "case x in",
    "case $1 in a) echo;;",
    "g() {",
    "g()",
    "function g",
    "{",
    "( echo",
    "ls && if true; then",
]
NOT_OPEN = [
    "if true; then echo; fi",
    'for p in */; do (cd "$p") done',
    "case x in a) echo;; esac",
    "echo if then fi done esac { }",
    "fi",
    "echo )",
    "x=1 if true; then",
    "case x in a",
]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("line", OPEN_COMPOUND + NOT_OPEN)
def test_bash_agrees(line: str) -> None:
    """Incomplete exactly when bash hits the end of the text inside a command
    (`bash -n` then says "unexpected end of file"); an interactive bash would
    ask for a continuation line there."""
    r = subprocess.run(["bash", "-n", "-c", line], capture_output=True, text=True)
    eof = "unexpected end of file" in r.stderr or "unexpected EOF" in r.stderr
    assert eof == (line in OPEN_COMPOUND), r.stderr
    assert (incomplete(line) is not None) == eof
