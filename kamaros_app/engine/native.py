"""The switch for optional native accelerators (ISA-L deflate, C++ diff-match-patch).

Each accelerator has a standard-library or pure-Python twin that gives the same results
(the same text patches; deflate streams that decompress to the same bytes). Set
KAMAROS_NATIVE=0 to use only the twins: for tests that compare both, and for debugging.
"""

from __future__ import annotations

import os

__all__ = ["NATIVE_ENV", "native_allowed"]

NATIVE_ENV = "KAMAROS_NATIVE"


def native_allowed() -> bool:
    return os.environ.get(NATIVE_ENV, "1") != "0"
