"""Corruption: flipped bits and truncations anywhere in a container.

The rules every damaged container must follow:
- it opens (read-only when the newest list of checkpoints is unreadable), or, when no
  commit survives at all, refuses with a clear error of our own;
- what it shows is a prefix of the true history, and the notices say when it is not all;
- nothing wrong is ever returned: every read gives exactly the saved bytes or raises;
- `verify` names every version that cannot be read back (and the damaged object);
- every version it does not name restores byte for byte;
- a later checkpoint still succeeds, and the damage is not carried into it under a fresh
  checksum (what the new checkpoint stores reads back right; old damage stays detected).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from kamaros_app.engine import History, KamarosError, Project
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.layout import CONTAINER_FILE, KAMAROS_DIR, STAT_CACHE_FILE
from kamaros_app.engine.zipcontainer import ContainerReader
from tests.reliability.workload import (
    Tally,
    forget_manifests,
    make_history,
    mutate,
    snapshot,
    state_hashes,
)


def build(root: Path, seed: int) -> tuple[bytes, list[str], dict[str, dict[str, str]]]:
    rng = random.Random(seed)
    with make_history(root, rng, 10) as project:
        order = [v.id for v in project.manifest.versions]
        expected = {v: state_hashes(project, v) for v in order}
    return (root / CONTAINER_FILE).read_bytes(), order, expected


def live_ranges(container: Path) -> list[tuple[str, int, int]]:
    with ContainerReader.open(container) as reader:
        return [
            (e.name, e.header_offset, e.data_offset + e.compressed_size)
            for e in reader.entries.values()
        ]


def damage(original: bytes, ranges: list[tuple[str, int, int]], rng: random.Random):
    data = bytearray(original)
    kind = rng.choice(["flip anywhere", "flip in a live entry", "flip in a live entry", "cut"])
    if kind == "cut":
        cut = rng.randrange(len(data))
        return bytes(data[:cut]), f"cut at {cut}", None
    if kind == "flip anywhere":
        where = [rng.randrange(len(data)) for _ in range(rng.randint(1, 4))]
        hit = None
    else:
        name, start, end = rng.choice(ranges)
        where = [rng.randrange(start, end) for _ in range(rng.randint(1, 3))]
        hit = name
    for offset in where:
        data[offset] ^= 1 << rng.randrange(8)
    return bytes(data), f"{kind} at {where}", hit


def readable_versions(project: History, expected: dict[str, dict[str, str]]) -> set[str]:
    """Versions every file of which reads back; raises if any read returns wrong bytes."""
    good = set()
    for version in project.manifest.versions:
        files = expected[version.id]
        assert state_hashes(project, version.id) == files, "a version lists other files"
        ok = True
        for path, digest in files.items():
            try:
                data = project.read_file(version.id, path)
            except KamarosError:
                ok = False
                continue
            assert hash_bytes(data) == digest, f"wrong bytes returned for {path}"
        if ok:
            good.add(version.id)
    return good


def check_damaged_project(
    root: Path, order: list[str], expected: dict[str, dict[str, str]], rng: random.Random
) -> str:
    try:  # a window first: it must show a true prefix and never change the file
        image = (root / CONTAINER_FILE).read_bytes()
        with Project.open(root, read_only=True) as viewer:
            shown = [v.id for v in viewer.manifest.versions]
            assert shown == order[: len(shown)], "the viewer shows a wrong history"
            if len(shown) < len(order):
                assert viewer.notices, "the viewer hides missing checkpoints"
            readable_versions(viewer, expected)
        assert (root / CONTAINER_FILE).read_bytes() == image, "a read-only open wrote"
    except KamarosError:
        pass  # the writable open below must say the same
    try:
        project = Project.open(root)
    except KamarosError as exc:
        message = str(exc)
        known = ("no valid commit", "not a ZIP", "no earlier copy")
        assert any(k in message for k in known), message
        return "refused: no readable commit left"
    with project:
        shown = [v.id for v in project.manifest.versions]
        assert shown == order[: len(shown)], "the history shown is not a prefix of the truth"
        if len(shown) < len(order):
            assert project.notices, "checkpoints went missing without a word"
        good = readable_versions(project, expected)
        report = project.verify()
        named = set(report.damaged_versions)
        unreadable = set(shown) - good
        assert unreadable <= named, f"verify missed damaged versions {unreadable - named}"
        assert all(d.what and d.reason for d in report.damage)
        if project.read_only:
            return "read-only at an older commit" if len(shown) < len(order) else "read-only"
        # A later checkpoint succeeds and reads back; old damage is still detected.
        mutate(root, rng)
        (root / "after-damage.txt").write_text(f"new {rng.random()}\n")
        folder = snapshot(root)
        head = state_hashes(project, "HEAD") if shown else {}
        info = project.checkpoint("after the damage")
        changed = {p: d for p, d in folder.items() if head.get(p) != d}
        for path, digest in changed.items():  # what the checkpoint stored reads back
            assert hash_bytes(project.read_file(info.id, path)) == digest, path
        # A file it kept unchanged still points at the old (maybe damaged) bytes: those
        # read back right or fail, never wrong; the older readable versions stay readable.
        assert readable_versions(project, expected | {info.id: folder}) >= good
        if len(shown) < len(order):
            return "rolled back to an older commit"
        return "damage named" if named else "harmless (dead bytes)"


def test_bit_flips_and_truncations(tmp_path: Path, campaign, long_mode: bool) -> None:
    rng = random.Random(606)
    source = tmp_path / "source"
    original, order, expected = build(source, 606)
    ranges = live_ranges(source / CONTAINER_FILE)
    compacted_source = tmp_path / "compacted"
    shutil.copytree(source, compacted_source)
    with Project.open(compacted_source) as project:
        project.gc()  # one commit only: nothing older to fall back on
    compacted = (compacted_source / CONTAINER_FILE).read_bytes()
    compacted_ranges = live_ranges(compacted_source / CONTAINER_FILE)
    tally = Tally(campaign, "bit flips and truncations in a container")
    outcomes: dict[str, int] = {}
    root = tmp_path / "damaged"
    for run in range(3000 if long_mode else 250):
        shutil.rmtree(root, ignore_errors=True)
        (root / KAMAROS_DIR).mkdir(parents=True)
        shutil.copytree(source, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.jcf"))
        (root / STAT_CACHE_FILE).unlink(missing_ok=True)
        if run % 5 == 4:
            image, how, _hit = damage(compacted, compacted_ranges, rng)
            how = "compacted, " + how
        else:
            image, how, _hit = damage(original, ranges, rng)
        (root / CONTAINER_FILE).write_bytes(image)
        forget_manifests()
        with tally.run(f"run {run} ({how})"):
            outcome = check_damaged_project(root, order, expected, rng)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    tally.finish(dict(sorted(outcomes.items())))


def flip_in_local_header(container: Path, prefix: str) -> str:
    """Flip one bit in the file name stored in the local header of the first live entry
    whose name starts with `prefix`; returns that name."""
    with ContainerReader.open(container) as reader:
        entry = next(e for n, e in reader.entries.items() if n.startswith(prefix))
    data = bytearray(container.read_bytes())
    data[entry.header_offset + 30 + 2] ^= 0x01
    container.write_bytes(bytes(data))
    return entry.name


def test_a_damaged_local_header_hurts_only_its_own_entry(tmp_path: Path) -> None:
    """Regression (found by the bit flips): one flipped bit in any entry's local header
    made the whole project unopenable ("local header name does not match"), every version
    lost with it. The central directory is vouched for by the commit marker, so now only
    that entry is damaged: verify names it, everything else restores and saves."""
    rng = random.Random(9)
    root = tmp_path / "proj"
    with make_history(root, rng, 4) as project:
        order = [v.id for v in project.manifest.versions]
        expected = {v: state_hashes(project, v) for v in order}
    damaged = flip_in_local_header(root / CONTAINER_FILE, "content/")
    forget_manifests()
    with Project.open(root) as project:
        good = readable_versions(project, expected)
        report = project.verify()
        assert not report.ok
        said = report.problems + [d.reason for d in report.damage]
        assert any(damaged in p for p in said), said
        hurt = set(report.damaged_versions)
        assert hurt and hurt == set(order) - good
    assert check_damaged_project(root, order, expected, rng) == "damage named"


def test_a_damaged_newest_manifest_falls_back_to_the_one_before(tmp_path: Path) -> None:
    """Regression (found by the bit flips): one flipped bit in the newest manifest.json
    made the project unopenable, although every commit keeps its own manifest. Now a
    window shows the history of the newest commit whose manifest reads, and a writer rolls
    back to it with the cut bytes kept aside, then saves as usual."""
    rng = random.Random(10)
    root = tmp_path / "proj"
    with make_history(root, rng, 4) as project:
        order = [v.id for v in project.manifest.versions]
        expected = {v: state_hashes(project, v) for v in order}
    container = root / CONTAINER_FILE
    with ContainerReader.open(container) as reader:
        entry = reader.entries["manifest.json"]
    data = bytearray(container.read_bytes())
    data[entry.data_offset + entry.compressed_size // 2] ^= 0x10
    container.write_bytes(bytes(data))
    forget_manifests()
    with Project.open(root, read_only=True) as viewer:
        assert [v.id for v in viewer.manifest.versions] == order[:3]
        assert any("list of checkpoints is damaged" in n for n in viewer.notices)
        assert readable_versions(viewer, expected) == set(order[:3])
    assert container.read_bytes() == bytes(data)
    with Project.open(root) as project:
        assert [v.id for v in project.manifest.versions] == order[:3]
        assert any("damaged bytes were kept" in n for n in project.notices), project.notices
        assert project.verify().ok
        (root / "new.txt").write_text("new\n")
        project.checkpoint("after the damage")
    assert len(list((root / KAMAROS_DIR).glob("damaged-commit-*.bin"))) == 1
