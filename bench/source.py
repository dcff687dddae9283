"""Which Kamaros is measured: the working tree, or `kamaros_app/` as of a git revision.

Other people edit the engine in the same working tree; `--kamaros-rev HEAD` measures the
committed state instead (and `--kamaros-rev A` against `B` compares revisions). The
revision's `kamaros_app/` is extracted with `git archive` into `OUT/src/<commit>/` and put
first on PYTHONPATH, ahead of the editable install of the working tree.
"""

from __future__ import annotations

import compileall
import io
import os
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

__all__ = ["precompile", "precompile_dependencies", "use_revision"]


def precompile(package: Path) -> None:
    """Write the bytecode of `package` (an installed application has it): without it every
    measured process would compile the modules it imports, ~100 ms for the engine, and more
    so where PYTHONDONTWRITEBYTECODE keeps Python from caching them."""
    compileall.compile_dir(package, quiet=1)


def precompile_dependencies() -> None:
    """Write the bytecode of the installed libraries too. `pip install` does; `uv sync` does
    only with --compile-bytecode (scripts/lib.sh passes it). Without it, under
    PYTHONDONTWRITEBYTECODE, every measured command compiled filelock, platformdirs and
    the rest again: ~0.1 s per command, found when a fresh checkout measured 0.18 s for
    "nothing changed" where the same code had measured 0.11 s."""
    compileall.compile_dir(sysconfig.get_path("purelib"), quiet=2, workers=0)


def use_revision(repo: Path, rev: str, out: Path) -> str:
    """Extract `kamaros_app/` at `rev`, make this process and its children import it;
    returns the full commit id."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = out / "src" / commit
    if not (dest / "kamaros_app" / "__init__.py").is_file():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "kamaros_app"],
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    precompile(dest / "kamaros_app")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(dest), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    sys.path.insert(0, str(dest))
    return commit
