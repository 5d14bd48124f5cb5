"""AWS logging and detection."""

from __future__ import annotations

from driftscan.providers.aws.collect.specs import ServiceSpec

REGIONAL: tuple[ServiceSpec, ...] = ()
GLOBAL: tuple[ServiceSpec, ...] = ()
