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
    "elbv2.DescribeListeners": "elasticloadbalancing:DescribeListeners",
    "elbv2.DescribeListenerCertificates": "elasticloadbalancing:DescribeListenerCertificates",
    # Classic load balancers share the IAM namespace (and these action names) with ELBv2.
    "elb.DescribeLoadBalancers": "elasticloadbalancing:DescribeLoadBalancers",
    "elb.DescribeLoadBalancerPolicies": "elasticloadbalancing:DescribeLoadBalancerPolicies",
    "elb.DescribeTags": "elasticloadbalancing:DescribeTags",
    # API Gateway's management reads, V1 and V2, are all the one action apigateway:GET.
    "apigateway.GetRestApis": "apigateway:GET",
    "apigateway.GetStages": "apigateway:GET",
    "apigateway.GetDomainNames": "apigateway:GET",
    "apigateway.GetBasePathMappings": "apigateway:GET",
    "apigatewayv2.GetApis": "apigateway:GET",
    "apigatewayv2.GetStages": "apigateway:GET",
    "apigatewayv2.GetDomainNames": "apigateway:GET",
    "apigatewayv2.GetApiMappings": "apigateway:GET",
}
_STORAGE = {
    "s3.ListBuckets": "s3:ListAllMyBuckets",
    "s3.GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3.GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3.GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "s3control.GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
    "efs.DescribeFileSystems": "elasticfilesystem:DescribeFileSystems",
    "opensearch.ListDomainNames": "es:ListDomainNames",
    "opensearch.DescribeDomain": "es:DescribeDomain",
    "opensearch.ListTags": "es:ListTags",
}
_SECRETS: dict[str, str] = {}
_LOGGING: dict[str, str] = {}
_IAM: dict[str, str] = {}
IAM_ACTIONS = _CORE | _COMPUTE | _NETWORK | _STORAGE | _SECRETS | _LOGGING | _IAM
