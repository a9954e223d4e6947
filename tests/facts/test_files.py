"""The file reader and directory lister handed to the analysis through Facts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guardsh.facts import files, gather


def _tree(root: Path) -> None:
    (root / "deploy" / "sub").mkdir(parents=True)
    (root / "deploy" / "b.yaml").write_text("kind: Service\n")
    (root / "deploy" / "a.yml").write_text("kind: Pod\nmetadata: {name: x}\n")
    (root / "deploy" / "sub" / "c.json").write_text("{}")
    os.symlink(root / "deploy" / "sub", root / "deploy" / "link")


def test_lister_lists_sorted_entries_relative_to_cwd(tmp_path: Path) -> None:
    _tree(tmp_path)
    list_dir = files.lister(str(tmp_path))
    listing = list_dir("deploy")
    assert listing is not None
    assert [(name, is_dir) for name, is_dir, _ in listing] == [
        ("a.yml", False),
        ("b.yaml", False),
        ("link", False),  # a symlink to a directory is not walked into
        ("sub", True),
    ]
    assert listing[:2] == (("a.yml", False, 30), ("b.yaml", False, 14))
    assert list_dir(str(tmp_path / "deploy" / "sub")) == (("c.json", False, 2),)
    assert list_dir("deploy/./sub/") == (("c.json", False, 2),)
    assert list_dir("deploy/link") == (("c.json", False, 2),)  # the path itself may be a link


def test_lister_says_none_for_files_missing_paths_and_huge_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)
    list_dir = files.lister(str(tmp_path))
    assert list_dir("deploy/b.yaml") is None
    assert list_dir("nowhere") is None
    monkeypatch.setattr(files, "MAX_ENTRIES", 3)
    assert files.lister(str(tmp_path))("deploy") is None


def test_lister_caches_what_it_listed(tmp_path: Path) -> None:
    _tree(tmp_path)
    list_dir = files.lister(str(tmp_path))
    first = list_dir("deploy/sub")
    (tmp_path / "deploy" / "sub" / "d.yaml").write_text("")
    assert list_dir("deploy/sub") == first


def test_reader_reads_files_not_directories(tmp_path: Path) -> None:
    _tree(tmp_path)
    read = files.reader(str(tmp_path))
    assert read("deploy/b.yaml") == "kind: Service\n"
    assert read("deploy") is None
    assert read("missing.yaml") is None


def test_gathered_facts_carry_the_lister(tmp_path: Path) -> None:
    _tree(tmp_path)
    snap = gather.snapshot(variables={"HOME": str(tmp_path)}, cwd=str(tmp_path), hostname="h")
    facts = gather.facts(snap)
    assert facts.extra["list_dir"]("deploy/sub") == (("c.json", False, 2),)
    assert {"kubeconfig", "kube_errors", "ssh_hosts", "resolve_pids"} <= set(facts.extra)
    assert "processes_read" not in facts.extra


def test_reader_never_opens_a_fifo_or_a_terminal(tmp_path: Path) -> None:
    """`cat < fifo` or `psql < /dev/tty` must not block the analysis (and the
    shell) until someone writes: only regular files are read."""
    import threading

    fifo = tmp_path / "ff"
    os.mkfifo(fifo)
    read = files.reader(str(tmp_path))
    got: list[object] = []
    t = threading.Thread(target=lambda: got.extend([read("ff"), read("/dev/null")]), daemon=True)
    t.start()
    t.join(timeout=5)
    assert not t.is_alive(), "the reader blocked on a FIFO"
    assert got == [None, None]
