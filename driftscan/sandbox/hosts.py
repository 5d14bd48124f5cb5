"""SSH fixture hosts: asyncssh servers on loopback that answer the collector's script like Linux boxes."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import asyncssh
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from driftscan.providers.ssh.collect.script import (
    ARGV0,
    SCRIPT,
    Invocation,
    done,
    parse_command,
    section,
)
from driftscan.providers.ssh.source import SshHost, SshSource

Fault = Literal["banner", "command"]

# -- profiles --------------------------------------------------------------------------------


@dataclass
class FileSpec:
    """A file on a fixture host: its bytes and the metadata `stat` would report."""

    content: bytes | str
    mode: int = 0o644
    owner: str = "root"
    mtime: int = 1_700_000_000
    readable: bool = True  # False: the scanner (no sudo) may stat it but not read it

    @property
    def data(self) -> bytes:
        return self.content.encode() if isinstance(self.content, str) else self.content

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Port:
    """A listening socket as `ss -tulnp` shows it."""

    proto: Literal["tcp", "udp"]
    address: str
    port: int
    process: str | None = None


@dataclass
class Container:
    """A running container: the image reference and the registry digest it resolved to."""

    image: str
    digest: str


@dataclass
class HostProfile:
    """Everything a fixture host reports, plus the faults it injects.

    Fields may be changed while the fleet runs: each command reads the profile afresh.
    """

    name: str
    site: str = "dc1"
    os_id: str = "debian"
    os_version_id: str = "12"
    os_pretty_name: str = "Debian GNU/Linux 12 (bookworm)"
    kernel: str = "6.1.0-18-amd64"
    package_manager: Literal["dpkg", "rpm"] = "dpkg"
    packages: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)  # unit (no .service) → SUB state
    ports: list[Port] = field(default_factory=list)
    files: dict[str, FileSpec | bytes | str] = field(default_factory=dict)  # absent → missing
    certs: dict[str, int] = field(default_factory=dict)  # path → days left (real PEMs generated)
    clock_skew_s: float = 0.0
    container_runtime: Literal["docker", "podman"] | None = "docker"
    containers: dict[str, Container] = field(default_factory=dict)
    machine_id: str = ""  # default: derived from the name
    # -- faults --
    rtt_s: float = 0.0  # added to every round trip (half each way)
    command_s: float = 0.0  # how long the script takes to run
    hang: Fault | None = None  # "banner": accept TCP, never speak; "command": never finish
    disconnect: Fault | None = None  # "banner": drop at once; "command": drop mid-output
    deny: bool = False  # reject the scanner's key
    garble: bool = False  # exit 0 with output that is not the script's (a foreign shell, say)
    failing: dict[str, str] = field(default_factory=dict)  # fact → stderr (exit 1), e.g. no root

    def __post_init__(self) -> None:
        if not self.machine_id:
            self.machine_id = hashlib.md5(self.name.encode(), usedforsecurity=False).hexdigest()

    def file(self, path: str) -> FileSpec | None:
        spec = self.files.get(path)
        if spec is None or isinstance(spec, FileSpec):
            return spec
        return FileSpec(spec)


# -- rendering: byte-for-byte what the script prints on a real box ------------------------------

# The script line dash names when it cannot open a file for sha256sum.
_SHA_LINE = next(i for i, ln in enumerate(SCRIPT.splitlines(), 1) if 'sha256sum < "$1"' in ln)

_ACTIVE = {
    "running": "active",
    "exited": "active",
    "listening": "active",
    "dead": "inactive",
    "failed": "failed",
}


def image_id(c: Container) -> str:
    """The local image ID a runtime would report for a container (stable per image+digest)."""
    return "sha256:" + hashlib.sha256(f"{c.image}@{c.digest}".encode()).hexdigest()


def _repo(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def render(
    profile: HostProfile, inv: Invocation, now: float, cert_pem: Callable[[str, int], str]
) -> str:
    """The script's complete output for this host (the same parsers read both)."""
    p, n = profile, inv.nonce
    fail = p.failing

    def sec(name: str, stdout: str, head: str = "") -> str:
        # A failing fact prints whatever came before the failing command (e.g. "docker").
        if name in fail:
            rc = 127 if "not found" in fail[name] else 1
            return section(n, name, head, rc, fail[name])
        return section(n, name, stdout)

    out = [sec("clock", f"{now:.9f}\n")]
    out.append(sec("machine_id", p.machine_id + "\n"))
    out.append(
        sec(
            "os",
            f'PRETTY_NAME="{p.os_pretty_name}"\nNAME="{p.os_pretty_name.split(" ")[0]}"\n'
            f'VERSION_ID="{p.os_version_id}"\nID={p.os_id}\n',
        )
    )
    out.append(sec("kernel", p.kernel + "\n"))
    pk: list[str] = [p.package_manager]
    pk += [f"install ok installed\t{k}\t{v}" for k, v in sorted(p.packages.items())]
    out.append(sec("packages", "\n".join(pk) + "\n", p.package_manager + "\n"))
    out.append(sec("services", _systemctl(p.services)))
    out.append(sec("ports", _ss(p.ports)))
    runtime = p.container_runtime
    if runtime is None:
        ct = "none\n"
    else:
        lines: list[str] = [runtime]
        lines += [f"C /{name} {c.image} {image_id(c)}" for name, c in p.containers.items()]
        images = {image_id(c): c for c in p.containers.values()}
        lines += [f"I {iid} {_repo(c.image)}@{c.digest}" for iid, c in sorted(images.items())]
        ct = "\n".join(lines) + "\n"
    out.append(sec("containers", ct, (runtime or "none") + "\n"))
    for i, path in enumerate(inv.files):
        spec = p.file(path)
        if spec is None:
            out.append(section(n, f"file {i}", "missing\n"))
        else:
            stat = f"{spec.mode:o} {spec.owner} {len(spec.data)} {spec.mtime}\n"
            if spec.readable:
                out.append(section(n, f"file {i}", f"{stat}{spec.sha256}  -\n"))
            else:  # dash's message when the script's `< "$1"` redirection fails
                err = f"{ARGV0}: {_SHA_LINE}: cannot open {path}: Permission denied\n"
                out.append(section(n, f"file {i}", stat, 2, err))
    for i, path in enumerate(inv.certs):
        days = p.certs.get(path)
        body = "missing\n" if days is None else cert_pem(p.name, days)
        out.append(section(n, f"cert {i}", body))
    out.append(done(n))
    return "".join(out)


def _systemctl(services: dict[str, str]) -> str:
    if not services:
        return ""
    width = max(len(u) for u in services) + len(".service")
    lines = []
    for unit, sub in sorted(services.items()):
        active = _ACTIVE.get(sub, "active")
        lines.append(f"{unit + '.service':<{width}} loaded {active:<8} {sub:<7} {unit} service")
    return "\n".join(lines) + "\n"


def _ss(ports: Sequence[Port]) -> str:
    lines = []
    for pt in ports:
        state = "LISTEN" if pt.proto == "tcp" else "UNCONN"
        host = f"[{pt.address}]" if ":" in pt.address else pt.address
        peer = "[::]:*" if ":" in pt.address else "0.0.0.0:*"
        users = f' users:(("{pt.process}",pid={1000 + pt.port % 5000},fd=3))' if pt.process else ""
        local = f"{host}:{pt.port}"
        lines.append(
            f"{pt.proto:<5} {state:<6} 0      {128 if pt.proto == 'tcp' else 0:<6} {local:>20} {peer:<20}{users}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


class CertFactory:
    """Real self-signed PEMs with a given number of days left, cached (EC keys are cheap)."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._cache: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()

    def __call__(self, host: str, days_left: int) -> str:
        with self._lock:
            pem = self._cache.get((host, days_left))
            if pem is None:
                pem = self._make(host, days_left)
                self._cache[(host, days_left)] = pem
            return pem

    def _make(self, host: str, days_left: int) -> str:
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{host}.fixture.internal")])
        issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "driftscan fixture CA")])
        # Half a day of slack so floor((not_after - now) / 1 day) == days_left for 12 hours.
        not_after = now + dt.timedelta(days=days_left, hours=12)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(min(now, not_after) - dt.timedelta(days=365))
            .not_valid_after(not_after)
            .sign(self._key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode()


# -- transport shims: latency, hangs, drops --------------------------------------------------------


class _Delay:
    """Runs callbacks a fixed delay after they were pushed, strictly in push order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        self._loop = loop
        self._delay = delay
        self._queue: deque[tuple[float, Callable[..., Any], tuple[Any, ...]]] = deque()
        self._handle: asyncio.TimerHandle | None = None

    def push(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._delay <= 0 and not self._queue:
            fn(*args)
            return
        self._queue.append((self._loop.time() + self._delay, fn, args))
        if self._handle is None:
            self._handle = self._loop.call_at(self._queue[0][0], self._run)

    def _run(self) -> None:
        self._handle = None
        now = self._loop.time()
        try:
            while self._queue and self._queue[0][0] <= now:
                _, fn, args = self._queue.popleft()
                fn(*args)
        finally:
            if self._queue and self._handle is None:
                self._handle = self._loop.call_at(self._queue[0][0], self._run)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._queue.clear()


class _DelayedTransport(asyncio.Transport):
    """What the SSH server writes to: every write (and the close after it) leaves late, in order."""

    def __init__(self, real: asyncio.Transport, out: _Delay) -> None:
        super().__init__()
        self._real = real
        self._out = out

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._out.push(self._real.write, bytes(data))

    def write_eof(self) -> None:
        self._out.push(self._real.write_eof)

    def can_write_eof(self) -> bool:
        return self._real.can_write_eof()

    def close(self) -> None:
        self._out.push(self._real.close)

    def abort(self) -> None:
        self._out.push(self._real.abort)

    def is_closing(self) -> bool:
        return self._real.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._real.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._real.pause_reading()

    def resume_reading(self) -> None:
        self._real.resume_reading()

    def is_reading(self) -> bool:
        return self._real.is_reading()

    def get_write_buffer_size(self) -> int:
        return self._real.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._real.set_write_buffer_limits(high, low)


class _Shim(asyncio.Protocol):
    """Sits between the socket and asyncssh's connection to inject the profile's faults."""

    def __init__(self, host: FixtureHost, inner_factory: Callable[[], asyncio.Protocol]) -> None:
        self._host = host
        self._inner_factory = inner_factory
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._in: _Delay | None = None
        self._out: _Delay | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._host.transports.add(transport)
        self._host.connections += 1
        self._host.fleet._opened()
        p = self._host.profile
        if p.hang == "banner":
            return  # the TCP handshake completes; not one byte of SSH follows
        if p.disconnect == "banner":
            transport.abort()
            return
        loop = asyncio.get_running_loop()
        self._in = _Delay(loop, p.rtt_s / 2)
        self._out = _Delay(loop, p.rtt_s / 2)
        self._inner = self._inner_factory()
        self._inner.connection_made(_DelayedTransport(transport, self._out))

    def data_received(self, data: bytes) -> None:
        if self._inner is not None and self._in is not None:
            self._in.push(self._inner.data_received, data)

    def eof_received(self) -> bool:
        if self._inner is not None and self._in is not None:
            self._in.push(self._eof)
        return True

    def _eof(self) -> None:
        if self._inner is not None and not self._inner.eof_received() and self._transport:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._host.transports.discard(self._transport)
            self._host.fleet._closed()
        if self._out is not None:
            self._out.cancel()
        if self._inner is not None and self._in is not None:
            self._in.push(self._inner.connection_lost, exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


class _Listener:
    """Passed to asyncssh.listen as its `tunnel`: asyncssh hands us its connection factory and
    we listen on loopback ourselves, putting a _Shim under every connection."""

    def __init__(self, host: FixtureHost) -> None:
        self._host = host

    async def create_server(
        self,
        session_factory: Callable[[str, int], asyncio.Protocol],
        listen_host: str,
        listen_port: int,
    ) -> asyncio.AbstractServer:
        loop = asyncio.get_running_loop()
        return await loop.create_server(
            lambda: _Shim(self._host, lambda: session_factory("", 0)),
            listen_host,
            listen_port,
            backlog=512,
        )


# -- servers -------------------------------------------------------------------------------------


class _Server(asyncssh.SSHServer):
    """Public-key auth for the fleet's one scanner key and user."""

    def __init__(self, host: FixtureHost) -> None:
        self._host = host

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fleet = self._host.fleet
        if self._host.profile.deny or username != fleet.user:
            return False
        return key.public_data == fleet.client_public


class FixtureHost:
    """One running fixture host: its profile, port and host key."""

    def __init__(self, fleet: Fleet, profile: HostProfile) -> None:
        self.fleet = fleet
        self.profile = profile
        self.host_key: asyncssh.SSHKey = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self.acceptor: asyncssh.SSHAcceptor | None = None
        self.transports: set[asyncio.Transport] = set()
        self.connections = 0  # TCP connections accepted so far
        self.commands = 0  # exec requests answered so far

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def fingerprint(self) -> str:
        """The SHA256:... fingerprint of the host key it offers now."""
        return str(self.host_key.get_fingerprint("sha256"))

    def known_hosts_line(self) -> str:
        pub = self.host_key.export_public_key("openssh").decode().strip()
        return f"[127.0.0.1]:{self.port} {pub}"

    async def listen(self) -> None:
        self.acceptor = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            tunnel=_Listener(self),
            server_factory=lambda: _Server(self),
            server_host_keys=[self.host_key],
            process_factory=self._handle,
            encoding=None,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=60,
        )
        if not self.port:
            self.port = self.acceptor.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.acceptor is not None:
            self.acceptor.close()
            await self.acceptor.wait_closed()
            self.acceptor = None
        for t in list(self.transports):
            t.abort()

    async def _handle(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        p = self.profile
        self.commands += 1
        inv = parse_command(process.command or "")
        if inv is None:
            # A fixture host runs only the collector's script; anything else is refused loudly.
            process.stderr.write(b"sh: 1: not the driftscan script: refused by fixture host\n")
            process.exit(127)
            return
        if p.hang == "command":
            await process.channel.wait_closed()
            return
        fleet = self.fleet
        fleet.running_commands += 1
        fleet.peak_commands = max(fleet.peak_commands, fleet.running_commands)
        try:
            if p.command_s:
                await asyncio.sleep(p.command_s)
        finally:
            fleet.running_commands -= 1
        out = render(p, inv, time.time() + p.clock_skew_s, self.fleet.certs).encode()
        if p.garble:
            out = (
                b"fish: Unsupported use of '='. In fish, please use 'set m $1'.\n"
                + out[: len(out) // 3]
            )
        if p.disconnect == "command":
            process.stdout.write(out[: len(out) // 2])
            conn = process.get_extra_info("connection")
            conn.abort()
            return
        process.stdout.write(out)
        process.exit(0)


class Fleet:
    """Hundreds of fixture hosts on 127.0.0.1 served from one asyncio loop in a background thread.

    with Fleet(synthetic_profiles(50), workdir=tmp_path) as fleet:
        run = run_source(fleet.source(files=["/etc/hosts"]))
    """

    def __init__(
        self,
        profiles: Iterable[HostProfile],
        *,
        workdir: str | Path | None = None,
        user: str = "scanner",
    ) -> None:
        self.user = user
        self._own_dir = workdir is None
        self.workdir = (
            Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="driftscan-fleet-"))
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.hosts: dict[str, FixtureHost] = {}
        for prof in profiles:
            if prof.name in self.hosts:
                raise ValueError(f"duplicate fixture host name {prof.name!r}")
            self.hosts[prof.name] = FixtureHost(self, prof)
        self.certs = CertFactory()
        self.client_key: asyncssh.SSHKey = asyncssh.generate_private_key("ssh-ed25519")
        self.client_public = self.client_key.public_data
        self.client_key_path = self.workdir / "client_ed25519"
        self.known_hosts_path = self.workdir / "known_hosts"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.open_connections = 0
        self.peak_connections = 0  # most connections open at once, fleet-wide
        self.running_commands = 0
        self.peak_commands = 0  # most scripts running at once, fleet-wide

    def _opened(self) -> None:
        self.open_connections += 1
        self.peak_connections = max(self.peak_connections, self.open_connections)

    def _closed(self) -> None:
        self.open_connections -= 1

    # -- lifecycle --

    def start(self) -> Fleet:
        """Listen on a free loopback port per host; write the client key and known_hosts."""
        if self._loop is not None:
            return self
        self.client_key.write_private_key(str(self.client_key_path))
        os.chmod(self.client_key_path, 0o600)
        self.client_key.write_public_key(str(self.client_key_path) + ".pub")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name="driftscan-fleet", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._listen_all())
        except BaseException:
            self.stop()
            raise
        self.write_known_hosts()
        return self

    def stop(self) -> None:
        """Close every listener and connection and stop the loop thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._shutdown(), timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = self._thread = None
            if self._own_dir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Any, timeout: float = 120) -> Any:
        assert self._loop is not None, "the fleet is not running"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _listen_all(self) -> None:
        await asyncio.gather(*(h.listen() for h in self.hosts.values()))

    async def _shutdown(self) -> None:
        await asyncio.gather(*(h.close() for h in self.hosts.values()))
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- keys and config --

    def write_known_hosts(
        self, path: str | Path | None = None, *, omit: Iterable[str] = ()
    ) -> Path:
        """Write a known_hosts file trusting each host's current key (except those in `omit`)."""
        target = Path(path) if path else self.known_hosts_path
        skip = set(omit)
        lines = [h.known_hosts_line() for h in self.hosts.values() if h.name not in skip]
        target.write_text("\n".join(lines) + "\n")
        return target

    def rekey(self, name: str) -> str:
        """Give a host a new host key on the same port (a rebuilt box, or a man in the middle);
        known_hosts is left as it was. Returns the new fingerprint."""
        host = self.hosts[name]

        async def swap() -> None:
            await host.close()
            host.host_key = asyncssh.generate_private_key("ssh-ed25519")
            await host.listen()

        self._call(swap())
        return host.fingerprint

    def ssh_hosts(self, names: Iterable[str] | None = None) -> list[SshHost]:
        chosen = list(names) if names is not None else list(self.hosts)
        return [
            SshHost(
                name=n,
                address="127.0.0.1",
                port=self.hosts[n].port,
                site=self.hosts[n].profile.site,
            )
            for n in chosen
        ]

    def source(
        self,
        name: str = "fixture",
        *,
        hosts: Iterable[str] | None = None,
        files: Sequence[str] = (),
        certs: Sequence[str] = (),
        timeout_s: float = 10.0,
        concurrency: int = 100,
        known_hosts: str | Path | None = None,
        extra_hosts: Sequence[SshHost] = (),
    ) -> SshSource:
        """An SshSource that scans this fleet (all hosts, or `hosts`) with its client key."""
        return SshSource(
            name=name,
            type="ssh",
            user=self.user,
            key_file=str(self.client_key_path),
            known_hosts=str(known_hosts or self.known_hosts_path),
            concurrency=concurrency,
            timeout_s=timeout_s,
            hosts=[*self.ssh_hosts(hosts), *extra_hosts],
            files=list(files),
            certs=list(certs),
        )


# -- synthetic estates --------------------------------------------------------------------------

SYNTHETIC_FILES = (
    "/etc/hosts",
    "/etc/ssh/sshd_config",
    "/etc/nginx/nginx.conf",
    "/etc/app/secret.conf",
)
SYNTHETIC_CERTS = ("/etc/ssl/certs/payments.pem",)

_OSES = (
    ("debian", "12", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "dpkg"),
    ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS", "5.15.0-105-generic", "dpkg"),
    ("rocky", "9.3", "Rocky Linux 9.3 (Blue Onyx)", "5.14.0-362.8.1.el9_3.x86_64", "rpm"),
)


def synthetic_profiles(
    n: int, *, prefix: str = "host", packages: int = 400, rtt_s: float = 0.0, seed: int = 0
) -> list[HostProfile]:
    """n varied, deterministic hosts: three OS families, a few hundred packages each, services,
    ports, config files (one missing in ten), a certificate with 1–365 days left, containers on
    every third host, and clock skews between -3 and +3 seconds."""
    rng = random.Random(seed)
    base_pkgs = [f"libpkg{j}" for j in range(packages)]
    out: list[HostProfile] = []
    for i in range(n):
        os_id, ver, pretty, kernel, pm = _OSES[i % len(_OSES)]
        pkgs = {
            name: f"{1 + (j % 7)}.{j % 13}.{(i // 25) % 3}-{1 + j % 4}"
            for j, name in enumerate(base_pkgs)
        }
        pkgs["openssl"] = "3.0.13-1" if i % 5 else "3.0.11-1"
        pkgs["nginx"] = "1.24.0-2"
        services = {"nginx": "running", "ssh": "running", "cron": "running", "rsyslog": "running"}
        services["backup"] = "failed" if i % 17 == 0 else "dead"
        files: dict[str, FileSpec | bytes | str] = {
            "/etc/hosts": f"127.0.0.1 localhost\n127.0.1.1 {prefix}-{i:04d}\n",
            "/etc/ssh/sshd_config": FileSpec(
                "PermitRootLogin no\nPasswordAuthentication no\n", 0o600
            ),
            "/etc/app/secret.conf": FileSpec(f"token={rng.getrandbits(64):x}\n", 0o600, "app"),
        }
        if i % 10:
            files["/etc/nginx/nginx.conf"] = "worker_processes auto;\n" + (
                "# hotfix\n" if i % 23 == 0 else ""
            )
        containers = {}
        if i % 3 == 0:
            tag = "2.3" if i % 6 else "2.2"
            containers["payments"] = Container(
                f"registry.example/payments:{tag}",
                "sha256:" + hashlib.sha256(tag.encode()).hexdigest(),
            )
        out.append(
            HostProfile(
                name=f"{prefix}-{i:04d}",
                site=("dc1", "dc2")[i % 2],
                os_id=os_id,
                os_version_id=ver,
                os_pretty_name=pretty,
                kernel=kernel,
                package_manager=pm,  # type: ignore[arg-type]
                packages=pkgs,
                services=services,
                ports=[
                    Port("tcp", "0.0.0.0", 22, "sshd"),
                    Port("tcp", "::", 22, "sshd"),
                    Port("tcp", "0.0.0.0", 443, "nginx"),
                    Port("udp", "127.0.0.53", 53, None),
                ]
                + ([Port("tcp", "0.0.0.0", 8080, "payments")] if containers else []),
                files=files,
                certs={SYNTHETIC_CERTS[0]: 1 + (i * 37) % 365},
                clock_skew_s=round(rng.uniform(-3, 3), 3),
                containers=containers,
                rtt_s=rtt_s,
            )
        )
    return out


# -- `python -m driftscan.sandbox.hosts`: a fleet in its own process ---------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a synthetic fleet until stdin closes; print `READY <config.json>` once listening."""
    ap = argparse.ArgumentParser(prog="python -m driftscan.sandbox.hosts", description=main.__doc__)
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--rtt-ms", type=float, default=0.0)
    ap.add_argument("--packages", type=int, default=400)
    ap.add_argument("--dir", required=True, help="where keys, known_hosts and config.json go")
    args = ap.parse_args(argv)
    _raise_fd_limit()
    with Fleet(
        synthetic_profiles(args.hosts, rtt_s=args.rtt_ms / 1000, packages=args.packages),
        workdir=args.dir,
    ) as fleet:
        cfg = fleet.source(files=SYNTHETIC_FILES, certs=SYNTHETIC_CERTS)
        path = Path(args.dir) / "config.json"
        path.write_text(json.dumps(cfg.model_dump(mode="json")))
        print(f"READY {path}", flush=True)
        sys.stdin.read()  # the parent closes our stdin to stop us
    return 0


def _raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    raise SystemExit(main())
