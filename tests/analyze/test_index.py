"""The generated program -> family index matches what the families register,
and loading by program gives the same analyzers, in the same order, as
loading everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from guardsh import analyze
from guardsh.analyze import index, registry, reindex

STALE = "guardsh/analyze/index.py is stale: run `python -m guardsh.analyze.reindex`"


def test_index_is_current() -> None:
    current = Path(index.__file__).read_text()
    assert current == reindex.render(), STALE


def test_every_family_is_indexed_or_a_fallback() -> None:
    named = set(index.FALLBACK) | {f for fams in index.PROGRAMS.values() for f in fams}
    assert named == set(analyze.FAMILIES)


def test_load_for_orders_like_load_all() -> None:
    analyze.load_all()
    for program in index.PROGRAMS:
        got = [fn.__module__ for fn in analyze.analyzers_for(program)]
        rank = [analyze.FAMILIES.index(m.rsplit(".", 1)[1]) for m in got]
        assert rank == sorted(rank), program
        assert set(got) == {fn.__module__ for fn in registry.analyzers_for(program)}


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {m for m in out.split() if m.startswith("guardsh.analyze.")}


def test_a_line_loads_only_the_families_it_needs() -> None:
    """A fresh process checking `kubectl delete ns x` imports the k8s family and
    the fallbacks, not the cloud or SQL families, and still finds the delete."""
    code = (
        "import datetime as dt\n"
        "from guardsh.facts import gather\n"
        "from guardsh.pipeline import check\n"
        "from guardsh.policy.load import default_text, merge\n"
        "snap = gather.snapshot()\n"
        "d = check('kubectl delete ns x', snap,"
        " merge([('default', default_text())]), dt.datetime.now(dt.UTC),"
        " gather.facts(snap))\n"
        "assert [f.action for f in d.findings] == ['k8s.delete'], d.findings\n"
    )
    loaded = _modules_after(code)
    assert "guardsh.analyze.k8s" in loaded
    assert {f"guardsh.analyze.{f}" for f in index.FALLBACK} <= loaded
    assert (
        not {"guardsh.analyze.sql", "guardsh.analyze.cloud_aws", "guardsh.analyze.mongo"} & loaded
    )
