"""`python -m kamaros_app` runs the command line."""

from .cli import run

run()
