"""The SSH collector against OpenSSH's sshd on this machine: real output, real quoting."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from driftscan.collect.base import run_source

from .conftest import Sshd, host_slice

pytestmark = [pytest.mark.sshd, pytest.mark.slow]


def local_packages() -> set[str] | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Status}\t${Package}\n"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {
        line.split("\t")[1]
        for line in out.splitlines()
        if line.split("\t")[0].endswith(" installed")
    }


def test_facts_over_ssh_match_the_local_machine(sshd: Sshd, tmp_path: Path) -> None:
    """Kernel, OS, machine id, a file's sha256 and the package count match what this machine says."""
    probe = tmp_path / "probe file.conf"
    probe.write_bytes(b"listen 443;\n")
    probe.chmod(0o640)
    run = run_source(sshd.source(files=[str(probe), "/etc/os-release"]))
    assert run.status == "ok", [(s.reason, s.detail) for s in run.slices]
    assert host_slice(run, "localhost").status == "ok"
    (res,) = run.resources
    a = res.attrs
    assert (res.key, res.region) == ("ssh://localhost", "lab")
    assert a["kernel"] == os.uname().release
    assert a["machine_id"] == Path("/etc/machine-id").read_text().strip()
    os_release = Path("/etc/os-release").read_text()
    assert f"ID={a['os']['id']}" in os_release
    got = a["files"][str(probe)]
    assert got["sha256"] == hashlib.sha256(b"listen 443;\n").hexdigest()
    assert (got["mode"], got["size"]) == ("0640", 12)
    assert (
        a["files"]["/etc/os-release"]["sha256"]
        == hashlib.sha256(Path("/etc/os-release").read_bytes()).hexdigest()
    )
    pkgs = local_packages()
    if pkgs is not None:
        assert set(a["packages"]) == pkgs and len(pkgs) > 10
    assert abs(res.observed["clock"]["offset_s"]) < 0.5  # same machine, same clock
    # Whatever this box cannot report (no systemd as PID 1, no docker daemon) is named, not empty.
    for fact in ("services", "containers", "ports"):
        assert a[fact] is not None or fact in a["not_assessed"]
    assert a["host_key"].startswith("SHA256:")


def test_hostile_paths_execute_nothing(sshd: Sshd, tmp_path: Path) -> None:
    """Configured paths full of shell syntax are passed as data: nothing runs, nothing is created."""
    pwned = tmp_path / "pwned"
    hostile = [
        f"{tmp_path}/x; touch {pwned}-1",
        f"$(touch {pwned}-2)",
        f"`touch {pwned}-3`",
        f"{tmp_path}/y\ntouch {pwned}-4",
        f"{tmp_path}/z' ; touch {pwned}-5; echo '",
        f'{tmp_path}/w" && touch {pwned}-6 && "',
        f"-x; touch {pwned}-7",
    ]
    real = tmp_path / "it's a $file; really"
    real.write_text("ok\n")
    run = run_source(sshd.source(files=[*hostile, str(real)], certs=hostile))
    assert run.status == "ok", [(s.reason, s.detail) for s in run.slices]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("pwned")) == []
    attrs = run.resources[0].attrs
    for path in hostile:
        assert attrs["files"][path] == {"error": "missing"}
        assert attrs["certs"][path] == {"error": "missing"}
    assert attrs["files"][str(real)]["sha256"] == hashlib.sha256(b"ok\n").hexdigest()


def test_certificate_parsed_from_real_output(sshd: Sshd, tmp_path: Path) -> None:
    """A PEM read over SSH is parsed locally: subject, expiry and days left; junk is a per-path error."""
    from driftscan.sandbox.hosts import CertFactory

    pem = tmp_path / "payments.pem"
    pem.write_text(CertFactory()("payments", 45))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    run = run_source(sshd.source(certs=[str(pem), str(junk)]))
    certs = run.resources[0].attrs["certs"]
    assert run.resources[0].observed["certs"][str(pem)]["days_left"] == 45
    assert certs[str(pem)]["subject"] == "CN=payments.fixture.internal"
    assert certs[str(junk)]["error"].startswith("parse:")
