"""The `type: kubernetes` source model: one cluster read through its API server (design §6.2)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from driftscan.providers import SourceModel


class KubernetesSource(SourceModel):
    """A cluster read with the official client: a kubeconfig context, or the in-cluster account."""

    name: str
    type: Literal["kubernetes"]
    # Omitted: the in-cluster service account (token and CA under /var/run/secrets/...).
    kubeconfig: str | None = None
    context: str | None = None
    # `[all]`, or the namespaces to read; cluster-scoped objects are read either way.
    namespaces: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    ca_bundle: str | None = None
    # Whether the cluster-scoped kinds are read; `scan --shard` sets it false for a shard that
    # reads some namespaces while another reads the cluster scope (unit `_cluster`). With
    # `namespaces: [all]` they are always read (the namespaces are found through them).
    cluster_scoped: bool = True
    # The cluster's name (the resources' region); default: the context's cluster name.
    cluster: str | None = None
    concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1, le=20)
    # Client-side pacing of list calls (client-go's QPS and burst, raised for a read-only scan).
    qps: float = Field(default=50.0, gt=0, le=10_000)
    burst: int = Field(default=100, ge=1, le=10_000)
    timeout_s: float = Field(default=30.0, gt=0, le=600)

    @field_validator("namespaces")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        if "all" in v and len(v) > 1:
            raise ValueError("give [all] or a list of namespaces, not both")
        for ns in v:
            if not ns or "/" in ns:
                raise ValueError(f"'{ns}' is not a namespace name")
        return v
