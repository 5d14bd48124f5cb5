"""AWS identity: what an ARN says (account, region, type, name), and keys known from identity."""

from __future__ import annotations

from driftscan.providers import Identity

# (service, resource prefix, type); first match wins, so longer prefixes of one service go
# first. One section per domain of the collector's services (collect/services/).
_COMPUTE: tuple[tuple[str, str, str], ...] = (
    ("ec2", "instance/", "AWS::EC2::Instance"),
    ("ec2", "security-group/", "AWS::EC2::SecurityGroup"),
    ("ec2", "vpc/", "AWS::EC2::VPC"),
    ("ec2", "subnet/", "AWS::EC2::Subnet"),
    ("ec2", "volume/", "AWS::EC2::Volume"),
    ("ec2", "image/", "AWS::EC2::Image"),
    ("ec2", "launch-template/", "AWS::EC2::LaunchTemplate"),
    ("autoscaling", "autoScalingGroup:", "AWS::AutoScaling::AutoScalingGroup"),
    ("ecr", "repository/", "AWS::ECR::Repository"),
    ("ecs", "cluster/", "AWS::ECS::Cluster"),
    ("ecs", "service/", "AWS::ECS::Service"),
    ("ecs", "task-definition/", "AWS::ECS::TaskDefinition"),
    ("eks", "cluster/", "AWS::EKS::Cluster"),
    ("lambda", "function:", "AWS::Lambda::Function"),
)
_NETWORK: tuple[tuple[str, str, str], ...] = (
    ("ec2", "network-acl/", "AWS::EC2::NetworkAcl"),
    ("ec2", "route-table/", "AWS::EC2::RouteTable"),
    ("ec2", "internet-gateway/", "AWS::EC2::InternetGateway"),
    ("ec2", "natgateway/", "AWS::EC2::NatGateway"),
    ("ec2", "vpc-flow-log/", "AWS::EC2::FlowLog"),
    ("ec2", "vpc-endpoint/", "AWS::EC2::VPCEndpoint"),
    ("ec2", "elastic-ip/", "AWS::EC2::EIP"),
    # ELBv2 load balancers are loadbalancer/app|net|gwy/…; a classic one is loadbalancer/<name>.
    ("elasticloadbalancing", "loadbalancer/app/", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    ("elasticloadbalancing", "loadbalancer/net/", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    ("elasticloadbalancing", "loadbalancer/gwy/", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    ("elasticloadbalancing", "loadbalancer/", "AWS::ElasticLoadBalancing::LoadBalancer"),
    ("elasticloadbalancing", "targetgroup/", "AWS::ElasticLoadBalancingV2::TargetGroup"),
    ("elasticloadbalancing", "listener/", "AWS::ElasticLoadBalancingV2::Listener"),
    ("cloudfront", "distribution/", "AWS::CloudFront::Distribution"),
    ("route53", "hostedzone/", "AWS::Route53::HostedZone"),
    ("wafv2", "regional/webacl/", "AWS::WAFv2::WebACL"),
    ("wafv2", "global/webacl/", "AWS::WAFv2::WebACL"),
    # API Gateway stages (/restapis/<id>/stages/<name>) share their API's prefix, which a
    # prefix table cannot tell apart: those keys are left untyped rather than mistyped.
)
_STORAGE: tuple[tuple[str, str, str], ...] = (
    ("s3", "", "AWS::S3::Bucket"),
    ("s3control", "public-access-block", "AWS::S3::AccountPublicAccessBlock"),
    ("ec2", "snapshot/", "AWS::EC2::Snapshot"),
    ("ec2", "ebs-encryption-by-default", "AWS::EC2::EBSEncryptionByDefault"),
    ("elasticfilesystem", "file-system/", "AWS::EFS::FileSystem"),
    ("dynamodb", "table/", "AWS::DynamoDB::Table"),
    ("rds", "db:", "AWS::RDS::DBInstance"),
    ("rds", "cluster-snapshot:", "AWS::RDS::DBClusterSnapshot"),
    ("rds", "cluster:", "AWS::RDS::DBCluster"),
    ("rds", "snapshot:", "AWS::RDS::DBSnapshot"),
    ("redshift", "cluster:", "AWS::Redshift::Cluster"),
    ("elasticache", "replicationgroup:", "AWS::ElastiCache::ReplicationGroup"),
    ("es", "domain/", "AWS::OpenSearchService::Domain"),
    ("kinesis", "stream/", "AWS::Kinesis::Stream"),
    ("backup", "backup-vault:", "AWS::Backup::BackupVault"),
    ("backup", "backup-plan:", "AWS::Backup::BackupPlan"),
)
_SECRETS: tuple[tuple[str, str, str], ...] = (
    ("kms", "key/", "AWS::KMS::Key"),
    ("kms", "alias/", "AWS::KMS::Alias"),
    ("secretsmanager", "secret:", "AWS::SecretsManager::Secret"),
    ("acm", "certificate/", "AWS::CertificateManager::Certificate"),
    ("sns", "", "AWS::SNS::Topic"),  # arn:aws:sns:<region>:<account>:<topic>
    ("sqs", "", "AWS::SQS::Queue"),  # arn:aws:sqs:<region>:<account>:<queue>
)
_LOGGING: tuple[tuple[str, str, str], ...] = (
    ("cloudtrail", "trail/", "AWS::CloudTrail::Trail"),
    ("config", "configuration-recorder/", "AWS::Config::ConfigurationRecorder"),
    ("config", "delivery-channel/", "AWS::Config::DeliveryChannel"),
    ("guardduty", "detector/", "AWS::GuardDuty::Detector"),
    ("securityhub", "hub/", "AWS::SecurityHub::Hub"),
    ("cloudwatch", "alarm:", "AWS::CloudWatch::Alarm"),
    ("logs", "log-group:", "AWS::Logs::LogGroup"),
    ("logs", "metric-filter:", "AWS::Logs::MetricFilter"),
)
_IAM: tuple[tuple[str, str, str], ...] = (
    ("iam", "role/", "AWS::IAM::Role"),
    ("iam", "user/", "AWS::IAM::User"),
    ("iam", "group/", "AWS::IAM::Group"),
    ("iam", "policy/", "AWS::IAM::ManagedPolicy"),
    # The account's singletons (keys of driftscan's making: IAM gives them no ARN).
    ("iam", "account-password-policy", "AWS::IAM::AccountPasswordPolicy"),
    ("iam", "account-summary", "AWS::IAM::AccountSummary"),
)
_ARN_TYPES = _COMPUTE + _NETWORK + _STORAGE + _SECRETS + _LOGGING + _IAM


def identify(key: str) -> Identity | None:
    """Account, region, type and name as far as an ARN shows them; None for other keys."""
    if not key.startswith("arn:"):
        return None
    parts = key.split(":", 5)
    if len(parts) != 6:
        return Identity(key, "aws")
    _, _, service, region, account, resource = parts
    typ = next(
        (t for s, prefix, t in _ARN_TYPES if s == service and resource.startswith(prefix)),
        None,
    )
    name = resource.split("/")[-1].split(":")[-1] if resource else None
    return Identity(key, "aws", account or None, region or None, typ, name)


def declared_key(typ: str | None, name: str | None) -> str | None:
    """The key of a resource declared by type and name, when the name alone fixes it."""
    if typ == "AWS::S3::Bucket":
        return f"arn:aws:s3:::{name}"  # bucket names are global: the key is known
    return None


def owns_type(pattern: str) -> bool:
    """AWS types are the CloudFormation names (`AWS::S3::Bucket`), compared ignoring case."""
    return pattern.lower().startswith("aws::")
