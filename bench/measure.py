"""Run one command as a whole process: wall seconds and peak RSS of its process tree."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CommandFailed", "Measurement", "run", "tree_bytes", "which"]

GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Measurement:
    """Wall time (s) and peak resident memory (MB, 10^6 bytes) of one command."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str = ""
    stderr: str = ""


class CommandFailed(RuntimeError):
    """A measured command exited with a code it should not have."""


def _gnu_time_ok() -> bool:
    return os.access(GNU_TIME, os.X_OK)


def run(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Measurement:
    """Run `argv` in `cwd`; raise CommandFailed unless it exits with one of `ok_codes`.

    Peak RSS comes from GNU time (`%M`, the largest resident set among the command and
    every descendant it waited for) when /usr/bin/time exists, else from psutil polling of
    the process tree every 5 ms (which can miss short peaks).
    """
    full_env = {**os.environ, **(env or {})}
    measure = _run_gnu_time if _gnu_time_ok() else _run_psutil
    m = measure(argv, cwd, full_env)
    if m.returncode not in ok_codes:
        raise CommandFailed(
            f"{' '.join(argv)} (in {cwd}) exited {m.returncode}:\n"
            f"{m.stdout[-2000:]}\n{m.stderr[-2000:]}"
        )
    return m


def _run_gnu_time(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Measurement:
    fd, out = tempfile.mkstemp(prefix="bench-time-")
    os.close(fd)
    try:
        start = time.perf_counter()
        proc = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", out, *argv],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
        wall = time.perf_counter() - start
        lines = Path(out).read_text().split()
        # On a non-zero exit GNU time first writes "Command exited with non-zero status N".
        kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    finally:
        os.unlink(out)
    return Measurement(wall, kb * 1024 / 1e6, proc.returncode, proc.stdout, proc.stderr)


def _run_psutil(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Measurement:
    import psutil

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = psutil.Popen(list(argv), cwd=cwd, env=dict(env), stdout=out, stderr=err)
        peak = 0
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                for p in [proc, *proc.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        peak = max(peak, p.memory_info().rss)
            time.sleep(0.005)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    return Measurement(wall, peak / 1e6, proc.returncode or 0, stdout, stderr)


def tree_bytes(path: Path) -> int:
    """Apparent size of every file under `path` (0 when it does not exist)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def which(name: str) -> str | None:
    """The full path of an executable on PATH, or None."""
    return shutil.which(name)
