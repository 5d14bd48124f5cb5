"""Drift is live against declared (`compare`); a delta is one scan against another (`between`)."""

from driftscan.drift.declared import DriftResult, attribute_changes, compare, load_result, tables
from driftscan.drift.delta import ScanDelta, between

__all__ = [
    "DriftResult",
    "ScanDelta",
    "attribute_changes",
    "between",
    "compare",
    "load_result",
    "tables",
]
