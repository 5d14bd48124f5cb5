"""The IAM, certificate and secret rules: each passes on a compliant resource and fails on a broken one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from driftscan.store import Store
from tests.compliance.conftest import T0, aws, by_resource, check, config, statuses, write_scan


def short(got: dict[str, Any]) -> dict[str, Any]:
    return {k.rsplit(":", 1)[-1]: v for k, v in got.items()}


def ago(days: int) -> str:
    """An ISO timestamp in UTC `days` before the scan (T0)."""
    return (T0 - timedelta(days=days)).isoformat()


def user(name: str, **attrs: Any) -> Any:
    base = {"console_access": False, "mfa_enabled": False, "mfa_active": None, "access_keys": []}
    return aws("AWS::IAM::User", name, region="global", attrs={**base, **attrs})


def key(key_id: str, created: int, used: int | None, status: str = "Active") -> dict[str, Any]:
    return {
        "access_key_id": key_id,
        "status": status,
        "create_date": ago(created),
        "last_used_date": None if used is None else ago(used),
    }


class TestConsoleMfa:
    def test_console_users_need_mfa(self, store: Store) -> None:
        """A console user without MFA alarms, with MFA passes; no console is skipped; unknown is not assessed."""
        write_scan(store, [
            user("alice", console_access=True, mfa_enabled=False),
            user("bob", console_access=True, mfa_enabled=True),
            user("ci", console_access=False),
            user("report-only", console_access=True, mfa_enabled=None, mfa_active=True),
            user("unknown", console_access=None),
        ])  # fmt: skip
        result = check(store)
        assert short(statuses(result, "iam_console_user_mfa")) == {
            "alice": "alarm", "bob": "ok", "ci": "skip", "report-only": "ok",
            "unknown": "not_assessed",
        }  # fmt: skip
        alice = short(by_resource(result, "iam_console_user_mfa"))["alice"]
        assert alice.reason == "alice signs in to the console without MFA"

    def test_mapped_to_pci_8_4_2(self, store: Store) -> None:
        """The MFA finding evidences PCI DSS 8.4.2."""
        write_scan(store, [user("alice", console_access=True)])
        [f] = by_resource(check(store), "iam_console_user_mfa").values()
        assert "8.4.2" in f.frameworks.get("pci-dss-4.0.1", [])


class TestAccessKeys:
    def test_old_and_unused_keys_alarm(self, store: Store) -> None:
        """A key older than 90 days, or unused (or never used) for over 45, alarms; a fresh used key passes."""
        write_scan(store, [
            user("fresh", access_keys=[key("AKIAFRESH", created=10, used=1)]),
            user("old", access_keys=[key("AKIAOLD", created=120, used=1)]),
            user("idle", access_keys=[key("AKIAIDLE", created=60, used=50)]),
            user("never", access_keys=[key("AKIANEVER", created=46, used=None)]),
            user("new-unused", access_keys=[key("AKIANEW", created=3, used=None)]),
            user("inactive", access_keys=[key("AKIAOFF", created=400, used=None, status="Inactive")]),
            user("nokeys"),
        ])  # fmt: skip
        result = check(store)
        assert short(statuses(result, "iam_access_key_rotation")) == {
            "fresh": "ok", "old": "alarm", "idle": "alarm", "never": "alarm",
            "new-unused": "ok", "inactive": "skip", "nokeys": "skip",
        }  # fmt: skip
        got = short(by_resource(result, "iam_access_key_rotation"))
        assert got["old"].reason == "AKIAOLD is 120 days old"
        assert got["idle"].reason == "AKIAIDLE was not used for 50 days"
        assert got["never"].reason == "AKIANEVER was never used in 46 days"

    def test_every_failing_key_is_named(self, store: Store) -> None:
        """One finding per user names each failing key, both ways a key can fail."""
        write_scan(store, [user("both", access_keys=[
            key("AKIAA", created=200, used=100), key("AKIAB", created=5, used=2),
        ])])  # fmt: skip
        [f] = by_resource(check(store), "iam_access_key_rotation").values()
        assert f.status == "alarm"
        assert f.reason == "AKIAA is 200 days old; AKIAA was not used for 100 days"

    def test_thresholds_are_params(self, store: Store) -> None:
        """access_key_max_age_days and access_key_max_unused_days override the defaults."""
        write_scan(store, [user("u", access_keys=[key("AKIAU", created=40, used=20)])])
        strict = config(params={"access_key_max_age_days": 30, "access_key_max_unused_days": 10})
        assert set(statuses(check(store), "iam_access_key_rotation").values()) == {"ok"}
        f = next(iter(by_resource(check(store, strict), "iam_access_key_rotation").values()))
        assert f.status == "alarm"
        assert f.reason == "AKIAU is 40 days old; AKIAU was not used for 20 days"


def cert(name: str, days_left: int | None, status: str = "ISSUED", in_use: int = 0) -> Any:
    not_after = None if days_left is None else (T0 + timedelta(days=days_left)).isoformat()
    return aws("AWS::CertificateManager::Certificate", name, attrs={
        "status": status, "not_after": not_after, "in_use_by": [f"lb-{i}" for i in range(in_use)],
    })  # fmt: skip


class TestCertificates:
    def test_expiring_and_expired_alarm(self, store: Store) -> None:
        """Within 30 days alarms, an expired certificate alarms, a valid one passes, an unissued one is skipped."""
        write_scan(store, [
            cert("valid", 200), cert("soon", 10, in_use=1), cert("expired", -1, "EXPIRED", 1),
            cert("pending", None, "PENDING_VALIDATION"),
        ])  # fmt: skip
        result = check(store)
        assert short(statuses(result, "acm_certificate_expiry")) == {
            "valid": "ok", "soon": "alarm", "expired": "alarm", "pending": "skip",
        }  # fmt: skip
        got = short(by_resource(result, "acm_certificate_expiry"))
        assert got["expired"].reason == "expired expired on 2026-02-28, in use by 1 resource(s)"
        assert got["soon"].reason == "soon expires in 10 days (2026-03-11), in use by 1 resource(s)"
        assert got["valid"].reason.endswith(", not in use")

    def test_expired_earlier_the_same_day_reads_as_expired(self, store: Store) -> None:
        """A certificate that expired an hour before the scan started has 0 days left by date:
        it is expired, not "expires in 0 days"; one that expires an hour after is not."""
        later = aws(
            "AWS::CertificateManager::Certificate",
            "later",
            attrs={
                "status": "ISSUED",
                "not_after": (T0 + timedelta(hours=1)).isoformat(),
                "in_use_by": [],
            },
        )
        gone = aws("AWS::CertificateManager::Certificate", "gone", attrs={
            "status": "EXPIRED", "not_after": (T0 - timedelta(hours=1)).isoformat(), "in_use_by": ["l"]})  # fmt: skip
        write_scan(store, [later, gone])
        got = short(by_resource(check(store), "acm_certificate_expiry"))
        assert got["gone"].status == "alarm"
        assert got["gone"].reason == f"gone expired on {T0.date()}, in use by 1 resource(s)"
        assert got["later"].reason.startswith("later expires in ")

    def test_warning_period_is_a_param(self, store: Store) -> None:
        """acm_cert_min_days moves the warning line."""
        write_scan(store, [cert("c", 40)])
        assert set(statuses(check(store), "acm_certificate_expiry").values()) == {"ok"}
        wide = config(params={"acm_cert_min_days": 60})
        assert set(statuses(check(store, wide), "acm_certificate_expiry").values()) == {"alarm"}


class TestSecrets:
    def test_rotation(self, store: Store) -> None:
        """A secret without automatic rotation alarms; a rotating one passes; unknown is not assessed."""
        write_scan(store, [
            aws("AWS::SecretsManager::Secret", "rotating", attrs={
                "rotation_enabled": True, "rotation_rules": {"automatically_after_days": 30},
                "last_rotated_date": ago(3),
            }),
            aws("AWS::SecretsManager::Secret", "static", attrs={
                "rotation_enabled": False, "last_rotated_date": None,
            }),
            aws("AWS::SecretsManager::Secret", "unknown", attrs={}),
        ])  # fmt: skip
        result = check(store)
        assert short(statuses(result, "secrets_rotation_enabled")) == {
            "rotating": "ok", "static": "alarm", "unknown": "not_assessed",
        }  # fmt: skip
        got = short(by_resource(result, "secrets_rotation_enabled"))
        assert got["rotating"].reason == "rotating rotates every 30 days, last on 2026-02-26"
        assert got["static"].reason == "static has no automatic rotation (never rotated)"
