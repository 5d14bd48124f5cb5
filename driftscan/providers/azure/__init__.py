"""The Azure provider: subscriptions read through ARM, resources keyed by lower-case ARM ID."""

from __future__ import annotations

from driftscan.providers import Provider, ScopeDimension
from driftscan.providers.azure.keys import azure_type, identify, owns_type
from driftscan.providers.azure.source import AzureSource, narrow, units

PROVIDER = Provider(
    type="azure",
    source_model=AzureSource,
    collector="driftscan.providers.azure.collect:AzureCollector",
    extra="azure",
    identify=identify,
    case_insensitive=True,
    path_fields=("ca_bundle",),
    scope_dimensions=(ScopeDimension("subscriptions", ("account",), fold_case=True),),
    terraform="driftscan.providers.azure.terraform:MAPPINGS",
    redact_declared="driftscan.providers.azure.secrets:redact_declared",
    sandbox="driftscan.sandbox.arm:ArmEmulator",
    owns_type=owns_type,
    units=units,
    narrow=narrow,
)

__all__ = ["PROVIDER", "AzureSource", "azure_type"]
