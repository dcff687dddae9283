"""Convert archives written by the original Kamaros (JCF 1.x, SHA-256 names) to format 2.

Two layouts exist: the "save" archive (root `manifest.json`, `content/**`, sometimes
`.store/**`) and the "export" archive (`.store/manifest.json`, `.store/blobs/<sha256>`,
`content/**`). Their manifests use their own field names; whole blobs are the source of
truth for old versions, so their line-diff `.patch` files are ignored.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from . import diskio
from .errors import DamagedContainerError, UnsupportedFormatError
from .hashing import ContentHasher
from .layout import MANIFEST_ENTRY, MIMETYPE, blob_name, content_name
from .manifest import (
    ChangeType,
    FileEntry,
    FileState,
    Manifest,
    Metadata,
    RenameEntry,
    Version,
    now_iso,
    validate_path,
    validate_tag_name,
)
from .objects import compress_chunks
from .progress import Reporter
from .status import TEXT_MAX_BYTES
from .textdelta import TextSniffer
from .zipcontainer import DEFLATED, STORED, ContainerReader, ContainerWriter

__all__ = ["LEGACY_MANIFESTS", "convert_legacy"]

LEGACY_MANIFESTS = (".store/manifest.json", MANIFEST_ENTRY)
MAX_LEGACY_MANIFEST = 256 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class _Content:
    blake3: str
    size: int
    is_text: bool


@dataclass
class _LegacyVersion:
    id: str
    timestamp: str
    message: str
    author: str
    email: str
    parent: str | None
    files: dict[str, tuple[str, str, str | None]]  # path -> (inode, sha256, contentRef)
    tags: list[str]


def _text(data: dict[str, Any], *keys: str, default: str = "") -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            return value
    return default


def _parse(raw: bytes) -> tuple[dict[str, Any], list[_LegacyVersion], dict[str, str]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DamagedContainerError(f"manifest is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("versionHistory"), list):
        raise DamagedContainerError("manifest has no versionHistory list")
    versions: list[_LegacyVersion] = []
    for index, item in enumerate(data["versionHistory"]):
        if not isinstance(item, dict) or not isinstance(item.get("fileStates", {}), dict):
            raise DamagedContainerError(f"versionHistory[{index}] is malformed")
        files: dict[str, tuple[str, str, str | None]] = {}
        for path, state in item.get("fileStates", {}).items():
            validate_path(path, what=f"versionHistory[{index}] path")
            if not isinstance(state, dict):
                raise DamagedContainerError(f"versionHistory[{index}].fileStates[{path!r}]")
            if state.get("encrypted"):
                raise UnsupportedFormatError(
                    "this archive holds encrypted files, which this Kamaros cannot read"
                )
            if state.get("deleted") or state.get("changeType") == "deleted":
                continue
            digest = state.get("hash")
            if not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
                raise DamagedContainerError(
                    f"versionHistory[{index}].fileStates[{path!r}].hash is not a SHA-256"
                )
            ref = state.get("contentRef")
            inode = _text(state, "inodeId") or path
            files[path] = (inode, digest.lower(), ref if isinstance(ref, str) else None)
        tags = item.get("tags")
        versions.append(
            _LegacyVersion(
                id=_text(item, "id", default=str(index)),
                timestamp=_text(item, "timestamp", default=now_iso()),
                message=_text(item, "message"),
                author=_text(item, "author"),
                email=_text(item, "email"),
                parent=item.get("parentId") or None,
                files=files,
                tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
            )
        )
    refs = data.get("refs")
    named = (
        {k: v for k, v in refs.items() if k != "head" and isinstance(v, str)}
        if isinstance(refs, dict)
        else {}
    )
    return data, _linear_order(versions), named


def _linear_order(versions: list[_LegacyVersion]) -> list[_LegacyVersion]:
    """Follow parent links from the root when they form one chain; else keep list order."""
    by_parent: dict[str | None, list[_LegacyVersion]] = {}
    for v in versions:
        by_parent.setdefault(v.parent, []).append(v)
    chain: list[_LegacyVersion] = []
    current = by_parent.get(None, [])
    while len(current) == 1 and len(chain) <= len(versions):
        chain.append(current[0])
        current = by_parent.get(current[0].id, [])
    return chain if len(chain) == len(versions) else versions


def _uuid_for(inode: str) -> str:
    try:
        return str(uuid.UUID(inode))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "kamaros-inode:" + inode))


def convert_legacy(
    reader: ContainerReader, manifest_entry: str, dest: Path, reporter: Reporter
) -> None:
    """Write `dest` (a new format 2 container) holding every version of the archive."""
    data, versions, named_refs = _parse(reader.read_entry(manifest_entry, MAX_LEGACY_MANIFEST))
    if not versions:
        raise DamagedContainerError("the archive holds no versions")
    head_files = versions[-1].files
    head_by_sha: dict[str, list[str]] = {}
    for path, (_, sha, _) in head_files.items():
        head_by_sha.setdefault(sha, []).append(path)
    # Where to read each SHA-256 content from.
    sources: dict[str, list[str]] = {}
    for v in versions:
        for path, (_, sha, ref) in v.files.items():
            options = sources.setdefault(sha, [])
            for name in (ref, f".store/blobs/{sha}", content_name(path)):
                if name and name in reader.entries and name not in options:
                    options.append(name)
    writer = ContainerWriter.create(dest, mimetype=MIMETYPE)
    try:
        contents: dict[str, _Content] = {}
        for number, (sha, options) in enumerate(sources.items(), 1):
            contents[sha] = _copy_content(reader, writer, sha, options, head_by_sha.get(sha, []))
            reporter.report("Importing", number, len(sources), unit="contents")
        manifest = _build_manifest(data, versions, named_refs, contents)
        writer.add_bytes(MANIFEST_ENTRY, manifest.to_json_bytes(), method=DEFLATED)
        writer.commit()
        writer.close()
    except BaseException:
        writer.abort()
        diskio.unlink(dest, missing_ok=True)
        raise


def _copy_content(
    reader: ContainerReader,
    writer: ContainerWriter,
    sha: str,
    options: list[str],
    head_paths: list[str],
) -> _Content:
    """Verify one content by SHA-256 and write it as a blob or as HEAD `content/` entries."""
    problems: list[str] = []
    for name in options:
        size = reader.entries[name].uncompressed_size
        try:
            result = _measure(reader, name, sha)
        except DamagedContainerError as exc:
            problems.append(str(exc))
            continue
        if head_paths:
            for path in head_paths:
                writer.add_chunks(
                    content_name(path),
                    reader.iter_entry(name),
                    method=DEFLATED if result.is_text else STORED,
                    size_hint=size,
                )
        else:
            writer.add_chunks(
                blob_name(result.blake3),
                compress_chunks(reader.iter_entry(name), size=size),
                method=STORED,
                size_hint=size,
            )
        return result
    detail = "; ".join(problems) or "no entry holds it"
    raise DamagedContainerError(f"content sha256:{sha[:16]} cannot be recovered ({detail})")


def _measure(reader: ContainerReader, name: str, sha: str) -> _Content:
    sha256 = hashlib.sha256()
    blake = ContentHasher()
    size = reader.entries[name].uncompressed_size
    sniffer = TextSniffer() if size <= TEXT_MAX_BYTES else None
    total = 0
    for chunk in _chunks(reader, name):
        sha256.update(chunk)
        blake.update(chunk)
        total += len(chunk)
        if sniffer is not None:
            sniffer.feed(chunk)
    if sha256.hexdigest() != sha:
        raise DamagedContainerError(f"{name}: bytes do not match sha256:{sha[:16]}")
    return _Content(blake.hexdigest(), total, sniffer is not None and sniffer.is_text)


def _chunks(reader: ContainerReader, name: str) -> Iterator[bytes]:
    yield from reader.iter_entry(name)


def _build_manifest(
    data: dict[str, Any],
    versions: list[_LegacyVersion],
    named_refs: dict[str, str],
    contents: dict[str, _Content],
) -> Manifest:
    raw_meta = data.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    created = _text(meta, "created_at", "created", default=versions[0].timestamp)
    metadata = Metadata(
        author=_text(meta, "author"),
        created_at=created,
        last_modified=now_iso(),
        application=f"Kamaros {__version__} (imported from {_text(meta, 'application')})"
        if _text(meta, "application")
        else f"Kamaros {__version__} (imported)",
        description=_text(meta, "description", "name"),
    )
    new_ids = {v.id: uuid.uuid4().hex for v in versions}
    ours: list[Version] = []
    renames: list[RenameEntry] = []
    previous: dict[str, FileState] = {}
    for v in versions:
        vid = new_ids[v.id]
        current: dict[str, FileState] = {}
        for path, (inode, sha, _) in v.files.items():
            c = contents[sha]
            current[path] = FileState(
                path=path,
                inodeId=_uuid_for(inode),
                hash=c.blake3,
                size=c.size,
                changeType="added",
                type="text" if c.is_text else "binary",
            )
        changes: dict[str, FileState] = {}
        old_by_inode = {s.inodeId: p for p, s in previous.items()}
        moved_from: set[str] = set()
        for path, state in current.items():
            before = previous.get(path)
            if before is not None and before.inodeId == state.inodeId:
                if before.hash != state.hash:
                    changes[path] = _with(state, "modified")
                continue
            source = old_by_inode.get(state.inodeId)
            if source is not None and source not in current:
                changes[path] = _with(state, "renamed", source)
                moved_from.add(source)
                renames.append(RenameEntry(state.inodeId, source, path, vid, v.timestamp))
            elif before is not None:
                changes[path] = _with(state, "modified")
            else:
                changes[path] = state
        for path, state in previous.items():
            if path not in current and path not in moved_from:
                changes[path] = _with(state, "deleted")
        ours.append(
            Version(
                id=vid,
                timestamp=v.timestamp,
                message=v.message or "(no message)",
                author=v.author,
                email=v.email,
                parentId=ours[-1].id if ours else None,
                changes=changes,
            )
        )
        previous = current
    stamp = now_iso()
    file_map = {
        p: FileEntry(
            type=s.type,
            inodeId=s.inodeId,
            currentHash=s.hash,
            size=s.size,
            modified_at=stamp,
            created_at=stamp,
        )
        for p, s in previous.items()
    }
    tags: dict[str, str] = {}
    for v in versions:
        for name in v.tags:
            _add_tag(tags, name, new_ids[v.id])
    for name, target in named_refs.items():
        if target in new_ids:
            _add_tag(tags, name, new_ids[target])
    return Manifest(
        metadata=metadata,
        fileMap=file_map,
        versions=tuple(ours),
        tags=tags,
        renameLog=tuple(renames),
    )


def _with(state: FileState, change: ChangeType, from_path: str | None = None) -> FileState:
    return state._replace(changeType=change, fromPath=from_path)


def _add_tag(tags: dict[str, str], name: str, version_id: str) -> None:
    try:
        validate_tag_name(name)
    except Exception:
        return
    if name not in tags:
        tags[name] = version_id
