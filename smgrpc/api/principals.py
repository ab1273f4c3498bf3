"""Credential → principal for the current IAM snapshot (the authentication cache).

The lookups are hA's `core.iam.directory` (memoised per snapshot, compiled policies carried
over between snapshots). A new IamState (after any IAM write, or a replicated snapshot) is a
new object, so a deleted or deactivated key, or a changed policy, is seen on the very next
call; between two IAM changes a call costs one identity check here.
"""

from __future__ import annotations

from collections.abc import Callable

from smgrpc.core.iam.directory import Directory, directory
from smgrpc.core.iam.model import IamState


class Principals:
    """The current snapshot's Directory: looked up again only when `state()` changes."""

    def __init__(self, state: Callable[[], IamState]) -> None:
        self._state = state
        self._dir: Directory | None = None

    def current(self) -> Directory:
        state = self._state()
        got = self._dir
        if got is None or got.state is not state:
            got = self._dir = directory(state)
        return got
