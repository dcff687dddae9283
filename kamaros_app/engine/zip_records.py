"""ZIP record formats of the JCF container: signatures, structs, names, DOS dates, zip64 extras."""

from __future__ import annotations

import re
import struct
from typing import Final, NamedTuple

from .errors import DamagedContainerError, HostileContainerError, InvalidArgumentError

__all__ = ["DEFLATED", "STORED", "ZipEntry", "validate_entry_name"]

STORED: Final = 0
DEFLATED: Final = 8

_LFH_SIG: Final = 0x04034B50
_CDH_SIG: Final = 0x02014B50
_EOCD_SIG: Final = 0x06054B50
_Z64_EOCD_SIG: Final = 0x06064B50
_Z64_LOC_SIG: Final = 0x07064B50
_EOCD_MAGIC: Final = b"PK\x05\x06"

_LFH = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_CDH = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
_Z64_EOCD = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_Z64_LOC = struct.Struct("<IIQI")  # 20 bytes
_Z64_LOCAL_EXTRA = struct.Struct("<HHQQ")  # 20 bytes: id 1, size 16, usize, csize
_CRC_SIZES = struct.Struct("<III")
_EXTRA_HEADER = struct.Struct("<HH")

_U16: Final = 0xFFFF
_U32: Final = 0xFFFFFFFF
_FLAG_ENCRYPTED: Final = 0x0001
_FLAG_STRONG_ENCRYPTION: Final = 0x0040
_FLAG_UTF8: Final = 0x0800
_VERSION: Final = 20
_VERSION_ZIP64: Final = 45
_SYSTEM_UNIX: Final = 3
_DOS_DIRECTORY: Final = 0x10

_DEFAULT_DATE_TIME: Final = (1980, 1, 1, 0, 0, 0)

_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_DRIVE = re.compile(r"[A-Za-z]:")


class ZipEntry(NamedTuple):
    """One live entry of a container, as listed by the central directory.

    A named tuple rather than a frozen dataclass: an open builds one per entry (10,000
    and more), at a third of the cost, and the class itself costs ~0.1 ms to create
    instead of ~1 ms at every start of the program."""

    name: str
    method: int
    crc32: int
    compressed_size: int
    uncompressed_size: int
    header_offset: int
    data_offset: int
    external_attr: int
    date_time: tuple[int, int, int, int, int, int]
    cd_record: bytes = b""
    """The entry's central directory record, as read or written."""
    damage: str = ""
    """Why the entry's bytes cannot be found (a damaged local header), or "" when they can.
    Only a trusted reader accepts such an entry; reading it raises DamagedContainerError."""

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


def validate_entry_name(name: str) -> None:
    """Raise HostileContainerError unless `name` is a safe relative POSIX path.

    A trailing `/` is allowed (directory entries); empty, `.` and `..` components are not.
    """
    if not name:
        raise HostileContainerError("unsafe entry name '': empty name")
    bad = _UNSAFE_CHARS.search(name)
    if bad is not None:
        what = "a backslash" if bad.group() == "\\" else "a control character"
        raise HostileContainerError(f"unsafe entry name {name!r}: contains {what}")
    if name.startswith("/"):
        raise HostileContainerError(f"unsafe entry name {name!r}: absolute path")
    if _DRIVE.match(name):
        raise HostileContainerError(f"unsafe entry name {name!r}: drive letter")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise HostileContainerError(f"unsafe entry name {name!r}: not valid UTF-8") from None
    body = name[:-1] if name.endswith("/") else name
    for part in body.split("/"):
        if part in ("", ".", ".."):
            raise HostileContainerError(
                f"unsafe entry name {name!r}: empty, '.' or '..' path component"
            )


def _dos_date_time(date_time: tuple[int, int, int, int, int, int] | None) -> tuple[int, int]:
    """(time, date) fields of a ZIP header; years outside 1980..2107 are clamped."""
    year, month, day, hour, minute, second = date_time or _DEFAULT_DATE_TIME
    if not (1 <= month <= 12 and 1 <= day <= 31 and 0 <= hour <= 23 and 0 <= minute <= 59):
        raise InvalidArgumentError(f"invalid ZIP date/time {date_time!r}")
    if not 0 <= second <= 61:
        raise InvalidArgumentError(f"invalid ZIP date/time {date_time!r}")
    if year < 1980:
        return 0, (1 << 5) | 1
    if year > 2107:
        year, month, day, hour, minute, second = 2107, 12, 31, 23, 59, 58
    return (hour << 11) | (minute << 5) | (min(second, 59) // 2), (
        ((year - 1980) << 9) | (month << 5) | day
    )


def _decode_date_time(time_field: int, date_field: int) -> tuple[int, int, int, int, int, int]:
    return (
        (date_field >> 9) + 1980,
        (date_field >> 5) & 0xF,
        date_field & 0x1F,
        time_field >> 11,
        (time_field >> 5) & 0x3F,
        (time_field & 0x1F) * 2,
    )


def _zip64_extra(
    extra: bytes, usize: int, csize: int, offset: int, disk: int
) -> tuple[int, int, int, int]:
    """Replace the 0xFFFF.. placeholders of a central record with its zip64 extra values."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = _EXTRA_HEADER.unpack_from(extra, pos)
        pos += 4
        if pos + size > len(extra):
            break
        if tag == 1:
            data = extra[pos : pos + size]
            at = 0
            try:
                if usize == _U32:
                    (usize,) = struct.unpack_from("<Q", data, at)
                    at += 8
                if csize == _U32:
                    (csize,) = struct.unpack_from("<Q", data, at)
                    at += 8
                if offset == _U32:
                    (offset,) = struct.unpack_from("<Q", data, at)
                    at += 8
                if disk == _U16:
                    (disk,) = struct.unpack_from("<I", data, at)
            except struct.error:
                raise DamagedContainerError("zip64 extra field is too short") from None
            return usize, csize, offset, disk
        pos += size
    raise DamagedContainerError("zip64 extra field is missing for a record that needs it")


def _cd_record(
    name_b: bytes,
    flags: int,
    method: int,
    time_field: int,
    date_field: int,
    crc: int,
    csize: int,
    usize: int,
    external_attr: int,
    offset: int,
    system: int,
) -> bytes:
    """Encode one central directory record (zip64 extra only for the fields that need it)."""
    values: list[int] = []
    if usize > _U32:
        values.append(usize)
        usize = _U32
    if csize > _U32:
        values.append(csize)
        csize = _U32
    if offset > _U32:
        values.append(offset)
        offset = _U32
    if values:
        extra = struct.pack(f"<HH{len(values)}Q", 1, 8 * len(values), *values)
        version = _VERSION_ZIP64
    else:
        extra = b""
        version = _VERSION
    head = _CDH.pack(
        _CDH_SIG,
        (system << 8) | version,
        version,
        flags,
        method,
        time_field,
        date_field,
        crc,
        csize,
        usize,
        len(name_b),
        len(extra),
        0,
        0,
        0,
        external_attr,
        offset,
    )
    return head + name_b + extra
