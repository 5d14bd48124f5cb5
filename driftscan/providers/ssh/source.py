"""The `type: ssh` source model: a fleet of Linux hosts read over SSH."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from driftscan.providers import SourceModel


class SshHost(BaseModel):
    """One on-prem host."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    address: str
    port: int = Field(default=22, ge=1, le=65535)
    site: str = ""
    user: str | None = None


class SshSource(SourceModel):
    """A fleet of Linux hosts read over SSH."""

    name: str
    type: Literal["ssh"]
    user: str
    key_file: str | None = None
    known_hosts: str
    concurrency: int = Field(default=100, ge=1, le=5000)
    timeout_s: float = Field(default=30, gt=0)
    hosts: list[SshHost] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    certs: list[str] = Field(default_factory=list)

    @field_validator("known_hosts")
    @classmethod
    def _known_hosts_required(cls, v: str) -> str:
        # Host keys are always verified (design §1): there is no way to switch it off.
        if not v or v.strip().lower() in {"none", "off", "false", "disabled", "/dev/null"}:
            raise ValueError("known_hosts is required; host keys are always verified")
        return v

    @field_validator("files", "certs")
    @classmethod
    def _plain_paths(cls, v: list[str]) -> list[str]:
        # A NUL can never be part of a file name, and at scan time it would only show as an
        # `unreachable` host. Other odd bytes (a newline, a `$`) are legal in Linux names and
        # are passed shell-quoted (tests/collect/ssh/test_sshd.py tries them on a real sshd).
        for i, p in enumerate(v):
            if "\0" in p:
                raise ValueError(f"entry {i} contains a NUL byte ('\\x00'); refusing")
        return v
