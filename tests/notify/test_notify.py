"""Notifications after `run`: a real HTTP receiver and an aiosmtpd server on loopback, retries,
failures that never change the exit code, and no secret or fingerprint in any message."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from typer.testing import CliRunner, Result

from driftscan.cli import app
from driftscan.sandbox.k8s import KubeEmulator, demo_cluster

FINGERPRINT = "hmac-sha256:k1:" + "ab" * 32
SMTP_USER, SMTP_PASSWORD = "driftscan-bot", "smtp-pass-7f3a-not-in-any-message"


class Receiver:
    """A webhook endpoint on 127.0.0.1: records JSON bodies; answers `codes` in turn, then 200."""

    def __init__(self, codes: list[int] | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.codes = list(codes or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", "0"))
                outer.bodies.append(json.loads(self.rfile.read(n)))
                outer.paths.append(self.path)
                code = outer.codes.pop(0) if outer.codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        # The path stands for a Slack webhook's token: it must never reach a log or a message.
        return f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/tok3n-secret"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


def _auth(
    server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())  # fmt: skip
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def smtp(ca: trustme.CA) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on loopback that requires STARTTLS and a login (aiosmtpd)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    box = Mailbox()
    # aiosmtpd's controller connects to its own port to confirm it started: a real port, then.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    ctl = Controller(box, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
                     authenticator=_auth, auth_require_tls=True)  # fmt: skip
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeEmulator]:
    objs, _ = demo_cluster()
    with KubeEmulator(objs, ca_dir=tmp_path_factory.mktemp("kube-ca")) as kube:
        yield kube


@pytest.fixture
def project(
    cluster: KubeEmulator, ca: trustme.CA, tmp_path: Path
) -> Callable[[list[dict[str, Any]]], Path]:
    """A driftscan.yaml scanning the Kubernetes emulator with the given `notify:` list."""
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    def make(notify: list[dict[str, Any]]) -> Path:
        doc = {
            "organisation": "ACME (test)",
            "store": str(tmp_path / "store.duckdb"),
            "sources": [{"name": "k8s", "type": "kubernetes",
                         "kubeconfig": str(cluster.kubeconfig(tmp_path / "kubeconfig"))}],
            "reports": {"dir": str(tmp_path / "reports"), "formats": ["json"]},
            "notify": notify,
        }  # fmt: skip
        cfg = tmp_path / "driftscan.yaml"
        cfg.write_text(yaml.safe_dump(doc))
        return cfg

    return make


def _run(cfg: Path, *extra: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["run", "-c", str(cfg), *extra], env=env, catch_exceptions=False)


def _events(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _email(port: int, ca_file: str = "smtp-ca.pem") -> dict[str, Any]:
    return {"email": {"to": ["platform@example.test", "audit@example.test"],
                      "from": "driftscan@example.test", "smtp": f"127.0.0.1:{port}",
                      "starttls": True, "username_env": "SMTP_USER", "password_env": "SMTP_PASSWORD",
                      "ca_bundle": ca_file}}  # fmt: skip


def test_run_delivers_webhook_and_email(
    project: Callable[[list[dict[str, Any]]], Path], smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    """Both notifiers get the summary: counts by status, the new alarms, coverage, the report."""
    box, port = smtp
    with Receiver() as hook:
        cfg = project([{"webhook": hook.url}, _email(port)])
        res = _run(cfg, "--log-file", str(tmp_path / "run.jsonl"), "--metrics-file",
                   str(tmp_path / "m.prom"), env={"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": SMTP_PASSWORD})  # fmt: skip
    assert res.exit_code == 1, res.output  # the demo cluster's incidents alarm
    [body] = hook.bodies
    assert set(body) == {"text", "blocks"} and body["blocks"][0]["type"] == "header"
    text = body["text"]
    assert text.startswith("ACME (test): scan 1 complete (exit 1)")
    alarms = int(text.split("alarm ")[1].split(",")[0])
    assert f"new alarms ({alarms}):" in text  # the first scan: every alarm is new
    listed = [line for line in text.splitlines() if line.startswith("  [")]
    assert len(listed) == 10 and f"  ... and {alarms - 10} more" in text
    # Top ten by severity first: no lower severity is listed before a higher one.
    order = ["critical", "high", "medium", "low", "info"]
    ranks = [order.index(line[3:].split("]")[0]) for line in listed]
    assert ranks == sorted(ranks)
    assert "coverage: 100.0% of slices read" in text
    assert f"report: {tmp_path / 'reports'}" in text
    assert "findings: alarm " in text and ", ok " in text

    [mail] = box.messages
    assert mail["Subject"] == "driftscan: ACME (test) scan 1 complete"
    assert box.envelopes == [
        ("driftscan@example.test", ["platform@example.test", "audit@example.test"])
    ]
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode().splitlines()[:3] == text.splitlines()[:3]

    events = _events(tmp_path / "run.jsonl")
    sent = [e for e in events if e["event"] == "notify.sent"]
    assert [e["target"] for e in sent] == [f"webhook http://127.0.0.1:{hook.server.server_address[1]}",
                                            f"email via 127.0.0.1:{port}"]  # fmt: skip
    assert 'driftscan_notifications{result="sent"} 2' in (tmp_path / "m.prom").read_text()
    everything = json.dumps(body) + payload.decode() + (tmp_path / "run.jsonl").read_text()
    for secret in ("tok3n-secret", SMTP_PASSWORD, "hmac-sha256:"):
        assert secret not in everything


def test_a_failing_notifier_never_changes_the_exit_code(
    project: Callable[[list[dict[str, Any]]], Path], tmp_path: Path
) -> None:
    """A receiver answering 500 twice (the first try and the one retry) is logged and counted;
    the SMTP server that is not there too; the run's exit code is the scan's own."""
    with Receiver(codes=[500, 500]) as hook:
        cfg = project([{"webhook": hook.url, "timeout_s": 2},
                       {"email": {**_email(1)["email"], "smtp": "127.0.0.1:1"}, "timeout_s": 2}])  # fmt: skip
        res = _run(cfg, "--log-file", str(tmp_path / "run.jsonl"), "--metrics-file", str(tmp_path / "m.prom"),
                   env={"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": SMTP_PASSWORD})  # fmt: skip
    assert res.exit_code == 1, res.output
    assert len(hook.bodies) == 2  # one retry
    failed = [e for e in _events(tmp_path / "run.jsonl") if e["event"] == "notify.failed"]
    assert [(e["attempts"], e["error"].split(":")[0]) for e in failed] == [
        (2, "OSError"), (2, "ConnectionRefusedError")]  # fmt: skip
    assert "HTTP 500" in failed[0]["error"] and "tok3n-secret" not in json.dumps(failed)
    assert 'driftscan_notifications{result="failed"} 2' in (tmp_path / "m.prom").read_text()


def test_a_retry_delivers_after_one_failure(
    project: Callable[[list[dict[str, Any]]], Path], tmp_path: Path
) -> None:
    with Receiver(codes=[503]) as hook:
        cfg = project([{"webhook": hook.url}])
        res = _run(cfg, "--log-file", str(tmp_path / "run.jsonl"))
    assert res.exit_code == 1
    assert len(hook.bodies) == 2 and hook.bodies[0] == hook.bodies[1]
    [sent] = [e for e in _events(tmp_path / "run.jsonl") if e["event"] == "notify.sent"]
    assert sent["attempts"] == 2


def test_missing_smtp_credentials_fail_the_notifier_not_the_run(
    project: Callable[[list[dict[str, Any]]], Path], smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, port = smtp
    cfg = project([_email(port)])
    res = _run(cfg, "--log-file", str(tmp_path / "run.jsonl"), env={"SMTP_USER": SMTP_USER})
    assert res.exit_code == 1 and box.messages == []
    [failed] = [e for e in _events(tmp_path / "run.jsonl") if e["event"] == "notify.failed"]
    assert "SMTP_PASSWORD is not set" in failed["error"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"webhook": "file:///etc/passwd"}, "is an https:// (or http://) URL"),
        (
            {
                "webhook": "https://hooks.example/x",
                "email": {"to": ["a@b.c"], "from": "d@e.f", "smtp": "h:25"},
            },
            "exactly one",
        ),
        (
            {"email": {"to": ["a@b.c\r\nBcc: x@y.z"], "from": "d@e.f", "smtp": "h:25"}},
            "one email address",
        ),
        ({"email": {"to": ["a@b.c"], "from": "d@e.f", "smtp": "no-port"}}, "should match pattern"),
    ],
)
def test_bad_notify_entries_are_config_errors(
    project: Callable[[list[dict[str, Any]]], Path], entry: dict[str, Any], message: str
) -> None:
    cfg = project([entry])
    res = CliRunner().invoke(app, ["scans", "-c", str(cfg)])
    assert res.exit_code == 2, res.output
    assert "notify[0]" in res.output and message in res.output.replace("\n", " ")
