"""Entry point of the PyInstaller bundle: one `kamaros` executable for the window and the
command line (see `kamaros_app.desktop.bundle_main`)."""

import sys

from kamaros_app.desktop import bundle_main

if __name__ == "__main__":
    sys.exit(bundle_main())
