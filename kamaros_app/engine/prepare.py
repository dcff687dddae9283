"""Read, hash, sniff and compress small files on worker threads, handed back in order.

A first checkpoint is mostly deflate, BLAKE3 and reading, all of which release the GIL, so
files up to PARALLEL_MAX_BYTES are prepared whole on a few threads while the caller
appends the results to the container one by one. Larger files are streamed by the caller
(bounded memory). At most WINDOW_BYTES of file data are in flight at any time.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from . import deflate
from .hashing import hash_bytes
from .statcache import StatInfo
from .zip_records import DEFLATED, STORED

__all__ = [
    "PARALLEL_MAX_BYTES",
    "Changed",
    "ParallelPreparer",
    "PreparedFile",
    "choose_method",
    "prepare_file",
]

PARALLEL_MAX_BYTES = 8 << 20
WINDOW_BYTES = 64 << 20
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_PROBE_BYTES = 64 * 1024
_WORTH_IT = 0.9
"""Deflate only when it saves at least 10%: stored entries are faster to read back."""

_INCOMPRESSIBLE = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".heic",
        ".mp3",
        ".m4a",
        ".aac",
        ".ogg",
        ".opus",
        ".flac",
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".rar",
        ".jcf",
        ".docx",
        ".xlsx",
        ".pptx",
        ".odt",
        ".ods",
        ".odp",
        ".epub",
        ".jar",
        ".apk",
        ".woff",
        ".woff2",
    ]
)


def _known_compressed(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in _INCOMPRESSIBLE


def choose_method(path: str, sample: bytes) -> int:
    """STORED for known-compressed formats, empty files and data whose first 64 KiB do not
    shrink; DEFLATED otherwise."""
    if not sample or _known_compressed(path):
        return STORED
    probe = sample[:_PROBE_BYTES]
    return DEFLATED if len(deflate.deflate(probe)) < _WORTH_IT * len(probe) else STORED


@dataclass(frozen=True, slots=True)
class PreparedFile:
    """One file read whole: what goes into its `content/` entry, and what it was."""

    path: str
    stat: StatInfo
    digest: str
    is_text: bool
    text: str | None
    """The decoded text, only when the caller asked to keep it (for a reverse patch)."""
    crc: int
    method: int
    payload: bytes


class Changed:
    """The file changed while it was being read: the caller retries it another way."""


RACY_NS = 2_000_000_000
"""File times advance in coarse steps (a few milliseconds on Linux, 2 s on FAT), so a
write while a file is being read can leave its stat as it was. A file modified this close
to the moment it was read is read once more and kept only if both reads agree, so a mix of
two states of a file is never saved (found by the reliability campaign)."""


def is_racy(stat: StatInfo, started_ns: int) -> bool:
    """Could the file have changed during a read that began at `started_ns` (wall clock)
    without its stat showing it?"""
    return max(stat.mtime_ns, stat.ctime_ns) >= started_ns - RACY_NS


CHANGED = Changed()


def prepare_file(root: Path, path: str, keep_text: bool) -> PreparedFile | Changed:
    """Read, hash, sniff and compress `root/path`. FileNotFoundError if it vanished."""
    full = os.path.join(root, path)
    started = time.time_ns()
    before = StatInfo.from_stat(os.stat(full, follow_symlinks=False))
    with open(full, "rb", buffering=0) as handle:
        data = handle.read()
    after = StatInfo.from_stat(os.stat(full, follow_symlinks=False))
    if after != before or len(data) != before.size:
        return CHANGED
    if is_racy(after, started):
        with open(full, "rb", buffering=0) as handle:
            again = handle.read()
        if again != data or StatInfo.from_stat(os.stat(full, follow_symlinks=False)) != after:
            return CHANGED
    text: str | None = None
    is_text = False
    if b"\x00" not in data:
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            is_text = True
            text = decoded if keep_text else None
    # Small files are simply compressed and kept whichever way is smaller; for larger ones
    # a probe of the start decides, so incompressible media costs no full compression.
    if len(data) <= 4 * _PROBE_BYTES:
        method = STORED if not data or _known_compressed(path) else DEFLATED
    else:
        method = choose_method(path, data)
    payload = data
    if method == DEFLATED:
        packed = deflate.deflate(data)
        if len(packed) < _WORTH_IT * len(data):
            payload = packed
        else:
            method = STORED
    return PreparedFile(
        path=path,
        stat=before,
        digest=hash_bytes(data),
        is_text=is_text,
        text=text,
        crc=deflate.crc32(data),
        method=method,
        payload=payload,
    )


Outcome = PreparedFile | Changed | OSError


class ParallelPreparer:
    """`with ParallelPreparer(root, paths, sizes, keep) as p: for path, outcome in p: ...`

    Outcomes come in the order of `paths`: a PreparedFile, CHANGED, or the OSError reading
    raised (FileNotFoundError when the file vanished). Leaving the block early cancels what
    has not started and waits for what has.
    """

    def __init__(
        self,
        root: Path,
        paths: Iterable[str],
        sizes: dict[str, int],
        keep_text: set[str] | frozenset[str],
    ) -> None:
        self._root = root
        self._paths = list(paths)
        self._sizes = sizes
        self._keep = keep_text
        self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="kamaros-prepare")

    def __enter__(self) -> ParallelPreparer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, path: str) -> Outcome:
        try:
            return prepare_file(self._root, path, path in self._keep)
        except OSError as exc:
            return exc

    def __iter__(self) -> Iterator[tuple[str, Outcome]]:
        pending: deque[tuple[str, Future[Outcome]]] = deque()
        in_flight = 0
        for path in self._paths:
            size = self._sizes.get(path, 0)
            while pending and in_flight + size > WINDOW_BYTES:
                done_path, future = pending.popleft()
                in_flight -= self._sizes.get(done_path, 0)
                yield done_path, future.result()
            pending.append((path, self._pool.submit(self._run, path)))
            in_flight += size
        while pending:
            done_path, future = pending.popleft()
            yield done_path, future.result()
