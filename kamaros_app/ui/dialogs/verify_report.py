"""Check Project: the result of `verify` in plain words."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import VerifyReport

__all__ = ["VerifyReportDialog", "report_text"]


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def report_text(report: VerifyReport, titles: Mapping[str, str]) -> tuple[str, str]:
    """(headline, explanation) for a report; `titles` names checkpoints by id."""
    if report.ok:
        if report.versions == 0:
            return "The project is intact", "There are no checkpoints yet; nothing to check."
        return (
            f"All {_plural(report.versions, 'checkpoint')} are intact"
            if report.versions != 1
            else "The checkpoint is intact",
            f"Every stored version of every file was read back and matches "
            f"({_plural(report.contents, 'stored file version')}).",
        )
    lines: list[str] = []
    damaged = report.damaged_versions
    if damaged:
        lines.append(
            f"{_plural(len(damaged), 'checkpoint')} cannot be fully restored, because some "
            "of their stored files are damaged:"
        )
        for version_id in damaged[:20]:
            lines.append(f"  • “{titles.get(version_id, version_id[:8])}”")
        if len(damaged) > 20:
            lines.append(f"  • and {len(damaged) - 20:,} more")
        lines.append("")
        lines.append("Damaged files:")
        for item in report.damage:
            what = item.what
            if "(" in what and what.endswith(")"):
                what = what[what.index("(") + 1 : -1]  # the file names, not the content id
            lines.append(f"  • {what}: {item.reason}")
    if report.problems:
        if lines:
            lines.append("")
        lines.append("Other problems found in the history file:")
        lines.extend(f"  • {problem}" for problem in report.problems)
    lines.append("")
    lines.append(
        "Your files in the folder are not affected. Keep a copy of the project folder, "
        "and restore only checkpoints that are not listed above."
    )
    headline = "Some checkpoints are damaged" if damaged else "The history file has a problem"
    return headline, "\n".join(lines)


class VerifyReportDialog(QDialog):
    def __init__(
        self, parent: QWidget | None, report: VerifyReport, titles: Mapping[str, str]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check Project")
        self.setMinimumWidth(460)
        headline, text = report_text(report, titles)
        self.headline = QLabel(f"<b>{'✔' if report.ok else '⚠'} {headline}</b>")
        self.headline.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        self.details: QLabel | QPlainTextEdit
        if report.ok:
            self.details = QLabel(text)
            self.details.setWordWrap(True)
        else:
            self.details = QPlainTextEdit(text)
            self.details.setReadOnly(True)
            self.details.setMinimumHeight(220)
        layout.addWidget(self.details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.text = f"{headline}\n{text}"
