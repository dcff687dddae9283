"""Child process for the crash tests: checkpoints or restores in a loop until killed.

Prints one JSON line per committed checkpoint: its id and the BLAKE3 of every file.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from kamaros_app.engine import NothingToSaveError, Project
from kamaros_app.engine.hashing import hash_bytes


def mutate(root: Path, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 4)):
        name = f"f{rng.randint(0, 9)}.{'txt' if rng.random() < 0.6 else 'bin'}"
        path = root / ("sub" if rng.random() < 0.3 else "") / name
        path.parent.mkdir(exist_ok=True)
        if rng.random() < 0.15 and path.exists():
            path.unlink()
        elif name.endswith(".txt"):
            lines = [f"line {i} {rng.random()}\n" for i in range(rng.randint(10, 20000))]
            path.write_text("".join(lines))
        else:
            path.write_bytes(rng.randbytes(rng.randint(0, 3_000_000)))


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hash_bytes(p.read_bytes())
        for p in root.rglob("*")
        if p.is_file() and ".kamaros" not in p.parts and ".kamaros-tmp" not in p.name
    }


def main() -> None:
    root = Path(sys.argv[1])
    mode = sys.argv[2]
    rng = random.Random(int(sys.argv[3]))
    with Project.open(root) as project:
        for n in range(1000):
            if mode == "restore" and n % 2 and len(project.manifest.versions) > 1:
                target = rng.choice(project.manifest.versions).id
                project.restore(target)
                continue
            mutate(root, rng)
            files = snapshot(root)
            try:
                info = project.checkpoint(f"step {n}")
            except NothingToSaveError:
                continue
            print(json.dumps({"id": info.id, "files": files}), flush=True)
            if mode == "gc" and n % 3 == 2:
                project.gc()


if __name__ == "__main__":
    main()
