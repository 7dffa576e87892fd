"""post-call as most teams would write it: boto3, a DynamoDB Table resource, the payload stored as it came."""

import hmac
import json
import os
from datetime import datetime, timezone
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

table = boto3.resource("dynamodb").Table(os.environ["CALLS_TABLE"])
TOKEN = os.environ["AUTH_TOKEN"]


def respond(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not hmac.compare_digest(headers.get("authorization", "").encode(), TOKEN.encode()):
        return respond(401, {"error": "unauthorized"})
    try:
        call = json.loads(event.get("body") or "", parse_float=Decimal)
        call_id = int(call["id"])
    except (ValueError, KeyError, TypeError) as error:
        return respond(400, {"error": str(error)})
    item = {**call, "id": call_id, "received_at": datetime.now(timezone.utc).isoformat()}
    try:
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return respond(200, {"status": "duplicate", "id": call_id})
        return respond(503, {"error": "unavailable"})
    return respond(200, {"status": "stored", "id": call_id})
