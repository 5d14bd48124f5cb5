"""A loopback HTTPS server with a throwaway CA (trustme), shared by the sandbox's API emulators."""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Self


class TLSServer(ThreadingHTTPServer):
    """A threading HTTP server that speaks TLS with `ctx`."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler], ctx: ssl.SSLContext
    ) -> None:
        self.ctx = ctx
        super().__init__(addr, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        # The handshake runs lazily in the handler thread so a slow client never blocks accept().
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


class HttpsEmulator:
    """Start and stop of an emulator served over HTTPS on loopback: a fresh CA per start,
    its certificate written to `ca_path` (into `ca_dir`, or a folder removed on stop)."""

    name: ClassVar[str]  # names the CA file, its temporary folder and the server thread

    def __init__(self, host: str, port: int, ca_dir: str | Path | None) -> None:
        self.host = host
        self._port = port
        self._ca_dir = Path(ca_dir) if ca_dir else None
        self._own_dir: Path | None = None
        self.ca_path = ""
        self._server: TLSServer | None = None
        self._thread: threading.Thread | None = None

    def _make_server(self, addr: tuple[str, int], ctx: ssl.SSLContext) -> TLSServer:
        """The emulator's server on `addr`, its handler bound to this emulator."""
        raise NotImplementedError

    def start(self) -> Self:
        import trustme  # the demo extra; only needed when an emulator runs

        ca = trustme.CA()
        cert = ca.issue_cert(self.host, "localhost")
        if self._ca_dir is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix=f"driftscan-{self.name}-"))
        folder = self._ca_dir or self._own_dir
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        ca_file = folder / f"{self.name}-sandbox-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        self.ca_path = str(ca_file)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self._server = self._make_server((self.host, self._port), ctx)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"{self.name}-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the emulator first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"
