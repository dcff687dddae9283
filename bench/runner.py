"""The step sequence: every tool, every repetition, on a fresh copy of one corpus."""

from __future__ import annotations

import os
import shutil
import statistics
import traceback
from pathlib import Path
from typing import Any

from .corpus import Corpus, copy_tree, mutate
from .fresh_inodes import spread_new_folders
from .measure import CommandFailed
from .tools import Tool, make_tool
from .verify import RestoreMismatch, compare_trees

__all__ = ["STEPS", "run_corpus"]

STEPS = ("init", "first", "unchanged", "mutated", "restore")
"""Step keys in order: init (timed apart), first snapshot, again with nothing changed, after
the mutation, full restore of the newest snapshot into an empty folder."""

SNAPSHOT_LABELS = {"first": "first snapshot", "unchanged": "nothing changed", "mutated": "edited"}


def _one_run(tool: Tool, corpus: Corpus, run_dir: Path) -> dict[str, Any]:
    """One repetition of the whole step sequence for one tool; returns its numbers."""
    work = run_dir / "work"
    copy_tree(corpus, work)
    os.sync()  # no write-back of the fresh copy during the timed steps
    tool.setup(run_dir, work)
    out: dict[str, Any] = {}
    m = tool.init()
    out["init"] = {"wall_s": m.wall_s, "rss_mb": m.peak_rss_mb}
    for step in ("first", "unchanged", "mutated"):
        if step == "mutated":
            out["mutation"] = mutate(corpus, work)
            os.sync()
        m = tool.snapshot(SNAPSHOT_LABELS[step], unchanged=step == "unchanged")
        out[step] = {"wall_s": m.wall_s, "rss_mb": m.peak_rss_mb, "repo_bytes": tool.repo_bytes()}
        if step == "unchanged" and m.returncode != 0:
            out[step]["exit_code"] = m.returncode
    dest = run_dir / "restore"
    dest.mkdir()
    m = tool.restore(dest)
    files = compare_trees(work, dest)
    out["restore"] = {
        "wall_s": m.wall_s,
        "rss_mb": m.peak_rss_mb,
        "repo_bytes": tool.repo_bytes(),
        "verified_files": files,
        "mb_per_s": corpus.bytes / 1e6 / m.wall_s if m.wall_s > 0 else 0.0,
    }
    out["extra"] = tool.finish()
    return out


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    med: dict[str, Any] = {}
    for step in (*STEPS, "extra"):
        keys = sorted({k for r in runs for k in r.get(step, {})})
        values = {k: [r[step][k] for r in runs if k in r.get(step, {})] for k in keys}
        med[step] = {k: statistics.median(v) for k, v in values.items() if v}
    return med


def _say(text: str) -> None:
    print(text, flush=True)


def run_corpus(
    corpus: Corpus,
    tool_names: list[str],
    repeat: int,
    runs_dir: Path,
    keep: bool = False,
) -> dict[str, dict[str, Any]]:
    """Run the step sequence `repeat` times for every tool; per tool: status, runs, median."""
    results: dict[str, dict[str, Any]] = {}
    tools: dict[str, Tool] = {}
    runs_dir.mkdir(parents=True, exist_ok=True)
    spread_new_folders(runs_dir)  # main() reports when this cannot be done
    for name in tool_names:
        tool = make_tool(name)
        why = tool.missing()
        if why is None and corpus.spec.kind in tool.skip_kinds:
            why = f"skipped for the {corpus.spec.kind} corpus (too slow / too much memory)"
        results[name] = {"status": "skipped" if why else "ok", "note": why or "", "runs": []}
        if why:
            _say(f"  {name}: {why}")
        else:
            tools[name] = tool
    for rep in range(repeat):
        names = list(tools)
        names = names[rep % len(names) :] + names[: rep % len(names)] if names else names
        for name in names:
            if results[name]["status"] != "ok":
                continue
            run_dir = (runs_dir / f"{corpus.spec.name}-{name}-{rep}").absolute()
            if run_dir.exists():
                shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            try:
                numbers = _one_run(tools[name], corpus, run_dir)
            except (CommandFailed, RestoreMismatch, OSError) as exc:
                kind = "RESTORE DIFFERS" if isinstance(exc, RestoreMismatch) else "FAILED"
                _say(f"  !!! {name} {kind} on {corpus.spec.name} (rep {rep + 1}): {exc}")
                traceback.print_exc()
                results[name].update(status="failed", note=f"{kind}: {str(exc)[:500]}")
                continue
            finally:
                if not keep:
                    shutil.rmtree(run_dir, ignore_errors=True)
            results[name]["runs"].append(numbers)
            _say(
                f"  [{corpus.spec.name} {rep + 1}/{repeat}] {name:10} "
                + "  ".join(f"{s} {numbers[s]['wall_s']:.3f}s" for s in STEPS)
                + f"  repo {numbers['mutated']['repo_bytes'] / 1e6:.1f} MB"
            )
    for result in results.values():
        if result["runs"]:
            result["median"] = _median(result["runs"])
            result["verified"] = result["status"] == "ok" and all(
                r["restore"]["verified_files"] > 0 for r in result["runs"]
            )
    return results
