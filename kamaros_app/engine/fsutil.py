"""Durable file writes (temp file, fsync, rename) on top of `diskio`, the one I/O layer."""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import stat
import threading
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path

from . import diskio
from .errors import DiskFullError, InvalidArgumentError
from .layout import TEMP_MARKER

__all__ = [
    "READ_AHEAD_MIN",
    "TEMP_MARKER",
    "WRITEBACK_EVERY",
    "atomic_write_bytes",
    "atomic_write_chunks",
    "current_umask",
    "fsync_dir",
    "is_temp_name",
    "read_ahead",
    "read_chunks",
    "reading_ahead",
    "remove_stale_temp_files",
    "write_new_file",
]


_DISK_FULL_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT") if hasattr(errno, name)
)
READ_AHEAD_MIN = 4 << 20
"""Restores and exports read, inflate and hash files at least this large on a helper
thread (`read_ahead`), overlapping with the writes."""
WRITEBACK_EVERY = 8 << 20
"""Restores and exports hand each 8 MiB written to a file to the disk at once
(`diskio.start_writeback`), so their one final flush has little left to do."""

# Longest destination name kept verbatim in a temp name (file names are limited to 255 bytes).
_MAX_NAME_BYTES = 180


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux:
    /proc/self/status). Elsewhere it is set and put back at once, which is process-wide:
    a file another thread creates in that instant gets the wrong permissions."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o077)  # the safe side for that instant
    os.umask(umask)
    return umask


def fsync_dir(path: Path) -> None:
    """Make a rename or create inside `path` durable; a no-op where that is not possible.

    Windows cannot open a directory; some file systems refuse fsync on one. Those cases are
    ignored; a real I/O error is raised.
    """
    diskio.fsync_dir(path)


def is_temp_name(name: str) -> bool:
    """True for a file name this module uses for its temp files."""
    return name.startswith(".") and TEMP_MARKER in name


def _temp_name(dest_name: str) -> str:
    stem = dest_name if len(os.fsencode(dest_name)) <= _MAX_NAME_BYTES else "long-name"
    # os.urandom rather than `secrets`, whose import costs the quick status start-up time.
    return f".{stem}{TEMP_MARKER}{os.urandom(6).hex()}"


def _disk_full(exc: OSError, dest: Path | str, outcome: str = "was not changed") -> DiskFullError:
    reason = exc.strerror or "no space left on the device"
    error = DiskFullError(f"the disk is full; {dest} {outcome} ({reason})")
    error.errno = exc.errno
    return error


def _make_parents(directory: Path, *, durable: bool = True) -> None:
    """Create `directory` and missing parents; fsync each parent that gained an entry
    (unless not `durable`: see `atomic_write_chunks`)."""
    missing: list[Path] = []
    current = directory
    while not current.is_dir():
        if current.exists() or current.is_symlink():
            raise InvalidArgumentError(f"{current} exists and is not a folder")
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            diskio.mkdir(folder)
        except FileExistsError:
            if not folder.is_dir():
                raise InvalidArgumentError(f"{folder} exists and is not a folder") from None
        except OSError as exc:
            if exc.errno in _DISK_FULL_ERRNOS:
                raise _disk_full(exc, folder) from exc
            raise
        if durable:
            fsync_dir(folder.parent)


def atomic_write_chunks(
    dest: Path,
    chunks: Iterable[bytes],
    *,
    mode: int | None = None,
    keep_existing_mode: bool = True,
    durable: bool = True,
    writeback_every: int = 0,
) -> None:
    """Replace `dest` with the concatenated `chunks`, all or nothing, durably.

    `durable=False` skips the fsyncs, for callers that write many files and then make them
    all durable at once with `diskio.sync_filesystem` (one flush instead of two per file;
    a restore of 5,000 files went from ~20 s to ~2 s); all-or-nothing per file still holds.
    `writeback_every` > 0: see `write_new_file`.

    The bytes go to `.<name>.kamaros-tmp-<random>` in the same folder, which is fsynced,
    given its permission bits, renamed over `dest`, and the folder fsynced. Permission bits:
    those of the existing `dest` when `keep_existing_mode` and it is a regular file, else
    `mode` when given, else what a newly created file gets (0o666 minus the umask; not the
    0o600 of `tempfile.mkstemp`). Missing parent folders are created. A symlink at `dest`
    is replaced by the file, not followed.

    On any exception, including KeyboardInterrupt and an exception raised by `chunks`
    itself, the temp file is removed and `dest` is untouched.

    Raises:
        InvalidArgumentError: `dest` is a folder, or a parent is not one.
        DiskFullError: the disk or quota filled up (ENOSPC/EDQUOT).
    """
    dest = Path(dest)
    try:
        existing = os.lstat(dest)
    except FileNotFoundError:
        existing = None
    except NotADirectoryError:
        raise InvalidArgumentError(f"a parent of {dest} is not a folder") from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise InvalidArgumentError(f"{dest} is a folder; cannot write a file there")
    perm: int | None = None
    if keep_existing_mode and existing is not None and stat.S_ISREG(existing.st_mode):
        perm = stat.S_IMODE(existing.st_mode)
    elif mode is not None:
        perm = stat.S_IMODE(mode)

    parent = dest.parent
    if existing is None:
        _make_parents(parent, durable=durable)
    tmp = parent / _temp_name(dest.name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = -1
    created = False
    try:
        try:
            # Without a known mode the kernel applies the umask to 0o666, as for any new
            # file. With one, start private and chmod before any content is written.
            fd = diskio.open_fd(tmp, flags, 0o666 if perm is None else 0o600)
            created = True
            if perm is not None and hasattr(os, "fchmod"):
                diskio.fchmod(fd, perm)
            _write_chunks(fd, chunks, writeback_every)
            if durable:
                diskio.fsync(fd)
            closing, fd = fd, -1
            diskio.close(closing)
            if perm is not None and not hasattr(os, "fchmod"):
                diskio.chmod(tmp, perm)
            diskio.replace(tmp, dest)
            created = False
        except OSError as exc:
            if exc.errno in _DISK_FULL_ERRNOS:
                raise _disk_full(exc, dest) from exc
            if exc.filename is None:  # write and fsync errors name no file
                exc.filename = os.fspath(dest)
            raise
    except BaseException:
        if fd >= 0:
            diskio.close(fd)
        if created:
            with contextlib.suppress(OSError):
                diskio.unlink(tmp)
        raise
    if durable:
        fsync_dir(parent)


def write_new_file(
    path: str,
    chunks: Iterable[bytes],
    *,
    mode: int,
    set_mode: bool = True,
    writeback_every: int = 0,
) -> int:
    """Create the file `path`, which must not exist, with the concatenated `chunks`; return
    how many bytes were written.

    Neither atomic nor durable, on purpose: this is for the files of a fresh folder that is
    made durable at once (`diskio.sync_filesystem`) and only then renamed into place, as an
    export does. There the temp file, `lstat` and rename per file of `atomic_write_chunks`
    protect nothing, since nobody sees the folder before it is complete.

    On any exception, including KeyboardInterrupt and an exception raised by `chunks` itself
    (a hash mismatch at the end), the partly written file is removed.

    Permission bits: exactly `mode`, set with fchmod before any byte is written. With
    `set_mode=False` the file is created with mode `mode` and no fchmod: the result is the
    same when `mode` already lacks the umask's bits and the folder has no default ACL.

    `writeback_every` > 0: after each further `writeback_every` bytes, ask the kernel to start
    writing them to the disk (`diskio.start_writeback`), so the flush at the end has little
    left to do.

    Raises:
        FileExistsError: `path` exists.
        DiskFullError: the disk or quota filled up (ENOSPC/EDQUOT).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = -1
    created = False
    written = 0
    try:
        try:
            fd = diskio.open_fd(path, flags, mode)
            created = True
            if set_mode:
                if hasattr(os, "fchmod"):
                    diskio.fchmod(fd, mode)
                else:  # pragma: no cover - Windows
                    diskio.chmod(path, mode)
            written = _write_chunks(fd, chunks, writeback_every)
            closing, fd = fd, -1
            diskio.close(closing)
        except OSError as exc:
            if exc.errno in _DISK_FULL_ERRNOS:
                raise _disk_full(exc, path, "could not be written") from exc
            if exc.filename is None:  # write errors name no file
                exc.filename = path
            raise
    except BaseException:
        if fd >= 0:
            diskio.close(fd)
        if created:
            with contextlib.suppress(OSError):
                diskio.unlink(path)
        raise
    return written


def _write_chunks(fd: int, chunks: Iterable[bytes], writeback_every: int) -> int:
    """Write `chunks` at `fd`'s position; with `writeback_every` > 0, hand each further
    `writeback_every` bytes to the disk as they are written (`diskio.start_writeback`).
    Returns how many bytes were written."""
    written = hinted = 0
    for chunk in chunks:
        diskio.write_all(fd, chunk)
        written += len(chunk)
        if writeback_every and written - hinted >= writeback_every:
            diskio.start_writeback(fd, hinted, written - hinted)
            hinted = written
    return written


@contextlib.contextmanager
def reading_ahead(chunks: Iterator[bytes], size: int) -> Iterator[Iterator[bytes]]:
    """`chunks` as they are, or read ahead on a helper thread (`read_ahead`) when `size`
    is at least READ_AHEAD_MIN; the helper is stopped on leaving, not when collected."""
    if size < READ_AHEAD_MIN:
        yield chunks
        return
    ahead = read_ahead(chunks)
    try:
        yield ahead
    finally:
        ahead.close()


def read_ahead(chunks: Iterator[bytes], depth: int = 4) -> Generator[bytes, None, None]:
    """Yield `chunks` as a helper thread produces them, up to `depth` chunks ahead.

    Reading, inflating and hashing a chunk release the GIL, so they overlap with writing
    the previous one. An exception of `chunks` (a hash mismatch at the end) is raised here,
    in order; when the consumer stops early, the thread closes `chunks` and ends.
    """
    slots: queue.Queue[tuple[bytes | None, BaseException | None]] = queue.Queue(depth)
    stop = threading.Event()

    def give(item: tuple[bytes | None, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not give((chunk, None)):
                    return
            give((None, None))
        except BaseException as exc:  # handed to the consumer, raised there
            give((None, exc))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    helper = threading.Thread(target=produce, name="kamaros-read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            chunk, error = slots.get()
            if error is not None:
                raise error
            if chunk is None:
                return
            yield chunk
    finally:
        stop.set()
        helper.join()


def atomic_write_bytes(
    dest: Path, data: bytes, *, mode: int | None = None, keep_existing_mode: bool = True
) -> None:
    """`atomic_write_chunks` for bytes already in memory."""
    atomic_write_chunks(dest, (data,), mode=mode, keep_existing_mode=keep_existing_mode)


def remove_stale_temp_files(root: Path, *, recursive: bool = True) -> int:
    """Delete temp files left by interrupted `atomic_write_chunks` calls; return how many.

    Looks in `root` and, when `recursive`, in its subfolders, without following symlinks
    and without entering a `.kamaros` folder below `root` (that history belongs to another
    project, whose writer may be running; call this on `root / ".kamaros"` explicitly).

    Only call it while holding the project's write lock: a temp file belongs to a write in
    progress until the writer that created it is gone.
    """
    removed = 0
    pending = [Path(root)]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if recursive and entry.name != ".kamaros":
                    pending.append(Path(entry.path))
            elif is_temp_name(entry.name):
                try:
                    diskio.unlink(entry.path)
                except FileNotFoundError:
                    continue
                removed += 1
    return removed


def read_chunks(path: Path, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Yield the bytes of `path` in pieces of at most `chunk_size`."""
    with open(path, "rb", buffering=0) as f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                return
            yield chunk
