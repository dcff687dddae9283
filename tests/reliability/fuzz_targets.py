"""What the fuzzers feed: the container and manifest readers, with one rule — only the
project's own exceptions (KamarosError and its subclasses) may escape, and whatever is
returned as a file's bytes must match its hash.

Shared by the hypothesis tests (test_fuzz.py, every CI run) and the coverage-guided
atheris fuzzer (fuzz_container.py, `--long` only).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import tempfile
from pathlib import Path

from kamaros_app.engine import History, KamarosError, Project
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.manifest import Manifest
from kamaros_app.engine.zipcontainer import ContainerReader

_WORK = Path(tempfile.mkdtemp(prefix="kamaros-fuzz-"))


@functools.cache
def seed_container() -> bytes:
    """A small genuine container with text patches, blobs, a rename and a deletion."""
    root = _WORK / "seed"
    root.mkdir()
    rng = random.Random(3)
    with Project.init(root, author="fuzz") as project:
        (root / "story.txt").write_text("".join(f"line {i}\n" for i in range(40)))
        (root / "pic.bin").write_bytes(rng.randbytes(300))
        project.checkpoint("one")
        lines = (root / "story.txt").read_text().splitlines(keepends=True)
        lines[5] = "changed\n"
        (root / "story.txt").write_text("".join(lines))
        (root / "pic.bin").write_bytes(rng.randbytes(300))
        project.checkpoint("two")
        (root / "story.txt").rename(root / "tale.txt")
        (root / "pic.bin").unlink()
        project.checkpoint("three", tag="done")
        project.export_container(_WORK / "seed.jcf")
    return (_WORK / "seed.jcf").read_bytes()


@functools.cache
def seed_manifest() -> bytes:
    with ContainerReader.open(_WORK / "seed.jcf") as reader:
        return reader.read_entry("manifest.json", 1 << 20)


def _read_everything(history: History) -> None:
    for version in history.log():
        for path, state in history.file_states(version.id).items():
            try:
                data = history.read_file(version.id, path)
            except KamarosError:
                continue
            assert hash_bytes(data) == state.hash, f"{path}: wrong bytes returned"
    history.verify()


def container_target(data: bytes) -> None:
    """Open `data` as a file from elsewhere and as our own project; read everything."""
    path = _WORK / f"fuzz-{os.getpid()}.jcf"
    path.write_bytes(data)
    try:
        with ContainerReader.open(path, untrusted=True) as reader:
            for name in reader.entries:
                with contextlib.suppress(KamarosError):
                    reader.read_entry(name, 1 << 22)
        with History.open_file(path) as history:
            _read_everything(history)
    except KamarosError:
        pass
    root = _WORK / f"project-{os.getpid()}"
    (root / ".kamaros").mkdir(parents=True, exist_ok=True)
    (root / ".kamaros" / "project.jcf").write_bytes(data)
    from kamaros_app.engine import manifest_cache

    manifest_cache._cache.clear()  # the same path and inode each time: no stale manifest
    try:
        with Project.open(root, read_only=True) as project:
            _read_everything(project)
    except KamarosError:
        pass


def manifest_target(raw: bytes) -> None:
    try:
        manifest = Manifest.from_json_bytes(raw)
    except KamarosError:
        return
    for version in manifest.versions:
        manifest.state_of(version.id)
    Manifest.from_json_bytes(manifest.to_json_bytes())  # what we parsed, we can write back


def mutate_json(value: object, rng: random.Random) -> object:
    """Replace one random node of a JSON tree with an odd value."""
    odd: list[object] = [
        None, True, 0, -1, 2**64, 1.5, float("inf"), "", "../x", "/abs", "C:\\x", "a\x00b",
        "x" * 5000, [], {}, [None], {"": None}, "0" * 64, "f" * 32, "2.0.0", "9.0.0",
    ]  # fmt: skip
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        copy = dict(value)
        if rng.random() < 0.1:
            del copy[key]
        else:
            copy[key] = mutate_json(value[key], rng)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.8:
        copy_list = list(value)
        i = rng.randrange(len(copy_list))
        copy_list[i] = mutate_json(copy_list[i], rng)
        return copy_list
    return rng.choice(odd)


def mutated_manifest(seed: int) -> bytes:
    rng = random.Random(seed)
    tree: object = json.loads(seed_manifest())
    for _ in range(rng.randint(1, 3)):
        tree = mutate_json(tree, rng)
    return json.dumps(tree, allow_nan=True).encode()


def mutated_container(seed: int, edits: list[tuple[float, int]], cut: float | None) -> bytes:
    data = bytearray(seed_container())
    for where, xor in edits:
        data[int(where * (len(data) - 1))] ^= xor or 1
    if cut is not None:
        del data[int(cut * len(data)) :]
    return bytes(data)
