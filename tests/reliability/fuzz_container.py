"""Coverage-guided fuzzer (atheris / libFuzzer) for the container and manifest readers.

    python tests/reliability/fuzz_container.py -runs=100000 [corpus_dir]

Each input picks a target: raw bytes as a container, bytes flipped in a genuine
container, or a manifest (raw, or one random node of a genuine one replaced). Only
KamarosError may escape, and no read may return bytes that do not match their hash.
Run by `pytest tests/reliability --long` (test_fuzz.py::test_atheris_fuzzer).
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports():
    from tests.reliability import fuzz_targets as targets


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    choice = provider.ConsumeIntInRange(0, 3)
    if choice == 0:
        targets.container_target(provider.ConsumeBytes(provider.remaining_bytes()))
    elif choice == 1:
        edits = [
            (provider.ConsumeProbability(), provider.ConsumeIntInRange(0, 255))
            for _ in range(provider.ConsumeIntInRange(1, 6))
        ]
        cut = provider.ConsumeProbability() if provider.ConsumeBool() else None
        targets.container_target(targets.mutated_container(0, edits, cut))
    elif choice == 2:
        targets.manifest_target(provider.ConsumeBytes(provider.remaining_bytes()))
    else:
        targets.manifest_target(targets.mutated_manifest(provider.ConsumeInt(4)))


def main() -> None:
    targets.seed_container()
    targets.seed_manifest()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
