"""Staging bundles: collected resources as Parquet with a sealed manifest, shards, their ingest."""

from driftscan.stage.bundle import Bundle, BundleWriter, read_bundle, write_manifest
from driftscan.stage.shard import Shard, default_run_id, parse_shard, plan_shard, unit_shard

__all__ = [
    "Bundle",
    "BundleWriter",
    "Shard",
    "default_run_id",
    "parse_shard",
    "plan_shard",
    "read_bundle",
    "unit_shard",
    "write_manifest",
]
