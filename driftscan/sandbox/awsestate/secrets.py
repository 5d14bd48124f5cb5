"""The seeded estate's secrets types (see driftscan/providers/aws/collect/services/secrets.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from driftscan.sandbox.awsestate.base import Estate, client

# The second region's certificate expires within the expiry rule's default 30 days.
VALID_DAYS = (365, 10)


def self_signed(domain: str, days: int, *, ec_key: bool = False) -> tuple[bytes, bytes]:
    """A self-signed certificate for `domain` valid `days` from now, made at run time: (PEM
    certificate, PEM private key)."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if ec_key
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def _anyone_may(action: str, resource: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource}
            ],
        }
    )


def seed(endpoint_url: str, est: Estate) -> None:
    """Per region: a secret (rotating in region 0, not elsewhere; its value is the canary), an
    ACM certificate (valid a year in region 0, expiring in 10 days elsewhere), a KMS alias,
    an SNS topic and an SQS queue (KMS-encrypted and private in region 0, unencrypted and
    public elsewhere)."""
    for region in est.regions:
        ctx = est.context[region]
        good = ctx.index == 0
        n = ctx.index

        sm = client("secretsmanager", endpoint_url, region)
        secret = sm.create_secret(
            Name=f"payments/db-{n}",
            Description="payments database password",
            SecretString=est.canary,  # never read: the collector does not call GetSecretValue
            KmsKeyId=ctx.kms_key_id,
            Tags=[{"Key": "pci", "Value": "true"}],
        )
        if good:
            sm.rotate_secret(
                SecretId=secret["ARN"],
                RotationLambdaARN=f"arn:aws:lambda:{region}:{est.account}:function:{ctx.function_name}",
                RotationRules={"AutomaticallyAfterDays": 30},
                RotateImmediately=False,
            )
        est.add("AWS::SecretsManager::Secret", secret["ARN"])

        acm = client("acm", endpoint_url, region)
        pem, key = self_signed(f"pay-{n}.example.com", VALID_DAYS[min(n, 1)], ec_key=not good)
        cert = acm.import_certificate(
            Certificate=pem, PrivateKey=key, Tags=[{"Key": "pci", "Value": "true"}]
        )
        est.add("AWS::CertificateManager::Certificate", cert["CertificateArn"])

        kms = client("kms", endpoint_url, region)
        kms.create_alias(AliasName=f"alias/payments-{n}", TargetKeyId=ctx.kms_key_id)
        est.add("AWS::KMS::Alias", f"arn:aws:kms:{region}:{est.account}:alias/payments-{n}")

        sns = client("sns", endpoint_url, region)
        topic_attrs = {"KmsMasterKeyId": ctx.kms_key_id} if good else {}
        topic = sns.create_topic(
            Name=f"payments-events-{n}",
            Attributes=topic_attrs,
            Tags=[{"Key": "pci", "Value": "true"}],
        )["TopicArn"]
        if not good:
            sns.set_topic_attributes(
                TopicArn=topic,
                AttributeName="Policy",
                AttributeValue=_anyone_may("sns:Publish", topic),
            )
        est.add("AWS::SNS::Topic", topic)

        sqs = client("sqs", endpoint_url, region)
        name = f"payments-jobs-{n}"
        queue_arn = f"arn:aws:sqs:{region}:{est.account}:{name}"
        queue_attrs = (
            {"KmsMasterKeyId": ctx.kms_key_id}
            if good
            else {"SqsManagedSseEnabled": "false", "Policy": _anyone_may("sqs:*", queue_arn)}
        )
        sqs.create_queue(QueueName=name, Attributes=queue_attrs, tags={"pci": "true"})
        est.add("AWS::SQS::Queue", queue_arn)
