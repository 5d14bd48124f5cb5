"""Names registered in driftscan's entry-point groups, read from package metadata only.

Reading a name imports nothing of the plugin, so the config can check `reports.formats`
without importing the report package (design §2: config sits below every stage).
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

RENDERERS = "driftscan.renderers"


@functools.cache
def names(group: str) -> tuple[str, ...]:
    """The names registered in `group`, in registration order, each once."""
    return tuple(dict.fromkeys(ep.name for ep in entry_points(group=group)))


def reset() -> None:
    """Forget what was read, so the next lookup reads the metadata again."""
    names.cache_clear()
