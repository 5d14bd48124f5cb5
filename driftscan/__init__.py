"""driftscan: drift detection and audit evidence across clouds, clusters and hosts."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    # Read from the package metadata on first use: importlib.metadata (and the email package
    # it imports) would otherwise be a good part of `driftscan --help`'s start-up.
    if name != "__version__":
        raise AttributeError(f"module 'driftscan' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("driftscan")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+src"
    globals()["__version__"] = found
    return found
