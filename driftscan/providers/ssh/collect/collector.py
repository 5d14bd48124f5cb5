"""Fan-out over a fleet of hosts: one SSH connection and one fixed script per host."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from driftscan.collect.base import CollectContext
from driftscan.errors import ConfigError, Reason, SourceError
from driftscan.inputs import read_bounded
from driftscan.model import Resource
from driftscan.providers.ssh.collect.parse import OutputError, Timing, parse_output
from driftscan.providers.ssh.collect.script import build_command, end_prefix
from driftscan.providers.ssh.source import SshHost, SshSource

# AES-GCM first: one AEAD call per packet in `cryptography`, where asyncssh's chacha20-poly1305
# makes several Python-level cipher calls per packet; at a thousand hosts that is CPU we need.
ENCRYPTION_ALGS = (
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-ctr",
)

# A single host's output is a few hundred KB at most (the package list); refuse runaway output.
MAX_OUTPUT = 16 * 1024 * 1024
# A private key file is a few KB (an RSA-16384 PEM is ~13 KB).
MAX_KEY_BYTES = 1024 * 1024


class _Client(asyncssh.SSHClient):
    """Remembers the host key a server offered when it was not trusted, for the evidence."""

    def __init__(self) -> None:
        self.offered: asyncssh.SSHKey | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        # Called by asyncssh only when the key is NOT in known_hosts: record it and refuse.
        self.offered = key
        return False


class _Session(asyncssh.SSHClientSession[bytes]):
    """Collects stdout and notes when the exec went out and when the clock sample came back."""

    def __init__(self, clock_end: bytes) -> None:
        self._clock_end = clock_end
        self.chunks: list[bytes] = []
        self.size = 0
        self.stderr = b""
        self.sent = 0.0
        self.received: float | None = None
        self.overflow = False
        self._chan: asyncssh.SSHClientChannel[bytes] | None = None

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        # asyncssh calls this right after the channel opens and just before it sends "exec".
        self.sent = time.time()
        self._chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if datatype == asyncssh.EXTENDED_DATA_STDERR:
            self.stderr = (self.stderr + data)[-4096:]
            return
        self.chunks.append(data)
        self.size += len(data)
        # The clock section comes first; stop looking once well past it (no quadratic rescans).
        if self.received is None and self.size < 65536 and self._clock_end in b"".join(self.chunks):
            self.received = time.time()
        if self.size > MAX_OUTPUT and not self.overflow:
            self.overflow = True
            if self._chan is not None:
                self._chan.close()


@dataclass(frozen=True, slots=True)
class _Auth:
    """Connection settings shared by every host of the source, built once."""

    known_hosts: asyncssh.SSHKnownHosts
    client_keys: list[asyncssh.SSHKey] | None


def split_observed(attrs: dict[str, Any]) -> dict[str, Any]:
    """Move the facts that change on every scan out of `attrs` (in place) and return them.

    The clock offset and round trip are measurements, and a certificate's days left falls
    by one each day: kept in the versioned document they would make every host a new
    version every night. The store keeps them per scan and views merge them back.
    """
    observed: dict[str, Any] = {}
    clock = attrs.pop("clock", None)
    if clock is not None:
        observed["clock"] = clock
    certs = attrs.get("certs")
    if isinstance(certs, dict):
        left = {
            path: {"days_left": c.pop("days_left")}
            for path, c in certs.items()
            if isinstance(c, dict) and "days_left" in c
        }
        if left:
            observed["certs"] = left
    return observed


class SshCollector:
    """Reads the facts of every configured host (design §3.2: one `host` resource each)."""

    def __init__(self, config: SshSource) -> None:
        self.config = config

    # -- setup ---------------------------------------------------------------------------

    def _auth(self) -> _Auth:
        cfg = self.config
        kh_path = Path(os.path.expanduser(cfg.known_hosts))
        if not kh_path.is_file():
            # Host keys are always verified (design §1): no known_hosts, no scan.
            raise ConfigError(
                f"source '{cfg.name}': known_hosts file {kh_path} does not exist; "
                "host keys are always verified",
                key="known_hosts",
            )
        try:
            known_hosts = asyncssh.read_known_hosts(str(kh_path))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"source '{cfg.name}': cannot read {kh_path}: {exc}", key="known_hosts"
            ) from None
        keys: list[asyncssh.SSHKey] | None = None
        if cfg.key_file:
            key_path = Path(os.path.expanduser(cfg.key_file))
            try:
                # Read bounded: a key_file that is /dev/zero must not fill memory.
                keys = [asyncssh.import_private_key(read_bounded(key_path, MAX_KEY_BYTES))]
            except (OSError, ValueError, asyncssh.KeyImportError) as exc:
                raise ConfigError(
                    f"source '{cfg.name}': cannot load {key_path}: {exc}", key="key_file"
                ) from None
        return _Auth(known_hosts, keys)

    # -- driver --------------------------------------------------------------------------

    def collect(self, ctx: CollectContext) -> None:
        """Scan every host; each becomes an ok slice with one resource or a failed slice."""
        auth = self._auth()
        key = (
            f"key {auth.client_keys[0].get_fingerprint()}" if auth.client_keys else "ssh-agent keys"
        )
        ctx.run.identity = f"user {self.config.user} with {key}"
        if not self.config.hosts:
            ctx.slice_ok("*", resources=0, account=self.config.name, types=["host"])
            return
        # Called from a worker thread of the driver: this thread has no loop of its own.
        asyncio.run(self._collect_all(ctx, auth))

    async def _collect_all(self, ctx: CollectContext, auth: _Auth) -> None:
        sem = asyncio.Semaphore(self.config.concurrency)
        await asyncio.gather(*(self._one(ctx, auth, sem, h) for h in self.config.hosts))

    async def _one(
        self, ctx: CollectContext, auth: _Auth, sem: asyncio.Semaphore, host: SshHost
    ) -> None:
        cfg = self.config
        key = f"ssh://{host.name}"
        slice_name = host.name
        # keys: a failed host slice names its resource exactly (design §1: never green by omission).
        cover: dict[str, Any] = {
            "account": cfg.name,
            "region": host.site,
            "types": ["host"],
            "keys": [key],
        }
        async with sem:
            try:
                attrs = await self._scan(auth, host)
            except SourceError as exc:
                ctx.slice_failed(slice_name, exc, **cover)
                return
            except Exception as exc:  # one host's surprise must not stop the others
                ctx.slice_failed(
                    slice_name, f"{type(exc).__name__}: {exc}", reason="error", **cover
                )
                return
        ctx.add(
            Resource(
                key=key,
                provider="ssh",
                source=cfg.name,
                account=cfg.name,
                region=host.site,
                type="host",
                name=host.name,
                attrs=attrs,
                observed=split_observed(attrs),
            )
        )
        ctx.slice_ok(slice_name, resources=1, **cover)

    async def _scan(self, auth: _Auth, host: SshHost) -> dict[str, Any]:
        cfg = self.config
        client = _Client()

        def fail(reason: Reason, message: str) -> SourceError:
            return SourceError(
                f"{host.address}:{host.port}: {message}",
                source=cfg.name,
                slice=host.name,
                reason=reason,
            )

        try:
            conn = await asyncssh.connect(
                host.address,
                host.port,
                username=host.user or cfg.user,
                known_hosts=auth.known_hosts,
                # key_file: that key only; otherwise ssh-agent and the default key files.
                client_keys=auth.client_keys if auth.client_keys is not None else (),
                agent_path=None if auth.client_keys is not None else (),
                client_factory=lambda: client,
                config=None,  # the scanner's own settings only, never ~/.ssh/config
                password_auth=False,
                kbdint_auth=False,
                host_based_auth=False,
                gss_auth=False,
                gss_kex=False,
                agent_forwarding=False,
                encryption_algs=ENCRYPTION_ALGS,
                connect_timeout=cfg.timeout_s,
                login_timeout=cfg.timeout_s,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            raise fail("hostkey", self._hostkey_detail(auth, host, client, exc)) from None
        except asyncssh.PermissionDenied as exc:
            raise fail("denied", f"authentication failed: {exc.reason}") from None
        except TimeoutError:
            raise fail("timeout", f"no SSH session within {cfg.timeout_s:g}s") from None
        except socket.gaierror as exc:
            raise fail("unreachable", f"cannot resolve: {exc}") from None
        except asyncssh.DisconnectError as exc:
            raise fail(
                "unreachable", f"disconnected during login: {exc.reason or type(exc).__name__}"
            ) from None
        except OSError as exc:
            raise fail("unreachable", f"{exc.strerror or exc}") from None

        ok = False
        try:
            server_key = conn.get_server_host_key()
            nonce = secrets.token_hex(8)
            command = build_command(nonce, cfg.files, cfg.certs)
            session = _Session(end_prefix(nonce, "clock").encode())

            async def run() -> asyncssh.SSHClientChannel[bytes]:
                chan, _ = await conn.create_session(lambda: session, command, encoding=None)
                chan.write_eof()  # nothing on stdin: a command that reads it gets EOF, not a hang
                await chan.wait_closed()
                return chan

            try:
                # One deadline for the whole command, however many packets it takes.
                chan = await asyncio.wait_for(run(), cfg.timeout_s)
            except TimeoutError:
                raise fail("timeout", f"command did not finish within {cfg.timeout_s:g}s") from None
            except asyncssh.ChannelOpenError as exc:
                raise fail("denied", f"session refused: {exc.reason}") from None
            except (asyncssh.DisconnectError, OSError) as exc:
                raise fail("unreachable", f"connection lost during the command: {exc}") from None
            ok = True
        finally:
            await self._close(conn, graceful=ok)
        if session.overflow:
            raise fail("parse", f"output larger than {MAX_OUTPUT} bytes")
        text = b"".join(session.chunks).decode("utf-8", errors="replace")
        timing = Timing(session.sent, session.received or time.time())
        try:
            attrs = parse_output(text, nonce, list(cfg.files), list(cfg.certs), timing)
        except OutputError as exc:
            status = chan.get_exit_status()
            if status is None and chan.get_exit_signal() is None:
                # The channel closed before the command ended: the connection dropped mid-output.
                raise fail(
                    "unreachable", f"connection closed before the command finished ({exc})"
                ) from None
            stderr = session.stderr.decode("utf-8", errors="replace").strip()[:200]
            raise fail("parse", f"{exc} (exit status {status}; stderr: {stderr!r})") from None
        if server_key is not None:
            attrs["host_key"] = server_key.get_fingerprint("sha256")
        return attrs

    async def _close(self, conn: asyncssh.SSHClientConnection, *, graceful: bool) -> None:
        # A hung peer may never drain a graceful close: abort it, and bound even the polite path.
        if graceful:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), min(self.config.timeout_s, 5.0))
                return
            except TimeoutError:
                pass
        conn.abort()
        await conn.wait_closed()

    @staticmethod
    def _hostkey_detail(auth: _Auth, host: SshHost, client: _Client, exc: Exception) -> str:
        offered = client.offered
        known = auth.known_hosts.match(host.address, host.address, host.port)[0]
        what = "changed (does not match known_hosts)" if known else "unknown (not in known_hosts)"
        if offered is None:
            return f"host key {what}: {exc}"
        return f"host key {what}; offered {offered.get_algorithm()} {offered.get_fingerprint('sha256')}"
