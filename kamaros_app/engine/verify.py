"""Check a container end to end and say exactly what is damaged and which versions it hurts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DamagedContainerError
from .layout import CONTENT_PREFIX, content_name
from .manifest import Manifest
from .progress import Reporter
from .store import ContentStore, content_sizes
from .zipcontainer import COMMIT_MARKER_PREFIX, ContainerReader

__all__ = [
    "Damage",
    "VerifyReport",
    "folder_problems",
    "name_max",
    "path_problems",
    "tail_looks_finished",
    "verify_container",
]

_FINISHED_COMMIT_TAIL = 22 + len(COMMIT_MARKER_PREFIX) + 32  # an EOCD with a commit marker


def tail_looks_finished(path: Path, commit_end: int) -> bool:
    """Do the bytes after the last good commit end like a complete commit? Then they are
    damage (a commit whose marker no longer verifies), not an interrupted save."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size - commit_end < _FINISHED_COMMIT_TAIL:
            return False
        handle.seek(size - _FINISHED_COMMIT_TAIL)
        end = handle.read()
    return end[:4] == b"PK\x05\x06" and end[22:].startswith(COMMIT_MARKER_PREFIX)


@dataclass
class Damage:
    what: str
    reason: str
    versions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"object": self.what, "reason": self.reason, "versions": self.versions}


@dataclass
class VerifyReport:
    versions: int = 0
    contents: int = 0
    entries: int = 0
    damage: list[Damage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damage and not self.problems

    @property
    def damaged_versions(self) -> list[str]:
        seen: dict[str, None] = {}
        for item in self.damage:
            seen.update(dict.fromkeys(item.versions))
        return list(seen)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "versions": self.versions,
            "contents": self.contents,
            "entries": self.entries,
            "damaged": [d.to_json() for d in self.damage],
            "damagedVersions": self.damaged_versions,
            "problems": self.problems,
        }


def name_max(folder: Path) -> int:
    """The longest file name (in bytes) the file system at `folder` accepts."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        return os.pathconf(probe, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or unknown
        return 255


def _long_name(path: str, limit: int) -> str | None:
    longest = max(path.split("/"), key=lambda part: len(part.encode()))
    if len(longest.encode()) <= limit:
        return None
    return (
        f"the file name {longest[:40]}... is {len(longest.encode())} bytes, "
        f"longer than this file system allows ({limit})"
    )


def _clash(name: str) -> str:
    return f"a file {name} and files inside a folder {name}; no folder can hold both"


def folder_problems(paths: Iterable[str], *, limit: int | None = None) -> list[str]:
    """Why one set of file paths (one version) cannot be written into a real folder."""
    files = set(paths)
    for path in sorted(files):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in files:
                return [_clash("/".join(parts[:depth]))]
        problem = None if limit is None else _long_name(path, limit)
        if problem is not None:
            return [problem]
    return []


def path_problems(manifest: Manifest, *, name_max: int | None = None) -> list[str]:
    """Paths no folder can hold: a version with a file `a` and a file inside a folder `a`,
    and (given the file system's `name_max`) names longer than the file system allows.

    A version like that could never have been saved from a real folder; restoring it
    would stop half-way, so such a history is refused before anything is written.
    """
    problems: list[str] = []
    files: set[str] = set()
    folders: dict[str, int] = {}  # folder -> how many files of the state are inside it

    def parents(path: str) -> list[str]:
        parts = path.split("/")
        return ["/".join(parts[:n]) for n in range(1, len(parts))]

    for version in manifest.versions:
        for path, change in version.changes.items():
            gone = [path] if change.deleted else []
            if change.fromPath is not None and change.changeType == "renamed":
                gone.append(change.fromPath)
            for old in gone:
                if old in files:
                    files.discard(old)
                    for folder in parents(old):
                        folders[folder] -= 1
            if change.deleted or path in files:
                continue
            clash = path if path in folders and folders[path] > 0 else None
            clash = clash or next((f for f in parents(path) if f in files), None)
            if clash is not None:
                problems.append(f"checkpoint {version.id[:8]} has {_clash(clash)}")
                return problems
            files.add(path)
            for folder in parents(path):
                folders[folder] = folders.get(folder, 0) + 1
            long_name = None if name_max is None else _long_name(path, name_max)
            if long_name is not None:
                problems.append(long_name)
                return problems
    return problems


def _drain(chunks: Iterable[bytes], reporter: Reporter) -> None:
    for _ in chunks:
        reporter.check()


def verify_container(
    reader: ContainerReader, manifest: Manifest, store: ContentStore, reporter: Reporter
) -> VerifyReport:
    report = VerifyReport(versions=len(manifest.versions), entries=len(reader.entries))
    if reader.torn_tail:
        tail = "damaged" if tail_looks_finished(reader.path, reader.commit_end) else "unfinished"
        report.problems.append(
            f"the history file ends with an {tail} save after the last good checkpoint"
            + (
                "; opening the project for writing keeps those bytes aside and rolls back"
                if tail == "damaged"
                else "; the next save rolls it back"
            )
        )
    # 1. Every entry's stored bytes against its CRC-32 (also finds damage in unused entries).
    names = list(reader.entries)
    for number, name in enumerate(names, 1):
        try:
            _drain(reader.iter_entry(name), reporter)
        except DamagedContainerError as exc:
            report.problems.append(str(exc))
        reporter.report("Checking entries", number, len(names), unit="entries", item=name)
    # 2. content/ is exactly the newest checkpoint.
    content = {n[len(CONTENT_PREFIX) :] for n in names if n.startswith(CONTENT_PREFIX)}
    for path in sorted(set(manifest.fileMap) - content):
        report.problems.append(f"{content_name(path)} is missing")
    for path in sorted(content - set(manifest.fileMap)):
        report.problems.append(f"{content_name(path)} is not part of the newest checkpoint")
    # 3. The version history replays to the file map.
    states = list(manifest.iter_states())
    if states:
        final = {p: (s.hash, s.size) for p, s in states[-1][1].items()}
        current = {p: (e.currentHash, e.size) for p, e in manifest.fileMap.items()}
        if final != current:
            report.problems.append("the newest checkpoint does not match the file map")
    elif manifest.fileMap:
        report.problems.append("files are listed but there is no checkpoint")
    report.problems += path_problems(manifest)
    # 4. Every content of every version rebuilds to its hash.
    hashes = list(content_sizes(manifest))
    report.contents = len(hashes)
    bad: dict[str, str] = {}
    for number, digest in enumerate(hashes, 1):
        try:
            _drain(store.iter_content(digest), reporter)
        except DamagedContainerError as exc:
            bad[digest] = str(exc)
        reporter.report("Checking versions", number, len(hashes), unit="contents")
    for digest, reason in bad.items():
        affected = [
            version.id for version, state in states if any(s.hash == digest for s in state.values())
        ]
        paths = sorted({s.path for _, state in states for s in state.values() if s.hash == digest})
        report.damage.append(
            Damage(f"content {digest[:16]} ({', '.join(paths[:3])})", reason, affected)
        )
    reasons = {d.reason for d in report.damage}
    report.problems = [p for p in report.problems if p not in reasons]
    return report
