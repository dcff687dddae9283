"""Where the bytes of a project's history go: `python -m bench.breakdown PROJECT [...]`.

Walks `.kamaros/project.jcf` record by record from its first byte: every local entry (its
header and its data), every central directory with its end records. An entry is live when
the last central directory lists it at that offset; everything else (replaced entries, old
manifests, old central directories) is dead until compaction. The rest of `.kamaros/`
(the stat cache) is counted too, since the benchmark's repository size includes it.
The central directory records of live entries are counted in the live central directory.
"""

from __future__ import annotations

import argparse
import os
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Breakdown", "Row", "breakdown", "main"]

_LFH = struct.Struct("<IHHHHHIIIHH")
_CDH = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_LFH_SIG, _CDH_SIG, _EOCD_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_Z64_EOCD_SIG, _Z64_LOC_SIG = 0x06064B50, 0x07064B50
_U32 = 0xFFFFFFFF
_READ = 1 << 20


@dataclass
class Row:
    entries: int = 0
    payload: int = 0
    headers: int = 0

    @property
    def total(self) -> int:
        return self.payload + self.headers


@dataclass
class Breakdown:
    rows: dict[str, Row] = field(default_factory=dict)
    container: int = 0
    outside: int = 0
    """Bytes under `.kamaros/` other than the container (the stat cache)."""
    unparsed: int = 0
    """Bytes at the end that are no ZIP record (none in a container Kamaros committed)."""

    def row(self, name: str) -> Row:
        return self.rows.setdefault(name, Row())

    @property
    def dead(self) -> int:
        return sum(r.total for name, r in self.rows.items() if name.startswith("dead"))


def _kind(name: str, method: int) -> str:
    if name.startswith("content/"):
        return "content, deflated" if method == 8 else "content, stored"
    if name.startswith(".store/blobs/"):
        return "blobs"
    if name.startswith(".store/deltas/"):
        return "deltas"
    return name


def _records(path: Path) -> Iterator[tuple[int, int, str, int, int, int]]:
    """(offset, signature, name, method, header bytes, data bytes) for every record in file
    order; directory and end records count as header bytes. Signature 0: not a record (the
    rest of the file)."""
    size = path.stat().st_size
    with open(path, "rb") as f:

        def read(offset: int, count: int) -> bytes:
            f.seek(offset)
            return f.read(count)

        pos = 0
        while pos + 4 <= size:
            (sig,) = struct.unpack("<I", read(pos, 4))
            if sig == _LFH_SIG:
                head = read(pos, _LFH.size)
                fields = _LFH.unpack(head)
                method, csize, name_len, extra_len = fields[3], fields[7], fields[9], fields[10]
                tail = read(pos + _LFH.size, name_len + extra_len)
                name = tail[:name_len].decode("utf-8", "replace")
                if csize == _U32:  # zip64: the local extra holds both sizes
                    extra = tail[name_len:]
                    while len(extra) >= 4:
                        tag, length = struct.unpack_from("<HH", extra)
                        if tag == 1 and length >= 16:
                            csize = struct.unpack_from("<Q", extra, 12)[0]
                            break
                        extra = extra[4 + length :]
                header = _LFH.size + name_len + extra_len
                yield pos, sig, name, method, header, csize
                pos += header + csize
            elif sig == _CDH_SIG:
                fields = _CDH.unpack(read(pos, _CDH.size))
                length = _CDH.size + fields[10] + fields[11] + fields[12]
                yield pos, sig, "", 0, length, 0
                pos += length
            elif sig == _Z64_EOCD_SIG:
                length = 12 + struct.unpack("<Q", read(pos + 4, 8))[0]
                yield pos, sig, "", 0, length, 0
                pos += length
            elif sig == _Z64_LOC_SIG:
                yield pos, sig, "", 0, 20, 0
                pos += 20
            elif sig == _EOCD_SIG:
                length = _EOCD.size + _EOCD.unpack(read(pos, _EOCD.size))[7]
                yield pos, sig, "", 0, length, 0
                pos += length
            else:
                break
        yield pos, 0, "", 0, 0, size - pos


def breakdown(project: Path) -> Breakdown:
    """The breakdown of `project/.kamaros` (the folder holding `project.jcf`)."""
    folder = project / ".kamaros"
    path = folder / "project.jcf"
    result = Breakdown(container=path.stat().st_size)
    with zipfile.ZipFile(path) as archive:
        live = {info.header_offset for info in archive.infolist()}
    directories: list[int] = []  # bytes of each central directory with its end records
    in_directory = False
    for offset, sig, name, method, header, data in _records(path):
        if sig == _LFH_SIG:
            in_directory = False
            row = result.row(f"{'live' if offset in live else 'dead'} {_kind(name, method)}")
            row.entries += 1
            row.payload += data
            row.headers += header
        elif sig == 0:
            result.unparsed = data
        else:
            if not in_directory:
                directories.append(0)
                in_directory = True
            directories[-1] += header
            in_directory = sig != _EOCD_SIG
    for index, size in enumerate(directories):
        row = result.row(
            "live central directory" if index == len(directories) - 1 else "dead central directory"
        )
        row.entries += 1
        row.headers += size
    for base, _, files in os.walk(folder):
        for name in files:
            full = Path(base) / name
            if full != path:
                result.outside += full.stat().st_size
    return result


def _table(project: Path, result: Breakdown) -> str:
    lines = [
        f"{project}: {result.container + result.outside:,} bytes in .kamaros/",
        f"  {'':34} {'entries':>8} {'data':>14} {'headers':>12} {'total':>14}",
    ]
    for name in sorted(result.rows, key=lambda n: (n.startswith("dead"), n)):
        row = result.rows[name]
        lines.append(
            f"  {name:34} {row.entries:8,} {row.payload:14,} {row.headers:12,} {row.total:14,}"
        )
    lines.append(f"  {'container':34} {'':8} {'':14} {'':12} {result.container:14,}")
    lines.append(f"  {'  of which dead':34} {'':8} {'':14} {'':12} {result.dead:14,}")
    if result.unparsed:
        lines.append(f"  {'  not ZIP records':34} {'':8} {'':14} {'':12} {result.unparsed:14,}")
    lines.append(
        f"  {'rest of .kamaros/ (stat cache)':34} {'':8} {'':14} {'':12} {result.outside:14,}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__)
    parser.add_argument("projects", nargs="+", type=Path, help="project folders")
    args = parser.parse_args(argv)
    for project in args.projects:
        print(_table(project, breakdown(project)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
