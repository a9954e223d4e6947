"""parse/complete.py: where a line was left open, as bash's reader sees it."""

from __future__ import annotations

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
    ],
)
def test_complete_lines(line: str) -> None:
    assert incomplete(line) is None
