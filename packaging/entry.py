"""Entry point of the PyInstaller bundle: one `kamaros` executable for the window and the
command line (see `kamaros_app.desktop.bundle_main`)."""

import sys

from kamaros_app.desktop import bundle_main, is_cli_invocation

if __name__ == "__main__":
    if is_cli_invocation(sys.argv[1:]):
        from kamaros_app.cli import collect_rarely, exit_now

        # As the `kamaros` script does: a one-command process, no interpreter tear-down.
        collect_rarely()
        exit_now(bundle_main())
    sys.exit(bundle_main())
