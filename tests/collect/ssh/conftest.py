"""Fixtures for the SSH collector tests: fixture-host fleets and a real OpenSSH sshd on loopback."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from driftscan.model import Slice, SourceRun
from driftscan.providers.ssh import SshHost, SshSource
from driftscan.sandbox.hosts import Fleet, HostProfile

SSHD = Path("/usr/sbin/sshd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def host_slice(run: SourceRun, name: str) -> Slice:
    """The one slice of a host: named after it and covering exactly its resource key."""
    (s,) = [s for s in run.slices if s.keys == [f"ssh://{name}"]]
    assert s.name == name
    return s


@pytest.fixture
def make_fleet(tmp_path: Path) -> Iterator[Callable[[Iterable[HostProfile]], Fleet]]:
    """Start fleets in tmp_path; every one is stopped at teardown."""
    fleets: list[Fleet] = []

    def make(profiles: Iterable[HostProfile]) -> Fleet:
        fleet = Fleet(profiles, workdir=tmp_path / f"fleet{len(fleets)}").start()
        fleets.append(fleet)
        return fleet

    yield make
    for f in fleets:
        f.stop()


@dataclass
class Sshd:
    """A running OpenSSH sshd and what a scanner needs to reach it."""

    port: int
    user: str
    key_file: Path
    known_hosts: Path
    log: Path

    def source(self, **kw: object) -> SshSource:
        return SshSource.model_validate(
            {
                "name": "real-sshd",
                "type": "ssh",
                "user": self.user,
                "key_file": str(self.key_file),
                "known_hosts": str(self.known_hosts),
                "timeout_s": 20,
                "hosts": [
                    SshHost(name="localhost", address="127.0.0.1", port=self.port, site="lab")
                ],
                **kw,
            }
        )


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """OpenSSH's sshd on a free loopback port with a host key and a user key made at run time."""
    if not SSHD.exists():
        pytest.skip(f"OpenSSH server not installed ({SSHD} is absent)")
    d = tmp_path_factory.mktemp("sshd")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(str(d / "host_ed25519"))
    user_key = asyncssh.generate_private_key("ssh-ed25519")
    user_key.write_private_key(str(d / "client_ed25519"))
    for f in ("host_ed25519", "client_ed25519"):
        os.chmod(d / f, 0o600)
    user_key.write_public_key(str(d / "authorized_keys"))
    port = free_port()
    user = getpass.getuser()
    (d / "sshd_config").write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_ed25519
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
AllowUsers {user}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
UseDNS no
MaxStartups 50
LogLevel VERBOSE
"""
    )
    (d / "known_hosts").write_text(
        f"[127.0.0.1]:{port} {host_key.export_public_key('openssh').decode().strip()}\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)  # its privilege-separation chroot
    log = d / "sshd.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(d / "sshd_config")], stderr=logf)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sshd exited with {proc.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"sshd did not listen on {port}:\n{log.read_text()}")
                time.sleep(0.05)
        yield Sshd(port, user, d / "client_ed25519", d / "known_hosts", log)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
