"""Turn a version reference (id, id prefix, HEAD, HEAD~N, tag) into a version id."""

from __future__ import annotations

import re

from .errors import VersionNotFoundError
from .manifest import Manifest

__all__ = ["resolve_ref"]

_HEAD_BACK = re.compile(r"HEAD~(\d+)", re.IGNORECASE)
_MIN_PREFIX = 4


def resolve_ref(manifest: Manifest, ref: str) -> str:
    versions = manifest.versions
    if not versions:
        raise VersionNotFoundError("there are no checkpoints yet")
    ref = ref.strip()
    if ref.upper() == "HEAD":
        return versions[-1].id
    back = _HEAD_BACK.fullmatch(ref)
    if back:
        steps = int(back.group(1))
        if steps >= len(versions):
            raise VersionNotFoundError(
                f"{ref}: there are only {len(versions)} checkpoints (HEAD~{len(versions) - 1} "
                "is the first)"
            )
        return versions[-1 - steps].id
    if ref in manifest.tags:
        return manifest.tags[ref]
    lowered = ref.lower()
    if len(lowered) >= _MIN_PREFIX and all(c in "0123456789abcdef" for c in lowered):
        matches = [v.id for v in versions if v.id.startswith(lowered)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise VersionNotFoundError(
                f"{ref!r} matches {len(matches)} checkpoints; give more characters"
            )
    if 0 < len(lowered) < _MIN_PREFIX and all(c in "0123456789abcdef" for c in lowered):
        raise VersionNotFoundError(
            f"no tag called {ref!r}; an id prefix needs at least {_MIN_PREFIX} characters"
        )
    raise VersionNotFoundError(f"no checkpoint or tag called {ref!r}")
