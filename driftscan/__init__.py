"""driftscan: drift detection and audit evidence across clouds, clusters and hosts."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("driftscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+src"
