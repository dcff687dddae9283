"""Property: any sequence of edits, checkpoints and restores keeps every version byte-exact."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kamaros_app.engine import NothingToSaveError, Project

# No path is a prefix folder of another, so files and folders never collide.
PATHS = ["a.txt", "b.bin", "dir/c.txt", "dir/sub/d.md", "é-nfc.txt", "dir/ü.bin", "e f.txt"]

text_lines = st.lists(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
    ).map(lambda s: s.replace("\r", "").replace("\n", "")),
    max_size=40,
)
line_end = st.sampled_from(["\n", "\r\n", "\r", ""])
texts = st.tuples(text_lines, line_end).map(
    lambda t: "".join(line + t[1] for line in t[0]).encode("utf-8")
)
binaries = st.binary(max_size=3000)
contents = st.one_of(texts, binaries, st.just(b""))


class History(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="kamaros-prop-"))
        self.root = self.tmp / "p"
        self.root.mkdir()
        self.project = Project.init(self.root)
        self.folder: dict[str, bytes] = {}
        self.versions: list[tuple[str, dict[str, bytes]]] = []

    def teardown(self) -> None:
        self.project.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _write(self, path: str, data: bytes) -> None:
        full = self.root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(data)
        self.folder[path] = data

    def _remove(self, path: str) -> None:
        (self.root / path).unlink()
        del self.folder[path]

    @rule(path=st.sampled_from(PATHS), data=contents)
    def add_or_replace(self, path: str, data: bytes) -> None:
        self._write(path, data)

    @precondition(lambda self: self.folder)
    @rule(data=st.data(), line=st.text(max_size=20).map(lambda s: s.replace("\x00", "")))
    def small_text_edit(self, data: st.DataObject, line: str) -> None:
        path = data.draw(st.sampled_from(sorted(self.folder)))
        old = self.folder[path]
        cut = data.draw(st.integers(0, len(old)))
        try:
            old.decode("utf-8")
        except UnicodeDecodeError:
            self._write(path, old[:cut] + line.encode() + old[cut:])
            return
        text = old.decode("utf-8")
        cut = min(cut, len(text))
        self._write(path, (text[:cut] + line + "\r\n" + text[cut:]).encode("utf-8"))

    @precondition(lambda self: self.folder)
    @rule(data=st.data())
    def rename(self, data: st.DataObject) -> None:
        source = data.draw(st.sampled_from(sorted(self.folder)))
        free = [p for p in PATHS if p not in self.folder]
        if not free:
            return
        target = data.draw(st.sampled_from(free))
        payload = self.folder[source]
        self._remove(source)
        self._write(target, payload)

    @precondition(lambda self: self.folder)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        self._remove(data.draw(st.sampled_from(sorted(self.folder))))

    @rule(message=st.text(min_size=1, max_size=20).filter(lambda s: s.strip()))
    def checkpoint(self, message: str) -> None:
        changed = self.folder != (self.versions[-1][1] if self.versions else {})
        try:
            info = self.project.checkpoint(message)
        except NothingToSaveError:
            assert not changed
            return
        assert changed
        self.versions.append((info.id, dict(self.folder)))

    @precondition(lambda self: self.versions)
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        version_id, files = data.draw(st.sampled_from(self.versions))
        unsaved = self.folder != self.versions[-1][1]
        result = self.project.restore(version_id)
        if unsaved:
            assert result.safety_id is not None
            self.versions.append((result.safety_id, dict(self.folder)))
        self.folder = dict(files)
        assert self._on_disk() == files
        if result.checkpoint_id is not None:
            self.versions.append((result.checkpoint_id, dict(files)))
        assert self.project.status().is_clean

    def _on_disk(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.root).as_posix(): p.read_bytes()
            for p in self.root.rglob("*")
            if p.is_file() and ".kamaros" not in p.relative_to(self.root).parts
        }

    @invariant()
    def folder_matches_model(self) -> None:
        assert self._on_disk() == self.folder

    def check_all_versions(self) -> None:
        for version_id, files in self.versions:
            states = self.project.file_states(version_id)
            assert set(states) == set(files)
            for path, data in files.items():
                assert self.project.read_file(version_id, path) == data
        if self.versions:
            last_id, last_files = self.versions[-1]
            self.project.restore(last_id)
            assert self._on_disk() == last_files
            assert self.project.status().is_clean

    @invariant()
    def status_is_clean_after_checkpoint(self) -> None:
        if self.versions and self.versions[-1][1] == self.folder:
            assert self.project.status().is_clean


class HistoryWithFinalCheck(History):
    def teardown(self) -> None:
        try:
            self.check_all_versions()
            assert self.project.verify().ok
        finally:
            super().teardown()


TestRoundTrip = HistoryWithFinalCheck.TestCase
TestRoundTrip.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
