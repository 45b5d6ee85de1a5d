#!/usr/bin/env python3
"""Regenerate the sample API Gateway HTTP API (payload v2.0) events in this folder.

    python3 events/generate.py [--fixture PATH] [--app-secret SECRET]

The events feed `cargo lambda invoke BIN --data-file events/<name>.json`, `sam local invoke -e`
and `lambda_http::request::from_str` in tests. They match the local stack's defaults (bot `demo`,
verify token `dev-verify-token`, app secret `dev-app-secret`).

webhook-receive.json carries Meta's text-message fixture as its raw body, signed the way Meta
signs it: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(app secret, raw body bytes)). The
body is the fixture's bytes unchanged (never re-serialised), so the signature holds.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

EVENTS = Path(__file__).resolve().parent
ROOT = EVENTS.parent
# The contract's fixtures: copied into the repo's tests, or the shared folder beside the repo.
FIXTURE_CANDIDATES = [
    ROOT / "shared" / "tests" / "fixtures" / "webhooks" / "text.json",
    ROOT.parent / "shared" / "fixtures" / "webhooks" / "text.json",
]

BOT_ID = "demo"
ROUTE = "/webhook/whatsapp/{botId}"
PATH = f"/webhook/whatsapp/{BOT_ID}"
API_ID = "abcdef1234"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
# Fixed so that regenerating gives the same files.
TIME_EPOCH_S = 1795514400
TIME = datetime.fromtimestamp(TIME_EPOCH_S, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
META_USER_AGENT = "facebookexternalua"
META_SOURCE_IP = "173.252.88.1"


def http_api_event(
    method: str,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    request_id: str,
    route: str = ROUTE,
    path: str = PATH,
    path_parameters: dict[str, str] | None = None,
    source_ip: str = META_SOURCE_IP,
    user_agent: str = META_USER_AGENT,
) -> dict:
    """An API Gateway HTTP API payload v2.0 event (the webhook route unless told otherwise)."""
    route_key = f"{method} {route}"
    event: dict = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {
            "accept": "*/*",
            "host": DOMAIN,
            "user-agent": user_agent,
            "x-amzn-trace-id": f"Root=1-{TIME_EPOCH_S:08x}-{hashlib.sha1(request_id.encode()).hexdigest()[:24]}",
            "x-forwarded-for": source_ip,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
    }
    if query:
        event["queryStringParameters"] = dict(query)
    event["requestContext"] = {
        "accountId": "123456789012",
        "apiId": API_ID,
        "domainName": DOMAIN,
        "domainPrefix": API_ID,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": user_agent,
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": "$default",
        "time": TIME,
        "timeEpoch": TIME_EPOCH_S * 1000,
    }
    event["pathParameters"] = path_parameters if path_parameters is not None else {"botId": BOT_ID}
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = False
    return event


def sign(app_secret: str, raw_body: bytes) -> str:
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def write(name: str, event: dict) -> None:
    path = EVENTS / name
    path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", type=Path, help="webhook body to sign (default: text.json)")
    parser.add_argument("--app-secret", default="dev-app-secret")
    parser.add_argument("--verify-token", default="dev-verify-token")
    parser.add_argument("--api-key", default="dev-api-key")
    parser.add_argument("--admin-token", default="dev-admin-token")
    args = parser.parse_args()

    fixture = args.fixture or next((p for p in FIXTURE_CANDIDATES if p.is_file()), None)
    if fixture is None:
        parser.error("text.json fixture not found; pass --fixture PATH")

    write(
        "webhook-verify.json",
        http_api_event(
            "GET",
            query={
                "hub.mode": "subscribe",
                "hub.verify_token": args.verify_token,
                "hub.challenge": "1158201444",
            },
            request_id="Uq3kXgUeIAMEbXw=",
        ),
    )

    raw_body = fixture.read_bytes()
    body = raw_body.decode("utf-8")
    signature = sign(args.app_secret, raw_body)
    receive = http_api_event(
        "POST",
        headers={
            "content-length": str(len(raw_body)),
            "content-type": "application/json",
            "x-hub-signature-256": signature,
        },
        body=body,
        request_id="Uq3kYjRiIAMEbZw=",
    )
    write("webhook-receive.json", receive)

    # The body read back from the written file must be the signed bytes, byte for byte.
    written = json.loads((EVENTS / "webhook-receive.json").read_text(encoding="utf-8"))
    assert written["body"].encode("utf-8") == raw_body, "body changed on the way to the file"
    assert written["headers"]["x-hub-signature-256"] == sign(args.app_secret, raw_body)

    # The send function's routes, called by the business's own systems with the dev API key.
    client = {"source_ip": "203.0.113.10", "user_agent": "intaj-sdk/1.0"}
    bearer = {"authorization": f"Bearer {args.api_key}", "content-type": "application/json"}
    seed = json.dumps({"to": "+1 (555) 123-4567", "type": "text", "content": "Hello from Intaj!"})
    write(
        "send-text.json",
        http_api_event(
            "POST",
            route="/api/whatsapp/send",
            path="/api/whatsapp/send",
            path_parameters={},
            headers={**bearer, "idempotency-key": "order-1234-shipped"},
            body=seed,
            request_id="Uq3kZkSeIAMEbaA=",
            **client,
        ),
    )
    message_id = "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    write(
        "send-get-message.json",
        http_api_event(
            "GET",
            route="/api/whatsapp/messages/{messageId}",
            path=f"/api/whatsapp/messages/{message_id}",
            path_parameters={"messageId": message_id},
            headers=bearer,
            request_id="Uq3kalSeIAMEbbA=",
            **client,
        ),
    )
    write(
        "media-get.json",
        http_api_event(
            "GET",
            route="/api/whatsapp/media/{mediaId}",
            path="/api/whatsapp/media/1037543291543636",
            path_parameters={"mediaId": "1037543291543636"},
            headers=bearer,
            request_id="Uq3kcMd1oAMEbbC=",
            **client,
        ),
    )
    write(
        "media-upload.json",
        http_api_event(
            "POST",
            route="/api/whatsapp/media/uploads",
            path="/api/whatsapp/media/uploads",
            path_parameters={},
            headers={**bearer, "content-type": "application/json"},
            body='{"mimeType":"application/pdf","size":734003,"filename":"Invoice 42.pdf"}',
            request_id="Uq3kcQa4oAMEbbD=",
            **client,
        ),
    )
    write(
        "media-send-upload.json",
        http_api_event(
            "POST",
            route="/api/whatsapp/media",
            path="/api/whatsapp/media",
            path_parameters={},
            headers={**bearer, "content-type": "application/json"},
            body='{"uploadId":"6f1c0e5a9b3d47e2a8c4d1f07b2e9a35"}',
            request_id="Uq3kcTb5oAMEbbE=",
            **client,
        ),
    )
    write(
        "send-mark-read.json",
        http_api_event(
            "POST",
            route="/api/whatsapp/messages/{messageId}/read",
            path=f"/api/whatsapp/messages/{message_id}/read",
            path_parameters={"messageId": message_id},
            headers={**bearer, "content-type": "application/json"},
            body='{"typing":true}',
            request_id="Uq3kbHQ2oAMEbbB=",
            **client,
        ),
    )
    write(
        "send-get-conversation.json",
        http_api_event(
            "GET",
            route="/api/whatsapp/conversations/{phone}",
            path="/api/whatsapp/conversations/15551234567",
            path_parameters={"phone": "15551234567"},
            headers=bearer,
            request_id="Uq3kbmSeIAMEbcA=",
            **client,
        ),
    )

    # The connections function, called by the stack's admin with the admin token.
    admin = {"authorization": f"Bearer {args.admin_token}", "content-type": "application/json"}
    connection = json.dumps(
        {
            "botId": BOT_ID,
            "businessAccountId": "200000000000001",
            "phoneNumberId": "100000000000001",
            "accessToken": "dev-access-token",
            "appSecret": args.app_secret,
            "verifyToken": args.verify_token,
            "rateLimitPerSecond": 20,
        }
    )
    write(
        "connections-create.json",
        http_api_event(
            "POST",
            route="/api/whatsapp/connections",
            path="/api/whatsapp/connections",
            path_parameters={},
            headers=admin,
            body=connection,
            request_id="Uq3kfqSeIAMEbgA=",
            **client,
        ),
    )
    write(
        "connections-list.json",
        http_api_event(
            "GET",
            route="/api/whatsapp/connections",
            path="/api/whatsapp/connections",
            path_parameters={},
            query={"limit": "20"},
            headers=admin,
            request_id="Uq3kgrSeIAMEbhA=",
            **client,
        ),
    )
    for method, name, request_id in [
        ("GET", "connections-get.json", "Uq3khsSeIAMEbiA="),
        ("DELETE", "connections-delete.json", "Uq3kitSeIAMEbjA="),
    ]:
        write(
            name,
            http_api_event(
                method,
                route="/api/whatsapp/connections/{botId}",
                path=f"/api/whatsapp/connections/{BOT_ID}",
                path_parameters={"botId": BOT_ID},
                headers=admin,
                request_id=request_id,
                **client,
            ),
        )

    # The responder: a batch of its FIFO queue, each body a table stream record of a new inbound
    # message as the pipe in template.yaml puts it there (the demo bot's customer says "hi").
    content = json.dumps(
        {"from": "15551234567", "id": "wamid.RESPONDER1", "timestamp": str(TIME_EPOCH_S),
         "type": "text", "text": {"body": "hi"}},
        separators=(",", ":"),
    )
    stream_record = {
        "eventID": "c81e728d9d4c2f636f067f89cc14862c",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": f"BOT#{BOT_ID}#MSG#wamid.RESPONDER1"}, "sk": {"S": "MESSAGE"}},
            "NewImage": {
                "pk": {"S": f"BOT#{BOT_ID}#MSG#wamid.RESPONDER1"},
                "sk": {"S": "MESSAGE"},
                "entity": {"S": "message"},
                "botId": {"S": BOT_ID},
                "conversation": {"S": f"{BOT_ID}#15551234567"},
                "messageId": {"S": "wamid.RESPONDER1"},
                "direction": {"S": "inbound"},
                "customerWaId": {"S": "15551234567"},
                "phoneNumberId": {"S": "100000000000001"},
                "kind": {"S": "text"},
                "createdAt": {"N": str(TIME_EPOCH_S)},
                "profileName": {"S": "Sam"},
                "content": {"S": content},
            },
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    write(
        "responder-queue.json",
        {
            "Records": [
                {
                    "messageId": "4e1b2f5a-6c1d-4f0e-9a51-3d6a2b1c0e01",
                    "receiptHandle": "AQEBexample",
                    "body": json.dumps(stream_record, separators=(",", ":")),
                    "attributes": {
                        "ApproximateReceiveCount": "1",
                        "MessageGroupId": f"{BOT_ID}#15551234567",
                        "MessageDeduplicationId": "wamid.RESPONDER1",
                        "SentTimestamp": str(TIME_EPOCH_S * 1000),
                    },
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:intaj-whatsapp-responder.fifo",
                    "awsRegion": "us-east-1",
                }
            ]
        },
    )

    # The responder's stream trigger: a message the demo bot sent, now delivered (its head
    # gains the `delivered` status; the old image is what it held before).
    head = {
        "pk": {"S": f"BOT#{BOT_ID}#MSG#wamid.SENT1"},
        "sk": {"S": "MESSAGE"},
        "entity": {"S": "message"},
        "botId": {"S": BOT_ID},
        "messageId": {"S": "wamid.SENT1"},
        "direction": {"S": "outbound"},
        "customerWaId": {"S": "15551234567"},
        "phoneNumberId": {"S": "100000000000001"},
        "kind": {"S": "text"},
        "createdAt": {"N": str(TIME_EPOCH_S)},
        "content": {"S": '{"type":"text","text":{"body":"Your order shipped"}}'},
        "currentStatus": {"S": "accepted"},
        "STATUS#sent": {"M": {"status": {"S": "sent"}, "timestamp": {"N": str(TIME_EPOCH_S + 1)},
                              "recipientWaId": {"S": "15551234567"}}},
    }
    delivered = dict(head)
    delivered["STATUS#delivered"] = {"M": {"status": {"S": "delivered"},
                                           "timestamp": {"N": str(TIME_EPOCH_S + 2)},
                                           "recipientWaId": {"S": "15551234567"}}}
    write(
        "responder-stream.json",
        {
            "Records": [
                {
                    "eventID": "eccbc87e4b5ce2fe28308fd9f2a7baf3",
                    "eventName": "MODIFY",
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": {
                        "ApproximateCreationDateTime": TIME_EPOCH_S + 2,
                        "Keys": {"pk": head["pk"], "sk": head["sk"]},
                        "OldImage": head,
                        "NewImage": delivered,
                        "SequenceNumber": "4421584500000000017450439091",
                        "SizeBytes": 512,
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                    "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/intaj-whatsapp/stream/2026-11-30T00:00:00.000",
                }
            ]
        },
    )

    # The template-sync function: on demand, the listing, and the hourly EventBridge schedule.
    write(
        "template-sync-now.json",
        http_api_event(
            "POST",
            route="/api/whatsapp/sync-templates",
            path="/api/whatsapp/sync-templates",
            path_parameters={},
            headers={"authorization": f"Bearer {args.api_key}"},
            request_id="Uq3kcnSeIAMEbdA=",
            **client,
        ),
    )
    write(
        "template-list.json",
        http_api_event(
            "GET",
            route="/api/whatsapp/templates",
            path="/api/whatsapp/templates",
            path_parameters={},
            query={"status": "APPROVED", "language": "en", "limit": "20"},
            headers={"authorization": f"Bearer {args.api_key}"},
            request_id="Uq3kdoSeIAMEbeA=",
            **client,
        ),
    )
    write(
        "template-sync-schedule.json",
        {
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": datetime.fromtimestamp(TIME_EPOCH_S, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [
                "arn:aws:events:us-east-1:123456789012:rule/intaj-whatsapp-TemplateSyncHourly"
            ],
            "detail": {},
        },
    )


if __name__ == "__main__":
    main()
