"""The seeded estate's compute types (see driftscan/providers/aws/collect/services/compute.py).

Region 0 is the compliant configuration: a private AMI, an IMDSv2 launch template with
encrypted volumes, immutable ECR tags scanned on push, a private EKS endpoint with logging and
secrets encryption, an IAM-authenticated function URL. Other regions drift from it.
"""

from __future__ import annotations

import base64
import json

from driftscan.sandbox.awsestate.base import Estate, client


def seed(endpoint_url: str, est: Estate) -> None:
    """Create this domain's resources in every region of `est` and record their keys."""
    for region in est.regions:
        ctx = est.context[region]
        good = ctx.index == 0
        ec2 = client("ec2", endpoint_url, region)
        arn = f"arn:aws:{{}}:{region}:{est.account}:{{}}"

        # An AMI of the core instance; outside region 0 it is shared with everyone.
        image = ec2.create_image(
            InstanceId=ctx.instance_id,
            Name=f"web-golden-{ctx.index}",
            TagSpecifications=[
                {"ResourceType": "image", "Tags": [{"Key": "tier", "Value": "web"}]}
            ],
        )["ImageId"]
        if not good:
            ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})
        est.add("AWS::EC2::Image", f"arn:aws:ec2:{region}::image/{image}")

        # A launch template whose user data carries the canary (it must only be fingerprinted).
        # Outside region 0 a second version drifts: IMDSv1 allowed, an unencrypted volume.
        user_data = f"#!/bin/sh\nexport API_TOKEN='{est.canary}'\n"
        versions = [True] if good else [True, False]
        for n, compliant in enumerate(versions):
            data = {
                "ImageId": ctx.image_id,
                "InstanceType": "t3.micro" if compliant else "t3.large",
                "SecurityGroupIds": [ctx.security_group_id],
                "UserData": base64.b64encode(user_data.encode()).decode(),
                "MetadataOptions": {"HttpTokens": "required" if compliant else "optional"},
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "Encrypted": compliant}}
                ],
            }
            if n == 0:
                template = ec2.create_launch_template(
                    LaunchTemplateName=f"web-{ctx.index}",
                    LaunchTemplateData=data,
                    TagSpecifications=[
                        {
                            "ResourceType": "launch-template",
                            "Tags": [{"Key": "tier", "Value": "web"}],
                        }
                    ],
                )["LaunchTemplate"]
            else:
                ec2.create_launch_template_version(
                    LaunchTemplateId=template["LaunchTemplateId"], LaunchTemplateData=data
                )
        est.add(
            "AWS::EC2::LaunchTemplate",
            arn.format("ec2", f"launch-template/{template['LaunchTemplateId']}"),
        )

        # An Auto Scaling group on that template; no instances, so the core estate stays as it is.
        asg = client("autoscaling", endpoint_url, region)
        asg.create_auto_scaling_group(
            AutoScalingGroupName=f"web-asg-{ctx.index}",
            LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "$Latest"},
            MinSize=0,
            MaxSize=2,
            DesiredCapacity=0,
            VPCZoneIdentifier=",".join(ctx.subnet_ids),
            TargetGroupARNs=[ctx.target_group_arn],
            HealthCheckType="ELB" if good else "EC2",
            HealthCheckGracePeriod=120,
            Tags=[{"Key": "tier", "Value": "web", "PropagateAtLaunch": True}],
        )
        [group] = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[f"web-asg-{ctx.index}"])[
            "AutoScalingGroups"
        ]
        est.add("AWS::AutoScaling::AutoScalingGroup", group["AutoScalingGroupARN"])

        # ECR: region 0 immutable and scanned on push; elsewhere mutable, unscanned, public.
        ecr = client("ecr", endpoint_url, region)
        repo = ecr.create_repository(
            repositoryName="payments" if good else "legacy-payments",
            imageTagMutability="IMMUTABLE" if good else "MUTABLE",
            imageScanningConfiguration={"scanOnPush": good},
            tags=[{"Key": "pci", "Value": "true"}],
        )["repository"]
        if not good:
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PullForAnyone",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    }
                ],
            }
            ecr.set_repository_policy(
                repositoryName=repo["repositoryName"], policyText=json.dumps(policy)
            )
        est.add("AWS::ECR::Repository", repo["repositoryArn"])

        # ECS: a cluster, a task definition (canary in an environment value), a service.
        ecs = client("ecs", endpoint_url, region)
        cluster = ecs.create_cluster(
            clusterName=f"apps-{ctx.index}", tags=[{"key": "tier", "value": "app"}]
        )["cluster"]
        container = {
            "name": "app",
            "image": f"{repo['repositoryUri']}:1.4.2",
            "memory": 256,
            "essential": True,
            "environment": [
                {"name": "API_TOKEN", "value": est.canary},
                {"name": "LOG_LEVEL", "value": "info"},
            ],
            "secrets": [
                {
                    "name": "DB_PASSWORD",
                    "valueFrom": arn.format("secretsmanager", "secret:payments-db-AbCdEf"),
                }
            ],
            "privileged": not good,
            "readonlyRootFilesystem": good,
        }
        revisions = 1 if good else 2  # the collector keeps the latest ACTIVE revision
        for _ in range(revisions):
            task = ecs.register_task_definition(
                family="payments",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[container],
                tags=[{"key": "tier", "value": "app"}],
            )["taskDefinition"]
        est.add("AWS::ECS::TaskDefinition", task["taskDefinitionArn"])
        est.add("AWS::ECS::Cluster", cluster["clusterArn"])
        service = ecs.create_service(
            cluster=cluster["clusterArn"],
            serviceName="payments",
            taskDefinition=task["taskDefinitionArn"],
            desiredCount=2,
            launchType="FARGATE",
            tags=[{"key": "tier", "value": "app"}],
        )["service"]
        est.add("AWS::ECS::Service", service["serviceArn"])

        # EKS: region 0 private with every log type and secrets encryption; else wide open.
        eks = client("eks", endpoint_url, region)
        kms_arn = arn.format("kms", f"key/{ctx.kms_key_id}")
        eks_cluster = eks.create_cluster(
            name=f"platform-{ctx.index}",
            version="1.31" if good else "1.27",
            roleArn=est.role_arn,
            resourcesVpcConfig={
                "subnetIds": ctx.subnet_ids,
                "endpointPublicAccess": not good,
                "endpointPrivateAccess": good,
                **({} if good else {"publicAccessCidrs": ["0.0.0.0/0"]}),
            },
            logging={
                "clusterLogging": [
                    {
                        "types": ["api", "audit", "authenticator"] if good else ["api"],
                        "enabled": good,
                    }
                ]
            },
            **(
                {"encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": kms_arn}}]}
                if good
                else {}
            ),
            tags={"tier": "platform"},
        )["cluster"]
        est.add("AWS::EKS::Cluster", eks_cluster["arn"])

        # A function URL on the core function: IAM-authenticated in region 0, open elsewhere.
        url = client("lambda", endpoint_url, region).create_function_url_config(
            FunctionName=ctx.function_name,
            AuthType="AWS_IAM" if good else "NONE",
            Cors={"AllowOrigins": ["https://pay.example.com"] if good else ["*"]},
        )
        est.add("AWS::Lambda::Url", url["FunctionUrl"])
