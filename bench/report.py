"""Ratio tables, target verdicts and the JSON results file."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Row", "corpus_rows", "evaluate_targets", "render", "write_results"]

SUBJECT = "kamaros"
Picker = Callable[[dict[str, Any]], float | None] | None
STEP_LABELS = {
    "first": "first snapshot",
    "unchanged": "nothing changed",
    "mutated": "after 1% edits",
    "restore": "full restore",
}


@dataclass
class Row:
    """One table row: a metric of a step for every tool, Kamaros / best peer, a verdict."""

    step: str
    metric: str
    values: dict[str, float | None]
    lower_is_better: bool = True
    ratio: float | None = None
    best_peer: str = ""
    verdict: str = ""
    targets: list[dict[str, Any]] = field(default_factory=list)


def _get(tool: dict[str, Any], step: str, key: str) -> float | None:
    value = tool.get("median", {}).get(step, {}).get(key)
    return None if value is None else float(value)


def _final_repo(tool: dict[str, Any]) -> float | None:
    after_gc = _get(tool, "extra", "repo_after_gc")
    size = after_gc if after_gc is not None else _get(tool, "restore", "repo_bytes")
    return None if size is None else size / 1e6


def corpus_rows(tools: dict[str, dict[str, Any]]) -> list[Row]:
    """The rows of one corpus table (ratios filled in, verdicts added by evaluate_targets)."""
    ok = {name: t for name, t in tools.items() if t.get("median")}

    def row(
        label: str, metric: str, step: str, key: str = "", scale: float = 1.0, pick: Picker = None
    ) -> Row:
        values: dict[str, float | None] = {}
        for name, t in ok.items():
            value = pick(t) if pick is not None else _get(t, step, key)
            values[name] = None if value is None else value / scale
        return Row(label, metric, values)

    rows: list[Row] = []
    for step in ("first", "unchanged", "mutated", "restore"):
        label = STEP_LABELS[step]
        rows.append(row(label, "time s", step, "wall_s"))
        if step == "restore":
            speed = row(label, "MB/s", step, "mb_per_s")
            speed.lower_is_better = False
            rows.append(speed)
        rows.append(row(label, "peak RSS MB", step, "rss_mb"))
        if step != "restore":
            rows.append(row(label, "repo MB", step, "repo_bytes", scale=1e6))
    rows.append(row("final repo", "MB (git: after gc)", "", pick=_final_repo))
    for r in rows:
        _fill_ratio(r)
    return rows


def _fill_ratio(r: Row) -> None:
    mine = r.values.get(SUBJECT)
    peers = {k: v for k, v in r.values.items() if k != SUBJECT and v is not None and v > 0}
    if mine is None or not peers:
        return
    best = (min if r.lower_is_better else max)(peers, key=lambda k: peers[k])
    r.best_peer = best
    r.ratio = mine / peers[best]


# ------------------------------------------------------------------------ targets


def _target(
    name: str, value: float | None, limit: float, unit: str = "x", higher_is_better: bool = False
) -> dict[str, Any]:
    """A verdict for `value` against `limit` (`unit`: "x" for ratios, else " s", " MB"...)."""
    if value is None:
        verdict = "n/a"
    elif higher_is_better:
        verdict = "PASS" if value >= limit else "MISS"
    else:
        verdict = "PASS" if value <= limit else "MISS"
    sign = ">=" if higher_is_better else "<="
    return {
        "target": name,
        "value": None if value is None else round(value, 4),
        "limit": f"{sign} {limit:g}{unit}",
        "verdict": verdict,
    }


def _ratio(tools: dict[str, Any], step: str, key: str, peers: list[str]) -> float | None:
    mine = _get(tools.get(SUBJECT, {}), step, key)
    theirs = [v for p in peers if (v := _get(tools.get(p, {}), step, key)) is not None]
    if mine is None or not theirs or min(theirs) <= 0:
        return None
    return mine / min(theirs)


def _find(rows: list[Row], step: str, metric: str) -> Row | None:
    return next((r for r in rows if r.step == step and r.metric == metric), None)


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue that this run measured, with PASS / MISS / n/a."""
    out: list[dict[str, Any]] = []
    corpora = results.get("corpora", {})
    for name, corpus in corpora.items():
        tools = corpus["tools"]
        rows: list[Row] = corpus["_rows"]
        peers = [t for t in tools if t != SUBJECT and tools[t].get("median")]

        def add(row: Row | None, target: dict[str, Any], corpus_name: str = name) -> None:
            target["corpus"] = corpus_name
            out.append(target)
            if row is not None:
                row.targets.append(target)

        label = STEP_LABELS
        kamaros = tools.get(SUBJECT, {})
        if name == "mixed":
            add(
                _find(rows, label["first"], "time s"),
                _target("first snapshot / best peer", _ratio(tools, "first", "wall_s", peers), 0.8),
            )
        if name == "small":
            row = _find(rows, label["unchanged"], "time s")
            add(
                row,
                _target("nothing changed, wall", _get(kamaros, "unchanged", "wall_s"), 0.15, " s"),
            )
            ratio = _ratio(tools, "unchanged", "wall_s", ["git"])
            add(row, _target("nothing changed / git", ratio, 4))
        if name in ("mixed", "small"):
            fast = [p for p in ("borg", "borg-zstd", "restic") if p in peers]
            ratio = _ratio(tools, "mutated", "wall_s", fast)
            add(
                _find(rows, label["mutated"], "time s"),
                _target("after 1% edits / faster of borg, restic", ratio, 0.5),
            )
        ratio = _ratio(tools, "restore", "wall_s", peers)
        add(
            _find(rows, label["restore"], "time s"), _target("full restore / best peer", ratio, 0.8)
        )
        if name == "big":
            speed = _get(kamaros, "restore", "mb_per_s")
            row = _find(rows, label["restore"], "MB/s")
            add(row, _target("large-file restore speed", speed, 400, " MB/s", True))
            for step in ("first", "mutated", "restore"):
                rss = _get(kamaros, step, "rss_mb")
                row = _find(rows, label[step], "peak RSS MB")
                add(row, _target(f"peak RSS, {label[step]}", rss, 128, " MB"))
        final = _find(rows, "final repo", "MB (git: after gc)")
        if final is not None and name in ("mixed", "small"):
            mine = final.values.get(SUBJECT)
            if name == "mixed":
                others = [v for k, v in final.values.items() if k != SUBJECT and v]
                ratio = mine / min(others) if mine and others else None
                add(final, _target("repository size / smallest peer", ratio, 1.0))
            else:
                git = final.values.get("git")
                ratio = mine / git if mine and git else None
                add(final, _target("repository size / git after gc", ratio, 0.9))
    micro = results.get("micro", {})
    edits = micro.get("text_edits")
    if edits:
        what = "store a 1% edit of the text file (median)"
        out.append({**_target(what, edits["store_ms_median"], 10, " ms"), "corpus": "micro"})
        what = "read back any old version (max)"
        out.append({**_target(what, edits["read_ms_max"], 50, " ms"), "corpus": "micro"})
    scaling = micro.get("memory_scaling", {})
    big = corpora.get("big", {}).get("tools", {}).get(SUBJECT, {})
    if "rss_mb" in scaling and big.get("median"):
        for step in ("first", "mutated", "restore"):
            ratio = (_get(big, step, "rss_mb") or 0) / scaling["rss_mb"][step]
            what = f"peak RSS, {STEP_LABELS[step]}: big file / 32x smaller"
            out.append({**_target(what, ratio, 1.25), "corpus": "big"})
    loop = micro.get("event_loop")
    if loop and "max_gap_ms_median" in loop:
        what = "longest event-loop gap (median of runs)"
        gap = loop["max_gap_ms_median"]
        out.append({**_target(what, gap, 100, " ms"), "corpus": loop["corpus"]})
    for row_target in out:
        row_target.setdefault("corpus", "")
    for corpus in corpora.values():
        for r in corpus["_rows"]:
            r.verdict = "; ".join(f"{t['verdict']} {t['limit']}" for t in r.targets)
    return out


# ------------------------------------------------------------------------ rendering


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def render_corpus(name: str, corpus: dict[str, Any]) -> str:
    """One corpus as a text table."""
    rows: list[Row] = corpus["_rows"]
    tools = [t for t in corpus["tools"] if corpus["tools"][t].get("median")]
    head = (
        f"== {name}: {corpus['files']:,} files, {corpus['bytes'] / 1e6:,.1f} MB; "
        f"medians of {corpus['repeat']} ({corpus['scale']}) =="
    )
    edit = next((r["runs"][0].get("mutation") for r in corpus["tools"].values() if r["runs"]), None)
    if edit and edit.get("spots"):
        head += f"\nedit step: {edit['spots']} spots overwritten in place ({edit['bytes']} bytes)"
    elif edit:
        head += (
            f"\nedit step: {edit['texts']} text files edited, {edit['binaries']} binaries "
            f"rewritten ({edit['bytes'] / 1e6:,.1f} MB written)"
        )
    widths = [16, 18, *[max(9, len(t)) for t in tools], 8, 9]
    header = ["step", "metric", *tools, "K/best", "best peer"]
    lines = [head, _join(header, widths) + "  target"]
    last_step = ""
    for r in rows:
        step = r.step if r.step != last_step else ""
        last_step = r.step
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        cells = [step, r.metric, *[_fmt(r.values.get(t)) for t in tools], ratio, r.best_peer or "-"]
        lines.append(_join(cells, widths) + (f"  {r.verdict}" if r.verdict else ""))
    notes = [
        f"  {t}: {v['status']} - {v['note']}" for t, v in corpus["tools"].items() if v.get("note")
    ]
    if notes:
        lines.append("notes:")
        lines.extend(notes)
    return "\n".join(lines)


def _join(cells: list[str], widths: list[int]) -> str:
    pairs = enumerate(zip(cells, widths, strict=True))
    return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs)


def render(results: dict[str, Any]) -> str:
    """Every corpus table, the micro-benchmarks and the target summary."""
    parts = [render_corpus(name, corpus) for name, corpus in results.get("corpora", {}).items()]
    micro = results.get("micro", {})
    edits = micro.get("text_edits")
    if edits:
        e = edits
        parts.append(
            f"== micro: {e['file_bytes'] / 1e6:.1f} MB text file, {e['versions']} versions, "
            f"{e['lines_edited_per_version']} of {e['lines']} lines edited each ==\n"
            f"store one version (checkpoint)  median {e['store_ms_median']:.1f} ms, "
            f"max {e['store_ms_max']:.1f} ms\n"
            f"  reverse patch alone           median {e['patch_ms_median']:.1f} ms, "
            f"max {e['patch_ms_max']:.1f} ms\n"
            f"read back every version         median {e['read_ms_median']:.1f} ms, "
            f"max {e['read_ms_max']:.1f} ms (oldest {e['read_ms_oldest']:.1f} ms; "
            f"each in a fresh open, {e['open_ms_median']:.1f} ms)\n"
            f"history file after all of them  {e['history_bytes'] / 1e6:.2f} MB"
        )
    scaling = micro.get("memory_scaling", {})
    if "rss_mb" in scaling:
        rss = ", ".join(f"{STEP_LABELS[k]} {v:.0f} MB" for k, v in scaling["rss_mb"].items())
        parts.append(
            f"== peak memory of kamaros on a {scaling['file_bytes'] / 1e6:.0f} MB big file "
            f"(compare with the big table) ==\n{rss}"
        )
    loop = micro.get("event_loop")
    if loop:
        if "max_gap_ms_median" in loop:
            gaps = ", ".join(f"{r['max_gap_ms']:.0f}" for r in loop["runs"])
            parts.append(
                f"== event loop while the window's worker checkpoints {loop['corpus']} ==\n"
                f"longest gap per run: {gaps} ms (median {loop['max_gap_ms_median']:.0f} ms); "
                f"checkpoint took {loop['checkpoint_s_median']:.2f} s"
            )
        else:
            why = loop.get("skipped") or "FAILED: " + str(loop.get("failed"))[-300:]
            parts.append(f"== event loop: {why}")
    targets = results.get("targets", [])
    if targets:
        lines = ["== targets (Kamaros / best peer, side by side) =="]
        for t in targets:
            value = "-" if t["value"] is None else f"{t['value']:g}"
            lines.append(
                f"{t['verdict']:5} {t['corpus']:6} {t['target']:44} {value:>10}  {t['limit']}"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _jsonable(results: dict[str, Any]) -> dict[str, Any]:
    clean = dict(results)
    clean["corpora"] = {}
    for name, corpus in results.get("corpora", {}).items():
        c = {k: v for k, v in corpus.items() if k != "_rows"}
        c["table"] = [
            {
                "step": r.step,
                "metric": r.metric,
                "values": r.values,
                "ratio": r.ratio,
                "best_peer": r.best_peer,
                "verdict": r.verdict,
            }
            for r in corpus.get("_rows", [])
        ]
        clean["corpora"][name] = c
    return clean


def write_results(results: dict[str, Any], out_dir: Path) -> Path:
    """Write `results-<UTC time>.json` and `latest.json` into `out_dir`; returns the first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    data = json.dumps(_jsonable(results), indent=2, sort_keys=False) + "\n"
    path = out_dir / f"results-{stamp}.json"
    path.write_text(data)
    (out_dir / "latest.json").write_text(data)
    return path


# ------------------------------------------------------------------------ markdown

_MD_ROWS = {
    ("first snapshot", "time s"): "first snapshot, s",
    ("nothing changed", "time s"): "nothing changed, s",
    ("after 1% edits", "time s"): "after 1% edits, s",
    ("full restore", "time s"): "full restore, s",
    ("first snapshot", "peak RSS MB"): "peak RSS (first snapshot), MB",
    ("final repo", "MB (git: after gc)"): "repository, MB (git after gc)",
}


def render_markdown(data: dict[str, Any]) -> str:
    """Compact Markdown tables from a results JSON (for the README)."""
    parts: list[str] = []
    for name, corpus in data.get("corpora", {}).items():
        table = corpus["table"]
        tools = [t for t in corpus["tools"] if corpus["tools"][t].get("median")]
        parts.append(
            f"**{name}**: {corpus['files']:,} files, {corpus['bytes'] / 1e6:,.0f} MB "
            f"(medians of {corpus['repeat']})\n"
        )
        parts.append("| | " + " | ".join(tools) + " | Kamaros / best | target |")
        parts.append("|---|" + "---:|" * len(tools) + "---:|---|")
        for row in table:
            label = _MD_ROWS.get((row["step"], row["metric"]))
            if label is None:
                continue
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x {row['best_peer']}"
            cells = [_fmt(row["values"].get(t)) for t in tools]
            parts.append(f"| {label} | " + " | ".join(cells) + f" | {ratio} | {row['verdict']} |")
        parts.append("")
    targets = data.get("targets", [])
    if targets:
        parts.append("| target | corpus | value | limit | verdict |")
        parts.append("|---|---|---:|---|---|")
        for t in targets:
            value = "-" if t["value"] is None else f"{t['value']:.3g}"
            parts.append(
                f"| {t['target']} | {t['corpus']} | {value} | {t['limit']} | {t['verdict']} |"
            )
    machine = data.get("machine", {})
    if "python_loop_s_at_start" in machine:
        parts.append(
            f"\nMachine speed (a fixed pure-Python loop, lower is faster): "
            f"{machine['python_loop_s_at_start']:.3f} s at the start, "
            f"{machine.get('python_loop_s_at_end', float('nan')):.3f} s at the end."
        )
    return "\n".join(parts)


if __name__ == "__main__":
    import sys

    print(render_markdown(json.loads(Path(sys.argv[1]).read_text())))
