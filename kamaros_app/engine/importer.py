"""Make a working folder plus history from a standalone container written anywhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from . import diskio
from .compact import plan_compaction, write_compacted
from .errors import (
    ContainerError,
    DamagedContainerError,
    DiskFullError,
    HostileContainerError,
    InvalidArgumentError,
    KamarosError,
    ProjectExistsError,
    UnsupportedFormatError,
)
from .fsutil import atomic_write_bytes
from .layout import CONTAINER_FILE, JOURNAL_FILE, KAMAROS_DIR, MANIFEST_ENTRY
from .legacy import LEGACY_MANIFESTS, convert_legacy
from .manifest import Manifest
from .progress import CancelToken, ProgressCallback, Reporter
from .project import Project
from .store import ContentStore
from .verify import name_max, path_problems, verify_container
from .zipcontainer import ContainerReader

__all__ = ["detect_kind", "import_container"]

MAX_MANIFEST_BYTES = 256 * 1024 * 1024
# Written before the history lands in the new folder, so that an import killed between
# that moment and the end of the extraction of the files is finished by the next open.
_IMPORT_JOURNAL = json.dumps({"kind": "import", "target": "", "previous": ""}).encode()


def _free_space(dest: Path) -> int:
    probe = dest
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _check_room(reader: ContainerReader, dest: Path) -> None:
    """The unpacked size must fit on the disk (a zip bomb never gets to write)."""
    needed = sum(e.uncompressed_size for e in reader.entries.values())
    free = _free_space(dest)
    if needed > free:
        raise DiskFullError(
            f"this file unpacks to {needed:,} bytes but only {free:,} are free at {dest}"
        )


def detect_kind(reader: ContainerReader) -> tuple[str, str]:
    """("jcf2", entry) for this project's format, ("legacy", entry) for original Kamaros."""
    if MANIFEST_ENTRY in reader.entries:
        raw = reader.read_entry(MANIFEST_ENTRY, MAX_MANIFEST_BYTES)
        try:
            head = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise DamagedContainerError(f"manifest.json is not valid JSON: {exc}") from exc
        if isinstance(head, dict) and "hashAlgorithm" in head:
            return "jcf2", MANIFEST_ENTRY
        return "legacy", MANIFEST_ENTRY
    for name in LEGACY_MANIFESTS:
        if name in reader.entries:
            return "legacy", name
    raise DamagedContainerError("this file has no manifest.json: it is not a JCF container")


def import_container(
    source: Path,
    dest: Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Project:
    """Create `dest` (new or empty) with the files of the newest version and all history."""
    reporter = Reporter(progress, cancel)
    dest = dest.absolute()
    if _is_leftover_of_failed_import(dest):
        Project._acquire(dest).release()  # raises LockedError if that import still runs
        diskio.rmtree(dest / KAMAROS_DIR)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ProjectExistsError(f"{dest} must be a new or empty folder")
    if not source.is_file():
        raise InvalidArgumentError(f"{source} is not a file")
    reader = ContainerReader.open(source, untrusted=True)
    created = not dest.exists()
    try:
        _check_room(reader, dest)
        kind, manifest_entry = detect_kind(reader)
        diskio.makedirs(dest / KAMAROS_DIR)
        lock = Project._acquire(dest)
        try:
            tmp = dest / KAMAROS_DIR / "import-tmp.jcf"
            if kind == "jcf2":
                _copy_verified(reader, tmp, reporter)
            else:
                convert_legacy(reader, manifest_entry, tmp, reporter)
            _check_paths_fit(tmp, dest)
            atomic_write_bytes(dest / JOURNAL_FILE, _IMPORT_JOURNAL)
            diskio.replace(tmp, dest / CONTAINER_FILE)
        except BaseException:
            lock.release()
            raise
    except BaseException:
        reader.close()
        if created:
            diskio.rmtree(dest, ignore_errors=True)
        else:
            diskio.rmtree(dest / KAMAROS_DIR, ignore_errors=True)
        raise
    reader.close()
    project = Project(dest, read_only=False, lock=lock)
    try:
        project._load()
        project.extract_head(reporter)
    except (KamarosError, OSError) as exc:
        # Not a crash (that is finished by the next open): the files cannot be written
        # here. Undo the import rather than leave a project that fails at every open.
        project.close()
        _undo_import(dest, created)
        if isinstance(exc, KamarosError):
            raise
        raise ContainerError(
            f"the files could not be written ({exc.strerror}: {exc.filename}); nothing was imported"
        ) from exc
    except BaseException:
        project.close()
        raise
    return project


def _undo_import(dest: Path, created: bool) -> None:
    """Remove everything an import put into `dest` (a new, or an empty, folder)."""
    if created:
        diskio.rmtree(dest, ignore_errors=True)
        return
    for child in list(dest.iterdir()):
        if child.is_dir() and not child.is_symlink():
            diskio.rmtree(child, ignore_errors=True)
        else:
            diskio.unlink(child, missing_ok=True)


def _check_paths_fit(container: Path, dest: Path) -> None:
    """Refuse, before the history lands, a history no folder here could hold."""
    with ContainerReader.open(container) as reader:
        manifest = Manifest.from_json_bytes(reader.read_entry(MANIFEST_ENTRY, MAX_MANIFEST_BYTES))
    problems = path_problems(manifest, name_max=name_max(dest))
    if problems:
        raise ContainerError(f"this history cannot be unpacked here: {problems[0]}")


def _is_leftover_of_failed_import(dest: Path) -> bool:
    """A folder holding only a `.kamaros/` without a container: an import killed early."""
    try:
        names = [p.name for p in dest.iterdir()]
    except (FileNotFoundError, NotADirectoryError):
        return False
    return names == [KAMAROS_DIR] and not (dest / CONTAINER_FILE).exists()


def _copy_verified(reader: ContainerReader, dest: Path, reporter: Reporter) -> None:
    manifest = Manifest.from_json_bytes(reader.read_entry(MANIFEST_ENTRY, MAX_MANIFEST_BYTES))
    if manifest.is_newer_format:
        raise UnsupportedFormatError(
            f"this container was written by a newer Kamaros (format {manifest.formatVersion})"
        )
    for name in reader.entries:
        if name not in ("mimetype", MANIFEST_ENTRY) and not name.startswith(
            ("content/", ".store/blobs/", ".store/deltas/")
        ):
            raise HostileContainerError(f"unexpected entry {name!r} in a JCF container")
    store = ContentStore(reader, manifest)
    report = verify_container(reader, manifest, store, reporter)
    if not report.ok:
        details = [d.what for d in report.damage] + report.problems
        raise DamagedContainerError("the container is damaged: " + "; ".join(details[:5]))
    write_compacted(store, manifest, plan_compaction(store, manifest), dest, reporter)
