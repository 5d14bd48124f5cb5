"""A loopback HTTPS server with a throwaway CA (trustme), shared by the sandbox's API emulators."""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseServer
from typing import Any, ClassVar, Protocol, Self, TypeVar

# A request body past this is not read: the emulators take small JSON queries only.
MAX_BODY = 1 << 20


@dataclass
class Reply:
    """What an emulator answers one request with."""

    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def with_header(self, name: str, value: str) -> Self:
        self.headers[name] = value
        return self


def serve_in_thread(server: BaseServer, name: str) -> threading.Thread:
    """`server` answering on a daemon thread of its own, started."""
    # A short poll: shutdown() waits for serve_forever to notice, 0.5 s a stop by default.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return thread


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


class _Scripted(Protocol):
    hits: int

    # Each emulator's Fault decides from its own view of a request (path; method and path).
    @property
    def applies(self) -> Callable[..., bool]: ...


F = TypeVar("F", bound=_Scripted)


def first_fault(faults: list[F], lock: threading.RLock | threading.Lock, *request: str) -> F | None:
    """The first of an emulator's scripted faults that applies to this request, its hit
    counted (under the emulator's lock: concurrent requests must not both take a last hit)."""
    with lock:
        for f in faults:
            if f.applies(*request):
                f.hits += 1
                return f
    return None


def serve_until_interrupted() -> None:
    """Block while an emulator serves in its thread (`python -m driftscan.sandbox.*`): until
    Ctrl-C, or SIGTERM turned into an exit by the caller."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


class EmulatorServer(TLSServer):
    """The TLS server of one emulator: every request goes to its `handle`."""

    def __init__(self, addr: tuple[str, int], ctx: ssl.SSLContext, emulator: HttpsEmulator) -> None:
        self.emulator = emulator
        super().__init__(addr, _Handler, ctx)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per reply (flushed by handle_one_request): headers and body in
    # separate segments would meet Nagle and delayed ACKs and cost ~40 ms a request.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the request log
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        emulator = self.server.emulator
        reply = emulator.handle(self.command, self.path, headers, body)
        payload = reply.body or b""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", emulator.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
        except (ConnectionError, ssl.SSLError, OSError):
            # The client gave up (a timeout test); nothing to answer.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class HttpsEmulator:
    """Start and stop of an emulator served over HTTPS on loopback: a fresh CA per start,
    its certificate written to `ca_path` (into `ca_dir`, or a folder removed on stop).
    A subclass answers requests in `handle`."""

    name: ClassVar[str]  # names the CA file, its temporary folder and the server thread
    content_type: ClassVar[str] = "application/json"

    def __init__(self, host: str, port: int, ca_dir: str | Path | None) -> None:
        self.host = host
        self._port = port
        self._ca_dir = Path(ca_dir) if ca_dir else None
        self._own_dir: Path | None = None
        self.ca_path = ""
        self._server: TLSServer | None = None
        self._thread: threading.Thread | None = None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request (headers lower-cased; the body as sent, at most MAX_BODY)."""
        raise NotImplementedError

    def _make_server(self, addr: tuple[str, int], ctx: ssl.SSLContext) -> TLSServer:
        """The emulator's server on `addr`, its requests going to `handle`."""
        return EmulatorServer(addr, ctx, self)

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
        self._thread = serve_in_thread(self._server, f"{self.name}-emulator")
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
