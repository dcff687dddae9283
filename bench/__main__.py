"""`python -m bench`: Kamaros against git, dulwich, borg and restic on the same corpora.

python -m bench                 # full corpora (~3 GB), 3 repetitions, all tools
python -m bench --quick         # scaled-down corpora, a few minutes
python -m bench --smoke         # tiny corpora, kamaros + git, 1 repetition (tests)
python -m bench --corpus mixed --tools kamaros,borg --repeat 5
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .corpus import ensure_corpus, specs
from .fresh_inodes import spread_new_folders
from .micro import event_loop, memory_scaling, text_edits
from .report import corpus_rows, evaluate_targets, render, write_results
from .runner import run_corpus
from .source import precompile, precompile_dependencies, use_revision
from .tools import TOOLS, env_summary

REPO = Path(__file__).resolve().parent.parent
ALL_CORPORA = ("mixed", "small", "big")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="scaled-down corpora (minutes)")
    scale.add_argument(
        "--smoke", action="store_true", help="tiny corpora, kamaros + git, 1 repetition"
    )
    p.add_argument("--corpus", default=",".join(ALL_CORPORA), help="mixed,small,big")
    p.add_argument("--tools", default=None, help=f"comma list of {','.join(TOOLS)}")
    p.add_argument("--repeat", type=int, default=None, help="repetitions (default 3)")
    p.add_argument("--out", type=Path, default=REPO / "build" / "bench", help="results folder")
    p.add_argument("--cache", type=Path, default=None, help="corpus cache (default OUT/corpus)")
    p.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    p.add_argument("--no-latency", action="store_true", help="skip the event-loop check")
    p.add_argument("--keep", action="store_true", help="keep the per-run folders")
    p.add_argument(
        "--kamaros-rev",
        default=None,
        help="measure kamaros_app/ as of this git revision (default: the working tree)",
    )
    args = p.parse_args(argv)
    args.scale = "smoke" if args.smoke else "quick" if args.quick else "full"
    if args.repeat is None:
        args.repeat = 1 if args.smoke else 3
    if args.tools is None:
        args.tools = "kamaros,git" if args.smoke else ",".join(TOOLS)
    args.tool_list = [t.strip() for t in args.tools.split(",") if t.strip()]
    args.corpus_list = [c.strip() for c in args.corpus.split(",") if c.strip()]
    for t in args.tool_list:
        if t not in TOOLS:
            p.error(f"unknown tool {t!r} (known: {', '.join(TOOLS)})")
    for c in args.corpus_list:
        if c not in ALL_CORPORA:
            p.error(f"unknown corpus {c!r} (known: {', '.join(ALL_CORPORA)})")
    if "kamaros" not in args.tool_list:
        args.tool_list.insert(0, "kamaros")
    if args.repeat < 1:
        p.error("--repeat needs at least 1")
    return args


def python_loop_s() -> float:
    """Best of 3 timings of a fixed pure-Python loop: how fast this VM ran Python just now.

    Taken at the start and the end of a run, it tells runs on a slow afternoon from
    changes in the code: Kamaros is mostly Python, the peers are C and Go, so a slow phase
    of the machine moves the ratios (one run here: 0.47-0.55 s, others ~30% faster).
    """
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        sum(range(30_000_000))
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""

    def git(*cmd: str) -> str:
        out = subprocess.run(["git", *cmd], cwd=REPO, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "load_average_at_start": os.getloadavg(),
        "python_loop_s_at_start": python_loop_s(),
        "repo_commit": git("rev-parse", "HEAD") if shutil.which("git") else "",
        "repo_dirty": bool(git("status", "--porcelain", "--untracked-files=no"))
        if shutil.which("git")
        else None,
        "tool_versions": env_summary(),
        "measured_with": "/usr/bin/time -f %M"
        if os.access("/usr/bin/time", os.X_OK)
        else "psutil polling",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out.resolve()
    cache = (args.cache or out / "corpus").resolve()
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    spread_failed = spread_new_folders(runs)
    started = time.time()
    kamaros_source = "working tree"
    precompile_dependencies()
    if args.kamaros_rev:
        kamaros_source = use_revision(REPO, args.kamaros_rev, out)
    else:
        precompile(REPO / "kamaros_app")
    results: dict[str, Any] = {
        "machine": machine_info(),
        "options": {
            "scale": args.scale,
            "repeat": args.repeat,
            "corpora": args.corpus_list,
            "tools": args.tool_list,
            "kamaros_source": kamaros_source,
            "run_folders": spread_failed or "each in fresh ext4 block groups (FS_TOPDIR_FL)",
        },
        "corpora": {},
        "micro": {},
    }
    print(
        f"bench: scale {args.scale}, {args.repeat} repetition(s), tools {args.tool_list}, "
        f"kamaros from {kamaros_source}"
    )
    print(f"tool versions: {results['machine']['tool_versions']}", flush=True)
    if spread_failed:
        print(f"note: run folders share block groups ({spread_failed}); see bench/fresh_inodes.py")
    all_specs = specs(args.scale)
    corpora = {}
    for name in args.corpus_list:
        corpus = ensure_corpus(all_specs[name], cache)
        corpora[name] = corpus
        print(f"corpus {name}: {corpus.files:,} files, {corpus.bytes / 1e6:,.1f} MB", flush=True)
        tools = run_corpus(corpus, args.tool_list, args.repeat, runs, keep=args.keep)
        results["corpora"][name] = {
            "scale": args.scale,
            "repeat": args.repeat,
            "files": corpus.files,
            "bytes": corpus.bytes,
            "spec_hash": corpus.spec.digest(),
            "tools": tools,
            "_rows": corpus_rows(tools),
        }
    if not args.no_micro:
        size = 100_000 if args.smoke else 1_000_000
        versions = 3 if args.smoke else 20
        print(f"micro: {versions} edits of a {size / 1e6:g} MB text file", flush=True)
        try:
            results["micro"]["text_edits"] = text_edits(runs, size=size, versions=versions)
        except Exception as exc:  # a broken engine must not lose the tables measured so far
            traceback.print_exc()
            results["micro"]["text_edits_failed"] = f"{type(exc).__name__}: {exc}"
        if "big" in corpora and not args.smoke:
            print("micro: peak memory on a 32 times smaller big file", flush=True)
            results["micro"]["memory_scaling"] = memory_scaling(corpora["big"], cache, runs)
        if not args.no_latency and not args.smoke:
            mixed = corpora.get("mixed") or ensure_corpus(all_specs["mixed"], cache)
            print("micro: event-loop gaps while checkpointing the mixed corpus", flush=True)
            results["micro"]["event_loop"] = event_loop(mixed, runs, args.repeat)
    results["targets"] = evaluate_targets(results)
    results["elapsed_s"] = round(time.time() - started, 1)
    results["machine"]["python_loop_s_at_end"] = python_loop_s()
    print()
    print(
        "machine speed: a fixed pure-Python loop took "
        f"{results['machine']['python_loop_s_at_start']:.3f} s at the start, "
        f"{results['machine']['python_loop_s_at_end']:.3f} s at the end (lower is faster)"
    )
    print(render(results))
    path = write_results(results, out)
    print(f"\nresults: {path} (and {out / 'latest.json'}); took {results['elapsed_s']:.0f} s")
    shutil.rmtree(runs, ignore_errors=True)
    failed = [
        f"{c}/{t}"
        for c, corpus in results["corpora"].items()
        for t, r in corpus["tools"].items()
        if r["status"] == "failed"
    ]
    failed += [k for k in results["micro"] if k.endswith("_failed")]
    if "failed" in results["micro"].get("event_loop", {}):
        failed.append("event_loop")
    if failed:
        print(f"FAILED: {', '.join(failed)} (see the notes above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
