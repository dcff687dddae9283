"""Plain-words descriptions of files: human sizes and file types. Pure Python (no Qt)."""

from __future__ import annotations

import mimetypes

from kamaros_app.units import human_size

__all__ = ["file_type", "human_size"]

# Leading bytes of common formats, for files whose name says nothing.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!", "RAR archive"),
    (b"\x7fELF", "program (ELF)"),
    (b"MZ", "Windows program"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg media"),
    (b"fLaC", "FLAC audio"),
    (b"\xd0\xcf\x11\xe0", "Microsoft Office document (old format)"),
    (b"\x28\xb5\x2f\xfd", "Zstandard archive"),
)

_MIME_NAMES: dict[str, str] = {
    "application/pdf": "PDF document",
    "application/zip": "ZIP archive",
    "application/gzip": "gzip archive",
    "application/x-tar": "tar archive",
    "application/msword": "Word document (old format)",
    "application/vnd.ms-excel": "Excel spreadsheet (old format)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel spreadsheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint presentation"
    ),
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation",
    "application/epub+zip": "EPUB e-book",
    "application/x-sqlite3": "SQLite database",
    "application/octet-stream": "binary data",
}

_ZIP_BASED = {
    mime
    for mime in _MIME_NAMES
    if "openxmlformats" in mime or "opendocument" in mime or mime == "application/epub+zip"
}

_MIME_FAMILIES = {"image": "image", "audio": "audio", "video": "video", "font": "font"}


def file_type(path: str, data: bytes | None) -> str:
    """A human name for the type of a file: from its first bytes, else its name."""
    if data:
        for magic, name in _SIGNATURES:
            if data.startswith(magic):
                return _zip_flavour(path, name)
    mime, _encoding = mimetypes.guess_type(path.replace("\\", "/").rsplit("/", 1)[-1])
    if mime is None:
        return "binary data"
    if mime in _MIME_NAMES:
        return _MIME_NAMES[mime]
    family, _, sub = mime.partition("/")
    if family in _MIME_FAMILIES:
        return f"{sub.removeprefix('x-').upper()} {_MIME_FAMILIES[family]}"
    return mime


def _zip_flavour(path: str, name: str) -> str:
    """Office documents and e-books are ZIP files: prefer the name's more precise answer."""
    if name != "ZIP archive":
        return name
    mime, _encoding = mimetypes.guess_type(path.replace("\\", "/").rsplit("/", 1)[-1])
    if mime is not None and mime in _ZIP_BASED:
        return _MIME_NAMES[mime]
    return name
