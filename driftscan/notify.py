"""Tell the team after a run: a Slack-compatible webhook and an email summary (design §6.5)."""

from __future__ import annotations

import json
import os
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from driftscan.config import Config, EmailNotify, Notifier
from driftscan.metrics import coverage_ratio
from driftscan.model import Finding

if TYPE_CHECKING:
    from driftscan.pipeline import RunOutcome
    from driftscan.runlog import RunLog

TOP = 10
_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
# Nothing that looks like a fingerprint, a digest or a token leaves in a message: resource keys
# and reasons are scrubbed even though the summary is built from keys and rule ids only.
_SCRUB = re.compile(
    r"hmac-sha256:\S+|sha256:[0-9a-f]{16,}|\b[0-9a-f]{32,}\b|eyJ[\w-]+\.[\w-]+\.[\w-]*"
    r"|[A-Za-z0-9+=_\-]{40,}"
)


def _scrub(text: str) -> str:
    return _SCRUB.sub("[redacted]", text)


@dataclass(frozen=True)
class Summary:
    """What a message says about one run: counts, the newest alarms, coverage, the report."""

    organisation: str
    scan: int
    status: str
    exit_code: int
    counts: dict[str, int]
    new: list[Finding]
    regressed: list[Finding]
    coverage: float
    not_assessed: list[str]
    report: str | None
    drift: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Config, out: RunOutcome) -> Summary:
        findings = out.check.findings if out.check else []
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.status] = counts.get(f.status, 0) + 1

        def top(lifecycle: str) -> list[Finding]:
            hits = [f for f in findings if f.status == "alarm" and f.lifecycle == lifecycle]
            hits.sort(key=lambda f: (_SEVERITY.get(f.severity, 9), f.rule, f.resource))
            return hits

        drift: dict[str, int] = {}
        for d in out.drift.drifts if out.drift else []:
            drift[d.kind] = drift.get(d.kind, 0) + 1
        gaps = [f"{r.source}/{s.name}: {s.reason}" for r in out.scan.runs
                for s in r.slices if s.status == "failed"]  # fmt: skip
        rec = out.scan.record
        return cls(
            organisation=config.organisation or "driftscan",
            scan=rec.scan_id,
            status=rec.status,
            exit_code=int(out.exit_code),
            counts=dict(sorted(counts.items())),
            new=top("new"),
            regressed=top("regressed"),
            coverage=coverage_ratio(out.scan),
            not_assessed=sorted(gaps),
            report=str(out.report.folder) if out.report else None,
            drift=dict(sorted(drift.items())),
        )

    def headline(self) -> str:
        return f"{self.organisation}: scan {self.scan} {self.status} (exit {self.exit_code})"

    def lines(self) -> list[str]:
        """The summary as plain lines (the email body and the webhook's `text`)."""
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items()) or "no findings"
        out = [
            self.headline(),
            f"findings: {counts}",
            f"coverage: {self.coverage:.1%} of slices read",
        ]
        if self.drift:
            out.append("drift: " + ", ".join(f"{k} {v}" for k, v in self.drift.items()))
        for title, hits in (("new alarms", self.new), ("regressed alarms", self.regressed)):
            if hits:
                out.append(f"{title} ({len(hits)}):")
                out += [f"  [{f.severity}] {f.rule} {f.resource}" for f in hits[:TOP]]
                if len(hits) > TOP:
                    out.append(f"  ... and {len(hits) - TOP} more")
        if self.not_assessed:
            out.append(f"not assessed ({len(self.not_assessed)}):")
            out += [f"  {g}" for g in self.not_assessed[:TOP]]
            if len(self.not_assessed) > TOP:
                out.append(f"  ... and {len(self.not_assessed) - TOP} more")
        if self.report:
            out.append(f"report: {self.report}")
        return [_scrub(line) for line in out]

    def slack(self) -> dict[str, Any]:
        """Slack-compatible webhook JSON: a `text` fallback and blocks."""
        lines = self.lines()
        body = "\n".join(lines[1:])
        return {
            "text": "\n".join(lines),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": lines[0][:150]}},
                # Slack caps a section's text at 3,000 characters.
                {"type": "section", "text": {"type": "mrkdwn", "text": f"```{body[:2900]}```"}},
            ],
        }


@dataclass(frozen=True)
class Delivery:
    """The outcome of one notifier: where (never the full URL: it may hold a token), and why not."""

    target: str
    ok: bool
    attempts: int
    error: str | None = None


def _where(n: Notifier) -> str:
    if n.webhook is not None:
        parts = urlsplit(n.webhook)
        return f"webhook {parts.scheme}://{parts.hostname}" + (
            f":{parts.port}" if parts.port else ""
        )
    assert n.email is not None
    return f"email via {n.email.smtp}"


def _post(url: str, payload: dict[str, Any], timeout: float) -> None:
    req = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "driftscan"},
        method="POST",
    )
    try:
        # http(s) only: the config model checks the scheme, and urllib redirects only to http(s).
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read(1024)
    except urllib.error.HTTPError as exc:
        # The status only: a receiver's body or the URL (its path is the token) stays out.
        raise OSError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from None


def _send_mail(cfg: EmailNotify, config: Config, summary: Summary, timeout: float) -> None:
    host, _, port = cfg.smtp.rpartition(":")
    msg = EmailMessage()
    subject = cfg.subject
    for name, value in (("organisation", summary.organisation), ("scan", str(summary.scan)),
                        ("status", summary.status)):  # fmt: skip
        subject = subject.replace("{" + name + "}", value)
    msg["Subject"] = _scrub(subject)
    msg["From"] = cfg.from_
    msg["To"] = ", ".join(cfg.to)
    msg.set_content("\n".join(summary.lines()) + "\n")
    user = os.environ.get(cfg.username_env) if cfg.username_env else None
    password = os.environ.get(cfg.password_env) if cfg.password_env else None
    if (cfg.username_env or cfg.password_env) and not (user and password):
        missing = [
            e for e, v in ((cfg.username_env, user), (cfg.password_env, password)) if e and not v
        ]
        raise OSError(f"environment variable {', '.join(missing)} is not set")
    with smtplib.SMTP(host.strip("[]"), int(port), timeout=timeout) as smtp:
        if cfg.starttls:
            ctx = ssl.create_default_context(
                cafile=str(config.resolve(cfg.ca_bundle)) if cfg.ca_bundle else None
            )
            smtp.starttls(context=ctx)
        if user and password:
            smtp.login(user, password)
        smtp.send_message(msg)


def _attempt(send: Callable[[], None], retries: int, pause_s: float) -> tuple[int, str | None]:
    error: str | None = None
    for attempt in range(1, retries + 2):
        try:
            send()
            return attempt, None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            error = _scrub(f"{type(exc).__name__}: {exc}")
            if attempt <= retries:
                time.sleep(pause_s)
    return retries + 1, error


def deliver(
    config: Config, out: RunOutcome, log: RunLog | None = None, *, retries: int = 1,
    pause_s: float = 1.0,
) -> list[Delivery]:  # fmt: skip
    """Send the run's summary to every configured notifier, each with one retry; failures are
    logged and returned, never raised (they never change the run's exit code)."""
    if not config.notify:
        return []
    summary = Summary.of(config, out)
    results: list[Delivery] = []
    for n in config.notify:
        where = _where(n)
        if n.webhook is not None:
            send: Callable[[], None] = partial(_post, n.webhook, summary.slack(), n.timeout_s)
        else:
            assert n.email is not None
            send = partial(_send_mail, n.email, config, summary, n.timeout_s)
        attempts, error = _attempt(send, retries, pause_s)
        results.append(Delivery(where, error is None, attempts, error))
        if log is not None:
            if error is None:
                log.event("notify.sent", target=where, attempts=attempts)
            else:
                log.event(
                    "notify.failed", level="error", target=where, attempts=attempts, error=error
                )
    return results
