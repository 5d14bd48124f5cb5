"""The seeded estate's network types (see driftscan/providers/aws/collect/services/network.py)."""

from __future__ import annotations

from driftscan.sandbox.awsestate.base import Estate


def seed(endpoint_url: str, est: Estate) -> None:
    """Create this domain's resources in every region of `est` and record their keys."""
