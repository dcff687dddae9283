"""Entry point of the PyInstaller bundle: one `kamaros` executable for the window and the
command line (see `kamaros_app.desktop.bundle_main`)."""

import sys

from kamaros_app.desktop import bundle_main, is_cli_invocation

if __name__ == "__main__":
    code = bundle_main()
    if is_cli_invocation(sys.argv[1:]):
        from kamaros_app.cli import exit_now

        exit_now(code)  # as the `kamaros` script does: no interpreter tear-down
    sys.exit(code)
