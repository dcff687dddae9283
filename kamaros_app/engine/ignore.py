"""Which files a project leaves out: built-in rules plus `.kamarosignore` (gitignore syntax)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .layout import TEMP_MARKER  # not from fsutil: the quick status path never loads it

if TYPE_CHECKING:
    import pathspec

__all__ = ["DEFAULT_IGNORE_PATTERNS", "IGNORE_FILE", "IgnoreRules"]

IGNORE_FILE = ".kamarosignore"

# Files nobody wants in a version history. `.kamarosignore` is read after these, so a
# `!pattern` line there re-includes any of them, except `.kamaros/` and our own temp files,
# which are always left out whatever the file says.
#
# Deliberately *not* here: `*.bak`, `*.old`, `*.orig` (people keep those on purpose),
# IDE project folders such as `.idea/` or `.vscode/` (often shared on purpose), build
# outputs (`node_modules/`, `dist/`: project-specific; put them in `.kamarosignore`).
DEFAULT_IGNORE_PATTERNS: tuple[str, ...] = (
    # Our own history and temp files (also enforced in code, see IgnoreRules.is_ignored).
    ".kamaros/",
    ".*.kamaros-tmp*",
    # macOS
    ".DS_Store",
    "._*",
    ".Spotlight-V100",
    ".Trashes",
    ".fseventsd",
    ".TemporaryItems",
    # Windows
    "Thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
    "$RECYCLE.BIN/",
    # Linux desktops and NFS
    ".directory",
    ".Trash-*/",
    ".nfs*",
    # Editors: backups, swap, autosave and lock files
    "*~",
    ".*.swp",
    ".*.swo",
    ".*.swx",
    ".#*",
    "\\#*#",
    "*.tmp",
    # Office lock files: Microsoft (~$name.docx) and LibreOffice (.~lock.name.odt#)
    "~$*",
    ".~lock.*#",
    # Blender numbered backups, Krita autosaves, generic autosaves
    "*.blend1",
    "*.blend2",
    "*.kra-autosave.kra",
    "*.autosave",
    # Python bytecode caches
    "__pycache__/",
    "*.py[co]",
)

_HISTORY_DIR = ".kamaros"
_NAMED_GROUP = re.compile(r"\(\?P<[^>]*>")
_ANY_FOLDER = "^(?:.+/)?"

# `_prefilter` of the defaults, precomputed so that a project without `.kamarosignore` need
# not import pathspec (~20 ms) unless a path matches one of them; a test keeps it in step.
_DEFAULT_PREFILTER = (
    "^(?:.+/)?(?:\\.kamaros(?:/)|\\.[^/]*\\.kamaros\\-tmp[^/]*(?:(?:/)|$)"
    "|\\.DS_Store(?:(?:/)|$)|\\._[^/]*(?:(?:/)|$)|\\.Spotlight\\-V100(?:(?:/)|$)"
    "|\\.Trashes(?:(?:/)|$)|\\.fseventsd(?:(?:/)|$)|\\.TemporaryItems(?:(?:/)|$)"
    "|Thumbs\\.db(?:(?:/)|$)|ehthumbs\\.db(?:(?:/)|$)|desktop\\.ini(?:(?:/)|$)"
    "|\\$RECYCLE\\.BIN(?:/)|\\.directory(?:(?:/)|$)|\\.Trash\\-[^/]*(?:/)"
    "|\\.nfs[^/]*(?:(?:/)|$)|[^/]*\\~(?:(?:/)|$)|\\.[^/]*\\.swp(?:(?:/)|$)"
    "|\\.[^/]*\\.swo(?:(?:/)|$)|\\.[^/]*\\.swx(?:(?:/)|$)|\\.\\#[^/]*(?:(?:/)|$)"
    "|\\#[^/]*\\#(?:(?:/)|$)|[^/]*\\.tmp(?:(?:/)|$)|\\~\\$[^/]*(?:(?:/)|$)"
    "|\\.\\~lock\\.[^/]*\\#(?:(?:/)|$)|[^/]*\\.blend1(?:(?:/)|$)|[^/]*\\.blend2(?:(?:/)|$)"
    "|[^/]*\\.kra\\-autosave\\.kra(?:(?:/)|$)|[^/]*\\.autosave(?:(?:/)|$)"
    "|__pycache__(?:/)|[^/]*\\.py[co](?:(?:/)|$))"
)


def _compile(lines: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split lines into those pathspec accepts and warnings about the others."""
    lines = list(lines)
    if not lines:
        return [], []
    import pathspec

    good: list[str] = []
    warnings: list[str] = []
    for number, line in enumerate(lines, 1):
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except ValueError as exc:
            warnings.append(f"{IGNORE_FILE} line {number}: ignored ({exc})")
            continue
        good.append(line)
    return good, warnings


def _prefilter(spec: pathspec.GitIgnoreSpec) -> re.Pattern[str] | None:
    """One regex matching every path that any pattern (ignoring or re-including) matches.

    Most paths match no pattern at all; one combined regex answers that for them ~10x
    faster than pathspec's pattern-by-pattern loop. Paths it matches go to pathspec, which
    decides which pattern wins. None if the patterns cannot be combined safely.
    """
    anywhere: list[str] = []  # patterns without a slash: may match after any folder
    others: list[str] = []
    for pattern in spec.patterns:
        if getattr(pattern, "include", None) is None:
            continue  # blank line or comment
        regex = getattr(pattern, "regex", None)
        if not isinstance(regex, re.Pattern) or regex.flags != re.UNICODE:
            return None
        source = _NAMED_GROUP.sub("(?:", regex.pattern)
        if source.startswith(_ANY_FOLDER):
            anywhere.append(source[len(_ANY_FOLDER) :])
        else:
            others.append(f"(?:{source})")
    # Factoring out the shared "any folder" prefix makes the combined regex ~5x faster.
    if anywhere:
        others.append(f"{_ANY_FOLDER}(?:{'|'.join(anywhere)})")
    try:
        return re.compile("|".join(others) or "(?!)")
    except re.error:
        return None


class IgnoreRules:
    """Decides for a path relative to the project root whether the project leaves it out.

    Only the `.kamarosignore` at the project root is read; its patterns are relative to
    the root, with gitignore semantics. As in git, nothing inside a left-out folder can be
    re-included (the folder walk never enters it), so `is_ignored` also checks parents.
    """

    def __init__(self, user_lines: Iterable[str] = ()) -> None:
        good, warnings = _compile(user_lines)
        self._lines = [*DEFAULT_IGNORE_PATTERNS, *good]
        self._spec: pathspec.GitIgnoreSpec | None = None
        self._prefilter: re.Pattern[str] | None
        # With the defaults alone (all ignoring, none re-including, none with a slash) a
        # file in a folder the walk entered is left out only for its own name.
        self._name_prefilter: re.Pattern[str] | None = None
        if good:
            self._prefilter = _prefilter(self._build_spec())
        else:
            self._prefilter = re.compile(_DEFAULT_PREFILTER)
            self._name_prefilter = re.compile(_DEFAULT_PREFILTER.removeprefix(_ANY_FOLDER))
        self._warnings = tuple(warnings)
        self._dirs: dict[str, bool] = {}

    def _build_spec(self) -> pathspec.GitIgnoreSpec:
        if self._spec is None:
            import pathspec

            self._spec = pathspec.GitIgnoreSpec.from_lines(self._lines)
        return self._spec

    @classmethod
    def load(cls, root: Path) -> IgnoreRules:
        """Defaults plus `root/.kamarosignore` if it exists (the file itself is tracked).

        Lines pathspec cannot parse are skipped and listed in `warnings`; an unreadable
        file (not UTF-8 is fine: undecodable bytes match the same bytes in file names)
        gives the defaults only, with a warning.
        """
        try:
            data = (root / IGNORE_FILE).read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            rules = cls()
            rules._warnings = (f"{IGNORE_FILE} could not be read: {exc.strerror}",)
            return rules
        text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
        return cls(text.splitlines())

    @property
    def warnings(self) -> tuple[str, ...]:
        """Problems found in `.kamarosignore` (each affected line was skipped)."""
        return self._warnings

    def is_ignored(self, rel_path: str, *, is_dir: bool) -> bool:
        """Whether `rel_path` (POSIX, relative to the root, no leading "./") is left out.

        Pass `is_dir=True` for folders: a walker that skips ignored folders never has to
        look inside them. A file inside an ignored folder is ignored too.
        """
        if is_dir:
            return self._dir_ignored(rel_path)
        parent, _, name = rel_path.rpartition("/")
        if parent:
            parent_ignored = self._dirs.get(parent)
            if parent_ignored is None:
                parent_ignored = self._dir_ignored(parent)
            if parent_ignored:
                return True
        if name.startswith(".") and TEMP_MARKER in name:  # fsutil.is_temp_name, inlined
            return True
        return self._match(rel_path)

    def file_ignored_in_walk(self, rel_path: str, name: str) -> bool:
        """`is_ignored(rel_path, is_dir=False)` for a file `name` of a folder that is not
        ignored itself (the walker only enters those): with the default rules alone, one
        match on the name instead of the whole path (every status runs this per file)."""
        if self._name_prefilter is None:
            return self.is_ignored(rel_path, is_dir=False)
        if name.startswith(".") and TEMP_MARKER in name:  # fsutil.is_temp_name, inlined
            return True
        if self._name_prefilter.match(name) is None:
            return False
        return self._match(rel_path)

    def _dir_ignored(self, rel_path: str) -> bool:
        cached = self._dirs.get(rel_path)
        if cached is None:
            parent, _, name = rel_path.rpartition("/")
            cached = (
                name == _HISTORY_DIR
                or bool(parent and self._dir_ignored(parent))
                or self._match(rel_path + "/")
            )
            self._dirs[rel_path] = cached
        return cached

    def _match(self, path: str) -> bool:
        if self._prefilter is not None and self._prefilter.match(path) is None:
            return False
        # No separator normalisation: on Windows pathspec would treat "\\" as one, but our
        # paths are POSIX and a backslash is an ordinary file-name character on Linux.
        return self._build_spec().match_file(path, separators=())
