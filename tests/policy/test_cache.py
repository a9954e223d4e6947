"""The compiled-policy cache: a warm start parses no YAML; any change to a
layer (content, a new file, a chmod, an upgrade) invalidates it; a planted or
foreign cache file is never trusted."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from guardsh.policy import cache, layers, merge
from tests.policy.conftest import OLD, World


def entries(world: World) -> list[Path]:
    folder = world.home / ".cache" / "guardsh"
    return sorted(folder.glob("policy-*.pickle")) if folder.exists() else []


def refuse_to_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, compiling a policy is a test failure."""

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("the policy was compiled instead of read from the cache")

    monkeypatch.setattr(merge, "compile_layers", boom)
    monkeypatch.setattr(layers, "plan", boom)


def test_a_warm_start_reads_the_cache_not_the_yaml(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.system("10-site.yaml", "settings:\n  user_layer: loosen\n")
    world.user("rules:\n  - id: mine\n    require: warn\n")
    cold = world.load(use_cache=True)
    assert len(entries(world)) == 1
    cache.clear_memo()
    refuse_to_compile(monkeypatch)
    warm = world.load(use_cache=True)
    assert warm == cold and warm.sha256 == cold.sha256
    assert warm.rule("mine") is not None


@pytest.mark.parametrize("change", ["edit", "add", "chmod", "user", "remove"])
def test_any_change_to_a_layer_invalidates(world: World, change: str) -> None:
    site = world.system("10-site.yaml", "settings:\n  user_layer: loosen\n")
    user = world.user("rules:\n  - id: mine\n    require: warn\n")
    before = world.load(use_cache=True)
    assert len(entries(world)) == 1  # cached, so the change below must invalidate it
    assert world.load(use_cache=True) == before
    if change == "edit":
        world.system("10-site.yaml", "settings:\n  user_layer: ignore\n")
    elif change == "add":
        world.system("20-more.yaml", "rules:\n  - id: more\n    require: confirm\n")
    elif change == "chmod":
        site.chmod(0o666)
    elif change == "user":
        world.user("rules:\n  - id: mine\n    require: type\n")
    else:
        user.unlink()
    os.utime(world.etc / "policy.d", (OLD, OLD))  # a folder mtime alone must not be the key
    after = world.load(use_cache=True)
    assert after.sha256 != before.sha256
    expected = {
        "edit": lambda p: p.rule("mine") is None,
        "add": lambda p: p.rule("more") is not None,
        "chmod": lambda p: bool(p.errors),
        "user": lambda p: str(p.rule("mine").require) == "type",
        "remove": lambda p: p.rule("mine") is None,
    }[change]
    assert expected(after)


def test_a_file_written_just_now_is_not_cached(world: World) -> None:
    path = world.user("rules:\n  - id: mine\n    require: warn\n")
    os.utime(path, None)  # now: a second edit in the same tick could go unseen
    world.load(use_cache=True)
    assert entries(world) == []


def test_the_memo_is_revalidated_in_process(world: World) -> None:
    world.user("rules:\n  - id: a\n    require: warn\n")
    env = world.env
    first = layers.effective(environ=env, etc_dir=str(world.etc))
    assert layers.effective(environ=env, etc_dir=str(world.etc)) is first
    world.user("rules:\n  - id: b\n    require: warn\n")
    second = layers.effective(environ=env, etc_dir=str(world.etc))
    assert second.rule("b") is not None and second.rule("a") is None


class Evil:
    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, ("touch /tmp/guardsh-pwned",))


def test_a_planted_pickle_never_runs_code(world: World, tmp_path: Path) -> None:
    world.user("rules:\n  - id: a\n    require: warn\n")
    world.load(use_cache=True)
    (entry,) = entries(world)
    entry.write_bytes(pickle.dumps(Evil()))
    cache.clear_memo()
    marker = Path("/tmp/guardsh-pwned")
    marker.unlink(missing_ok=True)
    p = world.load(use_cache=True)
    assert not marker.exists()
    assert p.rule("a") is not None


def test_a_cache_file_others_can_write_is_ignored(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.user("rules:\n  - id: a\n    require: warn\n")
    world.load(use_cache=True)
    (entry,) = entries(world)
    entry.chmod(0o666)
    cache.clear_memo()
    roots = layers._roots(world.env, (), str(world.etc))
    assert cache.load(roots, world.env) is None
    entry.chmod(0o600)
    assert cache.load(roots, world.env) is not None


def test_an_unwritable_cache_dir_only_costs_speed(world: World) -> None:
    (world.home / ".cache").mkdir(parents=True)
    (world.home / ".cache" / "guardsh").write_text("not a folder")
    world.user("rules:\n  - id: a\n    require: warn\n")
    assert world.load(use_cache=True).rule("a") is not None


def test_old_entries_are_pruned(world: World, tmp_path: Path) -> None:
    for i in range(cache.MAX_ENTRIES + 4):
        p = world.write(tmp_path / f"p{i}.yaml", f"rules:\n  - id: r{i}\n    require: warn\n")
        world.load(use_cache=True, args=(str(p),))
    assert len(entries(world)) == cache.MAX_ENTRIES
