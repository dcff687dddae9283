"""What a project window does for the person, one flow per module.

Each flow is a function (or, with state to keep, a small class) taking the ProjectWindow it
works for: it asks (file dialogs, confirmations), runs the engine work through
`window.tasks`, and reports back on the window. The window's actions call these.
"""

from kamaros_app.ui.flows.app_verbs import (
    open_file,
    open_folder,
    open_settings,
    show_about,
    show_how_it_works,
)
from kamaros_app.ui.flows.export import export_project_file, export_version, extract_to_folder
from kamaros_app.ui.flows.files import (
    open_containing_folder,
    open_externally,
    show_contents_menu,
    show_file_history,
)
from kamaros_app.ui.flows.maintenance import check_project, clean_up
from kamaros_app.ui.flows.restore import RestoreFlow
from kamaros_app.ui.flows.save import save_checkpoint

__all__ = [
    "RestoreFlow",
    "check_project",
    "clean_up",
    "export_project_file",
    "export_version",
    "extract_to_folder",
    "open_containing_folder",
    "open_externally",
    "open_file",
    "open_folder",
    "open_settings",
    "save_checkpoint",
    "show_about",
    "show_contents_menu",
    "show_file_history",
    "show_how_it_works",
]
