"""See what changed in one file: text side by side, images, other files (docs/UI.md)."""

from kamaros_app.ui.diffview.diff_widget import DiffWidget
from kamaros_app.ui.diffview.model import MAX_DIFF_BYTES, PreparedDiff
from kamaros_app.ui.diffview.prepare import prepare_diff

__all__ = ["MAX_DIFF_BYTES", "DiffWidget", "PreparedDiff", "prepare_diff"]
