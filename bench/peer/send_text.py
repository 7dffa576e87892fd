"""send-text as most teams would write it: boto3, a DynamoDB Table resource, a conditional put for idempotency,
a look-up in the suppression list."""

import hmac
import json
import os
import re
from datetime import datetime, timezone

import boto3
from botocore.exceptions import ClientError

sns = boto3.client("sns")
table = boto3.resource("dynamodb").Table(os.environ["SENT_TEXTS_TABLE"])
opt_outs = boto3.resource("dynamodb").Table(os.environ["OPT_OUTS_TABLE"])
TOKEN = os.environ["AUTH_TOKEN"]


def respond(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if not hmac.compare_digest(headers.get("authorization", "").encode(), TOKEN.encode()):
        return respond(401, {"error": "unauthorized"})
    try:
        text = json.loads(event.get("body") or "")
        text_id, phone, message = int(text["id"]), text["record_phone_number"], text["message"]
        text_type = str(text.get("type") or "unspecified").strip().lower()
    except (ValueError, KeyError, TypeError) as error:
        return respond(400, {"error": str(error)})
    digits = re.sub(r"\D", "", phone)
    phone = phone if phone.startswith("+") else "+1" + digits[-10:]
    if not message.strip() or len(message.encode()) > 1600 or len(digits) < 10:
        return respond(422, {"error": "unusable phone number or message"})

    if sns.check_if_phone_number_is_opted_out(phoneNumber=phone)["isOptedOut"]:
        return respond(200, {"status": "opted_out", "id": text_id})
    if "Item" in opt_outs.get_item(Key={"phone": phone}, ConsistentRead=True):
        return respond(200, {"status": "opted_out", "id": text_id})
    now = datetime.now(timezone.utc).isoformat()
    try:
        table.put_item(
            Item={**text, "id": text_id, "text_type": text_type, "phone_e164": phone, "status": "claimed", "claimed_at": now},
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return respond(200, {"status": "duplicate", "id": text_id})
        return respond(503, {"error": "unavailable"})
    message_id = sns.publish(
        PhoneNumber=phone,
        Message=message,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )["MessageId"]
    table.update_item(
        Key={"id": text_id, "text_type": text_type},
        UpdateExpression="SET #s = :sent, message_id = :m, sent_at = :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":sent": "sent", ":m": message_id, ":t": now},
    )
    return respond(200, {"status": "sent", "id": text_id, "message_id": message_id})
