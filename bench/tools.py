"""One adapter per tool: init, snapshot, restore into an empty folder, repository size.

Every step runs the tool's real command line as a separate process (interpreter start
included for Kamaros and dulwich), with its home, cache and config inside the run folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from .measure import Measurement, run, tree_bytes, which

__all__ = ["TOOLS", "Borg", "BorgZstd", "Dulwich", "Git", "Kamaros", "Restic", "Tool", "make_tool"]


class Tool:
    """Base adapter. `setup()` binds it to one run folder; the other calls run steps."""

    name: ClassVar[str] = ""
    executable: ClassVar[str] = ""
    unchanged_codes: ClassVar[tuple[int, ...]] = (0,)
    skip_kinds: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self.run_dir = Path()
        self.work = Path()
        self.repo = Path()
        self.env: dict[str, str] = {}

    def missing(self) -> str | None:
        """Why this tool cannot run here, or None when it can."""
        return None if which(self.executable) else f"{self.executable} is not installed"

    def version(self) -> str:
        return ""

    def setup(self, run_dir: Path, work: Path) -> None:
        self.run_dir = run_dir
        self.work = work
        self.repo = run_dir / "repo"
        home = run_dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "LC_ALL": "C.UTF-8",
        }

    def _run(
        self, argv: list[str], cwd: Path | None = None, ok: tuple[int, ...] = (0,)
    ) -> Measurement:
        return run(argv, cwd or self.work, self.env, ok)

    def init(self) -> Measurement:
        raise NotImplementedError

    def snapshot(self, label: str, unchanged: bool = False) -> Measurement:
        raise NotImplementedError

    def restore(self, dest: Path) -> Measurement:
        """Write the newest snapshot's files into the empty folder `dest`."""
        raise NotImplementedError

    def repo_bytes(self) -> int:
        return tree_bytes(self.repo)

    def finish(self) -> dict[str, float]:
        """Extra numbers after the restore (git: gc time and size after gc)."""
        return {}


def _version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


class Kamaros(Tool):
    """`kamaros init`, `kamaros -q checkpoint -m`, `kamaros -q export --version HEAD DIR`."""

    name = "kamaros"
    unchanged_codes = (0, 7)  # 7: NothingToSaveError, the documented "nothing changed"

    def _argv(self) -> list[str]:
        # `python -m kamaros_app`, not the installed `kamaros` script: the script names an
        # entry point of the working tree, which an older `--kamaros-rev` may not have.
        # Both start equally fast (20 runs of `--version`: 62-68 ms either way).
        return [sys.executable, "-m", "kamaros_app"]

    def missing(self) -> str | None:
        return None

    def version(self) -> str:
        return _version_of([*self._argv(), "--version"])

    def setup(self, run_dir: Path, work: Path) -> None:
        super().setup(run_dir, work)
        self.repo = work / ".kamaros"
        self.env["KAMAROS_AUTHOR"] = "bench"

    def init(self) -> Measurement:
        return self._run([*self._argv(), "init"])

    def snapshot(self, label: str, unchanged: bool = False) -> Measurement:
        ok = self.unchanged_codes if unchanged else (0,)
        return self._run([*self._argv(), "-q", "checkpoint", "-m", label], ok=ok)

    def restore(self, dest: Path) -> Measurement:
        return self._run([*self._argv(), "-q", "export", "--version", "HEAD", str(dest)])


class Git(Tool):
    """`git add -A && git commit -q --allow-empty -m`; restore with `git checkout HEAD -- .`
    into an empty work tree through a separate index; `git gc` afterwards."""

    name = "git"
    executable = "git"

    def version(self) -> str:
        return _version_of(["git", "--version"])

    def setup(self, run_dir: Path, work: Path) -> None:
        super().setup(run_dir, work)
        self.repo = work / ".git"
        self.env.update(
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="bench",
            GIT_AUTHOR_EMAIL="bench@example.invalid",
            GIT_COMMITTER_NAME="bench",
            GIT_COMMITTER_EMAIL="bench@example.invalid",
        )

    def init(self) -> Measurement:
        # gc.auto=0: no background `gc --auto` in the middle of later steps.
        return self._run(["sh", "-c", "git init -q && git config gc.auto 0"])

    def snapshot(self, label: str, unchanged: bool = False) -> Measurement:
        script = 'git add -A && git commit -q --allow-empty -m "$1"'
        return self._run(["sh", "-c", script, "sh", label])

    def restore(self, dest: Path) -> Measurement:
        index = self.run_dir / "restore-index"
        self.env["GIT_INDEX_FILE"] = str(index)
        try:
            git = ["git", f"--git-dir={self.repo}", f"--work-tree={dest}"]
            return self._run([*git, "checkout", "HEAD", "--", "."], cwd=dest)
        finally:
            del self.env["GIT_INDEX_FILE"]

    def finish(self) -> dict[str, float]:
        m = self._run(["git", "gc", "-q"])
        return {"gc_s": m.wall_s, "gc_rss_mb": m.peak_rss_mb, "repo_after_gc": self.repo_bytes()}


_DULWICH_SNAPSHOT = """
import sys
from dulwich import porcelain
from dulwich.repo import Repo
repo = Repo(".")
porcelain.add(repo)
me = b"bench <bench@example.invalid>"
porcelain.commit(repo, message=sys.argv[1].encode(), author=me, committer=me)
"""
_DULWICH_RESTORE = """
import sys
from dulwich.index import build_index_from_tree
from dulwich.repo import Repo
repo = Repo(sys.argv[1])
build_index_from_tree(sys.argv[2], sys.argv[3], repo.object_store, repo[repo.head()].tree)
"""


class Dulwich(Tool):
    """Pure-Python git through dulwich's porcelain API, each step its own Python process."""

    name = "dulwich"
    skip_kinds = frozenset({"big"})  # reads whole files into memory: minutes and GBs

    def missing(self) -> str | None:
        try:
            import dulwich  # noqa: F401
        except ImportError:
            return "dulwich is not installed (uv sync --extra bench)"
        return None

    def version(self) -> str:
        import dulwich

        return "dulwich " + ".".join(map(str, dulwich.__version__))

    def setup(self, run_dir: Path, work: Path) -> None:
        super().setup(run_dir, work)
        self.repo = work / ".git"

    def init(self) -> Measurement:
        return self._run([sys.executable, "-c", "from dulwich.repo import Repo; Repo.init('.')"])

    def snapshot(self, label: str, unchanged: bool = False) -> Measurement:
        return self._run([sys.executable, "-c", _DULWICH_SNAPSHOT, label])

    def restore(self, dest: Path) -> Measurement:
        index = str(self.run_dir / "restore-index")
        return self._run(
            [sys.executable, "-c", _DULWICH_RESTORE, str(self.work), str(dest), index], cwd=dest
        )


class Borg(Tool):
    """`borg init --encryption=none`, `borg create --compression lz4 REPO::N .`, `borg extract`."""

    name = "borg"
    executable = "borg"
    compression = "lz4"

    def version(self) -> str:
        return _version_of(["borg", "--version"])

    def setup(self, run_dir: Path, work: Path) -> None:
        super().setup(run_dir, work)
        self.env.update(
            BORG_BASE_DIR=str(run_dir / "borg-base"),
            BORG_PASSPHRASE="",
            BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK="yes",
            BORG_RELOCATED_REPO_ACCESS_IS_OK="yes",
            BORG_DELETE_I_KNOW_WHAT_I_AM_DOING="NO",
        )
        self.last = ""

    def init(self) -> Measurement:
        return self._run(["borg", "init", "--encryption=none", str(self.repo)])

    def snapshot(self, label: str, unchanged: bool = False) -> Measurement:
        self.last = label.replace(" ", "-")
        return self._run(
            ["borg", "create", "--compression", self.compression, f"{self.repo}::{self.last}", "."]
        )

    def restore(self, dest: Path) -> Measurement:
        return self._run(["borg", "extract", f"{self.repo}::{self.last}"], cwd=dest)


class BorgZstd(Borg):
    """Borg with `--compression zstd,3`."""

    name = "borg-zstd"
    compression = "zstd,3"


class Restic(Tool):
    """`restic init`, `restic backup .`, `restic restore latest --target DIR` (repo v2, zstd)."""

    name = "restic"
    executable = "restic"

    def version(self) -> str:
        return _version_of(["restic", "version"])

    def setup(self, run_dir: Path, work: Path) -> None:
        super().setup(run_dir, work)
        self.env.update(
            RESTIC_PASSWORD="bench",
            RESTIC_CACHE_DIR=str(run_dir / "restic-cache"),
            RESTIC_REPOSITORY=str(self.repo),
        )

    def init(self) -> Measurement:
        return self._run(["restic", "-q", "init"])

    def snapshot(self, label: str, unchanged: bool = False) -> Measurement:
        return self._run(["restic", "-q", "backup", "--tag", label.replace(" ", "-"), "."])

    def restore(self, dest: Path) -> Measurement:
        return self._run(["restic", "-q", "restore", "latest", "--target", str(dest)], cwd=dest)


TOOLS: dict[str, type[Tool]] = {t.name: t for t in (Kamaros, Git, Dulwich, Borg, BorgZstd, Restic)}


def make_tool(name: str) -> Tool:
    """A fresh adapter for `name` (one of TOOLS)."""
    return TOOLS[name]()


def env_summary() -> dict[str, str]:
    """Versions of every tool that is present."""
    out = {}
    for name, cls in TOOLS.items():
        tool = cls()
        out[name] = tool.version() if tool.missing() is None else "not installed"
    return out
