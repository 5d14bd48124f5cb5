"""The GCP provider: Cloud Asset Inventory, resources keyed by their full resource name (design §6.2)."""

from __future__ import annotations

from driftscan.providers import Provider, ScopeDimension
from driftscan.providers.gcp.keys import declared_key, identify, owns_type
from driftscan.providers.gcp.source import GcpSource
from driftscan.providers.gcp.units import narrow, units

PROVIDER = Provider(
    type="gcp",
    source_model=GcpSource,
    collector="driftscan.providers.gcp.collect:GcpCollector",
    extra="gcp",
    identify=identify,
    declared_key=declared_key,
    owns_type=owns_type,
    path_fields=("ca_bundle",),
    # `scopes: {pci: {projects: [payments-prod]}}`; labels select as tags.
    scope_dimensions=(ScopeDimension("projects", ("account",)),),
    terraform="driftscan.providers.gcp.terraform:MAPPINGS",
    redact_declared="driftscan.providers.gcp.facets:redact_declared",
    sandbox="driftscan.sandbox.gcp:AssetEmulator",
    demo="driftscan.sandbox.gcp.demo:start",
    # A project scope is one shard unit; an organisation or folder is read whole (units.py).
    units=units,
    narrow=narrow,
)

__all__ = ["PROVIDER", "GcpSource"]
