"""Torn writes and leftovers: the file as a crash can leave it, without needing the crash.

A commit only appends, so after any crash the container is the last commit's bytes plus
some prefix of the next commit's bytes, possibly followed by zeros (a file system that
extended the file before the data reached the disk) or by stale garbage. Every such file
must open at the last complete commit, roll the rest back, and take the next checkpoint.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from kamaros_app.engine import Project
from kamaros_app.engine.fsutil import TEMP_MARKER
from kamaros_app.engine.layout import CONTAINER_FILE, JOURNAL_FILE, KAMAROS_DIR, STAT_CACHE_FILE
from tests.reliability.workload import Tally, leftovers, mutate, snapshot, write


def committed_prefixes(root: Path, rng: random.Random, count: int) -> list[tuple[bytes, int]]:
    """The container after each of `count` checkpoints, with its number of versions."""
    out = []
    with Project.init(root, author="campaign") as project:
        for n in range(count):
            mutate(root, rng)
            while project.status().is_clean:
                mutate(root, rng)
            project.checkpoint(f"c{n}")
            out.append(((root / CONTAINER_FILE).read_bytes(), n + 1))
    return out


def torn(old: bytes, new: bytes, rng: random.Random) -> tuple[bytes, str, bool]:
    """A crash image between commit `old` and commit `new` (new extends old)."""
    assert new.startswith(old)
    tail = new[len(old) :]
    cut = rng.randrange(len(tail) + 1)
    kind = rng.choice(["cut", "zeros", "garbage", "cut"])
    image = old + tail[:cut]
    if kind == "zeros":
        image += bytes(rng.randint(1, 8192))
    elif kind == "garbage":
        image += rng.randbytes(rng.randint(1, 8192))
    complete = kind == "cut" and cut == len(tail)
    return image, kind, complete


def test_torn_last_write_opens_at_the_last_complete_commit(
    tmp_path: Path, campaign, long_mode: bool
) -> None:
    rng = random.Random(11)
    source = tmp_path / "source"
    states = committed_prefixes(source, rng, 8)
    root = tmp_path / "scratch"
    (root / KAMAROS_DIR).mkdir(parents=True)
    write(root, "a.txt", "a")
    container = root / CONTAINER_FILE
    tally = Tally(campaign, "torn last write (cut, zero-filled, garbage tail)")
    for run in range(10000 if long_mode else 1000):
        i = rng.randrange(len(states) - 1)
        (old, versions_old), (new, versions_new) = states[i], states[i + 1]
        image, kind, complete = torn(old, new, rng)
        container.write_bytes(image)
        (root / STAT_CACHE_FILE).unlink(missing_ok=True)
        with tally.run(f"run {run} ({kind})"):
            want = versions_new if complete else versions_old
            with Project.open(root, read_only=True) as viewer:  # a window: never writes
                assert len(viewer.manifest.versions) == want
                assert container.read_bytes() == image
            with Project.open(root) as project:
                assert len(project.manifest.versions) == want
                assert container.read_bytes() == (new if complete else old)
                if len(image) > len(new if complete else old):
                    assert any("rolled back" in n for n in project.notices), project.notices
                assert not list((root / KAMAROS_DIR).glob("damaged-commit-*"))
                if run % 10 == 0:
                    assert project.verify().ok
                    write(root, "a.txt", f"run {run}")
                    project.checkpoint("after the crash")
                    assert len(project.manifest.versions) == want + 1
        if tally.stop:
            break
    tally.finish()


def test_leftover_temp_files_are_cleaned_on_the_next_writable_open(
    tmp_path: Path, campaign
) -> None:
    """Every kind of temp file a killed writer can leave, planted by hand: a read-only open
    (a window next to a running writer) leaves them alone, the next writer removes them.
    The kill -9 scenarios check the same after every real kill."""
    tally = Tally(campaign, "leftover temp files cleaned on next open")
    root = tmp_path / "proj"
    root.mkdir()
    write(root, "a.txt", "a")
    write(root, "keep-tmp.txt", "a person's file whose name contains tmp")
    with Project.init(root) as project:
        v1 = project.checkpoint("one")
    planted = [
        f"{KAMAROS_DIR}/.project.jcf.new-tmp",  # gc / compaction
        f"{KAMAROS_DIR}/import-tmp.jcf",  # import
        f"{KAMAROS_DIR}/cache/.stat-cache.bin{TEMP_MARKER}0a1b2c",  # stat cache
        f"{KAMAROS_DIR}/.restore-in-progress.json{TEMP_MARKER}3d4e5f",  # restore journal
        f".a.txt{TEMP_MARKER}abcdef",  # a file being restored
        f"sub/.b.bin{TEMP_MARKER}123456",
    ]
    for rel in planted:
        write(root, rel, os.urandom(100))
    write(root, str(JOURNAL_FILE), f'{{"target": "{v1.id}", "previous": "{v1.id}"}}')
    with tally.run("read-only open"), Project.open(root, read_only=True) as viewer:
        assert viewer.status().is_clean  # temp files are never taken for the person's files
        assert all((root / rel).exists() for rel in planted)
    with tally.run("writable open"), Project.open(root) as project:
        assert leftovers(root) == [], leftovers(root)
        assert snapshot(root) == {
            "a.txt": snapshot(root)["a.txt"],
            "keep-tmp.txt": snapshot(root)["keep-tmp.txt"],
        }
        project.restore(v1.id)  # finishes the "interrupted" restore
        assert project.interrupted_restore() is None
    tally.finish()
