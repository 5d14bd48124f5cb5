"""The IAM action of each botocore operation whose name differs from it, by domain."""

from __future__ import annotations

# One dict per domain of the collector's services (driftscan/providers/aws/collect/services/).
_CORE = {"resourcegroupstaggingapi.GetResources": "tag:GetResources"}
_COMPUTE = {"lambda.ListTags": "lambda:ListTags"}
_NETWORK = {
    "elbv2.DescribeLoadBalancers": "elasticloadbalancing:DescribeLoadBalancers",
    "elbv2.DescribeTargetGroups": "elasticloadbalancing:DescribeTargetGroups",
    "elbv2.DescribeTargetHealth": "elasticloadbalancing:DescribeTargetHealth",
    "elbv2.DescribeTags": "elasticloadbalancing:DescribeTags",
}
_STORAGE = {
    "s3.ListBuckets": "s3:ListAllMyBuckets",
    "s3.GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3.GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
}
_SECRETS: dict[str, str] = {}
_LOGGING: dict[str, str] = {}
_IAM: dict[str, str] = {}
IAM_ACTIONS = _CORE | _COMPUTE | _NETWORK | _STORAGE | _SECRETS | _LOGGING | _IAM
