"""A 2 GiB file is checkpointed and restored by the real command line in bounded memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SIZE = int(os.environ.get("KAMAROS_LARGE_FILE_BYTES", str(2 * 1024**3)))
MEMORY_LIMIT_MB = 200


def run_measured(args: list[str], cwd: Path) -> float:
    """Run `kamaros ARGS` in a fresh process; return its peak RSS in MB."""
    # VmHWM is this process's own peak; ru_maxrss would carry over the parent's peak.
    # main(), not `python -m kamaros_app`: that ends with os._exit (cli.exit_now), which
    # would skip the `finally` that reports the peak.
    wrapper = (
        "import sys\n"
        "from kamaros_app.cli import main\n"
        "try:\n"
        "    code = main(sys.argv[1:])\n"
        "finally:\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    print('PEAK', hwm.split()[1], file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, "-q", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert result.returncode == 0, result.stderr
    peak_kb = int(result.stderr.rsplit("PEAK", 1)[1].split()[0])
    return peak_kb / 1024


def write_big(path: Path, size: int, seed: bytes) -> None:
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        written = 0
        while written < size:
            piece = seed + written.to_bytes(8, "little") + block
            piece = piece[: min(len(piece), size - written)]
            handle.write(piece)
            written += len(piece)


@pytest.mark.slow
def test_two_gib_file_checkpoint_and_restore_in_bounded_memory(tmp_path: Path) -> None:
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    if free < SIZE * 6:
        pytest.skip("not enough free disk for the large-file test")
    root = tmp_path / "big"
    root.mkdir()
    big = root / "video.raw"
    write_big(big, SIZE, b"v1")
    peaks = {"init": run_measured(["init"], root)}
    peaks["checkpoint"] = run_measured(["checkpoint", "-m", "big v1"], root)
    with open(big, "r+b") as handle:  # change the last bytes: a new version of the whole file
        handle.seek(SIZE - 5)
        handle.write(b"v2end")
    peaks["checkpoint 2"] = run_measured(["checkpoint", "-m", "big v2"], root)
    peaks["restore"] = run_measured(["restore", "HEAD~1"], root)
    with open(big, "rb") as handle:
        handle.seek(SIZE - 5)
        assert handle.read() != b"v2end"
    peaks["verify"] = run_measured(["verify"], root)
    print({k: f"{v:.0f} MB" for k, v in peaks.items()})
    assert max(peaks.values()) < MEMORY_LIMIT_MB, peaks
    assert big.stat().st_size == SIZE
