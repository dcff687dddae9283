"""Write the figures table of docs/RELIABILITY.md from the campaign's figures.

    python -m tests.reliability.report            # rewrite the table in the document
    python -m tests.reliability.report --print    # print it instead
    python -m tests.reliability.report --check    # exit 1 if the document's table is stale

`pytest tests/reliability` writes build/reliability/figures.json (the CI budget) and
`pytest tests/reliability --long` writes build/reliability/figures-long.json. A column
whose figures file is missing keeps the numbers the document already shows, so a CI run
alone refreshes the CI column without erasing the last `--long` figures.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "RELIABILITY.md"
FIGURES = REPO / "build" / "reliability" / "figures.json"
FIGURES_LONG = FIGURES.with_name("figures-long.json")
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


@dataclass(frozen=True)
class Row:
    scenario: str
    found: int
    """Failures the scenario found before the fixes (runs that broke an invariant)."""
    fixed: str
    """Which commit fixed them, and the regression test."""


# The order of the table, and what each scenario found while the campaign was built.
ROWS = [
    Row("kill -9 during checkpoint", 0, ""),
    Row(
        "kill -9 during restore",
        0,
        "",
    ),
    Row("kill -9 during gc", 0, ""),
    Row("kill -9 during export", 0, ""),
    Row(
        "kill -9 during import",
        1,
        "5127c64 (landed in b0c432a): import journal written before the history lands; "
        "`test_kill9.py::test_import_killed_right_after_the_history_landed`",
    ),
    Row("torn last write (cut, zero-filled, garbage tail)", 0, ""),
    Row(
        "leftover temp files cleaned on next open",
        1,
        "84f00cc: a restore that finds the folder at its target clears the journal; "
        "`test_kill9.py::test_restore_killed_after_its_last_file_then_finished`",
    ),
    # test_every_io_op.py: the diskio fault-injection layer; counts are the runs that broke
    # an invariant on the engine as it was before the fixes (c525f4c), all runs counted.
    Row(
        "crash at every I/O operation",
        57,
        "8782dd7: an interruption inside a buffered write no longer turns into BufferError "
        "(`test_diskio.py::test_interrupted_buffered_write_raises_the_interruption`); "
        "6ecc210: an interrupted partial restore is finished by repeating it "
        "(`test_io_faults.py::test_partial_restore_cut_before_its_journal_went_away_is_"
        "finished_by_repeating_it`); 7d62656: export to a folder renames a complete folder "
        "into place (`::test_an_interrupted_export_to_a_folder_does_not_look_finished`)",
    ),
    Row("torn write at every write", 14, "the same three fixes"),
    Row(
        "disk full (ENOSPC) at every I/O operation",
        70,
        "5f20a5c: a full disk while saving the stat cache no longer fails a saved "
        "checkpoint (`test_io_faults.py::test_full_disk_while_saving_the_stat_cache_does_"
        "not_fail_a_saved_checkpoint`); 7d62656: a full disk is a DiskFullError wherever it "
        "is hit (`::test_a_full_disk_is_a_disk_full_error_wherever_it_is_hit`); and the "
        "fixes above",
    ),
    Row(
        "fsync failure (EIO) at every fsync",
        16,
        "5f20a5c: gc and export are not reported failed when the folder flush after the "
        "swap fails (`test_io_faults.py::test_gc_whose_folder_flush_fails_after_the_swap_"
        "is_done`); 7d62656: a failed syncfs is reported "
        "(`::test_a_failed_file_system_flush_is_reported`, found by reading); and the "
        "fixes above",
    ),
    Row("permission denied (EACCES) at every I/O operation", 50, "the fixes above"),
    Row("read-only file system (EROFS) at every I/O operation", 50, "the fixes above"),
    Row(
        "the open project works on after a failed operation",
        0,
        "added after 9b5be11, which it reproduces (20 of 116 runs on 4079e28)",
    ),
    Row("a real process dies at an I/O operation", 0, ""),
    Row(
        "disk full (real tmpfs) during each operation",
        2,
        "9b5be11: a failed checkpoint no longer leaves the open project believing the "
        "contents it stored were kept (the next checkpoint then dropped an old version); "
        "a restore whose recording checkpoint does not fit says the folder was restored; "
        "`test_media_faults.py::test_a_failed_checkpoint_does_not_poison_the_next_one`, "
        "`::test_disk_full_during_restore`",
    ),
    Row(
        "read-only media and permission denied",
        3,
        "bc692ac: read-only open with a notice; unreadable files skipped and reported; "
        "`test_media_faults.py::test_read_only_media`, `::test_permission_denied`",
    ),
    Row(
        "files that change or vanish while being saved",
        1,
        "bc692ac: a file modified within the coarse step of file times is read twice "
        "(found by analysis, see the method section); "
        "`test_media_faults.py::test_files_that_change_while_being_saved`; 2a91dfa (a CI "
        "run): a new file that vanished right after it was read no longer stays in "
        "`content/` (`test_engine.py::test_a_file_that_vanishes_after_it_was_read_leaves_"
        "nothing_behind`)",
    ),
    Row(
        "bit flips and truncations in a container",
        20,
        "aaf4be2: a damaged local header is damage to one entry "
        "(`test_corruption.py::test_a_damaged_local_header_hurts_only_its_own_entry`); "
        "783d148: a damaged newest manifest falls back to the one before "
        "(`::test_a_damaged_newest_manifest_falls_back_to_the_one_before`)",
    ),
    Row(
        "crafted containers (import and viewer)",
        5,
        "bed921c: histories no folder can hold refused before writing, failed imports "
        "undone, exports of them refused, file-map sizes verified; "
        "`test_hostile.py::test_a_file_that_is_also_a_folder_is_refused_before_writing` "
        "and three more",
    ),
    Row("fuzz: manifest reader (hypothesis)", 0, ""),
    Row("fuzz: container readers (hypothesis)", 0, ""),
    Row("fuzz: container and manifest (atheris, coverage-guided)", 0, ""),
    Row("odd folders: names and shapes", 0, ""),
    Row("odd folders: symlinks in the project", 0, ""),
    Row("odd folders: 1 GB sparse file, peak memory", 0, ""),
    Row("odd folders: 5 GB sparse file, peak memory", 0, ""),
    Row("odd folders: 20,000 files", 0, ""),
    Row("odd folders: 100,000 files", 0, ""),
    Row("two processes checkpointing one project", 0, ""),
    Row("a window reading while another process writes", 0, ""),
    Row("lock left by a killed process", 0, ""),
]


def load(path: Path) -> dict[str, dict] | None:
    if not path.exists():
        return None
    return json.loads(path.read_text())["scenarios"]


def previous_columns(doc: str) -> dict[str, tuple[str, str]]:
    """The CI and --long run counts the document's table shows now, by scenario."""
    out: dict[str, tuple[str, str]] = {}
    if START not in doc:
        return out
    table = doc.split(START, 1)[1].split(END, 1)[0]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] not in ("scenario", "") and not set(cells[0]) <= {"-"}:
            out[cells[0]] = (cells[1], cells[2])
    return out


def runs_cell(figures: dict[str, dict] | None, name: str, fallback: str) -> str:
    if figures is None:
        return fallback
    scenario = figures.get(name)
    if scenario is None:
        return "–"
    cell = f"{scenario['runs']:,}"
    if scenario["failures"]:
        cell += f" ({scenario['failures']} FAILED)"
    return cell


def render(doc: str) -> str:
    ci, long = load(FIGURES), load(FIGURES_LONG)
    before = previous_columns(doc)
    names = [row.scenario for row in ROWS]
    rows = list(ROWS)
    for figures in (ci, long):  # scenarios recorded by tests this list does not know yet
        for name in figures or {}:
            if name not in names:
                names.append(name)
                rows.append(Row(name, 0, ""))
    lines = [
        "| scenario | runs in CI | runs in --long | failures found "
        "| fixed by (commit, regression test) |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        old_ci, old_long = before.get(row.scenario, ("–", "–"))
        lines.append(
            f"| {row.scenario} | {runs_cell(ci, row.scenario, old_ci)} | "
            f"{runs_cell(long, row.scenario, old_long)} | {row.found} | {row.fixed or '–'} |"
        )
    notes = []
    for label, figures in (("CI", ci), ("--long", long)):
        for name, scenario in (figures or {}).items():
            for note in scenario.get("notes", []):
                notes.append(f"- {name} ({label}): {note}")
    table = "\n".join(lines)
    if notes:
        table += "\n\nOutcomes of the last runs:\n\n" + "\n".join(sorted(set(notes)))
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="print the table, write nothing")
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args(argv)
    doc = DOC.read_text()
    new = render(doc)
    if args.print:
        print(new.split(START, 1)[1].split(END, 1)[0].strip())
        return 0
    if args.check:
        stale = re.sub(r"\s+", " ", new) != re.sub(r"\s+", " ", doc)
        if stale:
            print("docs/RELIABILITY.md: the figures table is stale", file=sys.stderr)
        return int(stale)
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
