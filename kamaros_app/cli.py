"""The `kamaros` command line: every engine operation, one-line errors, distinct exit codes."""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from . import __version__
from .units import human_size

if TYPE_CHECKING:
    from .engine import Progress, Project

__all__ = ["main"]


# ---------------------------------------------------------------- output helpers


class ProgressBar:
    """A one-line progress bar on a terminal's stderr; silent when stderr is not a TTY."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self._last = 0.0
        self._shown = False

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and progress.done != progress.total:
            return
        self._last = now
        if progress.total:
            fraction = min(1.0, progress.done / progress.total)
            bar = "#" * int(fraction * 30)
            text = f"{progress.phase}: [{bar:<30}] {fraction:4.0%}"
        else:
            text = f"{progress.phase}: {progress.done}"
        self.stream.write("\r" + text[:79].ljust(79))
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()
            self._shown = False


def _emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# ---------------------------------------------------------------- commands


def _base(args: argparse.Namespace) -> Path:
    """The folder relative paths are taken from: `-C DIR`, like git."""
    return Path(os.path.abspath(args.C))


def _project_paths(project: Project, args: argparse.Namespace, paths: list[str]) -> list[str]:
    """Paths typed relative to where the command runs, made relative to the project."""
    from .engine.errors import InvalidArgumentError

    out = []
    for path in paths:
        full = os.path.normpath(os.path.join(_base(args), path))
        rel = os.path.relpath(full, project.root)
        if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
            raise InvalidArgumentError(f"{path} is outside the project {project.root}")
        out.append(Path(rel).as_posix())
    return out


def _open(args: argparse.Namespace, *, read_only: bool = False) -> Project:
    from .engine import Project

    project = Project.open(_base(args), read_only=read_only)
    for notice in project.notices:
        print(f"kamaros: note: {notice}", file=sys.stderr)
    return project


def _fail_fast_if_unchanged(args: argparse.Namespace) -> None:
    """ "Nothing changed" straight from the stat cache, before the history is even opened
    (see engine/quickstatus.py); any doubt falls through to the full check."""
    from .engine.errors import NothingToSaveError
    from .engine.layout import CONTAINER_FILE
    from .engine.quickstatus import folder_matches_head

    base = _base(args)
    for folder in (base, *base.parents):
        if (folder / CONTAINER_FILE).is_file():
            if folder_matches_head(folder):
                raise NothingToSaveError("nothing changed since the last checkpoint")
            return


def cmd_init(args: argparse.Namespace, bar: ProgressBar) -> int:
    from .engine import Project

    folder = _base(args) / (args.dir or ".")
    with Project.init(folder) as project:
        print(f"Started keeping the history of {project.root}")
        print('Save the first checkpoint with: kamaros checkpoint -m "First version"')
    return 0


def cmd_status(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args, read_only=True) as project:
        status = project.status(progress=bar)
        bar.finish()
        if args.json:
            _emit_json({"head": project.manifest.head, **status.to_json()})
            return 0
        if project.manifest.head is None:
            print(
                "No checkpoints yet."
                + (
                    " These files would be saved:"
                    if status.total
                    else " Add files to the folder, then save a checkpoint."
                )
            )
        elif status.is_clean:
            print("Nothing changed since the last checkpoint.")
        for path in status.added:
            print(f"added:    {path}")
        for path in status.modified:
            print(f"modified: {path}")
        for path in status.deleted:
            print(f"deleted:  {path}")
        for old, new in status.renamed:
            print(f"renamed:  {old} -> {new}")
        for path, reason in sorted(status.skipped.items()):
            print(f"skipped:  {path} ({reason})")
    return 0


def cmd_checkpoint(args: argparse.Namespace, bar: ProgressBar) -> int:
    _fail_fast_if_unchanged(args)
    with _open(args) as project:
        info = project.checkpoint(
            args.message,
            tag=args.tag,
            author=args.author or os.environ.get("KAMAROS_AUTHOR"),
            email=args.email or os.environ.get("KAMAROS_EMAIL"),
            progress=bar,
        )
        bar.finish()
        if args.json:
            _emit_json(info.to_json())
        else:
            print(info.id)
    return 0


def cmd_log(args: argparse.Namespace, bar: ProgressBar) -> int:
    from .engine.errors import InvalidArgumentError

    wanted = [*args.path, *args.rest]
    if len(wanted) > 1:
        raise InvalidArgumentError("log follows one file or folder at a time")
    if args.max_count is not None and args.max_count < 1:
        raise InvalidArgumentError("-n needs a number of at least 1")
    with _open(args, read_only=True) as project:
        path = _project_paths(project, args, wanted)[0] if wanted else None
        versions = project.log(path)
        if args.max_count is not None:
            versions = versions[: args.max_count]
        if args.json:
            _emit_json([v.to_json() for v in versions])
            return 0
        if not versions:
            print("No checkpoints yet.")
        for v in versions:
            tags = f" [{', '.join(v.tags)}]" if v.tags else ""
            auto = " (automatic)" if v.automatic else ""
            stamp = v.timestamp.astimezone().strftime("%Y-%m-%d %H:%M")
            counts = f"+{v.added} ~{v.modified} -{v.deleted}" + (
                f" >{v.renamed}" if v.renamed else ""
            )
            print(f"{v.short_id}  {stamp}  {counts:<14} {v.message}{tags}{auto}")
    return 0


def cmd_show(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args, read_only=True) as project:
        info = project.version_info(args.version)
        files = project.files(info.id)
        if args.json:
            _emit_json({**info.to_json(), "files": [f.to_json() for f in files]})
            return 0
        print(f"checkpoint {info.id}")
        print(f"date:    {info.timestamp.astimezone().strftime('%Y-%m-%d %H:%M:%S %Z')}")
        if info.author:
            print(f"author:  {info.author}" + (f" <{info.email}>" if info.email else ""))
        if info.tags:
            print(f"tags:    {', '.join(info.tags)}")
        print(f"message: {info.message}\n")
        for f in files:
            print(f"{f.size:>12}  {f.hash[:12]}  {f.path}")
        print(f"\n{len(files)} files, {human_size(sum(f.size for f in files))}")
    return 0


def cmd_diff(args: argparse.Namespace, bar: ProgressBar) -> int:
    from .engine.errors import InvalidArgumentError

    refs = list(args.refs)
    if len(refs) > 2:
        raise InvalidArgumentError("diff compares at most two checkpoints")
    old = refs[0] if refs else "HEAD"
    new = refs[1] if len(refs) == 2 else None
    with _open(args, read_only=True) as project:
        if project.manifest.head is None:
            raise InvalidArgumentError("there are no checkpoints to compare with yet")
        old_id, new_id = project.resolve(old), None if new is None else project.resolve(new)
        paths = _project_paths(project, args, args.rest) if args.rest else None
        items = project.diff(old_id, new_id, paths, progress=bar)
        bar.finish()
        if args.json:
            _emit_json([d.to_json() for d in items])
            return 0
        for item in items:
            if args.stat:
                print(f"{item.change:<9} {item.path}")
                continue
            if (
                item.change == "renamed"
                and item.old
                and item.new
                and (item.old.hash == item.new.hash)
            ):
                print(f"renamed {item.old_path} -> {item.path}\n")
                continue
            if item.is_text and item.old and item.new and item.old.hash == item.new.hash:
                mode = "executable" if item.new.executable else "not executable"
                print(f"{item.path}: now {mode}\n")
            elif item.is_text:
                print(project.unified_diff(item, old_id, new_id), end="")
            else:
                before = (
                    "none"
                    if item.old is None
                    else (f"{human_size(item.old.size)} ({item.old.hash[:12]})")
                )
                after = (
                    "none"
                    if item.new is None
                    else (f"{human_size(item.new.size)} ({item.new.hash[:12]})")
                )
                print(f"Binary file {item.path} {item.change}: {before} -> {after}")
    return 0


def cmd_restore(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args, read_only=args.dry_run) as project:
        wanted = [*args.paths, *args.rest]
        paths = _project_paths(project, args, wanted) if wanted else None
        try:
            result = project.restore(args.version, paths, dry_run=args.dry_run, progress=bar)
        except KeyboardInterrupt:
            journal = project.interrupted_restore()
            if journal:
                target = str(journal.get("target", ""))[:8]
                previous = str(journal.get("previous", ""))[:8]
                raise _Interrupted(
                    f"cancelled part-way: some files are from {target}, others as before. "
                    f"Run 'kamaros restore {target}' to finish or 'kamaros restore {previous}' "
                    "to go back"
                ) from None
            raise
        bar.finish()
        if args.json:
            _emit_json(result.to_json())
            return 0
        plan = result.plan
        short = result.target_id[:8]
        if plan.is_empty:
            print(f"The folder already matches {short}; nothing to do.")
            return 0
        for state in plan.write:
            print(f"write:  {state.path}")
        for path in plan.remove:
            print(f"remove: {path}")
        files = f"{len(plan.write)} {_plural(len(plan.write), 'file')}"
        removed = f"{len(plan.remove)} {_plural(len(plan.remove), 'file')}"
        if args.dry_run:
            print(f"Would write {files} and remove {removed} to match {short}.")
            return 0
        print(f"Restored {short}: wrote {files}, removed {removed}.")
        if result.safety_id:
            print(f"Your unsaved changes were saved first as checkpoint {result.safety_id[:8]}.")
        if result.checkpoint_id:
            print(f"The restored folder is saved as checkpoint {result.checkpoint_id[:8]}.")
        if result.previous_id:
            print(f"To undo: kamaros restore {result.previous_id[:8]}")
    return 0


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


class _Interrupted(Exception):
    """Ctrl+C with something specific to say."""


def cmd_tag(args: argparse.Namespace, bar: ProgressBar) -> int:
    from .engine.errors import InvalidArgumentError

    if args.delete:
        if args.version or args.name:
            raise InvalidArgumentError("use either 'tag -d NAME' or 'tag VERSION NAME'")
        with _open(args) as project:
            project.untag(args.delete)
            if args.json:
                _emit_json({"deleted": args.delete})
            else:
                print(f"Removed tag {args.delete}")
        return 0
    if not args.version:
        with _open(args, read_only=True) as project:
            tags = sorted(project.manifest.tags.items())
            if args.json:
                _emit_json({name: vid for name, vid in tags})
            for name, vid in tags if not args.json else ():
                print(f"{name:<24} {vid[:8]}")
        return 0
    if not args.name:
        raise InvalidArgumentError("usage: kamaros tag VERSION NAME")
    with _open(args) as project:
        vid = project.tag(args.version, args.name, force=args.force)
        if args.json:
            _emit_json({"tag": args.name, "version": vid})
        else:
            print(f"Tagged {vid[:8]} as {args.name}")
    return 0


def cmd_verify(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args, read_only=True) as project:
        report = project.verify(progress=bar)
        bar.finish()
        if args.json:
            _emit_json(report.to_json())
        else:
            for item in report.damage:
                print(f"damaged: {item.what}: {item.reason}")
                print(
                    f"         affects {len(item.versions)} checkpoint(s): "
                    + ", ".join(v[:8] for v in item.versions[:10])
                )
            for problem in report.problems:
                print(f"problem: {problem}")
            if report.ok:
                print(
                    f"OK: {report.versions} checkpoints, {report.contents} file versions, "
                    f"{report.entries} entries checked."
                )
        if not report.ok:
            from .engine.errors import DamagedContainerError

            if not args.json:
                print("The history has damage; undamaged checkpoints can still be restored.")
            return DamagedContainerError.exit_code
    return 0


def cmd_gc(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args, read_only=args.dry_run) as project:
        result = project.gc(dry_run=args.dry_run, progress=bar)
        bar.finish()
        if args.json:
            _emit_json(result.to_json())
            return 0
        if args.dry_run:
            print(
                f"Would drop {len(result.plan.drop)} unused entries; about "
                f"{human_size(result.size_before)} -> {human_size(result.size_after)}."
            )
        else:
            print(
                f"Cleaned up: {human_size(result.size_before)} -> {human_size(result.size_after)} "
                f"({len(result.plan.drop)} unused entries dropped)."
            )
    return 0


def cmd_export(args: argparse.Namespace, bar: ProgressBar) -> int:
    from .engine.errors import InvalidArgumentError, ProjectExistsError

    out = _base(args) / args.out
    with _open(args, read_only=True) as project:
        if args.version:
            count = project.export_version(args.version, out, progress=bar)
            bar.finish()
            print(f"Wrote {count} files of {project.resolve(args.version)[:8]} to {out}")
        else:
            if out.suffix.lower() != ".jcf":
                raise InvalidArgumentError(
                    "a project file must end in .jcf (use --version V for plain files)"
                )
            if out.exists():
                raise ProjectExistsError(f"{out} already exists")
            size = project.export_container(out, progress=bar)
            bar.finish()
            print(f"Wrote {out} ({human_size(size)}, {len(project.manifest.versions)} checkpoints)")
    return 0


def cmd_import(args: argparse.Namespace, bar: ProgressBar) -> int:
    from .engine import import_container

    base = _base(args)
    dest = Path(os.path.normpath(base / args.dest))
    with import_container(base / args.file, dest, progress=bar) as project:
        bar.finish()
        print(f"Imported {len(project.manifest.versions)} checkpoints into {project.root}")
    return 0


def cmd_cat(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args, read_only=True) as project:
        for chunk in project.iter_file(args.version, args.path):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return 0


def cmd_install_desktop(args: argparse.Namespace, bar: ProgressBar) -> int:
    """Menu entry, `.jcf` file type, icons and metainfo for this user (XDG data folder)."""
    try:
        from .desktop import install_desktop
    except ImportError as exc:  # pragma: no cover - without the gui extra
        print(f"kamaros: install-desktop needs the window (PySide6): {exc}", file=sys.stderr)
        return 1
    report = install_desktop(
        Path(args.data_home).absolute() if args.data_home else None,
        log=lambda message: print(f"kamaros: {message}", file=sys.stderr),
    )
    print(f"Installed Kamaros for this user in {report.data_home}:")
    for path in report.files:
        print(f"  {path}")
    print("Opens with: " + " ".join(report.command))
    if report.ran:
        print("Updated: " + ", ".join(report.ran))
    return 0


# ---------------------------------------------------------------- parser


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, with the help width found without `shutil`.

    argparse makes a formatter for every argument added, and the default one imports
    `shutil` (with `bz2` and `lzma`) to ask for the terminal width: ~5 ms of the ~140 ms
    a "nothing changed" checkpoint may take, for a width only help text uses."""

    def __init__(self, prog: str, **kwargs: Any) -> None:
        kwargs.setdefault("width", _help_width())
        super().__init__(prog, **kwargs)


def _help_width() -> int:
    """What `shutil.get_terminal_size().columns - 2` gives: $COLUMNS, else the terminal's
    width, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kamaros",
        description="Keep a visual version history of a project folder in one .jcf file.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "-C", metavar="DIR", default=".", help="run as if started in DIR (like git -C)"
    )
    parser.add_argument("--version", action="version", version=f"kamaros {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(
        name: str,
        func: Callable[[argparse.Namespace, ProgressBar], int],
        help_: str,
        *,
        json_flag: bool = True,
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, formatter_class=_HelpFormatter)
        p.set_defaults(func=func)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = add("init", cmd_init, "start keeping the history of a folder", json_flag=False)
    p.add_argument("dir", nargs="?", help="the folder (default: the current one)")
    add("status", cmd_status, "what changed since the last checkpoint")
    p = add("checkpoint", cmd_checkpoint, "save a checkpoint of the folder")
    p.add_argument("-m", "--message", required=True, help="what this checkpoint is")
    p.add_argument("--tag", help="also give it this name")
    p.add_argument("--author", help="author name (default: $KAMAROS_AUTHOR or the project's)")
    p.add_argument("--email", help="author email (default: $KAMAROS_EMAIL)")
    p = add("log", cmd_log, "list checkpoints, newest first")
    p.add_argument("-n", "--max-count", type=int, help="show at most N checkpoints")
    p.add_argument(
        "path",
        nargs="*",
        help="only checkpoints that changed this file or folder "
        "(following renames); also accepted after --",
    )
    p = add("show", cmd_show, "the files of one checkpoint")
    p.add_argument("version", help="id, id prefix, HEAD, HEAD~N or tag")
    p = add("diff", cmd_diff, "compare two checkpoints, or a checkpoint with the folder")
    p.add_argument(
        "refs",
        nargs="*",
        metavar="VERSION",
        help="none: HEAD vs folder; one: it vs folder; two: first vs second",
    )
    p.add_argument("--stat", action="store_true", help="only list changed files")
    p = add("restore", cmd_restore, "bring the folder or some files to a checkpoint")
    p.add_argument("version")
    p.add_argument("paths", nargs="*", metavar="PATH", help="only these files or folders")
    p.add_argument("--dry-run", action="store_true", help="only say what would change")
    p = add("tag", cmd_tag, "name a checkpoint (no arguments: list tags)")
    p.add_argument("version", nargs="?")
    p.add_argument("name", nargs="?")
    p.add_argument("-f", "--force", action="store_true", help="move an existing tag")
    p.add_argument("-d", "--delete", metavar="NAME", help="remove a tag")
    add("verify", cmd_verify, "check every stored byte of every checkpoint")
    p = add("gc", cmd_gc, "drop unused data and compact the history file")
    p.add_argument("--dry-run", action="store_true", help="only report what would be freed")
    p = add(
        "export",
        cmd_export,
        "write a standalone .jcf, or the files of one version",
        json_flag=False,
    )
    p.add_argument("out", help="OUT.jcf, or with --version: OUT.zip or an empty folder")
    p.add_argument("--version", dest="version", metavar="V", help="export plain files of V")
    p = add("import", cmd_import, "make a working folder from a standalone .jcf", json_flag=False)
    p.add_argument("file")
    p.add_argument("dest")
    p = add("cat", cmd_cat, "write one file of a checkpoint to standard output", json_flag=False)
    p.add_argument("version")
    p.add_argument("path")
    p = add(
        "install-desktop",
        cmd_install_desktop,
        "add Kamaros to this user's applications menu and open .jcf files with it",
        json_flag=False,
    )
    p.add_argument("--data-home", metavar="DIR", help="install into DIR (default: $XDG_DATA_HOME)")
    return parser


def _split_at_double_dash(argv: list[str]) -> tuple[list[str], list[str]]:
    """`diff A B -- PATHS`: everything after the first `--` is a path, never an option."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def run() -> NoReturn:
    """The `kamaros` command: `main()`, then `exit_now`."""
    collect_rarely()
    exit_now(main())


def collect_rarely() -> None:
    """Make the cyclic garbage collector run rarely, for a process that lives one command.

    Opening a 10,000-file history builds ~100,000 long-lived objects (entries, manifest
    records), none of them in reference cycles. At the default thresholds (a collection
    every 700 net allocations) a checkpoint after edits paid for ~230 collections, two of
    them full, ~55 ms in all: each one walks objects that can never be garbage. Reference
    counting still frees everything else at once; the collector stays on for the rare
    cycle, here every 200,000 allocations.
    """
    import gc

    gc.set_threshold(200_000, 10, 10)


def exit_now(code: int) -> NoReturn:
    """End the process without tearing the interpreter down.

    Freeing every object of a 10,000-file history at exit took ~40 ms, a tenth of a
    checkpoint after edits. Nothing is left to do by then: every file the command wrote
    is closed (the history durably), the lock goes with the process, and no atexit
    handler of ours exists; only the output streams need flushing. In-process callers
    (tests, the bundle's window) use `main()` and keep the normal exit.
    """
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: the reader has gone
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # even while the engine is still being imported
        print("kamaros: cancelled; nothing was changed", file=sys.stderr)
        return 130


def _main(argv: Sequence[str] | None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    head, rest = _split_at_double_dash(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(head)
    args.rest = rest
    if rest and args.command not in ("diff", "log", "restore"):
        parser.error(f"'{args.command}' takes no paths after --")
    json_mode = bool(getattr(args, "json", False))
    bar = ProgressBar(sys.stderr, enabled=not getattr(args, "quiet", False) and not json_mode)

    def fail(kind: str, message: str, code: int) -> int:
        bar.finish()
        if json_mode:
            _emit_json({"error": {"type": kind, "message": message, "exitCode": code}})
        print(f"kamaros: {message}", file=sys.stderr)
        return code

    from .engine import KamarosError
    from .engine.errors import CancelledError, DiskFullError

    try:
        code: int = args.func(args, bar)
        return code
    except KamarosError as exc:
        return fail(type(exc).__name__, str(exc), exc.exit_code)
    except _Interrupted as exc:
        return fail("CancelledError", str(exc), CancelledError.exit_code)
    except KeyboardInterrupt:
        return fail("CancelledError", "cancelled; nothing was changed", CancelledError.exit_code)
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return fail(
                "DiskFullError", f"the disk is full: {exc.filename or ''}", DiskFullError.exit_code
            )
        where = f": {exc.filename}" if exc.filename else ""
        return fail("OSError", f"{exc.strerror or exc}{where}", 1)


if __name__ == "__main__":
    run()
