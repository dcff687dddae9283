"""Child process for the crash tests: checkpoints or restores in a loop until killed.

Prints one JSON line per committed checkpoint: its id and the BLAKE3 of every file.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from kamaros_app.engine import NothingToSaveError, Project
from tests.reliability.workload import mutate as reliability_mutate
from tests.reliability.workload import snapshot


def mutate(root: Path, rng: random.Random) -> None:
    """Large edits (texts up to 20,000 lines, binaries up to 3 MB): long operations."""
    reliability_mutate(root, rng, scale=50)


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
