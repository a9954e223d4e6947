"""Every line of the real-world corpus gets a verdict through `check --batch`.

The corpus (tests/corpora/tldr_commands.txt, tldr-pages, CC BY 4.0) is
unlabeled: a line may only be refused when it really is incomplete, and then
bash agrees (`bash -n` rejects it too).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "corpora" / "tldr_commands.txt"


@pytest.mark.slow
def test_every_corpus_line_gets_a_verdict(tmp_path: Path) -> None:
    assert CORPUS.exists(), f"the corpus is missing: {CORPUS}"
    lines = [
        ln
        for ln in CORPUS.read_bytes().decode("utf-8", "surrogateescape").split("\n")
        if ln.strip()
    ]
    batch = tmp_path / "corpus.jsonl"
    batch.write_text(
        "".join(json.dumps({"cmd": ln, "hostname": "bastion-1"}) + "\n" for ln in lines)
    )
    r = subprocess.run(
        [sys.executable, "-m", "guardsh", "check", "--batch", str(batch)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == len(lines)
    errors = [(ln, o["error"]) for ln, o in zip(lines, out, strict=True) if "error" in o]
    for ln, err in errors:
        assert err.startswith("incomplete command"), (ln, err)
        bash = subprocess.run(["bash", "-n", "-c", ln], capture_output=True, text=True)
        assert bash.returncode != 0, f"bash accepts a line guardsh refused: {ln!r} ({err})"
    assert len(errors) < 20
    verdicts = [o for o in out if "verdict" in o]
    assert all(
        o["verdict"] in {"allow", "warn", "confirm", "type", "dry-run", "deny"} for o in verdicts
    )
    assert not [o for o in verdicts if o["notes"]], "an analyzer failed on a corpus line"
