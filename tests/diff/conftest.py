"""Fixtures for drift tests: synthetic hosts beside the synthetic buckets of tests/conftest.py."""

from __future__ import annotations

from typing import Any

from driftscan.model import Resource, Slice, SourceRun

NGINX_CONF = "9f2c5e1b7a0d4c3e8f6a2b1d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e"
POLICY = "1" * 64


def host(name: str = "web-01", **facts: Any) -> Resource:
    """A host resource shaped like the SSH collector's, matching tests/data/desired/hosts/web.yaml."""
    attrs: dict[str, Any] = {
        "packages": {"nginx": "1.24.0-2", "openssl": "3.0.13-1~deb12u1"},
        "services": {"nginx": "running", "sshd": "running"},
        "files": {
            "/etc/nginx/nginx.conf": {"sha256": NGINX_CONF, "mode": "0644", "owner": "root"},
            "/etc/falcon/policy.json": {"sha256": POLICY, "mode": "0600", "owner": "root"},
        },
        "certs": {"/etc/ssl/certs/payments.pem": {"days_left": 90, "subject": "CN=payments"}},
        "containers": {
            "payments": {"image": "registry.example/payments:2.3", "digest": "sha256:aaaa"}
        },
        "clock": {"offset_s": 0.01, "rtt_s": 0.002},
        "machine_id": "abc",
        "not_assessed": {},
    }
    for k, v in facts.items():
        attrs[k] = v
    return Resource(f"ssh://{name}", "ssh", "dc1", "dc1", "site-a", "host", name, attrs=attrs)


def host_run(hosts: list[Resource], *, unreachable: tuple[str, ...] = ()) -> SourceRun:
    """An SSH source run; hosts named in `unreachable` are failed slices.

    Each slice names its host's key (Slice.keys), so one unreachable host leaves the others'
    verdicts standing.
    """
    run = SourceRun("dc1", "ssh")
    for h in hosts:
        cover: dict[str, Any] = {
            "account": "dc1",
            "region": "site-a",
            "types": ["host"],
            "keys": [h.key],
        }
        if h.name in unreachable:
            run.slices.append(Slice("dc1", "ssh", h.key, "failed", reason="unreachable", **cover))
        else:
            run.resources.append(h)
            run.slices.append(Slice("dc1", "ssh", h.key, "ok", resources=1, **cover))
    run.finish()
    return run
