"""Tests for ignore rules: defaults, .kamarosignore, negation, pruning."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from kamaros_app.engine.ignore import DEFAULT_IGNORE_PATTERNS, IGNORE_FILE, IgnoreRules


def _write_rules(root: Path, text: str) -> IgnoreRules:
    (root / IGNORE_FILE).write_text(text, encoding="utf-8")
    return IgnoreRules.load(root)


@pytest.mark.parametrize(
    "path",
    [
        ".DS_Store",
        "art/.DS_Store",
        "art/._cover.png",
        "Thumbs.db",
        "docs/desktop.ini",
        "notes.txt~",
        "src/.main.py.swp",
        ".notes.md.swo",
        "report.tmp",
        ".#draft.org",
        "#draft.org#",
        "~$Budget.xlsx",
        "docs/.~lock.letter.odt#",
        "scene.blend1",
        "scene.blend2",
        "paint.kra-autosave.kra",
        "level.autosave",
        "pkg/mod.pyc",
        ".nfs000000001234",
        ".report.pdf.kamaros-tmp-1a2b3c",
        "deep/a/b/.x.kamaros-tmp-ff",
    ],
)
def test_default_ignored_files(tmp_path: Path, path: str) -> None:
    rules = IgnoreRules.load(tmp_path)
    assert rules.is_ignored(path, is_dir=False)


@pytest.mark.parametrize(
    "path",
    [
        "main.py",
        "README.md",
        IGNORE_FILE,
        "notes.bak",
        "scene.blend",
        "paint.kra",
        "docs/report.docx",
        "src/#include.h",
        "tmp/file.txt",
        "data.tmpl",
        ".gitignore",
        ".config/settings.json",
    ],
)
def test_default_kept_files(tmp_path: Path, path: str) -> None:
    rules = IgnoreRules.load(tmp_path)
    assert not rules.is_ignored(path, is_dir=False)


@pytest.mark.parametrize(
    "path", [".kamaros", "sub/.kamaros", "__pycache__", "pkg/__pycache__", "$RECYCLE.BIN"]
)
def test_default_ignored_dirs(tmp_path: Path, path: str) -> None:
    rules = IgnoreRules.load(tmp_path)
    assert rules.is_ignored(path, is_dir=True)
    assert rules.is_ignored(path + "/inner/file.txt", is_dir=False)


def test_dir_only_patterns_do_not_hit_files(tmp_path: Path) -> None:
    rules = _write_rules(tmp_path, "build/\n")
    assert rules.is_ignored("build", is_dir=True)
    assert rules.is_ignored("sub/build", is_dir=True)
    assert not rules.is_ignored("build", is_dir=False)
    assert not rules.is_ignored("__pycache__", is_dir=False)


def test_user_rules_anchoring_and_wildcards(tmp_path: Path) -> None:
    rules = _write_rules(
        tmp_path,
        "# comment\n\n*.log\n/out\nassets/**/*.psd\nrenders/*.exr\n",
    )
    assert rules.is_ignored("app.log", is_dir=False)
    assert rules.is_ignored("a/b/app.log", is_dir=False)
    assert rules.is_ignored("out", is_dir=True)
    assert rules.is_ignored("out/x.bin", is_dir=False)
    assert not rules.is_ignored("src/out", is_dir=True)  # anchored to the root
    assert rules.is_ignored("assets/a/b/big.psd", is_dir=False)
    assert rules.is_ignored("assets/big.psd", is_dir=False)
    assert not rules.is_ignored("other/big.psd", is_dir=False)
    assert rules.is_ignored("renders/f001.exr", is_dir=False)
    assert not rules.is_ignored("renders/sub/f001.exr", is_dir=False)
    assert not rules.is_ignored("# comment", is_dir=False)


def test_negation_reincludes_defaults_but_never_history(tmp_path: Path) -> None:
    rules = _write_rules(
        tmp_path,
        "!*.tmp\n!.DS_Store\n!.kamaros/\n!.kamaros\n!.*.kamaros-tmp*\n*.log\n!keep.log\n",
    )
    assert not rules.is_ignored("data.tmp", is_dir=False)
    assert not rules.is_ignored("x/.DS_Store", is_dir=False)
    assert rules.is_ignored(".kamaros", is_dir=True)
    assert rules.is_ignored(".kamaros/project.jcf", is_dir=False)
    assert rules.is_ignored(".a.txt.kamaros-tmp-00ff", is_dir=False)
    assert rules.is_ignored("debug.log", is_dir=False)
    assert not rules.is_ignored("keep.log", is_dir=False)
    assert not rules.is_ignored("sub/keep.log", is_dir=False)


def test_nothing_inside_an_ignored_dir_comes_back(tmp_path: Path) -> None:
    # As in git: a file cannot be re-included when a parent folder is excluded.
    rules = _write_rules(tmp_path, "cache/\n!cache/keep.txt\n")
    assert rules.is_ignored("cache", is_dir=True)
    assert rules.is_ignored("cache/keep.txt", is_dir=False)
    assert rules.is_ignored("cache/deeper/keep.txt", is_dir=False)


def test_later_rule_wins(tmp_path: Path) -> None:
    rules = _write_rules(tmp_path, "!important.tmp\n*.tmp\n")
    assert rules.is_ignored("important.tmp", is_dir=False)
    rules = _write_rules(tmp_path, "*.tmp\n!important.tmp\n")
    assert not rules.is_ignored("important.tmp", is_dir=False)


def test_crlf_bom_and_bad_lines(tmp_path: Path) -> None:
    (tmp_path / IGNORE_FILE).write_bytes(b"\xef\xbb\xbf*.log\r\nbuild/\r\n!\r\n")
    rules = IgnoreRules.load(tmp_path)
    assert rules.is_ignored("x.log", is_dir=False)
    assert rules.is_ignored("build", is_dir=True)
    assert len(rules.warnings) == 1
    assert "line 3" in rules.warnings[0]
    assert not rules.is_ignored("x.txt", is_dir=False)


def test_missing_and_unreadable_file(tmp_path: Path) -> None:
    rules = IgnoreRules.load(tmp_path)
    assert rules.warnings == ()
    (tmp_path / IGNORE_FILE).mkdir()  # reading a folder fails
    rules = IgnoreRules.load(tmp_path)
    assert rules.warnings
    assert rules.is_ignored(".DS_Store", is_dir=False)


def test_non_utf8_patterns_match_non_utf8_names(tmp_path: Path) -> None:
    (tmp_path / IGNORE_FILE).write_bytes(b"caf\xe9.txt\n")
    rules = IgnoreRules.load(tmp_path)
    assert rules.is_ignored(os.fsdecode(b"caf\xe9.txt"), is_dir=False)
    assert not rules.is_ignored("café.txt", is_dir=False)


def _walk(root: Path, rules: IgnoreRules) -> tuple[set[str], set[str]]:
    """A pruning walker like the engine's: returns (kept files, folders entered)."""
    kept: set[str] = set()
    entered: set[str] = set()
    pending = [""]
    while pending:
        prefix = pending.pop()
        entered.add(prefix)
        for entry in os.scandir(root / prefix):
            rel = f"{prefix}/{entry.name}" if prefix else entry.name
            if entry.is_dir(follow_symlinks=False):
                if not rules.is_ignored(rel, is_dir=True):
                    pending.append(rel)
            elif not rules.is_ignored(rel, is_dir=False):
                kept.add(rel)
    return kept, entered


def test_directory_pruning_on_a_real_tree(tmp_path: Path) -> None:
    files = [
        "src/main.py",
        "src/__pycache__/main.cpython-311.pyc",
        "src/pkg/.mod.py.swp",
        "node_modules/lib/index.js",
        "docs/guide.md",
        "docs/build/html/index.html",
        ".kamaros/project.jcf",
        "nested/.kamaros/other.jcf",
        "art/scene.blend",
        "art/scene.blend1",
        "art/.DS_Store",
        IGNORE_FILE,
    ]
    for rel in files:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    rules = _write_rules(tmp_path, "node_modules/\nbuild/\n")
    kept, entered = _walk(tmp_path, rules)
    assert kept == {"src/main.py", "docs/guide.md", "art/scene.blend", IGNORE_FILE}
    assert "node_modules" not in entered
    assert ".kamaros" not in entered
    assert "nested/.kamaros" not in entered
    assert "src/__pycache__" not in entered
    assert "docs/build" not in entered


def test_prefilter_agrees_with_pathspec(tmp_path: Path) -> None:
    rules = _write_rules(
        tmp_path,
        "*.log\n!keep.log\n/top\na/**/b\ndocs/*.pdf\n[Bb]uild/\n**/gen/*.c\nx?z\n",
    )
    slow = IgnoreRules((tmp_path / IGNORE_FILE).read_text().splitlines())
    slow._prefilter = None
    names = ["top", "a", "b", "keep.log", "x.log", "build", "Build", "gen", "f.c", "xyz", "doc"]
    names += ["docs", "r.pdf", ".DS_Store", "n~", "__pycache__", "m.pyc", ".#l", "#a#"]
    for depth in (1, 2, 3):
        for parts in itertools.product(names, repeat=depth):
            rel = "/".join(parts)
            for is_dir in (False, True):
                assert rules.is_ignored(rel, is_dir=is_dir) == slow.is_ignored(
                    rel, is_dir=is_dir
                ), rel


def test_default_patterns_are_valid() -> None:
    assert len(set(DEFAULT_IGNORE_PATTERNS)) == len(DEFAULT_IGNORE_PATTERNS)
    assert IgnoreRules(()).warnings == ()
    assert ".kamaros/" in DEFAULT_IGNORE_PATTERNS


def test_precomputed_default_prefilter_is_what_the_defaults_compile_to() -> None:
    import pathspec

    from kamaros_app.engine import ignore

    spec = pathspec.GitIgnoreSpec.from_lines(ignore.DEFAULT_IGNORE_PATTERNS)
    computed = ignore._prefilter(spec)
    assert computed is not None
    assert computed.pattern == ignore._DEFAULT_PREFILTER


def test_the_walks_name_check_agrees_with_the_full_check() -> None:
    """`file_ignored_in_walk` (defaults: the file's name only) gives what `is_ignored`
    gives for every file of a folder that is not ignored, whatever the name."""
    rules = IgnoreRules(())
    assert rules._name_prefilter is not None
    names = [p.rstrip("/").replace("*", "x").replace("?", "q") for p in DEFAULT_IGNORE_PATTERNS]
    names += ["main.py", "a~b", "x.tmp.txt", ".#", "#a", "a#", ".nfs", "._", "Thumbs.db.txt"]
    names += [".x.kamaros-tmp-1", "__pycache__", ".kamaros", "$RECYCLE.BIN", ".Trash-1000"]
    names += [n.replace("\\", "") for n in names] + [n + "x" for n in names] + ["é~", "ü.tmp"]
    checked = 0
    for folder in ("", "docs/", "a/b/", "tmp/", "src/#x#/"):
        if folder and rules.is_ignored(folder.rstrip("/"), is_dir=True):
            continue
        for name in names:
            rel = folder + name
            assert rules.file_ignored_in_walk(rel, name) == rules.is_ignored(rel, is_dir=False)
            checked += 1
    assert checked > 300
    custom = IgnoreRules(["!*.tmp"])  # user rules: the full check, as before
    assert custom._name_prefilter is None
    assert not custom.file_ignored_in_walk("a/report.tmp", "report.tmp")
