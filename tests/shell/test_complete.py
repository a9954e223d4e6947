"""Tab completion from the backing shell's state: commands first, paths after."""

from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from guardsh.run.backing import State
from guardsh.shell.complete import ShellCompleter


def complete(text: str, st: State) -> list[str]:
    c = ShellCompleter(lambda: st)
    return [
        x.text for x in c.get_completions(Document(text), CompleteEvent(completion_requested=True))
    ]


def test_commands_from_path_aliases_functions_builtins(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, mode in (("zz-tool", 0o755), ("zz-data", 0o644)):
        (bindir / name).write_text("#!/bin/sh\n")
        (bindir / name).chmod(mode)
    st = State(
        0,
        str(tmp_path),
        {"PATH": str(bindir)},
        aliases={"zz-alias": "ls"},
        functions={"zz_fn": "zz_fn () \n{ \n    :\n}"},
    )
    assert complete("zz", st) == ["zz-alias", "zz-tool", "zz_fn"]  # not zz-data: not executable
    assert complete("ls; zz_", st) == ["zz_fn"]
    assert "pushd" in complete("pus", st)


def test_paths_relative_to_the_shells_cwd(tmp_path: Path) -> None:
    tmp_path = tmp_path / "cwd"
    tmp_path.mkdir()
    (tmp_path / "alpha dir").mkdir()
    (tmp_path / "alpha.txt").write_text("")
    (tmp_path / ".hidden").write_text("")
    st = State(0, str(tmp_path), {"PATH": os.defpath, "HOME": str(tmp_path)})
    assert complete("cat al", st) == ["alpha\\ dir/", "alpha.txt"]
    assert complete("cat ~/alpha.", st) == ["alpha.txt"]
    assert complete("cat ./.h", st) == [".hidden"]
    assert complete("cat ", st) == ["alpha\\ dir/", "alpha.txt"]
