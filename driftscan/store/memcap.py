"""A ceiling on what untrusted SQL can allocate beyond DuckDB's own memory limit."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Beside what the query may use, for what the process does meanwhile (Python objects of the
# result rows, DuckDB's threads' stacks): a query that fits its limit never meets the cap.
HEADROOM_MB = 512

# What a MemoryError under the cap means, wherever the rows meet it (fetched, or written out).
RESULT_OVER_LIMIT = "the query's result needs more memory than its limit"


def _mapped_bytes() -> int | None:
    """The process's virtual size now (Linux), or None where /proc does not say."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@contextmanager
def address_space_cap(memory_mb: int) -> Iterator[None]:
    """While inside, the process may map only twice `memory_mb` (plus HEADROOM_MB) more than
    it has mapped now; an allocation past it fails (DuckDB's OutOfMemoryException, Python's
    MemoryError) instead of growing the process.

    DuckDB keeps its buffers within `memory_limit`, but a function that builds one large
    value (`repeat('a', 1e9)`, a huge string_agg) and the result rows fetched into Python
    allocate outside it: `--memory-limit 100` once ended at 4 GB. The soft limit is set back
    on the way out, so an embedding process (a test runner) is left as it was.
    """
    now = _mapped_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if now is None:
        yield
        return
    cap = now + (2 * memory_mb + HEADROOM_MB) * 2**20
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY and soft <= cap:
        yield  # already as tight
        return
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
