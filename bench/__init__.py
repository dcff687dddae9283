"""Benchmark harness: Kamaros against git, dulwich, borg and restic (`python -m bench`).

corpus.py   deterministic corpora (mixed, small files, one big file) and the edit step
measure.py  one command as a whole process: wall seconds, peak RSS (GNU time or psutil)
tools.py    one adapter per tool: init, snapshot, restore into an empty folder, repo size
verify.py   byte-for-byte check of every restore against its source tree
runner.py   the step sequence for every tool and repetition on a fresh copy
micro.py    in-process micro-benchmarks (1 MB text edits), memory scaling, event loop
latency.py  the Qt child process that measures event-loop gaps during a checkpoint
source.py   which kamaros_app is measured (working tree or a git revision)
report.py   ratio tables, target verdicts, JSON results, Markdown for the README
breakdown.py  where a project's `.kamaros/` bytes go (live and dead entries, headers)
"""
