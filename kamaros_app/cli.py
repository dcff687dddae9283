"""The `kamaros` command line: every engine operation, one-line errors, distinct exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .engine import (
    KamarosError,
    Progress,
    Project,
    import_container,
)
from .engine.errors import InvalidArgumentError

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


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


# ---------------------------------------------------------------- commands


def _open(args: argparse.Namespace, *, read_only: bool = False) -> Project:
    project = Project.open(Path(args.C), read_only=read_only)
    for notice in project.notices:
        print(f"kamaros: note: {notice}", file=sys.stderr)
    return project


def cmd_init(args: argparse.Namespace, bar: ProgressBar) -> int:
    folder = Path(args.C) / (args.dir or ".")
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
            print("No checkpoints yet.")
        if status.is_clean:
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
    path = args.path[0] if args.path else None
    if args.path and len(args.path) > 1:
        raise InvalidArgumentError("log follows one file at a time")
    with _open(args, read_only=True) as project:
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
        print(f"\n{len(files)} files, {_size(sum(f.size for f in files))}")
    return 0


def cmd_diff(args: argparse.Namespace, bar: ProgressBar) -> int:
    refs = list(args.refs)
    if len(refs) > 2:
        raise InvalidArgumentError("diff compares at most two checkpoints")
    old = refs[0] if refs else "HEAD"
    new = refs[1] if len(refs) == 2 else None
    with _open(args, read_only=True) as project:
        if project.manifest.head is None:
            raise InvalidArgumentError("there are no checkpoints to compare with yet")
        old_id, new_id = project.resolve(old), None if new is None else project.resolve(new)
        items = project.diff(old_id, new_id, args.paths or None, progress=bar)
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
            if item.is_text:
                print(project.unified_diff(item, old_id, new_id), end="")
            else:
                before = (
                    "none"
                    if item.old is None
                    else (f"{_size(item.old.size)} ({item.old.hash[:12]})")
                )
                after = (
                    "none"
                    if item.new is None
                    else (f"{_size(item.new.size)} ({item.new.hash[:12]})")
                )
                print(f"Binary file {item.path} {item.change}: {before} -> {after}")
    return 0


def cmd_restore(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args) as project:
        result = project.restore(
            args.version, args.paths or None, dry_run=args.dry_run, progress=bar
        )
        bar.finish()
        if args.json:
            _emit_json(result.to_json())
            return 0
        plan = result.plan
        verb = "Would restore" if args.dry_run else "Restored"
        short = result.target_id[:8]
        if plan.is_empty:
            print(f"The folder already matches {short}; nothing to do.")
            return 0
        for state in plan.write:
            print(f"write:  {state.path}")
        for path in plan.remove:
            print(f"remove: {path}")
        print(f"{verb} {len(plan.write)} files and removed {len(plan.remove)} from {short}.")
        if result.safety_id:
            print(f"Your unsaved changes were saved first as checkpoint {result.safety_id[:8]}.")
        if not args.dry_run:
            print(f"To undo: kamaros restore {result.previous_id[:8]}")
    return 0


def cmd_tag(args: argparse.Namespace, bar: ProgressBar) -> int:
    if args.delete:
        with _open(args) as project:
            project.untag(args.delete)
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
                f"{_size(result.size_before)} -> {_size(result.size_after)}."
            )
        else:
            print(
                f"Cleaned up: {_size(result.size_before)} -> {_size(result.size_after)} "
                f"({len(result.plan.drop)} unused entries dropped)."
            )
    return 0


def cmd_export(args: argparse.Namespace, bar: ProgressBar) -> int:
    out = Path(args.out)
    if not out.is_absolute():
        out = Path(os.getcwd()) / out
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
                raise InvalidArgumentError(f"{out} already exists")
            size = project.export_container(out, progress=bar)
            bar.finish()
            print(f"Wrote {out} ({_size(size)}, {len(project.manifest.versions)} checkpoints)")
    return 0


def cmd_import(args: argparse.Namespace, bar: ProgressBar) -> int:
    base = Path(args.C)
    with import_container(base / args.file, base / args.dest, progress=bar) as project:
        bar.finish()
        print(f"Imported {len(project.manifest.versions)} checkpoints into {project.root}")
    return 0


def cmd_cat(args: argparse.Namespace, bar: ProgressBar) -> int:
    with _open(args, read_only=True) as project:
        for chunk in project.iter_file(args.version, args.path):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kamaros",
        description="Keep a visual version history of a project folder in one .jcf file.",
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
        p = sub.add_parser(name, help=help_, description=help_)
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
    p.add_argument("path", nargs="*", help="only checkpoints that changed this file")
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
    p.add_argument("--paths", nargs="+", metavar="PATH", help=argparse.SUPPRESS)
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
    return parser


def _split_paths(argv: list[str]) -> list[str]:
    """`diff A B -- PATHS` and `log -- PATH`: turn the part after `--` into options."""
    if "--" not in argv:
        return argv
    cut = argv.index("--")
    head, tail = argv[:cut], argv[cut + 1 :]
    if "diff" in head and tail:
        return [*head, "--paths", *tail]
    return [*head, *tail]


def main(argv: Sequence[str] | None = None) -> int:
    args_list = _split_paths(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(args_list)
    json_mode = bool(getattr(args, "json", False))
    bar = ProgressBar(sys.stderr, enabled=not args.quiet and not json_mode)
    try:
        code: int = args.func(args, bar)
        return code
    except KamarosError as exc:
        bar.finish()
        if json_mode:
            _emit_json(
                {
                    "error": {
                        "type": type(exc).__name__,
                        "message": str(exc),
                        "exitCode": exc.exit_code,
                    }
                }
            )
        print(f"kamaros: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        bar.finish()
        print("kamaros: cancelled; nothing was changed", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
