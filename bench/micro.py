"""In-process micro-benchmarks through the engine's Python API, plus the latency child.

- text edits: a ~1 MB source file, N successive versions with 1% of lines edited each:
  time of `Project.checkpoint` for that one file, time of just the reverse patch
  (`textdelta.make_patch`), then reading back every old version (`History.read_file`).
- event loop: `bench.latency` in a subprocess (Qt offscreen) on a copy of a corpus.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .corpus import Corpus, CorpusSpec, TextMaker, copy_tree, ensure_corpus
from .runner import run_corpus

__all__ = ["edit_lines", "event_loop", "memory_scaling", "text_edits"]


def edit_lines(text: str, fraction: float, rng: random.Random, maker: TextMaker) -> str:
    """`text` with `fraction` of its lines slightly changed (a word replaced or appended)."""
    lines = text.split("\n")
    count = max(1, round(len(lines) * fraction))
    for i in rng.sample(range(len(lines)), count):
        words = lines[i].split(" ")
        if len(words) > 1 and rng.random() < 0.5:
            words[rng.randrange(len(words))] = maker.words(1)[0]
            lines[i] = " ".join(words)
        else:
            lines[i] = lines[i] + " " + maker.words(1)[0]
    return "\n".join(lines)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def text_edits(
    work: Path, size: int = 1_000_000, versions: int = 20, seed: int = 7
) -> dict[str, Any]:
    """Store `versions` edits of one ~`size`-byte text file, then read every version back."""
    import kamaros_app
    from kamaros_app.engine import Project
    from kamaros_app.engine.textdelta import make_patch

    maker = TextMaker(seed)
    rng = random.Random(seed)
    root = work / "micro-text"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    path = root / "module.py"
    text = maker.code(size)
    lines = len(text.split("\n"))
    path.write_text(text, "utf-8")
    kept: list[tuple[str, bytes]] = []
    store_s: list[float] = []
    patch_s: list[float] = []
    with Project.init(root) as project:
        kept.append((project.checkpoint("original").id, text.encode()))
        for n in range(versions):
            new = edit_lines(text, 0.01, rng, maker)
            start = time.perf_counter()
            make_patch(new, text)
            patch_s.append(time.perf_counter() - start)
            path.write_text(new, "utf-8")
            start = time.perf_counter()
            info = project.checkpoint(f"edit {n + 1}")
            store_s.append(time.perf_counter() - start)
            kept.append((info.id, new.encode()))
            text = new
    # Each version is read by a freshly opened project, so no cache of earlier reads helps;
    # the open itself is timed apart.
    read_s: list[float] = []
    open_s: list[float] = []
    for version_id, expected in kept:
        start = time.perf_counter()
        with Project.open(root, read_only=True) as project:
            opened = time.perf_counter()
            data = project.read_file(version_id, "module.py")
            read_s.append(time.perf_counter() - opened)
            open_s.append(opened - start)
        if data != expected:
            raise AssertionError(f"version {version_id[:8]} of module.py read back wrong")
    history_bytes = (root / ".kamaros" / "project.jcf").stat().st_size
    shutil.rmtree(root)
    return {
        "file_bytes": len(kept[0][1]),
        "versions": versions,
        "lines": lines,
        "lines_edited_per_version": max(1, round(lines * 0.01)),
        "store_ms_median": _ms(statistics.median(store_s)),
        "store_ms_max": _ms(max(store_s)),
        "patch_ms_median": _ms(statistics.median(patch_s)),
        "patch_ms_max": _ms(max(patch_s)),
        "read_ms_median": _ms(statistics.median(read_s)),
        "read_ms_max": _ms(max(read_s)),
        "read_ms_oldest": _ms(read_s[0]),
        "open_ms_median": _ms(statistics.median(open_s)),
        "history_bytes": history_bytes,
        "verified": True,
        "kamaros_app": str(Path(kamaros_app.__file__).parent),
    }


def event_loop(corpus: Corpus, work: Path, attempts: int) -> dict[str, Any]:
    """Longest event-loop gap while the window's worker checkpoints a copy of `corpus`."""
    try:
        import PySide6  # noqa: F401
    except ImportError:
        return {"skipped": "PySide6 is not installed (uv sync --extra gui)"}
    runs: list[dict[str, Any]] = []
    for attempt in range(attempts):
        root = work / f"latency-{attempt}"
        if root.exists():
            shutil.rmtree(root)
        copy_tree(corpus, root)
        os.sync()
        # Started outside the repository, so that `-m` does not put the working tree first
        # on sys.path: PYTHONPATH decides which kamaros_app is imported (see source.py).
        paths = [os.environ.get("PYTHONPATH", ""), str(Path(__file__).resolve().parent.parent)]
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        }
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "bench.latency", str(root)],
                capture_output=True,
                text=True,
                env=env,
                timeout=1800,
                check=False,
                cwd=work,
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)
        if proc.returncode != 0:
            return {"failed": proc.stderr[-2000:], "runs": runs}
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    worst = [r["max_gap_ms"] for r in runs]
    return {
        "corpus": corpus.spec.name,
        "runs": runs,
        "max_gap_ms_median": statistics.median(worst),
        "max_gap_ms_best": min(worst),
        "checkpoint_s_median": statistics.median(r["checkpoint_s"] for r in runs),
    }


def memory_scaling(big: Corpus, cache: Path, work: Path, divisor: int = 32) -> dict[str, Any]:
    """Kamaros's peak RSS on a file `divisor` times smaller than the big corpus's, for
    comparison with the big corpus run: memory should not grow with the file size."""
    spec = CorpusSpec(
        f"big-{divisor}th", "big", seed=big.spec.seed, big_size=big.spec.big_size // divisor
    )
    small = ensure_corpus(spec, cache)
    result = run_corpus(small, ["kamaros"], 1, work)["kamaros"]
    if not result.get("median"):
        return {"failed": result.get("note", "")}
    med = result["median"]
    return {
        "file_bytes": small.bytes,
        "rss_mb": {step: med[step]["rss_mb"] for step in ("first", "mutated", "restore")},
    }
