"""Credentials in a URL's userinfo are masked wherever error text, identities or logs carry one."""

from __future__ import annotations

import io
import json
import random
import string
import urllib.parse
from pathlib import Path

import pytest

from driftscan.redaction import redact_url_credentials, safe_detail, url_without_credentials
from driftscan.runlog import RunLog

SECRET = "wJalrSECRETKEY"
# Characters a password may hold in a URL's userinfo as people write them: RFC 3986's
# unreserved and sub-delims, `%` escapes, `:` and an unencoded `@` (urllib splits at the last).
_PASSWORD_CHARS = string.ascii_letters + string.digits + "-._~!$&()*+,;=%:@"
_HOST_CHARS = string.ascii_lowercase + string.digits + "-."


def _random_url(rng: random.Random, userinfo: str) -> str:
    scheme = rng.choice(["https", "http", "git+ssh", "s3", "postgresql", "HTTPS", "redis"])
    host = rng.choice(
        ["127.0.0.1", "[::1]", "[2001:db8::7]", "".join(rng.choices(_HOST_CHARS, k=12)) + ".io"]
    )
    port = rng.choice(["", ":1", ":6443", ":65535"])
    tail = rng.choice(["", "/", "/v1/x?y=1", "/sa@p.iam.gserviceaccount.com", "#f@g", "?a=b@c"])
    return f"{scheme}://{userinfo}@{host}{port}{tail}"


class TestMasked:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("https://admin:eyJ.TOKEN@127.0.0.1:1", "https://admin:[redacted]@127.0.0.1:1"),
            (
                f'Could not connect to the endpoint URL: "http://AKIAEXAMPLE:{SECRET}@127.0.0.1:1/"',
                'Could not connect to the endpoint URL: "http://AKIAEXAMPLE:[redacted]@127.0.0.1:1/"',
            ),
            (
                "API server https://u:p@w@k8s:6443: down",
                "API server https://u:[redacted]@k8s:6443: down",
            ),
            ("https://:TOKEN@h/x", "https://:[redacted]@h/x"),
            ("(redis://default:pw@[::1]:6379/0)", "(redis://default:[redacted]@[::1]:6379/0)"),
        ],
    )
    def test_password_masked_user_kept(self, text: str, expected: str) -> None:
        """The password of a `user:password` userinfo is masked; scheme, user, host and the
        rest of the text stay as they were."""
        assert redact_url_credentials(text) == expected

    @pytest.mark.parametrize("token", ["ghp_16C7e42F292c6912E7710c838347Ae178B4a", "admin"])
    def test_userinfo_without_a_colon_is_masked_whole(self, token: str) -> None:
        """A userinfo with no colon may itself be the token (`https://ghp_…@github.com`), and
        a user name cannot be told from a token by its look: it is masked whole."""
        out = redact_url_credentials(f"clone https://{token}@github.com/o/r.git failed")
        assert out == "clone https://[redacted]@github.com/o/r.git failed"

    def test_random_userinfo_never_survives(self) -> None:
        """Over random passwords (odd characters, `@` and `:` in them) in random URLs in
        random text, the password appears in neither the masked text nor a safe detail."""
        rng = random.Random(20260503)
        for _ in range(2000):
            password = "".join(rng.choices(_PASSWORD_CHARS, k=rng.randint(1, 40))) + "Zq9"
            user = "".join(
                rng.choices(string.ascii_letters + string.digits + "-._", k=rng.randint(0, 12))
            )
            url = _random_url(rng, f"{user}:{password}")
            text = (
                rng.choice(["", "GET failed: ", 'endpoint "', "x=", "\x00"])
                + url
                + rng.choice(["", " refused", '"', "\n", ", retrying"])
            )
            for out in (redact_url_credentials(text), safe_detail(text) or ""):
                assert password not in out, (text, out)
                assert f"{user}:[redacted]@" in out, (text, out)

    def test_masking_twice_changes_nothing(self) -> None:
        """Masked text masked again is the same: identities and details pass more than one sink."""
        once = redact_url_credentials(f"https://a:{SECRET}@h and https://{SECRET}@h")
        assert redact_url_credentials(once) == once
        assert SECRET not in once


class TestUnchanged:
    @pytest.mark.parametrize(
        "text",
        [
            "https://127.0.0.1:6443/api/v1/namespaces",
            "GET https://iam.googleapis.com/v1/projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com",
            "https://example.com/search?q=a@b.com#c@d",
            "http://[::1]:8080/",
            "mailto:admin@example.com, ops@example.com",
            "HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /version",
            "see https://docs.example.com or mail admin@example.com",
            "s3://bucket/prefix/key@v2",
            "",
        ],
    )
    def test_text_without_userinfo(self, text: str) -> None:
        """Beside a masked URL, a URL with no userinfo, an `@` in a path, query or fragment,
        and an email address are left as they are."""
        masked = redact_url_credentials(f"https://u:{SECRET}@h {text}")
        assert masked == f"https://u:[redacted]@h {text}"

    def test_random_urls_without_userinfo(self) -> None:
        """Random URLs with no userinfo (an `@` only after the authority) come back unchanged
        from the text they share with a masked URL."""
        rng = random.Random(7)
        for _ in range(2000):
            url = _random_url(rng, "x").replace("x@", "", 1)
            masked = redact_url_credentials(f"{url} http://{SECRET}@h/ {url}")
            assert masked == f"{url} http://[redacted]@h/ {url}"


def test_a_stored_endpoint_is_still_a_url() -> None:
    """A stored endpoint loses its userinfo and stays a URL a client can parse, with the same
    scheme, host, port and path; one without userinfo is unchanged."""
    for url in (
        f"http://AKIAEXAMPLE:{SECRET}@127.0.0.1:4566",
        f"https://{SECRET}@s3.eu-west-1.amazonaws.com/",
        f"https://u:p@{SECRET}@[::1]:9000/b",
    ):
        out = url_without_credentials(url)
        got, want = urllib.parse.urlsplit(out), urllib.parse.urlsplit(url)
        assert SECRET not in out and got.username is None and got.password is None, out
        assert (got.scheme, got.hostname, got.port, got.path) == (
            want.scheme,
            want.hostname,
            want.port,
            want.path,
        )
    assert url_without_credentials("http://127.0.0.1:4566/x@y") == "http://127.0.0.1:4566/x@y"


def test_run_log_lines_mask_url_credentials(tmp_path: Path) -> None:
    """An event's error text that quotes an endpoint with credentials (a failed run, an
    anchor) is masked in the JSON-lines log and in the line echoed to stderr."""
    echo = io.StringIO()
    log = RunLog(tmp_path / "run.jsonl", echo=echo)
    error = (
        f'EndpointConnectionError: Could not connect to "http://AKIAEXAMPLE:{SECRET}@127.0.0.1:1/"'
    )
    log.event("run.failed", level="error", error=error)
    log.close()
    line = (tmp_path / "run.jsonl").read_text()
    assert SECRET not in line and SECRET not in echo.getvalue()
    assert "AKIAEXAMPLE:[redacted]@127.0.0.1:1" in json.loads(line)["error"]
