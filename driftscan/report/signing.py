"""Manifest signatures: an Ed25519 key file or an AWS KMS asymmetric key, key generation, checks.

The `signature` block of a manifest:

    ed25519   {"algorithm": "ed25519", "key_id", "public_key" (raw, base64),
               "public_key_sha256", "value"}
    AWS KMS   {"algorithm": "ecdsa-p256-sha256" | "rsa-pkcs1v15-sha256" | "rsa-pss-sha256",
               "key_id" (the key ARN), "public_key_pem", "public_key_sha256" (of its DER), "value"}

An Ed25519 key signs the manifest's canonical bytes. A KMS key signs, with MessageType RAW
(KMS hashes with SHA-256), the short text `driftscan-manifest sha256:<hex digest of those
bytes>`: KMS accepts at most 4 KB, a manifest is larger. The public key is read with
GetPublicKey when signing and embedded, so verification needs no AWS access; `--key` pins
the key an auditor trusts. boto3 is imported only when a KMS key is configured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from driftscan.errors import ReportError

if TYPE_CHECKING:
    from driftscan.config import Config

# KMS signing algorithm → the name in the manifest.
KMS_ALGORITHMS = {
    "ECDSA_SHA_256": "ecdsa-p256-sha256",
    "RSASSA_PKCS1_V1_5_SHA_256": "rsa-pkcs1v15-sha256",
    "RSASSA_PSS_SHA_256": "rsa-pss-sha256",
}
# A key to check signatures against: a public key, or its raw (Ed25519) or DER bytes.
Trusted = PublicKeyTypes | bytes


class Signer(Protocol):
    """Something that signs a manifest's bytes and returns its `signature` block."""

    key_id: str

    @property
    def public(self) -> Trusted:
        """The public key its signatures verify with."""
        ...

    def sign_block(self, message: bytes) -> dict[str, Any]: ...


def _spki(pub: PublicKeyTypes) -> bytes:
    return pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kms_message(message: bytes) -> bytes:
    """What a KMS key signs for `message` (see the module docstring)."""
    return f"driftscan-manifest sha256:{hashlib.sha256(message).hexdigest()}".encode()


class Ed25519Signer:
    """Signs with an Ed25519 private key held by this process."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = hashlib.sha256(self.public).hexdigest()

    def sign_block(self, message: bytes) -> dict[str, Any]:
        return {
            "algorithm": "ed25519",
            "key_id": self.key_id,
            "public_key": _b64(self.public),
            "public_key_sha256": self.key_id,
            "value": _b64(self.key.sign(message)),
        }


class KmsSigner:
    """Signs with an AWS KMS asymmetric key (kms:Sign, kms:GetPublicKey); the private key never
    leaves KMS. ECC_NIST_P256 signs with ECDSA_SHA_256; RSA keys with RSASSA_PKCS1_V1_5_SHA_256
    unless `algorithm` asks for RSASSA_PSS_SHA_256."""

    def __init__(
        self,
        key_id: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        algorithm: str | None = None,
    ) -> None:
        import boto3

        try:
            session = boto3.Session(profile_name=profile) if profile else boto3.Session()
            self.client = session.client("kms", region_name=region, endpoint_url=endpoint_url)
            info = self.client.get_public_key(KeyId=key_id)
        except Exception as exc:  # botocore's errors share no useful base
            raise ReportError(f"KMS key {key_id}: cannot read its public key: {exc}") from None
        self.key_id = str(info.get("KeyId") or key_id)
        spec = str(info.get("KeySpec") or info.get("CustomerMasterKeySpec") or "")
        offered = list(info.get("SigningAlgorithms") or [])
        if algorithm is None:
            algorithm = "ECDSA_SHA_256" if spec == "ECC_NIST_P256" else "RSASSA_PKCS1_V1_5_SHA_256"
        if algorithm not in KMS_ALGORITHMS or (offered and algorithm not in offered):
            raise ReportError(
                f"KMS key {self.key_id} ({spec}): signing with {algorithm} is not supported; use "
                "an ECC_NIST_P256 or RSA key with one of " + ", ".join(KMS_ALGORITHMS)
            )
        self.algorithm = algorithm
        self.public = serialization.load_der_public_key(bytes(info["PublicKey"]))
        self.pem = self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign_block(self, message: bytes) -> dict[str, Any]:
        try:
            resp = self.client.sign(
                KeyId=self.key_id,
                Message=kms_message(message),
                MessageType="RAW",
                SigningAlgorithm=self.algorithm,
            )
        except Exception as exc:  # botocore's errors share no useful base
            raise ReportError(f"KMS key {self.key_id}: signing failed: {exc}") from None
        self.key_id = str(resp.get("KeyId") or self.key_id)  # Sign answers with the key's ARN
        block = {
            "algorithm": KMS_ALGORITHMS[self.algorithm],
            "key_id": self.key_id,
            "public_key_pem": self.pem,
            "public_key_sha256": hashlib.sha256(_spki(self.public)).hexdigest(),
            "value": _b64(bytes(resp["Signature"])),
        }
        # A key whose public half does not match what KMS signs with must not seal anything.
        if check_block(block, message, None) is not None:
            raise ReportError(f"KMS key {self.key_id}: its signature does not verify")
        return block


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key from a PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ReportError(f"{path}: cannot load the signing key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReportError(f"{path}: the signing key must be an Ed25519 private key")
    return key


def signer_for(config: Config) -> Signer | None:
    """The signer reports.signing_key or reports.signing_kms_key configures, or None."""
    r = config.reports
    if r.signing_kms_key:
        return KmsSigner(
            r.signing_kms_key,
            region=r.kms_region,
            endpoint_url=r.kms_endpoint_url,
            profile=r.kms_profile,
            algorithm=r.kms_algorithm,
        )
    if r.signing_key:
        return Ed25519Signer(load_signing_key(config.resolve(r.signing_key)))
    return None


def load_trusted_key(path: str | Path) -> PublicKeyTypes:
    """The public key in `path`: PEM or DER public key, PEM private key (its public half), or
    a raw Ed25519 public key (32 bytes, or their base64)."""
    data = Path(path).read_bytes()
    for load in (serialization.load_pem_public_key, serialization.load_der_public_key):
        try:
            return load(data)
        except (ValueError, TypeError):
            pass
    try:
        return serialization.load_pem_private_key(data, password=None).public_key()
    except (ValueError, TypeError):
        pass
    raw = data
    if len(data) != 32:
        try:
            raw = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) == 32:
        return Ed25519PublicKey.from_public_bytes(raw)
    raise ReportError(f"{path}: not a public key (PEM, DER or raw Ed25519)")


def key_id_of(block: dict[str, Any]) -> str:
    """The key id a signature block names (older Ed25519 blocks: the public key's sha256)."""
    return str(block.get("key_id") or block.get("public_key_sha256") or "")


def _same_key(pub: PublicKeyTypes, trusted: Trusted) -> bool:
    if not isinstance(trusted, bytes):
        return _spki(pub) == _spki(trusted)
    if isinstance(pub, Ed25519PublicKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if raw == trusted:
            return True
    return _spki(pub) == trusted


def check_block(block: dict[str, Any], message: bytes, trusted: Trusted | None) -> str | None:
    """None when `block` is a valid signature over `message` (by `trusted`, when given);
    otherwise what is wrong."""
    try:
        value = base64.b64decode(block["value"], validate=True)
        alg = block.get("algorithm")
        pub: PublicKeyTypes
        if alg == "ed25519":
            pub = Ed25519PublicKey.from_public_bytes(
                base64.b64decode(block["public_key"], validate=True)
            )
            pub.verify(value, message)
        elif alg in KMS_ALGORITHMS.values():
            pub = serialization.load_pem_public_key(str(block["public_key_pem"]).encode())
            text = kms_message(message)
            if alg == "ecdsa-p256-sha256" and isinstance(pub, ec.EllipticCurvePublicKey):
                pub.verify(value, text, ec.ECDSA(hashes.SHA256()))
            elif alg == "rsa-pkcs1v15-sha256" and isinstance(pub, rsa.RSAPublicKey):
                pub.verify(value, text, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "rsa-pss-sha256" and isinstance(pub, rsa.RSAPublicKey):
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
                pub.verify(value, text, pss, hashes.SHA256())
            else:
                raise ValueError("key type does not match the algorithm")
        else:
            raise ValueError(f"unsupported algorithm {alg!r}")
    except (InvalidSignature, ValueError, KeyError, TypeError, binascii.Error):
        return "signature does not match (manifest altered or signed by another key)"
    if trusted is not None and not _same_key(pub, trusted):
        return "signed by a key other than the trusted one"
    return None


def public_key_path(private: Path) -> Path:
    """Where keygen puts the public half: signing.pem → signing.pub.pem."""
    stem = private.name[: -len(".pem")] if private.name.endswith(".pem") else private.name
    return private.with_name(stem + ".pub.pem")


def keygen(out: Path) -> tuple[Path, Path, str]:
    """Write a new Ed25519 key pair: the private key at `out` (PEM, mode 0600) and its public
    key beside it. Refuses (FileExistsError) to overwrite either. Returns both paths and the
    key id that signed manifests will carry."""
    pub_path = public_key_path(out)
    for p in (out, pub_path):
        if p.exists():
            raise FileExistsError(f"{p}: already exists; not overwriting a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(out, private_pem, 0o600)
    try:
        _write_new(pub_path, public_pem, 0o644)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out, pub_path, Ed25519Signer(key).key_id


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never replace a file that appeared meanwhile; the mode is set before any byte.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
