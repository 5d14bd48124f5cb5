"""A local AWS for demos and tests: an in-process moto server, a seeded estate, a fault-injecting proxy."""

from __future__ import annotations

import http.client
import io
import json
import re
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from driftscan.sandbox.awsestate import SEEDERS, cis

# ACCOUNT and CREDENTIALS are re-exported: tests and the demo take them from here.
from driftscan.sandbox.awsestate.base import ACCOUNT as ACCOUNT
from driftscan.sandbox.awsestate.base import CREDENTIALS as CREDENTIALS
from driftscan.sandbox.awsestate.base import Estate, Region
from driftscan.sandbox.awsestate.base import client as _client
from driftscan.sandbox.https import serve_in_thread

REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
CANARY = "CANARY-7f3a9c-do-not-store"
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""Environment for a driftscan process scanning the sandbox (its collector uses the default chain)."""


# --- moto server ---------------------------------------------------------------------------


class MotoServer:
    """A moto server in its own process on 127.0.0.1 (a free port unless one is given).

    Its own process, because moto keeps its state in module globals: two in-process servers
    would share one estate and seed the same account twice.
    """

    def __init__(self, port: int = 0) -> None:
        self.port = port or _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> MotoServer:
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "driftscan.sandbox.motomain",
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/moto-api/")
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"moto server did not answer on port {self.port} within {timeout_s:.0f} s"
        )

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (benchmarks read its CPU time)."""
        return self._proc.pid if self._proc is not None else None

    def stop(self) -> None:
        if self._proc is not None:
            # SIGKILL, not SIGTERM: moto's handler exits through the interpreter's teardown of
            # its whole in-memory estate, 2 s for the sandbox's; it holds nothing to flush.
            self._proc.kill()
            self._proc.wait()
            self._proc = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto(port: int = 0) -> MotoServer:
    """Start a moto server and return it; `.endpoint_url` is where to point boto3."""
    return MotoServer(port).start()


# --- the seeded estate ---------------------------------------------------------------------


def _lambda_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return 'ok'\n")
    return buf.getvalue()


def _seed_region(endpoint_url: str, est: Estate, n: int, region: str, role: dict[str, Any]) -> None:
    """The core estate of one region (region 0 the good configuration), recorded in `est.context`."""
    canary = est.canary
    arn = f"arn:aws:{{}}:{{}}:{ACCOUNT}:{{}}"
    ec2 = _client("ec2", endpoint_url, region)
    vpc = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": f"main-{region}"}]}
        ],
    )["Vpc"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc["VpcId"], CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{az}"
        )["Subnet"]
        for i, az in enumerate("ab")
    ]
    sg = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc["VpcId"])[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
        ],
    )
    # moto ships ~1,300 AMIs; a name filter keeps the answer (and the seeding) small.
    amzn2 = [{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}]
    images = ec2.describe_images(Owners=["amazon"], Filters=amzn2)["Images"]
    image = (images or ec2.describe_images(Owners=["amazon"])["Images"])[0]["ImageId"]
    inst = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=subnets[0]["SubnetId"],
        SecurityGroupIds=[sg],
        UserData=f"#!/bin/sh\nexport DB_PASSWORD='{canary}'\n",
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "Name", "Value": f"web-{region}"},
                    {"Key": "pci", "Value": "true"},
                ],
            }
        ],
    )["Instances"][0]
    for encrypted in (True, False):
        vol = ec2.create_volume(
            AvailabilityZone=f"{region}a",
            Size=8,
            Encrypted=encrypted,
            TagSpecifications=[
                {
                    "ResourceType": "volume",
                    "Tags": [{"Key": "Name", "Value": f"data-{encrypted}"}],
                }
            ],
        )
        est.add("AWS::EC2::Volume", arn.format("ec2", region, f"volume/{vol['VolumeId']}"))
    est.add("AWS::EC2::Instance", arn.format("ec2", region, f"instance/{inst['InstanceId']}"))
    est.add("AWS::EC2::SecurityGroup", arn.format("ec2", region, f"security-group/{sg}"))
    est.add("AWS::EC2::VPC", arn.format("ec2", region, f"vpc/{vpc['VpcId']}"))
    for s in subnets:
        est.add("AWS::EC2::Subnet", arn.format("ec2", region, f"subnet/{s['SubnetId']}"))

    rds = _client("rds", endpoint_url, region)
    db = rds.create_db_instance(
        DBInstanceIdentifier=f"payments-db-{n}",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        EngineVersion="15.4",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="sandbox-only-password",
        StorageEncrypted=n == 0,
        PubliclyAccessible=n != 0,
        MultiAZ=False,
        Tags=[{"Key": "pci", "Value": "true"}],
    )["DBInstance"]
    est.add("AWS::RDS::DBInstance", db["DBInstanceArn"])

    elb = _client("elbv2", endpoint_url, region)
    lb = elb.create_load_balancer(
        Name=f"web-lb-{n}",
        Subnets=[s["SubnetId"] for s in subnets],
        SecurityGroups=[sg],
        Scheme="internet-facing",
        Tags=[{"Key": "tier", "Value": "web"}],
    )["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=f"web-tg-{n}", Protocol="HTTP", Port=80, VpcId=vpc["VpcId"], TargetType="instance"
    )["TargetGroups"][0]
    elb.register_targets(
        TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": inst["InstanceId"], "Port": 80}]
    )
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    est.add("AWS::ElasticLoadBalancingV2::LoadBalancer", lb["LoadBalancerArn"])
    est.add("AWS::ElasticLoadBalancingV2::TargetGroup", tg["TargetGroupArn"])

    fn = _client("lambda", endpoint_url, region).create_function(
        FunctionName=f"payments-{n}",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _lambda_zip()},
        Environment={"Variables": {"API_TOKEN": canary, "LOG_LEVEL": "info"}},
        Tags={"owner": "payments"},
    )
    est.add("AWS::Lambda::Function", fn["FunctionArn"])

    kms = _client("kms", endpoint_url, region)
    key = kms.create_key(Description="payments data", Tags=[{"TagKey": "pci", "TagValue": "true"}])
    if n == 0:
        kms.enable_key_rotation(KeyId=key["KeyMetadata"]["KeyId"])
    est.add("AWS::KMS::Key", key["KeyMetadata"]["Arn"])

    s3 = _client("s3", endpoint_url, region)
    bucket = f"acme-data-{region}"
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": "data_class", "Value": "eu-personal"}]}
    )
    if n == 0:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    else:
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    est.add("AWS::S3::Bucket", f"arn:aws:s3:::{bucket}")
    est.context[region] = Region(
        index=n,
        vpc_id=vpc["VpcId"],
        subnet_ids=[s["SubnetId"] for s in subnets],
        security_group_id=sg,
        instance_id=inst["InstanceId"],
        image_id=image,
        load_balancer_arn=lb["LoadBalancerArn"],
        target_group_arn=tg["TargetGroupArn"],
        function_name=fn["FunctionName"],
        kms_key_id=key["KeyMetadata"]["KeyId"],
        bucket=bucket,
    )


def seed_estate(
    endpoint_url: str, regions: Sequence[str] = REGIONS, *, canary: str = CANARY
) -> Estate:
    """Create a small estate with every collected resource type in each region; call it once.

    The canary is planted in EC2 user data and a Lambda environment value: it must never
    appear in anything driftscan stores.
    """
    est = Estate(ACCOUNT, tuple(regions), canary)

    iam = _client("iam", endpoint_url, regions[0])
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        RoleName="payments-fn",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "owner", "Value": "payments"}],
    )["Role"]
    est.add("AWS::IAM::Role", role["Arn"])
    open_trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    anyone = iam.create_role(
        RoleName="legacy-anyone", AssumeRolePolicyDocument=json.dumps(open_trust)
    )
    est.add("AWS::IAM::Role", anyone["Role"]["Arn"])

    # Regions, then the domains, are seeded side by side: the moto server answers requests
    # on threads, so its half of the work overlaps ours (8.9 s sequential for the demo's).
    with ThreadPoolExecutor(len(regions)) as pool:
        for f in [pool.submit(_seed_region, endpoint_url, est, n, region, role)
                  for n, region in enumerate(regions)]:  # fmt: skip
            f.result()
    est.role_arn = role["Arn"]
    with ThreadPoolExecutor(len(SEEDERS)) as pool:
        for f in [pool.submit(seed, endpoint_url, est) for seed in SEEDERS]:
            f.result()  # each domain's types (driftscan/sandbox/awsestate/)
    return est


# --- an organisation ----------------------------------------------------------------------

ROLE_NAME = "driftscan-readonly"
"""The role driftscan assumes in each member account of the sandbox organisation."""


@dataclass
class Organization:
    """What `seed_organization` created: the sandbox account as the management account and
    its member accounts, each with a small estate of its own."""

    management: str
    role_name: str
    members: dict[str, str]  # name → account id, every one ACTIVE
    closed: str  # a SUSPENDED member account: never read
    keys: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # account → type → keys

    def role_arn(self, account: str) -> str:
        return f"arn:aws:iam::{account}:role/{self.role_name}"


def _as_account(endpoint_url: str, account: str) -> dict[str, str]:
    """Credentials acting in `account` (moto is multi-account: an assumed role's keys act in
    the role's account), through the role AWS Organizations creates in every new account."""
    sts = _client("sts", endpoint_url, "us-east-1")
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="sandbox-seed",
    )["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def _member_client(service: str, endpoint_url: str, region: str, creds: dict[str, str]) -> Any:
    return _client(service, endpoint_url, region, credentials=creds)


def seed_organization(
    endpoint_url: str,
    regions: Sequence[str] = REGIONS,
    *,
    members: Sequence[str] = ("dev", "prod", "locked"),
    role_name: str = ROLE_NAME,
) -> Organization:
    """Make the sandbox account an organisation's management account with `members` (ACTIVE)
    and one closed account; call it once, after `seed_estate`.

    Each member gets the scanner's role (trusting the management account) and, in every
    region, a tagged VPC and an S3 bucket (encrypted in the first region only). moto's
    default VPC, subnets and security group are there too, as in any new account.
    """
    org = _client("organizations", endpoint_url, "us-east-1")
    org.create_organization(FeatureSet="ALL")
    made: dict[str, str] = {}
    for name in (*members, "closed"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")
        made[name] = str(status["CreateAccountStatus"]["AccountId"])
    closed = made.pop("closed")
    org.close_account(AccountId=closed)
    out = Organization(ACCOUNT, role_name, made, closed)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for name, account in made.items():
        creds = _as_account(endpoint_url, account)
        keys = out.keys.setdefault(account, {})
        iam = _member_client("iam", endpoint_url, regions[0], creds)
        role = iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Tags=[{"Key": "owner", "Value": "security"}],
        )["Role"]
        read = {"Effect": "Allow", "Action": ["*:Describe*", "*:List*", "*:Get*"], "Resource": "*"}
        iam.put_role_policy(
            RoleName=role_name,
            PolicyName="driftscan-read",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read]}),
        )
        keys.setdefault("AWS::IAM::Role", set()).add(role["Arn"])
        for n, region in enumerate(regions):
            ec2 = _member_client("ec2", endpoint_url, region, creds)
            vpc = ec2.create_vpc(
                CidrBlock="10.1.0.0/16",
                TagSpecifications=[
                    {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": f"{name}-{region}"}]}
                ],
            )["Vpc"]
            keys.setdefault("AWS::EC2::VPC", set()).add(
                f"arn:aws:ec2:{region}:{account}:vpc/{vpc['VpcId']}"
            )
            s3 = _member_client("s3", endpoint_url, region, creds)
            bucket = f"{name}-{account}-{region}"  # bucket names are global, across accounts
            where = {} if region == "us-east-1" else {"LocationConstraint": region}
            s3.create_bucket(
                Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {})
            )
            s3.put_bucket_tagging(
                Bucket=bucket, Tagging={"TagSet": [{"Key": "account", "Value": name}]}
            )
            if n == 0:
                s3.put_bucket_encryption(
                    Bucket=bucket,
                    ServerSideEncryptionConfiguration={
                        "Rules": [
                            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                )
            keys.setdefault("AWS::S3::Bucket", set()).add(f"arn:aws:s3:::{bucket}")
        # The CIS account-level controls: prod passes them, dev fails them (awsestate/cis.py).
        seed_cis = {"prod": cis.seed_compliant, "dev": cis.seed_failing}.get(name)
        if seed_cis is not None:

            def client_for(svc: str, region: str, c: dict[str, str] = creds) -> Any:
                return _member_client(svc, endpoint_url, region, c)

            seed_cis(client_for, account, tuple(regions), keys)
    return out


# --- the fault-injecting proxy ------------------------------------------------------------

# A SigV4 Authorization header's credential scope: (region, service).
SIGV4_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
# Headers a forwarding proxy does not pass on: hop-by-hop ones, and the length, which it sets
# itself for the body it read whole.
HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect",
     "content-length"}
)  # fmt: skip


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """A request's whole body, chunked (as botocore streams some) or by Content-Length."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while size := int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        handler.rfile.readline()
        return b"".join(chunks)
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


SIGNING_NAMES = {
    "elbv2": "elasticloadbalancing",
    "resourcegroupstaggingapi": "tagging",
}  # boto3 client name → SigV4 scope name


@dataclass
class _Faults:
    deny: set[str] = field(default_factory=set)
    throttle: dict[str, int | None] = field(
        default_factory=dict
    )  # service → throttles left (None: always)
    latency: dict[str, float] = field(default_factory=dict)  # service or "*" → seconds
    deny_roles: set[str] = field(default_factory=set)  # role ARNs AssumeRole refuses


def _error(protocol: str, service: str, kind: str) -> tuple[int, dict[str, str], bytes]:
    """A denied or throttled answer in the shape the service's protocol has on the wire."""
    denied = kind == "denied"
    msg = "injected by the driftscan sandbox proxy"
    if protocol == "json":
        code = "AccessDeniedException" if denied else "ThrottlingException"
        body = json.dumps({"__type": code, "message": msg}).encode()
        return 400, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, body
    if protocol == "rest-json":
        code = "AccessDeniedException" if denied else "TooManyRequestsException"
        body = json.dumps({"message": msg}).encode()
        return (
            (403 if denied else 429),
            {"Content-Type": "application/json", "x-amzn-ErrorType": code},
            body,
        )
    if protocol == "rest-xml":
        code = "AccessDenied" if denied else "SlowDown"
        xml = f"<Error><Code>{code}</Code><Message>{msg}</Message><RequestId>sandbox</RequestId></Error>"
        return (403 if denied else 503), {"Content-Type": "application/xml"}, xml.encode()
    if service == "ec2":
        code = "UnauthorizedOperation" if denied else "RequestLimitExceeded"
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors>"
            "<RequestID>sandbox</RequestID></Response>"
        )
        return (403 if denied else 503), {"Content-Type": "text/xml"}, xml.encode()
    code = "AccessDenied" if denied else "Throttling"
    xml = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error>"
        "<RequestId>sandbox</RequestId></ErrorResponse>"
    )
    return (403 if denied else 400), {"Content-Type": "text/xml"}, xml.encode()


def _assume_denied(role_arn: str) -> tuple[int, dict[str, str], bytes]:
    """STS's answer to an AssumeRole the role's trust policy (or the caller's) does not allow."""
    xml = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        "<Type>Sender</Type><Code>AccessDenied</Code><Message>The caller is not authorized to "
        f"perform: sts:AssumeRole on resource: {role_arn}</Message></Error>"
        "<RequestId>sandbox</RequestId></ErrorResponse>"
    )
    return 403, {"Content-Type": "text/xml"}, xml.encode()


class FaultProxy:
    """A reverse proxy on 127.0.0.1 in front of an AWS endpoint that denies, throttles or delays.

    Faults are chosen per service, read from the request's SigV4 credential scope (and per
    role for AssumeRole). Every request is recorded in `operations` as (service, operation
    name), and every role asked for in `assumed`.
    """

    def __init__(self, upstream: str, port: int = 0) -> None:
        up = urlsplit(upstream)
        self._upstream = (up.hostname or "127.0.0.1", up.port or 80)
        self._lock = threading.Lock()
        self._faults = _Faults()
        self._ops: list[tuple[str, str]] = []
        self._roles: list[str] = []
        self._in_flight: dict[str, int] = {}
        self._peak: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread = serve_in_thread(self._server, "aws-proxy")
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    # --- fault controls ---

    def deny(self, service: str, region: str | None = None) -> None:
        """Answer every request to `service` (boto3 client name) with AccessDenied; only those
        signed for `region` when it is given."""
        name = SIGNING_NAMES.get(service, service)
        with self._lock:
            self._faults.deny.add(name if region is None else f"{name}@{region}")

    def deny_role(self, role_arn: str) -> None:
        """Refuse AssumeRole of `role_arn` as STS does (AccessDenied, HTTP 403), as when the
        role does not exist or does not trust the caller."""
        with self._lock:
            self._faults.deny_roles.add(role_arn)

    def throttle(self, service: str, times: int | None = None, region: str | None = None) -> None:
        """Throttle the next `times` requests to `service` (None: all of them), then pass
        through; only those signed for `region` when it is given."""
        name = SIGNING_NAMES.get(service, service)
        with self._lock:
            self._faults.throttle[name if region is None else f"{name}@{region}"] = times

    def delay(self, seconds: float, service: str = "*") -> None:
        """Add latency to each request to `service` (or to all)."""
        with self._lock:
            self._faults.latency[SIGNING_NAMES.get(service, service)] = seconds

    def reset(self) -> None:
        """Remove every fault and forget the recorded operations."""
        with self._lock:
            self._faults = _Faults()
            self._ops.clear()
            self._roles.clear()
            self._peak.clear()

    def peak_in_flight(self, service: str) -> int:
        """The most requests to `service` the proxy was handling at one time since the reset."""
        with self._lock:
            return self._peak.get(SIGNING_NAMES.get(service, service), 0)

    @property
    def operations(self) -> list[tuple[str, str]]:
        """(service, operation) for every request received, in order."""
        with self._lock:
            return list(self._ops)

    @property
    def assumed(self) -> list[str]:
        """The RoleArn of every AssumeRole request received (refused ones too), in order."""
        with self._lock:
            return list(self._roles)

    # --- the proxy itself ---

    def _denies_role(self, role_arn: str) -> bool:
        with self._lock:
            return role_arn in self._faults.deny_roles

    def _fault_for(self, service: str, region: str) -> tuple[str | None, float]:
        with self._lock:
            delay = self._faults.latency.get(service, self._faults.latency.get("*", 0.0))
            if service in self._faults.deny or f"{service}@{region}" in self._faults.deny:
                return "denied", delay
            for name in (f"{service}@{region}", service):
                if name not in self._faults.throttle:
                    continue
                left = self._faults.throttle[name]
                if left is None:
                    return "throttled", delay
                if left > 0:
                    self._faults.throttle[name] = left - 1
                    return "throttled", delay
            return None, delay

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                body = read_body(self)
                scope = SIGV4_SCOPE.search(self.headers.get("Authorization", ""))
                service = scope.group(2) if scope else "unknown"
                region = scope.group(1) if scope else "unknown"
                url = urlsplit(self.path)
                query = parse_qs(url.query, keep_blank_values=True)
                form: dict[str, list[str]] = {}
                if "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
                    form = parse_qs(body.decode("utf-8", "replace"))
                target = self.headers.get("X-Amz-Target")
                action = next(iter(query.get("Action") or form.get("Action") or []), None)
                if target:
                    protocol, op = "json", target.rsplit(".", 1)[-1]
                elif action:
                    protocol, op = "query", action
                else:
                    protocol = "rest-xml" if service == "s3" else "rest-json"
                    sub = "&".join(sorted(query))
                    op = f"{self.command} {url.path}" + (f"?{sub}" if sub else "")
                role = None
                if op == "AssumeRole":
                    role = next(iter(query.get("RoleArn") or form.get("RoleArn") or []), None)
                with proxy._lock:
                    proxy._ops.append((service, op))
                    if role is not None:
                        proxy._roles.append(role)
                    now = proxy._in_flight[service] = proxy._in_flight.get(service, 0) + 1
                    proxy._peak[service] = max(proxy._peak.get(service, 0), now)
                try:
                    if role is not None and proxy._denies_role(role):
                        self._reply(*_assume_denied(role))
                    else:
                        self._forward(service, region, protocol, body)
                finally:
                    with proxy._lock:
                        proxy._in_flight[service] -= 1

            def _forward(self, service: str, region: str, protocol: str, body: bytes) -> None:
                fault, delay = proxy._fault_for(service, region)
                if delay:
                    time.sleep(delay)
                if fault is not None:
                    self._reply(*_error(protocol, service, fault))
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                conn = http.client.HTTPConnection(*proxy._upstream, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    out = {k: v for k, v in resp.getheaders() if k.lower() not in HOP_HEADERS}
                    self._reply(resp.status, out, data)
                finally:
                    conn.close()

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        return Handler


# --- everything at once --------------------------------------------------------------------


class AwsSandbox:
    """moto + seeded estate + fault proxy; point the collector at `endpoint_url` (the proxy)."""

    def __init__(self, regions: Sequence[str] = REGIONS, *, canary: str = CANARY) -> None:
        self._org: Organization | None = None
        self._org_lock = threading.Lock()
        self.moto = start_moto()
        try:
            self.estate = seed_estate(self.moto.endpoint_url, regions, canary=canary)
            self.proxy = FaultProxy(self.moto.endpoint_url).start()
        except BaseException:
            self.moto.stop()
            raise

    @property
    def endpoint_url(self) -> str:
        return self.proxy.endpoint_url

    def organization(self) -> Organization:
        """The sandbox account as an organisation's management account, with its members;
        seeded on first use (once: moto keeps it), so tests that never ask pay nothing."""
        with self._org_lock:
            if self._org is None:
                self._org = seed_organization(self.moto.endpoint_url, self.estate.regions)
            return self._org

    def source(self, name: str = "aws-sandbox", **overrides: Any) -> dict[str, Any]:
        """A `sources:` entry for driftscan.yaml that scans this sandbox (set `ENV` too)."""
        return {
            "name": name,
            "type": "aws",
            "regions": list(self.estate.regions),
            "endpoint_url": self.endpoint_url,
            **overrides,
        }

    def stop(self) -> None:
        self.proxy.stop()
        self.moto.stop()

    def __enter__(self) -> AwsSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
