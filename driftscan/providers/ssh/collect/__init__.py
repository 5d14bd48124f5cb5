"""On-prem Linux hosts over SSH: one connection and one fixed script per host (design §3.2)."""

from driftscan.providers.ssh.collect.collector import SshCollector

__all__ = ["SshCollector"]
