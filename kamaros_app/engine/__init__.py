"""Pure-Python versioning engine: no Qt, usable from the command line and the API."""
