"""The CloudFormation merged into `chalice package`'s SAM template: everything Chalice does not create.

Tables (from the models), the firmware bucket, operator sign-in parameters and an optional Cognito pool, and for
AWS IoT Core the topic rule into `device_message` with its dead-letter queue, and the custom
authorizer devices log in through. Chalice deep-merges this into its own template.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.core.http.edge import gateway_response_templates
from chalicelib.core.topics import PREFIX
from infra.aws.access import FUNCTIONS
from infra.aws.iam import CHALICE_DIR, firmware_bucket_name, lambda_name, queue_name
from infra.aws.tables import table_resources

# Chalice's logical ids of our functions (the API handler's is APIHandler).
LOGICAL_IDS = {"api_handler": "APIHandler"} | {
    name: "".join(p.capitalize() for p in name.split("_")) for name in FUNCTIONS if name != "api_handler"}

# The rules engine hands the function the same event the bridge sends ({topic, payload_b64}).
RULE_SQL = (
    f"SELECT topic() AS topic, encode(*, 'base64') AS payload_b64 FROM '{PREFIX}/+/device/+/#' "
    "WHERE topic(5) = 'status' OR (topic(5) = 'commands' AND (topic(6) = 'ack' OR topic(6) = 'request')) "
    "OR (topic(5) = 'shadow' AND topic(6) = 'reported') OR (topic(5) = 'jobs' AND topic(7) = 'update')"
)

PARAMETERS: dict[str, dict[str, Any]] = {
    "OperatorJwksUrl": {"Type": "String", "Default": "",
                        "Description": "JWKS URL of your OIDC provider; empty creates a Cognito user pool"},
    "OperatorIssuer": {"Type": "String", "Default": "", "Description": "iss of operator tokens (with a JWKS URL)"},
    "OperatorAudience": {"Type": "String", "Default": "", "Description": "aud of operator tokens (optional)"},
    "ConsoleOrigin": {"Type": "String", "Default": "*",
                      "Description": "origin of the operator console, allowed to upload firmware to the bucket"},
    "BrokerAuthSecret": {"Type": "String", "Default": "", "NoEcho": True,
                         "Description": "shared secret of /broker/authn and /broker/authz; empty disables them"},
    "DeviceMessagesVia": {"Type": "String", "Default": "lambda", "AllowedValues": ["lambda", "sqs"],
                          "Description": "the topic rule's target: device_message per message (lambda), or an "
                                         "SQS queue it reads in batches with partial-batch responses (sqs)"},
}
# Batches from the queue: up to this many messages, or what arrived within the window.
SQS_BATCH_SIZE, SQS_BATCH_WINDOW_S = 10, 1


def stage_variables(stage: str) -> dict[str, str]:
    """The stage's own environment variables in `.chalice/config.json`."""
    variables: dict[str, str] = json.loads((CHALICE_DIR / "config.json").read_text())["stages"][stage][
        "environment_variables"]
    return variables


def broker_parameters(variables: dict[str, str]) -> dict[str, dict[str, Any]]:
    """MqttHost and MqttPort for a stage that publishes through its own broker (paho), defaults from its config.

    Where the functions reach the broker depends on where they run (a Docker network, the
    host), not on the stage, so the deploy says it.
    """
    if variables.get("FLEET_MQTT_BACKEND") != "paho":
        return {}
    return {
        "MqttHost": {"Type": "String", "Default": variables["FLEET_MQTT_HOST"],
                     "Description": "the broker's host name as the functions reach it"},
        "MqttPort": {"Type": "String", "Default": variables["FLEET_MQTT_PORT"], "AllowedPattern": "^[0-9]{1,5}$",
                     "Description": "the broker's service listener port"},
    }


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _cognito(stage: str) -> dict[str, Any]:
    return {
        "OperatorUserPool": {
            "Type": "AWS::Cognito::UserPool",
            "Condition": "CreateUserPool",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "UserPoolName": f"fleet-{stage}-operators",
                "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                "Schema": [{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": False,
                            "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"}}],
                "Policies": {"PasswordPolicy": {"MinimumLength": 12}},
            },
        },
        "OperatorUserPoolClient": {
            "Type": "AWS::Cognito::UserPoolClient",
            "Condition": "CreateUserPool",
            "Properties": {
                "UserPoolId": {"Ref": "OperatorUserPool"},
                "GenerateSecret": False,
                "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                "ReadAttributes": ["custom:tenant_id"],
            },
        },
    }


def _iot(stage: str) -> dict[str, Any]:
    device_message = LOGICAL_IDS["device_message"]
    authorizer = LOGICAL_IDS["iot_authorizer"]
    return {
        "DeviceMessagesDlq": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
        },
        "DeviceMessagesRuleErrorRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
                "Policies": [{"PolicyName": "dead-letter", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sqs:SendMessage",
                    "Resource": {"Fn::GetAtt": ["DeviceMessagesDlq", "Arn"]}}]}}],
            },
        },
        "DeviceMessagesRule": {
            "Type": "AWS::IoT::TopicRule",
            "Properties": {
                "RuleName": f"fleet_{stage}_device_messages",
                "TopicRulePayload": {
                    "Description": "Device-to-cloud messages into device_message (the bridge, on IoT Core)",
                    "Sql": RULE_SQL,
                    "AwsIotSqlVersion": "2016-03-23",
                    "RuleDisabled": False,
                    "Actions": {"Fn::If": [
                        "DeviceMessagesViaSqs",
                        [{"Sqs": {"QueueUrl": {"Ref": "DeviceMessagesQueue"}, "UseBase64": False,
                                  "RoleArn": {"Fn::GetAtt": ["DeviceMessagesRuleQueueRole", "Arn"]}}}],
                        [{"Lambda": {"FunctionArn": {"Fn::GetAtt": [device_message, "Arn"]}}}]]},
                    "ErrorAction": {"Sqs": {"QueueUrl": {"Ref": "DeviceMessagesDlq"},
                                            "RoleArn": {"Fn::GetAtt": ["DeviceMessagesRuleErrorRole", "Arn"]},
                                            "UseBase64": False}},
                },
            },
        },
        "DeviceMessagesRuleInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Fn::GetAtt": [device_message, "Arn"]},
                "Action": "lambda:InvokeFunction",
                "Principal": "iot.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": {"Fn::GetAtt": ["DeviceMessagesRule", "Arn"]},
            },
        },
        "DeviceAuthorizer": {
            "Type": "AWS::IoT::Authorizer",
            "Properties": {
                "AuthorizerName": f"fleet-{stage}-devices",
                "AuthorizerFunctionArn": {"Fn::GetAtt": [authorizer, "Arn"]},
                # Devices send username/password, not a signed token.
                "SigningDisabled": True,
                "Status": "ACTIVE",
            },
        },
        "DeviceAuthorizerInvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Fn::GetAtt": [authorizer, "Arn"]},
                "Action": "lambda:InvokeFunction",
                "Principal": "iot.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": {"Fn::GetAtt": ["DeviceAuthorizer", "Arn"]},
            },
        },
        **_queue_path(stage, device_message),
        # For a self-hosted broker: attach to the identity the bridge container runs as.
        "BridgeInvokePolicy": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": "lets the MQTT bridge (BRIDGE_INVOKER=lambda) invoke device_message, nothing else",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "lambda:InvokeFunction",
                    "Resource": {"Fn::GetAtt": [device_message, "Arn"]}}]},
            },
        },
    }


def _queue_path(stage: str, device_message: str) -> dict[str, Any]:
    """DeviceMessagesVia=sqs: the rule's queue (failures to the dead-letter queue) and the batched reader."""
    when = {"Condition": "DeviceMessagesViaSqs"}
    return {
        "DeviceMessagesQueue": {**when, "Type": "AWS::SQS::Queue", "Properties": {
            # The name the function's generated policy allows it to read (infra/aws/iam.py).
            "QueueName": queue_name(stage), "SqsManagedSseEnabled": True,
            # Above the function's timeout, so a message is not handed out twice while in a batch.
            "VisibilityTimeout": 360,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["DeviceMessagesDlq", "Arn"]},
                              "maxReceiveCount": 5}}},
        "DeviceMessagesRuleQueueRole": {**when, "Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]},
            "Policies": [{"PolicyName": "queue", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["DeviceMessagesQueue", "Arn"]}}]}}]}},
        "DeviceMessagesQueueReader": {**when, "Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["DeviceMessagesQueue", "Arn"]},
            "FunctionName": {"Ref": device_message},
            "BatchSize": SQS_BATCH_SIZE, "MaximumBatchingWindowInSeconds": SQS_BATCH_WINDOW_S,
            "FunctionResponseTypes": ["ReportBatchItemFailures"]}},
    }


def _firmware(table_prefix: str) -> dict[str, Any]:
    """The stage's firmware bucket: private, encrypted, versioned; reached only through presigned URLs."""
    return {
        "FirmwareBucket": {
            "Type": "AWS::S3::Bucket",
            # Images stay when the stack goes: devices in the field may still be on one.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": _sub(firmware_bucket_name(table_prefix)),
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "old-versions-and-uploads", "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]},
                # The console uploads straight to S3 with the presigned PUT (the URL is the credential).
                "CorsConfiguration": {"CorsRules": [{
                    "AllowedMethods": ["PUT", "GET"], "AllowedOrigins": [{"Ref": "ConsoleOrigin"}],
                    "AllowedHeaders": ["content-type", "x-amz-checksum-sha256", "x-fleet-device"],
                    "MaxAge": 3600}]},
            },
        },
        "FirmwareBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "FirmwareBucket"},
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [{"Fn::GetAtt": ["FirmwareBucket", "Arn"]},
                                 _sub("${FirmwareBucket.Arn}/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]},
            },
        },
    }


def _gateway_responses() -> dict[str, Any]:
    """API Gateway's own answers (bad token, unknown path, throttling) in the API's one error shape."""
    return {
        "GatewayResponse" + "".join(p.capitalize() for p in kind.lower().split("_")): {
            "Type": "AWS::ApiGateway::GatewayResponse",
            # RestAPI is Chalice's logical id of the REST API it generates.
            "Properties": {**properties, "RestApiId": {"Ref": "RestAPI"}},
        }
        for kind, properties in gateway_response_templates().items()
    }


def _environment(stage: str, broker: bool, sign_in: bool) -> dict[str, Any]:
    """Variables CloudFormation resolves at deploy time (Chalice's own stay as they are)."""
    pool = "https://cognito-idp.${AWS::Region}.amazonaws.com/${OperatorUserPool}"
    mqtt = {"FLEET_MQTT_HOST": {"Ref": "MqttHost"}, "FLEET_MQTT_PORT": {"Ref": "MqttPort"}} if broker else {}
    jwt = {
        "FLEET_JWT_JWKS_URL": {"Fn::If": ["CreateUserPool", _sub(pool + "/.well-known/jwks.json"),
                                          {"Ref": "OperatorJwksUrl"}]},
        "FLEET_JWT_ISSUER": {"Fn::If": ["CreateUserPool", _sub(pool), {"Ref": "OperatorIssuer"}]},
        "FLEET_JWT_AUDIENCE": {"Fn::If": ["CreateUserPool", {"Ref": "OperatorUserPoolClient"},
                                          {"Ref": "OperatorAudience"}]},
    } if sign_in else {}
    return {**mqtt, **jwt, "FLEET_AWS_REGION": {"Ref": "AWS::Region"},
            "FLEET_BROKER_AUTH_SECRET": {"Ref": "BrokerAuthSecret"},
            "FLEET_FIRMWARE_BUCKET": {"Ref": "FirmwareBucket"},
            # By name, not Ref: the batches function names itself (a Ref to itself would be a cycle).
            "FLEET_COMMAND_BATCH_FUNCTION": lambda_name(stage, "command_batches")}


def merge_template(stage: str, table_prefix: str, parameter_defaults: dict[str, str]) -> dict[str, Any]:
    """The template `chalice package --merge-template` merges into its own.

    A stage with its own token secret (`localstack`: HS256, FLEET_JWT_SECRET) signs its
    operators' tokens itself: it gets no user pool and no JWKS settings.
    """
    variables = stage_variables(stage)
    sign_in = not variables.get("FLEET_JWT_SECRET")
    specs = {k: v for k, v in PARAMETERS.items() if sign_in or not k.startswith("Operator")}
    specs |= broker_parameters(variables)
    parameters = {name: {**spec, "Default": parameter_defaults.get(name, spec["Default"])}
                  for name, spec in specs.items()}
    broker = "MqttHost" in parameters
    # The names `chalice deploy` gives, which the policies' log groups and the bridge's function name use.
    functions = {logical: {"Properties": {"FunctionName": lambda_name(stage, name),
                                          "Environment": {"Variables": _environment(stage, broker, sign_in)}}}
                 for name, logical in LOGICAL_IDS.items()}
    outputs: dict[str, Any] = {
        "TablePrefix": {"Value": table_prefix},
        "FirmwareBucketName": {"Value": {"Ref": "FirmwareBucket"}},
        "DeviceMessagesDlqUrl": {"Value": {"Ref": "DeviceMessagesDlq"}},
        "DeviceAuthorizerName": {"Value": {"Ref": "DeviceAuthorizer"}},
        "BridgeInvokePolicyArn": {"Value": {"Ref": "BridgeInvokePolicy"}},
    }
    if sign_in:
        outputs |= {
            "OperatorUserPoolId": {"Condition": "CreateUserPool", "Value": {"Ref": "OperatorUserPool"}},
            "OperatorUserPoolClientId": {"Condition": "CreateUserPool", "Value": {"Ref": "OperatorUserPoolClient"}},
        }
    return {
        "Description": f"Fleet control plane, stage {stage}: API, functions, schedules, tables, IoT Core wiring",
        "Parameters": parameters,
        "Conditions": {**({"CreateUserPool": {"Fn::Equals": [{"Ref": "OperatorJwksUrl"}, ""]}} if sign_in else {}),
                       "DeviceMessagesViaSqs": {"Fn::Equals": [{"Ref": "DeviceMessagesVia"}, "sqs"]}},
        "Resources": {**table_resources(table_prefix), **(_cognito(stage) if sign_in else {}), **_iot(stage),
                      **_firmware(table_prefix),
                      **_gateway_responses(), **functions},
        "Outputs": outputs,
    }
