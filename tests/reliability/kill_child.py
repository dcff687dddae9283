"""Child process of the kill -9 scenarios: one operation, announced, timed, then exit.

    python -m tests.reliability.kill_child OPERATION ROOT SEED [DEST]

Prints JSON lines: {"event": "start", ...} just before the operation begins (the parent
starts its kill timer there) and {"event": "done", "seconds": ..., ...} after it returned.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from kamaros_app.engine import NothingToSaveError, Project, import_container
from tests.reliability.workload import mutate, snapshot


def say(event: str, **data: object) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def main() -> None:
    operation, root, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    dest = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    rng = random.Random(seed)
    if operation == "import":
        assert dest is not None
        say("start")
        began = time.perf_counter()
        import_container(root, dest).close()
        say("done", seconds=time.perf_counter() - began)
        return
    with Project.open(root) as project:
        if operation == "checkpoint":
            mutate(root, rng)
            files = snapshot(root)
            say("start", files=files)
            began = time.perf_counter()
            try:
                info = project.checkpoint(f"seed {seed}")
            except NothingToSaveError:
                say("done", seconds=time.perf_counter() - began, id=None)
                return
            say("done", seconds=time.perf_counter() - began, id=info.id)
        elif operation == "restore":
            if rng.random() < 0.3:
                mutate(root, rng)  # unsaved work: the restore saves it first
            before = snapshot(root)
            head = project.manifest.head
            choices = [v.id for v in project.manifest.versions if v.id != head]
            target = rng.choice(choices)
            say("start", target=target, head=head, files=before)
            began = time.perf_counter()
            result = project.restore(target)
            say(
                "done",
                seconds=time.perf_counter() - began,
                previous=result.previous_id,
                checkpoint=result.checkpoint_id,
            )
        elif operation == "gc":
            say("start")
            began = time.perf_counter()
            project.gc()
            say("done", seconds=time.perf_counter() - began)
        elif operation == "export":
            assert dest is not None
            say("start")
            began = time.perf_counter()
            project.export_container(dest)
            say("done", seconds=time.perf_counter() - began)
        else:
            raise SystemExit(f"unknown operation {operation}")


if __name__ == "__main__":
    main()
