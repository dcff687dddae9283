"""The benchmark harness end to end on tiny corpora (`python -m bench --smoke`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STEPS = ("init", "first", "unchanged", "mutated", "restore")


@pytest.mark.timeout(120)
def test_smoke_run_measures_every_step_and_verifies_restores(tmp_path: Path) -> None:
    tools = "kamaros,git" if shutil.which("git") else "kamaros"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--tools", tools, "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "K/best" in proc.stdout
    assert "== targets" in proc.stdout
    results = json.loads((tmp_path / "latest.json").read_text())
    assert list(tmp_path.glob("results-*.json"))
    assert results["machine"]["cpu_count"] >= 1
    assert 0 < results["machine"]["python_loop_s_at_start"] < 60
    assert 0 < results["machine"]["python_loop_s_at_end"] < 60
    assert "machine speed: a fixed pure-Python loop took" in proc.stdout
    assert set(results["corpora"]) == {"mixed", "small", "big"}
    for name, corpus in results["corpora"].items():
        for tool in tools.split(","):
            result = corpus["tools"][tool]
            assert result["status"] == "ok", (name, tool, result["note"])
            assert result["verified"] is True
            run = result["runs"][0]
            for step in STEPS:
                assert run[step]["wall_s"] > 0, (name, tool, step)
            assert run["restore"]["verified_files"] == corpus["files"]
            assert run["mutated"]["repo_bytes"] > 0
        assert any(row["ratio"] for row in corpus["table"]) or tools == "kamaros"
    edits = results["micro"]["text_edits"]
    assert edits["verified"] and edits["store_ms_median"] > 0
    assert any(t["verdict"] in ("PASS", "MISS") for t in results["targets"])
    assert not (tmp_path / "runs").exists()


def test_corpus_and_mutation_are_deterministic(tmp_path: Path) -> None:
    from bench.corpus import copy_tree, ensure_corpus, mutate, specs

    spec = specs("smoke")["mixed"]
    a = ensure_corpus(spec, tmp_path / "a", log=False)
    b = ensure_corpus(spec, tmp_path / "b", log=False)
    assert (a.files, a.bytes, a.texts, a.binaries) == (b.files, b.bytes, b.texts, b.binaries)
    for work, corpus in ((tmp_path / "wa", a), (tmp_path / "wb", b)):
        copy_tree(corpus, work)
        assert mutate(corpus, work)["texts"] >= 1
    for rel in [*a.texts, *a.binaries]:
        assert (tmp_path / "wa" / rel).read_bytes() == (tmp_path / "wb" / rel).read_bytes(), rel
    changed = [
        r for r in a.texts if (a.tree / r).read_bytes() != (tmp_path / "wa" / r).read_bytes()
    ]
    assert changed and len(changed) <= max(1, len(a.texts) // 50)


def test_run_folders_are_marked_to_spread_over_fresh_block_groups(tmp_path: Path) -> None:
    from bench.fresh_inodes import spread_new_folders, spreads_new_folders

    runs = tmp_path / "runs"
    runs.mkdir()
    assert not spreads_new_folders(runs)
    why_not = spread_new_folders(runs)
    if why_not is not None:
        pytest.skip(f"{tmp_path} cannot carry the flag: {why_not}")
    assert spreads_new_folders(runs)
    assert spread_new_folders(runs) is None  # already set: nothing to do, no error
    assert not spreads_new_folders(tmp_path)  # only the folder asked for
