"""The file dry run on real trees in temporary directories: counts, bytes,
symlinks (never followed), globs, rsync --delete, truncation, mount points,
protected paths, and the time bound ("at least N files")."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from guardsh.confirm.providers import files
from tests.confirm.dryrun_support import dry, one


def tree(root: Path) -> Path:
    """root/data: 5 files (1000 + 4x10 bytes) in 3 directories, plus a symlink
    to a directory outside it that holds a 5000-byte file."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "keep.bin").write_bytes(b"k" * 5000)
    data = root / "data"
    (data / "a" / "b").mkdir(parents=True)
    (data / "big.bin").write_bytes(b"x" * 1000)
    for i, d in enumerate(["", "a", "a/b", "a/b"]):
        (data / d / f"f{i}.txt").write_bytes(b"y" * 10)
    (data / "link").symlink_to(outside)
    return data


def test_rm_rf_counts_without_following_links(tmp_path: Path) -> None:
    data = tree(tmp_path)
    _, results = dry("rm -rf data", cwd=tmp_path)
    r = one(results, "fs.delete_recursive")
    assert r.status == "ok", r.lines
    t = r.data["total"]
    assert (t["files"], t["dirs"], t["symlinks"], t["bytes"]) == (5, 3, 1, 1040)
    assert t["complete"] is True
    assert r.lines[0] == "rm removes 5 files, 3 directories, 1 symlink, 1.0 KiB"
    assert data.exists() and (tmp_path / "outside" / "keep.bin").exists()


def test_a_symlink_argument_removes_only_the_link(tmp_path: Path) -> None:
    tree(tmp_path)
    (tmp_path / "alias").symlink_to(tmp_path / "data")
    r = one(dry("rm -rf alias", cwd=tmp_path)[1], "fs.delete_recursive")
    assert r.lines[0].endswith("0 files, 0 directories, 1 symlink, 0 B")
    assert "only the link goes" in r.lines[1]


def test_glob_and_find_and_missing(tmp_path: Path) -> None:
    tree(tmp_path)
    r = one(dry("rm -rf data/a/*", cwd=tmp_path)[1], "fs.delete_recursive")
    assert (r.data["total"]["files"], r.data["total"]["dirs"]) == (3, 1)
    assert "in 2 paths" in r.lines[0]
    r = one(dry("find data -name '*.txt' -delete", cwd=tmp_path)[1], "fs.delete_recursive")
    assert r.lines[0].startswith("find removes up to 5 files")
    assert any("upper bound" in ln for ln in r.lines)
    r = one(dry("rm -rf nothing-here", cwd=tmp_path)[1], "fs.delete_recursive")
    assert r.status == "ok" and "does not exist now" in " ".join(r.lines)


def test_rsync_delete_counts_what_the_source_lacks(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "d").mkdir(parents=True)
    (dst / "d").mkdir(parents=True)
    (src / "same.txt").write_text("s")
    (dst / "same.txt").write_text("s")
    (dst / "extra1.txt").write_bytes(b"e" * 100)
    (dst / "d" / "extra2.txt").write_bytes(b"e" * 50)
    (dst / "old").mkdir()
    (dst / "old" / "x").write_bytes(b"e" * 7)
    r = one(dry("rsync -a --delete src/ dst/", cwd=tmp_path)[1], "fs.delete_recursive")
    assert r.status == "ok", r.lines
    t = r.data["total"]
    assert (t["files"], t["dirs"], t["bytes"]) == (3, 1, 157)


def test_truncation_and_overwrite(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(b"l" * 4096)
    r = one(dry("truncate -s 0 app.log", cwd=tmp_path)[1], "fs.truncate")
    assert r.data["paths"][0]["bytes"] == 4096
    assert "4.0 KiB" in r.lines[0] and "emptied" in r.lines[0]
    r = one(dry("echo hi > app.log", cwd=tmp_path)[1], "fs.overwrite")
    assert r.data["paths"][0]["exists"] is True


def test_protected_paths() -> None:
    assert files.protected_in("/var") == ["/var/lib/postgresql", "/var/lib/mysql", "/var",
                                          "/var/lib"]  # fmt: skip
    assert "/" in files.protected_in("/")
    assert files.protected_in("/srv/app") == []
    r = one(dry("rm -rf /etc", timeout=3.0)[1], "fs.delete_recursive")
    assert r.status == "ok"
    assert "protected path: /etc" in r.lines
    assert os.path.isdir("/etc")


def test_the_walk_stops_at_its_time_bound(tmp_path: Path) -> None:
    big = tmp_path / "big"
    for i in range(60):
        d = big / f"d{i}"
        d.mkdir(parents=True)
        for j in range(500):
            (d / f"f{j}").touch()
    t0 = time.monotonic()
    r = one(dry("rm -rf big", cwd=tmp_path, timeout=0.4)[1], "fs.delete_recursive")
    took = time.monotonic() - t0
    assert r.status == "ok"
    total = r.data["total"]
    if total["complete"]:  # a very fast disk walked all 30,060 entries in 0.15 s
        assert total["files"] == 30000
    else:
        assert r.lines[0].startswith("rm removes at least ")
        assert 0 < total["files"] < 30000
        assert "the walk stopped at its time limit: there is more" in r.lines
    assert took < 1.5
    full = files.walk(str(big), time.monotonic() + 60)
    assert (full.files, full.dirs, full.complete) == (30000, 61, True)
    cut = files.walk(str(big), time.monotonic() - 1)
    assert not cut.complete and cut.files < 30000


@contextmanager
def mounted(fstype: str, source: str, mnt: Path) -> Iterator[Path]:
    """`mount -t fstype source mnt` for the test; skipped where mounting is not allowed."""
    mnt.mkdir()
    if subprocess.run(["mount", "-t", fstype, source, str(mnt)], capture_output=True,
                      check=False).returncode != 0:  # fmt: skip
        pytest.skip(f"mounting {fstype} is not permitted here (needs root, no container limits)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_a_nested_mount_is_named(tmp_path: Path) -> None:
    data = tree(tmp_path)
    with mounted("tmpfs", "none", data / "a" / "mnt") as mnt:
        (mnt / "on-mount.txt").write_bytes(b"m" * 3)
        r = one(dry("rm -rf data", cwd=tmp_path)[1], "fs.delete_recursive")
        assert r.data["total"]["mounts"] == [str(mnt)]
        assert f"crosses the mount point {mnt}: that filesystem's files go too" in r.lines
        assert r.data["total"]["files"] == 6


def test_a_listing_refused_halfway_is_counted_not_raised() -> None:
    """Reading /proc/1/map_files fails while iterating (not at scandir): the
    walk of `rm -rf /` used to end there with a PermissionError."""
    t = files.walk("/proc/1", time.monotonic() + 20)
    assert t.dirs > 0


def test_kernel_filesystems_are_named_not_walked(tmp_path: Path) -> None:
    data = tree(tmp_path)
    with mounted("proc", "proc", data / "a" / "kernel") as mnt:
        assert str(mnt) in files.pseudo_mounts()
        r = one(dry("rm -rf data", cwd=tmp_path)[1], "fs.delete_recursive")
        assert r.data["total"]["mounts"] == [str(mnt)]
        assert f"crosses {mnt}, a kernel filesystem (not counted)" in r.lines
        assert r.data["total"]["files"] == 5  # the tree's own files, none from /proc
