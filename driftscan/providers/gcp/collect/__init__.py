"""GCP through Cloud Asset Inventory (google-cloud-asset, REST): read-only search calls."""

from driftscan.providers.gcp.collect.collector import GcpCollector

__all__ = ["GcpCollector"]
