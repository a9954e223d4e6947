"""Which escapes become a nested guardsh, and what the rewritten line is."""

from __future__ import annotations

import pytest

from guardsh.shell.escape import nested

G = "/usr/local/bin/guardsh"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("bash", G),
        ("  sh ", G),
        ("bash -l", G + " -l"),
        ("zsh -i", G),
        ("sudo -i", f"sudo -i {G} -l"),
        ("sudo -s", f"sudo -s {G}"),
        ("sudo -u postgres -i", f"sudo -u postgres -i {G} -l"),
        ("sudo -iu app", f"sudo -u app -i {G} -l"),
        ("su -", f"su - -c '{G} -l'"),
        ("su - postgres", f"su - postgres -c '{G} -l'"),
        ("su", f"su -c {G}"),
    ],
)
def test_plain_forms_become_a_nested_guardsh(line: str, expected: str) -> None:
    assert nested(line, G, shared=True) == expected


@pytest.mark.parametrize(
    "line",
    [
        "bash script.sh",
        "bash -c 'rm -rf /'",
        "bash --rcfile x",
        "exec bash",
        "bash | tee log",
        "sudo rm -rf /",
        "sudo -l",
        "su -c ls postgres",
        "sudo -i; rm x",
        "bash $X",
        "",
    ],
)
def test_anything_else_is_left_to_the_policy(line: str) -> None:
    assert nested(line, G, shared=True) is None


def test_user_switching_needs_a_guardsh_others_can_run() -> None:
    assert nested("bash", G, shared=False) == G
    assert nested("sudo -i", G, shared=False) is None
    assert nested("su -", G, shared=False) is None
