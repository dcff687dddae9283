"""Tests for the stat cache: exact matching, racy entries, bad files, speed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.statcache import (
    TIMESTAMP_GRANULARITY_NS,
    CachedFile,
    StatCache,
    StatInfo,
)

SECOND = 1_000_000_000


class Clock:
    """Controls the time StatCache sees."""

    def __init__(self) -> None:
        self.now = time.time_ns()

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("kamaros_app.engine.statcache.time.time_ns", fake)
    return fake


def _lstat(info: StatInfo) -> Any:
    """What `doubts` reads of an `os.lstat` result, with `info`'s values."""
    return SimpleNamespace(**{f"st_{field}": value for field, value in info._asdict().items()})


def _file(tmp_path: Path, name: str, data: bytes, age_s: float = 60) -> tuple[Path, StatInfo]:
    path = tmp_path / name
    path.write_bytes(data)
    when = time.time_ns() - int(age_s * SECOND)
    os.utime(path, ns=(when, when))
    return path, StatInfo.from_stat(os.stat(path))


def _entry(st: StatInfo, data: bytes) -> CachedFile:
    return CachedFile(st, hash_bytes(data), True)


def test_hit_after_update_save_and_load(tmp_path: Path) -> None:
    cache_path = tmp_path / "cache" / "stat.json"
    _, st = _file(tmp_path, "a.txt", b"alpha")
    cache = StatCache.load(cache_path, key="k1")
    assert len(cache) == 0
    assert cache.key == "k1"
    assert cache.lookup("a.txt", st) is None
    cache.update("a.txt", _entry(st, b"alpha"))
    assert cache.lookup("a.txt", st) == _entry(st, b"alpha")
    cache.save(cache_path, key="k1")
    loaded = StatCache.load(cache_path, key="k1")
    assert len(loaded) == 1
    assert loaded.lookup("a.txt", st) == _entry(st, b"alpha")
    assert loaded.lookup("b.txt", st) is None


@pytest.mark.parametrize(
    "change",
    [
        {"size": 1},
        {"mtime_ns": 1},
        {"mtime_ns": -1},
        {"ctime_ns": 1},
        {"ino": 1},
        {"dev": 1},
        {"mode": 0o111},
    ],
)
def test_any_stat_difference_is_a_miss(tmp_path: Path, change: dict[str, int]) -> None:
    _, st = _file(tmp_path, "a.txt", b"alpha")
    cache = StatCache.load(tmp_path / "none.json", key="k")
    cache.update("a.txt", _entry(st, b"alpha"))
    (field, delta), *_ = change.items()
    changed = st._replace(**{field: getattr(st, field) + delta})
    cache.save(tmp_path / "c.bin", key="k")
    loaded = StatCache.load(tmp_path / "c.bin", key="k")
    for one in (cache, loaded):  # fresh entries and entries read back from disk
        assert one.lookup("a.txt", changed) is None
        assert one.doubts("a.txt", _lstat(changed))
        assert one.lookup("a.txt", st) is not None
        assert not one.doubts("a.txt", _lstat(st))
        assert one.doubts("b.txt", _lstat(st))


def test_doubts_racy_and_out_of_range_entries(tmp_path: Path) -> None:
    _, st = _file(tmp_path, "a.txt", b"alpha")
    _, new = _file(tmp_path, "new.txt", b"new", age_s=0.5)  # within the granularity
    cache = StatCache.load(tmp_path / "none.bin", key="k")
    cache.update("a.txt", _entry(st, b"alpha"))
    cache.update("new.txt", _entry(new, b"new"))
    cache.save(tmp_path / "c.bin", key="k")
    loaded = StatCache.load(tmp_path / "c.bin", key="k")
    assert not loaded.doubts("a.txt", _lstat(st))
    assert loaded.doubts("a.txt", _lstat(st._replace(ino=-1)))
    assert loaded.lookup("new.txt", new) is None  # racy: dropped or not trusted
    assert loaded.doubts("new.txt", _lstat(new))
    assert not loaded.doubts("a.txt", os.lstat(tmp_path / "a.txt"))  # a real lstat result


def test_real_file_changes_are_misses(tmp_path: Path) -> None:
    path, st = _file(tmp_path, "a.txt", b"alpha")
    cache = StatCache.load(tmp_path / "c.json", key="k")
    cache.update("a.txt", _entry(st, b"alpha"))
    path.write_bytes(b"alpha!")  # size and mtime change
    assert cache.lookup("a.txt", StatInfo.from_stat(os.stat(path))) is None
    # Same size, same mtime, but a new inode (replaced by a rename): still a miss.
    other, _ = _file(tmp_path, "b.txt", b"beta!")
    os.utime(other, ns=(st.mtime_ns, st.mtime_ns))
    os.replace(other, path)
    replaced = StatInfo.from_stat(os.stat(path))
    assert replaced.size == st.size and replaced.mtime_ns == st.mtime_ns
    assert cache.lookup("a.txt", replaced) is None


def test_racy_entries_are_rechecked(tmp_path: Path, clock: Clock) -> None:
    cache_path = tmp_path / "c.json"
    _, st = _file(tmp_path, "a.txt", b"alpha", age_s=0)
    clock.now = st.mtime_ns + SECOND  # the scan starts within the granularity of the write
    cache = StatCache.load(cache_path, key="k")
    cache.update("a.txt", _entry(st, b"alpha"))
    assert cache.lookup("a.txt", st) is None  # may have changed again in the same tick
    cache.save(cache_path, key="k")

    # Next scan, much later: the entry was racy against the reference it was saved with,
    # so it is still not trusted; the scan re-reads the file and refreshes the entry.
    clock.now += 60 * SECOND
    second = StatCache.load(cache_path, key="k")
    assert len(second) == 1
    assert second.lookup("a.txt", st) is None
    second.update("a.txt", _entry(st, b"alpha"))
    assert second.lookup("a.txt", st) is not None  # read after a safe reference time
    second.save(cache_path, key="k")
    third = StatCache.load(cache_path, key="k")
    assert third.lookup("a.txt", st) is not None


def test_racy_entries_not_refreshed_are_dropped_on_save(tmp_path: Path, clock: Clock) -> None:
    cache_path = tmp_path / "c.json"
    _, racy = _file(tmp_path, "racy.txt", b"r", age_s=0)
    _, old = _file(tmp_path, "old.txt", b"o", age_s=600)
    clock.now = racy.mtime_ns + SECOND
    cache = StatCache.load(cache_path, key="k")
    cache.update("racy.txt", _entry(racy, b"r"))
    cache.update("old.txt", _entry(old, b"o"))
    cache.save(cache_path, key="k")
    clock.now += 60 * SECOND
    second = StatCache.load(cache_path, key="k")
    second.save(cache_path, key="k")  # nothing looked up or refreshed
    third = StatCache.load(cache_path, key="k")
    assert len(third) == 1
    assert third.lookup("old.txt", old) is not None
    assert third.lookup("racy.txt", racy) is None


def test_granularity_boundary(tmp_path: Path, clock: Clock) -> None:
    _, st = _file(tmp_path, "a.txt", b"alpha")
    clock.now = st.mtime_ns + TIMESTAMP_GRANULARITY_NS
    cache = StatCache.load(tmp_path / "c.json", key="k")
    cache.update("a.txt", _entry(st, b"alpha"))
    assert cache.lookup("a.txt", st) is None  # not strictly older than the margin
    clock.now += 1
    cache = StatCache.load(tmp_path / "c.json", key="k")
    cache.update("a.txt", _entry(st, b"alpha"))
    assert cache.lookup("a.txt", st) is not None


def test_file_in_the_future_is_never_trusted(tmp_path: Path) -> None:
    path, _ = _file(tmp_path, "a.txt", b"alpha")
    future = time.time_ns() + 3600 * SECOND
    os.utime(path, ns=(future, future))
    st = StatInfo.from_stat(os.stat(path))
    cache = StatCache.load(tmp_path / "c.json", key="k")
    cache.update("a.txt", _entry(st, b"alpha"))
    assert cache.lookup("a.txt", st) is None


def test_key_mismatch_gives_empty_cache(tmp_path: Path) -> None:
    cache_path = tmp_path / "c.json"
    _, st = _file(tmp_path, "a.txt", b"alpha")
    cache = StatCache.load(cache_path, key="commit-1")
    cache.update("a.txt", _entry(st, b"alpha"))
    cache.save(cache_path, key="commit-1")
    other = StatCache.load(cache_path, key="commit-2")
    assert len(other) == 0
    assert other.key == "commit-2"
    assert other.lookup("a.txt", st) is None
    assert len(StatCache.load(cache_path, key="commit-1")) == 1


def _valid_cache_bytes(tmp_path: Path) -> bytes:
    cache_path = tmp_path / "valid.json"
    cache = StatCache.load(cache_path, key="k")
    for i in range(20):
        _, st = _file(tmp_path, f"f{i}.txt", b"x" * i)
        cache.update(f"f{i}.txt", _entry(st, b"x" * i))
    cache.save(cache_path, key="k")
    return cache_path.read_bytes()


def _rewrite_header(valid: bytes, **changes: object) -> bytes:
    """The same body with header fields changed and a checksum that still matches."""
    header_line, _, body = valid.partition(b"\n")
    header = json.loads(header_line)
    header.update(changes)
    header["checksum"] = hash_bytes(body)
    return json.dumps(header).encode() + b"\n" + body


def test_bad_cache_files_give_empty_cache(tmp_path: Path) -> None:
    valid = _valid_cache_bytes(tmp_path)
    assert len(StatCache.load(tmp_path / "valid.json", key="k")) == 20
    header, _, body = valid.partition(b"\n")
    flipped = bytearray(valid)
    flipped[len(valid) - 10] ^= 0x01
    bad_files = {
        "empty": b"",
        "truncated": valid[: len(valid) // 2],
        "bitflip": bytes(flipped),
        "binary": os.urandom(4096),
        "not_utf8": b"\xff\xfe" + valid,
        "header_list": b"[1, 2]\n" + body,
        "wrong_version": header.replace(b'"version": 1', b'"version": 99') + b"\n" + body,
        "count_too_big": _rewrite_header(valid, count=21),
        "count_too_small": _rewrite_header(valid, count=19),
        "count_negative": _rewrite_header(valid, count=-1),
        "paths_bytes_off": _rewrite_header(valid, paths_bytes=5),
        "reference_not_int": _rewrite_header(valid, reference_ns="soon"),
        "missing_field": _rewrite_header(valid, count=None),
        "deep_nesting": b"[" * 100_000 + b"]" * 100_000,
    }
    _, st = _file(tmp_path, "f3.txt", b"xxx")
    for name, data in bad_files.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        cache = StatCache.load(path, key="k")
        assert len(cache) == 0, name
        assert cache.lookup("f3.txt", st) is None
    # A folder or an unreadable path, too.
    assert len(StatCache.load(tmp_path, key="k")) == 0
    assert len(StatCache.load(tmp_path / "missing" / "c.json", key="k")) == 0


def test_unstorable_hashes_are_simply_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _, st = _file(tmp_path, "a.txt", b"alpha")
    cache = StatCache.load(path, key="k")
    cache.update("upper", CachedFile(st, hash_bytes(b"alpha").upper(), True))
    cache.update("short", CachedFile(st, "abc", True))
    cache.update("good", _entry(st, b"alpha"))
    cache.save(path, key="k")
    reloaded = StatCache.load(path, key="k")
    assert len(reloaded) == 1
    assert reloaded.lookup("good", st) == _entry(st, b"alpha")


def test_remove_and_retain(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    cache = StatCache.load(path, key="k")
    stats = {}
    for name in ("a", "b", "c", "d"):
        _, stats[name] = _file(tmp_path, name, name.encode())
        cache.update(name, _entry(stats[name], name.encode()))
    cache.save(path, key="k")
    cache = StatCache.load(path, key="k")
    _, st_e = _file(tmp_path, "e", b"e")
    cache.update("e", _entry(st_e, b"e"))
    cache.update("a", _entry(stats["a"], b"a"))  # both loaded and fresh
    cache.remove("b")
    cache.remove("not-there")
    assert len(cache) == 4
    cache.retain({"a", "c", "e", "zzz"})
    assert len(cache) == 3
    assert cache.lookup("d", stats["d"]) is None
    cache.save(path, key="k")
    reloaded = StatCache.load(path, key="k")
    assert len(reloaded) == 3
    for name in ("a", "c"):
        assert reloaded.lookup(name, stats[name]) is not None


def test_odd_path_names_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    _, st = _file(tmp_path, "x", b"x")
    names = ["café/naïve.txt", "😀.md", 'quote"back\\slash', "new\nline", os.fsdecode(b"bad\xff")]
    cache = StatCache.load(path, key="k")
    for name in names:
        cache.update(name, _entry(st, b"x"))
    cache.save(path, key="k")
    reloaded = StatCache.load(path, key="k")
    for name in names:
        assert reloaded.lookup(name, st) is not None, name


def test_100k_entries_speed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.json"
    _, base = _file(tmp_path, "x", b"x")
    cache = StatCache.load(path, key="k")
    digest = hash_bytes(b"x")
    stats = []
    for i in range(100_000):
        st = base._replace(ino=base.ino + i, size=i)
        stats.append(st)
        cache.update(f"src/module_{i // 100}/file_{i}.py", CachedFile(st, digest, i % 2 == 0))
    start = time.perf_counter()
    cache.save(path, key="k")
    saved = time.perf_counter()
    loaded = StatCache.load(path, key="k")
    done = time.perf_counter()
    hits = sum(
        loaded.lookup(f"src/module_{i // 100}/file_{i}.py", st) is not None
        for i, st in enumerate(stats)
    )
    looked = time.perf_counter()
    assert hits == 100_000
    with capsys.disabled():
        print(
            f"\nstat cache, 100k entries: save {1000 * (saved - start):.0f} ms, "
            f"load {1000 * (done - saved):.0f} ms, 100k lookups {1000 * (looked - done):.0f} ms, "
            f"{path.stat().st_size / 1e6:.1f} MB"
        )
